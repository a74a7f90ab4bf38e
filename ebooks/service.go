package ebooks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/events"
	"github.com/bacninh/thuvienso/library"
	"github.com/bacninh/thuvienso/vietnamese"
)

// Readers finds reader accounts (home library, category); auth.Store is one.
type Readers interface {
	AccountsByID(ctx context.Context, ids []string) ([]*auth.Account, error)
}

// Libraries finds libraries (for district-wide licenses); library.Store is one.
type Libraries interface {
	Library(ctx context.Context, id string) (*library.Library, error)
}

// Config holds the lending rules. DefaultConfig gives the province's.
type Config struct {
	// MaxLoans and MaxHolds bound a reader's active e-loans and e-holds.
	MaxLoans, MaxHolds int
	// LoanPeriods are the loan lengths a reader may choose, in days.
	LoanPeriods []int
	// DefaultLoanDays is the period per format when the reader picks none.
	DefaultLoanDays map[Format]int
	// MaxRenewals bounds renewals of one loan.
	MaxRenewals int
	// ReservationPeriod is how long a freed copy waits for the hold it is
	// reserved for.
	ReservationPeriod time.Duration
	// MissSuspension is how long a hold whose reservation lapsed for the
	// first time is suspended before it waits again.
	MissSuspension time.Duration
	// LoanExpiringNotice and ReservationExpiringNotice are how long before
	// the end the "expiring" events are recorded.
	LoanExpiringNotice, ReservationExpiringNotice time.Duration
	// SeatGrace is how old a seat must be before the expiry pass may give
	// it back for having no live holder (a crash between steps).
	SeatGrace time.Duration
	// LinkTTL is how long a content link is valid (never past the loan).
	LinkTTL time.Duration
	// BatchSize bounds one query of the expiry pass.
	BatchSize int
}

// DefaultConfig returns the province's rules: 5 e-loans, 10 e-holds,
// 7/14/21-day loans (14 for EPUB and PDF, 21 for audiobooks), two renewals,
// 72-hour reservations.
func DefaultConfig() Config {
	return Config{
		MaxLoans: 5, MaxHolds: 10,
		LoanPeriods:     []int{7, 14, 21},
		DefaultLoanDays: map[Format]int{FormatEPUB: 14, FormatPDF: 14, FormatAudiobook: 21},
		MaxRenewals:     2,

		ReservationPeriod:         72 * time.Hour,
		MissSuspension:            7 * 24 * time.Hour,
		LoanExpiringNotice:        48 * time.Hour,
		ReservationExpiringNotice: 24 * time.Hour,
		SeatGrace:                 5 * time.Minute,
		LinkTTL:                   15 * time.Minute,
		BatchSize:                 500,
	}
}

// Service is e-book lending. It is safe for concurrent use, and any number
// of instances may run against one store.
type Service struct {
	store     Store
	events    events.Store
	readers   Readers
	libraries Libraries
	now       func() time.Time
	cfg       Config
	links     *LinkSigner
	baseURL   string
}

// Option configures a Service.
type Option func(*Service)

// WithClock makes the service read the time from now (tests move it).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithConfig replaces DefaultConfig.
func WithConfig(c Config) Option { return func(s *Service) { s.cfg = c } }

// WithLibraries lets district-wide library licenses find districts;
// without it they are open to the buying library's readers only.
func WithLibraries(l Libraries) Option { return func(s *Service) { s.libraries = l } }

// WithContentLinks makes ContentLink sign links with signer, absolute
// under baseURL (e.g. "https://thuvien.bacninh.gov.vn"; "" for relative
// links). ContentHandler must be mounted at ContentPath under it.
func WithContentLinks(signer *LinkSigner, baseURL string) Option {
	return func(s *Service) { s.links, s.baseURL = signer, strings.TrimRight(baseURL, "/") }
}

// NewService returns the lending service on st, recording events to ev and
// finding readers through readers.
func NewService(st Store, ev events.Store, readers Readers, opts ...Option) *Service {
	s := &Service{store: st, events: ev, readers: readers, now: time.Now, cfg: DefaultConfig()}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Config returns the rules in force.
func (s *Service) Config() Config { return s.cfg }

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// ---------------------------------------------------------------------------
// Titles and licenses (staff)

// requireStaff fails unless the actor is a librarian or an admin.
func requireStaff(actor auth.Actor) error {
	if actor.AccountID == "" && actor.Role == "" {
		return thuvienso.ErrUnauthenticated
	}
	if actor.Role != auth.RoleAdmin && actor.Role != auth.RoleLibrarian {
		return thuvienso.ErrForbidden
	}
	return nil
}

// AddTitle adds an e-book title of a catalog work (staff only). ID is
// generated when empty; Language defaults to "vi".
func (s *Service) AddTitle(ctx context.Context, actor auth.Actor, t *Title) (*Title, error) {
	if err := requireStaff(actor); err != nil {
		return nil, fmt.Errorf("adding e-book title: %w", err)
	}
	c := *t
	c.Name, c.WorkID = vietnamese.Clean(c.Name), strings.TrimSpace(c.WorkID)
	switch {
	case c.WorkID == "":
		return nil, thuvienso.Invalid("input.workId", "an e-book belongs to a catalog work", "sách điện tử phải thuộc một tác phẩm trong mục lục")
	case c.Name == "":
		return nil, thuvienso.Invalid("input.title", "the title is empty", "tên sách đang để trống")
	case !c.Format.Valid():
		return nil, thuvienso.Invalid("input.format", "the format must be EPUB, PDF or AUDIOBOOK", "định dạng phải là EPUB, PDF hoặc AUDIOBOOK")
	case strings.TrimSpace(c.ContentRef) == "":
		return nil, thuvienso.Invalid("input.contentRef", "the content file is missing", "thiếu tệp nội dung")
	}
	if c.Language == "" {
		c.Language = "vi"
	}
	authors := make([]string, 0, len(c.Authors))
	for _, a := range c.Authors {
		if a = vietnamese.Clean(a); a != "" {
			authors = append(authors, a)
		}
	}
	c.Authors = authors
	c.SearchText = searchText(c.Name, c.Authors)
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.now()
	}
	if err := s.store.CreateTitle(ctx, &c); err != nil {
		return nil, fmt.Errorf("adding e-book title: %w", err)
	}
	return &c, nil
}

// searchText is what title queries match: folded name and authors.
func searchText(name string, authors []string) string {
	return vietnamese.Fold(strings.Join(append([]string{name}, authors...), " "))
}

// AddLicense adds a license to a title. A PROVINCE license needs an admin;
// a LIBRARY license an admin or a librarian of that library. The fields
// must fit the model: ONE_COPY_ONE_USER (Concurrency ≥ 1, perpetual),
// METERED_CHECKOUTS (Concurrency ≥ 1, CheckoutsTotal ≥ 1, ExpiresAt
// optional), METERED_TIME (Concurrency ≥ 1, ExpiresAt), ONE_COPY_MANY_USERS
// (ExpiresAt), OPEN_ACCESS (nothing).
func (s *Service) AddLicense(ctx context.Context, actor auth.Actor, l *License) (*License, error) {
	c := *l
	c.Seats = nil
	switch c.Scope {
	case ScopeProvince:
		c.LibraryID, c.DistrictWide = "", false
		if !actor.IsAdmin() {
			return nil, fmt.Errorf("adding e-book license: %w", thuvienso.ErrForbidden)
		}
	case ScopeLibrary:
		if c.LibraryID == "" {
			return nil, thuvienso.Invalid("input.libraryId", "a library license needs its library", "giấy phép của thư viện cần chỉ rõ thư viện")
		}
		if err := actor.RequireLibraryStaff(c.LibraryID); err != nil {
			return nil, fmt.Errorf("adding e-book license: %w", err)
		}
	default:
		return nil, thuvienso.Invalid("input.scope", "the scope must be PROVINCE or LIBRARY", "phạm vi phải là PROVINCE hoặc LIBRARY")
	}
	needCopies := func() error {
		if c.Concurrency < 1 {
			return thuvienso.Invalid("input.concurrency", "the number of concurrent copies must be at least 1", "số bản đồng thời phải từ 1 trở lên")
		}
		return nil
	}
	needExpiry := func() error {
		if c.ExpiresAt == nil {
			return thuvienso.Invalid("input.expiresAt", "this license model needs an expiry date", "mô hình giấy phép này cần ngày hết hạn")
		}
		return nil
	}
	var err error
	switch c.Model {
	case OneCopyOneUser:
		err = needCopies()
		c.ExpiresAt, c.CheckoutsTotal = nil, Unlimited
	case MeteredCheckouts:
		if err = needCopies(); err == nil && c.CheckoutsTotal < 1 {
			err = thuvienso.Invalid("input.checkouts", "a metered license needs at least one checkout", "giấy phép theo lượt cần ít nhất một lượt mượn")
		}
	case MeteredTime:
		if err = needCopies(); err == nil {
			err = needExpiry()
		}
		c.CheckoutsTotal = Unlimited
	case OneCopyManyUsers:
		err = needExpiry()
		c.Concurrency, c.CheckoutsTotal = Unlimited, Unlimited
	case OpenAccess:
		c.Concurrency, c.CheckoutsTotal, c.ExpiresAt = Unlimited, Unlimited, nil
	default:
		err = thuvienso.Invalid("input.model", "unknown license model", "mô hình giấy phép không hợp lệ")
	}
	if err != nil {
		return nil, err
	}
	if c.MaxLoanDays < 0 {
		return nil, thuvienso.Invalid("input.maxLoanDays", "the longest loan cannot be negative", "thời hạn mượn tối đa không được âm")
	}
	c.CheckoutsLeft = c.CheckoutsTotal
	if _, err := s.store.Title(ctx, c.TitleID); err != nil {
		return nil, fmt.Errorf("adding e-book license to %s: %w", c.TitleID, err)
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.now()
	}
	if err := s.store.CreateLicense(ctx, &c); err != nil {
		return nil, fmt.Errorf("adding e-book license: %w", err)
	}
	if err := s.fillQueue(ctx, c.TitleID); err != nil { // a new copy serves the queue first
		return &c, fmt.Errorf("serving the queue of %s: %w", c.TitleID, err)
	}
	return &c, nil
}

// Title returns one title.
func (s *Service) Title(ctx context.Context, id string) (*Title, error) {
	t, err := s.store.Title(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("e-book title %s: %w", id, err)
	}
	return t, nil
}

// TitlesByID returns those of the titles that exist, in the order asked
// (for a dataloader).
func (s *Service) TitlesByID(ctx context.Context, ids []string) ([]*Title, error) {
	ts, err := s.store.TitlesByID(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("e-book titles: %w", err)
	}
	byID := map[string]*Title{}
	for _, t := range ts {
		byID[t.ID] = t
	}
	out := make([]*Title, 0, len(ts))
	for _, id := range ids {
		if t := byID[id]; t != nil {
			out = append(out, t)
		}
	}
	return out, nil
}

// MaxPageSize bounds one page of titles.
const MaxPageSize = 100

// Titles returns a page of titles; q.Text is folded here, so a query typed
// with or without marks matches.
func (s *Service) Titles(ctx context.Context, q TitleQuery) ([]*Title, error) {
	if q.Limit <= 0 || q.Limit > MaxPageSize {
		q.Limit = MaxPageSize
	}
	if q.Format != "" && !q.Format.Valid() {
		return nil, thuvienso.Invalid("format", "unknown format", "định dạng không hợp lệ")
	}
	q.Text = strings.Join(strings.Fields(vietnamese.Fold(q.Text)), " ")
	ts, err := s.store.Titles(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("listing e-book titles: %w", err)
	}
	return ts, nil
}

// TitlesForWork returns the e-book titles of a catalog work.
func (s *Service) TitlesForWork(ctx context.Context, workID string) ([]*Title, error) {
	ts, err := s.store.TitlesForWork(ctx, workID)
	if err != nil {
		return nil, fmt.Errorf("e-book titles of work %s: %w", workID, err)
	}
	return ts, nil
}

// Licenses returns a title's licenses, best first (staff only: they show
// what was bought and who has a copy).
func (s *Service) Licenses(ctx context.Context, actor auth.Actor, titleID string) ([]*License, error) {
	if err := requireStaff(actor); err != nil {
		return nil, fmt.Errorf("e-book licenses: %w", err)
	}
	ls, err := s.store.LicensesForTitles(ctx, []string{titleID})
	if err != nil {
		return nil, fmt.Errorf("e-book licenses of %s: %w", titleID, err)
	}
	SortLicenses(ls)
	return ls, nil
}

// SortLicenses orders licenses the way a loan picks them (as the Palace
// circulation manager does): first those limited in time, soonest expiry
// first (use them before they lapse); then perpetual ones (unlimited ones
// such as open access before counted copies, a library's own before the
// province's); last those limited in checkouts, most checkouts left first
// (each loan costs one). Ties go by ID.
func SortLicenses(ls []*License) {
	group := func(l *License) int {
		switch {
		case l.ExpiresAt != nil:
			return 0
		case !l.Metered():
			return 1
		}
		return 2
	}
	slices.SortStableFunc(ls, func(a, b *License) int {
		ga, gb := group(a), group(b)
		if ga != gb {
			return ga - gb
		}
		switch ga {
		case 0:
			if c := a.ExpiresAt.Compare(*b.ExpiresAt); c != 0 {
				return c
			}
		case 1:
			if a.Limited() != b.Limited() {
				if !a.Limited() {
					return -1
				}
				return 1
			}
			if a.Scope != b.Scope {
				if a.Scope == ScopeLibrary {
					return -1
				}
				return 1
			}
		case 2:
			if a.CheckoutsLeft != b.CheckoutsLeft {
				return b.CheckoutsLeft - a.CheckoutsLeft
			}
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// ---------------------------------------------------------------------------
// Readers and eligibility

// reader returns the account of the actor.
func (s *Service) reader(ctx context.Context, actor auth.Actor) (*auth.Account, error) {
	return auth.ActorAccount(ctx, s.readers, actor)
}

// accounts returns the accounts by ID.
func (s *Service) accounts(ctx context.Context, ids []string) (map[string]*auth.Account, error) {
	return auth.AccountMap(ctx, s.readers, ids)
}

// scopeChecker answers "may this reader borrow under this license",
// remembering the districts it looked up.
type scopeChecker struct {
	s         *Service
	ctx       context.Context
	districts map[string]string
}

func (s *Service) scopes(ctx context.Context) *scopeChecker {
	return &scopeChecker{s: s, ctx: ctx, districts: map[string]string{}}
}

func (c *scopeChecker) district(libraryID string) string {
	if d, ok := c.districts[libraryID]; ok {
		return d
	}
	d := ""
	if c.s.libraries != nil && libraryID != "" {
		if lib, err := c.s.libraries.Library(c.ctx, libraryID); err == nil {
			d = lib.District
		}
	}
	c.districts[libraryID] = d
	return d
}

// eligible reports whether acc may borrow under l.
func (c *scopeChecker) eligible(acc *auth.Account, l *License) bool {
	if l.Scope == ScopeProvince {
		return true
	}
	if acc == nil {
		return false
	}
	if acc.HomeLibraryID == l.LibraryID {
		return true
	}
	if !l.DistrictWide || acc.HomeLibraryID == "" {
		return false
	}
	d := c.district(l.LibraryID)
	return d != "" && d == c.district(acc.HomeLibraryID)
}

// loanDays resolves the period a reader asked for.
func (s *Service) loanDays(days int, f Format) (int, error) {
	if days == 0 {
		if d := s.cfg.DefaultLoanDays[f]; d > 0 {
			return d, nil
		}
		if len(s.cfg.LoanPeriods) > 0 {
			return s.cfg.LoanPeriods[len(s.cfg.LoanPeriods)/2], nil
		}
		return 14, nil
	}
	if !slices.Contains(s.cfg.LoanPeriods, days) {
		return 0, ErrBadLoanPeriod
	}
	return days, nil
}

// loanEnd is when a loan of days made at now under l ends: never after the
// license expires, nor longer than its MaxLoanDays.
func loanEnd(now time.Time, days int, l *License) time.Time {
	if l.MaxLoanDays > 0 && days > l.MaxLoanDays {
		days = l.MaxLoanDays
	}
	end := now.Add(time.Duration(days) * 24 * time.Hour)
	if l.ExpiresAt != nil && l.ExpiresAt.Before(end) {
		end = *l.ExpiresAt
	}
	return end
}

// ---------------------------------------------------------------------------
// Borrowing

// BorrowInput is a borrowEbook request.
type BorrowInput struct {
	TitleID string
	// Days is 7, 14 or 21 (Config.LoanPeriods); 0 takes the reader's
	// default for the format.
	Days int
	// IdempotencyKey makes a retried request return the first answer.
	IdempotencyKey string
	// HoldIfUnavailable places a hold instead of failing with
	// NO_COPY_AVAILABLE; AutoBorrow then applies to that hold.
	HoldIfUnavailable bool
	AutoBorrow        bool
}

// BorrowResult is a loan, or the hold placed instead.
type BorrowResult struct {
	Loan *Loan
	Hold *Hold
}

// Borrow lends the title to the actor under the best license the reader
// may use that has a copy free. A reader whose hold on the title is
// reserved gets the reserved copy. While others wait for a license, its
// freed copies go to them, not to a newcomer. With no copy it fails with
// ErrNoCopyAvailable, or places a hold when asked.
func (s *Service) Borrow(ctx context.Context, actor auth.Actor, in BorrowInput) (*BorrowResult, error) {
	res, err := s.borrow(ctx, actor, in)
	if err != nil {
		return nil, fmt.Errorf("borrowing e-book %s: %w", in.TitleID, err)
	}
	return res, nil
}

func (s *Service) borrow(ctx context.Context, actor auth.Actor, in BorrowInput) (*BorrowResult, error) {
	acc, err := s.reader(ctx, actor)
	if err != nil {
		return nil, err
	}
	if in.IdempotencyKey == "" {
		return s.borrowOnce(ctx, acc, in)
	}
	if r, err := s.byKey(ctx, acc.ID, in.IdempotencyKey, in.TitleID); r != nil || err != nil {
		return r, err
	}
	r, err := s.borrowOnce(ctx, acc, in)
	if err != nil {
		return s.answerForKey(ctx, acc.ID, in.IdempotencyKey, in.TitleID, err)
	}
	return r, nil
}

// borrowOnce is one borrow request, its idempotency key aside.
func (s *Service) borrowOnce(ctx context.Context, acc *auth.Account, in BorrowInput) (*BorrowResult, error) {
	title, err := s.store.Title(ctx, in.TitleID)
	if err != nil {
		return nil, err
	}
	days, err := s.loanDays(in.Days, title.Format)
	if err != nil {
		return nil, err
	}
	loans, err := s.store.LoansForReader(ctx, acc.ID, true)
	if err != nil {
		return nil, err
	}
	for _, l := range loans {
		if l.TitleID == title.ID {
			return nil, ErrAlreadyBorrowed
		}
	}
	if len(loans) >= s.cfg.MaxLoans {
		return nil, ErrLoanLimit
	}
	for attempt := 0; ; attempt++ {
		queue, err := s.store.ActiveHoldsForTitle(ctx, title.ID)
		if err != nil {
			return nil, err
		}
		var mine *Hold
		for _, h := range queue {
			if h.ReaderID == acc.ID {
				mine = h
			}
		}
		if mine != nil && mine.State == HoldReserved {
			if in.Days == 0 && mine.LoanDays != 0 {
				days = mine.LoanDays
			}
			loan, err := s.borrowReserved(ctx, acc, mine, days, in.IdempotencyKey, loans)
			if err != nil {
				return nil, err
			}
			return &BorrowResult{Loan: loan}, nil
		}
		loanID := newLoanID(acc.ID, in.IdempotencyKey)
		licenses, err := s.store.LicensesForTitles(ctx, []string{title.ID})
		if err != nil {
			return nil, err
		}
		SortLicenses(licenses)
		sc := s.scopes(ctx)
		now := s.now()
		// Others ahead in the queue: a license any of them may use serves
		// them first. Their accounts are read only when a copy is free:
		// when none is (a long queue), whom it would serve does not matter.
		var ahead []*Hold
		for _, h := range queue {
			if h.ReaderID == acc.ID {
				break
			}
			if h.State == HoldWaiting {
				ahead = append(ahead, h)
			}
		}
		var waiters map[string]*auth.Account
		if len(ahead) > 0 && slices.ContainsFunc(licenses, func(l *License) bool { return l.HasFreeCopy(now) }) {
			aheadIDs := make([]string, len(ahead))
			for i, h := range ahead {
				aheadIDs[i] = h.ReaderID
			}
			if waiters, err = s.accounts(ctx, aheadIDs); err != nil {
				return nil, err
			}
		}
		anyEligible, blockedFree := false, false
		var candidates []*License
		for _, l := range licenses {
			if !sc.eligible(acc, l) {
				continue
			}
			anyEligible = true
			if _, ok := l.Seats[loanID]; ok {
				// A concurrent retry of this request has taken this copy
				// for the loan: share it rather than take another.
				candidates = append([]*License{l}, candidates...)
				continue
			}
			if !l.HasFreeCopy(now) {
				continue
			}
			blocked := false
			for _, h := range ahead {
				if sc.eligible(waiters[h.ReaderID], l) {
					blocked = true
					break
				}
			}
			if blocked {
				blockedFree = true
				continue
			}
			candidates = append(candidates, l)
		}
		if !anyEligible {
			return nil, ErrNotLendable
		}
		if blockedFree && attempt == 0 {
			// A copy is free while others wait for it: give it to them
			// (or to this reader, if their hold comes first), then look again.
			if err := s.fillQueue(ctx, title.ID); err != nil {
				return nil, err
			}
			continue
		}
		var got *License
		for _, l := range candidates {
			lic, err := s.store.AcquireSeat(ctx, l.ID, Seat{HolderID: loanID, Kind: SeatLoan, AcquiredAt: now}, now)
			if errors.Is(err, ErrNoSeat) {
				continue
			}
			if err != nil {
				return nil, err
			}
			got = lic
			break
		}
		if got == nil {
			if !in.HoldIfUnavailable {
				return nil, ErrNoCopyAvailable
			}
			if mine != nil {
				return &BorrowResult{Hold: mine}, nil
			}
			h, err := s.placeHold(ctx, acc, PlaceHoldInput{TitleID: title.ID, LoanDays: in.Days,
				AutoBorrow: in.AutoBorrow, IdempotencyKey: in.IdempotencyKey})
			if err != nil {
				return nil, err
			}
			return &BorrowResult{Hold: h}, nil
		}
		loan := &Loan{ID: loanID, TitleID: title.ID, LicenseID: got.ID, ReaderID: acc.ID, State: LoanActive,
			StartedAt: now, EndsAt: loanEnd(now, days, got), IdempotencyKey: in.IdempotencyKey}
		if mine != nil {
			loan.HoldID = mine.ID
		}
		if err := s.createLoan(ctx, loan, loans); err != nil {
			return nil, err
		}
		if mine != nil { // borrowed while waiting: the hold is done
			s.fulfilHold(ctx, mine, loan, now)
		}
		return &BorrowResult{Loan: loan}, nil
	}
}

// loanKeySpace is the UUID namespace of loan IDs derived from idempotency
// keys.
var loanKeySpace = uuid.MustParse("321ed0a8-3b80-437c-ad4e-3084a5773af8")

// newLoanID returns the ID of a loan about to be made, which is also the
// holder of its seat. With an idempotency key it is derived from the reader
// and the key, so that concurrent retries of one request share one seat
// (AcquireSeat gives a holder one seat however often it asks) and one loan
// (only one CreateLoan of an ID succeeds): a retry then neither takes a
// second copy nor finds every copy taken by its own twins.
func newLoanID(readerID, key string) string {
	if key == "" {
		return newID()
	}
	return uuid.NewSHA1(loanKeySpace, []byte(readerID+"\x00"+key)).String()
}

// byKey returns what an earlier request with the idempotency key made, or
// nothing. A key used for another title is a conflict.
func (s *Service) byKey(ctx context.Context, readerID, key, titleID string) (*BorrowResult, error) {
	if l, err := s.store.LoanByIdempotencyKey(ctx, readerID, key); err == nil {
		if l.TitleID != titleID {
			return nil, ErrIdempotencyKeyUsed
		}
		return &BorrowResult{Loan: l}, nil
	} else if !errors.Is(err, thuvienso.ErrNotFound) {
		return nil, err
	}
	if h, err := s.store.HoldByIdempotencyKey(ctx, readerID, key); err == nil {
		if h.TitleID != titleID {
			return nil, ErrIdempotencyKeyUsed
		}
		return &BorrowResult{Hold: h}, nil
	} else if !errors.Is(err, thuvienso.ErrNotFound) {
		return nil, err
	}
	return nil, nil
}

// answerForKey answers a request with an idempotency key that failed with
// err. Retries of one request race each other: the loser meets the
// winner's loan or hold as a conflict (already borrowed, already on hold,
// key used, slot taken), or finds no copy or no slot left because the
// winner has it. The answer is then what the key recorded, as a retry
// after the race would get; err only when the key recorded nothing (or
// the failure was not one a twin could cause).
func (s *Service) answerForKey(ctx context.Context, readerID, key, titleID string, err error) (*BorrowResult, error) {
	switch thuvienso.ErrorCode(err) {
	case thuvienso.CodeConflict, thuvienso.CodeNoCopyAvailable, thuvienso.CodeLimitReached:
	default:
		return nil, err
	}
	r, kerr := s.byKey(ctx, readerID, key, titleID)
	if r != nil || errors.Is(kerr, ErrIdempotencyKeyUsed) {
		return r, kerr
	}
	return nil, err
}

// createLoan records a loan whose seat is taken, and gives the seat back
// when the loan is not recorded. active are the reader's active loans as
// read before.
func (s *Service) createLoan(ctx context.Context, loan *Loan, active []*Loan) error {
	err := s.recordLoan(ctx, loan, active)
	if err != nil {
		if rerr := s.abandonSeat(ctx, loan); rerr != nil {
			return errors.Join(err, rerr)
		}
	}
	return err
}

// recordLoan inserts the loan in the lowest of the reader's loan slots that
// no active loan has. The store keeps slots unique among a reader's active
// loans, so concurrent borrows by one reader never go over MaxLoans: one
// that loses a slot to another tries the next, and with none left fails
// with ErrLoanLimit.
func (s *Service) recordLoan(ctx context.Context, loan *Loan, active []*Loan) error {
	for range s.cfg.MaxLoans + 1 {
		slot, ok := freeSlot(active, s.cfg.MaxLoans)
		if !ok {
			return ErrLoanLimit
		}
		loan.Slot = slot
		err := s.store.CreateLoan(ctx, loan)
		if !errors.Is(err, ErrLoanSlotTaken) {
			return err
		}
		if active, err = s.store.LoansForReader(ctx, loan.ReaderID, true); err != nil {
			return err
		}
	}
	return ErrStale // loans kept starting and ending meanwhile
}

// freeSlot returns the lowest slot below limit that none of active has.
func freeSlot(active []*Loan, limit int) (int, bool) {
	used := make(map[int]bool, len(active))
	for _, l := range active {
		used[l.Slot] = true
	}
	for i := range limit {
		if !used[i] {
			return i, true
		}
	}
	return 0, false
}

// abandonSeat gives back the seat taken for a loan that was not recorded,
// with the checkout it used. A loan ID derived from an idempotency key is
// shared by the retries of one request: when one of them recorded the
// loan, active on this license, the seat is that loan's and stays; when
// the loan was recorded and has ended, its checkout stays used.
func (s *Service) abandonSeat(ctx context.Context, loan *Loan) error {
	if loan.IdempotencyKey != "" {
		cur, err := s.store.Loan(ctx, loan.ID)
		switch {
		case err == nil && cur.State == LoanActive && cur.LicenseID == loan.LicenseID:
			return nil
		case err == nil:
			_, err = s.store.ReleaseSeat(ctx, loan.LicenseID, loan.ID)
			return err
		case !errors.Is(err, thuvienso.ErrNotFound):
			return err
		}
	}
	_, err := s.releaseUnused(ctx, loan.LicenseID, loan.ID, s.now())
	return err
}

// unusedSeatPrefix starts the holder ID of a seat on its way back from a
// loan that was never recorded (see releaseUnused).
const unusedSeatPrefix = "unused-"

// releaseUnused gives back the copy that holderID took for a loan that was
// never recorded, and the checkout it used, since only a loan uses one:
// the seat is first handed to a reservation-kind holder (TransferSeat),
// whose release gives a metered license its checkout back (ReleaseSeat).
// A crash between the two leaves that holder, which is no live hold, for
// the expiry pass to reclaim the same way. On an expired license, which
// TransferSeat refuses, the copy is given back as it is: the license lends
// no more. It reports whether a copy was given back.
func (s *Service) releaseUnused(ctx context.Context, licenseID, holderID string, now time.Time) (bool, error) {
	unused := unusedSeatPrefix + holderID
	moved, err := s.store.TransferSeat(ctx, licenseID, holderID, Seat{HolderID: unused, Kind: SeatHold, AcquiredAt: now}, now)
	if err != nil {
		return false, err
	}
	if !moved {
		return s.store.ReleaseSeat(ctx, licenseID, holderID)
	}
	return s.store.ReleaseSeat(ctx, licenseID, unused)
}

// borrowReserved turns the reader's reservation into a loan: the hold is
// fulfilled first (one winner), then the reserved seat passes to the loan.
// loans are the reader's active loans, or nil to read them here.
func (s *Service) borrowReserved(ctx context.Context, acc *auth.Account, h *Hold, days int, key string, loans []*Loan) (*Loan, error) {
	if loans == nil {
		var err error
		if loans, err = s.store.LoansForReader(ctx, acc.ID, true); err != nil {
			return nil, err
		}
	}
	if len(loans) >= s.cfg.MaxLoans {
		return nil, ErrLoanLimit
	}
	now := s.now()
	lic, err := s.store.License(ctx, h.LicenseID)
	if err != nil {
		return nil, err
	}
	loanID := newLoanID(acc.ID, key)
	prev := *h
	h.State, h.LoanID, h.EndedAt = HoldFulfilled, loanID, &now
	if err := s.store.UpdateHold(ctx, h); err != nil {
		*h = prev
		return nil, err
	}
	ok, err := s.store.TransferSeat(ctx, lic.ID, h.ID, Seat{HolderID: loanID, Kind: SeatLoan, AcquiredAt: now}, now)
	if err == nil && !ok {
		err = ErrNoCopyAvailable // the license expired, or the seat went back
	}
	if err != nil {
		// Put the hold back at its place in the queue.
		if _, rerr := s.store.ReleaseSeat(ctx, lic.ID, h.ID); rerr != nil {
			return nil, errors.Join(err, rerr)
		}
		back := prev
		back.Version = h.Version
		back.State, back.LicenseID, back.ReservedAt, back.ReservedUntil = HoldWaiting, "", nil, nil
		if uerr := s.store.UpdateHold(ctx, &back); uerr != nil {
			return nil, errors.Join(err, uerr)
		}
		if ferr := s.fillQueue(ctx, h.TitleID); ferr != nil {
			return nil, errors.Join(err, ferr)
		}
		return nil, err
	}
	loan := &Loan{ID: loanID, TitleID: h.TitleID, LicenseID: lic.ID, ReaderID: acc.ID, State: LoanActive,
		StartedAt: now, EndsAt: loanEnd(now, days, lic), HoldID: h.ID, IdempotencyKey: key}
	if err := s.createLoan(ctx, loan, loans); err != nil {
		return nil, err
	}
	return loan, nil
}

// fulfilHold marks a waiting hold done by a loan made directly (best
// effort: a hold that changed meanwhile is left for the reader).
func (s *Service) fulfilHold(ctx context.Context, h *Hold, loan *Loan, now time.Time) {
	if h.State != HoldWaiting && h.State != HoldSuspended {
		return
	}
	h.State, h.LoanID, h.EndedAt = HoldFulfilled, loan.ID, &now
	_ = s.store.UpdateHold(ctx, h)
}

// Return ends the actor's loan early; the copy goes to the next reader in
// the queue. Returning a returned loan again returns it unchanged.
func (s *Service) Return(ctx context.Context, actor auth.Actor, loanID string) (*Loan, error) {
	l, err := s.ownLoan(ctx, actor, loanID)
	if err != nil {
		return nil, fmt.Errorf("returning e-book loan %s: %w", loanID, err)
	}
	if l.State == LoanReturned {
		return l, nil
	}
	if l.State != LoanActive {
		return nil, fmt.Errorf("returning e-book loan %s: %w", loanID, ErrLoanNotActive)
	}
	ended, err := s.endLoan(ctx, l, LoanReturned)
	if err != nil {
		return nil, fmt.Errorf("returning e-book loan %s: %w", loanID, err)
	}
	if ended.State != LoanReturned {
		return nil, fmt.Errorf("returning e-book loan %s: %w", loanID, ErrLoanNotActive)
	}
	return ended, nil
}

// ownLoan returns the actor's loan (staff may act on any).
func (s *Service) ownLoan(ctx context.Context, actor auth.Actor, loanID string) (*Loan, error) {
	if actor.AccountID == "" {
		return nil, thuvienso.ErrUnauthenticated
	}
	l, err := s.store.Loan(ctx, loanID)
	if err != nil {
		return nil, err
	}
	if l.ReaderID != actor.AccountID && !actor.IsAdmin() {
		return nil, thuvienso.ErrNotFound
	}
	return l, nil
}

// endLoan moves an ACTIVE loan to state by compare-and-set. Only the
// caller whose update wins gives the copy back (exactly once) and serves
// the queue; the others get the loan as it is now. A loan renewed
// meanwhile is re-read and tried again.
func (s *Service) endLoan(ctx context.Context, l *Loan, state LoanState) (*Loan, error) {
	for range 5 {
		if l.State != LoanActive {
			return l, nil
		}
		now := s.now()
		if state == LoanExpired && now.Before(l.EndsAt) {
			return l, nil // renewed meanwhile
		}
		c := *l
		c.State, c.EndedAt = state, &now
		err := s.store.UpdateLoan(ctx, &c)
		if errors.Is(err, ErrStale) {
			if l, err = s.store.Loan(ctx, l.ID); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		*l = c
		if _, err := s.store.ReleaseSeat(ctx, l.LicenseID, l.ID); err != nil {
			return l, err
		}
		if state != LoanCancelled {
			s.record(ctx, &events.Event{
				Key: "ebook-loan-ended:" + l.ID, Kind: events.EbookLoanEnded, ReaderID: l.ReaderID,
				SubjectID: l.ID, At: now, Data: map[string]string{"titleId": l.TitleID, "reason": string(state)},
			})
		}
		return l, s.fillQueue(ctx, l.TitleID)
	}
	return nil, ErrStale
}

// Renew extends the actor's loan by days from now (0: the format's
// default), only while nobody waits for the title, at most MaxRenewals
// times, never past the license's expiry.
func (s *Service) Renew(ctx context.Context, actor auth.Actor, loanID string, days int) (*Loan, error) {
	l, err := s.renew(ctx, actor, loanID, days)
	if err != nil {
		return nil, fmt.Errorf("renewing e-book loan %s: %w", loanID, err)
	}
	return l, nil
}

func (s *Service) renew(ctx context.Context, actor auth.Actor, loanID string, days int) (*Loan, error) {
	l, err := s.ownLoan(ctx, actor, loanID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if !l.Active(now) {
		return nil, ErrLoanNotActive
	}
	if l.Renewals >= s.cfg.MaxRenewals {
		return nil, ErrRenewLimit
	}
	title, err := s.store.Title(ctx, l.TitleID)
	if err != nil {
		return nil, err
	}
	if days, err = s.loanDays(days, title.Format); err != nil {
		return nil, err
	}
	queue, err := s.store.ActiveHoldsForTitle(ctx, l.TitleID)
	if err != nil {
		return nil, err
	}
	for _, h := range queue {
		if h.State == HoldWaiting || h.State == HoldReserved {
			return nil, ErrRenewBlocked
		}
	}
	lic, err := s.store.License(ctx, l.LicenseID)
	if err != nil {
		return nil, err
	}
	end := loanEnd(now, days, lic)
	if !end.After(l.EndsAt) {
		return nil, ErrRenewLimit
	}
	c := *l
	c.EndsAt, c.Renewals = end, l.Renewals+1
	if err := s.store.UpdateLoan(ctx, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// MyLoans returns the actor's loans: active ones only unless all.
func (s *Service) MyLoans(ctx context.Context, actor auth.Actor, all bool) ([]*Loan, error) {
	if actor.AccountID == "" {
		return nil, thuvienso.ErrUnauthenticated
	}
	ls, err := s.store.LoansForReader(ctx, actor.AccountID, !all)
	if err != nil {
		return nil, fmt.Errorf("listing e-book loans: %w", err)
	}
	return ls, nil
}

// Loan returns one of the actor's loans.
func (s *Service) Loan(ctx context.Context, actor auth.Actor, loanID string) (*Loan, error) {
	l, err := s.ownLoan(ctx, actor, loanID)
	if err != nil {
		return nil, fmt.Errorf("e-book loan %s: %w", loanID, err)
	}
	return l, nil
}

// record stores an event. A failure is logged, not returned: the state
// change the event reports has happened and must not be retried for it.
func (s *Service) record(ctx context.Context, e *events.Event) {
	if s.events == nil {
		return
	}
	e.At = e.At.UTC()
	if _, err := s.events.RecordEvent(ctx, e); err != nil {
		slog.ErrorContext(ctx, "ebooks: recording event", "key", e.Key, "err", err)
	}
}
