package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The store's statements reach the right connections: reads run on the
// read-only pool, writes (an UPDATE … RETURNING read through QueryRow
// included) on the one writer, and prepared statements are kept, up to
// maxStatements, without changing any answer.
func TestPoolsRouteReadsAndWrites(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "pools.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	p := d.sql
	if _, err := p.ExecContext(ctx, `CREATE TABLE counters (name TEXT PRIMARY KEY, n INTEGER NOT NULL) STRICT`); err != nil {
		t.Fatal(err)
	}
	if _, err := p.ExecContext(ctx, `INSERT INTO counters VALUES ('a', 0)`); err != nil {
		t.Fatal(err)
	}

	// A write sent to a reader is refused: the readers cannot take the
	// write lock behind the writer's back.
	if _, err := p.read.ExecContext(ctx, `UPDATE counters SET n = n + 1`); err == nil || !strings.Contains(err.Error(), "readonly") {
		t.Errorf("a write on a reading connection: %v, want a read-only error", err)
	}

	// Many goroutines increment through UPDATE … RETURNING (a query that
	// writes) and read through SELECT: every increment lands once.
	const workers, each = 16, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*each*2)
	for range workers {
		wg.Go(func() {
			for range each {
				var n int
				if err := p.QueryRowContext(ctx, `UPDATE counters SET n = n + 1 WHERE name = 'a' RETURNING n`).Scan(&n); err != nil {
					errs <- fmt.Errorf("increment: %w", err)
				}
				if err := p.QueryRowContext(ctx, `  select n FROM counters WHERE name = ?`, "a").Scan(&n); err != nil {
					errs <- fmt.Errorf("read: %w", err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var n int
	if err := p.QueryRowContext(ctx, `SELECT n FROM counters WHERE name = 'a'`).Scan(&n); err != nil || n != workers*each {
		t.Errorf("counter = %d, %v; want %d", n, err, workers*each)
	}

	// Statements past the bound run unprepared, with the same answers.
	for i := range maxStatements + 10 {
		var got int
		if err := p.QueryRowContext(ctx, fmt.Sprintf(`SELECT %d`, i)).Scan(&got); err != nil || got != i {
			t.Fatalf("SELECT %d = %d, %v", i, got, err)
		}
	}
	if kept := p.numStmts.Load(); kept != maxStatements {
		t.Errorf("%d statements kept prepared, want the bound %d", kept, maxStatements)
	}
	// A statement SQLite refuses reports its error, prepared or not.
	if err := p.QueryRowContext(ctx, `SELECT nope FROM counters`).Scan(&n); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("a bad statement: %v, want SQLite's error", err)
	}
}
