// Command thuvienso is the Thư viện số server and its tools.
//
//	thuvienso [serve] [flags]      run the GraphQL server (the default)
//	thuvienso keys rotate [-set access|card] [flags]  make a new signing key (access tokens, or card codes)
//	thuvienso import --library CODE FILE…      import MARC, MARCXML or CSV files
//	thuvienso harvest --library CODE [--set S] URL  harvest an OAI-PMH repository
//	thuvienso reindex [flags]      rebuild the search index from the store (server stopped)
//	thuvienso config               print the configuration table
//	thuvienso bench catalog [flags]  measure import, indexing and search on a generated province
//	thuvienso bench load [flags]     load-test the server over HTTP: a mixed workload, searches, a bare handler
//
// Every flag has an environment variable; `thuvienso serve -h` lists them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/bacninh/thuvienso/app"
	"github.com/bacninh/thuvienso/config"
	"github.com/bacninh/thuvienso/demo"
	"github.com/bacninh/thuvienso/signing"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "thuvienso:", err)
		}
		os.Exit(1)
	}
}

func run(args []string) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(args)
	case "keys":
		if len(args) == 0 || args[0] != "rotate" {
			return errors.New("usage: thuvienso keys rotate [-set access|card] [-keep N] [flags]")
		}
		return rotateKeys(args[1:])
	case "config":
		fmt.Print(config.MarkdownTable())
		return nil
	case "import", "harvest":
		ctx, stop := signalContext()
		defer stop()
		if cmd == "import" {
			return importFiles(ctx, args, os.Getenv, os.Stdout)
		}
		return harvestRepo(ctx, args, os.Getenv, os.Stdout)
	case "bench":
		ctx, stop := signalContext()
		defer stop()
		if len(args) > 0 && args[0] == "load" {
			return benchLoadCmd(ctx, args[1:], os.Stdout)
		}
		if len(args) > 0 && args[0] == "bare-server" { // started by bench load
			return bareServerCmd(ctx, args[1:], os.Stdout)
		}
		return benchCmd(ctx, args, os.Getenv, os.Stdout)
	case "reindex":
		ctx, stop := signalContext()
		defer stop()
		return reindex(ctx, args, os.Getenv, os.Stdout)
	default:
		return fmt.Errorf("unknown command %q (serve, import, harvest, reindex, keys rotate, config)", cmd)
	}
}

func serve(args []string) error {
	started := time.Now()
	cfg, err := config.Load(args, os.Getenv)
	if err != nil {
		return err
	}
	logger := cfg.Logger()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if cfg.DebugAddr != "" {
		if _, err := serveDebug(ctx, cfg.DebugAddr, logger); err != nil {
			return err
		}
	}

	a, err := app.New(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer func() {
		if err := a.Close(context.Background()); err != nil {
			logger.Error("close", "err", err)
		}
	}()

	errc := make(chan error, 1)
	go func() { errc <- a.Server.ListenAndServe(ctx, cfg.Addr) }()
	select {
	case <-a.Server.Listening():
	case err := <-errc:
		return err
	}
	printWelcome(a, time.Since(started))
	return <-errc
}

// printWelcome tells a person at a terminal where to go and how to log in.
func printWelcome(a *app.App, took time.Duration) {
	addr := a.Server.Addr().String()
	if strings.HasPrefix(addr, "[::]:") || strings.HasPrefix(addr, "0.0.0.0:") {
		addr = "localhost" + addr[strings.LastIndex(addr, ":"):]
	}
	fmt.Printf("\nThư viện số is ready in %s (store: %s, coordination: %s)\n", took.Round(time.Millisecond), a.Stores.Kind, coordinationKind(a))
	fmt.Printf("  GraphiQL:  http://%s/\n  GraphQL:   http://%s/graphql\n  Health:    http://%s/readyz   Metrics: http://%s/metrics\n", addr, addr, addr, addr)
	if a.Demo != nil {
		fmt.Printf("\nDemo province seeded: %d libraries, %d accounts. Demo logins (demo data only):\n", a.Demo.Libraries, a.Demo.Accounts)
		for _, l := range a.Demo.Headline() {
			fmt.Printf("  %-9s %-40s %-12s %s\n", l.Role, l.Login, l.Password, l.Library)
		}
		fmt.Printf("  Every library has a librarian: %s, password %s\n", demo.LibrarianEmail("<code>"), demo.Password)
		if a.Config.DemoCatalog {
			fmt.Println("\nThe demo catalog (about 22,000 works) is being imported and indexed in the background: searches")
			fmt.Println("find part of it until the log says \"search index rebuilt\" (about 10 seconds) and /readyz answers ok.")
		}
	}
	fmt.Println()
}

func coordinationKind(a *app.App) string {
	if a.Redis != nil {
		return "redis"
	}
	return "in-process"
}

func rotateKeys(args []string) error {
	fs := flag.NewFlagSet("keys rotate", flag.ContinueOnError)
	keep := fs.Int("keep", 2, "previous keys to keep (tokens they signed keep verifying)")
	set := fs.String("set", "access", "key set to rotate: access (access tokens) or card (library card codes, /.well-known/jwks.json)")
	dataDir := fs.String("data-dir", envOr("DATA_DIR", "./data"), "data folder (env DATA_DIR)")
	keysDir := fs.String("keys-dir", os.Getenv("KEYS_DIR"), "keys folder (env KEYS_DIR; default DATA_DIR/keys)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *set != "access" && *set != "card" {
		return fmt.Errorf("unknown key set %q", *set)
	}
	dir := *keysDir
	if dir == "" {
		dir = filepath.Join(*dataDir, "keys")
	}
	ks, err := signing.LoadOrCreate(filepath.Join(dir, *set))
	if err != nil {
		return err
	}
	k, err := ks.Rotate(*keep)
	if err != nil {
		return err
	}
	// Running servers hold their key sets in a signing.Ring, which follows
	// the folder: no restart.
	what := "access tokens"
	if *set == "card" {
		what = "card codes"
	}
	fmt.Printf("new %s key %s; running servers sign %s with it from now on, "+
		"and those signed with the previous keys kept (-keep %d) verify until they expire\n", *set, k.ID, what, *keep)
	return nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
