package mongo

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/ebooks"
)

// E-book collections.
const (
	collEbookTitles   = "ebookTitles"
	collEbookLicenses = "ebookLicenses"
	collEbookLoans    = "ebookLoans"
	collEbookHolds    = "ebookHolds"
	collEvents        = "events"
)

// Index names of unique e-book indexes.
const (
	idxLoanIdem   = "loan_idemKey_unique"
	idxLoanActive = "loan_activeKey_unique"
	idxLoanSlot   = "loan_slotKey_unique"
	idxHoldIdem   = "hold_idemKey_unique"
	idxHoldActive = "hold_activeKey_unique"
)

// ebookIndexes are the indexes of the e-book and event collections. The
// unique ones are sparse on fields left out when empty (see the package
// doc): activeKey "<reader>|<title>" exists only while a loan is ACTIVE or
// a hold is in the queue, slotKey "<reader>|<slot>" only while a loan is
// ACTIVE (a reader's active loans take distinct slots below the loan
// limit), idemKey "<reader>|<key>" only with a key.
func ebookIndexes() map[string][]mongodrv.IndexModel {
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
		collEbookTitles: {
			{Keys: k("workId", "_id"), Options: plain("workId_id")},
			{Keys: k("format", "_id"), Options: plain("format_id")},
		},
		collEbookLicenses: {
			{Keys: k("titleId", "_id"), Options: plain("titleId_id")},
			{Keys: k("inUse", "_id"), Options: plain("inUse_id")},
		},
		collEbookLoans: {
			{Keys: k("idemKey"), Options: uniqueSparse(idxLoanIdem)},
			{Keys: k("activeKey"), Options: uniqueSparse(idxLoanActive)},
			{Keys: k("slotKey"), Options: uniqueSparse(idxLoanSlot)},
			{Keys: k("readerId", "startedAt"), Options: plain("readerId_startedAt")},
			{Keys: k("state", "endsAt"), Options: plain("state_endsAt")},
			{Keys: k("titleId", "state"), Options: plain("titleId_state")},
		},
		collEbookHolds: {
			{Keys: k("idemKey"), Options: uniqueSparse(idxHoldIdem)},
			{Keys: k("activeKey"), Options: uniqueSparse(idxHoldActive)},
			{Keys: k("readerId", "createdAt"), Options: plain("readerId_createdAt")},
			{Keys: k("titleId", "state", "createdAt"), Options: plain("titleId_state_createdAt")},
			{Keys: k("state", "reservedUntil"), Options: plain("state_reservedUntil")},
			{Keys: k("state", "suspendedUntil"), Options: plain("state_suspendedUntil")},
		},
		collEvents: {
			{Keys: k("handled", "recordedAt"), Options: plain("handled_recordedAt")},
			{Keys: k("readerId", "recordedAt"), Options: plain("readerId_recordedAt")},
		},
	}
}

// EbookStore implements ebooks.Store on the "ebookTitles",
// "ebookLicenses", "ebookLoans" and "ebookHolds" collections, with single
// document conditional updates only: a license document carries its seats
// (a sub-document keyed by holder ID) and counters, so taking, giving back
// and handing over a copy is one FindOneAndUpdate/UpdateOne whose filter
// holds the precondition; loans and holds are replaced only when their
// version is the one read.
type EbookStore struct {
	titles, licenses, loans, holds *mongodrv.Collection
}

var _ ebooks.Store = (*EbookStore)(nil)

func newEbookStore(db *mongodrv.Database) *EbookStore {
	return &EbookStore{
		titles: db.Collection(collEbookTitles), licenses: db.Collection(collEbookLicenses),
		loans: db.Collection(collEbookLoans), holds: db.Collection(collEbookHolds),
	}
}

// inIDs is the filter {$in: ids}.
func inIDs(ids []string) bson.D { return bson.D{{Key: "$in", Value: ids}} }

// notAfter keeps the values whose time is at or before t: stores filter on
// the millisecond date, this checks the nanoseconds.
func notAfter[T any](vs []T, t time.Time, at func(T) time.Time) []T {
	return slices.DeleteFunc(vs, func(v T) bool { return at(v).After(t) })
}

// ---- titles

type titleDoc struct {
	ID          string        `bson:"_id"`
	WorkID      string        `bson:"workId"`
	Format      string        `bson:"format"`
	Name        string        `bson:"name"`
	Authors     []string      `bson:"authors"`
	Language    string        `bson:"language"`
	Publisher   string        `bson:"publisher"`
	Summary     string        `bson:"summary"`
	ContentRef  string        `bson:"contentRef"`
	SearchText  string        `bson:"searchText"`
	CreatedAt   bson.DateTime `bson:"createdAt"`
	CreatedAtNs int32         `bson:"createdAtNs,omitempty"`
}

func (d *titleDoc) title() (*ebooks.Title, error) {
	authors := d.Authors
	if authors == nil {
		authors = []string{}
	}
	return &ebooks.Title{ID: d.ID, WorkID: d.WorkID, Format: ebooks.Format(d.Format), Name: d.Name, Authors: authors,
		Language: d.Language, Publisher: d.Publisher, Summary: d.Summary, ContentRef: d.ContentRef,
		SearchText: d.SearchText, CreatedAt: fromDate(d.CreatedAt, d.CreatedAtNs)}, nil
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
	d := &titleDoc{ID: t.ID, WorkID: t.WorkID, Format: string(t.Format), Name: t.Name, Authors: authors,
		Language: t.Language, Publisher: t.Publisher, Summary: t.Summary, ContentRef: t.ContentRef, SearchText: t.SearchText}
	d.CreatedAt, d.CreatedAtNs = toDate(t.CreatedAt)
	_, err := s.titles.InsertOne(ctx, d)
	if mongodrv.IsDuplicateKeyError(err) {
		err = ebooks.ErrTitleExists
	}
	if err != nil {
		return fmt.Errorf("creating e-book title: %w", err)
	}
	return nil
}

// Title implements ebooks.Store.
func (s *EbookStore) Title(ctx context.Context, id string) (*ebooks.Title, error) {
	var d titleDoc
	err := s.titles.FindOne(ctx, byID(id)).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		err = thuvienso.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("e-book title %s: %w", id, err)
	}
	return d.title()
}

// TitlesByID implements ebooks.Store.
func (s *EbookStore) TitlesByID(ctx context.Context, ids []string) ([]*ebooks.Title, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	ts, err := findAs(ctx, s.titles, bson.D{{Key: "_id", Value: inIDs(ids)}}, options.Find(), (*titleDoc).title)
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
	f := bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: q.AfterID}}}}
	if q.Format != "" {
		f = append(f, bson.E{Key: "format", Value: string(q.Format)})
	}
	if q.Text != "" {
		f = append(f, bson.E{Key: "searchText", Value: bson.D{{Key: "$regex", Value: regexp.QuoteMeta(q.Text)}}})
	}
	ts, err := findAs(ctx, s.titles, f, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(limit)), (*titleDoc).title)
	if err != nil {
		return nil, fmt.Errorf("listing e-book titles: %w", err)
	}
	return ts, nil
}

// TitlesForWork implements ebooks.Store.
func (s *EbookStore) TitlesForWork(ctx context.Context, workID string) ([]*ebooks.Title, error) {
	ts, err := findAs(ctx, s.titles, bson.D{{Key: "workId", Value: workID}},
		options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}), (*titleDoc).title)
	if err != nil {
		return nil, fmt.Errorf("e-book titles of work %s: %w", workID, err)
	}
	return ts, nil
}

// ---- licenses

type seatDoc struct {
	Kind string        `bson:"kind"`
	At   bson.DateTime `bson:"at"`
	AtNs int32         `bson:"atNs,omitempty"`
}

type licenseDoc struct {
	ID             string             `bson:"_id"`
	TitleID        string             `bson:"titleId"`
	Model          string             `bson:"model"`
	Scope          string             `bson:"scope"`
	LibraryID      string             `bson:"libraryId"`
	DistrictWide   bool               `bson:"districtWide"`
	Concurrency    int                `bson:"concurrency"`
	CheckoutsTotal int                `bson:"checkoutsTotal"`
	CheckoutsLeft  int                `bson:"checkoutsLeft"`
	ExpiresAt      *bson.DateTime     `bson:"expiresAt,omitempty"`
	ExpiresAtNs    int32              `bson:"expiresAtNs,omitempty"`
	MaxLoanDays    int                `bson:"maxLoanDays"`
	Available      int                `bson:"available"`
	InUse          int                `bson:"inUse"`
	Seats          map[string]seatDoc `bson:"seats"`
	CreatedAt      bson.DateTime      `bson:"createdAt"`
	CreatedAtNs    int32              `bson:"createdAtNs,omitempty"`
}

func (d *licenseDoc) license() (*ebooks.License, error) {
	l := &ebooks.License{ID: d.ID, TitleID: d.TitleID, Model: ebooks.Model(d.Model), Scope: ebooks.Scope(d.Scope),
		LibraryID: d.LibraryID, DistrictWide: d.DistrictWide, Concurrency: d.Concurrency,
		CheckoutsTotal: d.CheckoutsTotal, CheckoutsLeft: d.CheckoutsLeft, ExpiresAt: fromDatePtr(d.ExpiresAt, d.ExpiresAtNs),
		MaxLoanDays: d.MaxLoanDays, Available: d.Available, InUse: d.InUse, Seats: map[string]ebooks.Seat{},
		CreatedAt: fromDate(d.CreatedAt, d.CreatedAtNs)}
	for id, sd := range d.Seats {
		l.Seats[id] = ebooks.Seat{HolderID: id, Kind: ebooks.SeatKind(sd.Kind), AcquiredAt: fromDate(sd.At, sd.AtNs)}
	}
	return l, nil
}

// CreateLicense implements ebooks.Store.
func (s *EbookStore) CreateLicense(ctx context.Context, l *ebooks.License) error {
	if l.ID == "" {
		l.ID = newID()
	}
	l.Available, l.InUse, l.Seats = l.Concurrency, 0, map[string]ebooks.Seat{}
	d := &licenseDoc{ID: l.ID, TitleID: l.TitleID, Model: string(l.Model), Scope: string(l.Scope), LibraryID: l.LibraryID,
		DistrictWide: l.DistrictWide, Concurrency: l.Concurrency, CheckoutsTotal: l.CheckoutsTotal,
		CheckoutsLeft: l.CheckoutsLeft, MaxLoanDays: l.MaxLoanDays, Available: l.Available, Seats: map[string]seatDoc{}}
	d.ExpiresAt, d.ExpiresAtNs = toDatePtr(l.ExpiresAt)
	d.CreatedAt, d.CreatedAtNs = toDate(l.CreatedAt)
	_, err := s.licenses.InsertOne(ctx, d)
	if mongodrv.IsDuplicateKeyError(err) {
		err = thuvienso.E(thuvienso.CodeConflict, "an e-book license with this ID already exists", "đã có giấy phép với mã này")
	}
	if err != nil {
		return fmt.Errorf("creating e-book license: %w", err)
	}
	return nil
}

// License implements ebooks.Store.
func (s *EbookStore) License(ctx context.Context, id string) (*ebooks.License, error) {
	var d licenseDoc
	err := s.licenses.FindOne(ctx, byID(id)).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		err = thuvienso.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("e-book license %s: %w", id, err)
	}
	return d.license()
}

// LicensesForTitles implements ebooks.Store.
func (s *EbookStore) LicensesForTitles(ctx context.Context, titleIDs []string) ([]*ebooks.License, error) {
	if len(titleIDs) == 0 {
		return nil, nil
	}
	ls, err := findAs(ctx, s.licenses, bson.D{{Key: "titleId", Value: inIDs(titleIDs)}},
		options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}), (*licenseDoc).license)
	if err != nil {
		return nil, fmt.Errorf("e-book licenses: %w", err)
	}
	return ls, nil
}

// LicensesInUse implements ebooks.Store.
func (s *EbookStore) LicensesInUse(ctx context.Context, afterID string, limit int) ([]*ebooks.License, error) {
	ls, err := findAs(ctx, s.licenses, bson.D{
		{Key: "inUse", Value: bson.D{{Key: "$gt", Value: 0}}},
		{Key: "_id", Value: bson.D{{Key: "$gt", Value: afterID}}},
	}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(limit)), (*licenseDoc).license)
	if err != nil {
		return nil, fmt.Errorf("e-book licenses in use: %w", err)
	}
	return ls, nil
}

// seatField is the path of a holder's seat; holder IDs are generated IDs,
// but one with a path character is refused rather than misread.
func seatField(holderID string) (string, error) {
	if holderID == "" || strings.ContainsAny(holderID, ".$") {
		return "", thuvienso.Invalid("holderId", "invalid seat holder ID", "mã người giữ bản không hợp lệ")
	}
	return "seats." + holderID, nil
}

// AcquireSeat implements ebooks.Store with one conditional update: the
// filter requires a free copy, a checkout left and an unexpired license
// (each only when the license is limited that way) and no seat of the
// holder; the update takes the seat and moves the counters.
func (s *EbookStore) AcquireSeat(ctx context.Context, licenseID string, seat ebooks.Seat, now time.Time) (*ebooks.License, error) {
	field, err := seatField(seat.HolderID)
	if err != nil {
		return nil, err
	}
	l, err := s.License(ctx, licenseID)
	if err != nil {
		return nil, err
	}
	if _, ok := l.Seats[seat.HolderID]; ok {
		return l, nil // a retry
	}
	if !l.Usable(now) {
		return nil, fmt.Errorf("taking a copy of license %s: %w", licenseID, ebooks.ErrNoSeat)
	}
	filter := bson.D{{Key: "_id", Value: licenseID}, {Key: field, Value: bson.D{{Key: "$exists", Value: false}}}}
	inc := bson.D{{Key: "inUse", Value: 1}}
	if l.Limited() {
		filter = append(filter, bson.E{Key: "available", Value: bson.D{{Key: "$gt", Value: 0}}})
		inc = append(inc, bson.E{Key: "available", Value: -1})
	}
	if l.Metered() {
		filter = append(filter, bson.E{Key: "checkoutsLeft", Value: bson.D{{Key: "$gt", Value: 0}}})
		inc = append(inc, bson.E{Key: "checkoutsLeft", Value: -1})
	}
	if l.ExpiresAt != nil {
		nowDate, _ := toDate(now)
		filter = append(filter, bson.E{Key: "expiresAt", Value: bson.D{{Key: "$gt", Value: nowDate}}})
	}
	at, atNs := toDate(seat.AcquiredAt)
	update := bson.D{
		{Key: "$inc", Value: inc},
		{Key: "$set", Value: bson.D{{Key: field, Value: seatDoc{Kind: string(seat.Kind), At: at, AtNs: atNs}}}},
	}
	var d licenseDoc
	err = s.licenses.FindOneAndUpdate(ctx, filter, update, options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		if cur, lerr := s.License(ctx, licenseID); lerr == nil {
			if _, ok := cur.Seats[seat.HolderID]; ok {
				return cur, nil // a concurrent retry of the same holder won
			}
		}
		err = ebooks.ErrNoSeat
	}
	if err != nil {
		return nil, fmt.Errorf("taking a copy of license %s: %w", licenseID, err)
	}
	return d.license()
}

// ReleaseSeat implements ebooks.Store: the filter names the seat with the
// kind read, so only the call that removes it moves the counters (and a
// seat handed over meanwhile is read again).
func (s *EbookStore) ReleaseSeat(ctx context.Context, licenseID, holderID string) (bool, error) {
	field, err := seatField(holderID)
	if err != nil {
		return false, err
	}
	for range 10 {
		l, err := s.License(ctx, licenseID)
		if errors.Is(err, thuvienso.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		seat, ok := l.Seats[holderID]
		if !ok {
			return false, nil
		}
		inc := bson.D{{Key: "inUse", Value: -1}}
		if l.Limited() {
			inc = append(inc, bson.E{Key: "available", Value: 1})
		}
		if l.Metered() && seat.Kind == ebooks.SeatHold {
			inc = append(inc, bson.E{Key: "checkoutsLeft", Value: 1})
		}
		res, err := s.licenses.UpdateOne(ctx,
			bson.D{{Key: "_id", Value: licenseID}, {Key: field + ".kind", Value: string(seat.Kind)}, {Key: "inUse", Value: bson.D{{Key: "$gt", Value: 0}}}},
			bson.D{{Key: "$unset", Value: bson.D{{Key: field, Value: ""}}}, {Key: "$inc", Value: inc}})
		if err != nil {
			return false, fmt.Errorf("giving back a copy of license %s: %w", licenseID, err)
		}
		if res.ModifiedCount == 1 {
			return true, nil
		}
	}
	return false, fmt.Errorf("giving back a copy of license %s: %w", licenseID, ebooks.ErrStale)
}

// TransferSeat implements ebooks.Store.
func (s *EbookStore) TransferSeat(ctx context.Context, licenseID, fromID string, seat ebooks.Seat, now time.Time) (bool, error) {
	from, err := seatField(fromID)
	if err != nil {
		return false, err
	}
	to, err := seatField(seat.HolderID)
	if err != nil {
		return false, err
	}
	filter := bson.D{{Key: "_id", Value: licenseID}, {Key: from, Value: bson.D{{Key: "$exists", Value: true}}},
		{Key: "$or", Value: bson.A{
			bson.D{{Key: "expiresAt", Value: bson.D{{Key: "$exists", Value: false}}}},
			bson.D{{Key: "expiresAt", Value: bson.D{{Key: "$gt", Value: bson.DateTime(now.UnixMilli())}}}},
		}}}
	at, atNs := toDate(seat.AcquiredAt)
	res, err := s.licenses.UpdateOne(ctx, filter, bson.D{
		{Key: "$unset", Value: bson.D{{Key: from, Value: ""}}},
		{Key: "$set", Value: bson.D{{Key: to, Value: seatDoc{Kind: string(seat.Kind), At: at, AtNs: atNs}}}},
	})
	if err != nil {
		return false, fmt.Errorf("handing over a copy of license %s: %w", licenseID, err)
	}
	return res.ModifiedCount == 1, nil
}

// ---- loans

type loanDoc struct {
	ID             string         `bson:"_id"`
	TitleID        string         `bson:"titleId"`
	LicenseID      string         `bson:"licenseId"`
	ReaderID       string         `bson:"readerId"`
	State          string         `bson:"state"`
	StartedAt      bson.DateTime  `bson:"startedAt"`
	StartedAtNs    int32          `bson:"startedAtNs,omitempty"`
	EndsAt         bson.DateTime  `bson:"endsAt"`
	EndsAtNs       int32          `bson:"endsAtNs,omitempty"`
	EndedAt        *bson.DateTime `bson:"endedAt,omitempty"`
	EndedAtNs      int32          `bson:"endedAtNs,omitempty"`
	Renewals       int            `bson:"renewals"`
	HoldID         string         `bson:"holdId"`
	IdempotencyKey string         `bson:"idempotencyKey"`
	Slot           int            `bson:"slot"`
	IdemKey        string         `bson:"idemKey,omitempty"`
	ActiveKey      string         `bson:"activeKey,omitempty"`
	SlotKey        string         `bson:"slotKey,omitempty"`
	Version        int            `bson:"version"`
}

func newLoanDoc(l *ebooks.Loan) *loanDoc {
	d := &loanDoc{ID: l.ID, TitleID: l.TitleID, LicenseID: l.LicenseID, ReaderID: l.ReaderID, State: string(l.State),
		Renewals: l.Renewals, HoldID: l.HoldID, IdempotencyKey: l.IdempotencyKey, Slot: l.Slot, Version: l.Version}
	d.StartedAt, d.StartedAtNs = toDate(l.StartedAt)
	d.EndsAt, d.EndsAtNs = toDate(l.EndsAt)
	d.EndedAt, d.EndedAtNs = toDatePtr(l.EndedAt)
	if l.IdempotencyKey != "" {
		d.IdemKey = l.ReaderID + "|" + l.IdempotencyKey
	}
	if l.State == ebooks.LoanActive {
		d.ActiveKey = l.ReaderID + "|" + l.TitleID
		d.SlotKey = l.ReaderID + "|" + strconv.Itoa(l.Slot)
	}
	return d
}

func (d *loanDoc) loan() (*ebooks.Loan, error) {
	return &ebooks.Loan{ID: d.ID, TitleID: d.TitleID, LicenseID: d.LicenseID, ReaderID: d.ReaderID,
		State: ebooks.LoanState(d.State), StartedAt: fromDate(d.StartedAt, d.StartedAtNs), EndsAt: fromDate(d.EndsAt, d.EndsAtNs),
		EndedAt: fromDatePtr(d.EndedAt, d.EndedAtNs), Renewals: d.Renewals, HoldID: d.HoldID,
		IdempotencyKey: d.IdempotencyKey, Slot: d.Slot, Version: d.Version}, nil
}

// pairKeys are the unique keys of a loan or hold document being inserted
// (empty when absent), which pairWriteError looks up.
type pairKeys struct{ idem, active, slot string }

// pairWriteError maps a duplicate key on an e-book loan or hold to the
// domain error. MongoDB names the index; FerretDB does not, so then the
// keys of the document are looked up. A document can break several unique
// indexes, and the server names one: a reused idempotency key or a second
// active loan of the title says more than a taken slot (no other slot would
// help), so a slot is named only when neither is taken.
func pairWriteError(ctx context.Context, err error, c *mongodrv.Collection, keys pairKeys, active error) error {
	if !mongodrv.IsDuplicateKeyError(err) {
		return err
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, idxLoanIdem), strings.Contains(msg, idxHoldIdem):
		return ebooks.ErrIdempotencyKeyUsed
	case strings.Contains(msg, idxLoanActive), strings.Contains(msg, idxHoldActive):
		return active
	}
	taken := func(field, value string) bool {
		if value == "" {
			return false
		}
		found, lerr := exists(ctx, c, bson.D{{Key: field, Value: value}})
		return lerr == nil && found
	}
	switch {
	case taken("idemKey", keys.idem):
		return ebooks.ErrIdempotencyKeyUsed
	case taken("activeKey", keys.active):
		return active
	case strings.Contains(msg, idxLoanSlot), taken("slotKey", keys.slot):
		return ebooks.ErrLoanSlotTaken
	}
	return active
}

// CreateLoan implements ebooks.Store.
func (s *EbookStore) CreateLoan(ctx context.Context, l *ebooks.Loan) error {
	if l.ID == "" {
		l.ID = newID()
	}
	l.Version = 1
	d := newLoanDoc(l)
	if _, err := s.loans.InsertOne(ctx, d); err != nil {
		return fmt.Errorf("creating e-book loan: %w", pairWriteError(ctx, err, s.loans, pairKeys{d.IdemKey, d.ActiveKey, d.SlotKey}, ebooks.ErrAlreadyBorrowed))
	}
	return nil
}

// Loan implements ebooks.Store.
func (s *EbookStore) Loan(ctx context.Context, id string) (*ebooks.Loan, error) {
	return s.oneLoan(ctx, byID(id), "e-book loan "+id)
}

func (s *EbookStore) oneLoan(ctx context.Context, filter any, what string) (*ebooks.Loan, error) {
	var d loanDoc
	err := s.loans.FindOne(ctx, filter).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		err = thuvienso.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return d.loan()
}

// LoansByID implements ebooks.Store.
func (s *EbookStore) LoansByID(ctx context.Context, ids []string) ([]*ebooks.Loan, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	ls, err := findAs(ctx, s.loans, bson.D{{Key: "_id", Value: inIDs(ids)}}, options.Find(), (*loanDoc).loan)
	if err != nil {
		return nil, fmt.Errorf("e-book loans by id: %w", err)
	}
	return ls, nil
}

// LoanByIdempotencyKey implements ebooks.Store.
func (s *EbookStore) LoanByIdempotencyKey(ctx context.Context, readerID, key string) (*ebooks.Loan, error) {
	if key == "" {
		return nil, fmt.Errorf("e-book loan by key: %w", thuvienso.ErrNotFound)
	}
	return s.oneLoan(ctx, bson.D{{Key: "idemKey", Value: readerID + "|" + key}}, "e-book loan by key")
}

var loanOrder = bson.D{{Key: "startedAt", Value: 1}, {Key: "startedAtNs", Value: 1}, {Key: "_id", Value: 1}}

// LoansForReader implements ebooks.Store.
func (s *EbookStore) LoansForReader(ctx context.Context, readerID string, activeOnly bool) ([]*ebooks.Loan, error) {
	f := bson.D{{Key: "readerId", Value: readerID}}
	if activeOnly {
		f = append(f, bson.E{Key: "state", Value: string(ebooks.LoanActive)})
	}
	ls, err := findAs(ctx, s.loans, f, options.Find().SetSort(loanOrder), (*loanDoc).loan)
	if err != nil {
		return nil, fmt.Errorf("e-book loans of %s: %w", readerID, err)
	}
	return ls, nil
}

var endOrder = bson.D{{Key: "endsAt", Value: 1}, {Key: "endsAtNs", Value: 1}, {Key: "_id", Value: 1}}

// ActiveLoansForTitles implements ebooks.Store.
func (s *EbookStore) ActiveLoansForTitles(ctx context.Context, titleIDs []string) ([]*ebooks.Loan, error) {
	if len(titleIDs) == 0 {
		return nil, nil
	}
	ls, err := findAs(ctx, s.loans, bson.D{{Key: "titleId", Value: inIDs(titleIDs)}, {Key: "state", Value: string(ebooks.LoanActive)}},
		options.Find().SetSort(endOrder), (*loanDoc).loan)
	if err != nil {
		return nil, fmt.Errorf("active e-book loans: %w", err)
	}
	return ls, nil
}

// ActiveLoansEndingBefore implements ebooks.Store.
func (s *EbookStore) ActiveLoansEndingBefore(ctx context.Context, t time.Time, limit int) ([]*ebooks.Loan, error) {
	d, _ := toDate(t)
	ls, err := findAs(ctx, s.loans, bson.D{{Key: "state", Value: string(ebooks.LoanActive)}, {Key: "endsAt", Value: bson.D{{Key: "$lte", Value: d}}}},
		options.Find().SetSort(endOrder).SetLimit(int64(limit)), (*loanDoc).loan)
	if err != nil {
		return nil, fmt.Errorf("e-book loans ending: %w", err)
	}
	return notAfter(ls, t, func(l *ebooks.Loan) time.Time { return l.EndsAt }), nil
}

// UpdateLoan implements ebooks.Store: a replace whose filter is the
// version read.
func (s *EbookStore) UpdateLoan(ctx context.Context, l *ebooks.Loan) error {
	c := *l
	c.Version++
	d := newLoanDoc(&c)
	res, err := s.loans.ReplaceOne(ctx, bson.D{{Key: "_id", Value: l.ID}, {Key: "version", Value: l.Version}}, d)
	if err != nil {
		return fmt.Errorf("updating e-book loan %s: %w", l.ID, pairWriteError(ctx, err, s.loans, pairKeys{}, ebooks.ErrAlreadyBorrowed))
	}
	if res.MatchedCount == 0 {
		if _, err := s.Loan(ctx, l.ID); err != nil {
			return err
		}
		return fmt.Errorf("updating e-book loan %s: %w", l.ID, ebooks.ErrStale)
	}
	l.Version++
	return nil
}

// ---- holds

type holdDoc struct {
	ID               string         `bson:"_id"`
	TitleID          string         `bson:"titleId"`
	ReaderID         string         `bson:"readerId"`
	State            string         `bson:"state"`
	CreatedAt        bson.DateTime  `bson:"createdAt"`
	CreatedAtNs      int32          `bson:"createdAtNs,omitempty"`
	LoanDays         int            `bson:"loanDays"`
	AutoBorrow       bool           `bson:"autoBorrow"`
	SuspendedUntil   *bson.DateTime `bson:"suspendedUntil,omitempty"`
	SuspendedUntilNs int32          `bson:"suspendedUntilNs,omitempty"`
	LicenseID        string         `bson:"licenseId"`
	ReservedAt       *bson.DateTime `bson:"reservedAt,omitempty"`
	ReservedAtNs     int32          `bson:"reservedAtNs,omitempty"`
	ReservedUntil    *bson.DateTime `bson:"reservedUntil,omitempty"`
	ReservedUntilNs  int32          `bson:"reservedUntilNs,omitempty"`
	MissedOnce       bool           `bson:"missedOnce"`
	LoanID           string         `bson:"loanId"`
	EndedAt          *bson.DateTime `bson:"endedAt,omitempty"`
	EndedAtNs        int32          `bson:"endedAtNs,omitempty"`
	IdempotencyKey   string         `bson:"idempotencyKey"`
	IdemKey          string         `bson:"idemKey,omitempty"`
	ActiveKey        string         `bson:"activeKey,omitempty"`
	Version          int            `bson:"version"`
}

func newHoldDoc(h *ebooks.Hold) *holdDoc {
	d := &holdDoc{ID: h.ID, TitleID: h.TitleID, ReaderID: h.ReaderID, State: string(h.State), LoanDays: h.LoanDays,
		AutoBorrow: h.AutoBorrow, LicenseID: h.LicenseID, MissedOnce: h.MissedOnce, LoanID: h.LoanID,
		IdempotencyKey: h.IdempotencyKey, Version: h.Version}
	d.CreatedAt, d.CreatedAtNs = toDate(h.CreatedAt)
	d.SuspendedUntil, d.SuspendedUntilNs = toDatePtr(h.SuspendedUntil)
	d.ReservedAt, d.ReservedAtNs = toDatePtr(h.ReservedAt)
	d.ReservedUntil, d.ReservedUntilNs = toDatePtr(h.ReservedUntil)
	d.EndedAt, d.EndedAtNs = toDatePtr(h.EndedAt)
	if h.IdempotencyKey != "" {
		d.IdemKey = h.ReaderID + "|" + h.IdempotencyKey
	}
	if h.State.ActiveState() {
		d.ActiveKey = h.ReaderID + "|" + h.TitleID
	}
	return d
}

func (d *holdDoc) hold() (*ebooks.Hold, error) {
	return &ebooks.Hold{ID: d.ID, TitleID: d.TitleID, ReaderID: d.ReaderID, State: ebooks.HoldState(d.State),
		CreatedAt: fromDate(d.CreatedAt, d.CreatedAtNs), LoanDays: d.LoanDays, AutoBorrow: d.AutoBorrow,
		SuspendedUntil: fromDatePtr(d.SuspendedUntil, d.SuspendedUntilNs), LicenseID: d.LicenseID,
		ReservedAt: fromDatePtr(d.ReservedAt, d.ReservedAtNs), ReservedUntil: fromDatePtr(d.ReservedUntil, d.ReservedUntilNs),
		MissedOnce: d.MissedOnce, LoanID: d.LoanID, EndedAt: fromDatePtr(d.EndedAt, d.EndedAtNs),
		IdempotencyKey: d.IdempotencyKey, Version: d.Version}, nil
}

// CreateHold implements ebooks.Store.
func (s *EbookStore) CreateHold(ctx context.Context, h *ebooks.Hold) error {
	if h.ID == "" {
		h.ID = newID()
	}
	h.Version = 1
	d := newHoldDoc(h)
	if _, err := s.holds.InsertOne(ctx, d); err != nil {
		return fmt.Errorf("creating e-book hold: %w", pairWriteError(ctx, err, s.holds, pairKeys{idem: d.IdemKey, active: d.ActiveKey}, ebooks.ErrAlreadyOnHold))
	}
	return nil
}

func (s *EbookStore) oneHold(ctx context.Context, filter any, what string) (*ebooks.Hold, error) {
	var d holdDoc
	err := s.holds.FindOne(ctx, filter).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		err = thuvienso.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return d.hold()
}

// Hold implements ebooks.Store.
func (s *EbookStore) Hold(ctx context.Context, id string) (*ebooks.Hold, error) {
	return s.oneHold(ctx, byID(id), "e-book hold "+id)
}

// HoldsByID implements ebooks.Store.
func (s *EbookStore) HoldsByID(ctx context.Context, ids []string) ([]*ebooks.Hold, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	hs, err := findAs(ctx, s.holds, bson.D{{Key: "_id", Value: inIDs(ids)}}, options.Find(), (*holdDoc).hold)
	if err != nil {
		return nil, fmt.Errorf("e-book holds by id: %w", err)
	}
	return hs, nil
}

// HoldByIdempotencyKey implements ebooks.Store.
func (s *EbookStore) HoldByIdempotencyKey(ctx context.Context, readerID, key string) (*ebooks.Hold, error) {
	if key == "" {
		return nil, fmt.Errorf("e-book hold by key: %w", thuvienso.ErrNotFound)
	}
	return s.oneHold(ctx, bson.D{{Key: "idemKey", Value: readerID + "|" + key}}, "e-book hold by key")
}

// queueOrder orders a queue of holds (e-book and physical): by creation,
// then id.
var queueOrder = bson.D{{Key: "createdAt", Value: 1}, {Key: "createdAtNs", Value: 1}, {Key: "_id", Value: 1}}

// activeHold is the filter of holds in a queue (e-book and physical holds
// both carry activeKey while active).
var activeHold = bson.E{Key: "activeKey", Value: bson.D{{Key: "$exists", Value: true}}}

// HoldsForReader implements ebooks.Store.
func (s *EbookStore) HoldsForReader(ctx context.Context, readerID string, activeOnly bool) ([]*ebooks.Hold, error) {
	f := bson.D{{Key: "readerId", Value: readerID}}
	if activeOnly {
		f = append(f, activeHold)
	}
	hs, err := findAs(ctx, s.holds, f, options.Find().SetSort(queueOrder), (*holdDoc).hold)
	if err != nil {
		return nil, fmt.Errorf("e-book holds of %s: %w", readerID, err)
	}
	return hs, nil
}

// ActiveHoldsForTitle implements ebooks.Store.
func (s *EbookStore) ActiveHoldsForTitle(ctx context.Context, titleID string) ([]*ebooks.Hold, error) {
	hs, err := findAs(ctx, s.holds, bson.D{{Key: "titleId", Value: titleID}, activeHold},
		options.Find().SetSort(queueOrder), (*holdDoc).hold)
	if err != nil {
		return nil, fmt.Errorf("e-book queue of %s: %w", titleID, err)
	}
	return hs, nil
}

// ActiveHoldCounts implements ebooks.Store.
func (s *EbookStore) ActiveHoldCounts(ctx context.Context, titleIDs []string) (map[string]int, error) {
	out, err := countActiveHolds(ctx, s.holds, "titleId", titleIDs)
	if err != nil {
		return nil, fmt.Errorf("e-book hold counts: %w", err)
	}
	return out, nil
}

// countActiveHolds counts the active holds of each id in field (a work's or
// a title's), for both lending domains. Counted here, one projected find:
// FerretDB's $group is not to be trusted.
func countActiveHolds(ctx context.Context, holds *mongodrv.Collection, field string, ids []string) (map[string]int, error) {
	out := map[string]int{}
	if len(ids) == 0 {
		return out, nil
	}
	found, err := findAs(ctx, holds, bson.D{{Key: field, Value: inIDs(ids)}, activeHold},
		options.Find().SetProjection(bson.D{{Key: field, Value: 1}}), func(d *bson.M) (string, error) {
			id, _ := (*d)[field].(string)
			return id, nil
		})
	if err != nil {
		return nil, err
	}
	for _, id := range found {
		out[id]++
	}
	return out, nil
}

// HoldsByStateBefore implements ebooks.Store.
func (s *EbookStore) HoldsByStateBefore(ctx context.Context, state ebooks.HoldState, t time.Time, limit int) ([]*ebooks.Hold, error) {
	field := ""
	var deadline func(*ebooks.Hold) time.Time
	switch state {
	case ebooks.HoldReserved:
		field, deadline = "reservedUntil", func(h *ebooks.Hold) time.Time { return *h.ReservedUntil }
	case ebooks.HoldSuspended:
		field, deadline = "suspendedUntil", func(h *ebooks.Hold) time.Time { return *h.SuspendedUntil }
	default:
		return nil, fmt.Errorf("e-book holds by deadline: no deadline for state %q", state)
	}
	d, _ := toDate(t)
	hs, err := findAs(ctx, s.holds, bson.D{{Key: "state", Value: string(state)}, {Key: field, Value: bson.D{{Key: "$lte", Value: d}}}},
		options.Find().SetSort(bson.D{{Key: field, Value: 1}, {Key: field + "Ns", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(int64(limit)),
		(*holdDoc).hold)
	if err != nil {
		return nil, fmt.Errorf("e-book holds by deadline: %w", err)
	}
	return notAfter(hs, t, deadline), nil
}

// HoldsReservedSince implements ebooks.Store.
func (s *EbookStore) HoldsReservedSince(ctx context.Context, t time.Time, limit int) ([]*ebooks.Hold, error) {
	d, _ := toDate(t)
	hs, err := findAs(ctx, s.holds, bson.D{{Key: "state", Value: string(ebooks.HoldReserved)}, {Key: "reservedAt", Value: bson.D{{Key: "$gte", Value: d}}}},
		options.Find().SetSort(bson.D{{Key: "reservedAt", Value: -1}, {Key: "reservedAtNs", Value: -1}, {Key: "_id", Value: -1}}).SetLimit(int64(limit)),
		(*holdDoc).hold)
	if err != nil {
		return nil, fmt.Errorf("e-book holds reserved since %s: %w", t, err)
	}
	// The filter compares milliseconds; drop those reserved earlier within
	// the millisecond.
	return slices.DeleteFunc(hs, func(h *ebooks.Hold) bool { return h.ReservedAt.Before(t) }), nil
}

// TitlesWithWaitingHolds implements ebooks.Store.
func (s *EbookStore) TitlesWithWaitingHolds(ctx context.Context, afterID string, limit int) ([]string, error) {
	ids, err := findAs(ctx, s.holds, bson.D{{Key: "state", Value: string(ebooks.HoldWaiting)}, {Key: "titleId", Value: bson.D{{Key: "$gt", Value: afterID}}}},
		options.Find().SetProjection(bson.D{{Key: "titleId", Value: 1}}).SetSort(bson.D{{Key: "titleId", Value: 1}}),
		func(d *holdDoc) (string, error) { return d.TitleID, nil })
	if err != nil {
		return nil, fmt.Errorf("titles with waiting holds: %w", err)
	}
	ids = slices.Compact(ids)
	if len(ids) > limit {
		ids = ids[:limit]
	}
	return ids, nil
}

// UpdateHold implements ebooks.Store: a replace whose filter is the
// version read.
func (s *EbookStore) UpdateHold(ctx context.Context, h *ebooks.Hold) error {
	c := *h
	c.Version++
	d := newHoldDoc(&c)
	res, err := s.holds.ReplaceOne(ctx, bson.D{{Key: "_id", Value: h.ID}, {Key: "version", Value: h.Version}}, d)
	if err != nil {
		return fmt.Errorf("updating e-book hold %s: %w", h.ID, pairWriteError(ctx, err, s.holds, pairKeys{}, ebooks.ErrAlreadyOnHold))
	}
	if res.MatchedCount == 0 {
		if _, err := s.Hold(ctx, h.ID); err != nil {
			return err
		}
		return fmt.Errorf("updating e-book hold %s: %w", h.ID, ebooks.ErrStale)
	}
	h.Version++
	return nil
}
