package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/demo"
	"github.com/bacninh/thuvienso/library"
	"github.com/bacninh/thuvienso/loadgen"
	"github.com/bacninh/thuvienso/sqlite"
	"github.com/bacninh/thuvienso/store"
)

// loadOptions configure one run of `thuvienso bench load`.
type loadOptions struct {
	// scale is the province; scaleName names it in the report.
	scale     demo.Scale
	scaleName string
	// dataDir is the data folder the server runs on; built (as bench
	// catalog builds it) when it has no catalogue. "" means a fresh
	// temporary folder, removed at the end.
	dataDir string
	// clients are the numbers of concurrent clients, one step each.
	clients []int
	// warmup runs before each measured phase; duration is how long the
	// mixed workload is measured, searchDuration each search case.
	warmup, duration, searchDuration time.Duration
	// minPerClient keeps each client of a phase going until it has run
	// that many measured operations (tests on a busy machine).
	minPerClient int
	// plot is where the PNG of latency against concurrency goes ("": none).
	plot string
	// redisURL, when set, gives the server Redis (cache, limits).
	redisURL string
	// exe is the thuvienso binary started as the server and the bare
	// server, with env as its environment (nil: this process's).
	exe string
	env []string
	// serverLog receives the server's log (warnings and errors).
	serverLog io.Writer
	logger    *slog.Logger
}

// loadUsage is the one-line usage of bench load.
const loadUsage = "usage: thuvienso bench load [-scale full|small] [-data-dir DIR] [-clients 1,10,50,100] [-warmup 5s] [-duration 30s] [-search-duration 10s] [-plot FILE]"

// benchLoadCmd runs `thuvienso bench load [flags]`.
func benchLoadCmd(ctx context.Context, args []string, out io.Writer) error {
	flags := flag.NewFlagSet("bench load", flag.ContinueOnError)
	flags.SetOutput(out)
	scale := flags.String("scale", "full", "province size: full (550 libraries, 300,000 works, 1,000,000 items) or small (a hundredth)")
	dataDir := flags.String("data-dir", "", "data folder the server runs on; built as bench catalog builds it when it has no catalogue; default a temporary folder, removed at the end")
	clients := flags.String("clients", "1,10,50,100", "comma-separated numbers of concurrent clients")
	warmup := flags.Duration("warmup", 5*time.Second, "warm-up before each measured phase (not counted)")
	duration := flags.Duration("duration", 30*time.Second, "how long the mixed workload is measured at each number of clients")
	searchDuration := flags.Duration("search-duration", 10*time.Second, "how long each search case (uncached, cached, bare handler) is measured at each number of clients")
	plot := flags.String("plot", defaultPlotPath(), "PNG of latency (p50, p99) against concurrency per operation; empty: none")
	redisURL := flags.String("redis-url", "", "Redis URL for the server (cache, limits); empty: in-process, one instance")
	logLevel := flags.String("log-level", "info", "progress log level on stderr: debug, info, warn or error")
	flags.Usage = func() {
		fmt.Fprintln(out, loadUsage+"\n\nStarts `thuvienso serve` on a province's data folder, creates readers and e-books through the API,\n"+
			"and drives a mixed workload over HTTP at each number of clients, then searches uncached, cached, and\n"+
			"against a bare net/http handler serving the same bytes. Prints Markdown tables; writes a PNG plot.")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("bench load: unexpected arguments %q", flags.Args())
	}
	opts := loadOptions{scaleName: *scale, dataDir: *dataDir, warmup: *warmup, duration: *duration,
		searchDuration: *searchDuration, plot: *plot, redisURL: *redisURL, serverLog: os.Stderr}
	var err error
	if opts.scale, err = parseScale(*scale); err != nil {
		return fmt.Errorf("bench load: %w", err)
	}
	if opts.clients, err = parseClients(*clients); err != nil {
		return fmt.Errorf("bench load: %w", err)
	}
	if *warmup < 0 || *duration <= 0 || *searchDuration <= 0 {
		return errors.New("bench load: -duration and -search-duration must be positive, -warmup not negative")
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("bench load: -log-level: %w", err)
	}
	opts.logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if opts.exe, err = os.Executable(); err != nil {
		return fmt.Errorf("bench load: finding this binary: %w", err)
	}
	return benchLoad(ctx, opts, out)
}

// defaultPlotPath is docs/load-latency.png when run from the repository
// (a docs folder beside go.mod), else load-latency.png.
func defaultPlotPath() string {
	if _, err := os.Stat("go.mod"); err == nil {
		if st, err := os.Stat("docs"); err == nil && st.IsDir() {
			return filepath.Join("docs", "load-latency.png")
		}
	}
	return "load-latency.png"
}

func parseScale(name string) (demo.Scale, error) {
	switch name {
	case "full":
		return demo.FullScale, nil
	case "small":
		return demo.SmallScale, nil
	}
	return demo.Scale{}, fmt.Errorf("-scale must be full or small, not %q", name)
}

func parseClients(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 1000 {
			return nil, fmt.Errorf("-clients: %q is not a number of clients between 1 and 1000", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// loadReport is what one run of bench load measured.
type loadReport struct {
	opts     loadOptions
	dataDir  string
	prepared *benchReport // the catalogue build, when this run built it
	loadFrom string
	loadTo   string

	coldStart  time.Duration
	setup      setupStats
	memIdle    procMemory // the server after the set-up
	memLoaded  procMemory // and after the load
	steps      []loadStep
	captured   int // bytes of the cached search answer the bare handler serves
	capturedGz bool
}

// loadStep is every phase at one number of clients.
type loadStep struct {
	clients                       int
	mixed, uncached, cached, bare phaseResult
}

// benchLoad runs the load test described by opts, prints its report and
// writes its plot.
func benchLoad(ctx context.Context, opts loadOptions, out io.Writer) error {
	rep, err := runLoad(ctx, opts)
	if err != nil {
		return err
	}
	rep.print(out)
	if opts.plot != "" {
		if err := writeLatencyPlot(opts.plot, rep); err != nil {
			return fmt.Errorf("bench load: plot: %w", err)
		}
		opts.logger.Info("plot written", "file", opts.plot)
	}
	return nil
}

// runLoad runs the load test described by opts: the data folder, the
// server, the set-up, then every step.
func runLoad(ctx context.Context, opts loadOptions) (rep *loadReport, err error) {
	if opts.logger == nil {
		opts.logger = slog.New(slog.DiscardHandler)
	}
	log := opts.logger
	rep = &loadReport{opts: opts, loadFrom: loadAverage()}
	if rep.dataDir = opts.dataDir; rep.dataDir == "" {
		if rep.dataDir, err = os.MkdirTemp("", "thuvienso-load-"); err != nil {
			return nil, fmt.Errorf("bench load: temporary data folder: %w", err)
		}
		defer func() {
			if rerr := os.RemoveAll(rep.dataDir); rerr != nil && err == nil {
				err = fmt.Errorf("bench load: removing %s: %w", rep.dataDir, rerr)
			}
		}()
	}
	p := demo.Province(opts.scale)
	admin, err := prepareLoadData(ctx, rep, p, log)
	if err != nil {
		return nil, err
	}
	mix, err := benchMix(p)
	if err != nil {
		return nil, err
	}

	srv, err := startServer(ctx, opts, rep.dataDir, log)
	if err != nil {
		return nil, err
	}
	defer srv.stop(log)
	// Errors in English, for the report.
	gql := &loadgen.GraphQL{URL: srv.url + "/graphql", HTTP: newHTTPClient(slices.Max(opts.clients) + 4), Language: "en"}
	if rep.coldStart, err = firstSearch(ctx, gql, srv); err != nil {
		return nil, err
	}
	log.Info("server ready", "cold start", rep.coldStart.Round(time.Millisecond), "pid", srv.pid())

	w, err := setUpWorkload(ctx, gql, admin, mix, slices.Max(opts.clients), &rep.setup, log)
	if err != nil {
		return nil, err
	}
	rep.memIdle = readProcMemory(strconv.Itoa(srv.pid()))

	bare, err := startBareServer(ctx, opts, rep.dataDir, gql, w, rep, log)
	if err != nil {
		return nil, err
	}
	defer bare.stop(log)

	for _, c := range opts.clients {
		st, err := runLoadStep(ctx, opts, w, srv, bare, c, log)
		if err != nil {
			return nil, err
		}
		rep.steps = append(rep.steps, st)
	}
	rep.memLoaded = readProcMemory(strconv.Itoa(srv.pid()))
	rep.loadTo = loadAverage()
	return rep, nil
}

// loadPassword is the password of the accounts the load test creates.
const loadPassword = "do-tai-thu-vien-2026"

// adminLogin is the load test's administrator, created in the store
// before the server starts (the API has no way to make the first admin
// of a province without the demo).
type adminLogin struct {
	email        string
	provincialID string
}

// prepareLoadData makes sure the data folder holds the province's
// catalogue and an up-to-date index (building them as bench catalog
// does), and creates the load test's administrator.
func prepareLoadData(ctx context.Context, rep *loadReport, p *demo.GeneratedProvince, log *slog.Logger) (*adminLogin, error) {
	if err := os.MkdirAll(rep.dataDir, 0o750); err != nil {
		return nil, fmt.Errorf("bench load: data folder: %w", err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(rep.dataDir, "thuvienso.db"))
	if err != nil {
		return nil, fmt.Errorf("bench load: %w", err)
	}
	a, err := prepareStore(ctx, rep, db.Stores(), p, log)
	if cerr := db.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("bench load: %w", cerr)
	}
	return a, err
}

// prepareStore builds what the folder lacks and adds the administrator.
func prepareStore(ctx context.Context, rep *loadReport, stores *store.Set, p *demo.GeneratedProvince, log *slog.Logger) (*adminLogin, error) {
	br := &benchReport{opts: benchOptions{scale: rep.opts.scale, scaleName: rep.opts.scaleName}}
	if err := buildCatalog(ctx, br, stores, p, filepath.Join(rep.dataDir, "index"), log); err != nil {
		return nil, err
	}
	if !br.reused || br.indexed {
		rep.prepared = br
	}
	var provincial *library.Library
	for _, l := range p.Libraries {
		if l.Type == library.TypeProvincial {
			provincial = l
			break
		}
	}
	if provincial == nil {
		return nil, errors.New("bench load: the province has no provincial library")
	}
	a := &adminLogin{email: "quan-tri-" + runID() + "@do-tai.thuvienso.vn", provincialID: provincial.ID}
	svc := &auth.Service{Store: stores.Auth, Libraries: &library.Service{Store: stores.Libraries}}
	if _, err := svc.CreateAccount(ctx, auth.NewAccount{Name: "Quản trị đo tải", Email: a.email, Password: loadPassword,
		HomeLibraryID: provincial.ID, Role: auth.RoleAdmin}); err != nil {
		return nil, fmt.Errorf("bench load: creating the administrator: %w", err)
	}
	return a, nil
}

// runID is a short name unique to this run, for the logins it creates (a
// data folder may serve several runs).
func runID() string {
	return strconv.FormatInt(time.Now().UnixMilli()%1_000_000_000, 36)
}
