package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/circulation"
)

// Reading history collections: "circHistory" has one document per
// returned loan of a reader who had the history on (_id is the loan's ID,
// so a return recorded twice is kept once), read by reader in sortKey
// order, newest first; "circHistorySettings" one document per reader who
// ever chose (_id is the reader's ID), changed by single-document upserts
// that increment its version.
const (
	collCircHistory         = "circHistory"
	collCircHistorySettings = "circHistorySettings"
)

// historyIndexes are the indexes of circHistory.
func historyIndexes() []mongodrv.IndexModel {
	return []mongodrv.IndexModel{
		{Keys: bson.D{{Key: "readerId", Value: 1}, {Key: "sortKey", Value: 1}}, Options: options.Index().SetName("readerId_sortKey")},
	}
}

// historySortKey orders a history newest first by (ReturnedAt, ID) as one
// string (sortLayout is fixed width).
func historySortKey(c circulation.HistoryCursor) string {
	return c.ReturnedAt.UTC().Format(sortLayout) + "|" + c.ID
}

// WaitingHoldWorks implements circulation.Store (deduplicated here, like
// ActiveHoldCounts: FerretDB's aggregation is not to be trusted).
func (s *CirculationStore) WaitingHoldWorks(ctx context.Context) ([]string, error) {
	ids, err := findCirc(ctx, s.holds, bson.D{{Key: "state", Value: string(circulation.HoldWaiting)}},
		options.Find().SetProjection(bson.D{{Key: "workId", Value: 1}}), func(d *circHoldDoc) string { return d.WorkID })
	if err != nil {
		return nil, fmt.Errorf("works with waiting holds: %w", err)
	}
	seen := map[string]bool{}
	out := []string{}
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out, nil
}

type historySettingDoc struct {
	ReaderID    string        `bson:"_id"`
	Enabled     bool          `bson:"enabled"`
	UpdatedAt   bson.DateTime `bson:"updatedAt"`
	UpdatedAtNs int32         `bson:"updatedAtNs"`
	Version     int           `bson:"version"`
}

func (d *historySettingDoc) setting() *circulation.HistorySetting {
	return &circulation.HistorySetting{ReaderID: d.ReaderID, Enabled: d.Enabled, UpdatedAt: fromDate(d.UpdatedAt, d.UpdatedAtNs),
		Version: d.Version}
}

// HistorySetting implements circulation.Store.
func (s *CirculationStore) HistorySetting(ctx context.Context, readerID string) (*circulation.HistorySetting, error) {
	var d historySettingDoc
	err := s.historySettings.FindOne(ctx, byID(readerID)).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		err = thuvienso.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("history setting of %s: %w", readerID, err)
	}
	return d.setting(), nil
}

// upsertHistorySetting applies update to the reader's setting document,
// creating it when missing, and returns it as it is after.
func (s *CirculationStore) upsertHistorySetting(ctx context.Context, readerID string, update bson.D) (*historySettingDoc, error) {
	var d historySettingDoc
	var err error
	opts := options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)
	for range 2 { // two upserts of one new _id may collide; the second try updates
		err = s.historySettings.FindOneAndUpdate(ctx, byID(readerID), update, opts).Decode(&d)
		if !mongodrv.IsDuplicateKeyError(err) {
			break
		}
	}
	return &d, err
}

// SetHistorySetting implements circulation.Store: one FindOneAndUpdate
// upsert that increments the version.
func (s *CirculationStore) SetHistorySetting(ctx context.Context, readerID string, enabled bool, at time.Time) (*circulation.HistorySetting, error) {
	date, ns := toDate(at)
	d, err := s.upsertHistorySetting(ctx, readerID, bson.D{
		{Key: "$set", Value: bson.D{{Key: "enabled", Value: enabled}, {Key: "updatedAt", Value: date}, {Key: "updatedAtNs", Value: ns}}},
		{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}},
	})
	if err != nil {
		return nil, fmt.Errorf("setting the history of %s: %w", readerID, err)
	}
	return d.setting(), nil
}

type historyDoc struct {
	ID           string        `bson:"_id"`
	ReaderID     string        `bson:"readerId"`
	WorkID       string        `bson:"workId"`
	Title        string        `bson:"title"`
	Authors      []string      `bson:"authors"`
	LibraryID    string        `bson:"libraryId"`
	LibraryName  string        `bson:"libraryName"`
	BorrowedAt   bson.DateTime `bson:"borrowedAt"`
	BorrowedAtNs int32         `bson:"borrowedAtNs"`
	ReturnedAt   bson.DateTime `bson:"returnedAt"`
	ReturnedAtNs int32         `bson:"returnedAtNs"`
	SortKey      string        `bson:"sortKey"`
}

func (d *historyDoc) entry() *circulation.HistoryEntry {
	e := &circulation.HistoryEntry{ID: d.ID, ReaderID: d.ReaderID, WorkID: d.WorkID, Title: d.Title, Authors: []string{},
		LibraryID: d.LibraryID, LibraryName: d.LibraryName, BorrowedAt: fromDate(d.BorrowedAt, d.BorrowedAtNs),
		ReturnedAt: fromDate(d.ReturnedAt, d.ReturnedAtNs)}
	e.Authors = append(e.Authors, d.Authors...)
	return e
}

// AddHistoryEntry implements circulation.Store: an insert, which a second
// one of the same loan cannot repeat.
func (s *CirculationStore) AddHistoryEntry(ctx context.Context, e *circulation.HistoryEntry) error {
	d := &historyDoc{ID: e.ID, ReaderID: e.ReaderID, WorkID: e.WorkID, Title: e.Title, Authors: []string{},
		LibraryID: e.LibraryID, LibraryName: e.LibraryName, SortKey: historySortKey(circulation.HistoryCursorOf(e))}
	d.Authors = append(d.Authors, e.Authors...)
	d.BorrowedAt, d.BorrowedAtNs = toDate(e.BorrowedAt)
	d.ReturnedAt, d.ReturnedAtNs = toDate(e.ReturnedAt)
	if _, err := s.history.InsertOne(ctx, d); err != nil && !mongodrv.IsDuplicateKeyError(err) {
		return fmt.Errorf("adding to the history of %s: %w", e.ReaderID, err)
	}
	return nil
}

// HistoryEntries implements circulation.Store.
func (s *CirculationStore) HistoryEntries(ctx context.Context, readerID string, after *circulation.HistoryCursor, limit int) ([]*circulation.HistoryEntry, error) {
	filter := bson.D{{Key: "readerId", Value: readerID}}
	if after != nil {
		filter = append(filter, bson.E{Key: "sortKey", Value: bson.D{{Key: "$lt", Value: historySortKey(*after)}}})
	}
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	es, err := findCirc(ctx, s.history, filter, options.Find().SetSort(bson.D{{Key: "sortKey", Value: -1}}).SetLimit(int64(limit)),
		(*historyDoc).entry)
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", readerID, err)
	}
	return es, nil
}

// CountHistory implements circulation.Store.
func (s *CirculationStore) CountHistory(ctx context.Context, readerID string) (int, error) {
	n, err := s.history.CountDocuments(ctx, bson.D{{Key: "readerId", Value: readerID}})
	if err != nil {
		return 0, fmt.Errorf("counting the history of %s: %w", readerID, err)
	}
	return int(n), nil
}

// DeleteHistoryEntry implements circulation.Store.
func (s *CirculationStore) DeleteHistoryEntry(ctx context.Context, readerID, id string) error {
	res, err := s.history.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "readerId", Value: readerID}})
	if err != nil {
		return fmt.Errorf("deleting history entry %s: %w", id, err)
	}
	if res.DeletedCount == 0 {
		return fmt.Errorf("deleting history entry %s: %w", id, thuvienso.ErrNotFound)
	}
	return nil
}

// ClearHistory implements circulation.Store: the setting's version first,
// then the entries.
func (s *CirculationStore) ClearHistory(ctx context.Context, readerID string, at time.Time) (int, error) {
	date, ns := toDate(at)
	_, err := s.upsertHistorySetting(ctx, readerID, bson.D{
		{Key: "$set", Value: bson.D{{Key: "updatedAt", Value: date}, {Key: "updatedAtNs", Value: ns}}},
		{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}},
		{Key: "$setOnInsert", Value: bson.D{{Key: "enabled", Value: false}}},
	})
	if err != nil {
		return 0, fmt.Errorf("clearing the history of %s: %w", readerID, err)
	}
	res, err := s.history.DeleteMany(ctx, bson.D{{Key: "readerId", Value: readerID}})
	if err != nil {
		return 0, fmt.Errorf("clearing the history of %s: %w", readerID, err)
	}
	return int(res.DeletedCount), nil
}
