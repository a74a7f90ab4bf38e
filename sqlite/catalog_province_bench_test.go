package sqlite_test

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bacninh/thuvienso/catalog"
	"github.com/bacninh/thuvienso/demo"
	"github.com/bacninh/thuvienso/sqlite"
)

// BenchmarkImportProvince imports a generated province through
// catalog.Service as `thuvienso bench catalog` does (each library's records
// and items collected into batches of catalog.DefaultBatchSize, the
// remainders last), with the batches generated before the clock starts, so
// that the figure is the store's alone. Unlike BenchmarkImport, records
// found new works and join works of earlier batches in the proportions of
// the province. The scale is a tenth of demo.FullScale's works and items
// (550 libraries); IMPORT_BENCH_WORKS sets the works (items follow the
// full scale's ratio). One iteration imports the whole province into a
// fresh database; it reports records/s.
func BenchmarkImportProvince(b *testing.B) {
	works := 30_000
	if s := os.Getenv("IMPORT_BENCH_WORKS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("IMPORT_BENCH_WORKS=%q: want a positive number", s)
		}
		works = n
	}
	scale := demo.FullScale
	scale.Items = int(int64(scale.Items) * int64(works) / int64(scale.Works))
	scale.Works = works
	p := demo.Province(scale)
	batches := provinceBatches(p)
	records := 0
	for _, bt := range batches {
		records += len(bt.Records)
	}
	b.ReportAllocs()
	n := 0
	written := int64(0)
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		db, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		stores := db.Stores()
		for _, l := range p.Libraries {
			c := *l
			if err := stores.Libraries.CreateLibrary(b.Context(), &c); err != nil {
				b.Fatal(err)
			}
		}
		svc := &catalog.Service{Store: stores.Catalog}
		w0, c0 := bytesWritten(), cpuTime()
		b.StartTimer()
		for _, bt := range batches {
			c := *bt // Import must not depend on the caller's copy
			res, err := svc.Import(b.Context(), &c)
			if err != nil {
				b.Fatalf("import: %v", err)
			}
			if res.RecordsSkipped+res.ItemsConflicting > 0 {
				b.Fatalf("import refused records or items: %s", res)
			}
			n += res.RecordsNew
		}
		b.StopTimer()
		written += bytesWritten() - w0
		cpu += cpuTime() - c0
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
	if n > 0 && written > 0 {
		b.ReportMetric(float64(written)/float64(n), "written-B/record")
	}
	if n > 0 {
		b.ReportMetric(float64(cpu.Microseconds())/float64(n), "cpu-µs/record")
	}
}

// cpuTime returns the CPU time this process has used (user and system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// bytesWritten returns the bytes this process has passed to write system
// calls (wchar in /proc/self/io: the WAL and checkpoints), 0 where the
// file does not exist.
func bytesWritten() int64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "wchar: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

// provinceBatches groups p's holdings into per-library batches of
// catalog.DefaultBatchSize records, in the order `thuvienso bench catalog`
// imports them.
func provinceBatches(p *demo.GeneratedProvince) []*catalog.Batch {
	return slices.Collect(catalog.BatchesByLibrary(p.Holdings()))
}
