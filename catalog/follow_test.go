package catalog

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

func seqs(cs []Change) []int64 {
	var out []int64
	for _, c := range cs {
		out = append(out, c.Seq)
	}
	return out
}

func changes(ss ...int64) []Change {
	var out []Change
	for _, s := range ss {
		out = append(out, Change{Seq: s, WorkID: "w"})
	}
	return out
}

func TestFollowerNext(t *testing.T) {
	t0 := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	f := &Follower{Grace: 2 * time.Second}

	// Contiguous changes are all taken.
	ready, w := f.Next(changes(1, 2, 3), t0)
	if !slices.Equal(seqs(ready), []int64{1, 2, 3}) || w != 3 {
		t.Fatalf("contiguous: %v up to %d", seqs(ready), w)
	}
	f.After = w

	// A young gap (5 is written, 4 not yet): stop before it.
	ready, w = f.Next(changes(5, 6), t0.Add(time.Second))
	if len(ready) != 0 || w != 3 {
		t.Fatalf("young gap: %v up to %d", seqs(ready), w)
	}
	// 4 arrives within the grace period: everything in order.
	ready, w = f.Next(changes(4, 5, 6), t0.Add(2500*time.Millisecond))
	if !slices.Equal(seqs(ready), []int64{4, 5, 6}) || w != 6 {
		t.Fatalf("filled gap: %v up to %d", seqs(ready), w)
	}
	f.After = w

	// 7 never comes: held back until the gap is older than Grace, measured
	// from when this follower first saw it, then skipped.
	now := t0.Add(time.Minute)
	for _, d := range []time.Duration{0, time.Second, 1999 * time.Millisecond} {
		ready, w = f.Next(changes(8, 9), now.Add(d))
		if len(ready) != 0 || w != 6 {
			t.Fatalf("gap seen for %v: %v up to %d", d, seqs(ready), w)
		}
	}
	ready, w = f.Next(changes(8, 9, 11), now.Add(2*time.Second))
	if !slices.Equal(seqs(ready), []int64{8, 9}) || w != 9 {
		t.Fatalf("old gap: %v up to %d", seqs(ready), w)
	}
	f.After = w
	// 10 is a new gap: its clock starts now.
	ready, w = f.Next(changes(11), now.Add(3*time.Second))
	if len(ready) != 0 || w != 9 {
		t.Fatalf("second gap: %v up to %d", seqs(ready), w)
	}
	// Duplicates and old changes are ignored.
	ready, w = f.Next(changes(3, 9, 10, 10, 11), now.Add(4*time.Second))
	if !slices.Equal(seqs(ready), []int64{10, 11}) || w != 11 {
		t.Fatalf("duplicates: %v up to %d", seqs(ready), w)
	}
	// The default grace applies when Grace is zero.
	g := &Follower{After: 11}
	if ready, _ := g.Next(changes(13), now); len(ready) != 0 {
		t.Fatal("a zero Grace skipped a fresh gap")
	}
	if ready, _ := g.Next(changes(13), now.Add(DefaultGrace)); len(ready) != 1 {
		t.Fatal("DefaultGrace did not skip an old gap")
	}
}

// fakeChanges serves a growing, gap-free sequence.
type fakeChanges struct {
	mu sync.Mutex
	cs []Change
}

func (f *fakeChanges) Changes(_ context.Context, after int64, limit int) ([]Change, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Change
	for _, c := range f.cs {
		if c.Seq > after && len(out) < limit {
			out = append(out, c)
		}
	}
	return out, nil
}

func TestFollow(t *testing.T) {
	src := &fakeChanges{cs: changes(1, 2, 3, 4, 5)}
	f := &Follower{}
	ctx, cancel := context.WithCancel(t.Context())
	var got []int64
	err := Follow(ctx, src, f, time.Millisecond, 2, func(_ context.Context, cs []Change) error {
		got = append(got, seqs(cs)...)
		if len(got) == 5 {
			src.mu.Lock()
			src.cs = append(src.cs, changes(6)...)
			src.mu.Unlock()
		}
		if len(got) == 6 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Follow: %v", err)
	}
	if !slices.Equal(got, []int64{1, 2, 3, 4, 5, 6}) || f.After != 6 {
		t.Fatalf("followed %v, watermark %d", got, f.After)
	}
	boom := errors.New("index full")
	err = Follow(t.Context(), &fakeChanges{cs: changes(7)}, f, time.Millisecond, 10, func(context.Context, []Change) error { return boom })
	if !errors.Is(err, boom) || f.After != 6 {
		t.Fatalf("a failing handler: %v, watermark %d", err, f.After)
	}
}
