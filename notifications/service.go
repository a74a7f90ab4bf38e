package notifications

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/pubsub"
)

// Config holds the service's limits. DefaultConfig gives them.
type Config struct {
	// MaxDevices bounds a reader's devices; registering one more forgets
	// the one registered longest ago.
	MaxDevices int
	// MaxAttempts bounds the sending attempts of one push.
	MaxAttempts int
	// RetryBase is the delay after the first failed attempt; it doubles
	// with each attempt (with jitter) up to RetryMax.
	RetryBase, RetryMax time.Duration
	// ClaimTTL is how long a sender may hold a push before it counts as
	// dead (the push is then marked FAILED, never sent twice).
	ClaimTTL time.Duration
	// BatchSize bounds one query and one round of pushes.
	BatchSize int
	// MaxPage bounds a page of the inbox.
	MaxPage int
}

// DefaultConfig returns the service's limits: 10 devices per reader, 5
// attempts with a backoff from 30 s to 1 h, claims of 2 minutes, batches of
// 500, pages of 100.
func DefaultConfig() Config {
	return Config{
		MaxDevices: 10, MaxAttempts: 5,
		RetryBase: 30 * time.Second, RetryMax: time.Hour,
		ClaimTTL:  2 * time.Minute,
		BatchSize: 500, MaxPage: 100,
	}
}

// Describer adds to data, for a message's text, the names of what a
// notification is about: "title" (from "titleId" or "workId") and
// "library" (from "libraryId"). It returns only what it found.
type Describer func(ctx context.Context, data map[string]string) map[string]string

// Service is the notification domain: devices, preferences, the inbox and
// delivery. It is safe for concurrent use, and any number of instances may
// run against one store.
type Service struct {
	store    Store
	sender   Sender
	broker   pubsub.Broker
	describe Describer
	readers  Readers
	searcher Searcher
	now      func() time.Time
	cfg      Config
	log      *slog.Logger
	stats    stats
}

// Option configures a Service.
type Option func(*Service)

// WithClock makes the service read the time from now (tests move it).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithConfig replaces DefaultConfig.
func WithConfig(c Config) Option { return func(s *Service) { s.cfg = c } }

// WithBroker publishes every new notification on its reader's topic
// (Topic), for open apps.
func WithBroker(b pubsub.Broker) Option { return func(s *Service) { s.broker = b } }

// WithDescriber names what notifications are about in their texts.
func WithDescriber(d Describer) Option { return func(s *Service) { s.describe = d } }

// WithReaders lets the Dispatcher fan broadcasts out to the readers of a
// library (auth.Store is one); without it broadcasts are stored but wait.
func WithReaders(r Readers) Option { return func(s *Service) { s.readers = r } }

// WithSearcher lets saved searches be checked when saved and run weekly
// by the Dispatcher (*search.Index and *search.Cached are ones); without
// it they are stored but never run.
func WithSearcher(x Searcher) Option { return func(s *Service) { s.searcher = x } }

// WithLogger sets the logger (slog.Default otherwise).
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// NewService returns the notification service on st, pushing through
// sender (a LogSender when nil).
func NewService(st Store, sender Sender, opts ...Option) *Service {
	s := &Service{store: st, sender: sender, now: time.Now, cfg: DefaultConfig(), log: slog.Default()}
	for _, o := range opts {
		o(s)
	}
	if s.sender == nil {
		s.sender = LogSender{Logger: s.log}
	}
	return s
}

// Config returns the limits in force.
func (s *Service) Config() Config { return s.cfg }

// Store returns the store the service keeps its data in.
func (s *Service) Store() Store { return s.store }

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// reader returns the account the actor acts as, or ErrUnauthenticated.
func reader(actor auth.Actor) (string, error) {
	if actor.AccountID == "" {
		return "", thuvienso.ErrUnauthenticated
	}
	return actor.AccountID, nil
}

// ---------------------------------------------------------------------------
// Devices

// maxTokenLen bounds a registration token (FCM's are about 160 bytes).
const maxTokenLen = 4096

// RegisterDevice registers the push token of one of the actor's devices
// (platform ANDROID, IOS or WEB; locale such as "vi" or "en"). A token
// that another account registered moves to the actor: a phone receives
// the pushes of whoever logged in last. Registering again refreshes it.
func (s *Service) RegisterDevice(ctx context.Context, actor auth.Actor, token string, platform Platform, locale string) (*Device, error) {
	id, err := reader(actor)
	if err != nil {
		return nil, fmt.Errorf("registering device: %w", err)
	}
	token = strings.TrimSpace(token)
	switch {
	case token == "" || len(token) > maxTokenLen:
		return nil, ErrBadToken
	case !platform.Valid():
		return nil, ErrBadPlatform
	}
	d := &Device{Token: token, ReaderID: id, Platform: platform, Locale: normaliseLocale(locale), RegisteredAt: s.now()}
	if err := s.store.SaveDevice(ctx, d); err != nil {
		return nil, fmt.Errorf("registering device: %w", err)
	}
	devs, err := s.store.Devices(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("registering device: %w", err)
	}
	for i := 0; len(devs)-i > s.cfg.MaxDevices && s.cfg.MaxDevices > 0; i++ {
		if devs[i].Token == token {
			continue
		}
		if _, err := s.store.DeleteDevice(ctx, id, devs[i].Token); err != nil {
			return nil, fmt.Errorf("registering device: forgetting the oldest: %w", err)
		}
	}
	return d, nil
}

// normaliseLocale keeps the language part of a locale ("en-US" → "en").
func normaliseLocale(l string) string {
	l = strings.ToLower(strings.TrimSpace(l))
	if i := strings.IndexAny(l, "-_"); i >= 0 {
		l = l[:i]
	}
	if len(l) > 8 {
		l = l[:8]
	}
	return l
}

// UnregisterDevice forgets one of the actor's tokens (at logout); it
// reports false when the actor had no such token.
func (s *Service) UnregisterDevice(ctx context.Context, actor auth.Actor, token string) (bool, error) {
	id, err := reader(actor)
	if err != nil {
		return false, fmt.Errorf("unregistering device: %w", err)
	}
	ok, err := s.store.DeleteDevice(ctx, id, strings.TrimSpace(token))
	if err != nil {
		return false, fmt.Errorf("unregistering device: %w", err)
	}
	return ok, nil
}

// Devices returns the actor's devices, oldest registration first.
func (s *Service) Devices(ctx context.Context, actor auth.Actor) ([]*Device, error) {
	id, err := reader(actor)
	if err != nil {
		return nil, fmt.Errorf("listing devices: %w", err)
	}
	ds, err := s.store.Devices(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("listing devices: %w", err)
	}
	return ds, nil
}

// ---------------------------------------------------------------------------
// Preferences

// Preferences returns the actor's preferences (the defaults until changed).
func (s *Service) Preferences(ctx context.Context, actor auth.Actor) (*Preferences, error) {
	id, err := reader(actor)
	if err != nil {
		return nil, fmt.Errorf("reading notification preferences: %w", err)
	}
	ps, err := s.preferencesOf(ctx, []string{id})
	if err != nil {
		return nil, fmt.Errorf("reading notification preferences: %w", err)
	}
	return ps[id], nil
}

// UpdatePreferences changes the actor's preferences and returns them.
func (s *Service) UpdatePreferences(ctx context.Context, actor auth.Actor, u PreferencesUpdate) (*Preferences, error) {
	p, err := s.Preferences(ctx, actor)
	if err != nil {
		return nil, err
	}
	c, err := u.apply(p)
	if err != nil {
		return nil, err
	}
	c.UpdatedAt = s.now()
	if err := s.store.SavePreferences(ctx, c); err != nil {
		return nil, fmt.Errorf("saving notification preferences: %w", err)
	}
	return c, nil
}

// preferencesOf returns the preferences of every reader, defaults for
// those who saved none.
func (s *Service) preferencesOf(ctx context.Context, readerIDs []string) (map[string]*Preferences, error) {
	ps, err := s.store.Preferences(ctx, readerIDs)
	if err != nil {
		return nil, err
	}
	if ps == nil {
		ps = map[string]*Preferences{}
	}
	for _, id := range readerIDs {
		if ps[id] == nil {
			ps[id] = DefaultPreferences(id)
		}
	}
	return ps, nil
}

// ---------------------------------------------------------------------------
// Inbox

// Page is one page of an inbox, newest first.
type Page struct {
	Notifications []*Notification
	// HasNextPage says whether older notifications follow.
	HasNextPage bool
}

// EncodeCursor returns the opaque cursor of a position in the inbox.
func EncodeCursor(c Cursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.CreatedAt.UnixNano(), 10) + ":" + c.ID))
}

// DecodeCursor reads a cursor made by EncodeCursor.
func DecodeCursor(s string) (Cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, ErrBadCursor
	}
	ns, id, ok := strings.Cut(string(b), ":")
	n, err := strconv.ParseInt(ns, 10, 64)
	if !ok || err != nil || id == "" {
		return Cursor{}, ErrBadCursor
	}
	return Cursor{CreatedAt: time.Unix(0, n).UTC(), ID: id}, nil
}

// Inbox returns up to first of the actor's notifications after the
// cursor after ("" for the newest), newest first; unreadOnly leaves out
// read ones. first is capped at Config.MaxPage (and 20 when ≤ 0).
func (s *Service) Inbox(ctx context.Context, actor auth.Actor, first int, after string, unreadOnly bool) (*Page, error) {
	id, err := reader(actor)
	if err != nil {
		return nil, fmt.Errorf("reading notifications: %w", err)
	}
	if first <= 0 {
		first = 20
	}
	first = min(first, s.cfg.MaxPage)
	q := ListQuery{ReaderID: id, Limit: first + 1, UnreadOnly: unreadOnly}
	if after != "" {
		c, err := DecodeCursor(after)
		if err != nil {
			return nil, err
		}
		q.After = &c
	}
	ns, err := s.store.Notifications(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("reading notifications: %w", err)
	}
	p := &Page{Notifications: ns}
	if len(ns) > first {
		p.Notifications, p.HasNextPage = ns[:first], true
	}
	return p, nil
}

// Count returns how many notifications the actor has (unread ones only
// when unreadOnly): the connection's totalCount and unreadCount.
func (s *Service) Count(ctx context.Context, actor auth.Actor, unreadOnly bool) (int, error) {
	id, err := reader(actor)
	if err != nil {
		return 0, fmt.Errorf("counting notifications: %w", err)
	}
	n, err := s.store.CountNotifications(ctx, id, unreadOnly)
	if err != nil {
		return 0, fmt.Errorf("counting notifications: %w", err)
	}
	return n, nil
}

// UnreadCount returns how many of the actor's notifications are unread.
func (s *Service) UnreadCount(ctx context.Context, actor auth.Actor) (int, error) {
	return s.Count(ctx, actor, true)
}

// Notification returns one of the actor's notifications; another reader's
// is thuvienso.ErrNotFound.
func (s *Service) Notification(ctx context.Context, actor auth.Actor, notificationID string) (*Notification, error) {
	id, err := reader(actor)
	if err != nil {
		return nil, fmt.Errorf("reading notification: %w", err)
	}
	n, err := s.store.Notification(ctx, notificationID)
	if err == nil && n.ReaderID != id {
		err = thuvienso.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading notification %s: %w", notificationID, err)
	}
	return n, nil
}

// MarkRead marks one of the actor's notifications read (again is a
// no-op) and returns it.
func (s *Service) MarkRead(ctx context.Context, actor auth.Actor, notificationID string) (*Notification, error) {
	id, err := reader(actor)
	if err != nil {
		return nil, fmt.Errorf("marking notification read: %w", err)
	}
	if _, err := s.store.MarkRead(ctx, id, notificationID, s.now()); err != nil {
		return nil, fmt.Errorf("marking notification %s read: %w", notificationID, err)
	}
	return s.Notification(ctx, actor, notificationID)
}

// MarkAllRead marks every notification of the actor read and returns how
// many were unread.
func (s *Service) MarkAllRead(ctx context.Context, actor auth.Actor) (int, error) {
	id, err := reader(actor)
	if err != nil {
		return 0, fmt.Errorf("marking notifications read: %w", err)
	}
	n, err := s.store.MarkAllRead(ctx, id, s.now())
	if err != nil {
		return 0, fmt.Errorf("marking notifications read: %w", err)
	}
	return n, nil
}

// Topic is the broker topic on which a reader's new notifications are
// published.
func Topic(readerID string) string { return "notifications:" + readerID }

// Subscribe returns the actor's new notifications as they are created,
// on any instance, until ctx ends (the channel is then closed). Delivery
// is best effort: the inbox is the record.
func (s *Service) Subscribe(ctx context.Context, actor auth.Actor) (<-chan *Notification, error) {
	id, err := reader(actor)
	if err != nil {
		return nil, fmt.Errorf("subscribing to notifications: %w", err)
	}
	if s.broker == nil {
		return nil, fmt.Errorf("subscribing to notifications: %w", thuvienso.ErrInternal)
	}
	msgs, err := s.broker.Subscribe(ctx, Topic(id))
	if err != nil {
		return nil, fmt.Errorf("subscribing to notifications: %w", err)
	}
	out := make(chan *Notification, 16)
	go func() {
		defer close(out)
		for m := range msgs {
			var n Notification
			if err := json.Unmarshal(m, &n); err != nil || n.ReaderID != id {
				continue
			}
			select {
			case out <- &n:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// ---------------------------------------------------------------------------
// Creating notifications

// Request asks for one notification.
type Request struct {
	ReaderID  string
	Kind      Kind
	SubjectID string
	// Moment goes into the deduplication key (see Notification.Moment).
	Moment time.Time
	// Data is what the text needs; names the Describer finds are added.
	Data map[string]string
	// EventKey names the event it comes from, if any.
	EventKey string
}

// Notify stores the notification asked for, unless one with its
// deduplication key exists, publishes it for open apps, and leaves its
// push PENDING (at once, or at the end of the reader's quiet hours) for
// DeliverDue; a disabled kind is stored but not pushed. It returns the
// notification (the existing one when it was there already) and whether
// this call created it. Any number of callers may race: one creates it.
func (s *Service) Notify(ctx context.Context, r Request) (*Notification, bool, error) {
	if err := r.check(); err != nil {
		return nil, false, err
	}
	key := DedupKey(r.ReaderID, r.Kind, r.SubjectID, r.Moment)
	ps, err := s.preferencesOf(ctx, []string{r.ReaderID})
	if err != nil {
		return nil, false, fmt.Errorf("notifying %s: %w", key, err)
	}
	n := s.build(ctx, r, ps[r.ReaderID], nil)
	created, err := s.store.CreateNotification(ctx, n)
	if err != nil {
		return nil, false, fmt.Errorf("notifying %s: %w", key, err)
	}
	if !created {
		existing, err := s.store.NotificationByKey(ctx, key)
		if err != nil {
			return nil, false, fmt.Errorf("notifying %s: %w", key, err)
		}
		return existing, false, nil
	}
	s.created(ctx, n)
	return n, true, nil
}

// check validates a request.
func (r *Request) check() error {
	switch {
	case r.ReaderID == "":
		return fmt.Errorf("notifying: %w", thuvienso.Invalid("readerId", "no reader", "thiếu bạn đọc"))
	case !r.Kind.Valid():
		return fmt.Errorf("notifying %s: %w", r.ReaderID, ErrBadKind)
	case r.SubjectID == "":
		return fmt.Errorf("notifying %s: %w", r.ReaderID, thuvienso.Invalid("subjectId", "no subject", "thiếu đối tượng"))
	}
	return nil
}

// build returns the notification r asks for, for a reader with prefs.
// Names the Describer found are kept in memo (when not nil) by what they
// name, so that a batch about one library or title looks it up once.
func (s *Service) build(ctx context.Context, r Request, prefs *Preferences, memo map[string]map[string]string) *Notification {
	data := maps.Clone(r.Data)
	if data == nil {
		data = map[string]string{}
	}
	if s.describe != nil && (data["title"] == "" || (data["libraryId"] != "" && data["library"] == "")) {
		key := data["titleId"] + "|" + data["workId"] + "|" + data["libraryId"]
		names, ok := memo[key]
		if !ok {
			names = s.describe(ctx, data)
			if memo != nil {
				memo[key] = names
			}
		}
		for k, v := range names {
			if data[k] == "" && v != "" {
				data[k] = v
			}
		}
	}
	now := s.now()
	n := &Notification{ID: newID(), ReaderID: r.ReaderID, Kind: r.Kind, SubjectID: r.SubjectID, Moment: r.Moment.UTC(),
		DedupKey: DedupKey(r.ReaderID, r.Kind, r.SubjectID, r.Moment), EventKey: r.EventKey, Data: data, CreatedAt: now,
		Push: Push{State: PushPending, At: prefs.Quiet.NextAllowed(now), SentTo: []string{}}}
	if !prefs.Enabled(r.Kind) {
		n.Push.State, n.Push.At, n.Push.Error = PushSkipped, now, "kind disabled by the reader"
	}
	return n
}

// created counts and publishes a notification this instance stored.
func (s *Service) created(ctx context.Context, n *Notification) {
	s.stats.created.Add(1)
	s.publish(ctx, n)
}

// notifyAll is Notify for many requests (the reminders of a scan, a batch
// of a broadcast's readers): the readers' preferences are read once, the
// requests whose deduplication keys are taken are left out at once, and
// the others are created in batches of Config.BatchSize. It returns how
// many notifications this call created; an invalid request fails the call
// before anything is stored. What the Describer names is looked up once a
// batch.
func (s *Service) notifyAll(ctx context.Context, reqs []Request) (int, error) {
	for i := range reqs {
		if err := reqs[i].check(); err != nil {
			return 0, err
		}
	}
	total := 0
	for chunk := range slices.Chunk(reqs, max(s.cfg.BatchSize, 1)) {
		memo := map[string]map[string]string{}
		keys := make([]string, len(chunk))
		var readerIDs []string
		seen := map[string]bool{}
		for i, r := range chunk {
			keys[i] = DedupKey(r.ReaderID, r.Kind, r.SubjectID, r.Moment)
			if !seen[r.ReaderID] {
				seen[r.ReaderID] = true
				readerIDs = append(readerIDs, r.ReaderID)
			}
		}
		taken, err := s.store.ExistingKeys(ctx, keys)
		if err != nil {
			return total, fmt.Errorf("notifying: %w", err)
		}
		ps, err := s.preferencesOf(ctx, readerIDs)
		if err != nil {
			return total, fmt.Errorf("notifying: %w", err)
		}
		var ns []*Notification
		for i, r := range chunk {
			if !taken[keys[i]] {
				taken[keys[i]] = true // a request twice in one batch is one notification
				ns = append(ns, s.build(ctx, r, ps[r.ReaderID], memo))
			}
		}
		if len(ns) == 0 {
			continue
		}
		created, err := s.store.CreateNotifications(ctx, ns)
		if err != nil {
			return total, fmt.Errorf("notifying: %w", err)
		}
		for i, n := range ns {
			if created[i] {
				total++
				s.created(ctx, n)
			}
		}
	}
	return total, nil
}

// publish tells open apps of the reader about n (best effort).
func (s *Service) publish(ctx context.Context, n *Notification) {
	if s.broker == nil {
		return
	}
	b, err := json.Marshal(n)
	if err == nil {
		err = s.broker.Publish(ctx, Topic(n.ReaderID), b)
	}
	if err != nil {
		s.log.WarnContext(ctx, "notifications: publishing to open apps", "notification", n.ID, "err", err)
	}
}

// ---------------------------------------------------------------------------
// Metrics

// Stats counts what this process's service did since it started.
type Stats struct {
	// Created counts notifications stored.
	Created int64
	// Sent counts pushes that reached at least one device.
	Sent int64
	// Failed counts pushes given up on (the inbox keeps them).
	Failed int64
	// Retried counts attempts rescheduled after a transient failure.
	Retried int64
	// TokensPruned counts device tokens removed as unregistered or invalid.
	TokensPruned int64
}

type stats struct {
	created, sent, failed, retried, pruned atomic.Int64
}

// Stats returns the counters.
func (s *Service) Stats() Stats {
	return Stats{Created: s.stats.created.Load(), Sent: s.stats.sent.Load(), Failed: s.stats.failed.Load(),
		Retried: s.stats.retried.Load(), TokensPruned: s.stats.pruned.Load()}
}
