package server

import (
	"context"
	"net/http"
	"sync/atomic"

	"golang.org/x/sync/semaphore"

	"github.com/bacninh/thuvienso"
)

// admission bounds how many GraphQL operations run at once, and lets the
// others wait their turn in arrival order.
//
// Why: the operations of one instance share a few cores. With every request
// running at once, each gets a sliver of CPU, so a request's latency grows
// with everything else in flight; an operation holding a lock others wait
// for (the embedded store's one writer) is slowed as much as the rest, and
// so is everyone queued behind it. Under the load test, 50 clients on 2
// cores, a write waited 38 ms on average for the writer. Run a few at a
// time in arrival order, each finishes in about its own time, and the wait
// is one queue, the same for every operation.
//
// WebSocket connections (subscriptions) are not counted: they live for
// hours and use no CPU while idle. Cached answers are served before
// admission.
type admission struct {
	sem     *semaphore.Weighted
	waiting atomic.Int64
	running atomic.Int64
}

func newAdmission(limit int) *admission {
	if limit <= 0 {
		return nil
	}
	return &admission{sem: semaphore.NewWeighted(int64(limit))}
}

// admit wraps next: a request waits for a slot before it runs; one whose
// context ends while it waits (the client left, the request timeout) is
// answered 503 with RATE_LIMITED, to be retried.
func (s *Server) admit(next http.Handler) http.Handler {
	a := s.admission
	if a == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isUpgrade(r) {
			next.ServeHTTP(w, r)
			return
		}
		a.waiting.Add(1)
		err := a.sem.Acquire(r.Context(), 1)
		a.waiting.Add(-1)
		if err != nil {
			s.refuseBusy(w, r)
			return
		}
		a.running.Add(1)
		defer func() {
			a.running.Add(-1)
			a.sem.Release(1)
		}()
		next.ServeHTTP(w, r)
	})
}

// errBusy is the answer to a request that waited for a slot until its
// context ended.
var errBusy = thuvienso.E(thuvienso.CodeRateLimited,
	"the server is busy; try again in a moment",
	"máy chủ đang bận; vui lòng thử lại sau giây lát")

func (s *Server) refuseBusy(w http.ResponseWriter, r *http.Request) {
	e := *errBusy
	e.RetryAfterSeconds = 1
	w.Header().Set("Retry-After", "1")
	writeResponse(w, responseMediaType(r), http.StatusServiceUnavailable, graphqlErrors(s.presentError(context.WithoutCancel(r.Context()), &e)))
}
