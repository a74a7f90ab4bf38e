package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bacninh/thuvienso/cache"
	"github.com/bacninh/thuvienso/catalog"
	"github.com/bacninh/thuvienso/demo"
	"github.com/bacninh/thuvienso/library"
	"github.com/bacninh/thuvienso/redis"
	"github.com/bacninh/thuvienso/search"
	"github.com/bacninh/thuvienso/sqlite"
	"github.com/bacninh/thuvienso/store"
	"github.com/bacninh/thuvienso/vietnamese"
)

// coldStartQuery is the first search after opening the index: an
// author's name, a typical query of middling cost.
const coldStartQuery = "nguyễn du"

// benchFacets are the facets the search resolver asks for when a client
// selects facets (every one, in the schema's order).
var benchFacets = []search.FacetName{search.FacetFormat, search.FacetLanguage, search.FacetLibraryType,
	search.FacetDistrict, search.FacetLibrary, search.FacetSubject, search.FacetDecade}

// benchOptions configure one run of the catalog benchmark.
type benchOptions struct {
	// scale is the province; scaleName names it in the report.
	scale     demo.Scale
	scaleName string
	// dataDir is the data folder; "" means a fresh temporary folder,
	// removed at the end. A folder that already holds a catalogue is
	// reused: the import is skipped and the run measures a cold start.
	dataDir string
	// duration is how long each search case runs.
	duration time.Duration
	// clients are the numbers of concurrent clients each search path is
	// measured with.
	clients []int
	// redisURL, when set, adds the cached search through Redis.
	redisURL string
	logger   *slog.Logger
}

// benchCmd runs `thuvienso bench catalog [flags]`.
func benchCmd(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	if len(args) == 0 || args[0] != "catalog" {
		return errors.New("usage: thuvienso bench catalog [-scale full|small] [-duration 10s] [-clients 1,4] [-data-dir DIR] [-redis-url URL]")
	}
	flags := flag.NewFlagSet("bench catalog", flag.ContinueOnError)
	flags.SetOutput(out)
	scale := flags.String("scale", "full", "province size: full (550 libraries, 300,000 works, 1,000,000 items) or small (a hundredth)")
	dataDir := flags.String("data-dir", "", "data folder to build (or reuse: a folder with a catalogue measures a cold start); default a temporary folder, removed at the end")
	duration := flags.Duration("duration", 10*time.Second, "how long each search case runs")
	clients := flags.String("clients", "1,4", "comma-separated numbers of concurrent search clients")
	redisURL := flags.String("redis-url", getenv("REDIS_URL"), "Redis URL for the cached search through Redis (env REDIS_URL); empty: in-process cache only")
	logLevel := flags.String("log-level", "info", "progress log level on stderr: debug, info, warn or error")
	cpuProfile := flags.String("cpuprofile", "", "write a CPU profile of the whole run to this file (go tool pprof)")
	flags.Usage = func() {
		fmt.Fprintln(out, "usage: thuvienso bench catalog [flags]\n\nImports a generated province into a fresh embedded store through the catalog service, builds\nits search index, and measures searches uncached and cached. Prints Markdown tables.")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args[1:]); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("bench catalog: unexpected arguments %q", flags.Args())
	}
	opts := benchOptions{scaleName: *scale, dataDir: *dataDir, duration: *duration, redisURL: *redisURL}
	switch *scale {
	case "full":
		opts.scale = demo.FullScale
	case "small":
		opts.scale = demo.SmallScale
	default:
		return fmt.Errorf("bench catalog: -scale must be full or small, not %q", *scale)
	}
	if *duration <= 0 {
		return fmt.Errorf("bench catalog: -duration must be positive, not %v", *duration)
	}
	for _, f := range strings.Split(*clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 256 {
			return fmt.Errorf("bench catalog: -clients: %q is not a number of clients between 1 and 256", f)
		}
		opts.clients = append(opts.clients, n)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("bench catalog: -log-level: %w", err)
	}
	opts.logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("bench catalog: -cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("bench catalog: -cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	return benchCatalog(ctx, opts, out)
}

// benchReport is what one run measured.
type benchReport struct {
	opts     benchOptions
	dataDir  string
	reused   bool
	loadFrom string // /proc/loadavg at start
	loadTo   string // and at the end

	counts   catalog.Counts
	imported *importStats
	storeMB  float64

	indexed    bool
	indexWorks int
	indexTook  time.Duration
	indexOther float64
	indexMB    float64

	cold coldStart

	queries []benchQuery
	cases   []caseResult
	// byQuery are the per-query latencies of the first uncached case, and
	// of the first uncached case without facets.
	byQuery, byQueryNoFacets []queryStats

	mem []memSample
}

// importStats count an import.
type importStats struct {
	records, items, works, skipped, refused int
	libraries                               int
	calls                                   int
	took, storeTime                         time.Duration
	// other is the share of the machine's CPU other processes used.
	other float64
}

// coldStart is the time from nothing open to a first search answered.
type coldStart struct {
	openStore, openIndex, firstSearch time.Duration
}

// benchQuery is one search of the mix.
type benchQuery struct {
	name, filter string
	req          search.Request
	hits         int
}

// searcher is what both search paths offer.
type searcher interface {
	Search(ctx context.Context, req search.Request) (*search.Result, error)
}

// caseResult is one search case: a path, a number of clients.
type caseResult struct {
	path     string
	clients  int
	requests int
	elapsed  time.Duration
	other    float64
	p50      time.Duration
	p95      time.Duration
	p99      time.Duration
	max      time.Duration
}

// queryStats are the latencies of one query of the mix.
type queryStats struct {
	q             *benchQuery
	n             int
	p50, p99, max time.Duration
}

// memSample is the process's memory after a phase.
type memSample struct {
	phase         string
	rssMB, peakMB float64
	// anonMB is the process's own memory; fileMB are pages of mapped
	// files (the index's segments, SQLite's mmap), which the kernel can
	// drop and read again.
	anonMB, fileMB float64
	heapMB, sysMB  float64
	heapObjectsMil float64
}

// benchCatalog runs the benchmark described by opts and prints its report
// to out.
func benchCatalog(ctx context.Context, opts benchOptions, out io.Writer) (err error) {
	log := opts.logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rep := &benchReport{opts: opts, loadFrom: loadAverage()}
	rep.mem = append(rep.mem, readMemory("start"))

	dir := opts.dataDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "thuvienso-bench-"); err != nil {
			return fmt.Errorf("bench: temporary data folder: %w", err)
		}
		defer func() {
			if rerr := os.RemoveAll(dir); rerr != nil && err == nil {
				err = fmt.Errorf("bench: removing %s: %w", dir, rerr)
			}
		}()
	} else if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("bench: data folder: %w", err)
	}
	rep.dataDir = dir
	dbPath, idxPath := filepath.Join(dir, "thuvienso.db"), filepath.Join(dir, "index")
	p := demo.Province(opts.scale)

	// Phases 1 and 2: the catalogue and its index, unless the folder
	// already has them.
	db, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	stores := db.Stores()
	if err := buildCatalog(ctx, rep, stores, p, idxPath, log); err != nil {
		_ = db.Close()
		return err
	}
	if err := db.Close(); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	if rep.storeMB, err = sizeMB(dir, func(name string) bool { return strings.HasPrefix(name, "thuvienso.db") }); err != nil {
		return fmt.Errorf("bench: store size: %w", err)
	}

	// Cold start: open the store and the index as the server does, and
	// answer a first search.
	start := time.Now()
	db, err = sqlite.Open(ctx, dbPath)
	if err != nil {
		return fmt.Errorf("bench: cold start: %w", err)
	}
	defer db.Close()
	stores = db.Stores()
	rep.cold.openStore = time.Since(start)
	start = time.Now()
	idx, err := search.Open(idxPath)
	if err != nil {
		return fmt.Errorf("bench: cold start: %w", err)
	}
	defer idx.Close()
	rep.cold.openIndex = time.Since(start)
	start = time.Now()
	if _, err := idx.Search(ctx, search.Request{Query: coldStartQuery, Facets: benchFacets, Highlight: true}); err != nil {
		return fmt.Errorf("bench: cold start: first search: %w", err)
	}
	rep.cold.firstSearch = time.Since(start)
	if rep.counts, err = stores.Catalog.Counts(ctx); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	rep.mem = append(rep.mem, readMemory("cold start (store and index reopened)"))
	log.Info("cold start", "open store", rep.cold.openStore, "open index", rep.cold.openIndex, "first search", rep.cold.firstSearch)

	// Phase 3: searches.
	if rep.queries, err = benchMix(p); err != nil {
		return err
	}
	if err := runSearches(ctx, rep, idx, log); err != nil {
		return err
	}
	rep.mem = append(rep.mem, readMemory("searches"))
	// Measured last: the segment files a merge replaced are deleted only
	// once the index is open again and its persister has run.
	if rep.indexMB, err = sizeMB(idxPath, nil); err != nil {
		return fmt.Errorf("bench: index size: %w", err)
	}
	rep.loadTo = loadAverage()
	rep.print(out)
	return nil
}

// buildCatalog imports the province into stores and builds its index at
// idxPath, skipping what the data folder already has.
func buildCatalog(ctx context.Context, rep *benchReport, stores *store.Set, p *demo.GeneratedProvince, idxPath string, log *slog.Logger) error {
	counts, err := stores.Catalog.Counts(ctx)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	if counts.Works > 0 {
		rep.reused = true
		log.Info("the data folder has a catalogue; skipping the import", "works", counts.Works, "items", counts.Items)
	} else {
		if err := createLibraries(ctx, stores.Libraries, p.Libraries); err != nil {
			return err
		}
		log.Info("importing the province", "scale", rep.opts.scaleName, "libraries", len(p.Libraries),
			"works", p.Scale.Works, "items", p.Scale.Items)
		st, err := importProvince(ctx, &catalog.Service{Store: stores.Catalog}, p, log)
		if err != nil {
			return err
		}
		st.libraries = len(p.Libraries)
		rep.imported = st
		rep.mem = append(rep.mem, readMemory("import"))
	}

	idx, err := search.Open(idxPath)
	if errors.Is(err, search.ErrIncompatible) {
		if err := os.RemoveAll(idxPath); err != nil {
			return fmt.Errorf("bench: removing the old index: %w", err)
		}
		idx, err = search.Open(idxPath)
	}
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	w, err := idx.Watermark()
	if err != nil {
		_ = idx.Close()
		return fmt.Errorf("bench: %w", err)
	}
	latest, err := stores.Catalog.LatestSeq(ctx)
	if err != nil {
		_ = idx.Close()
		return fmt.Errorf("bench: %w", err)
	}
	if w == 0 || w != latest {
		log.Info("building the search index")
		x := &search.Indexer{Index: idx, Catalog: stores.Catalog, Libraries: stores.Libraries, Logger: log}
		start, cpu := time.Now(), readCPU()
		n, err := x.Rebuild(ctx)
		if err != nil {
			_ = idx.Close()
			return fmt.Errorf("bench: %w", err)
		}
		rep.indexed, rep.indexWorks, rep.indexTook, rep.indexOther = true, n, time.Since(start), cpu.othersSince()
	}
	if err := idx.Close(); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	if rep.indexed {
		rep.mem = append(rep.mem, readMemory("index build"))
	}
	return nil
}

// createLibraries stores the province's libraries (parents first).
func createLibraries(ctx context.Context, st library.Store, libs []*library.Library) error {
	for _, l := range libs {
		c := *l
		if err := st.CreateLibrary(ctx, &c); err != nil {
			return fmt.Errorf("bench: creating the province's libraries: %w", err)
		}
	}
	return nil
}

// importProvince streams the province's catalogue into svc as its
// libraries would import their exports: each library's records (with
// their items) are collected until there are catalog.DefaultBatchSize of
// them, one Service.Import call and one store transaction, and every
// library's remainder goes at the end. A generator goroutine fills the
// batches while the store writes, as parsing overlaps the store in a real
// import; it holds at most a batch less one record per library.
func importProvince(ctx context.Context, svc *catalog.Service, p *demo.GeneratedProvince, log *slog.Logger) (*importStats, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan *catalog.Batch, 4)
	go func() {
		defer close(batches)
		send := func(b *catalog.Batch) bool {
			select {
			case batches <- b:
				return true
			case <-ctx.Done():
				return false
			}
		}
		for b := range catalog.BatchesByLibrary(p.Holdings()) {
			if !send(b) {
				return
			}
		}
	}()

	st := &importStats{}
	start, lastLog, cpu := time.Now(), time.Now(), readCPU()
	var failed error
	for b := range batches {
		if failed != nil {
			continue // drain: the generator stops at cancel
		}
		t := time.Now()
		res, err := svc.Import(ctx, b)
		st.storeTime += time.Since(t)
		st.calls++
		if res != nil {
			st.records += res.RecordsNew + res.RecordsUpdated + res.RecordsUnchanged
			st.items += res.ItemsNew + res.ItemsUpdated + res.ItemsUnchanged
			st.works += res.WorksCreated
			st.skipped += res.RecordsSkipped
			st.refused += res.ItemsConflicting
		}
		if err != nil {
			failed = fmt.Errorf("bench: import: %w", err)
			cancel()
			continue
		}
		if time.Since(lastLog) > 10*time.Second {
			lastLog = time.Now()
			log.Info("importing", "records", st.records, "items", st.items, "records/s", int(rate(st.records, time.Since(start))))
		}
	}
	if failed != nil {
		return nil, failed
	}
	st.took, st.other = time.Since(start), cpu.othersSince()
	log.Info("imported", "records", st.records, "items", st.items, "works", st.works, "took", st.took.Round(time.Millisecond))
	return st, nil
}

// benchMix returns the query mix: fixed queries of the kinds readers type
// (common and rare words, with and without diacritics, authors, old tone
// placement, filters) and queries taken from the generated catalogue (a
// rare title, an author, ISBNs), so that they find something at any
// scale. Every search asks for the first page of 20 with every facet and
// highlights, as the search resolver does.
func benchMix(p *demo.GeneratedProvince) ([]benchQuery, error) {
	var provincial, district, village *library.Library
	for _, l := range p.Libraries {
		switch {
		case l.Type == library.TypeProvincial && provincial == nil:
			provincial = l
		case l.Type == library.TypeDistrict && l.District == "Từ Sơn" && district == nil:
			district = l
		case l.Type == library.TypeVillage:
			village = l // the last one: a small reading room
		}
	}
	if provincial == nil || district == nil || village == nil {
		return nil, errors.New("bench: the province lacks a provincial, Từ Sơn district or village library")
	}
	s, err := sampleCatalog(p)
	if err != nil {
		return nil, err
	}
	q := func(name, text string) benchQuery {
		return benchQuery{name: name, req: search.Request{Query: text}}
	}
	f := func(name, text, filter string, flt search.Filter) benchQuery {
		return benchQuery{name: name, filter: filter, req: search.Request{Query: text, Filter: flt}}
	}
	mix := []benchQuery{
		q("common, 2 syllables", "văn học"),
		q("common, folded", "van hoc viet nam"),
		q("common phrase", "thư viện"),
		q("children's", "truyện thiếu nhi"),
		q("agriculture", "kỹ thuật trồng lúa"),
		q("agriculture, folded", "chan nuoi ga"),
		q("textbook", "toán 12"),
		q("series", "thám tử lừng danh conan"),
		q("collected works", "hồ chí minh toàn tập"),
		q("old tone placement", "hoà bình"),
		q("history", "lịch sử việt nam"),
		q("rare", "múa rối nước"),
		q("rare, folded", "su hao"),
		q("author", "nguyễn du"),
		q("author, folded", "hoang phe"),
		q("place", "bắc ninh"),
		q("title (sampled)", s.title),
		q("title, folded (sampled)", strings.ToLower(vietnamese.Fold(s.foldedTitle))),
		q("author (sampled)", s.author),
		q("ISBN with hyphens (sampled)", s.hyphenISBN),
		q("ISBN-13 (sampled)", s.plainISBN),
		f("common", "văn học", "library: "+provincial.Code, search.Filter{LibraryIDs: []string{provincial.ID}}),
		f("children's", "truyện", "district: Từ Sơn", search.Filter{Districts: []string{"Từ Sơn"}}),
		f("fiction", "tiểu thuyết", "format: EBOOK", search.Filter{Formats: []catalog.Format{catalog.FormatEbook}}),
		f("agriculture", "chăn nuôi", "available now: "+provincial.Code, search.Filter{AvailableAt: provincial.ID}),
		f("history", "lịch sử", "years 2015–2025", search.Filter{YearFrom: 2015, YearTo: 2025}),
		f("textbooks", "sách giáo khoa", "library type: SCHOOL", search.Filter{LibraryTypes: []string{string(library.TypeSchool)}}),
		f("small library", "truyện", "library: "+village.Code, search.Filter{LibraryIDs: []string{village.ID}}),
		f("browse shelf", "", "available now: "+district.Code, search.Filter{AvailableAt: district.ID}),
	}
	for i := range mix {
		mix[i].req.First = search.DefaultPageSize
		mix[i].req.Facets = benchFacets
		mix[i].req.Highlight = true
	}
	return mix, nil
}

// catalogSample is text taken from the generated catalogue.
type catalogSample struct {
	title, foldedTitle, author, hyphenISBN, plainISBN string
}

// sampleCatalog takes queries from the province's stream: the first
// records with a title of four or more words (a rare title), an author,
// and ISBNs written with and without hyphens, after a third and two thirds
// of the works.
func sampleCatalog(p *demo.GeneratedProvince) (catalogSample, error) {
	var s catalogSample
	n := 0
	for rec := range p.Holdings() {
		n++
		switch {
		case n < p.Scale.Works/3:
			continue
		case s.title == "" && len(strings.Fields(rec.Title)) >= 4 && len(rec.ISBNs) == 0:
			s.title = rec.Title
		case s.foldedTitle == "" && len(strings.Fields(rec.Title)) >= 4 && s.title != "" && rec.Title != s.title:
			s.foldedTitle = rec.Title
		case s.author == "" && len(rec.Authors) > 0 && rec.Authors[0].Kind == catalog.AuthorPerson && n > p.Scale.Works/2:
			s.author = rec.Authors[0].Name
		case s.hyphenISBN == "" && len(rec.ISBNs) > 0 && strings.Contains(rec.ISBNs[0].Raw, "-") && rec.ISBNs[0].ISBN13 != "":
			s.hyphenISBN = rec.ISBNs[0].Raw
		case s.plainISBN == "" && len(rec.ISBNs) > 0 && rec.ISBNs[0].ISBN13 != "" && n > 2*p.Scale.Works/3:
			s.plainISBN = rec.ISBNs[0].ISBN13
		}
		if s.title != "" && s.foldedTitle != "" && s.author != "" && s.hyphenISBN != "" && s.plainISBN != "" {
			return s, nil
		}
	}
	return s, errors.New("bench: the generated catalogue has too few records to take queries from")
}

// runSearches measures the query mix uncached and through each cache, on
// each number of clients, after a warm-up pass of the mix per path (for a
// cached path the pass fills the cache, so the cases measure hits).
func runSearches(ctx context.Context, rep *benchReport, idx *search.Index, log *slog.Logger) error {
	type path struct {
		name string
		s    searcher
		// noFacets drops the facets from every request: what they cost.
		noFacets bool
	}
	paths := []path{
		{"uncached", idx, false},
		{"uncached, no facets", idx, true},
		{"cached, in-process", &search.Cached{Index: idx, Cache: cache.NewMemory(10_000)}, false},
	}
	if rep.opts.redisURL != "" {
		var suffix [4]byte
		_, _ = rand.Read(suffix[:])
		rc, err := redis.Open(ctx, rep.opts.redisURL, redis.WithLogger(log), redis.WithPrefix("tvs-bench-"+hex.EncodeToString(suffix[:])+":"))
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		defer rc.Close()
		if err := rc.Ping(ctx); err != nil {
			return fmt.Errorf("bench: Redis at -redis-url does not answer: %w", err)
		}
		paths = append(paths, path{"cached, Redis", &search.Cached{Index: idx, Cache: rc.Cache()}, false})
	}
	for pi, pa := range paths {
		qs := rep.queries
		if pa.noFacets {
			qs = slices.Clone(qs)
			for i := range qs {
				qs[i].req.Facets = nil
			}
		}
		for i := range qs {
			res, err := pa.s.Search(ctx, qs[i].req)
			if err != nil {
				return fmt.Errorf("bench: warm-up %s, %q: %w", pa.name, qs[i].req.Query, err)
			}
			if pi == 0 {
				rep.queries[i].hits = res.TotalCount
			}
		}
		for ci, clients := range rep.opts.clients {
			log.Info("searching", "path", pa.name, "clients", clients, "for", rep.opts.duration)
			cpu := readCPU()
			c, byQuery, err := runCase(ctx, pa.s, qs, clients, rep.opts.duration)
			c.other = cpu.othersSince()
			if err != nil {
				return fmt.Errorf("bench: %s on %d clients: %w", pa.name, clients, err)
			}
			c.path = pa.name
			rep.cases = append(rep.cases, c)
			switch {
			case pi == 0 && ci == 0:
				rep.byQuery = byQuery
			case pa.noFacets && ci == 0:
				rep.byQueryNoFacets = byQuery
			}
			log.Info("searched", "path", pa.name, "clients", clients, "requests", c.requests,
				"p50", c.p50, "p99", c.p99)
		}
	}
	return nil
}

// runCase runs the mix on clients goroutines for d, each client going
// through the queries in order from its own starting point.
func runCase(ctx context.Context, s searcher, qs []benchQuery, clients int, d time.Duration) (caseResult, []queryStats, error) {
	lat := make([][][]time.Duration, clients) // client → query → latencies
	errs := make([]error, clients)
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	ends := make([]time.Time, clients)
	for c := range clients {
		lat[c] = make([][]time.Duration, len(qs))
		wg.Go(func() {
			for i := c * len(qs) / clients; time.Now().Before(deadline) && ctx.Err() == nil; i++ {
				k := i % len(qs)
				t := time.Now()
				if _, err := s.Search(ctx, qs[k].req); err != nil {
					errs[c] = fmt.Errorf("%q: %w", qs[k].req.Query, err)
					break
				}
				lat[c][k] = append(lat[c][k], time.Since(t))
			}
			ends[c] = time.Now()
		})
	}
	wg.Wait()
	if err := errors.Join(append(errs, ctx.Err())...); err != nil {
		return caseResult{}, nil, err
	}
	var all []time.Duration
	byQuery := make([]queryStats, len(qs))
	for k := range qs {
		var ls []time.Duration
		for c := range clients {
			ls = append(ls, lat[c][k]...)
		}
		slices.Sort(ls)
		byQuery[k] = queryStats{q: &qs[k], n: len(ls), p50: percentile(ls, 0.50), p99: percentile(ls, 0.99), max: percentile(ls, 1)}
		all = append(all, ls...)
	}
	slices.Sort(all)
	elapsed := time.Duration(0)
	for _, e := range ends {
		elapsed = max(elapsed, e.Sub(start))
	}
	return caseResult{clients: clients, requests: len(all), elapsed: elapsed,
		p50: percentile(all, 0.50), p95: percentile(all, 0.95), p99: percentile(all, 0.99), max: percentile(all, 1)}, byQuery, nil
}

// percentile returns the p-quantile of sorted latencies (nearest rank).
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// readMemory samples the process's resident set (VmRSS, and its peak
// VmHWM, from /proc/self/status; 0 where there is no /proc) and the Go
// heap live after a collection.
func readMemory(phase string) memSample {
	m := memSample{phase: phase}
	p := readProcMemory("self")
	m.rssMB, m.peakMB, m.anonMB, m.fileMB = p.rss, p.peak, p.anon, p.file
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.heapMB, m.sysMB = float64(ms.HeapAlloc)/(1<<20), float64(ms.Sys)/(1<<20)
	m.heapObjectsMil = float64(ms.HeapObjects) / 1e6
	return m
}

// loadAverage returns the 1-, 5- and 15-minute load averages, "" when
// unknown: other work on the machine shows here.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// cpuSample is the machine's busy CPU time and this process's CPU time
// at one moment, from /proc (zero where there is none).
type cpuSample struct {
	at         time.Time
	busy, self float64 // seconds
}

// clockTicks is USER_HZ, the unit of CPU times in /proc: 100 on every
// Linux architecture Go supports.
const clockTicks = 100

// readCPU samples /proc/stat and /proc/self/stat.
func readCPU() cpuSample {
	c := cpuSample{at: time.Now()}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		f := strings.Fields(line)
		// cpu user nice system idle iowait irq softirq steal …
		for i, v := range f {
			if i == 0 || i == 4 || i == 5 || i > 8 {
				continue
			}
			n, _ := strconv.ParseFloat(v, 64)
			c.busy += n / clockTicks
		}
	}
	if b, err := os.ReadFile("/proc/self/stat"); err == nil {
		// The command name (field 2) may hold spaces: count from its ')'.
		if i := strings.LastIndexByte(string(b), ')'); i >= 0 {
			f := strings.Fields(string(b)[i+1:])
			if len(f) > 12 {
				u, _ := strconv.ParseFloat(f[11], 64)
				s, _ := strconv.ParseFloat(f[12], 64)
				c.self = (u + s) / clockTicks
			}
		}
	}
	return c
}

// othersSince returns the share (0–1) of the machine's CPU capacity that
// other processes used since c was sampled: contention that disturbs the
// measurement when it is not near 0.
func (c cpuSample) othersSince() float64 {
	now := readCPU()
	wall := now.at.Sub(c.at).Seconds() * float64(runtime.NumCPU())
	if wall <= 0 || c.busy == 0 {
		return 0
	}
	return max(0, min(1, (now.busy-c.busy-(now.self-c.self))/wall))
}

// cpuModel returns the CPU model name from /proc/cpuinfo, "" when unknown.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if name, val, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "model name" {
			return strings.TrimSpace(val)
		}
	}
	return ""
}

// sizeMB sums the sizes of the files under root (those whose base name
// keep accepts, all when keep is nil), in MiB.
func sizeMB(root string, keep func(name string) bool) (float64, error) {
	var total int64
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path != root && d.IsDir() && keep != nil {
			return filepath.SkipDir
		}
		if d.IsDir() || keep != nil && !keep(d.Name()) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		total += info.Size()
		return nil
	})
	return float64(total) / (1 << 20), err
}

func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// print writes the report as Markdown.
func (r *benchReport) print(out io.Writer) {
	o := r.opts
	fmt.Fprintf(out, "## thuvienso bench catalog: scale %s (%s libraries, %s works, %s items)\n\n",
		o.scaleName, thousands(o.scale.Libraries), thousands(o.scale.Works), thousands(o.scale.Items))
	fmt.Fprintf(out, "Go %s, GOMAXPROCS %d, %d CPUs (%s); load average %s at start, %s at the end; %s per search case.\n",
		strings.TrimPrefix(runtime.Version(), "go"), runtime.GOMAXPROCS(0), runtime.NumCPU(), cpuModel(), r.loadFrom, r.loadTo, o.duration)
	if r.reused {
		fmt.Fprintf(out, "Existing data folder %s: import and index build skipped (catalogue: %s works, %s records, %s items).\n",
			r.dataDir, thousands(r.counts.Works), thousands(r.counts.Records), thousands(r.counts.Items))
	}
	fmt.Fprintf(out, "\n| Phase | What | Time | Rate | On disk | Other processes' CPU |\n|---|---|---:|---|---:|---:|\n")
	if st := r.imported; st != nil {
		fmt.Fprintf(out, "| import | %s records (%s skipped), %s items (%s refused) → %s works, %s libraries, %s Service.Import calls | %s | **%s records/s**, %s items/s (%s records/s inside Service.Import) | %s | %s |\n",
			thousands(st.records), thousands(st.skipped), thousands(st.items), thousands(st.refused), thousands(st.works),
			thousands(st.libraries), thousands(st.calls), seconds(st.took),
			thousands(int(rate(st.records, st.took))), thousands(int(rate(st.items, st.took))),
			thousands(int(rate(st.records, st.storeTime))), mb(r.storeMB), percent(st.other))
	}
	if r.indexed {
		fmt.Fprintf(out, "| index build | %s works from the store, merged to one segment | %s | %s works/s | %s | %s |\n",
			thousands(r.indexWorks), seconds(r.indexTook), thousands(int(rate(r.indexWorks, r.indexTook))), mb(r.indexMB), percent(r.indexOther))
	} else {
		fmt.Fprintf(out, "| index (existing) | up to date with the store | | | %s | |\n", mb(r.indexMB))
	}
	c := r.cold
	total := c.openStore + c.openIndex + c.firstSearch
	fmt.Fprintf(out, "| cold start | open store %s ms, open index %s ms, first search (`%s`, facets) %s ms | %s ms | | | |\n",
		millis(c.openStore), millis(c.openIndex), coldStartQuery, millis(c.firstSearch), millis(total))

	fmt.Fprintf(out, "\nSearch: first page of 20, every facet, highlights; %d queries in the mix (below), after a warm-up pass per path.\n\n", len(r.queries))
	fmt.Fprintf(out, "| Path | Clients | Requests | p50 ms | p95 ms | p99 ms | max ms | Throughput req/s | Other processes' CPU |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, cs := range r.cases {
		fmt.Fprintf(out, "| %s | %d | %s | %s | %s | %s | %s | %s | %s |\n", cs.path, cs.clients, thousands(cs.requests),
			millis(cs.p50), millis(cs.p95), millis(cs.p99), millis(cs.max), thousands(int(rate(cs.requests, cs.elapsed))), percent(cs.other))
	}

	fmt.Fprintf(out, "\nMemory after each phase (RSS from /proc/self/status, VmRSS = RssAnon + RssFile + RssShmem, peak VmHWM; Go heap live after a collection):\n\n")
	fmt.Fprintf(out, "| After | RSS MiB | of which anonymous | of which mapped files | Peak RSS MiB | Go heap MiB | Go heap objects (M) | Go runtime total MiB |\n|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, m := range r.mem {
		fmt.Fprintf(out, "| %s | %.0f | %.0f | %.0f | %.0f | %.0f | %.2f | %.0f |\n", m.phase, m.rssMB, m.anonMB, m.fileMB, m.peakMB, m.heapMB, m.heapObjectsMil, m.sysMB)
	}

	if len(r.byQuery) > 0 {
		fmt.Fprintf(out, "\nThe mix, uncached on %d client(s):\n\n", r.cases[0].clients)
		fmt.Fprintf(out, "| Query | Text | Filter | Hits | Runs | p50 ms | p99 ms | max ms | p50 ms without facets |\n|---|---|---|---:|---:|---:|---:|---:|---:|\n")
		for i, qs := range r.byQuery {
			noFacets := ""
			if i < len(r.byQueryNoFacets) {
				noFacets = millis(r.byQueryNoFacets[i].p50)
			}
			text := qs.q.req.Query
			if text == "" {
				text = "(none)"
			} else {
				text = "`" + text + "`"
			}
			fmt.Fprintf(out, "| %s | %s | %s | %s | %d | %s | %s | %s | %s |\n", qs.q.name, text, qs.q.filter,
				thousands(qs.q.hits), qs.n, millis(qs.p50), millis(qs.p99), millis(qs.max), noFacets)
		}
	}
}

// millis formats d in milliseconds: two decimals under 10 ms, one above.
func millis(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	if ms < 10 {
		return strconv.FormatFloat(ms, 'f', 2, 64)
	}
	return strconv.FormatFloat(ms, 'f', 1, 64)
}

func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + " s"
}

func percent(v float64) string { return strconv.FormatFloat(100*v, 'f', 0, 64) + "%" }

func mb(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) + " MiB" }

// thousands formats n with commas between groups of three digits.
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
