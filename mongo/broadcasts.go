package mongo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/notifications"
)

// ---- broadcasts

// broadcastDoc is a broadcast; idemKey ("<sender>|<key>") is absent
// without a key (a sparse unique index), finished is false until the
// fan-out ends (the unfinished ones are found by it).
type broadcastDoc struct {
	ID             string         `bson:"_id"`
	SenderID       string         `bson:"senderId"`
	LibraryID      string         `bson:"libraryId"`
	Title          string         `bson:"title"`
	Body           string         `bson:"body"`
	TitleEn        string         `bson:"titleEn"`
	BodyEn         string         `bson:"bodyEn"`
	IdempotencyKey string         `bson:"idempotencyKey"`
	IdemKey        string         `bson:"idemKey,omitempty"`
	CreatedAt      bson.DateTime  `bson:"createdAt"`
	CreatedAtNs    int32          `bson:"createdAtNs"`
	SortKey        string         `bson:"sortKey"`
	Cursor         string         `bson:"cursor"`
	Recipients     int            `bson:"recipients"`
	Finished       bool           `bson:"finished"`
	FinishedAt     *bson.DateTime `bson:"finishedAt,omitempty"`
	FinishedAtNs   int32          `bson:"finishedAtNs"`
}

func (d *broadcastDoc) broadcast() (*notifications.Broadcast, error) {
	return &notifications.Broadcast{ID: d.ID, SenderID: d.SenderID, LibraryID: d.LibraryID, Title: d.Title, Body: d.Body,
		TitleEn: d.TitleEn, BodyEn: d.BodyEn, IdempotencyKey: d.IdempotencyKey, CreatedAt: fromDate(d.CreatedAt, d.CreatedAtNs),
		Cursor: d.Cursor, Recipients: d.Recipients, FinishedAt: fromDatePtr(d.FinishedAt, d.FinishedAtNs)}, nil
}

// CreateBroadcast implements notifications.Store: the sparse unique index
// on idemKey lets one of racing sends with a key insert; the others read
// what it inserted.
func (s *NotificationStore) CreateBroadcast(ctx context.Context, b *notifications.Broadcast) (*notifications.Broadcast, bool, error) {
	if b.ID == "" {
		b.ID = newID()
	}
	d := &broadcastDoc{ID: b.ID, SenderID: b.SenderID, LibraryID: b.LibraryID, Title: b.Title, Body: b.Body,
		TitleEn: b.TitleEn, BodyEn: b.BodyEn, IdempotencyKey: b.IdempotencyKey,
		SortKey: sortKey(notifications.Cursor{CreatedAt: b.CreatedAt, ID: b.ID}), Cursor: b.Cursor, Recipients: b.Recipients,
		Finished: b.FinishedAt != nil}
	if b.IdempotencyKey != "" {
		d.IdemKey = b.SenderID + "|" + b.IdempotencyKey
	}
	d.CreatedAt, d.CreatedAtNs = toDate(b.CreatedAt)
	d.FinishedAt, d.FinishedAtNs = toDatePtr(b.FinishedAt)
	_, err := s.broadcasts.InsertOne(ctx, d)
	if mongodrv.IsDuplicateKeyError(err) && d.IdemKey != "" {
		var got broadcastDoc
		if ferr := s.broadcasts.FindOne(ctx, bson.D{{Key: "idemKey", Value: d.IdemKey}}).Decode(&got); ferr == nil {
			stored, _ := got.broadcast()
			return stored, false, nil
		}
	}
	if mongodrv.IsDuplicateKeyError(err) {
		err = thuvienso.E(thuvienso.CodeConflict, "a broadcast with this ID already exists", "đã có thông báo chung với mã này")
	}
	if err != nil {
		return nil, false, fmt.Errorf("creating broadcast: %w", err)
	}
	stored, _ := d.broadcast()
	return stored, true, nil
}

// Broadcast implements notifications.Store.
func (s *NotificationStore) Broadcast(ctx context.Context, id string) (*notifications.Broadcast, error) {
	var d broadcastDoc
	err := s.broadcasts.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		err = thuvienso.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("broadcast %s: %w", id, err)
	}
	return d.broadcast()
}

// Broadcasts implements notifications.Store.
func (s *NotificationStore) Broadcasts(ctx context.Context, q notifications.BroadcastQuery) ([]*notifications.Broadcast, error) {
	filter := bson.D{}
	if !q.AllLibraries {
		filter = append(filter, bson.E{Key: "libraryId", Value: q.LibraryID})
	}
	if q.After != nil {
		filter = append(filter, bson.E{Key: "sortKey", Value: bson.D{{Key: "$lt", Value: sortKey(*q.After)}}})
	}
	limit := q.Limit
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	bs, err := findAs(ctx, s.broadcasts, filter,
		options.Find().SetSort(bson.D{{Key: "sortKey", Value: -1}}).SetLimit(int64(limit)), (*broadcastDoc).broadcast)
	if err != nil {
		return nil, fmt.Errorf("broadcasts: %w", err)
	}
	return bs, nil
}

// UnfinishedBroadcasts implements notifications.Store.
func (s *NotificationStore) UnfinishedBroadcasts(ctx context.Context, limit int) ([]*notifications.Broadcast, error) {
	bs, err := findAs(ctx, s.broadcasts, bson.D{{Key: "finished", Value: false}},
		options.Find().SetSort(bson.D{{Key: "sortKey", Value: 1}}).SetLimit(int64(limit)), (*broadcastDoc).broadcast)
	if err != nil {
		return nil, fmt.Errorf("unfinished broadcasts: %w", err)
	}
	return bs, nil
}

// AdvanceBroadcast implements notifications.Store: one conditional update
// whose filter is the cursor read.
func (s *NotificationStore) AdvanceBroadcast(ctx context.Context, id, from, to string, reached int, finished *time.Time) (bool, error) {
	set := bson.D{{Key: "cursor", Value: to}}
	if finished != nil {
		f, fNs := toDate(*finished)
		set = append(set, bson.E{Key: "finished", Value: true}, bson.E{Key: "finishedAt", Value: f}, bson.E{Key: "finishedAtNs", Value: fNs})
	}
	res, err := s.broadcasts.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "cursor", Value: from}, {Key: "finished", Value: false}},
		bson.D{{Key: "$set", Value: set}, {Key: "$inc", Value: bson.D{{Key: "recipients", Value: reached}}}})
	if err != nil {
		return false, fmt.Errorf("advancing broadcast %s: %w", id, err)
	}
	return res.ModifiedCount == 1, nil
}

// ---- saved searches

// savedSearchDoc is a saved search; its filter is kept as the JSON of
// search.Filter, which round-trips it exactly.
type savedSearchDoc struct {
	ID          string         `bson:"_id"`
	ReaderID    string         `bson:"readerId"`
	Name        string         `bson:"name"`
	Query       string         `bson:"query"`
	Filter      string         `bson:"filter"`
	CreatedAt   bson.DateTime  `bson:"createdAt"`
	CreatedAtNs int32          `bson:"createdAtNs"`
	SortKey     string         `bson:"sortKey"`
	LastRunAt   *bson.DateTime `bson:"lastRunAt,omitempty"`
	LastRunAtNs int32          `bson:"lastRunAtNs"`
	NextRunAt   bson.DateTime  `bson:"nextRunAt"`
	NextRunAtNs int32          `bson:"nextRunAtNs"`
	Seen        []string       `bson:"seen"`
	Version     int            `bson:"version"`
}

func (d *savedSearchDoc) savedSearch() (*notifications.StoredSearch, error) {
	ss := &notifications.StoredSearch{ID: d.ID, ReaderID: d.ReaderID, Name: d.Name, Query: d.Query,
		CreatedAt: fromDate(d.CreatedAt, d.CreatedAtNs), LastRunAt: fromDatePtr(d.LastRunAt, d.LastRunAtNs),
		NextRunAt: fromDate(d.NextRunAt, d.NextRunAtNs), Seen: d.Seen, Version: d.Version}
	if ss.Seen == nil {
		ss.Seen = []string{}
	}
	if err := json.Unmarshal([]byte(d.Filter), &ss.Filter); err != nil {
		return nil, fmt.Errorf("saved search %s filter: %w", d.ID, err)
	}
	return ss, nil
}

// CreateSavedSearch implements notifications.Store: (readerId, name) has
// a unique index.
func (s *NotificationStore) CreateSavedSearch(ctx context.Context, ss *notifications.StoredSearch) error {
	if ss.ID == "" {
		ss.ID = newID()
	}
	f, err := json.Marshal(ss.Filter)
	if err != nil {
		return fmt.Errorf("saving search of %s: %w", ss.ReaderID, err)
	}
	seen := ss.Seen
	if seen == nil {
		seen = []string{}
	}
	d := &savedSearchDoc{ID: ss.ID, ReaderID: ss.ReaderID, Name: ss.Name, Query: ss.Query, Filter: string(f),
		SortKey: sortKey(notifications.Cursor{CreatedAt: ss.CreatedAt, ID: ss.ID}), Seen: seen, Version: ss.Version}
	d.CreatedAt, d.CreatedAtNs = toDate(ss.CreatedAt)
	d.LastRunAt, d.LastRunAtNs = toDatePtr(ss.LastRunAt)
	d.NextRunAt, d.NextRunAtNs = toDate(ss.NextRunAt)
	_, err = s.searches.InsertOne(ctx, d)
	if mongodrv.IsDuplicateKeyError(err) {
		// FerretDB does not say which index; the name decides.
		taken, xerr := exists(ctx, s.searches, bson.D{{Key: "readerId", Value: ss.ReaderID}, {Key: "name", Value: ss.Name}})
		switch {
		case xerr != nil:
			err = xerr
		case taken:
			err = notifications.ErrSavedSearchNameTaken
		default:
			err = thuvienso.E(thuvienso.CodeConflict, "a saved search with this ID already exists", "đã có tìm kiếm đã lưu với mã này")
		}
	}
	if err != nil {
		return fmt.Errorf("saving search of %s: %w", ss.ReaderID, err)
	}
	return nil
}

// SavedSearch implements notifications.Store.
func (s *NotificationStore) SavedSearch(ctx context.Context, id string) (*notifications.StoredSearch, error) {
	var d savedSearchDoc
	err := s.searches.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		err = thuvienso.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("saved search %s: %w", id, err)
	}
	return d.savedSearch()
}

// SavedSearches implements notifications.Store.
func (s *NotificationStore) SavedSearches(ctx context.Context, readerID string) ([]*notifications.StoredSearch, error) {
	ss, err := findAs(ctx, s.searches, bson.D{{Key: "readerId", Value: readerID}},
		options.Find().SetSort(bson.D{{Key: "sortKey", Value: 1}}), (*savedSearchDoc).savedSearch)
	if err != nil {
		return nil, fmt.Errorf("saved searches of %s: %w", readerID, err)
	}
	return ss, nil
}

// DeleteSavedSearch implements notifications.Store.
func (s *NotificationStore) DeleteSavedSearch(ctx context.Context, readerID, id string) (bool, error) {
	res, err := s.searches.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "readerId", Value: readerID}})
	if err != nil {
		return false, fmt.Errorf("deleting saved search %s: %w", id, err)
	}
	return res.DeletedCount == 1, nil
}

// DueSavedSearches implements notifications.Store.
func (s *NotificationStore) DueSavedSearches(ctx context.Context, now time.Time, limit int) ([]*notifications.StoredSearch, error) {
	d, _ := toDate(now)
	ss, err := findAs(ctx, s.searches, bson.D{{Key: "nextRunAt", Value: bson.D{{Key: "$lte", Value: d}}}},
		options.Find().SetSort(bson.D{{Key: "nextRunAt", Value: 1}, {Key: "nextRunAtNs", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(int64(limit)),
		(*savedSearchDoc).savedSearch)
	if err != nil {
		return nil, fmt.Errorf("saved searches due: %w", err)
	}
	return notAfter(ss, now, func(s *notifications.StoredSearch) time.Time { return s.NextRunAt }), nil
}

// RecordSavedSearchRun implements notifications.Store: one conditional
// update whose filter is the version read.
func (s *NotificationStore) RecordSavedSearchRun(ctx context.Context, id string, version int, run notifications.SavedSearchRun) (bool, error) {
	last, lastNs := toDate(run.At)
	next, nextNs := toDate(run.Next)
	seen := run.Seen
	if seen == nil {
		seen = []string{}
	}
	res, err := s.searches.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "version", Value: version}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "lastRunAt", Value: last}, {Key: "lastRunAtNs", Value: lastNs},
			{Key: "nextRunAt", Value: next}, {Key: "nextRunAtNs", Value: nextNs}, {Key: "seen", Value: seen}}},
			{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}})
	if err != nil {
		return false, fmt.Errorf("recording run of saved search %s: %w", id, err)
	}
	return res.ModifiedCount == 1, nil
}
