package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bacninh/thuvienso/demo"
)

// tinyScale is a province small enough for the benchmark's test under the
// race detector: the demo network's libraries and a few generated ones.
var tinyScale = demo.Scale{Libraries: 80, Works: 400, Items: 1_200, Seed: 1}

// TestBenchCatalog runs the benchmark on a tiny province, then again on
// the data folder it left (the cold-start run), and checks that the report
// has every row.
func TestBenchCatalog(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	opts := benchOptions{scale: tinyScale, scaleName: "tiny", dataDir: dir, duration: 150 * time.Millisecond,
		clients: []int{1, 4}, redisURL: os.Getenv("TEST_REDIS_URL")}
	var out bytes.Buffer
	if err := benchCatalog(t.Context(), opts, &out); err != nil {
		t.Fatal(err)
	}
	report := out.String()
	t.Log("\n" + report)
	rows := []string{
		`## thuvienso bench catalog: scale tiny \(80 libraries, 400 works, 1,200 items\)`,
		`\| import \| [\d,]+ records \(0 skipped\), 1,200 items \(0 refused\) → 4\d\d works, 80 libraries, .* records/s\*\*, [\d,]+ items/s .* MiB \|`,
		`\| index build \| 4\d\d works from the store, merged to one segment \| [\d.]+ s \| [\d,]+ works/s \| \d+ MiB \|`,
		`\| cold start \| open store [\d.]+ ms, open index [\d.]+ ms, first search \(.nguyễn du., facets\) [\d.]+ ms \| [\d.]+ ms \|`,
		`\| uncached \| 1 \| [\d,]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d,]+ \|`,
		`\| uncached \| 4 \| [\d,]+ \|`,
		`\| uncached, no facets \| 1 \| [\d,]+ \|`,
		`\| uncached, no facets \| 4 \| [\d,]+ \|`,
		`\| cached, in-process \| 1 \| [\d,]+ \|`,
		`\| cached, in-process \| 4 \| [\d,]+ \|`,
		`\| start \| \d+ \| \d+ \| \d+ \| \d+ \|`,
		`\| import \| \d+ \|`,
		`\| index build \| \d+ \|`,
		`\| cold start \(store and index reopened\) \| \d+ \|`,
		`\| searches \| \d+ \|`,
		"\\| ISBN with hyphens \\(sampled\\) \\| `[\\d-]+` \\|  \\| 1 \\|",
		"\\| browse shelf \\| \\(none\\) \\| available now: BN-TS \\| [1-9]",
	}
	if opts.redisURL != "" {
		rows = append(rows, `\| cached, Redis \| 1 \| [\d,]+ \|`, `\| cached, Redis \| 4 \| [\d,]+ \|`)
	}
	for _, r := range rows {
		if !regexp.MustCompile(r).MatchString(report) {
			t.Errorf("the report has no row matching %s", r)
		}
	}
	if n := strings.Count(report, "| uncached | 1 |"); n != 1 {
		t.Errorf("%d uncached 1-client rows, want 1", n)
	}

	// Again on the same folder: nothing to import or index, a cold start.
	out.Reset()
	opts.clients = []int{1}
	if err := benchCatalog(t.Context(), opts, &out); err != nil {
		t.Fatal(err)
	}
	report = out.String()
	for _, r := range []string{
		`Existing data folder .*: import and index build skipped \(catalogue: 4\d\d works, [\d,]+ records, 1,200 items\)`,
		`\| index \(existing\) \| up to date with the store \|`,
		`\| cold start \| open store [\d.]+ ms, open index [\d.]+ ms, first search .* ms \|`,
		`\| uncached \| 1 \| [\d,]+ \|`,
	} {
		if !regexp.MustCompile(r).MatchString(report) {
			t.Errorf("the second report has no row matching %s:\n%s", r, report)
		}
	}
	if strings.Contains(report, "| import |") {
		t.Errorf("the second run imported again:\n%s", report)
	}
}

// TestBenchCmdFlags checks the command's arguments.
func TestBenchCmdFlags(t *testing.T) {
	getenv := func(string) string { return "" }
	for _, args := range [][]string{
		nil,
		{"search"},
		{"catalog", "-scale", "huge"},
		{"catalog", "-clients", "1,zero"},
		{"catalog", "-clients", "0"},
		{"catalog", "-duration", "-1s"},
		{"catalog", "extra"},
	} {
		var out bytes.Buffer
		if err := benchCmd(context.Background(), args, getenv, &out); err == nil {
			t.Errorf("bench %q: no error", args)
		}
	}
}
