package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/app"
	"github.com/bacninh/thuvienso/catalog"
	"github.com/bacninh/thuvienso/config"
	"github.com/bacninh/thuvienso/ingest"
	"github.com/bacninh/thuvienso/store"
)

// maxListed bounds the skipped records and refused items printed per file.
const maxListed = 20

// storeFlags are the store settings the tools accept besides the
// environment (DATA_DIR, MONGODB_URI, MONGODB_DATABASE, LOG_LEVEL), and
// INDEX_DIR for the tools that set indexDir.
type storeFlags struct {
	dataDir, mongoURI, mongoDB, logLevel, indexDir *string
}

func addStoreFlags(fs *flag.FlagSet) storeFlags {
	return storeFlags{
		dataDir:  fs.String("data-dir", "", "data folder of the embedded store (env DATA_DIR)"),
		mongoURI: fs.String("mongodb-uri", "", "MongoDB URI; empty: the embedded store (env MONGODB_URI)"),
		mongoDB:  fs.String("mongodb-database", "", "MongoDB database (env MONGODB_DATABASE)"),
		logLevel: fs.String("log-level", "", "debug, info, warn or error (env LOG_LEVEL)"),
	}
}

// load loads the configuration: the environment, then the flags given.
func (sf storeFlags) load(getenv func(string) string) (*config.Config, error) {
	var args []string
	for name, v := range map[string]*string{"data-dir": sf.dataDir, "mongodb-uri": sf.mongoURI,
		"mongodb-database": sf.mongoDB, "log-level": sf.logLevel, "index-dir": sf.indexDir} {
		if v != nil && *v != "" {
			args = append(args, "-"+name, *v)
		}
	}
	return config.Load(args, getenv)
}

// openStore loads the configuration (environment, then the flags given)
// and opens the store as the server does.
func (sf storeFlags) openStore(ctx context.Context, getenv func(string) string) (*store.Set, *slog.Logger, error) {
	cfg, err := sf.load(getenv)
	if err != nil {
		return nil, nil, err
	}
	logger := cfg.Logger()
	s, err := app.OpenStore(ctx, cfg, logger)
	if err != nil {
		return nil, nil, err
	}
	return s, logger, nil
}

// libraryID returns the ID of the library with this code.
func libraryID(ctx context.Context, s *store.Set, code string) (string, error) {
	if code == "" {
		return "", errors.New("--library CODE is required")
	}
	l, err := s.Libraries.LibraryByCode(ctx, code)
	if errors.Is(err, thuvienso.ErrNotFound) {
		return "", fmt.Errorf("no library has the code %q", code)
	}
	if err != nil {
		return "", err
	}
	return l.ID, nil
}

// toCatalog turns what an ingest reader read into a catalog batch.
func toCatalog(libraryID string, b *ingest.Batch) *catalog.Batch {
	cb := &catalog.Batch{LibraryID: libraryID, Records: b.Records, Items: b.Items}
	for _, d := range b.Deletions {
		cb.Deletions = append(cb.Deletions, catalog.RecordRef{LibraryID: d.LibraryID, SourceID: d.SourceID})
	}
	return cb
}

// printResult prints what the store did with one source.
func printResult(out io.Writer, res *catalog.ApplyResult) {
	fmt.Fprintf(out, "  stored: %s\n", res)
	for i, p := range res.Skips {
		if i == maxListed {
			fmt.Fprintf(out, "  … %d more skipped\n", len(res.Skips)-maxListed)
			break
		}
		fmt.Fprintf(out, "  not stored [%s]: %s\n", p.ID, p.Reason)
	}
	for i, p := range res.Conflicts {
		if i == maxListed {
			fmt.Fprintf(out, "  … %d more items refused\n", len(res.Conflicts)-maxListed)
			break
		}
		fmt.Fprintf(out, "  item refused [%s]: %s\n", p.ID, p.Reason)
	}
}

// printReport prints what a reader read.
func printReport(out io.Writer, r *ingest.Report) {
	fmt.Fprintf(out, "%s\n", r)
	for i, n := range r.Skips {
		if i == maxListed {
			fmt.Fprintf(out, "  … %d more skipped\n", r.Skipped-maxListed)
			break
		}
		fmt.Fprintf(out, "  skipped %s\n", n)
	}
}

// importFiles runs `thuvienso import --library CODE FILE…`: each file is
// read (format detected from its content), its report printed and its
// records, items and deletions stored. Importing a file again changes
// nothing. It fails when a file could not be read or stored, after
// trying every file.
func importFiles(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(out)
	code := fs.String("library", "", "code of the library the records belong to (required)")
	sf := addStoreFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(out, "usage: thuvienso import --library CODE [flags] FILE…\n\nReads MARC 21 (ISO 2709), MARCXML and CSV files into the catalogue.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 || *code == "" {
		fs.Usage()
		return errors.New("import: --library CODE and at least one FILE are required")
	}
	s, _, err := sf.openStore(ctx, getenv)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer s.Close(context.WithoutCancel(ctx))
	lib, err := libraryID(ctx, s, *code)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	svc := &catalog.Service{Store: s.Catalog}
	var failed []error
	for _, path := range fs.Args() {
		b, err := ingest.ReadFile(path, ingest.Options{LibraryID: lib})
		if b != nil {
			printReport(out, &b.Report)
		}
		if err != nil {
			fmt.Fprintf(out, "%s: %v\n", path, err)
			failed = append(failed, err)
			if b == nil {
				continue
			}
		}
		res, err := svc.Import(ctx, toCatalog(lib, b))
		if res != nil {
			printResult(out, res)
		}
		if err != nil {
			fmt.Fprintf(out, "  storing %s failed: %v\n", path, err)
			failed = append(failed, fmt.Errorf("%s: %w", path, err))
		}
		if ctx.Err() != nil {
			break
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("import: %d of %d files failed: %w", len(failed), fs.NArg(), errors.Join(failed...))
	}
	return nil
}

// signalContext is the context of a tool run from a terminal.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}
