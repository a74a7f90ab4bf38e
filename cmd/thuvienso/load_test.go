package main

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// runAsMainEnv makes the test binary behave as the thuvienso command, so
// that the load test can start it as the server and the bare server.
const runAsMainEnv = "THUVIENSO_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runAsMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestBenchLoad runs the load test end to end on a tiny province with
// short phases: the server and the bare server are this test binary,
// started as the command. Every row of the report must be there with a
// non-zero throughput and no error, and the plot must be a PNG.
func TestBenchLoad(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	serverLog, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer serverLog.Close()
	opts := loadOptions{scale: tinyScale, scaleName: "tiny", dataDir: filepath.Join(dir, "data"),
		clients: []int{1, 3}, warmup: 50 * time.Millisecond, duration: 600 * time.Millisecond, searchDuration: 150 * time.Millisecond,
		plot: filepath.Join(dir, "plot", "latency.png"), exe: exe, env: append(os.Environ(), runAsMainEnv+"=1"),
		serverLog: serverLog, minPerClient: 20} // the mix's period: every operation at least once
	rep, err := runLoad(t.Context(), opts)
	if err != nil {
		logServer(t, serverLog)
		t.Fatal(err)
	}
	var out bytes.Buffer
	rep.print(&out)
	report := out.String()
	t.Log("\n" + report)

	for _, st := range rep.steps {
		for _, op := range mixedOps {
			s := st.mixed.res.Op(op)
			if s == nil || s.Requests == 0 || s.Throughput <= 0 {
				t.Errorf("%d clients: no %s answered", st.clients, op)
			}
		}
		for _, ph := range []phaseResult{st.mixed, st.uncached, st.cached, st.bare} {
			if a := ph.res.All; a.Failed > 0 || a.Requests == 0 {
				t.Errorf("%d clients, %s: %d answered, %d errors %v", st.clients, ph.res.Ops[0].Op, a.Requests, a.Failed, a.Details)
			}
		}
		if st.uncached.hits > 0 {
			t.Errorf("%d clients: %v uncached searches hit the cache", st.clients, st.uncached.hits)
		}
	}
	rows := []string{
		`## thuvienso bench load: scale tiny \(80 libraries, 400 works, 1,200 items\)`,
		`\| cold start: process started → first search answered over HTTP .* \| [\d.]+ ms \|`,
		`\| set-up through the API: 3 readers registered \(with cards\), \d pickup libraries, \d+ works to open, \d+ holdable, \d+ e-book titles \|`,
		`\| server RSS after the load: VmRSS \(anonymous \+ mapped files\) \| [1-9]\d* MiB`,
		`\| cached searches ≥ 60% of the bare handler's throughput \| \d+–\d+% \|`,
		`\| uncached search p99 ≤ 25.0 ms \(1 client\(s\)\) \| [\d.]+ ms \|`,
	}
	number := `[1-9][\d,.]*|0\.\d*[1-9]\d*` // a non-zero number
	for _, c := range []string{"1", "3"} {
		for _, op := range append(mixedOps, `\*\*all\*\* \(search cache hits \d+% of [\d,]+; CPU cores: server [\d.]+, load generator [\d.]+, others [\d.]+\)`) {
			rows = append(rows, `\| `+c+` \| `+op+` \| (`+number+`) \| (`+number+`) \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \| 0 \|`)
		}
		for _, op := range []string{opSearchUncached, opSearchCached, opBare} {
			rows = append(rows, `\| `+c+` \| `+regexp.QuoteMeta(op)+` \| (`+number+`) \| (`+number+`) \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \| 0 \|`)
		}
		rows = append(rows, `\| `+c+` \| `+number+` \| `+number+` \| \d+% \|`)
	}
	for _, r := range rows {
		if !regexp.MustCompile(r).MatchString(report) {
			t.Errorf("the report has no row matching %s", r)
		}
	}

	if err := writeLatencyPlot(opts.plot, rep); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(opts.plot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("the plot is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 600 || b.Dy() < 300 {
		t.Errorf("the plot is %v, too small", b)
	}
}

// logServer logs what the server wrote to its log.
func logServer(t *testing.T, f *os.File) {
	if b, err := os.ReadFile(f.Name()); err == nil && len(b) > 0 {
		t.Logf("server log:\n%s", strings.TrimSpace(string(b)))
	}
}

// TestBenchLoadFlags checks the command's arguments.
func TestBenchLoadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-scale", "huge"},
		{"-clients", "1,zero"},
		{"-clients", "0"},
		{"-duration", "0s"},
		{"-search-duration", "-1s"},
		{"-warmup", "-1s"},
		{"extra"},
	} {
		var out bytes.Buffer
		if err := benchLoadCmd(context.Background(), args, &out); err == nil {
			t.Errorf("bench load %q: no error", args)
		}
	}
}
