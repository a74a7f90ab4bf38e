package mongo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/circulation"
)

// Circulation collections.
const (
	collCircHolds      = "circHolds"
	collCircLoans      = "circLoans"
	collCircClaims     = "circCopyClaims"
	collCircClosedDays = "circClosedDays"
)

// circulationCollections lists them in index-creation order.
var circulationCollections = []string{collCircHolds, collCircLoans, collCircClaims, collCircClosedDays,
	collCircHistory, collCircHistorySettings}

// circulationIndexes are the indexes of the circulation collections. The
// unique ones are sparse on fields left out when they do not apply (see
// the package doc): on holds idemKey "<reader>|<key>", activeKey
// "<reader>|<work>" while active, slotKey "<reader>|<slot>" while active,
// copyKey (the barcode) while IN_TRANSIT or READY; on loans idemKey,
// slotKey, and copyKey while ACTIVE. A copy's claim is a document whose
// _id is the barcode.
func circulationIndexes() map[string][]mongodrv.IndexModel {
	plain := func(name string) *options.IndexOptionsBuilder { return options.Index().SetName(name) }
	uniqueSparse := func(name string) *options.IndexOptionsBuilder {
		return options.Index().SetName(name).SetUnique(true).SetSparse(true)
	}
	k := func(fields ...string) bson.D {
		d := bson.D{}
		for _, f := range fields {
			d = append(d, bson.E{Key: f, Value: 1})
		}
		return d
	}
	return map[string][]mongodrv.IndexModel{
		collCircHolds: {
			{Keys: k("idemKey"), Options: uniqueSparse("circHold_idemKey_unique")},
			{Keys: k("activeKey"), Options: uniqueSparse("circHold_activeKey_unique")},
			{Keys: k("slotKey"), Options: uniqueSparse("circHold_slotKey_unique")},
			{Keys: k("copyKey"), Options: uniqueSparse("circHold_copyKey_unique")},
			{Keys: k("workId", "createdAt"), Options: plain("workId_createdAt")},
			{Keys: k("readerId", "createdAt"), Options: plain("readerId_createdAt")},
			{Keys: k("pickupLibraryId", "state", "targetedAt"), Options: plain("pickup_state_targetedAt")},
			{Keys: k("state", "pickupDeadline"), Options: plain("state_pickupDeadline")},
			{Keys: k("state", "suspendedUntil"), Options: plain("state_suspendedUntil")},
		},
		collCircLoans: {
			{Keys: k("idemKey"), Options: uniqueSparse("circLoan_idemKey_unique")},
			{Keys: k("copyKey"), Options: uniqueSparse("circLoan_copyKey_unique")},
			{Keys: k("slotKey"), Options: uniqueSparse("circLoan_slotKey_unique")},
			{Keys: k("readerId", "checkedOutAt"), Options: plain("readerId_checkedOutAt")},
			{Keys: k("state", "notice", "dueAt"), Options: plain("state_notice_dueAt")},
			{Keys: k("state", "dueAt", "dueAtNs", "_id"), Options: plain("state_dueAt")},
		},
		collCircClosedDays: {
			{Keys: k("date", "libraryId"), Options: plain("date_libraryId")},
		},
		collCircHistory: historyIndexes(),
	}
}

// CirculationStore implements circulation.Store on the "circHolds",
// "circLoans", "circCopyClaims" and "circClosedDays" collections with
// single-document conditional writes only: holds and loans are replaced
// only when their version is the one read; a copy's claim changes hands
// with a FindOneAndUpdate whose filter is the holder read (or, for a free
// copy, an insert that only one caller can make); the unique sparse
// indexes keep one active hold per reader and work, distinct slots under
// the limits, and one hold or loan per copy.
type CirculationStore struct {
	holds, loans, claims, closed *mongodrv.Collection
	// history and historySettings keep reading histories (circulation_history.go).
	history, historySettings *mongodrv.Collection
}

var _ circulation.Store = (*CirculationStore)(nil)

func newCirculationStore(db *mongodrv.Database) *CirculationStore {
	return &CirculationStore{holds: db.Collection(collCircHolds), loans: db.Collection(collCircLoans),
		claims: db.Collection(collCircClaims), closed: db.Collection(collCircClosedDays),
		history: db.Collection(collCircHistory), historySettings: db.Collection(collCircHistorySettings)}
}

// findCirc is findAs for conversions that cannot fail.
func findCirc[D any, T any](ctx context.Context, c *mongodrv.Collection, filter any, opts *options.FindOptionsBuilder, conv func(*D) T) ([]T, error) {
	return findAs(ctx, c, filter, opts, func(d *D) (T, error) { return conv(d), nil })
}

// uniqueKey is one unique field of a document and the error it means.
type uniqueKey struct {
	field, value string
	err          error
}

// circUniqueError maps a write that broke a unique index to the domain's
// error. MongoDB reports a duplicate key; FerretDB reports a replace that
// breaks one as an internal "UNIQUE constraint failed" and names no index,
// so the document's keys are looked up, in order, on other documents.
func circUniqueError(ctx context.Context, err error, c *mongodrv.Collection, id string, keys []uniqueKey, fallback error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if !mongodrv.IsDuplicateKeyError(err) && !strings.Contains(msg, "UNIQUE constraint failed") {
		return err
	}
	for _, k := range keys {
		if k.value == "" {
			continue
		}
		if found, lerr := exists(ctx, c, bson.D{{Key: k.field, Value: k.value}, {Key: "_id", Value: bson.D{{Key: "$ne", Value: id}}}}); lerr == nil && found {
			return k.err
		}
	}
	return fallback
}

// ---- holds

type circHoldDoc struct {
	ID               string         `bson:"_id"`
	ReaderID         string         `bson:"readerId"`
	WorkID           string         `bson:"workId"`
	ItemBarcode      string         `bson:"itemBarcode"`
	PickupLibraryID  string         `bson:"pickupLibraryId"`
	State            string         `bson:"state"`
	CreatedAt        bson.DateTime  `bson:"createdAt"`
	CreatedAtNs      int32          `bson:"createdAtNs,omitempty"`
	SuspendedUntil   *bson.DateTime `bson:"suspendedUntil,omitempty"`
	SuspendedUntilNs int32          `bson:"suspendedUntilNs,omitempty"`
	Barcode          string         `bson:"barcode"`
	TargetedAt       *bson.DateTime `bson:"targetedAt,omitempty"`
	TargetedAtNs     int32          `bson:"targetedAtNs,omitempty"`
	ReadyAt          *bson.DateTime `bson:"readyAt,omitempty"`
	ReadyAtNs        int32          `bson:"readyAtNs,omitempty"`
	PickupDeadline   *bson.DateTime `bson:"pickupDeadline,omitempty"`
	PickupDeadlineNs int32          `bson:"pickupDeadlineNs,omitempty"`
	LoanID           string         `bson:"loanId"`
	EndedAt          *bson.DateTime `bson:"endedAt,omitempty"`
	EndedAtNs        int32          `bson:"endedAtNs,omitempty"`
	Slot             int            `bson:"slot"`
	IdempotencyKey   string         `bson:"idempotencyKey"`
	IdemKey          string         `bson:"idemKey,omitempty"`
	ActiveKey        string         `bson:"activeKey,omitempty"`
	SlotKey          string         `bson:"slotKey,omitempty"`
	CopyKey          string         `bson:"copyKey,omitempty"`
	Version          int            `bson:"version"`
}

func newCircHoldDoc(h *circulation.Hold) *circHoldDoc {
	d := &circHoldDoc{ID: h.ID, ReaderID: h.ReaderID, WorkID: h.WorkID, ItemBarcode: h.ItemBarcode,
		PickupLibraryID: h.PickupLibraryID, State: string(h.State), Barcode: h.Barcode, LoanID: h.LoanID, Slot: h.Slot,
		IdempotencyKey: h.IdempotencyKey, Version: h.Version}
	d.CreatedAt, d.CreatedAtNs = toDate(h.CreatedAt)
	d.SuspendedUntil, d.SuspendedUntilNs = toDatePtr(h.SuspendedUntil)
	d.TargetedAt, d.TargetedAtNs = toDatePtr(h.TargetedAt)
	d.ReadyAt, d.ReadyAtNs = toDatePtr(h.ReadyAt)
	d.PickupDeadline, d.PickupDeadlineNs = toDatePtr(h.PickupDeadline)
	d.EndedAt, d.EndedAtNs = toDatePtr(h.EndedAt)
	if h.IdempotencyKey != "" {
		d.IdemKey = h.ReaderID + "|" + h.IdempotencyKey
	}
	if h.State.Active() {
		d.ActiveKey = h.ReaderID + "|" + h.WorkID
		d.SlotKey = h.ReaderID + "|" + strconv.Itoa(h.Slot)
	}
	if h.State.HasCopy() {
		d.CopyKey = h.Barcode
	}
	return d
}

func (d *circHoldDoc) hold() *circulation.Hold {
	return &circulation.Hold{ID: d.ID, ReaderID: d.ReaderID, WorkID: d.WorkID, ItemBarcode: d.ItemBarcode,
		PickupLibraryID: d.PickupLibraryID, State: circulation.HoldState(d.State), CreatedAt: fromDate(d.CreatedAt, d.CreatedAtNs),
		SuspendedUntil: fromDatePtr(d.SuspendedUntil, d.SuspendedUntilNs), Barcode: d.Barcode,
		TargetedAt: fromDatePtr(d.TargetedAt, d.TargetedAtNs), ReadyAt: fromDatePtr(d.ReadyAt, d.ReadyAtNs),
		PickupDeadline: fromDatePtr(d.PickupDeadline, d.PickupDeadlineNs), LoanID: d.LoanID,
		EndedAt: fromDatePtr(d.EndedAt, d.EndedAtNs), Slot: d.Slot, IdempotencyKey: d.IdempotencyKey, Version: d.Version}
}

func (d *circHoldDoc) keys() []uniqueKey {
	return []uniqueKey{
		{"idemKey", d.IdemKey, circulation.ErrIdempotencyKeyUsed},
		{"activeKey", d.ActiveKey, circulation.ErrAlreadyOnHold},
		{"slotKey", d.SlotKey, circulation.ErrHoldSlotTaken},
		{"copyKey", d.CopyKey, circulation.ErrCopyAttached},
	}
}

// CreateHold implements circulation.Store.
func (s *CirculationStore) CreateHold(ctx context.Context, h *circulation.Hold) error {
	if h.ID == "" {
		h.ID = newID()
	}
	h.Version = 1
	d := newCircHoldDoc(h)
	if _, err := s.holds.InsertOne(ctx, d); err != nil {
		fallback := thuvienso.E(thuvienso.CodeConflict, "a hold with this ID already exists", "đã có lượt đặt giữ với mã này")
		return fmt.Errorf("creating hold: %w", circUniqueError(ctx, err, s.holds, d.ID, d.keys(), fallback))
	}
	return nil
}

func (s *CirculationStore) oneHold(ctx context.Context, filter any, what string) (*circulation.Hold, error) {
	var d circHoldDoc
	err := s.holds.FindOne(ctx, filter).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		err = thuvienso.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return d.hold(), nil
}

// Hold implements circulation.Store.
func (s *CirculationStore) Hold(ctx context.Context, id string) (*circulation.Hold, error) {
	return s.oneHold(ctx, byID(id), "hold "+id)
}

// HoldsByID implements circulation.Store.
func (s *CirculationStore) HoldsByID(ctx context.Context, ids []string) ([]*circulation.Hold, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	hs, err := findCirc(ctx, s.holds, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}, options.Find(), (*circHoldDoc).hold)
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
	return s.oneHold(ctx, bson.D{{Key: "idemKey", Value: readerID + "|" + key}}, "hold by key")
}

// HoldForCopy implements circulation.Store.
func (s *CirculationStore) HoldForCopy(ctx context.Context, barcode string) (*circulation.Hold, error) {
	return s.oneHold(ctx, bson.D{{Key: "copyKey", Value: barcode}}, "hold of copy "+barcode)
}

// HoldsForReader implements circulation.Store.
func (s *CirculationStore) HoldsForReader(ctx context.Context, readerID string, activeOnly bool) ([]*circulation.Hold, error) {
	f := bson.D{{Key: "readerId", Value: readerID}}
	if activeOnly {
		f = append(f, activeHold)
	}
	hs, err := findCirc(ctx, s.holds, f, options.Find().SetSort(queueOrder), (*circHoldDoc).hold)
	if err != nil {
		return nil, fmt.Errorf("holds of %s: %w", readerID, err)
	}
	return hs, nil
}

// ActiveHoldsForWork implements circulation.Store.
func (s *CirculationStore) ActiveHoldsForWork(ctx context.Context, workID string) ([]*circulation.Hold, error) {
	hs, err := findCirc(ctx, s.holds, bson.D{{Key: "workId", Value: workID}, activeHold},
		options.Find().SetSort(queueOrder), (*circHoldDoc).hold)
	if err != nil {
		return nil, fmt.Errorf("queue of %s: %w", workID, err)
	}
	return hs, nil
}

// ActiveHoldCounts implements circulation.Store.
func (s *CirculationStore) ActiveHoldCounts(ctx context.Context, workIDs []string) (map[string]int, error) {
	out, err := countActiveHolds(ctx, s.holds, "workId", workIDs)
	if err != nil {
		return nil, fmt.Errorf("hold counts: %w", err)
	}
	return out, nil
}

// HoldsAtPickup implements circulation.Store.
func (s *CirculationStore) HoldsAtPickup(ctx context.Context, libraryID string, state circulation.HoldState) ([]*circulation.Hold, error) {
	hs, err := findCirc(ctx, s.holds, bson.D{{Key: "pickupLibraryId", Value: libraryID}, {Key: "state", Value: string(state)},
		{Key: "copyKey", Value: bson.D{{Key: "$exists", Value: true}}}},
		options.Find().SetSort(bson.D{{Key: "targetedAt", Value: 1}, {Key: "targetedAtNs", Value: 1}, {Key: "_id", Value: 1}}),
		(*circHoldDoc).hold)
	if err != nil {
		return nil, fmt.Errorf("holds at %s: %w", libraryID, err)
	}
	return hs, nil
}

// HoldsDue implements circulation.Store.
func (s *CirculationStore) HoldsDue(ctx context.Context, state circulation.HoldState, t time.Time, limit int) ([]*circulation.Hold, error) {
	field := ""
	var deadline func(*circulation.Hold) time.Time
	switch state {
	case circulation.HoldReady:
		field, deadline = "pickupDeadline", func(h *circulation.Hold) time.Time { return *h.PickupDeadline }
	case circulation.HoldSuspended:
		field, deadline = "suspendedUntil", func(h *circulation.Hold) time.Time { return *h.SuspendedUntil }
	default:
		return nil, fmt.Errorf("holds due: no deadline for state %q", state)
	}
	d, _ := toDate(t)
	hs, err := findCirc(ctx, s.holds, bson.D{{Key: "state", Value: string(state)}, {Key: field, Value: bson.D{{Key: "$lte", Value: d}}}},
		options.Find().SetSort(bson.D{{Key: field, Value: 1}, {Key: field + "Ns", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(int64(limit)),
		(*circHoldDoc).hold)
	if err != nil {
		return nil, fmt.Errorf("holds due: %w", err)
	}
	// The filter compares milliseconds; drop those due later within the millisecond.
	return slices.DeleteFunc(hs, func(h *circulation.Hold) bool { return deadline(h).After(t) }), nil
}

// HoldsReadySince implements circulation.Store.
func (s *CirculationStore) HoldsReadySince(ctx context.Context, t time.Time, limit int) ([]*circulation.Hold, error) {
	d, _ := toDate(t)
	hs, err := findCirc(ctx, s.holds, bson.D{{Key: "state", Value: string(circulation.HoldReady)}, {Key: "readyAt", Value: bson.D{{Key: "$gte", Value: d}}}},
		options.Find().SetSort(bson.D{{Key: "readyAt", Value: -1}, {Key: "readyAtNs", Value: -1}, {Key: "_id", Value: -1}}).SetLimit(int64(limit)),
		(*circHoldDoc).hold)
	if err != nil {
		return nil, fmt.Errorf("holds ready since %s: %w", t, err)
	}
	// The filter compares milliseconds; drop those ready earlier within
	// the millisecond.
	return slices.DeleteFunc(hs, func(h *circulation.Hold) bool { return h.ReadyAt.Before(t) }), nil
}

// UpdateHold implements circulation.Store: a replace whose filter is the
// version read.
func (s *CirculationStore) UpdateHold(ctx context.Context, h *circulation.Hold) error {
	c := *h
	c.Version++
	d := newCircHoldDoc(&c)
	res, err := s.holds.ReplaceOne(ctx, bson.D{{Key: "_id", Value: h.ID}, {Key: "version", Value: h.Version}}, d)
	if err != nil {
		return fmt.Errorf("updating hold %s: %w", h.ID, circUniqueError(ctx, err, s.holds, d.ID, d.keys(), err))
	}
	if res.MatchedCount == 0 {
		if _, err := s.Hold(ctx, h.ID); err != nil {
			return err
		}
		return fmt.Errorf("updating hold %s: %w", h.ID, circulation.ErrStale)
	}
	h.Version++
	return nil
}

// ---- loans

type circLoanDoc struct {
	ID              string         `bson:"_id"`
	ReaderID        string         `bson:"readerId"`
	Barcode         string         `bson:"barcode"`
	WorkID          string         `bson:"workId"`
	LibraryID       string         `bson:"libraryId"`
	ItemLibraryID   string         `bson:"itemLibraryId"`
	HoldID          string         `bson:"holdId"`
	State           string         `bson:"state"`
	CheckedOutAt    bson.DateTime  `bson:"checkedOutAt"`
	CheckedOutAtNs  int32          `bson:"checkedOutAtNs,omitempty"`
	DueAt           bson.DateTime  `bson:"dueAt"`
	DueAtNs         int32          `bson:"dueAtNs,omitempty"`
	Renewals        int            `bson:"renewals"`
	ReturnedAt      *bson.DateTime `bson:"returnedAt,omitempty"`
	ReturnedAtNs    int32          `bson:"returnedAtNs,omitempty"`
	ReturnLibraryID string         `bson:"returnLibraryId"`
	Notice          int            `bson:"notice"`
	Slot            int            `bson:"slot"`
	IdempotencyKey  string         `bson:"idempotencyKey"`
	RenewKey        string         `bson:"renewKey"`
	IdemKey         string         `bson:"idemKey,omitempty"`
	CopyKey         string         `bson:"copyKey,omitempty"`
	SlotKey         string         `bson:"slotKey,omitempty"`
	Version         int            `bson:"version"`
}

func newCircLoanDoc(l *circulation.Loan) *circLoanDoc {
	d := &circLoanDoc{ID: l.ID, ReaderID: l.ReaderID, Barcode: l.Barcode, WorkID: l.WorkID, LibraryID: l.LibraryID,
		ItemLibraryID: l.ItemLibraryID, HoldID: l.HoldID, State: string(l.State), Renewals: l.Renewals,
		ReturnLibraryID: l.ReturnLibraryID, Notice: l.Notice, Slot: l.Slot, IdempotencyKey: l.IdempotencyKey,
		RenewKey: l.RenewKey, Version: l.Version}
	d.CheckedOutAt, d.CheckedOutAtNs = toDate(l.CheckedOutAt)
	d.DueAt, d.DueAtNs = toDate(l.DueAt)
	d.ReturnedAt, d.ReturnedAtNs = toDatePtr(l.ReturnedAt)
	if l.IdempotencyKey != "" {
		d.IdemKey = l.ReaderID + "|" + l.IdempotencyKey
	}
	if l.State == circulation.LoanActive {
		d.CopyKey = l.Barcode
		d.SlotKey = l.ReaderID + "|" + strconv.Itoa(l.Slot)
	}
	return d
}

func (d *circLoanDoc) loan() *circulation.Loan {
	return &circulation.Loan{ID: d.ID, ReaderID: d.ReaderID, Barcode: d.Barcode, WorkID: d.WorkID, LibraryID: d.LibraryID,
		ItemLibraryID: d.ItemLibraryID, HoldID: d.HoldID, State: circulation.LoanState(d.State),
		CheckedOutAt: fromDate(d.CheckedOutAt, d.CheckedOutAtNs), DueAt: fromDate(d.DueAt, d.DueAtNs), Renewals: d.Renewals,
		ReturnedAt: fromDatePtr(d.ReturnedAt, d.ReturnedAtNs), ReturnLibraryID: d.ReturnLibraryID, Notice: d.Notice,
		Slot: d.Slot, IdempotencyKey: d.IdempotencyKey, RenewKey: d.RenewKey, Version: d.Version}
}

func (d *circLoanDoc) keys() []uniqueKey {
	return []uniqueKey{
		{"idemKey", d.IdemKey, circulation.ErrIdempotencyKeyUsed},
		{"copyKey", d.CopyKey, circulation.ErrCopyOnLoan},
		{"slotKey", d.SlotKey, circulation.ErrLoanSlotTaken},
	}
}

// CreateLoan implements circulation.Store.
func (s *CirculationStore) CreateLoan(ctx context.Context, l *circulation.Loan) error {
	if l.ID == "" {
		l.ID = newID()
	}
	l.Version = 1
	d := newCircLoanDoc(l)
	if _, err := s.loans.InsertOne(ctx, d); err != nil {
		fallback := thuvienso.E(thuvienso.CodeConflict, "a loan with this ID already exists", "đã có lượt mượn với mã này")
		return fmt.Errorf("creating loan: %w", circUniqueError(ctx, err, s.loans, d.ID, d.keys(), fallback))
	}
	return nil
}

func (s *CirculationStore) oneLoan(ctx context.Context, filter any, what string) (*circulation.Loan, error) {
	var d circLoanDoc
	err := s.loans.FindOne(ctx, filter).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		err = thuvienso.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return d.loan(), nil
}

// Loan implements circulation.Store.
func (s *CirculationStore) Loan(ctx context.Context, id string) (*circulation.Loan, error) {
	return s.oneLoan(ctx, byID(id), "loan "+id)
}

// LoansByID implements circulation.Store.
func (s *CirculationStore) LoansByID(ctx context.Context, ids []string) ([]*circulation.Loan, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	ls, err := findCirc(ctx, s.loans, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}, options.Find(), (*circLoanDoc).loan)
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
	return s.oneLoan(ctx, bson.D{{Key: "idemKey", Value: readerID + "|" + key}}, "loan by key")
}

// ActiveLoanForCopy implements circulation.Store.
func (s *CirculationStore) ActiveLoanForCopy(ctx context.Context, barcode string) (*circulation.Loan, error) {
	return s.oneLoan(ctx, bson.D{{Key: "copyKey", Value: barcode}}, "loan of copy "+barcode)
}

// ActiveLoansForCopies implements circulation.Store.
func (s *CirculationStore) ActiveLoansForCopies(ctx context.Context, barcodes []string) ([]*circulation.Loan, error) {
	if len(barcodes) == 0 {
		return nil, nil
	}
	ls, err := findCirc(ctx, s.loans, bson.D{{Key: "copyKey", Value: bson.D{{Key: "$in", Value: barcodes}}}}, options.Find(), (*circLoanDoc).loan)
	if err != nil {
		return nil, fmt.Errorf("loans of copies: %w", err)
	}
	return ls, nil
}

// LoansForReader implements circulation.Store.
func (s *CirculationStore) LoansForReader(ctx context.Context, readerID string, activeOnly bool) ([]*circulation.Loan, error) {
	f := bson.D{{Key: "readerId", Value: readerID}}
	if activeOnly {
		f = append(f, bson.E{Key: "state", Value: string(circulation.LoanActive)})
	}
	ls, err := findCirc(ctx, s.loans, f, options.Find().SetSort(bson.D{{Key: "checkedOutAt", Value: 1},
		{Key: "checkedOutAtNs", Value: 1}, {Key: "_id", Value: 1}}), (*circLoanDoc).loan)
	if err != nil {
		return nil, fmt.Errorf("loans of %s: %w", readerID, err)
	}
	return ls, nil
}

// LoansToNotify implements circulation.Store.
func (s *CirculationStore) LoansToNotify(ctx context.Context, level int, t time.Time, limit int) ([]*circulation.Loan, error) {
	d, _ := toDate(t)
	ls, err := findCirc(ctx, s.loans, bson.D{{Key: "state", Value: string(circulation.LoanActive)},
		{Key: "notice", Value: bson.D{{Key: "$lt", Value: level}}}, {Key: "dueAt", Value: bson.D{{Key: "$lte", Value: d}}}},
		options.Find().SetSort(bson.D{{Key: "dueAt", Value: 1}, {Key: "dueAtNs", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(int64(limit)),
		(*circLoanDoc).loan)
	if err != nil {
		return nil, fmt.Errorf("loans to notify: %w", err)
	}
	return slices.DeleteFunc(ls, func(l *circulation.Loan) bool { return l.DueAt.After(t) }), nil
}

// ActiveLoansDue implements circulation.Store. The position is compared
// field by field (dueAt in milliseconds, then dueAtNs, which is absent when
// zero, then _id), so that a page starts exactly after the last loan of
// the previous one however many loans share a due time.
func (s *CirculationStore) ActiveLoansDue(ctx context.Context, afterDue time.Time, afterID string, until time.Time, limit int) ([]*circulation.Loan, error) {
	a, aNs := toDate(afterDue)
	u, _ := toDate(until)
	sameNs := bson.E{Key: "dueAtNs", Value: aNs}
	if aNs == 0 {
		sameNs = bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "dueAtNs", Value: int32(0)}},
			bson.D{{Key: "dueAtNs", Value: bson.D{{Key: "$exists", Value: false}}}},
		}}
	}
	filter := bson.D{
		{Key: "state", Value: string(circulation.LoanActive)},
		{Key: "dueAt", Value: bson.D{{Key: "$lte", Value: u}}},
		{Key: "$or", Value: bson.A{
			bson.D{{Key: "dueAt", Value: bson.D{{Key: "$gt", Value: a}}}},
			bson.D{{Key: "dueAt", Value: a}, {Key: "dueAtNs", Value: bson.D{{Key: "$gt", Value: aNs}}}},
			bson.D{{Key: "dueAt", Value: a}, sameNs, {Key: "_id", Value: bson.D{{Key: "$gt", Value: afterID}}}},
		}},
	}
	ls, err := findCirc(ctx, s.loans, filter,
		options.Find().SetSort(bson.D{{Key: "dueAt", Value: 1}, {Key: "dueAtNs", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(int64(limit)),
		(*circLoanDoc).loan)
	if err != nil {
		return nil, fmt.Errorf("loans due: %w", err)
	}
	return notAfter(ls, until, func(l *circulation.Loan) time.Time { return l.DueAt }), nil
}

// UpdateLoan implements circulation.Store: a replace whose filter is the
// version read.
func (s *CirculationStore) UpdateLoan(ctx context.Context, l *circulation.Loan) error {
	c := *l
	c.Version++
	d := newCircLoanDoc(&c)
	res, err := s.loans.ReplaceOne(ctx, bson.D{{Key: "_id", Value: l.ID}, {Key: "version", Value: l.Version}}, d)
	if err != nil {
		return fmt.Errorf("updating loan %s: %w", l.ID, circUniqueError(ctx, err, s.loans, d.ID, d.keys(), err))
	}
	if res.MatchedCount == 0 {
		if _, err := s.Loan(ctx, l.ID); err != nil {
			return err
		}
		return fmt.Errorf("updating loan %s: %w", l.ID, circulation.ErrStale)
	}
	l.Version++
	return nil
}

// ---- copy claims

type claimDoc struct {
	Barcode     string        `bson:"_id"`
	Holder      string        `bson:"holder"`
	ClaimedAt   bson.DateTime `bson:"claimedAt"`
	ClaimedAtNs int32         `bson:"claimedAtNs"`
}

// CopyClaim implements circulation.Store.
func (s *CirculationStore) CopyClaim(ctx context.Context, barcode string) (*circulation.CopyClaim, error) {
	var d claimDoc
	err := s.claims.FindOne(ctx, byID(barcode)).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		err = thuvienso.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("claim of copy %s: %w", barcode, err)
	}
	return &circulation.CopyClaim{Barcode: d.Barcode, Holder: d.Holder, ClaimedAt: fromDate(d.ClaimedAt, d.ClaimedAtNs)}, nil
}

// ClaimCopy implements circulation.Store: a FindOneAndUpdate whose filter
// is the holder read; a copy never claimed is claimed by inserting its
// document, which only one caller can do.
func (s *CirculationStore) ClaimCopy(ctx context.Context, barcode, from, to string, at time.Time) error {
	date, ns := toDate(at)
	set := bson.D{{Key: "$set", Value: bson.D{{Key: "holder", Value: to}, {Key: "claimedAt", Value: date}, {Key: "claimedAtNs", Value: ns}}}}
	err := s.claims.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: barcode}, {Key: "holder", Value: from}}, set).Err()
	if errors.Is(err, mongodrv.ErrNoDocuments) && from == "" {
		_, err = s.claims.InsertOne(ctx, &claimDoc{Barcode: barcode, Holder: to, ClaimedAt: date, ClaimedAtNs: ns})
		if mongodrv.IsDuplicateKeyError(err) {
			err = mongodrv.ErrNoDocuments // claimed meanwhile
		}
	}
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		err = circulation.ErrClaimLost
	}
	if err != nil {
		return fmt.Errorf("claiming copy %s: %w", barcode, err)
	}
	return nil
}

// ---- closed days

type closedDayDoc struct {
	ID        string `bson:"_id"` // "<library>|<date>"
	LibraryID string `bson:"libraryId"`
	Date      string `bson:"date"`
	Reason    string `bson:"reason"`
}

// PutClosedDay implements circulation.Store.
func (s *CirculationStore) PutClosedDay(ctx context.Context, d *circulation.ClosedDay) error {
	doc := &closedDayDoc{ID: d.LibraryID + "|" + d.Date, LibraryID: d.LibraryID, Date: d.Date, Reason: d.Reason}
	if _, err := s.closed.ReplaceOne(ctx, byID(doc.ID), doc, options.Replace().SetUpsert(true)); err != nil {
		return fmt.Errorf("adding closed day %s: %w", d.Date, err)
	}
	return nil
}

// DeleteClosedDay implements circulation.Store.
func (s *CirculationStore) DeleteClosedDay(ctx context.Context, libraryID, date string) error {
	res, err := s.closed.DeleteOne(ctx, byID(libraryID+"|"+date))
	if err != nil {
		return fmt.Errorf("removing closed day %s: %w", date, err)
	}
	if res.DeletedCount == 0 {
		return fmt.Errorf("removing closed day %s: %w", date, thuvienso.ErrNotFound)
	}
	return nil
}

// ClosedDays implements circulation.Store.
func (s *CirculationStore) ClosedDays(ctx context.Context, libraryIDs []string, from, to string) ([]*circulation.ClosedDay, error) {
	if libraryIDs == nil {
		libraryIDs = []string{}
	}
	ds, err := findCirc(ctx, s.closed, bson.D{{Key: "libraryId", Value: bson.D{{Key: "$in", Value: libraryIDs}}},
		{Key: "date", Value: bson.D{{Key: "$gte", Value: from}, {Key: "$lte", Value: to}}}},
		options.Find().SetSort(bson.D{{Key: "date", Value: 1}, {Key: "libraryId", Value: 1}}),
		func(d *closedDayDoc) *circulation.ClosedDay {
			return &circulation.ClosedDay{LibraryID: d.LibraryID, Date: d.Date, Reason: d.Reason}
		})
	if err != nil {
		return nil, fmt.Errorf("closed days: %w", err)
	}
	return ds, nil
}
