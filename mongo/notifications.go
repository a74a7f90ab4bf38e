package mongo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/notifications"
)

// Notification collections.
const (
	collNotifications     = "notifications"
	collNotificationDevs  = "notificationDevices"
	collNotificationPrefs = "notificationPreferences"
	collBroadcasts        = "notificationBroadcasts"
	collSavedSearches     = "savedSearches"
)

// idxNotificationKey is the unique index of dedup keys; idxSavedSearchName
// that of a reader's saved search names.
const (
	idxNotificationKey = "dedupKey_unique"
	idxSavedSearchName = "readerId_name_unique"
)

// notificationIndexes are the indexes of the notification collections:
// the dedup key is unique (one notification per reader, kind, subject and
// moment); the inbox is read by reader in sortKey order; due pushes by
// state and time. No partial or TTL index (FerretDB has neither): finished
// pushes stay in the pushState index, which is small per state anyway.
func notificationIndexes() map[string][]mongodrv.IndexModel {
	plain := func(name string) *options.IndexOptionsBuilder { return options.Index().SetName(name) }
	k := func(fields ...string) bson.D {
		d := bson.D{}
		for _, f := range fields {
			d = append(d, bson.E{Key: f, Value: 1})
		}
		return d
	}
	return map[string][]mongodrv.IndexModel{
		collNotifications: {
			{Keys: k("dedupKey"), Options: options.Index().SetName(idxNotificationKey).SetUnique(true)},
			{Keys: k("readerId", "sortKey"), Options: plain("readerId_sortKey")},
			{Keys: k("readerId", "read", "sortKey"), Options: plain("readerId_read_sortKey")},
			{Keys: k("pushState", "pushAt"), Options: plain("pushState_pushAt")},
		},
		collNotificationDevs: {
			{Keys: k("readerId", "registeredAt"), Options: plain("readerId_registeredAt")},
		},
		collBroadcasts: {
			{Keys: k("idemKey"), Options: options.Index().SetName("broadcast_idemKey_unique").SetUnique(true).SetSparse(true)},
			{Keys: k("sortKey"), Options: plain("sortKey")},
			{Keys: k("libraryId", "sortKey"), Options: plain("libraryId_sortKey")},
			{Keys: k("finished", "sortKey"), Options: plain("finished_sortKey")},
		},
		collSavedSearches: {
			{Keys: k("readerId", "name"), Options: options.Index().SetName(idxSavedSearchName).SetUnique(true)},
			{Keys: k("readerId", "sortKey"), Options: plain("readerId_sortKey")},
			{Keys: k("nextRunAt", "nextRunAtNs"), Options: plain("nextRunAt")},
		},
	}
}

// NotificationStore implements notifications.Store on the
// "notifications", "notificationDevices" (keyed by token),
// "notificationPreferences" (keyed by reader), "notificationBroadcasts"
// and "savedSearches" collections. A notification
// is created once per dedup key by its unique index; claiming, finishing
// and marking read are single-document conditional updates; a device
// moves between readers by a replace of its one document.
type NotificationStore struct {
	ns, devices, prefs   *mongodrv.Collection
	broadcasts, searches *mongodrv.Collection
}

var _ notifications.Store = (*NotificationStore)(nil)

func newNotificationStore(db *mongodrv.Database) *NotificationStore {
	return &NotificationStore{ns: db.Collection(collNotifications), devices: db.Collection(collNotificationDevs),
		prefs: db.Collection(collNotificationPrefs), broadcasts: db.Collection(collBroadcasts),
		searches: db.Collection(collSavedSearches)}
}

// sortLayout is fixed width, so sort keys order as times do.
const sortLayout = "2006-01-02T15:04:05.000000000Z"

// sortKey orders an inbox newest first by (CreatedAt, ID) as one string.
func sortKey(c notifications.Cursor) string { return c.CreatedAt.UTC().Format(sortLayout) + "|" + c.ID }

// ---- devices

type deviceDoc struct {
	Token          string        `bson:"_id"`
	ReaderID       string        `bson:"readerId"`
	Platform       string        `bson:"platform"`
	Locale         string        `bson:"locale"`
	RegisteredAt   bson.DateTime `bson:"registeredAt"`
	RegisteredAtNs int32         `bson:"registeredAtNs"`
}

func (d *deviceDoc) device() (*notifications.Device, error) {
	return &notifications.Device{Token: d.Token, ReaderID: d.ReaderID, Platform: notifications.Platform(d.Platform),
		Locale: d.Locale, RegisteredAt: fromDate(d.RegisteredAt, d.RegisteredAtNs)}, nil
}

// SaveDevice implements notifications.Store.
func (s *NotificationStore) SaveDevice(ctx context.Context, d *notifications.Device) error {
	doc := &deviceDoc{Token: d.Token, ReaderID: d.ReaderID, Platform: string(d.Platform), Locale: d.Locale}
	doc.RegisteredAt, doc.RegisteredAtNs = toDate(d.RegisteredAt)
	var err error
	for range 2 { // two upserts of one new _id may collide; the second try replaces
		_, err = s.devices.ReplaceOne(ctx, bson.D{{Key: "_id", Value: d.Token}}, doc, options.Replace().SetUpsert(true))
		if !mongodrv.IsDuplicateKeyError(err) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("saving device of %s: %w", d.ReaderID, err)
	}
	return nil
}

// DeleteDevice implements notifications.Store.
func (s *NotificationStore) DeleteDevice(ctx context.Context, readerID, token string) (bool, error) {
	res, err := s.devices.DeleteOne(ctx, bson.D{{Key: "_id", Value: token}, {Key: "readerId", Value: readerID}})
	if err != nil {
		return false, fmt.Errorf("deleting device of %s: %w", readerID, err)
	}
	return res.DeletedCount == 1, nil
}

// Devices implements notifications.Store.
func (s *NotificationStore) Devices(ctx context.Context, readerID string) ([]*notifications.Device, error) {
	ds, err := findAs(ctx, s.devices, bson.D{{Key: "readerId", Value: readerID}},
		options.Find().SetSort(bson.D{{Key: "registeredAt", Value: 1}, {Key: "registeredAtNs", Value: 1}, {Key: "_id", Value: 1}}),
		(*deviceDoc).device)
	if err != nil {
		return nil, fmt.Errorf("devices of %s: %w", readerID, err)
	}
	return ds, nil
}

// DevicesOf implements notifications.Store.
func (s *NotificationStore) DevicesOf(ctx context.Context, readerIDs []string) (map[string][]*notifications.Device, error) {
	out := map[string][]*notifications.Device{}
	for chunk := range slices.Chunk(readerIDs, 1000) {
		ds, err := findAs(ctx, s.devices, bson.D{{Key: "readerId", Value: inIDs(chunk)}},
			options.Find().SetSort(bson.D{{Key: "readerId", Value: 1}, {Key: "registeredAt", Value: 1}, {Key: "registeredAtNs", Value: 1}, {Key: "_id", Value: 1}}),
			(*deviceDoc).device)
		if err != nil {
			return nil, fmt.Errorf("devices of %d readers: %w", len(chunk), err)
		}
		for _, d := range ds {
			out[d.ReaderID] = append(out[d.ReaderID], d)
		}
	}
	return out, nil
}

// ---- preferences

type prefsDoc struct {
	ReaderID      string        `bson:"_id"`
	Disabled      []string      `bson:"disabled"`
	DaysBeforeDue []int         `bson:"daysBeforeDue"`
	QuietStart    int           `bson:"quietStart"`
	QuietEnd      int           `bson:"quietEnd"`
	Language      string        `bson:"language"`
	UpdatedAt     bson.DateTime `bson:"updatedAt"`
	UpdatedAtNs   int32         `bson:"updatedAtNs"`
}

func (d *prefsDoc) preferences() (*notifications.Preferences, error) {
	p := &notifications.Preferences{ReaderID: d.ReaderID, Disabled: []notifications.Kind{}, DaysBeforeDue: []int{},
		Quiet:    notifications.QuietHours{Start: notifications.TimeOfDay(d.QuietStart), End: notifications.TimeOfDay(d.QuietEnd)},
		Language: d.Language, UpdatedAt: fromDate(d.UpdatedAt, d.UpdatedAtNs)}
	for _, k := range d.Disabled {
		p.Disabled = append(p.Disabled, notifications.Kind(k))
	}
	p.DaysBeforeDue = append(p.DaysBeforeDue, d.DaysBeforeDue...)
	return p, nil
}

// Preferences implements notifications.Store.
func (s *NotificationStore) Preferences(ctx context.Context, readerIDs []string) (map[string]*notifications.Preferences, error) {
	out := map[string]*notifications.Preferences{}
	if len(readerIDs) == 0 {
		return out, nil
	}
	ps, err := findAs(ctx, s.prefs, bson.D{{Key: "_id", Value: inIDs(readerIDs)}}, options.Find(), (*prefsDoc).preferences)
	if err != nil {
		return nil, fmt.Errorf("notification preferences: %w", err)
	}
	for _, p := range ps {
		out[p.ReaderID] = p
	}
	return out, nil
}

// SavePreferences implements notifications.Store.
func (s *NotificationStore) SavePreferences(ctx context.Context, p *notifications.Preferences) error {
	d := &prefsDoc{ReaderID: p.ReaderID, Disabled: []string{}, DaysBeforeDue: []int{},
		QuietStart: int(p.Quiet.Start), QuietEnd: int(p.Quiet.End), Language: p.Language}
	for _, k := range p.Disabled {
		d.Disabled = append(d.Disabled, string(k))
	}
	d.DaysBeforeDue = append(d.DaysBeforeDue, p.DaysBeforeDue...)
	d.UpdatedAt, d.UpdatedAtNs = toDate(p.UpdatedAt)
	var err error
	for range 2 { // see SaveDevice
		_, err = s.prefs.ReplaceOne(ctx, bson.D{{Key: "_id", Value: p.ReaderID}}, d, options.Replace().SetUpsert(true))
		if !mongodrv.IsDuplicateKeyError(err) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("saving notification preferences of %s: %w", p.ReaderID, err)
	}
	return nil
}

// ---- notifications

// notificationDoc stores the nanoseconds of every time beside it, always
// (not omitted when zero), so that filters can compare them.
type notificationDoc struct {
	ID          string            `bson:"_id"`
	ReaderID    string            `bson:"readerId"`
	Kind        string            `bson:"kind"`
	SubjectID   string            `bson:"subjectId"`
	Moment      bson.DateTime     `bson:"moment"`
	MomentNs    int32             `bson:"momentNs"`
	DedupKey    string            `bson:"dedupKey"`
	EventKey    string            `bson:"eventKey"`
	Data        map[string]string `bson:"data"`
	CreatedAt   bson.DateTime     `bson:"createdAt"`
	CreatedAtNs int32             `bson:"createdAtNs"`
	SortKey     string            `bson:"sortKey"`
	Read        bool              `bson:"read"`
	ReadAt      *bson.DateTime    `bson:"readAt,omitempty"`
	ReadAtNs    int32             `bson:"readAtNs"`

	PushState          string         `bson:"pushState"`
	PushAt             bson.DateTime  `bson:"pushAt"`
	PushAtNs           int32          `bson:"pushAtNs"`
	PushAttempts       int            `bson:"pushAttempts"`
	PushClaimedUntil   *bson.DateTime `bson:"pushClaimedUntil,omitempty"`
	PushClaimedUntilNs int32          `bson:"pushClaimedUntilNs"`
	PushSentTo         []string       `bson:"pushSentTo"`
	PushError          string         `bson:"pushError"`
}

func (d *notificationDoc) notification() (*notifications.Notification, error) {
	data := d.Data
	if data == nil {
		data = map[string]string{}
	}
	sent := d.PushSentTo
	if sent == nil {
		sent = []string{}
	}
	return &notifications.Notification{ID: d.ID, ReaderID: d.ReaderID, Kind: notifications.Kind(d.Kind), SubjectID: d.SubjectID,
		Moment: fromDate(d.Moment, d.MomentNs), DedupKey: d.DedupKey, EventKey: d.EventKey, Data: data,
		CreatedAt: fromDate(d.CreatedAt, d.CreatedAtNs), ReadAt: fromDatePtr(d.ReadAt, d.ReadAtNs),
		Push: notifications.Push{State: notifications.PushState(d.PushState), At: fromDate(d.PushAt, d.PushAtNs),
			Attempts: d.PushAttempts, ClaimedUntil: fromDatePtr(d.PushClaimedUntil, d.PushClaimedUntilNs),
			SentTo: sent, Error: d.PushError}}, nil
}

// pushSet is the $set (and $unset) of a push.
func pushSet(p notifications.Push) bson.D {
	at, atNs := toDate(p.At)
	sent := p.SentTo
	if sent == nil {
		sent = []string{}
	}
	set := bson.D{{Key: "pushState", Value: string(p.State)}, {Key: "pushAt", Value: at}, {Key: "pushAtNs", Value: atNs},
		{Key: "pushAttempts", Value: p.Attempts}, {Key: "pushSentTo", Value: sent}, {Key: "pushError", Value: p.Error}}
	if p.ClaimedUntil != nil {
		cu, cuNs := toDate(*p.ClaimedUntil)
		set = append(set, bson.E{Key: "pushClaimedUntil", Value: cu}, bson.E{Key: "pushClaimedUntilNs", Value: cuNs})
		return bson.D{{Key: "$set", Value: set}}
	}
	set = append(set, bson.E{Key: "pushClaimedUntilNs", Value: int32(0)})
	return bson.D{{Key: "$set", Value: set}, {Key: "$unset", Value: bson.D{{Key: "pushClaimedUntil", Value: ""}}}}
}

// atOrBefore is the filter "field (a date with a sibling fieldNs) is at or
// before t", exact to the nanosecond.
func atOrBefore(field string, t time.Time) bson.E {
	d, ns := toDate(t)
	return bson.E{Key: "$or", Value: bson.A{
		bson.D{{Key: field, Value: bson.D{{Key: "$lt", Value: d}}}},
		bson.D{{Key: field, Value: d}, {Key: field + "Ns", Value: bson.D{{Key: "$lte", Value: ns}}}},
	}}
}

// newNotificationDoc is the document of n (given an ID when it has none).
func newNotificationDoc(n *notifications.Notification) *notificationDoc {
	if n.ID == "" {
		n.ID = newID()
	}
	data := n.Data
	if data == nil {
		data = map[string]string{}
	}
	d := &notificationDoc{ID: n.ID, ReaderID: n.ReaderID, Kind: string(n.Kind), SubjectID: n.SubjectID, DedupKey: n.DedupKey,
		EventKey: n.EventKey, Data: data, SortKey: sortKey(notifications.CursorOf(n)), Read: n.ReadAt != nil,
		PushState: string(n.Push.State), PushAttempts: n.Push.Attempts, PushSentTo: n.Push.SentTo, PushError: n.Push.Error}
	if d.PushSentTo == nil {
		d.PushSentTo = []string{}
	}
	d.Moment, d.MomentNs = toDate(n.Moment)
	d.CreatedAt, d.CreatedAtNs = toDate(n.CreatedAt)
	d.ReadAt, d.ReadAtNs = toDatePtr(n.ReadAt)
	d.PushAt, d.PushAtNs = toDate(n.Push.At)
	d.PushClaimedUntil, d.PushClaimedUntilNs = toDatePtr(n.Push.ClaimedUntil)
	return d
}

// CreateNotification implements notifications.Store.
func (s *NotificationStore) CreateNotification(ctx context.Context, n *notifications.Notification) (bool, error) {
	if n.DedupKey == "" {
		return false, fmt.Errorf("creating notification: the dedup key is empty")
	}
	_, err := s.ns.InsertOne(ctx, newNotificationDoc(n))
	if mongodrv.IsDuplicateKeyError(err) {
		// FerretDB does not say which index; the key decides.
		taken, xerr := exists(ctx, s.ns, bson.D{{Key: "dedupKey", Value: n.DedupKey}})
		if xerr != nil {
			return false, fmt.Errorf("creating notification %s: %w", n.DedupKey, xerr)
		}
		if taken {
			return false, nil
		}
		err = thuvienso.E(thuvienso.CodeConflict, "a notification with this ID already exists", "đã có thông báo với mã này")
	}
	if err != nil {
		return false, fmt.Errorf("creating notification %s: %w", n.DedupKey, err)
	}
	return true, nil
}

// CreateNotifications implements notifications.Store: one unordered
// InsertMany. When it reports any error, what it did is read back rather
// than parsed from the error (whose shape differs between servers): a
// notification whose own new ID is stored was stored by this call; one
// whose dedup key is taken by another was a duplicate; anything else is
// the error.
func (s *NotificationStore) CreateNotifications(ctx context.Context, ns []*notifications.Notification) ([]bool, error) {
	out := make([]bool, len(ns))
	if len(ns) == 0 {
		return out, nil
	}
	docs := make([]any, len(ns))
	ids := make([]string, len(ns))
	for i, n := range ns {
		if n.DedupKey == "" {
			return nil, fmt.Errorf("creating notifications: the dedup key is empty")
		}
		docs[i] = newNotificationDoc(n)
		ids[i] = n.ID
	}
	_, err := s.ns.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	if err == nil {
		for i := range out {
			out[i] = true
		}
		return out, nil
	}
	type keyDoc struct {
		ID  string `bson:"_id"`
		Key string `bson:"dedupKey"`
	}
	stored, xerr := findAs(ctx, s.ns, bson.D{{Key: "_id", Value: inIDs(ids)}},
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}), func(d *keyDoc) (string, error) { return d.ID, nil })
	if xerr != nil {
		return nil, fmt.Errorf("creating notifications: %w (reading back after: %v)", xerr, err)
	}
	mine := map[string]bool{}
	for _, id := range stored {
		mine[id] = true
	}
	var rest []string
	for i, n := range ns {
		out[i] = mine[n.ID]
		if !out[i] {
			rest = append(rest, n.DedupKey)
		}
	}
	taken, xerr := s.ExistingKeys(ctx, rest)
	if xerr != nil {
		return nil, fmt.Errorf("creating notifications: %w (reading back after: %v)", xerr, err)
	}
	for _, k := range rest {
		if !taken[k] {
			return nil, fmt.Errorf("creating notifications: %w", err)
		}
	}
	return out, nil
}

// findOne returns the notification matching filter.
func (s *NotificationStore) findOne(ctx context.Context, what string, filter bson.D) (*notifications.Notification, error) {
	var d notificationDoc
	err := s.ns.FindOne(ctx, filter).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		err = thuvienso.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("notification %s: %w", what, err)
	}
	return d.notification()
}

// Notification implements notifications.Store.
func (s *NotificationStore) Notification(ctx context.Context, id string) (*notifications.Notification, error) {
	return s.findOne(ctx, id, bson.D{{Key: "_id", Value: id}})
}

// NotificationByKey implements notifications.Store.
func (s *NotificationStore) NotificationByKey(ctx context.Context, key string) (*notifications.Notification, error) {
	return s.findOne(ctx, key, bson.D{{Key: "dedupKey", Value: key}})
}

// ExistingKeys implements notifications.Store.
func (s *NotificationStore) ExistingKeys(ctx context.Context, keys []string) (map[string]bool, error) {
	out := map[string]bool{}
	type keyDoc struct {
		Key string `bson:"dedupKey"`
	}
	for chunk := range slices.Chunk(keys, 1000) {
		ks, err := findAs(ctx, s.ns, bson.D{{Key: "dedupKey", Value: inIDs(chunk)}},
			options.Find().SetProjection(bson.D{{Key: "dedupKey", Value: 1}}),
			func(d *keyDoc) (string, error) { return d.Key, nil })
		if err != nil {
			return nil, fmt.Errorf("existing notification keys: %w", err)
		}
		for _, k := range ks {
			out[k] = true
		}
	}
	return out, nil
}

// Notifications implements notifications.Store.
func (s *NotificationStore) Notifications(ctx context.Context, q notifications.ListQuery) ([]*notifications.Notification, error) {
	filter := bson.D{{Key: "readerId", Value: q.ReaderID}}
	if q.UnreadOnly {
		filter = append(filter, bson.E{Key: "read", Value: false})
	}
	if q.After != nil {
		filter = append(filter, bson.E{Key: "sortKey", Value: bson.D{{Key: "$lt", Value: sortKey(*q.After)}}})
	}
	limit := q.Limit
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	ns, err := findAs(ctx, s.ns, filter,
		options.Find().SetSort(bson.D{{Key: "sortKey", Value: -1}}).SetLimit(int64(limit)), (*notificationDoc).notification)
	if err != nil {
		return nil, fmt.Errorf("notifications of %s: %w", q.ReaderID, err)
	}
	return ns, nil
}

// CountNotifications implements notifications.Store.
func (s *NotificationStore) CountNotifications(ctx context.Context, readerID string, unreadOnly bool) (int, error) {
	filter := bson.D{{Key: "readerId", Value: readerID}}
	if unreadOnly {
		filter = append(filter, bson.E{Key: "read", Value: false})
	}
	n, err := s.ns.CountDocuments(ctx, filter)
	if err != nil {
		return 0, fmt.Errorf("counting notifications of %s: %w", readerID, err)
	}
	return int(n), nil
}

// readSet is the update that marks notifications read at t.
func readSet(t time.Time) bson.D {
	d, ns := toDate(t)
	return bson.D{{Key: "$set", Value: bson.D{{Key: "read", Value: true}, {Key: "readAt", Value: d}, {Key: "readAtNs", Value: ns}}}}
}

// MarkRead implements notifications.Store.
func (s *NotificationStore) MarkRead(ctx context.Context, readerID, id string, at time.Time) (bool, error) {
	res, err := s.ns.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "readerId", Value: readerID}, {Key: "read", Value: false}},
		readSet(at))
	if err != nil {
		return false, fmt.Errorf("marking notification %s read: %w", id, err)
	}
	if res.ModifiedCount == 1 {
		return true, nil
	}
	found, err := exists(ctx, s.ns, bson.D{{Key: "_id", Value: id}, {Key: "readerId", Value: readerID}})
	if err == nil && !found {
		err = thuvienso.ErrNotFound
	}
	if err != nil {
		return false, fmt.Errorf("marking notification %s read: %w", id, err)
	}
	return false, nil
}

// MarkAllRead implements notifications.Store.
func (s *NotificationStore) MarkAllRead(ctx context.Context, readerID string, at time.Time) (int, error) {
	res, err := s.ns.UpdateMany(ctx, bson.D{{Key: "readerId", Value: readerID}, {Key: "read", Value: false}}, readSet(at))
	if err != nil {
		return 0, fmt.Errorf("marking notifications of %s read: %w", readerID, err)
	}
	return int(res.ModifiedCount), nil
}

// DuePushes implements notifications.Store.
func (s *NotificationStore) DuePushes(ctx context.Context, now time.Time, limit int) ([]*notifications.Notification, error) {
	d, _ := toDate(now)
	ns, err := findAs(ctx, s.ns,
		bson.D{{Key: "pushState", Value: string(notifications.PushPending)}, {Key: "pushAt", Value: bson.D{{Key: "$lte", Value: d}}}},
		options.Find().SetSort(bson.D{{Key: "pushAt", Value: 1}, {Key: "pushAtNs", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(int64(limit)),
		(*notificationDoc).notification)
	if err != nil {
		return nil, fmt.Errorf("due pushes: %w", err)
	}
	return notAfter(ns, now, func(n *notifications.Notification) time.Time { return n.Push.At }), nil
}

// ClaimPush implements notifications.Store.
func (s *NotificationStore) ClaimPush(ctx context.Context, id string, now, until time.Time) (*notifications.Notification, error) {
	u, uNs := toDate(until)
	var d notificationDoc
	err := s.ns.FindOneAndUpdate(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "pushState", Value: string(notifications.PushPending)}, atOrBefore("pushAt", now)},
		bson.D{
			{Key: "$set", Value: bson.D{{Key: "pushState", Value: string(notifications.PushSending)},
				{Key: "pushClaimedUntil", Value: u}, {Key: "pushClaimedUntilNs", Value: uNs}}},
			{Key: "$inc", Value: bson.D{{Key: "pushAttempts", Value: 1}}},
		},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		err = notifications.ErrNotClaimed
	}
	if err != nil {
		return nil, fmt.Errorf("claiming push of %s: %w", id, err)
	}
	return d.notification()
}

// ClaimPushes implements notifications.Store: ClaimPush for each, since
// a claim must be a single-document conditional update that one caller
// wins.
func (s *NotificationStore) ClaimPushes(ctx context.Context, ids []string, now, until time.Time) ([]*notifications.Notification, error) {
	var out []*notifications.Notification
	for _, id := range ids {
		n, err := s.ClaimPush(ctx, id, now, until)
		switch {
		case errors.Is(err, notifications.ErrNotClaimed):
		case err != nil:
			return out, err
		default:
			out = append(out, n)
		}
	}
	return out, nil
}

// FinishPushes implements notifications.Store: one unordered BulkWrite of
// the conditional updates of FinishPush.
func (s *NotificationStore) FinishPushes(ctx context.Context, fs []notifications.PushFinish) (int, error) {
	if len(fs) == 0 {
		return 0, nil
	}
	models := make([]mongodrv.WriteModel, len(fs))
	for i, f := range fs {
		models[i] = mongodrv.NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: f.ID},
			{Key: "pushState", Value: string(notifications.PushSending)}, {Key: "pushAttempts", Value: f.ClaimedAttempts}}).
			SetUpdate(pushSet(f.Push))
	}
	res, err := s.ns.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false))
	if err != nil {
		return 0, fmt.Errorf("recording %d pushes: %w", len(fs), err)
	}
	return int(res.ModifiedCount), nil
}

// FinishPush implements notifications.Store.
func (s *NotificationStore) FinishPush(ctx context.Context, id string, claimedAttempts int, p notifications.Push) (bool, error) {
	res, err := s.ns.UpdateOne(ctx, bson.D{{Key: "_id", Value: id},
		{Key: "pushState", Value: string(notifications.PushSending)}, {Key: "pushAttempts", Value: claimedAttempts}},
		pushSet(p))
	if err != nil {
		return false, fmt.Errorf("recording push of %s: %w", id, err)
	}
	return res.ModifiedCount == 1, nil
}

// FailStaleClaims implements notifications.Store.
func (s *NotificationStore) FailStaleClaims(ctx context.Context, now time.Time) (int, error) {
	d, ns := toDate(now)
	res, err := s.ns.UpdateMany(ctx,
		bson.D{{Key: "pushState", Value: string(notifications.PushSending)}, {Key: "pushClaimedUntil", Value: bson.D{{Key: "$lt", Value: d}}}},
		bson.D{
			{Key: "$set", Value: bson.D{{Key: "pushState", Value: string(notifications.PushFailed)},
				{Key: "pushAt", Value: d}, {Key: "pushAtNs", Value: ns}, {Key: "pushClaimedUntilNs", Value: int32(0)},
				{Key: "pushError", Value: "the sender stopped while sending; not sent again"}}},
			{Key: "$unset", Value: bson.D{{Key: "pushClaimedUntil", Value: ""}}},
		})
	if err != nil {
		return 0, fmt.Errorf("failing stale push claims: %w", err)
	}
	return int(res.ModifiedCount), nil
}
