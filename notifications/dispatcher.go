package notifications

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/bacninh/thuvienso/events"
	"github.com/bacninh/thuvienso/lock"
)

// DispatcherConfig tunes a Dispatcher. DefaultDispatcherConfig gives it.
type DispatcherConfig struct {
	// LockKey names the lock under which one instance works at a time.
	LockKey string
	// LockTTL is the lease, renewed every third of it while a pass runs.
	LockTTL time.Duration
	// EventBatch bounds one read of the event log.
	EventBatch int
	// DeadlineLimit bounds the deadlines read from one source per scan.
	DeadlineLimit int
	// ScanEvery is how often the sources are scanned for reminders (the
	// event log and due pushes are looked at on every pass).
	ScanEvery time.Duration
}

// DefaultDispatcherConfig returns the lock "notifications:dispatch" with a
// one-minute lease, batches of 500 events, 10,000 deadlines per source and
// a reminder scan every minute.
func DefaultDispatcherConfig() DispatcherConfig {
	return DispatcherConfig{LockKey: "notifications:dispatch", LockTTL: time.Minute, EventBatch: 500,
		DeadlineLimit: 10_000, ScanEvery: time.Minute}
}

// Dispatcher turns events and deadlines into notifications and sends their
// pushes. Every instance runs one; a pass works only under the lock, so
// one instance works at a time, and everything a pass does is idempotent
// besides (deduplication keys, conditional marks and claims), so a lease
// that runs out mid-pass costs duplicate reads, never duplicate
// notifications or pushes.
type Dispatcher struct {
	svc     *Service
	events  events.Store
	locker  lock.Locker
	sources []Source
	cfg     DispatcherConfig

	mu       sync.Mutex
	lastScan time.Time
}

// NewDispatcher returns a dispatcher for svc reading the event log ev and
// the deadlines of sources, working under locks from locker.
func NewDispatcher(svc *Service, ev events.Store, locker lock.Locker, cfg DispatcherConfig, sources ...Source) *Dispatcher {
	return &Dispatcher{svc: svc, events: ev, locker: locker, sources: sources, cfg: cfg}
}

// Report says what one pass did.
type Report struct {
	// Events counts events this pass marked handled.
	Events int
	// FromEvents counts notifications created from events.
	FromEvents int
	// Reminders counts notifications created from deadlines.
	Reminders int
	// News counts LIBRARY_NEWS notifications created from broadcasts.
	News int
	// SavedSearchRuns counts saved searches run; SavedSearchNotices the
	// notifications they made.
	SavedSearchRuns, SavedSearchNotices int
	// Pushes is the delivery round.
	Pushes DeliveryReport
}

// Empty reports whether the pass found nothing to do.
func (r Report) Empty() bool { return r == Report{} }

// Run runs a pass every interval until ctx ends.
func (d *Dispatcher) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		rep, err := d.Pass(ctx)
		if err != nil && ctx.Err() == nil {
			d.svc.log.ErrorContext(ctx, "notifications: dispatch pass", "err", err)
		}
		if !rep.Empty() {
			d.svc.log.InfoContext(ctx, "notifications: dispatch pass", "report", fmt.Sprintf("%+v", rep))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Pass runs one pass if this instance gets the lock (an empty report
// otherwise). The lease is renewed while the pass runs; if it is lost, the
// pass stops.
func (d *Dispatcher) Pass(ctx context.Context) (Report, error) {
	lease, err := d.locker.TryObtain(ctx, d.cfg.LockKey, d.cfg.LockTTL)
	if errors.Is(err, lock.ErrNotObtained) || ctx.Err() != nil {
		return Report{}, nil
	}
	if err != nil {
		d.svc.log.WarnContext(ctx, "notifications: lock unavailable; skipping this pass", "err", err)
		return Report{}, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		t := time.NewTicker(d.cfg.LockTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := lease.Refresh(ctx, d.cfg.LockTTL); err != nil {
					if ctx.Err() == nil {
						d.svc.log.WarnContext(ctx, "notifications: lost the dispatch lock; stopping the pass", "err", err)
					}
					cancel()
					return
				}
			}
		}
	}()
	defer func() {
		cancel()
		<-renewed
		_ = lease.Release(context.WithoutCancel(ctx))
	}()
	return d.RunOnce(ctx)
}

// RunOnce does the work of a pass without the lock (tests, tools; safe to
// run concurrently, only wasteful): the unhandled events become
// notifications, broadcasts are fanned out, the sources are scanned for
// reminders when ScanEvery has passed, the saved searches that are due
// run, and the due pushes are sent.
func (d *Dispatcher) RunOnce(ctx context.Context) (Report, error) {
	var rep Report
	var errs []error
	if err := d.handleEvents(ctx, &rep); err != nil {
		errs = append(errs, err)
	}
	if err := d.fanOut(ctx, &rep); err != nil {
		errs = append(errs, err)
	}
	now := d.svc.now()
	d.mu.Lock()
	scan := d.lastScan.IsZero() || now.Sub(d.lastScan) >= d.cfg.ScanEvery || now.Before(d.lastScan)
	if scan {
		d.lastScan = now
	}
	d.mu.Unlock()
	if scan {
		if err := d.remind(ctx, now, &rep); err != nil {
			errs = append(errs, err)
		}
	}
	if err := d.runSavedSearches(ctx, now, &rep); err != nil {
		errs = append(errs, err)
	}
	pushes, err := d.svc.DeliverDue(ctx)
	rep.Pushes = pushes
	if err != nil {
		errs = append(errs, err)
	}
	return rep, errors.Join(errs...)
}

// eventKinds maps the events that readers are told about to kinds; the
// others (a loan renewed, an e-book loan ended, …) are marked handled
// without a notification.
var eventKinds = map[events.Kind]Kind{
	events.HoldReady:                HoldReady,
	events.HoldExpiring:             HoldExpiring,
	events.LoanDueSoon:              DueSoon,
	events.LoanOverdue:              Overdue,
	events.EbookLoanExpiring:        EbookExpiring,
	events.EbookHoldReserved:        EbookHoldReserved,
	events.EbookReservationExpiring: HoldExpiring,
}

// FromEvent returns the notification an event asks for, and false when
// readers are not told about its kind. The moment is the event's At (the
// deadline of an "expiring" event), so that an event and a reminder about
// the same deadline make one notification. The text's "deadline" is the
// event's, else its "dueAt", else (but for holds ready or reserved, whose
// At is when that happened) its At.
func FromEvent(e *events.Event) (Request, bool) {
	kind, ok := eventKinds[e.Kind]
	if !ok || e.ReaderID == "" || e.SubjectID == "" {
		return Request{}, false
	}
	data := map[string]string{}
	for k, v := range e.Data {
		data[k] = v
	}
	if e.WorkID != "" {
		data["workId"] = e.WorkID
	}
	if e.LibraryID != "" {
		data["libraryId"] = e.LibraryID
	}
	if data["deadline"] == "" {
		switch {
		case data["dueAt"] != "": // circulation's loan events
			data["deadline"] = data["dueAt"]
		case kind != HoldReady && kind != EbookHoldReserved: // the At of the others is the deadline
			data["deadline"] = e.At.UTC().Format(time.RFC3339)
		}
	}
	return Request{ReaderID: e.ReaderID, Kind: kind, SubjectID: e.SubjectID, Moment: e.At, Data: data, EventKey: e.Key}, true
}

// handleEvents turns unhandled events into notifications, marking each
// handled only once its notification exists.
func (d *Dispatcher) handleEvents(ctx context.Context, rep *Report) error {
	if d.events == nil {
		return nil
	}
	batch := max(d.cfg.EventBatch, 1)
	var errs []error
	for ctx.Err() == nil {
		evs, err := d.events.UnhandledEvents(ctx, batch)
		if err != nil {
			return fmt.Errorf("reading the event log: %w", err)
		}
		progress := 0
		for _, e := range evs {
			if r, ok := FromEvent(e); ok {
				_, created, err := d.svc.Notify(ctx, r)
				if err != nil {
					errs = append(errs, fmt.Errorf("event %s: %w", e.Key, err))
					continue
				}
				if created {
					rep.FromEvents++
				}
			}
			marked, err := d.events.MarkEventHandled(ctx, e.Key, d.svc.now())
			if err != nil {
				errs = append(errs, fmt.Errorf("event %s: %w", e.Key, err))
				continue
			}
			progress++
			if marked {
				rep.Events++
			}
		}
		if len(evs) < batch || progress == 0 {
			break
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("handling events: %w", errors.Join(errs...))
	}
	return nil
}

// remind scans every source and creates the reminders that are due and
// not created yet. A PagedSource is read page by page from its kind's lag
// behind now; another Source up to DeadlineLimit deadlines.
func (d *Dispatcher) remind(ctx context.Context, now time.Time, rep *Report) error {
	var errs []error
	limit := max(d.cfg.DeadlineLimit, 1)
	for _, src := range d.sources {
		kind := src.Kind()
		lead, ok := leads[kind]
		if !ok {
			errs = append(errs, fmt.Errorf("source of %s: no reminder rule for this kind", kind))
			continue
		}
		until := now.Add(lead)
		paged, isPaged := src.(PagedSource)
		after := DeadlineCursor{At: now.Add(-lags[kind])}
		for ctx.Err() == nil {
			var dls []Deadline
			var err error
			if isPaged {
				dls, err = paged.DeadlinesAfter(ctx, after, until, limit)
			} else {
				dls, err = src.Deadlines(ctx, until, limit)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("deadlines of %s: %w", kind, err))
				break
			}
			if err := d.remindOf(ctx, kind, dls, now, rep); err != nil {
				errs = append(errs, err)
				break
			}
			if len(dls) < limit {
				break
			}
			if !isPaged {
				d.svc.log.WarnContext(ctx, "notifications: a source has more deadlines than one scan reads; later ones wait until earlier ones close",
					"kind", kind, "limit", limit)
				break
			}
			last := dls[len(dls)-1]
			after = DeadlineCursor{At: last.At, SubjectID: last.SubjectID}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("reminders: %w", errors.Join(errs...))
	}
	return nil
}

// remindOf creates the reminders of kind that are due at now for dls,
// reading the readers' preferences a batch at a time.
func (d *Dispatcher) remindOf(ctx context.Context, kind Kind, dls []Deadline, now time.Time, rep *Report) error {
	for chunk := range slices.Chunk(dls, max(d.svc.cfg.BatchSize, 1)) {
		var ids []string
		seen := map[string]bool{}
		for _, dl := range chunk {
			if !seen[dl.ReaderID] {
				seen[dl.ReaderID] = true
				ids = append(ids, dl.ReaderID)
			}
		}
		prefs, err := d.svc.preferencesOf(ctx, ids)
		if err != nil {
			return fmt.Errorf("reminders of %s: %w", kind, err)
		}
		var reqs []Request
		for _, dl := range chunk {
			if r, ok := Reminder(kind, dl, prefs[dl.ReaderID], now); ok {
				reqs = append(reqs, r)
			}
		}
		created, err := d.svc.notifyAll(ctx, reqs)
		rep.Reminders += created
		if err != nil {
			return fmt.Errorf("reminders of %s: %w", kind, err)
		}
	}
	return nil
}
