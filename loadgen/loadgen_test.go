package loadgen

import (
	"context"
	"testing"
	"time"
)

// stepClient answers its operations in turn, a tenth of them failing.
type stepClient struct{ n int }

func (c *stepClient) Next(context.Context) Sample {
	c.n++
	time.Sleep(time.Millisecond)
	s := Sample{Op: []string{"a", "b"}[c.n%2], Latency: time.Duration(c.n) * time.Microsecond}
	switch c.n % 10 {
	case 3:
		s.Outcome, s.Detail = Failed, "HTTP 500"
	case 5:
		s.Outcome, s.Detail = Expected, "NO_COPY_AVAILABLE"
	}
	return s
}

func TestRun(t *testing.T) {
	clients := []Client{&stepClient{}, &stepClient{}, &stepClient{}}
	res, err := Run(t.Context(), clients, Phase{Warmup: 5 * time.Millisecond, Duration: 30 * time.Millisecond, MinPerClient: 40})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Ops) != 2 || res.Op("a") == nil || res.Op("b") == nil || res.Op("c") != nil {
		t.Fatalf("operations %v", res.Ops)
	}
	all := res.All
	if total := all.Requests + all.Failed; total < 3*40 {
		t.Errorf("%d operations measured, want at least 120", total)
	}
	if all.Failed == 0 || all.Expected == 0 || all.Details["HTTP 500"] != all.Failed || all.Details["NO_COPY_AVAILABLE"] != all.Expected {
		t.Errorf("outcomes: %d failed, %d expected, details %v", all.Failed, all.Expected, all.Details)
	}
	if res.Op("a").Requests+res.Op("b").Requests != all.Requests {
		t.Errorf("the operations' requests do not add up to all's")
	}
	if !(all.P50 <= all.P95 && all.P95 <= all.P99 && all.P99 <= all.Max && all.P50 > 0) {
		t.Errorf("percentiles out of order: %v %v %v %v", all.P50, all.P95, all.P99, all.Max)
	}
	if all.Throughput <= 0 || res.Elapsed < 30*time.Millisecond {
		t.Errorf("throughput %v over %v", all.Throughput, res.Elapsed)
	}
}

func TestPercentile(t *testing.T) {
	var ls []time.Duration
	for i := 1; i <= 100; i++ {
		ls = append(ls, time.Duration(i))
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{0.5, 50}, {0.95, 95}, {0.99, 99}, {1, 100}, {0, 1}} {
		if got := Percentile(ls, c.p); got != c.want {
			t.Errorf("Percentile(1..100, %v) = %v, want %v", c.p, got, c.want)
		}
	}
	if Percentile(nil, 0.5) != 0 {
		t.Error("the percentile of nothing is not 0")
	}
}

func TestRunRefusesNoClients(t *testing.T) {
	if _, err := Run(t.Context(), nil, Phase{Duration: time.Second}); err == nil {
		t.Error("no error")
	}
}
