package server

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// With MaxConcurrentOperations set, operations beyond the bound wait for a
// slot and then run; one whose request ends while waiting is told the
// server is busy (503, RATE_LIMITED, Retry-After), in the reader's language.
func TestAdmissionBoundsOperationsRunningAtOnce(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.MaxConcurrentOperations = 1 })
	a := f.srv.admission
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 5 s (running %d, waiting %d)", what, a.running.Load(), a.waiting.Load())
			}
			time.Sleep(time.Millisecond)
		}
	}

	// A slow operation takes the one slot until its client leaves.
	slowCtx, leave := context.WithCancel(context.Background())
	slowDone := make(chan struct{})
	go func() {
		defer close(slowDone)
		f.do(t, postReq(gqlBody(`{ slow }`)).WithContext(slowCtx))
	}()
	waitFor("the slow operation runs", func() bool { return a.running.Load() == 1 })

	// An operation whose request ends while it waits is refused as busy.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	busy := f.do(t, postReq(gqlBody(`{ hello }`), "Accept-Language", "en").WithContext(ctx))
	if busy.status != http.StatusServiceUnavailable || busy.gql.code(0) != "RATE_LIMITED" || busy.header.Get("Retry-After") != "1" {
		t.Fatalf("a request that waited out its time: %d %s %q", busy.status, busy.body, busy.header.Get("Retry-After"))
	}
	if !strings.Contains(busy.gql.Errors[0].Message, "busy") {
		t.Errorf("message %q, want the English one", busy.gql.Errors[0].Message)
	}
	vi := f.do(t, postReq(gqlBody(`{ hello }`)).WithContext(ctx))
	if !strings.Contains(vi.gql.Errors[0].Message, "bận") {
		t.Errorf("message %q, want the Vietnamese one by default", vi.gql.Errors[0].Message)
	}

	// One that can wait runs once the slot is free.
	answered := make(chan result, 1)
	go func() { answered <- f.do(t, postReq(gqlBody(`{ hello }`))) }()
	waitFor("the next operation waits", func() bool { return a.waiting.Load() == 1 })
	select {
	case r := <-answered:
		t.Fatalf("answered while the slot was taken: %s", r.body)
	case <-time.After(20 * time.Millisecond):
	}
	leave()
	<-slowDone
	if r := <-answered; r.status != http.StatusOK || r.gql.Data["hello"] != "hello world" {
		t.Fatalf("the waiting operation: %d %s", r.status, r.body)
	}
	if a.running.Load() != 0 || a.waiting.Load() != 0 {
		t.Errorf("after all: running %d, waiting %d", a.running.Load(), a.waiting.Load())
	}
}
