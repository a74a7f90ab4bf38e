package notifications_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bacninh/thuvienso/circulation"
	"github.com/bacninh/thuvienso/lock"
	"github.com/bacninh/thuvienso/notifications"
)

// batchSender passes pushes on and remembers the size of the largest
// batch it was given.
type batchSender struct {
	notifications.Sender
	calls, largest atomic.Int64
}

func (b *batchSender) Send(ctx context.Context, msgs []notifications.Message) []notifications.Result {
	b.calls.Add(1)
	for {
		l := b.largest.Load()
		if int64(len(msgs)) <= l || b.largest.CompareAndSwap(l, int64(len(msgs))) {
			break
		}
	}
	return b.Sender.Send(ctx, msgs)
}

// cpuSample is the machine's CPU time and this process's, in clock ticks
// (Linux: /proc/stat and /proc/self/stat); ok is false elsewhere.
type cpuSample struct {
	busy, total, own float64
	ok               bool
}

func sampleCPU() cpuSample {
	stat, err1 := os.ReadFile("/proc/stat")
	self, err2 := os.ReadFile("/proc/self/stat")
	if err1 != nil || err2 != nil {
		return cpuSample{}
	}
	var c cpuSample
	line, _, _ := strings.Cut(string(stat), "\n")
	for i, f := range strings.Fields(line)[1:] {
		v, _ := strconv.ParseFloat(f, 64)
		c.total += v
		if i != 3 && i != 4 { // idle, iowait
			c.busy += v
		}
	}
	// The command may hold spaces: fields are counted after its ")".
	rest := string(self)[strings.LastIndexByte(string(self), ')')+2:]
	fs := strings.Fields(rest)
	if len(fs) < 13 {
		return cpuSample{}
	}
	utime, _ := strconv.ParseFloat(fs[11], 64)
	stime, _ := strconv.ParseFloat(fs[12], 64)
	c.own, c.ok = utime+stime, true
	return c
}

// othersShare is the share of the machine's CPU that other processes used
// between a and b, or -1 when unknown.
func othersShare(a, b cpuSample) float64 {
	if !a.ok || !b.ok || b.total <= a.total {
		return -1
	}
	return max(0, (b.busy-a.busy)-(b.own-a.own)) / (b.total - a.total)
}

// scaleResult is what a run at scale did.
type scaleResult struct {
	elapsed        time.Duration
	created        int
	pushes         int
	batches        int64
	largestBatch   int64
	setup          time.Duration
	distinctPushes int
	// rescan is the next pass, which reads every loan again and finds
	// every reminder made: the steady cost of a scan.
	rescan time.Duration
	// others is the share of the machine's CPU other processes used
	// during the timed pass (-1: unknown).
	others float64
}

// dueSoonAtScale stores n readers, each with a phone and a loan due three
// days from now, then times one dispatcher pass (under its lock, as the
// server runs it): the due-soon reminders are created and pushed to the
// fake FCM server through the Firebase Admin SDK. It fails tb unless every
// reminder was created once and pushed once, in batches of at most 500.
func dueSoonAtScale(tb testing.TB, n int) scaleResult {
	tb.Helper()
	e := newEnv(tb)
	e.fcm.Lean()
	ctx := context.Background()
	start := time.Now()
	now := e.clock.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	workers := 4
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				id := fmt.Sprintf("reader-%06d", i)
				if err := e.stores.Notifications.SaveDevice(ctx, &notifications.Device{Token: "fcm-token-" + id, ReaderID: id,
					Platform: notifications.Android, Locale: "vi", RegisteredAt: now}); err != nil {
					errs <- err
					return
				}
				if err := e.stores.Circulation.CreateLoan(ctx, &circulation.Loan{ID: fmt.Sprintf("loan-%06d", i), ReaderID: id,
					Barcode: fmt.Sprintf("BC-%06d", i), WorkID: "work-so-do", LibraryID: "lib-tuson", ItemLibraryID: "lib-tuson",
					State: circulation.LoanActive, CheckedOutAt: now.Add(-11 * 24 * time.Hour), DueAt: now.Add(72 * time.Hour)}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		tb.Fatal(err)
	}
	res := scaleResult{setup: time.Since(start)}

	sender := &batchSender{Sender: e.fcm.Sender(tb)}
	svc := notifications.NewService(e.stores.Notifications, sender, notifications.WithClock(e.clock.Now),
		notifications.WithLogger(quiet), notifications.WithDescriber(func(_ context.Context, data map[string]string) map[string]string {
			return map[string]string{"title": "Số đỏ"}
		}))
	disp := notifications.NewDispatcher(svc, e.stores.Events, lock.NewMemory(), notifications.DefaultDispatcherConfig(),
		notifications.CirculationLoanSource{Loans: e.stores.Circulation, Reminds: notifications.DueSoon})
	runtime.GC()

	start = time.Now()
	before := sampleCPU()
	rep, err := disp.Pass(ctx)
	res.elapsed = time.Since(start)
	res.others = othersShare(before, sampleCPU())
	if err != nil {
		tb.Fatalf("Pass: %v", err)
	}
	res.created, res.pushes = rep.Reminders, rep.Pushes.Sent
	res.batches, res.largestBatch = sender.calls.Load(), sender.largest.Load()

	if rep.Reminders != n || rep.Pushes.Sent != n || rep.Pushes.Messages != n {
		tb.Fatalf("one pass made %d reminders and %d pushes in %d messages, want %d each (%+v)",
			rep.Reminders, rep.Pushes.Sent, rep.Pushes.Messages, n, rep)
	}
	if res.largestBatch > 500 {
		tb.Fatalf("a batch of %d pushes, want at most 500", res.largestBatch)
	}
	seen := make(map[string]struct{}, n)
	for _, r := range e.fcm.Requests() {
		data, _ := r.Message["data"].(map[string]any)
		if r.Answer != 200 || data["kind"] != string(notifications.DueSoon) {
			tb.Fatalf("the fake FCM server got %+v", r)
		}
		seen[fmt.Sprintf("%s %v", r.Token, data["notificationId"])] = struct{}{}
	}
	res.distinctPushes = len(seen)
	if got := len(e.fcm.Requests()); got != n || res.distinctPushes != n {
		tb.Fatalf("the fake FCM server got %d requests for %d distinct (token, notification) pairs, want %d of each", got, res.distinctPushes, n)
	}
	e.clock.Add(2 * time.Minute) // the next scan finds every reminder made
	start = time.Now()
	again, err := disp.Pass(ctx)
	res.rescan = time.Since(start)
	if err != nil || again.Reminders != 0 || again.Pushes.Messages != 0 {
		tb.Fatalf("the next pass did %+v, %v; want nothing", again, err)
	}
	return res
}

// A round of more than one batch at a smaller scale, in every test run.
func TestManyRemindersArePushedOnceInBatchesOfAtMost500(t *testing.T) {
	res := dueSoonAtScale(t, 1_234)
	if res.batches < 3 {
		t.Fatalf("%d batches for 1,234 pushes, want at least 3", res.batches)
	}
}

// BenchmarkNotifications100k: 100,000 loans due in three days become
// 100,000 DUE_SOON notifications, pushed to the fake FCM server through
// the Firebase Admin SDK in batches of at most 500, each once. Run it
// without -race:
//
//	go test -run '^$' -bench Notifications100k -benchtime 1x ./notifications/
//
// THUVIENSO_BENCH_LOANS sets another number of loans.
func BenchmarkNotifications100k(b *testing.B) {
	n := 100_000
	if v := os.Getenv("THUVIENSO_BENCH_LOANS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			b.Fatalf("THUVIENSO_BENCH_LOANS=%q", v)
		}
	}
	var total time.Duration
	for range b.N {
		b.StopTimer()
		res := dueSoonAtScale(b, n)
		b.StartTimer()
		total += res.elapsed
		b.Logf("%d loans: set up in %v; one pass created %d notifications and sent %d pushes in %d batches (largest %d) in %v: %.0f notifications/s "+
			"(other processes used %.0f%% of the machine's CPU meanwhile); the next scan, finding nothing to do, took %v",
			n, res.setup.Round(time.Millisecond), res.created, res.pushes, res.batches, res.largestBatch,
			res.elapsed.Round(time.Millisecond), float64(n)/res.elapsed.Seconds(), 100*res.others, res.rescan.Round(time.Millisecond))
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s/pass")
	b.ReportMetric(float64(n*b.N)/total.Seconds(), "notifications/s")
	b.ReportMetric(0, "ns/op")
}
