package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/circulation"
)

// CirculationStore implements circulation.Store on SQLite (migration
// 0006). Holds and loans change by compare-and-set on their version in one
// UPDATE; the unique *_key columns keep one active hold per reader and
// work, distinct slots under the limits, and one hold or loan per copy; a
// copy's claim changes hands in one conditional statement. A rush of
// requests queues for the one writing connection (see pools).
type CirculationStore struct {
	db *pools
}

var _ circulation.Store = (*CirculationStore)(nil)

// run runs f, which uses one connection at a time.
func (s *CirculationStore) run(_ context.Context, f func() error) error { return f() }

// exec runs one write statement.
func (s *CirculationStore) exec(ctx context.Context, q string, args ...any) (res sql.Result, err error) {
	err = s.run(ctx, func() error {
		res, err = s.db.ExecContext(ctx, q, args...)
		return err
	})
	return res, err
}

// circOne runs a one-row query.
func circOne[T any](ctx context.Context, s *CirculationStore, scan func(rowScanner) (T, error), q string, args ...any) (v T, err error) {
	err = s.run(ctx, func() error {
		v, err = scan(s.db.QueryRowContext(ctx, q, args...))
		return err
	})
	return v, err
}

// circMany runs a query and scans every row.
func circMany[T any](ctx context.Context, s *CirculationStore, scan func(rowScanner) (T, error), q string, args ...any) (vs []T, err error) {
	err = s.run(ctx, func() error {
		vs, err = queryAll(ctx, s.db, scan, q, args...)
		return err
	})
	return vs, err
}

// keyIf is k, or NULL when cond is false or k is empty.
func keyIf(k string, cond bool) any {
	if !cond || k == "" {
		return nil
	}
	return k
}

// circWriteError maps a unique violation of a hold or loan to the domain's
// error. SQLite names one of the constraints a row breaks.
func circWriteError(err error, active error) error {
	cols, ok := uniqueViolation(err)
	switch {
	case !ok:
		return err
	case strings.Contains(cols, "idem_key"):
		return circulation.ErrIdempotencyKeyUsed
	case strings.Contains(cols, "circ_holds.active_key"):
		return active
	case strings.Contains(cols, "circ_holds.slot_key"):
		return circulation.ErrHoldSlotTaken
	case strings.Contains(cols, "circ_loans.slot_key"):
		return circulation.ErrLoanSlotTaken
	case strings.Contains(cols, "circ_holds.copy_key"):
		return circulation.ErrCopyAttached
	case strings.Contains(cols, "circ_loans.copy_key"):
		return circulation.ErrCopyOnLoan
	}
	return thuvienso.E(thuvienso.CodeConflict, "this ID is taken", "mã này đã được dùng")
}

// ---- holds

const circHoldColumns = `id, reader_id, work_id, item_barcode, pickup_library_id, state, created_at, suspended_until,
	barcode, targeted_at, ready_at, pickup_deadline, loan_id, ended_at, slot, idempotency_key, version`

func scanCircHold(r rowScanner) (*circulation.Hold, error) {
	var (
		h                                       circulation.Hold
		state, created                          string
		suspended, targeted, ready, dl, endedAt sql.NullString
	)
	if err := r.Scan(&h.ID, &h.ReaderID, &h.WorkID, &h.ItemBarcode, &h.PickupLibraryID, &state, &created, &suspended,
		&h.Barcode, &targeted, &ready, &dl, &h.LoanID, &endedAt, &h.Slot, &h.IdempotencyKey, &h.Version); err != nil {
		return nil, err
	}
	h.State = circulation.HoldState(state)
	var err error
	if h.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	for _, p := range []struct {
		dst **time.Time
		src sql.NullString
	}{{&h.SuspendedUntil, suspended}, {&h.TargetedAt, targeted}, {&h.ReadyAt, ready}, {&h.PickupDeadline, dl}, {&h.EndedAt, endedAt}} {
		if *p.dst, err = parseTimePtr(p.src); err != nil {
			return nil, err
		}
	}
	return &h, nil
}

// holdKeys are the unique keys of a hold: idem, active, slot, copy.
func holdKeys(h *circulation.Hold) []any {
	active := h.State.Active()
	return []any{
		keyIf(h.ReaderID+"|"+h.IdempotencyKey, h.IdempotencyKey != ""),
		keyIf(h.ReaderID+"|"+h.WorkID, active),
		keyIf(h.ReaderID+"|"+strconv.Itoa(h.Slot), active),
		keyIf(h.Barcode, h.State.HasCopy()),
	}
}

// CreateHold implements circulation.Store.
func (s *CirculationStore) CreateHold(ctx context.Context, h *circulation.Hold) error {
	if h.ID == "" {
		h.ID = newID()
	}
	h.Version = 1
	args := []any{h.ID, h.ReaderID, h.WorkID, h.ItemBarcode, h.PickupLibraryID, string(h.State), fmtTime(h.CreatedAt),
		fmtTimePtr(h.SuspendedUntil), h.Barcode, fmtTimePtr(h.TargetedAt), fmtTimePtr(h.ReadyAt), fmtTimePtr(h.PickupDeadline),
		h.LoanID, fmtTimePtr(h.EndedAt), h.Slot, h.IdempotencyKey, h.Version}
	_, err := s.exec(ctx, `INSERT INTO circ_holds (`+circHoldColumns+`, idem_key, active_key, slot_key, copy_key)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`, append(args, holdKeys(h)...)...)
	if err = circWriteError(err, circulation.ErrAlreadyOnHold); errors.Is(err, circulation.ErrHoldSlotTaken) ||
		errors.Is(err, circulation.ErrCopyAttached) {
		err = s.holdConflict(ctx, h, err)
	}
	if err != nil {
		return fmt.Errorf("creating hold: %w", err)
	}
	return nil
}

// holdConflict names the conflict of a hold whose insert broke a
// constraint: SQLite reports only one, and a reused idempotency key or a
// second hold on the work says more than a slot does.
func (s *CirculationStore) holdConflict(ctx context.Context, h *circulation.Hold, reported error) error {
	keys := holdKeys(h)
	return s.conflict(ctx, "circ_holds", keys[0], "active_key", keys[1], circulation.ErrAlreadyOnHold, reported)
}

// conflict names the constraint a hold or loan insert broke: a row with
// the idempotency key (the request was made already), else a row with the
// other key (otherErr), else what SQLite reported.
func (s *CirculationStore) conflict(ctx context.Context, table string, idemKey any, otherColumn string, otherKey any, otherErr, reported error) error {
	type taken struct{ idem, other bool }
	t, err := circOne(ctx, s, func(r rowScanner) (t taken, err error) { return t, r.Scan(&t.idem, &t.other) },
		`SELECT EXISTS (SELECT 1 FROM `+table+` WHERE idem_key = ?), EXISTS (SELECT 1 FROM `+table+` WHERE `+otherColumn+` = ?)`,
		idemKey, otherKey)
	switch {
	case err != nil:
		return fmt.Errorf("%w (and looking for the cause: %w)", reported, err)
	case t.idem:
		return circulation.ErrIdempotencyKeyUsed
	case t.other:
		return otherErr
	}
	return reported
}

func (s *CirculationStore) oneHold(ctx context.Context, what, where string, args ...any) (*circulation.Hold, error) {
	h, err := circOne(ctx, s, scanCircHold, `SELECT `+circHoldColumns+` FROM circ_holds WHERE `+where, args...)
	if errors.Is(err, sql.ErrNoRows) {
		err = thuvienso.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return h, nil
}

// Hold implements circulation.Store.
func (s *CirculationStore) Hold(ctx context.Context, id string) (*circulation.Hold, error) {
	return s.oneHold(ctx, "hold "+id, `id = ?`, id)
}

// HoldsByID implements circulation.Store.
func (s *CirculationStore) HoldsByID(ctx context.Context, ids []string) ([]*circulation.Hold, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	hs, err := circMany(ctx, s, scanCircHold, `SELECT `+circHoldColumns+` FROM circ_holds
		WHERE id IN (SELECT value FROM json_each(?))`, jsonArray(ids))
	if err != nil {
		return nil, fmt.Errorf("holds by id: %w", err)
	}
	return hs, nil
}

// HoldByIdempotencyKey implements circulation.Store.
func (s *CirculationStore) HoldByIdempotencyKey(ctx context.Context, readerID, key string) (*circulation.Hold, error) {
	if key == "" {
		return nil, fmt.Errorf("hold by key: %w", thuvienso.ErrNotFound)
	}
	return s.oneHold(ctx, "hold by key", `idem_key = ?`, readerID+"|"+key)
}

// HoldForCopy implements circulation.Store.
func (s *CirculationStore) HoldForCopy(ctx context.Context, barcode string) (*circulation.Hold, error) {
	return s.oneHold(ctx, "hold of copy "+barcode, `copy_key = ?`, barcode)
}

// HoldsForReader implements circulation.Store.
func (s *CirculationStore) HoldsForReader(ctx context.Context, readerID string, activeOnly bool) ([]*circulation.Hold, error) {
	q := `SELECT ` + circHoldColumns + ` FROM circ_holds WHERE reader_id = ?`
	if activeOnly {
		q += ` AND active_key IS NOT NULL`
	}
	hs, err := circMany(ctx, s, scanCircHold, q+` ORDER BY created_at, id`, readerID)
	if err != nil {
		return nil, fmt.Errorf("holds of %s: %w", readerID, err)
	}
	return hs, nil
}

// ActiveHoldsForWork implements circulation.Store.
func (s *CirculationStore) ActiveHoldsForWork(ctx context.Context, workID string) ([]*circulation.Hold, error) {
	hs, err := circMany(ctx, s, scanCircHold, `SELECT `+circHoldColumns+` FROM circ_holds
		WHERE work_id = ? AND active_key IS NOT NULL ORDER BY created_at, id`, workID)
	if err != nil {
		return nil, fmt.Errorf("queue of %s: %w", workID, err)
	}
	return hs, nil
}

// ActiveHoldCounts implements circulation.Store.
func (s *CirculationStore) ActiveHoldCounts(ctx context.Context, workIDs []string) (map[string]int, error) {
	out := map[string]int{}
	if len(workIDs) == 0 {
		return out, nil
	}
	type workCount struct {
		workID string
		n      int
	}
	counts, err := circMany(ctx, s, func(r rowScanner) (c workCount, err error) { return c, r.Scan(&c.workID, &c.n) },
		`SELECT work_id, count(*) FROM circ_holds
		WHERE active_key IS NOT NULL AND work_id IN (SELECT value FROM json_each(?)) GROUP BY work_id`, jsonArray(workIDs))
	if err != nil {
		return nil, fmt.Errorf("hold counts: %w", err)
	}
	for _, c := range counts {
		out[c.workID] = c.n
	}
	return out, nil
}

// HoldsAtPickup implements circulation.Store.
func (s *CirculationStore) HoldsAtPickup(ctx context.Context, libraryID string, state circulation.HoldState) ([]*circulation.Hold, error) {
	hs, err := circMany(ctx, s, scanCircHold, `SELECT `+circHoldColumns+` FROM circ_holds
		WHERE pickup_library_id = ? AND state = ? AND copy_key IS NOT NULL ORDER BY targeted_at, id`, libraryID, string(state))
	if err != nil {
		return nil, fmt.Errorf("holds at %s: %w", libraryID, err)
	}
	return hs, nil
}

// HoldsDue implements circulation.Store.
func (s *CirculationStore) HoldsDue(ctx context.Context, state circulation.HoldState, t time.Time, limit int) ([]*circulation.Hold, error) {
	col := ""
	switch state {
	case circulation.HoldReady:
		col = "pickup_deadline"
	case circulation.HoldSuspended:
		col = "suspended_until"
	default:
		return nil, fmt.Errorf("holds due: no deadline for state %q", state)
	}
	hs, err := circMany(ctx, s, scanCircHold, `SELECT `+circHoldColumns+` FROM circ_holds
		WHERE state = ? AND `+col+` IS NOT NULL AND `+col+` <= ? ORDER BY `+col+`, id LIMIT ?`, string(state), fmtTime(t), limit)
	if err != nil {
		return nil, fmt.Errorf("holds due: %w", err)
	}
	return hs, nil
}

// HoldsReadySince implements circulation.Store.
func (s *CirculationStore) HoldsReadySince(ctx context.Context, t time.Time, limit int) ([]*circulation.Hold, error) {
	hs, err := circMany(ctx, s, scanCircHold, `SELECT `+circHoldColumns+` FROM circ_holds
		WHERE state = 'READY' AND ready_at >= ? ORDER BY ready_at DESC, id DESC LIMIT ?`, fmtTime(t), limit)
	if err != nil {
		return nil, fmt.Errorf("holds ready since %s: %w", t, err)
	}
	return hs, nil
}

// UpdateHold implements circulation.Store.
func (s *CirculationStore) UpdateHold(ctx context.Context, h *circulation.Hold) error {
	keys := holdKeys(h)
	res, err := s.exec(ctx, `UPDATE circ_holds SET item_barcode = ?, pickup_library_id = ?, state = ?, suspended_until = ?,
			barcode = ?, targeted_at = ?, ready_at = ?, pickup_deadline = ?, loan_id = ?, ended_at = ?, slot = ?,
			active_key = ?, slot_key = ?, copy_key = ?, version = version + 1
		WHERE id = ? AND version = ?`,
		h.ItemBarcode, h.PickupLibraryID, string(h.State), fmtTimePtr(h.SuspendedUntil), h.Barcode, fmtTimePtr(h.TargetedAt),
		fmtTimePtr(h.ReadyAt), fmtTimePtr(h.PickupDeadline), h.LoanID, fmtTimePtr(h.EndedAt), h.Slot,
		keys[1], keys[2], keys[3], h.ID, h.Version)
	if err != nil {
		return fmt.Errorf("updating hold %s: %w", h.ID, circWriteError(err, circulation.ErrAlreadyOnHold))
	}
	if err := compareAndSet(res, func() error { _, err := s.Hold(ctx, h.ID); return err }, "updating hold "+h.ID, circulation.ErrStale); err != nil {
		return err
	}
	h.Version++
	return nil
}

// ---- loans

const circLoanColumns = `id, reader_id, barcode, work_id, library_id, item_library_id, hold_id, state, checked_out_at,
	due_at, renewals, returned_at, return_library_id, notice, slot, idempotency_key, renew_key, version`

func scanCircLoan(r rowScanner) (*circulation.Loan, error) {
	var (
		l               circulation.Loan
		state, out, due string
		returned        sql.NullString
	)
	if err := r.Scan(&l.ID, &l.ReaderID, &l.Barcode, &l.WorkID, &l.LibraryID, &l.ItemLibraryID, &l.HoldID, &state, &out,
		&due, &l.Renewals, &returned, &l.ReturnLibraryID, &l.Notice, &l.Slot, &l.IdempotencyKey, &l.RenewKey, &l.Version); err != nil {
		return nil, err
	}
	l.State = circulation.LoanState(state)
	var err error
	if l.CheckedOutAt, err = parseTime(out); err != nil {
		return nil, err
	}
	if l.DueAt, err = parseTime(due); err != nil {
		return nil, err
	}
	if l.ReturnedAt, err = parseTimePtr(returned); err != nil {
		return nil, err
	}
	return &l, nil
}

// loanKeys are the unique keys of a loan: idem, copy, slot.
func loanKeys(l *circulation.Loan) []any {
	active := l.State == circulation.LoanActive
	return []any{
		keyIf(l.ReaderID+"|"+l.IdempotencyKey, l.IdempotencyKey != ""),
		keyIf(l.Barcode, active),
		keyIf(l.ReaderID+"|"+strconv.Itoa(l.Slot), active),
	}
}

// CreateLoan implements circulation.Store.
func (s *CirculationStore) CreateLoan(ctx context.Context, l *circulation.Loan) error {
	if l.ID == "" {
		l.ID = newID()
	}
	l.Version = 1
	args := []any{l.ID, l.ReaderID, l.Barcode, l.WorkID, l.LibraryID, l.ItemLibraryID, l.HoldID, string(l.State),
		fmtTime(l.CheckedOutAt), fmtTime(l.DueAt), l.Renewals, fmtTimePtr(l.ReturnedAt), l.ReturnLibraryID, l.Notice, l.Slot,
		l.IdempotencyKey, l.RenewKey, l.Version}
	_, err := s.exec(ctx, `INSERT INTO circ_loans (`+circLoanColumns+`, idem_key, copy_key, slot_key)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`, append(args, loanKeys(l)...)...)
	if err = circWriteError(err, circulation.ErrCopyOnLoan); errors.Is(err, circulation.ErrLoanSlotTaken) {
		err = s.loanConflict(ctx, l, err)
	}
	if err != nil {
		return fmt.Errorf("creating loan: %w", err)
	}
	return nil
}

// loanConflict names the conflict of a loan whose insert broke the slot
// constraint: a reused key or a copy on loan says more than the slot.
func (s *CirculationStore) loanConflict(ctx context.Context, l *circulation.Loan, reported error) error {
	keys := loanKeys(l)
	return s.conflict(ctx, "circ_loans", keys[0], "copy_key", keys[1], circulation.ErrCopyOnLoan, reported)
}

func (s *CirculationStore) oneLoan(ctx context.Context, what, where string, args ...any) (*circulation.Loan, error) {
	l, err := circOne(ctx, s, scanCircLoan, `SELECT `+circLoanColumns+` FROM circ_loans WHERE `+where, args...)
	if errors.Is(err, sql.ErrNoRows) {
		err = thuvienso.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return l, nil
}

// Loan implements circulation.Store.
func (s *CirculationStore) Loan(ctx context.Context, id string) (*circulation.Loan, error) {
	return s.oneLoan(ctx, "loan "+id, `id = ?`, id)
}

// LoansByID implements circulation.Store.
func (s *CirculationStore) LoansByID(ctx context.Context, ids []string) ([]*circulation.Loan, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	ls, err := circMany(ctx, s, scanCircLoan, `SELECT `+circLoanColumns+` FROM circ_loans
		WHERE id IN (SELECT value FROM json_each(?))`, jsonArray(ids))
	if err != nil {
		return nil, fmt.Errorf("loans by id: %w", err)
	}
	return ls, nil
}

// LoanByIdempotencyKey implements circulation.Store.
func (s *CirculationStore) LoanByIdempotencyKey(ctx context.Context, readerID, key string) (*circulation.Loan, error) {
	if key == "" {
		return nil, fmt.Errorf("loan by key: %w", thuvienso.ErrNotFound)
	}
	return s.oneLoan(ctx, "loan by key", `idem_key = ?`, readerID+"|"+key)
}

// ActiveLoanForCopy implements circulation.Store.
func (s *CirculationStore) ActiveLoanForCopy(ctx context.Context, barcode string) (*circulation.Loan, error) {
	return s.oneLoan(ctx, "loan of copy "+barcode, `copy_key = ?`, barcode)
}

// ActiveLoansForCopies implements circulation.Store.
func (s *CirculationStore) ActiveLoansForCopies(ctx context.Context, barcodes []string) ([]*circulation.Loan, error) {
	if len(barcodes) == 0 {
		return nil, nil
	}
	ls, err := circMany(ctx, s, scanCircLoan, `SELECT `+circLoanColumns+` FROM circ_loans
		WHERE copy_key IN (SELECT value FROM json_each(?))`, jsonArray(barcodes))
	if err != nil {
		return nil, fmt.Errorf("loans of copies: %w", err)
	}
	return ls, nil
}

// LoansForReader implements circulation.Store.
func (s *CirculationStore) LoansForReader(ctx context.Context, readerID string, activeOnly bool) ([]*circulation.Loan, error) {
	q := `SELECT ` + circLoanColumns + ` FROM circ_loans WHERE reader_id = ?`
	if activeOnly {
		q += ` AND state = 'ACTIVE'`
	}
	ls, err := circMany(ctx, s, scanCircLoan, q+` ORDER BY checked_out_at, id`, readerID)
	if err != nil {
		return nil, fmt.Errorf("loans of %s: %w", readerID, err)
	}
	return ls, nil
}

// LoansToNotify implements circulation.Store.
func (s *CirculationStore) LoansToNotify(ctx context.Context, level int, t time.Time, limit int) ([]*circulation.Loan, error) {
	ls, err := circMany(ctx, s, scanCircLoan, `SELECT `+circLoanColumns+` FROM circ_loans
		WHERE state = 'ACTIVE' AND notice < ? AND due_at <= ? ORDER BY due_at, id LIMIT ?`, level, fmtTime(t), limit)
	if err != nil {
		return nil, fmt.Errorf("loans to notify: %w", err)
	}
	return ls, nil
}

// ActiveLoansDue implements circulation.Store (index circ_loans_due).
func (s *CirculationStore) ActiveLoansDue(ctx context.Context, afterDue time.Time, afterID string, until time.Time, limit int) ([]*circulation.Loan, error) {
	ls, err := circMany(ctx, s, scanCircLoan, `SELECT `+circLoanColumns+` FROM circ_loans
		WHERE state = 'ACTIVE' AND (due_at, id) > (?, ?) AND due_at <= ? ORDER BY due_at, id LIMIT ?`,
		fmtTime(afterDue), afterID, fmtTime(until), limit)
	if err != nil {
		return nil, fmt.Errorf("loans due: %w", err)
	}
	return ls, nil
}

// UpdateLoan implements circulation.Store.
func (s *CirculationStore) UpdateLoan(ctx context.Context, l *circulation.Loan) error {
	keys := loanKeys(l)
	res, err := s.exec(ctx, `UPDATE circ_loans SET state = ?, due_at = ?, renewals = ?, returned_at = ?,
			return_library_id = ?, notice = ?, slot = ?, renew_key = ?, hold_id = ?, copy_key = ?, slot_key = ?,
			version = version + 1
		WHERE id = ? AND version = ?`,
		string(l.State), fmtTime(l.DueAt), l.Renewals, fmtTimePtr(l.ReturnedAt), l.ReturnLibraryID, l.Notice, l.Slot,
		l.RenewKey, l.HoldID, keys[1], keys[2], l.ID, l.Version)
	if err != nil {
		return fmt.Errorf("updating loan %s: %w", l.ID, circWriteError(err, circulation.ErrCopyOnLoan))
	}
	if err := compareAndSet(res, func() error { _, err := s.Loan(ctx, l.ID); return err }, "updating loan "+l.ID, circulation.ErrStale); err != nil {
		return err
	}
	l.Version++
	return nil
}

// ---- copy claims

// CopyClaim implements circulation.Store.
func (s *CirculationStore) CopyClaim(ctx context.Context, barcode string) (*circulation.CopyClaim, error) {
	c, err := circOne(ctx, s, func(r rowScanner) (*circulation.CopyClaim, error) {
		var c circulation.CopyClaim
		var at string
		if err := r.Scan(&c.Barcode, &c.Holder, &at); err != nil {
			return nil, err
		}
		var err error
		c.ClaimedAt, err = parseTime(at)
		return &c, err
	}, `SELECT barcode, holder, claimed_at FROM circ_copy_claims WHERE barcode = ?`, barcode)
	if errors.Is(err, sql.ErrNoRows) {
		err = thuvienso.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("claim of copy %s: %w", barcode, err)
	}
	return c, nil
}

// ClaimCopy implements circulation.Store: one UPDATE whose WHERE is the
// expected holder, or for a free copy one upsert that changes only a free
// row.
func (s *CirculationStore) ClaimCopy(ctx context.Context, barcode, from, to string, at time.Time) error {
	var res sql.Result
	var err error
	if from == "" {
		res, err = s.exec(ctx, `INSERT INTO circ_copy_claims (barcode, holder, claimed_at) VALUES (?, ?, ?)
			ON CONFLICT (barcode) DO UPDATE SET holder = excluded.holder, claimed_at = excluded.claimed_at
			WHERE circ_copy_claims.holder = ''`, barcode, to, fmtTime(at))
	} else {
		res, err = s.exec(ctx, `UPDATE circ_copy_claims SET holder = ?, claimed_at = ? WHERE barcode = ? AND holder = ?`,
			to, fmtTime(at), barcode, from)
	}
	if err != nil {
		return fmt.Errorf("claiming copy %s: %w", barcode, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("claiming copy %s: %w", barcode, circulation.ErrClaimLost)
	}
	return nil
}

// ---- closed days

// PutClosedDay implements circulation.Store.
func (s *CirculationStore) PutClosedDay(ctx context.Context, d *circulation.ClosedDay) error {
	_, err := s.exec(ctx, `INSERT INTO circ_closed_days (library_id, date, reason) VALUES (?, ?, ?)
		ON CONFLICT (library_id, date) DO UPDATE SET reason = excluded.reason`, d.LibraryID, d.Date, d.Reason)
	if err != nil {
		return fmt.Errorf("adding closed day %s: %w", d.Date, err)
	}
	return nil
}

// DeleteClosedDay implements circulation.Store.
func (s *CirculationStore) DeleteClosedDay(ctx context.Context, libraryID, date string) error {
	res, err := s.exec(ctx, `DELETE FROM circ_closed_days WHERE library_id = ? AND date = ?`, libraryID, date)
	if err != nil {
		return fmt.Errorf("removing closed day %s: %w", date, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("removing closed day %s: %w", date, thuvienso.ErrNotFound)
	}
	return nil
}

// ClosedDays implements circulation.Store.
func (s *CirculationStore) ClosedDays(ctx context.Context, libraryIDs []string, from, to string) ([]*circulation.ClosedDay, error) {
	if libraryIDs == nil {
		libraryIDs = []string{}
	}
	ds, err := circMany(ctx, s, func(r rowScanner) (*circulation.ClosedDay, error) {
		var d circulation.ClosedDay
		return &d, r.Scan(&d.LibraryID, &d.Date, &d.Reason)
	}, `SELECT library_id, date, reason FROM circ_closed_days
		WHERE library_id IN (SELECT value FROM json_each(?)) AND date >= ? AND date <= ? ORDER BY date, library_id`,
		jsonArray(libraryIDs), from, to)
	if err != nil {
		return nil, fmt.Errorf("closed days: %w", err)
	}
	return ds, nil
}
