package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/ebooks"
)

// EbookStore implements ebooks.Store on SQLite. Seats are taken and given
// back in one immediate transaction each (the seat row and the license's
// counters together); loans and holds change by compare-and-set on their
// version in one UPDATE.
type EbookStore struct {
	db *pools
}

var _ ebooks.Store = (*EbookStore)(nil)

// rowScanner is *sql.Row or *sql.Rows.
type rowScanner interface{ Scan(...any) error }

// queryAll runs q and scans every row with scan.
func queryAll[T any](ctx context.Context, db querier, scan func(rowScanner) (T, error), q string, args ...any) ([]T, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// ---- titles

const titleColumns = `id, work_id, format, name, authors, language, publisher, summary, content_ref, search_text, created_at`

func scanTitle(r rowScanner) (*ebooks.Title, error) {
	var (
		t                  ebooks.Title
		format, authors, c string
	)
	if err := r.Scan(&t.ID, &t.WorkID, &format, &t.Name, &authors, &t.Language, &t.Publisher, &t.Summary,
		&t.ContentRef, &t.SearchText, &c); err != nil {
		return nil, err
	}
	t.Format = ebooks.Format(format)
	if err := json.Unmarshal([]byte(authors), &t.Authors); err != nil {
		return nil, fmt.Errorf("title %s authors: %w", t.ID, err)
	}
	var err error
	if t.CreatedAt, err = parseTime(c); err != nil {
		return nil, err
	}
	return &t, nil
}

// CreateTitle implements ebooks.Store.
func (s *EbookStore) CreateTitle(ctx context.Context, t *ebooks.Title) error {
	if t.ID == "" {
		t.ID = newID()
	}
	authors := t.Authors
	if authors == nil {
		authors = []string{}
	}
	a, _ := json.Marshal(authors)
	_, err := s.db.ExecContext(ctx, `INSERT INTO ebook_titles (`+titleColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?)`,
		t.ID, t.WorkID, string(t.Format), t.Name, string(a), t.Language, t.Publisher, t.Summary, t.ContentRef,
		t.SearchText, fmtTime(t.CreatedAt))
	if _, dup := uniqueViolation(err); dup {
		err = ebooks.ErrTitleExists
	}
	if err != nil {
		return fmt.Errorf("creating e-book title: %w", err)
	}
	return nil
}

// Title implements ebooks.Store.
func (s *EbookStore) Title(ctx context.Context, id string) (*ebooks.Title, error) {
	t, err := scanTitle(s.db.QueryRowContext(ctx, `SELECT `+titleColumns+` FROM ebook_titles WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = thuvienso.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("e-book title %s: %w", id, err)
	}
	return t, nil
}

// TitlesByID implements ebooks.Store.
func (s *EbookStore) TitlesByID(ctx context.Context, ids []string) ([]*ebooks.Title, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	ts, err := queryAll(ctx, s.db, scanTitle, `SELECT `+titleColumns+` FROM ebook_titles
		WHERE id IN (SELECT value FROM json_each(?))`, jsonArray(ids))
	if err != nil {
		return nil, fmt.Errorf("e-book titles by id: %w", err)
	}
	return ts, nil
}

// Titles implements ebooks.Store.
func (s *EbookStore) Titles(ctx context.Context, q ebooks.TitleQuery) ([]*ebooks.Title, error) {
	limit := q.Limit
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	where, args := []string{"id > ?"}, []any{q.AfterID}
	if q.Format != "" {
		where, args = append(where, "format = ?"), append(args, string(q.Format))
	}
	if q.Text != "" {
		where, args = append(where, "instr(search_text, ?) > 0"), append(args, q.Text)
	}
	ts, err := queryAll(ctx, s.db, scanTitle, `SELECT `+titleColumns+` FROM ebook_titles WHERE `+
		strings.Join(where, " AND ")+` ORDER BY id LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("listing e-book titles: %w", err)
	}
	return ts, nil
}

// TitlesForWork implements ebooks.Store.
func (s *EbookStore) TitlesForWork(ctx context.Context, workID string) ([]*ebooks.Title, error) {
	ts, err := queryAll(ctx, s.db, scanTitle, `SELECT `+titleColumns+` FROM ebook_titles WHERE work_id = ? ORDER BY id`, workID)
	if err != nil {
		return nil, fmt.Errorf("e-book titles of work %s: %w", workID, err)
	}
	return ts, nil
}

// ---- licenses

const licenseColumns = `id, title_id, model, scope, library_id, district_wide, concurrency, checkouts_total,
	checkouts_left, expires_at, max_loan_days, available, in_use, created_at`

func scanLicense(r rowScanner) (*ebooks.License, error) {
	var (
		l               ebooks.License
		model, scope, c string
		expires         sql.NullString
		districtWide    int
	)
	if err := r.Scan(&l.ID, &l.TitleID, &model, &scope, &l.LibraryID, &districtWide, &l.Concurrency, &l.CheckoutsTotal,
		&l.CheckoutsLeft, &expires, &l.MaxLoanDays, &l.Available, &l.InUse, &c); err != nil {
		return nil, err
	}
	l.Model, l.Scope, l.DistrictWide = ebooks.Model(model), ebooks.Scope(scope), districtWide != 0
	var err error
	if l.ExpiresAt, err = parseTimePtr(expires); err != nil {
		return nil, err
	}
	if l.CreatedAt, err = parseTime(c); err != nil {
		return nil, err
	}
	l.Seats = map[string]ebooks.Seat{}
	return &l, nil
}

// withSeats fills the Seats of ls (one query).
func (s *EbookStore) withSeats(ctx context.Context, ls []*ebooks.License) error {
	if len(ls) == 0 {
		return nil
	}
	byID := map[string]*ebooks.License{}
	ids := make([]string, len(ls))
	for i, l := range ls {
		byID[l.ID], ids[i] = l, l.ID
	}
	rows, err := s.db.QueryContext(ctx, `SELECT license_id, holder_id, kind, acquired_at FROM ebook_seats
		WHERE license_id IN (SELECT value FROM json_each(?))`, jsonArray(ids))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var lid, hid, kind, at string
		if err := rows.Scan(&lid, &hid, &kind, &at); err != nil {
			return err
		}
		t, err := parseTime(at)
		if err != nil {
			return err
		}
		byID[lid].Seats[hid] = ebooks.Seat{HolderID: hid, Kind: ebooks.SeatKind(kind), AcquiredAt: t}
	}
	return rows.Err()
}

// CreateLicense implements ebooks.Store.
func (s *EbookStore) CreateLicense(ctx context.Context, l *ebooks.License) error {
	if l.ID == "" {
		l.ID = newID()
	}
	l.Available, l.InUse, l.Seats = l.Concurrency, 0, map[string]ebooks.Seat{}
	_, err := s.db.ExecContext(ctx, `INSERT INTO ebook_licenses (`+licenseColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		l.ID, l.TitleID, string(l.Model), string(l.Scope), l.LibraryID, boolInt(l.DistrictWide), l.Concurrency,
		l.CheckoutsTotal, l.CheckoutsLeft, fmtTimePtr(l.ExpiresAt), l.MaxLoanDays, l.Available, l.InUse, fmtTime(l.CreatedAt))
	if _, dup := uniqueViolation(err); dup {
		err = thuvienso.E(thuvienso.CodeConflict, "an e-book license with this ID already exists", "đã có giấy phép với mã này")
	}
	if err != nil {
		return fmt.Errorf("creating e-book license: %w", err)
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// License implements ebooks.Store.
func (s *EbookStore) License(ctx context.Context, id string) (*ebooks.License, error) {
	l, err := scanLicense(s.db.QueryRowContext(ctx, `SELECT `+licenseColumns+` FROM ebook_licenses WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = thuvienso.ErrNotFound
	}
	if err == nil {
		err = s.withSeats(ctx, []*ebooks.License{l})
	}
	if err != nil {
		return nil, fmt.Errorf("e-book license %s: %w", id, err)
	}
	return l, nil
}

// LicensesForTitles implements ebooks.Store.
func (s *EbookStore) LicensesForTitles(ctx context.Context, titleIDs []string) ([]*ebooks.License, error) {
	if len(titleIDs) == 0 {
		return nil, nil
	}
	ls, err := queryAll(ctx, s.db, scanLicense, `SELECT `+licenseColumns+` FROM ebook_licenses
		WHERE title_id IN (SELECT value FROM json_each(?)) ORDER BY id`, jsonArray(titleIDs))
	if err == nil {
		err = s.withSeats(ctx, ls)
	}
	if err != nil {
		return nil, fmt.Errorf("e-book licenses: %w", err)
	}
	return ls, nil
}

// LicensesInUse implements ebooks.Store.
func (s *EbookStore) LicensesInUse(ctx context.Context, afterID string, limit int) ([]*ebooks.License, error) {
	ls, err := queryAll(ctx, s.db, scanLicense, `SELECT `+licenseColumns+` FROM ebook_licenses
		WHERE in_use > 0 AND id > ? ORDER BY id LIMIT ?`, afterID, limit)
	if err == nil {
		err = s.withSeats(ctx, ls)
	}
	if err != nil {
		return nil, fmt.Errorf("e-book licenses in use: %w", err)
	}
	return ls, nil
}

// AcquireSeat implements ebooks.Store: in one immediate transaction, the
// seat row is inserted (a holder that has one already is a retry) and the
// counters change only while the conditions hold.
func (s *EbookStore) AcquireSeat(ctx context.Context, licenseID string, seat ebooks.Seat, now time.Time) (*ebooks.License, error) {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO ebook_seats (license_id, holder_id, kind, acquired_at)
			VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`, licenseID, seat.HolderID, string(seat.Kind), fmtTime(seat.AcquiredAt))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // a retry: the holder has its seat
		}
		res, err = tx.ExecContext(ctx, `UPDATE ebook_licenses SET
				available = CASE WHEN concurrency = -1 THEN available ELSE available - 1 END,
				in_use = in_use + 1,
				checkouts_left = CASE WHEN checkouts_total = -1 THEN checkouts_left ELSE checkouts_left - 1 END
			WHERE id = ? AND (concurrency = -1 OR available > 0)
				AND (checkouts_total = -1 OR checkouts_left > 0)
				AND (expires_at IS NULL OR expires_at > ?)`, licenseID, fmtTime(now))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ebooks.ErrNoSeat
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, ebooks.ErrNoSeat) {
			if _, lerr := s.License(ctx, licenseID); lerr != nil {
				return nil, lerr
			}
		}
		return nil, fmt.Errorf("taking a copy of license %s: %w", licenseID, err)
	}
	return s.License(ctx, licenseID)
}

// inTx runs f in an immediate transaction (the DSN's _txlock).
func (s *EbookStore) inTx(ctx context.Context, f func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := f(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// ReleaseSeat implements ebooks.Store.
func (s *EbookStore) ReleaseSeat(ctx context.Context, licenseID, holderID string) (bool, error) {
	released := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var kind string
		err := tx.QueryRowContext(ctx, `DELETE FROM ebook_seats WHERE license_id = ? AND holder_id = ? RETURNING kind`,
			licenseID, holderID).Scan(&kind)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		refund := boolInt(ebooks.SeatKind(kind) == ebooks.SeatHold)
		res, err := tx.ExecContext(ctx, `UPDATE ebook_licenses SET
				available = CASE WHEN concurrency = -1 THEN available ELSE available + 1 END,
				in_use = in_use - 1,
				checkouts_left = CASE WHEN checkouts_total = -1 THEN checkouts_left ELSE checkouts_left + ? END
			WHERE id = ? AND in_use > 0`, refund, licenseID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("license %s has a seat but no copy in use", licenseID)
		}
		released = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("giving back a copy of license %s: %w", licenseID, err)
	}
	return released, nil
}

// TransferSeat implements ebooks.Store.
func (s *EbookStore) TransferSeat(ctx context.Context, licenseID, fromID string, seat ebooks.Seat, now time.Time) (bool, error) {
	moved := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var ok int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM ebook_licenses WHERE id = ? AND (expires_at IS NULL OR expires_at > ?)`,
			licenseID, fmtTime(now)).Scan(&ok)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE ebook_seats SET holder_id = ?, kind = ?, acquired_at = ?
			WHERE license_id = ? AND holder_id = ?`, seat.HolderID, string(seat.Kind), fmtTime(seat.AcquiredAt), licenseID, fromID)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		moved = n == 1
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("handing over a copy of license %s: %w", licenseID, err)
	}
	return moved, nil
}

// ---- loans

const loanColumns = `id, title_id, license_id, reader_id, state, started_at, ends_at, ended_at, renewals, hold_id,
	idempotency_key, slot, version`

func scanLoan(r rowScanner) (*ebooks.Loan, error) {
	var (
		l                    ebooks.Loan
		state, started, ends string
		ended                sql.NullString
	)
	if err := r.Scan(&l.ID, &l.TitleID, &l.LicenseID, &l.ReaderID, &state, &started, &ends, &ended, &l.Renewals,
		&l.HoldID, &l.IdempotencyKey, &l.Slot, &l.Version); err != nil {
		return nil, err
	}
	l.State = ebooks.LoanState(state)
	var err error
	if l.StartedAt, err = parseTime(started); err != nil {
		return nil, err
	}
	if l.EndsAt, err = parseTime(ends); err != nil {
		return nil, err
	}
	if l.EndedAt, err = parseTimePtr(ended); err != nil {
		return nil, err
	}
	return &l, nil
}

// pairKey is "<reader>|<x>", or NULL when x is empty or cond is false.
func pairKey(reader, x string, cond bool) any {
	if x == "" || !cond {
		return nil
	}
	return reader + "|" + x
}

// loanWriteError maps unique violations to the domain's errors.
func loanWriteError(err error, active error) error {
	cols, ok := uniqueViolation(err)
	switch {
	case !ok:
		return err
	case strings.Contains(cols, "idem_key"):
		return ebooks.ErrIdempotencyKeyUsed
	case strings.Contains(cols, "active_key"):
		return active
	case strings.Contains(cols, "slot_key"):
		return ebooks.ErrLoanSlotTaken
	}
	return thuvienso.E(thuvienso.CodeConflict, "this ID is taken", "mã này đã được dùng")
}

// CreateLoan implements ebooks.Store.
func (s *EbookStore) CreateLoan(ctx context.Context, l *ebooks.Loan) error {
	if l.ID == "" {
		l.ID = newID()
	}
	l.Version = 1
	active := l.State == ebooks.LoanActive
	_, err := s.db.ExecContext(ctx, `INSERT INTO ebook_loans (`+loanColumns+`, idem_key, active_key, slot_key)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		l.ID, l.TitleID, l.LicenseID, l.ReaderID, string(l.State), fmtTime(l.StartedAt), fmtTime(l.EndsAt),
		fmtTimePtr(l.EndedAt), l.Renewals, l.HoldID, l.IdempotencyKey, l.Slot, l.Version,
		pairKey(l.ReaderID, l.IdempotencyKey, true), pairKey(l.ReaderID, l.TitleID, active),
		pairKey(l.ReaderID, strconv.Itoa(l.Slot), active))
	if err = loanWriteError(err, ebooks.ErrAlreadyBorrowed); errors.Is(err, ebooks.ErrLoanSlotTaken) {
		err = s.slotConflict(ctx, l)
	}
	if err != nil {
		return fmt.Errorf("creating e-book loan: %w", err)
	}
	return nil
}

// slotConflict names the conflict of a loan whose insert broke the slot
// constraint. SQLite reports only one of the unique constraints a row
// breaks; a reused idempotency key or a second active loan of the title
// says more than the slot does (and no other slot would help), so those
// are looked for first.
func (s *EbookStore) slotConflict(ctx context.Context, l *ebooks.Loan) error {
	var idem, active bool
	err := s.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM ebook_loans WHERE idem_key = ?),
			EXISTS (SELECT 1 FROM ebook_loans WHERE active_key = ?)`,
		pairKey(l.ReaderID, l.IdempotencyKey, true), pairKey(l.ReaderID, l.TitleID, true)).Scan(&idem, &active)
	switch {
	case err != nil:
		return fmt.Errorf("%w (and looking for the cause: %w)", ebooks.ErrLoanSlotTaken, err)
	case idem:
		return ebooks.ErrIdempotencyKeyUsed
	case active:
		return ebooks.ErrAlreadyBorrowed
	}
	return ebooks.ErrLoanSlotTaken
}

// Loan implements ebooks.Store.
func (s *EbookStore) Loan(ctx context.Context, id string) (*ebooks.Loan, error) {
	l, err := scanLoan(s.db.QueryRowContext(ctx, `SELECT `+loanColumns+` FROM ebook_loans WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = thuvienso.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("e-book loan %s: %w", id, err)
	}
	return l, nil
}

// LoansByID implements ebooks.Store.
func (s *EbookStore) LoansByID(ctx context.Context, ids []string) ([]*ebooks.Loan, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	ls, err := queryAll(ctx, s.db, scanLoan, `SELECT `+loanColumns+` FROM ebook_loans
		WHERE id IN (SELECT value FROM json_each(?))`, jsonArray(ids))
	if err != nil {
		return nil, fmt.Errorf("e-book loans by id: %w", err)
	}
	return ls, nil
}

// LoanByIdempotencyKey implements ebooks.Store.
func (s *EbookStore) LoanByIdempotencyKey(ctx context.Context, readerID, key string) (*ebooks.Loan, error) {
	l, err := scanLoan(s.db.QueryRowContext(ctx, `SELECT `+loanColumns+` FROM ebook_loans WHERE idem_key = ?`, readerID+"|"+key))
	if errors.Is(err, sql.ErrNoRows) || key == "" {
		err = thuvienso.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("e-book loan by key: %w", err)
	}
	return l, nil
}

// LoansForReader implements ebooks.Store.
func (s *EbookStore) LoansForReader(ctx context.Context, readerID string, activeOnly bool) ([]*ebooks.Loan, error) {
	q := `SELECT ` + loanColumns + ` FROM ebook_loans WHERE reader_id = ?`
	if activeOnly {
		q += ` AND state = 'ACTIVE'`
	}
	ls, err := queryAll(ctx, s.db, scanLoan, q+` ORDER BY started_at, id`, readerID)
	if err != nil {
		return nil, fmt.Errorf("e-book loans of %s: %w", readerID, err)
	}
	return ls, nil
}

// ActiveLoansForTitles implements ebooks.Store.
func (s *EbookStore) ActiveLoansForTitles(ctx context.Context, titleIDs []string) ([]*ebooks.Loan, error) {
	if len(titleIDs) == 0 {
		return nil, nil
	}
	ls, err := queryAll(ctx, s.db, scanLoan, `SELECT `+loanColumns+` FROM ebook_loans
		WHERE state = 'ACTIVE' AND title_id IN (SELECT value FROM json_each(?)) ORDER BY ends_at, id`, jsonArray(titleIDs))
	if err != nil {
		return nil, fmt.Errorf("active e-book loans: %w", err)
	}
	return ls, nil
}

// ActiveLoansEndingBefore implements ebooks.Store.
func (s *EbookStore) ActiveLoansEndingBefore(ctx context.Context, t time.Time, limit int) ([]*ebooks.Loan, error) {
	ls, err := queryAll(ctx, s.db, scanLoan, `SELECT `+loanColumns+` FROM ebook_loans
		WHERE state = 'ACTIVE' AND ends_at <= ? ORDER BY ends_at, id LIMIT ?`, fmtTime(t), limit)
	if err != nil {
		return nil, fmt.Errorf("e-book loans ending: %w", err)
	}
	return ls, nil
}

// UpdateLoan implements ebooks.Store.
func (s *EbookStore) UpdateLoan(ctx context.Context, l *ebooks.Loan) error {
	active := l.State == ebooks.LoanActive
	res, err := s.db.ExecContext(ctx, `UPDATE ebook_loans SET title_id = ?, license_id = ?, reader_id = ?, state = ?,
			started_at = ?, ends_at = ?, ended_at = ?, renewals = ?, hold_id = ?, slot = ?, active_key = ?, slot_key = ?,
			version = version + 1
		WHERE id = ? AND version = ?`,
		l.TitleID, l.LicenseID, l.ReaderID, string(l.State), fmtTime(l.StartedAt), fmtTime(l.EndsAt), fmtTimePtr(l.EndedAt),
		l.Renewals, l.HoldID, l.Slot, pairKey(l.ReaderID, l.TitleID, active), pairKey(l.ReaderID, strconv.Itoa(l.Slot), active),
		l.ID, l.Version)
	if err != nil {
		return fmt.Errorf("updating e-book loan %s: %w", l.ID, loanWriteError(err, ebooks.ErrAlreadyBorrowed))
	}
	if err := compareAndSet(res, func() error { _, err := s.Loan(ctx, l.ID); return err }, "updating e-book loan "+l.ID, ebooks.ErrStale); err != nil {
		return err
	}
	l.Version++
	return nil
}

// ---- holds

const holdColumns = `id, title_id, reader_id, state, created_at, loan_days, auto_borrow, suspended_until, license_id,
	reserved_at, reserved_until, missed_once, loan_id, ended_at, idempotency_key, version`

func scanHold(r rowScanner) (*ebooks.Hold, error) {
	var (
		h                                             ebooks.Hold
		state, created                                string
		autoBorrow, missed                            int
		suspended, reservedAt, reservedUntil, endedAt sql.NullString
	)
	if err := r.Scan(&h.ID, &h.TitleID, &h.ReaderID, &state, &created, &h.LoanDays, &autoBorrow, &suspended,
		&h.LicenseID, &reservedAt, &reservedUntil, &missed, &h.LoanID, &endedAt, &h.IdempotencyKey, &h.Version); err != nil {
		return nil, err
	}
	h.State, h.AutoBorrow, h.MissedOnce = ebooks.HoldState(state), autoBorrow != 0, missed != 0
	var err error
	if h.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	for _, p := range []struct {
		dst **time.Time
		src sql.NullString
	}{{&h.SuspendedUntil, suspended}, {&h.ReservedAt, reservedAt}, {&h.ReservedUntil, reservedUntil}, {&h.EndedAt, endedAt}} {
		if *p.dst, err = parseTimePtr(p.src); err != nil {
			return nil, err
		}
	}
	return &h, nil
}

// CreateHold implements ebooks.Store.
func (s *EbookStore) CreateHold(ctx context.Context, h *ebooks.Hold) error {
	if h.ID == "" {
		h.ID = newID()
	}
	h.Version = 1
	_, err := s.db.ExecContext(ctx, `INSERT INTO ebook_holds (`+holdColumns+`, idem_key, active_key)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		h.ID, h.TitleID, h.ReaderID, string(h.State), fmtTime(h.CreatedAt), h.LoanDays, boolInt(h.AutoBorrow),
		fmtTimePtr(h.SuspendedUntil), h.LicenseID, fmtTimePtr(h.ReservedAt), fmtTimePtr(h.ReservedUntil),
		boolInt(h.MissedOnce), h.LoanID, fmtTimePtr(h.EndedAt), h.IdempotencyKey, h.Version,
		pairKey(h.ReaderID, h.IdempotencyKey, true), pairKey(h.ReaderID, h.TitleID, h.State.ActiveState()))
	if err != nil {
		return fmt.Errorf("creating e-book hold: %w", loanWriteError(err, ebooks.ErrAlreadyOnHold))
	}
	return nil
}

// Hold implements ebooks.Store.
func (s *EbookStore) Hold(ctx context.Context, id string) (*ebooks.Hold, error) {
	h, err := scanHold(s.db.QueryRowContext(ctx, `SELECT `+holdColumns+` FROM ebook_holds WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = thuvienso.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("e-book hold %s: %w", id, err)
	}
	return h, nil
}

// HoldsByID implements ebooks.Store.
func (s *EbookStore) HoldsByID(ctx context.Context, ids []string) ([]*ebooks.Hold, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	hs, err := queryAll(ctx, s.db, scanHold, `SELECT `+holdColumns+` FROM ebook_holds
		WHERE id IN (SELECT value FROM json_each(?))`, jsonArray(ids))
	if err != nil {
		return nil, fmt.Errorf("e-book holds by id: %w", err)
	}
	return hs, nil
}

// HoldByIdempotencyKey implements ebooks.Store.
func (s *EbookStore) HoldByIdempotencyKey(ctx context.Context, readerID, key string) (*ebooks.Hold, error) {
	h, err := scanHold(s.db.QueryRowContext(ctx, `SELECT `+holdColumns+` FROM ebook_holds WHERE idem_key = ?`, readerID+"|"+key))
	if errors.Is(err, sql.ErrNoRows) || key == "" {
		err = thuvienso.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("e-book hold by key: %w", err)
	}
	return h, nil
}

// HoldsForReader implements ebooks.Store.
func (s *EbookStore) HoldsForReader(ctx context.Context, readerID string, activeOnly bool) ([]*ebooks.Hold, error) {
	q := `SELECT ` + holdColumns + ` FROM ebook_holds WHERE reader_id = ?`
	if activeOnly {
		q += ` AND active_key IS NOT NULL`
	}
	hs, err := queryAll(ctx, s.db, scanHold, q+` ORDER BY created_at, id`, readerID)
	if err != nil {
		return nil, fmt.Errorf("e-book holds of %s: %w", readerID, err)
	}
	return hs, nil
}

// ActiveHoldsForTitle implements ebooks.Store.
func (s *EbookStore) ActiveHoldsForTitle(ctx context.Context, titleID string) ([]*ebooks.Hold, error) {
	hs, err := queryAll(ctx, s.db, scanHold, `SELECT `+holdColumns+` FROM ebook_holds
		WHERE title_id = ? AND active_key IS NOT NULL ORDER BY created_at, id`, titleID)
	if err != nil {
		return nil, fmt.Errorf("e-book queue of %s: %w", titleID, err)
	}
	return hs, nil
}

// ActiveHoldCounts implements ebooks.Store.
func (s *EbookStore) ActiveHoldCounts(ctx context.Context, titleIDs []string) (map[string]int, error) {
	out := map[string]int{}
	if len(titleIDs) == 0 {
		return out, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT title_id, count(*) FROM ebook_holds
		WHERE active_key IS NOT NULL AND title_id IN (SELECT value FROM json_each(?)) GROUP BY title_id`, jsonArray(titleIDs))
	if err != nil {
		return nil, fmt.Errorf("e-book hold counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("e-book hold counts: %w", err)
		}
		out[id] = n
	}
	return out, rows.Err()
}

// HoldsByStateBefore implements ebooks.Store.
func (s *EbookStore) HoldsByStateBefore(ctx context.Context, state ebooks.HoldState, t time.Time, limit int) ([]*ebooks.Hold, error) {
	col := ""
	switch state {
	case ebooks.HoldReserved:
		col = "reserved_until"
	case ebooks.HoldSuspended:
		col = "suspended_until"
	default:
		return nil, fmt.Errorf("e-book holds by deadline: no deadline for state %q", state)
	}
	hs, err := queryAll(ctx, s.db, scanHold, `SELECT `+holdColumns+` FROM ebook_holds
		WHERE state = ? AND `+col+` IS NOT NULL AND `+col+` <= ? ORDER BY `+col+`, id LIMIT ?`, string(state), fmtTime(t), limit)
	if err != nil {
		return nil, fmt.Errorf("e-book holds by deadline: %w", err)
	}
	return hs, nil
}

// HoldsReservedSince implements ebooks.Store.
func (s *EbookStore) HoldsReservedSince(ctx context.Context, t time.Time, limit int) ([]*ebooks.Hold, error) {
	hs, err := queryAll(ctx, s.db, scanHold, `SELECT `+holdColumns+` FROM ebook_holds
		WHERE state = 'RESERVED' AND reserved_at >= ? ORDER BY reserved_at DESC, id DESC LIMIT ?`, fmtTime(t), limit)
	if err != nil {
		return nil, fmt.Errorf("e-book holds reserved since %s: %w", t, err)
	}
	return hs, nil
}

// TitlesWithWaitingHolds implements ebooks.Store.
func (s *EbookStore) TitlesWithWaitingHolds(ctx context.Context, afterID string, limit int) ([]string, error) {
	ids, err := queryAll(ctx, s.db, func(r rowScanner) (string, error) {
		var id string
		return id, r.Scan(&id)
	}, `SELECT DISTINCT title_id FROM ebook_holds WHERE state = 'WAITING' AND title_id > ? ORDER BY title_id LIMIT ?`, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("titles with waiting holds: %w", err)
	}
	return ids, nil
}

// UpdateHold implements ebooks.Store.
func (s *EbookStore) UpdateHold(ctx context.Context, h *ebooks.Hold) error {
	res, err := s.db.ExecContext(ctx, `UPDATE ebook_holds SET state = ?, loan_days = ?, auto_borrow = ?,
			suspended_until = ?, license_id = ?, reserved_at = ?, reserved_until = ?, missed_once = ?, loan_id = ?,
			ended_at = ?, active_key = ?, version = version + 1
		WHERE id = ? AND version = ?`,
		string(h.State), h.LoanDays, boolInt(h.AutoBorrow), fmtTimePtr(h.SuspendedUntil), h.LicenseID,
		fmtTimePtr(h.ReservedAt), fmtTimePtr(h.ReservedUntil), boolInt(h.MissedOnce), h.LoanID, fmtTimePtr(h.EndedAt),
		pairKey(h.ReaderID, h.TitleID, h.State.ActiveState()), h.ID, h.Version)
	if err != nil {
		return fmt.Errorf("updating e-book hold %s: %w", h.ID, loanWriteError(err, ebooks.ErrAlreadyOnHold))
	}
	if err := compareAndSet(res, func() error { _, err := s.Hold(ctx, h.ID); return err }, "updating e-book hold "+h.ID, ebooks.ErrStale); err != nil {
		return err
	}
	h.Version++
	return nil
}
