package circulation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/card"
	"github.com/bacninh/thuvienso/catalog"
	"github.com/bacninh/thuvienso/events"
	"github.com/bacninh/thuvienso/library"
)

// Catalog is what circulation needs of the catalogue; catalog.Store is one.
type Catalog interface {
	Work(ctx context.Context, id string) (*catalog.StoredWork, error)
	Item(ctx context.Context, barcode string) (*catalog.StoredItem, error)
	ItemsByWork(ctx context.Context, workIDs []string) ([]*catalog.StoredItem, error)
	SetItemStatus(ctx context.Context, barcode string, from []catalog.ItemStatus, to catalog.ItemStatus, at time.Time) (*catalog.StoredItem, error)
}

// Accounts finds readers by ID and by card number; auth.Store is one.
type Accounts interface {
	AccountsByID(ctx context.Context, ids []string) ([]*auth.Account, error)
	AccountByLogin(ctx context.Context, login string) (*auth.Account, error)
}

// Libraries finds libraries; library.Store is one.
type Libraries interface {
	Library(ctx context.Context, id string) (*library.Library, error)
	LibrariesByID(ctx context.Context, ids []string) ([]*library.Library, error)
}

// Cards finds a reader's current library card (for the expired-card
// block); card.Store is one.
type Cards interface {
	CurrentCard(ctx context.Context, accountID string) (*card.Card, error)
}

// ClaimGrace is how old a copy's claim must be before another caller may
// take it over from a holder that never recorded it (a crash between two
// steps). A claim whose holder ended (a returned loan, a cancelled hold) is
// taken over at once.
const ClaimGrace = 2 * time.Minute

// Service is physical circulation. It is safe for concurrent use, and any
// number of instances may run against one store.
type Service struct {
	store     Store
	events    events.Store
	catalog   Catalog
	accounts  Accounts
	libraries Libraries
	cards     Cards
	calendar  *Calendar
	rules     Rules
	now       func() time.Time
	logger    *slog.Logger
}

// Option configures a Service.
type Option func(*Service)

// WithClock makes the service read the time from now (tests move it).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithRules replaces DefaultRules.
func WithRules(r Rules) Option { return func(s *Service) { s.rules = r } }

// WithCards lets the service block readers whose card expired, was
// blocked or was reported lost; without it cards are not checked.
func WithCards(c Cards) Option { return func(s *Service) { s.cards = c } }

// WithLogger sets the logger (slog.Default when not given).
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.logger = l } }

// NewService returns the circulation service on st, recording events to
// ev, with the copies of cat, the readers of accounts and the libraries of
// libs.
func NewService(st Store, ev events.Store, cat Catalog, accounts Accounts, libs Libraries, opts ...Option) *Service {
	s := &Service{store: st, events: ev, catalog: cat, accounts: accounts, libraries: libs,
		rules: DefaultRules(), now: time.Now, logger: slog.Default()}
	for _, o := range opts {
		o(s)
	}
	s.calendar = NewCalendar(st)
	return s
}

// Rules returns the rules in force.
func (s *Service) Rules() Rules { return s.rules }

// Calendar returns the calendar the service moves due dates with.
func (s *Service) Calendar() *Calendar { return s.calendar }

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// keySpace is the UUID namespace of loan IDs derived from idempotency keys.
var keySpace = uuid.MustParse("6d1f0c52-93a4-4f6e-9d1e-2f6c7b3a9e10")

// idFor returns a new ID, or with an idempotency key one derived from the
// reader and the key, so that concurrent retries of one request compete
// for one row (only one insert of an ID succeeds).
func idFor(kind, readerID, key string) string {
	if key == "" {
		return newID()
	}
	return uuid.NewSHA1(keySpace, []byte(kind+"\x00"+readerID+"\x00"+key)).String()
}

// ---------------------------------------------------------------------------
// Look-ups

// reader returns the account of the actor.
func (s *Service) reader(ctx context.Context, actor auth.Actor) (*auth.Account, error) {
	return auth.ActorAccount(ctx, s.accounts, actor)
}

// accountsByID returns the accounts by ID.
func (s *Service) accountsByID(ctx context.Context, ids []string) (map[string]*auth.Account, error) {
	return auth.AccountMap(ctx, s.accounts, ids)
}

// readerByCard returns the account whose card number is number.
func (s *Service) readerByCard(ctx context.Context, number string) (*auth.Account, error) {
	n := card.NormalizeNumber(number)
	if n == "" {
		return nil, ErrReaderNotFound
	}
	acc, err := s.accounts.AccountByLogin(ctx, n)
	if errors.Is(err, thuvienso.ErrNotFound) || (err == nil && acc.CardNumber != n) {
		return nil, ErrReaderNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("finding the reader by card: %w", err)
	}
	return acc, nil
}

// category returns the reader's category (ADULT when unset).
func category(acc *auth.Account) auth.Category {
	if acc == nil || acc.Category == "" {
		return auth.CategoryAdult
	}
	return acc.Category
}

// libs returns the libraries by ID (those that exist).
func (s *Service) libs(ctx context.Context, ids ...string) (map[string]*library.Library, error) {
	out := map[string]*library.Library{}
	var want []string
	seen := map[string]bool{}
	for _, id := range ids {
		if id != "" && !seen[id] {
			seen[id] = true
			want = append(want, id)
		}
	}
	if len(want) == 0 {
		return out, nil
	}
	ls, err := s.libraries.LibrariesByID(ctx, want)
	if err != nil {
		return nil, fmt.Errorf("reading libraries: %w", err)
	}
	for _, l := range ls {
		out[l.ID] = l
	}
	return out, nil
}

// library returns one library; a missing one is err (wrapped NOT_FOUND).
func (s *Service) library(ctx context.Context, id string) (*library.Library, error) {
	if id == "" {
		return nil, thuvienso.Invalid("input.libraryId", "choose a library", "hãy chọn thư viện")
	}
	l, err := s.libraries.Library(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("library %s: %w", id, err)
	}
	return l, nil
}

// item returns the copy with this barcode.
func (s *Service) item(ctx context.Context, barcode string) (*catalog.StoredItem, error) {
	barcode = strings.TrimSpace(barcode)
	if barcode == "" {
		return nil, ErrItemNotFound
	}
	it, err := s.catalog.Item(ctx, barcode)
	if errors.Is(err, thuvienso.ErrNotFound) {
		return nil, ErrItemNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading copy %s: %w", barcode, err)
	}
	return it, nil
}

// requireStaff fails unless the actor may work at the library's desk.
func requireStaff(actor auth.Actor, libraryID string) error {
	if actor.AccountID == "" && actor.Role == "" {
		return thuvienso.ErrUnauthenticated
	}
	return actor.RequireLibraryStaff(libraryID)
}

// checkBlocks returns why the reader may not borrow, hold or renew now,
// or nil. loans are the reader's active loans.
func (s *Service) checkBlocks(ctx context.Context, acc *auth.Account, loans []*Loan, now time.Time) error {
	if s.rules.BlockExpiredCard && s.cards != nil {
		c, err := s.cards.CurrentCard(ctx, acc.ID)
		switch {
		case errors.Is(err, thuvienso.ErrNotFound):
		case err != nil:
			return fmt.Errorf("reading the library card: %w", err)
		default:
			switch c.StatusAt(now) {
			case card.StatusExpired:
				return ErrBlockedCardExpired
			case card.StatusLost:
				return ErrBlockedCardLost
			case card.StatusBlocked:
				en, vi := c.BlockReason.Message()
				return thuvienso.E(thuvienso.CodeForbidden, en, vi)
			}
		}
	}
	return s.rules.overdueBlock(loans, now)
}

// record stores an event. A failure is logged, not returned: the change
// the event reports has happened and must not be retried for it.
func (s *Service) record(ctx context.Context, e *events.Event) {
	if s.events == nil {
		return
	}
	e.At = e.At.UTC()
	if _, err := s.events.RecordEvent(ctx, e); err != nil {
		s.logger.ErrorContext(ctx, "circulation: recording event", "key", e.Key, "err", err)
	}
}

// unix formats t for an event key.
func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

// freeSlot returns the lowest slot below limit that none of used has.
func freeSlot(used []int, limit int) (int, bool) {
	taken := make(map[int]bool, len(used))
	for _, u := range used {
		taken[u] = true
	}
	for i := range limit {
		if !taken[i] {
			return i, true
		}
	}
	return 0, false
}

// setItemStatus moves a copy the caller holds the claim of to status to,
// from whatever status it has (the claim, not the status, decides who
// moves it; the catalog's condition only guards against a status change
// from outside circulation meanwhile, which is retried).
func (s *Service) setItemStatus(ctx context.Context, barcode string, to catalog.ItemStatus, now time.Time) (*catalog.StoredItem, error) {
	var last error
	for range 3 {
		it, err := s.catalog.Item(ctx, barcode)
		if err != nil {
			return nil, fmt.Errorf("reading copy %s: %w", barcode, err)
		}
		if it.Status == to {
			return it, nil
		}
		it, err = s.catalog.SetItemStatus(ctx, barcode, []catalog.ItemStatus{it.Status}, to, now)
		if err == nil {
			return it, nil
		}
		if !errors.Is(err, catalog.ErrItemStatusConflict) {
			return nil, fmt.Errorf("setting the status of copy %s: %w", barcode, err)
		}
		last = err
	}
	return nil, fmt.Errorf("setting the status of copy %s: %w", barcode, last)
}
