// Package sqlite owns the embedded store: one SQLite database file in WAL
// mode (pure Go, modernc.org/sqlite), its schema and migrations, and the
// implementations of the domain store interfaces on top of it
// (library.Store as LibraryStore, auth.Store as AuthStore, catalog.Store
// as CatalogStore).
//
// It is the default store when no MONGODB_URI is configured and a valid
// choice for a single-machine deployment; several processes may share one
// database file on a local disk. Each process writes through one
// connection and reads through a pool of read-only ones (see pools).
// Invariants that concurrency could break are kept with unique constraints,
// write transactions that take the write lock up front (_txlock=immediate)
// and one-statement UPDATE … WHERE … RETURNING.
// The contract every store must meet is package storetest.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	sqlitedrv "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/bacninh/thuvienso/store"
)

// dsnParams are set on every pooled connection. The driver applies
// busy_timeout first whatever the order here, so a journal-mode change never
// fails with SQLITE_BUSY while another process opens the same file.
// _txlock=immediate makes every BeginTx a write transaction from the start:
// deferred transactions that read before writing fail with SQLITE_BUSY
// regardless of the busy timeout.
//
// cache_size is each connection's page cache, 32 MiB (SQLite's default is
// 2 MiB). A catalog import batch of 500 records dirties about 1,700 pages
// (6.6 MiB): with the default cache SQLite spilled dirty pages to the WAL
// in the middle of the transaction, wrote them again when they were
// touched again, and read them back from the WAL with a system call each.
// The cache is allocated as pages are used: connections that only read
// through the memory map keep little in it.
//
// wal_autocheckpoint is 10,000 pages (40 MiB of WAL) rather than SQLite's
// 1,000. Such a batch wrote more than 1,000 pages, so every commit ran a
// checkpoint of its own, two fsyncs included: a quarter of an import's
// time went to commits. Durability is unchanged in kind: with
// synchronous(NORMAL) a commit is synced at the next checkpoint, and a
// quiet server may take as long to write 4 MiB as 40.
const dsnParams = "_pragma=journal_mode(WAL)" +
	"&_pragma=synchronous(NORMAL)" +
	"&_pragma=busy_timeout(5000)" +
	"&_pragma=foreign_keys(1)" +
	"&_pragma=mmap_size(268435456)" +
	"&_pragma=cache_size(-32768)" +
	"&_pragma=wal_autocheckpoint(10000)" +
	"&_txlock=immediate"

// maxReaders bounds the pool of connections that read, all of which stays
// open between bursts (connections past an idle limit were closed as each
// burst ended and opened again by the next, which SQLite serialises on its
// global mutexes). Readers never wait for a writer in WAL mode, and reads
// run on every core.
func maxReaders() int { return max(16, 4*runtime.GOMAXPROCS(0)) }

// pools are a database's two connection pools: one connection that writes
// and many that only read.
//
// Why one writer: SQLite has one write lock per database file, and
// connections waiting for it do not queue; each polls it from its busy
// handler, sleeping up to 100 ms between tries, until busy_timeout runs out.
// With a connection per goroutine, a burst of a thousand writers (a rush on
// one e-book) had a thousand pollers and a lock holder starved of CPU, and
// writes failed with SQLITE_BUSY; with a pool of 16, writes under the load
// test took 95 ms at the median, against 34 ms for a work page. Through one
// connection the writers of this process wait in database/sql instead, and
// each is handed the connection the moment the previous one is done (as long
// as its context allows). Several processes sharing the file still meet at
// SQLite's lock, through the busy handler.
//
// Code of this package holds one connection at a time (a transaction
// queries through itself only, rows are closed before the next query), so
// the single writer cannot deadlock; keep it so.
//
// The methods have *sql.DB's signatures, so the stores use them as they
// would a pool: BeginTx and ExecContext write, and a query goes to the
// readers only when it is a SELECT (an UPDATE … RETURNING is a query that
// writes). Reading connections are query_only: a write sent to them fails
// rather than taking the lock behind the writer's back.
//
// Statements run outside a transaction are prepared once per connection
// and kept (database/sql's *sql.Stmt does the per-connection part): the
// driver otherwise parses every statement on every call, which took 14% of
// the server's CPU under the load test. The SQL of this package is
// constant text (lists go through json_each), so the cache stays small;
// maxStatements bounds it anyway.
type pools struct {
	read, write *sql.DB

	stmts    sync.Map // SQL text → *sql.Stmt on the pool that runs it
	numStmts atomic.Int32
}

// maxStatements bounds how many statements pools keep prepared.
const maxStatements = 1024

// BeginTx begins a write transaction (BEGIN IMMEDIATE) on the writer.
func (p *pools) BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error) {
	return p.write.BeginTx(ctx, opts)
}

// ExecContext runs a statement that writes, on the writer.
func (p *pools) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st := p.prepared(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return p.write.ExecContext(ctx, q, args...)
}

// QueryContext runs q on a reader when it is a SELECT, else on the writer.
func (p *pools) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := p.prepared(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return p.pool(q).QueryContext(ctx, q, args...)
}

// QueryRowContext runs q on a reader when it is a SELECT, else on the
// writer.
func (p *pools) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if st := p.prepared(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return p.pool(q).QueryRowContext(ctx, q, args...)
}

// prepared returns q prepared on the pool that runs it, or nil when it
// cannot be kept (the cache is full, or preparing failed: running q
// unprepared then reports the error as the caller expects it).
func (p *pools) prepared(ctx context.Context, q string) *sql.Stmt {
	if st, ok := p.stmts.Load(q); ok {
		return st.(*sql.Stmt)
	}
	if p.numStmts.Load() >= maxStatements {
		return nil
	}
	// Preparing takes a connection only for a moment and never waits for
	// the caller's own (see the note on one connection at a time).
	st, err := p.pool(q).PrepareContext(ctx, q)
	if err != nil {
		return nil
	}
	if prev, loaded := p.stmts.LoadOrStore(q, st); loaded {
		st.Close()
		return prev.(*sql.Stmt)
	}
	p.numStmts.Add(1)
	return st
}

// pool returns the pool that runs q.
func (p *pools) pool(q string) *sql.DB {
	q = strings.TrimLeft(q, " \t\r\n(")
	if len(q) >= 6 && strings.EqualFold(q[:6], "SELECT") {
		return p.read
	}
	return p.write
}

// close closes both pools.
func (p *pools) close() error {
	p.stmts.Range(func(_, st any) bool {
		st.(*sql.Stmt).Close()
		return true
	})
	return errors.Join(p.read.Close(), p.write.Close())
}

// DB is an open SQLite database with the schema migrated to the latest
// version. It is safe for concurrent use.
type DB struct {
	sql *pools
}

// Open opens (creating when missing) the database file at path, checks that
// it is in WAL mode and applies the migrations it has not seen yet. Two
// processes may Open the same file at once: migrations run in one
// immediate transaction, so the second waits and then finds them applied.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlite: open %q: the path must be a plain file name", path)
	}
	if path == ":memory:" {
		return nil, fmt.Errorf("sqlite: open: in-memory databases are not supported (every pooled connection would see its own)")
	}
	// sql.Open only checks its arguments: the first query connects.
	write, err := sql.Open("sqlite", path+"?"+dsnParams)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	read, err := sql.Open("sqlite", path+"?"+dsnParams+"&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	read.SetMaxOpenConns(maxReaders())
	read.SetMaxIdleConns(maxReaders())
	d := &DB{sql: &pools{read: read, write: write}}
	// The writer opens first: it may have to create the file and switch
	// it to WAL, which a query_only connection cannot.
	if err := retryBusy(ctx, d.checkJournalMode); err != nil {
		d.sql.close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := retryBusy(ctx, d.migrate); err != nil {
		d.sql.close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return d, nil
}

// openBusyWait bounds how long Open retries a step that failed with
// SQLITE_BUSY.
const openBusyWait = 10 * time.Second

// retryBusy runs step until it does not fail with SQLITE_BUSY, for at most
// openBusyWait. When processes open a new file at once, the switch to WAL
// of one can fail with SQLITE_BUSY without waiting for busy_timeout: SQLite
// answers at once where waiting could deadlock (a connection that read
// first and then needs the write lock another one wants too).
func retryBusy(ctx context.Context, step func(context.Context) error) error {
	deadline := time.Now().Add(openBusyWait)
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		err := step(ctx)
		var se *sqlitedrv.Error
		if err == nil || !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

// checkJournalMode fails unless the pragmas of the DSN took effect: the
// driver silently ignores keys it does not know.
func (d *DB) checkJournalMode(ctx context.Context) error {
	var mode string
	if err := d.sql.write.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("reading journal_mode: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal_mode is %q, want wal", mode)
	}
	return nil
}

// Stores returns every domain store of this database. Close of the Set
// closes d.
func (d *DB) Stores() *store.Set {
	return &store.Set{
		Kind:        "sqlite",
		Libraries:   &LibraryStore{db: d.sql},
		Auth:        &AuthStore{db: d.sql},
		Ebooks:      &EbookStore{db: d.sql},
		Events:      &EventStore{db: d.sql},
		Catalog:     &CatalogStore{db: d.sql},
		Cards:       &CardStore{db: d.sql},
		Circulation: &CirculationStore{db: d.sql},
		Ping:        d.Ping,
		Close:       func(context.Context) error { return d.Close() },
		SQLPools:    map[string]*sql.DB{"read": d.sql.read, "write": d.sql.write},

		Notifications: &NotificationStore{db: d.sql},
	}
}

// Ping reports whether the database answers a query.
func (d *DB) Ping(ctx context.Context) error {
	var one int
	if err := d.sql.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// Close closes every connection of the pool.
func (d *DB) Close() error {
	if err := d.sql.close(); err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	return nil
}

// SchemaVersion returns the highest migration applied to the database.
func (d *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v sql.NullInt64
	if err := d.sql.QueryRowContext(ctx, "SELECT max(version) FROM schema_migrations").Scan(&v); err != nil {
		return 0, fmt.Errorf("sqlite: schema version: %w", err)
	}
	return int(v.Int64), nil
}

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one numbered schema change, from migrations/NNNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in version order.
func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	seen := map[int]string{}
	for _, e := range entries {
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration file %s: want NNNN_name.sql", e.Name())
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %s and %s share version %d", prev, e.Name(), v)
		}
		seen[v] = e.Name()
		b, err := migrationFiles.ReadFile(path.Join("migrations", e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: name, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// migrate applies, in one immediate transaction, every migration not yet
// recorded in schema_migrations.
func (d *DB) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return fmt.Errorf("reading migrations: %w", err)
	}
	tx, err := d.sql.BeginTx(ctx, nil) // BEGIN IMMEDIATE: one migrator at a time
	if err != nil {
		return fmt.Errorf("migrating: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at TEXT NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("creating schema_migrations: %w", err)
	}
	applied := map[int]bool{}
	rows, err := tx.QueryContext(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return fmt.Errorf("reading schema_migrations: %w", err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fmt.Errorf("reading schema_migrations: %w", err)
		}
		applied[v] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading schema_migrations: %w", err)
	}
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
		}
		if _, err := tx.ExecContext(ctx,
			"INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
			m.version, m.name, fmtTime(time.Now())); err != nil {
			return fmt.Errorf("recording migration %d: %w", m.version, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing migrations: %w", err)
	}
	return nil
}

// timeLayout is fixed width, so stored times sort and compare as text, and
// keeps nanoseconds, so they round-trip exactly.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

// fmtTime formats t in UTC for storage.
func fmtTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// fmtTimePtr formats t, or returns NULL for nil.
func fmtTimePtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return fmtTime(*t)
}

// parseTime reads a stored time back as UTC.
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored time %q: %w", s, err)
	}
	return t.UTC(), nil
}

// parseTimePtr reads a nullable stored time.
func parseTimePtr(s sql.NullString) (*time.Time, error) {
	if !s.Valid {
		return nil, nil
	}
	t, err := parseTime(s.String)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// nullIfEmpty stores "" as NULL, so optional unique values never collide.
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// newID returns a new time-ordered ID for a row the caller gave none.
func newID() string { return uuid.Must(uuid.NewV7()).String() }

// uniqueViolation reports whether err is a UNIQUE or PRIMARY KEY constraint
// failure, and on which "table.column" list SQLite names.
func uniqueViolation(err error) (columns string, ok bool) {
	var se *sqlitedrv.Error
	if !errors.As(err, &se) {
		return "", false
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
	default:
		return "", false
	}
	// The message reads "UNIQUE constraint failed: accounts.email".
	msg := se.Error()
	if _, cols, found := strings.Cut(msg, "constraint failed: "); found {
		return cols, true
	}
	return msg, true
}

// jsonArray encodes ids as a JSON array for `IN (SELECT value FROM json_each(?))`,
// which needs one bind variable however many ids a batch has.
func jsonArray(ids []string) string {
	if ids == nil {
		ids = []string{}
	}
	b, _ := json.Marshal(ids) // a []string always encodes
	return string(b)
}

// compareAndSet finishes an UPDATE guarded by the row's version: when it
// changed no row, the row is either gone (the error of exists, NOT_FOUND)
// or was changed meanwhile (stale, wrapped with what).
func compareAndSet(res sql.Result, exists func() error, what string, stale error) error {
	if n, _ := res.RowsAffected(); n > 0 {
		return nil
	}
	if err := exists(); err != nil {
		return err
	}
	return fmt.Errorf("%s: %w", what, stale)
}
