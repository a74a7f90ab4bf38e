// Package loadgen drives a closed loop of concurrent clients against a
// service and records the latency of every operation they run: each client
// runs one operation, waits for its answer, and runs the next, so the load
// is the number of clients, never a rate the service cannot keep up with.
//
// Latencies are kept exactly (every sample, sorted at the end), so the
// percentiles are the measured ones, not a histogram's approximation; a run
// of a few minutes holds a few million samples at most.
package loadgen

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"
)

// Outcome is how an operation ended.
type Outcome int

const (
	// OK is an answer without error.
	OK Outcome = iota
	// Expected is an answer with a business outcome the workload counts
	// as normal (a copy taken by another reader, say): counted apart,
	// not an error.
	Expected
	// Failed is a transport error, an unexpected HTTP status or an
	// unexpected GraphQL error.
	Failed
)

// Sample is one operation a client ran.
type Sample struct {
	// Op names the operation (a row of the report).
	Op string
	// Latency is the time from sending the request to reading the whole
	// answer.
	Latency time.Duration
	Outcome Outcome
	// Detail says what an Expected or Failed outcome was (an error code,
	// a status, a message), for the error counts.
	Detail string
}

// Client runs one operation at a time. Next runs the next one and
// reports it; it is called from one goroutine only.
type Client interface {
	Next(ctx context.Context) Sample
}

// OpStats are the measurements of one operation in one run.
type OpStats struct {
	Op string
	// Requests counts the answered operations (OK and Expected); Failed
	// and Expected count those outcomes.
	Requests, Failed, Expected int
	// Throughput is Requests per second of the measured window.
	Throughput float64
	// Latency percentiles of the answered operations (nearest rank).
	P50, P95, P99, Max time.Duration
	// Details counts each Detail of the Expected and Failed outcomes.
	Details map[string]int
}

// Result is one run: every operation's measurements and all of them
// together.
type Result struct {
	Clients int
	// Elapsed is the measured window (after the warm-up).
	Elapsed time.Duration
	// Ops are the operations in the order they were first seen, by
	// name; All sums them.
	Ops []*OpStats
	All *OpStats
}

// Op returns the measurements of the operation named op, nil when it
// never ran.
func (r *Result) Op(op string) *OpStats {
	for _, s := range r.Ops {
		if s.Op == op {
			return s
		}
	}
	return nil
}

// Phase is how long clients run.
type Phase struct {
	// Warmup runs first; its operations are dropped.
	Warmup time.Duration
	// Duration is the measured window.
	Duration time.Duration
	// MinPerClient, when set, keeps each client going past Duration until
	// it has run that many measured operations (for tests on a slow or
	// busy machine).
	MinPerClient int
}

// Run runs clients concurrently in a closed loop through the phase.
// Operations in flight at the end are waited for and counted when they
// started within the measured window; the window's length is the time to
// the last client's end.
func Run(ctx context.Context, clients []Client, ph Phase) (*Result, error) {
	if len(clients) == 0 || ph.Duration <= 0 {
		return nil, errors.New("loadgen: no clients or no duration")
	}
	measureFrom := time.Now().Add(ph.Warmup)
	deadline := measureFrom.Add(ph.Duration)
	recs := make([]*recorder, len(clients))
	ends := make([]time.Time, len(clients))
	var wg sync.WaitGroup
	for i, c := range clients {
		recs[i] = newRecorder()
		wg.Go(func() {
			for ctx.Err() == nil {
				t := time.Now()
				if !t.Before(deadline) && recs[i].n >= ph.MinPerClient {
					break
				}
				s := c.Next(ctx)
				if !t.Before(measureFrom) {
					recs[i].add(s)
				}
			}
			ends[i] = time.Now()
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	elapsed := ph.Duration
	for _, e := range ends {
		elapsed = max(elapsed, e.Sub(measureFrom))
	}
	return merge(recs, len(clients), elapsed), nil
}

// recorder holds one client's samples.
type recorder struct {
	n     int // samples
	order []string
	ops   map[string]*opSamples
}

type opSamples struct {
	latencies        []time.Duration
	failed, expected int
	details          map[string]int
}

func newRecorder() *recorder { return &recorder{ops: map[string]*opSamples{}} }

func (r *recorder) add(s Sample) {
	r.n++
	o := r.ops[s.Op]
	if o == nil {
		o = &opSamples{details: map[string]int{}}
		r.ops[s.Op] = o
		r.order = append(r.order, s.Op)
	}
	switch s.Outcome {
	case Failed:
		o.failed++
		o.details[s.Detail]++
		return
	case Expected:
		o.expected++
		o.details[s.Detail]++
	}
	o.latencies = append(o.latencies, s.Latency)
}

// merge sums the clients' recorders into a Result.
func merge(recs []*recorder, clients int, elapsed time.Duration) *Result {
	res := &Result{Clients: clients, Elapsed: elapsed}
	byOp := map[string]*opSamples{}
	var order []string
	for _, r := range recs {
		for _, op := range r.order {
			dst := byOp[op]
			if dst == nil {
				dst = &opSamples{details: map[string]int{}}
				byOp[op] = dst
				order = append(order, op)
			}
			dst.absorb(r.ops[op])
		}
	}
	all := &opSamples{details: map[string]int{}}
	for _, op := range order {
		o := byOp[op]
		res.Ops = append(res.Ops, o.stats(op, elapsed))
		all.absorb(o)
	}
	res.All = all.stats("all", elapsed)
	return res
}

func (o *opSamples) absorb(src *opSamples) {
	o.latencies = append(o.latencies, src.latencies...)
	o.failed += src.failed
	o.expected += src.expected
	for k, v := range src.details {
		o.details[k] += v
	}
}

func (o *opSamples) stats(op string, elapsed time.Duration) *OpStats {
	slices.Sort(o.latencies)
	n := len(o.latencies)
	return &OpStats{
		Op: op, Requests: n, Failed: o.failed, Expected: o.expected,
		Throughput: float64(n) / elapsed.Seconds(),
		P50:        Percentile(o.latencies, 0.50), P95: Percentile(o.latencies, 0.95),
		P99: Percentile(o.latencies, 0.99), Max: Percentile(o.latencies, 1),
		Details: o.details,
	}
}

// Percentile returns the p-quantile (0–1) of sorted latencies by nearest
// rank, 0 for none.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
