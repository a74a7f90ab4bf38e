package notifications

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/search"
)

// Searcher runs a catalog search; *search.Index and *search.Cached are
// ones.
type Searcher interface {
	Search(ctx context.Context, req search.Request) (*search.Result, error)
}

// StoredSearch is a search a reader asked to be told about: at most once a
// week the Dispatcher runs it, newest titles first, and when titles match
// that did not at the last run, the reader gets a SAVED_SEARCH
// notification with how many and the newest one's title.
type StoredSearch struct {
	ID       string
	ReaderID string
	// Name is the reader's name for it, unique among theirs.
	Name   string
	Query  string
	Filter search.Filter
	// CreatedAt orders a reader's saved searches.
	CreatedAt time.Time
	// LastRunAt is when it last ran (nil: never; the first run only
	// notes what matches).
	LastRunAt *time.Time
	// NextRunAt is when it runs next: a week after the last run.
	NextRunAt time.Time
	// Seen are the works that matched at the last runs, newest first (at
	// most MaxSeen); the others are new.
	Seen []string
	// Version counts runs; recording a run compares and sets it.
	Version int
}

// SavedSearchRun is what one run of a saved search records.
type SavedSearchRun struct {
	At   time.Time
	Next time.Time
	Seen []string
}

// Limits of saved searches.
const (
	// MaxSavedSearches bounds a reader's saved searches (checked before
	// saving: two saves at the same moment may pass it by one).
	MaxSavedSearches = 20
	// MaxSavedSearchName bounds a name, in letters.
	MaxSavedSearchName = 80
	// MaxSavedQuery bounds the query text, in letters.
	MaxSavedQuery = 300
	// MaxSeen bounds the works remembered as seen. A run reads the first
	// search.MaxPageSize newest matches; remembering more than that keeps
	// a work that drops out of them and comes back (a copy lent and
	// returned, under an "available at" filter) from counting as new.
	MaxSeen = 500
	// SavedSearchEvery is the least time between two runs of one search,
	// and so between two notifications about it.
	SavedSearchEvery = 7 * 24 * time.Hour
)

// Errors of saved searches.
var (
	ErrSavedSearchName = thuvienso.Invalid("input.name",
		fmt.Sprintf("the name must have 1 to %d letters", MaxSavedSearchName),
		fmt.Sprintf("tên phải có từ 1 đến %d ký tự", MaxSavedSearchName))
	ErrSavedSearchQuery = thuvienso.Invalid("input.query",
		fmt.Sprintf("give words to search for (at most %d letters) or a filter", MaxSavedQuery),
		fmt.Sprintf("hãy nhập từ khóa (tối đa %d ký tự) hoặc chọn bộ lọc", MaxSavedQuery))
	// ErrSavedSearchNameTaken: the reader has a saved search of this name.
	ErrSavedSearchNameTaken = thuvienso.E(thuvienso.CodeConflict,
		"you already have a saved search with this name", "bạn đã có một tìm kiếm đã lưu với tên này").WithField("input.name")
	// ErrTooManySavedSearches: the reader has MaxSavedSearches already.
	ErrTooManySavedSearches = thuvienso.E(thuvienso.CodeLimitReached,
		fmt.Sprintf("you can save at most %d searches; delete one first", MaxSavedSearches),
		fmt.Sprintf("bạn chỉ lưu được tối đa %d tìm kiếm; hãy xóa bớt một tìm kiếm", MaxSavedSearches))
)

// SaveSearchInput is a search to save.
type SaveSearchInput struct {
	Name   string
	Query  string
	Filter search.Filter
}

// SaveSearch saves a search of the actor's. When the service has a
// Searcher the search is run at once, which checks it (a bad filter is
// refused) and notes what matches now, so the first notification, a week
// later, is about titles that are really new; without one the first run
// of the Dispatcher notes it.
func (s *Service) SaveSearch(ctx context.Context, actor auth.Actor, in SaveSearchInput) (*StoredSearch, error) {
	id, err := reader(actor)
	if err != nil {
		return nil, fmt.Errorf("saving a search: %w", err)
	}
	ss := &StoredSearch{ID: newID(), ReaderID: id, Name: strings.TrimSpace(in.Name), Query: strings.TrimSpace(in.Query),
		Filter: in.Filter, CreatedAt: s.now().UTC(), Seen: []string{}}
	switch {
	case ss.Name == "" || utf8.RuneCountInString(ss.Name) > MaxSavedSearchName:
		return nil, ErrSavedSearchName
	case utf8.RuneCountInString(ss.Query) > MaxSavedQuery || (ss.Query == "" && filterEmpty(ss.Filter)):
		return nil, ErrSavedSearchQuery
	}
	mine, err := s.store.SavedSearches(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("saving a search: %w", err)
	}
	if len(mine) >= MaxSavedSearches {
		return nil, ErrTooManySavedSearches
	}
	ss.NextRunAt = ss.CreatedAt
	if s.searcher != nil {
		res, err := s.searcher.Search(ctx, newestRequest(ss))
		if err != nil {
			return nil, fmt.Errorf("saving a search: %w", err)
		}
		ss.Seen = seenAfter(nil, res.Hits)
		ss.LastRunAt, ss.NextRunAt = &ss.CreatedAt, ss.CreatedAt.Add(SavedSearchEvery)
	}
	if err := s.store.CreateSavedSearch(ctx, ss); err != nil {
		return nil, fmt.Errorf("saving a search: %w", err)
	}
	return ss, nil
}

// filterEmpty reports whether f restricts nothing.
func filterEmpty(f search.Filter) bool {
	return len(f.LibraryIDs) == 0 && len(f.Districts) == 0 && len(f.LibraryTypes) == 0 && len(f.Formats) == 0 &&
		len(f.Languages) == 0 && f.YearFrom == 0 && f.YearTo == 0 && strings.TrimSpace(f.Subject) == "" &&
		strings.TrimSpace(f.AvailableAt) == ""
}

// SavedSearches returns the actor's saved searches, oldest first.
func (s *Service) SavedSearches(ctx context.Context, actor auth.Actor) ([]*StoredSearch, error) {
	id, err := reader(actor)
	if err != nil {
		return nil, fmt.Errorf("listing saved searches: %w", err)
	}
	ss, err := s.store.SavedSearches(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("listing saved searches: %w", err)
	}
	return ss, nil
}

// DeleteSavedSearch deletes one of the actor's saved searches; another
// reader's, or one that is gone, is thuvienso.ErrNotFound.
func (s *Service) DeleteSavedSearch(ctx context.Context, actor auth.Actor, savedSearchID string) error {
	id, err := reader(actor)
	if err != nil {
		return fmt.Errorf("deleting saved search: %w", err)
	}
	ok, err := s.store.DeleteSavedSearch(ctx, id, savedSearchID)
	if err == nil && !ok {
		err = thuvienso.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("deleting saved search %s: %w", savedSearchID, err)
	}
	return nil
}

// newestRequest is the search a run makes: the saved one, newest titles
// first, one full page.
func newestRequest(ss *StoredSearch) search.Request {
	return search.Request{Query: ss.Query, Filter: ss.Filter, Sort: search.SortNewest, First: search.MaxPageSize}
}

// seenAfter returns the works of hits (newest first) followed by those of
// seen not among them, at most MaxSeen.
func seenAfter(seen []string, hits []search.Hit) []string {
	out := make([]string, 0, min(len(hits)+len(seen), MaxSeen))
	in := map[string]bool{}
	for _, h := range hits {
		if !in[h.ID] {
			in[h.ID] = true
			out = append(out, h.ID)
		}
	}
	for _, id := range seen {
		if !in[id] {
			in[id] = true
			out = append(out, id)
		}
	}
	return out[:min(len(out), MaxSeen)]
}

// WeekOf returns the start of the week (Monday 00:00 in the province's
// time) that t is in: the moment of a saved search's notification, so
// that it has at most one a week.
func WeekOf(t time.Time) time.Time {
	l := t.In(thuvienso.Zone)
	days := (int(l.Weekday()) + 6) % 7 // Monday 0 … Sunday 6
	return time.Date(l.Year(), l.Month(), l.Day()-days, 0, 0, 0, 0, thuvienso.Zone).UTC()
}

// runSavedSearches runs the saved searches that are due, a batch
// (Config.BatchSize) a pass, soonest due first. A run searches
// newest first, tells the reader about the titles not seen before (but
// on a search's first run, which only notes them), then records the run
// with a compare-and-set of the search's version. The notification's
// moment is the week of the run's due time, so a run repeated after a
// crash, or by a racing dispatcher, makes no second notification.
func (d *Dispatcher) runSavedSearches(ctx context.Context, now time.Time, rep *Report) error {
	if d.svc.searcher == nil {
		return nil
	}
	due, err := d.svc.store.DueSavedSearches(ctx, now, max(d.svc.cfg.BatchSize, 1))
	if err != nil {
		return fmt.Errorf("saved searches: %w", err)
	}
	var errs []error
	for _, ss := range due {
		if ctx.Err() != nil {
			break
		}
		ok, err := d.runSavedSearch(ctx, ss, now, rep)
		if err != nil {
			errs = append(errs, fmt.Errorf("saved search %s: %w", ss.ID, err))
			continue
		}
		if ok {
			rep.SavedSearchRuns++
		}
	}
	return errors.Join(errs...)
}

// runSavedSearch runs one saved search; it reports whether this call
// recorded the run.
func (d *Dispatcher) runSavedSearch(ctx context.Context, ss *StoredSearch, now time.Time, rep *Report) (bool, error) {
	run := SavedSearchRun{At: now, Next: now.Add(SavedSearchEvery), Seen: ss.Seen}
	res, err := d.svc.searcher.Search(ctx, newestRequest(ss))
	var bad *thuvienso.Error
	switch {
	case errors.As(err, &bad) && bad.Code == thuvienso.CodeBadUserInput:
		// The search no longer makes sense (an index of another version,
		// say): try again next week rather than every pass.
		d.svc.log.WarnContext(ctx, "notifications: a saved search was refused; trying again next week",
			"savedSearch", ss.ID, "err", err)
	case err != nil:
		return false, err
	default:
		var fresh []search.Hit
		for _, h := range res.Hits {
			if !slices.Contains(ss.Seen, h.ID) {
				fresh = append(fresh, h)
			}
		}
		if ss.LastRunAt != nil && len(fresh) > 0 {
			count := strconv.Itoa(len(fresh))
			if len(fresh) == len(res.Hits) && res.HasNextPage {
				count += "+"
			}
			name := ss.Name
			if name == "" {
				name = ss.Query
			}
			created, err := d.svc.notifyAll(ctx, []Request{{ReaderID: ss.ReaderID, Kind: SavedSearch, SubjectID: ss.ID,
				Moment: WeekOf(ss.NextRunAt),
				Data:   map[string]string{"count": count, "title": fresh[0].Title, "workId": fresh[0].ID, "query": name}}})
			if err != nil {
				return false, err
			}
			rep.SavedSearchNotices += created
		}
		run.Seen = seenAfter(ss.Seen, res.Hits)
	}
	return d.svc.store.RecordSavedSearchRun(ctx, ss.ID, ss.Version, run)
}
