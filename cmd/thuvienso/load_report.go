package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bacninh/thuvienso/loadgen"
)

// The targets.
const (
	targetCachedRatio    = 0.60
	targetUncachedP99    = 25 * time.Millisecond
	targetMixedP99       = 100 * time.Millisecond
	targetMixedP99Client = 50
)

// phaseResult is one measured phase with the contention around it and
// the server's search cache lookups during it.
type phaseResult struct {
	res          *loadgen.Result
	cpu          cpuUse
	hits, misses float64
}

// runLoadStep runs every phase at one number of clients: the mixed
// workload, uncached searches, then the cached search on the server and
// the same bytes from the bare server, alternating.
func runLoadStep(ctx context.Context, opts loadOptions, w *workload, srv, bare *child, clients int, log *slog.Logger) (loadStep, error) {
	st := loadStep{clients: clients}
	if err := w.refreshTokens(ctx); err != nil {
		return st, err
	}
	mixed := make([]*mixClient, clients)
	for i := range mixed {
		mixed[i] = newMixClient(w, i)
	}
	var err error
	if st.mixed, err = runPhase(ctx, opts, "mixed", opts.duration, srv, bare, clients, func(i int) loadgen.Client { return mixed[i] }, log); err != nil {
		return st, err
	}
	for _, c := range mixed {
		if err := c.release(ctx); err != nil {
			return st, err
		}
	}
	if st.uncached, err = runPhase(ctx, opts, "uncached search", opts.searchDuration, srv, bare, clients,
		func(int) loadgen.Client { return uncachedClient{w: w} }, log); err != nil {
		return st, err
	}
	bareGQL := &loadgen.GraphQL{URL: bare.url + "/graphql", HTTP: newHTTPClient(clients + 4), Language: w.gql.Language}
	start := time.Now()
	both, err := runPhase(ctx, opts, "cached search and bare handler, alternating", 2*opts.searchDuration, srv, bare, clients,
		func(int) loadgen.Client {
			return alternatingClient{start: start, slice: min(alternationSlice, opts.searchDuration/4),
				a: sameRequestClient{gql: w.gql, op: opSearchCached, body: w.cachedBody, answer: w.cachedAnswer},
				b: sameRequestClient{gql: bareGQL, op: opBare, body: w.cachedBody, answer: w.cachedAnswer}}
		}, log)
	if err != nil {
		return st, err
	}
	st.cached, st.bare = both.half(opSearchCached), both.half(opBare)
	return st, nil
}

// alternationSlice is how long the alternating phase sends to one server
// before switching to the other (at most; a quarter of -search-duration
// when that is shorter): short, so that both see the same contention from
// the rest of the machine.
const alternationSlice = 500 * time.Millisecond

// alternatingClient sends to a for a slice, then to b for a slice, and so
// on, every client switching at the same moments.
type alternatingClient struct {
	start time.Time
	slice time.Duration
	a, b  loadgen.Client
}

func (c alternatingClient) Next(ctx context.Context) loadgen.Sample {
	if time.Since(c.start)/c.slice%2 == 0 {
		return c.a.Next(ctx)
	}
	return c.b.Next(ctx)
}

// half is the phase result of one operation of an alternating phase: its
// throughput over the half of the window it had.
func (p phaseResult) half(op string) phaseResult {
	s := loadgen.OpStats{Op: op}
	if o := p.res.Op(op); o != nil {
		s = *o
	}
	elapsed := p.res.Elapsed / 2
	s.Throughput = float64(s.Requests) / elapsed.Seconds()
	p.res = &loadgen.Result{Clients: p.res.Clients, Elapsed: elapsed, Ops: []*loadgen.OpStats{&s}, All: &s}
	return p
}

// runPhase runs one phase on clients made by client, with the CPU and
// search cache lookups around it.
func runPhase(ctx context.Context, opts loadOptions, name string, d time.Duration, srv, bare *child, clients int,
	client func(i int) loadgen.Client, log *slog.Logger) (phaseResult, error) {
	log.Info("load", "phase", name, "clients", clients, "warm-up", opts.warmup, "measured", d)
	cs := make([]loadgen.Client, clients)
	for i := range cs {
		cs[i] = client(i)
	}
	watch := watchCPU(srv.pid(), bare.pid())
	hits0, misses0 := cacheLookups(ctx, srv)
	res, err := loadgen.Run(ctx, cs, loadgen.Phase{Warmup: opts.warmup, Duration: d, MinPerClient: opts.minPerClient})
	if err != nil {
		return phaseResult{}, fmt.Errorf("bench load: %s on %d clients: %w", name, clients, err)
	}
	hits1, misses1 := cacheLookups(ctx, srv)
	ph := phaseResult{res: res, cpu: watch.use(), hits: hits1 - hits0, misses: misses1 - misses0}
	log.Info("measured", "phase", name, "clients", clients, "requests", res.All.Requests,
		"req/s", int(res.All.Throughput), "p50", res.All.P50, "p99", res.All.P99, "errors", res.All.Failed)
	return ph, nil
}

// cacheLookups reads the server's search cache hits and misses from
// /metrics (zeros when it cannot). They include the warm-up.
func cacheLookups(ctx context.Context, srv *child) (hits, misses float64) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.url+"/metrics", nil)
	if err != nil {
		return 0, 0
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "thuvienso_cache_lookups_total{") || !strings.Contains(line, `cache="search"`) {
			continue
		}
		f := strings.Fields(line)
		v, _ := strconv.ParseFloat(f[len(f)-1], 64)
		switch {
		case strings.Contains(line, `result="hit"`):
			hits = v
		case strings.Contains(line, `result="miss"`):
			misses = v
		}
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return hits, misses
}

// print writes the report as Markdown.
func (r *loadReport) print(out io.Writer) {
	o := r.opts
	fmt.Fprintf(out, "## thuvienso bench load: scale %s (%s libraries, %s works, %s items)\n\n",
		o.scaleName, thousands(o.scale.Libraries), thousands(o.scale.Works), thousands(o.scale.Items))
	fmt.Fprintf(out, "Go %s, %d CPUs (%s); load average %s at start, %s at the end. Server, load generator and bare server on the same machine; "+
		"%s warm-up before each phase, mixed workload measured %s, each search case %s.\n\n",
		strings.TrimPrefix(runtime.Version(), "go"), runtime.NumCPU(), cpuModel(), r.loadFrom, r.loadTo, o.warmup, o.duration, o.searchDuration)
	r.printServer(out)
	r.printMixed(out)
	r.printSearches(out)
	r.printTargets(out)
}

func (r *loadReport) printServer(out io.Writer) {
	if b := r.prepared; b != nil && b.imported != nil {
		fmt.Fprintf(out, "Data folder built for this run: %s records imported in %s, index of %s works built in %s.\n\n",
			thousands(b.imported.records), seconds(b.imported.took), thousands(b.indexWorks), seconds(b.indexTook))
	} else if b != nil && b.indexed {
		fmt.Fprintf(out, "Search index rebuilt for this run: %s works in %s.\n\n", thousands(b.indexWorks), seconds(b.indexTook))
	}
	s := r.setup
	fmt.Fprintf(out, "| Server | Value |\n|---|---:|\n")
	fmt.Fprintf(out, "| cold start: process started → first search answered over HTTP (`%s`, facets) | %s ms |\n", coldStartQuery, millis(r.coldStart))
	fmt.Fprintf(out, "| set-up through the API: %d readers registered (with cards), %d pickup libraries, %d works to open, %d holdable, %d e-book titles | %s |\n",
		s.readers, s.pickups, s.works, s.holdable, s.titles, seconds(s.took))
	for _, m := range []struct {
		when string
		m    procMemory
	}{{"after the set-up", r.memIdle}, {"after the load", r.memLoaded}} {
		fmt.Fprintf(out, "| server RSS %s: VmRSS (anonymous + mapped files) | %.0f MiB (%.0f + %.0f) |\n", m.when, m.m.rss, m.m.anon, m.m.file)
	}
	fmt.Fprintf(out, "| server peak RSS (VmHWM) after the load | %.0f MiB |\n", r.memLoaded.peak)
	fmt.Fprintf(out, "| cached search answer served by the bare handler | %s bytes%s |\n\n", thousands(r.captured), map[bool]string{true: " (gzip)"}[r.capturedGz])
}

func (r *loadReport) printMixed(out io.Writer) {
	fmt.Fprintf(out, "Mixed workload (each client a logged-in reader; closed loop):\n\n")
	fmt.Fprintf(out, "| Clients | Operation | Requests | Throughput req/s | p50 ms | p95 ms | p99 ms | max ms | Errors | Errors and expected outcomes by code |\n|---:|---|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, st := range r.steps {
		res := st.mixed.res
		for _, op := range mixedOps {
			if s := res.Op(op); s != nil {
				fmt.Fprintf(out, "| %d | %s | %s |\n", st.clients, op, opColumns(s))
			}
		}
		fmt.Fprintf(out, "| %d | **all** (search cache hits %s; CPU cores: %s) | %s |\n", st.clients,
			hitRatio(st.mixed), st.mixed.cpu, opColumns(res.All))
	}
	fmt.Fprintln(out)
}

func (r *loadReport) printSearches(out io.Writer) {
	fmt.Fprintf(out, "Searches (`search`, first page of 20, every facet, highlights): uncached = every request unique (the mix's queries and filters with a page size and facet size never sent before, so each misses the cache); cached = one request repeated; bare = a bare net/http handler in its own process serving the server's answer to that request, headers and bytes as captured. Cached and bare run in one phase of twice the duration, alternating every half second (so that both meet the same contention), each measured over its half:\n\n")
	fmt.Fprintf(out, "| Clients | Case | Requests | Throughput req/s | p50 ms | p95 ms | p99 ms | max ms | Errors | Search cache hits | CPU cores over the phase: server, bare, load generator, others |\n|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, st := range r.steps {
		for _, ph := range []phaseResult{st.uncached, st.cached, st.bare} {
			hits := hitRatio(ph)
			if ph.res.Ops[0].Op == opBare {
				hits = "—"
			}
			s := ph.res.Ops[0]
			cpu := ph.cpu
			fmt.Fprintf(out, "| %d | %s | %s | %s | %s | %s | %s | %s | %d | %s | %.2f, %.2f, %.2f, %.2f |\n", st.clients, s.Op, thousands(s.Requests),
				thousands(int(s.Throughput)), millis(s.P50), millis(s.P95), millis(s.P99), millis(s.Max), s.Failed, hits,
				cpu.server, cpu.bare, cpu.loadgen, cpu.others)
		}
	}
	fmt.Fprintf(out, "\n| Clients | Cached search req/s | Bare handler req/s | Cached / bare |\n|---:|---:|---:|---:|\n")
	for _, st := range r.steps {
		c, b := st.cached.res.All.Throughput, st.bare.res.All.Throughput
		fmt.Fprintf(out, "| %d | %s | %s | %s |\n", st.clients, thousands(int(c)), thousands(int(b)), ratio(c, b))
	}
	fmt.Fprintln(out)
}

func (r *loadReport) printTargets(out io.Writer) {
	fmt.Fprintf(out, "| Target (issue 9) | Measured | Met |\n|---|---|---|\n")
	var bestRatio, worstRatio float64 = 0, 1e9
	for _, st := range r.steps {
		q := st.cached.res.All.Throughput / max(st.bare.res.All.Throughput, 1e-9)
		bestRatio, worstRatio = max(bestRatio, q), min(worstRatio, q)
	}
	fmt.Fprintf(out, "| cached searches ≥ %.0f%% of the bare handler's throughput | %.0f–%.0f%% | %s |\n",
		100*targetCachedRatio, 100*worstRatio, 100*bestRatio, metOrNot(worstRatio >= targetCachedRatio))
	for _, st := range r.steps {
		if p := st.uncached.res.All.P99; st.clients == r.steps[0].clients {
			fmt.Fprintf(out, "| uncached search p99 ≤ %s ms (%d client(s)) | %s ms | %s |\n",
				millis(targetUncachedP99), st.clients, millis(p), metOrNot(p <= targetUncachedP99))
		}
	}
	found := false
	for _, st := range r.steps {
		if st.clients == targetMixedP99Client {
			p := st.mixed.res.All.P99
			fmt.Fprintf(out, "| mixed-workload p99 < %s ms at %d clients | %s ms | %s |\n",
				millis(targetMixedP99), st.clients, millis(p), metOrNot(p < targetMixedP99))
			found = true
		}
	}
	if !found {
		fmt.Fprintf(out, "| mixed-workload p99 < %s ms at %d clients | not measured (no -clients %d) | — |\n",
			millis(targetMixedP99), targetMixedP99Client, targetMixedP99Client)
	}
}

// String gives the cores used as the mixed workload's summary says it.
func (u cpuUse) String() string {
	return fmt.Sprintf("server %.2f, load generator %.2f, others %.2f", u.server, u.loadgen, u.others)
}

// opColumns are the measurement columns of one operation's row.
func opColumns(s *loadgen.OpStats) string {
	return fmt.Sprintf("%s | %s | %s | %s | %s | %s | %d | %s", thousands(s.Requests), throughput(s.Throughput),
		millis(s.P50), millis(s.P95), millis(s.P99), millis(s.Max), s.Failed, expectedOutcomes(s))
}

func throughput(v float64) string {
	if v < 100 {
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return thousands(int(v))
}

// expectedOutcomes lists the expected outcomes of s, and the failures'
// details.
func expectedOutcomes(s *loadgen.OpStats) string {
	var parts []string
	for d, n := range s.Details {
		parts = append(parts, fmt.Sprintf("%s × %d", d, n))
	}
	if len(parts) == 0 {
		return ""
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

// hitRatio is the share of the phase's search cache lookups that hit,
// and how many there were.
func hitRatio(p phaseResult) string {
	n := p.hits + p.misses
	if n == 0 {
		return "no lookups"
	}
	return percent(p.hits/n) + " of " + thousands(int(n))
}

func ratio(a, b float64) string {
	if b == 0 {
		return "—"
	}
	return strconv.FormatFloat(100*a/b, 'f', 0, 64) + "%"
}

func metOrNot(ok bool) string {
	if ok {
		return "**met**"
	}
	return "**not met**"
}
