package mongo

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/bacninh/thuvienso/events"
)

// EventStore implements events.Store on the "events" collection. The event
// key is the _id, so recording an event twice stores it once (the second
// insert is a duplicate key); "handled" is false until one conditional
// update sets it.
type EventStore struct {
	c *mongodrv.Collection
}

var _ events.Store = (*EventStore)(nil)

func newEventStore(db *mongodrv.Database) *EventStore {
	return &EventStore{c: db.Collection(collEvents)}
}

type eventDoc struct {
	Key          string            `bson:"_id"`
	Kind         string            `bson:"kind"`
	ReaderID     string            `bson:"readerId"`
	SubjectID    string            `bson:"subjectId"`
	WorkID       string            `bson:"workId"`
	LibraryID    string            `bson:"libraryId"`
	At           bson.DateTime     `bson:"at"`
	AtNs         int32             `bson:"atNs,omitempty"`
	Data         map[string]string `bson:"data"`
	RecordedAt   bson.DateTime     `bson:"recordedAt"`
	RecordedAtNs int32             `bson:"recordedAtNs,omitempty"`
	Handled      bool              `bson:"handled"`
	HandledAt    *bson.DateTime    `bson:"handledAt,omitempty"`
	HandledAtNs  int32             `bson:"handledAtNs,omitempty"`
}

func (d *eventDoc) event() (*events.Event, error) {
	data := d.Data
	if data == nil {
		data = map[string]string{}
	}
	return &events.Event{Key: d.Key, Kind: events.Kind(d.Kind), ReaderID: d.ReaderID, SubjectID: d.SubjectID,
		WorkID: d.WorkID, LibraryID: d.LibraryID, At: fromDate(d.At, d.AtNs), Data: data,
		RecordedAt: fromDate(d.RecordedAt, d.RecordedAtNs), HandledAt: fromDatePtr(d.HandledAt, d.HandledAtNs)}, nil
}

// RecordEvent implements events.Store. RecordedAt is set to now when zero.
func (s *EventStore) RecordEvent(ctx context.Context, e *events.Event) (bool, error) {
	if e.Key == "" {
		return false, fmt.Errorf("recording event: the key is empty")
	}
	if e.RecordedAt.IsZero() {
		e.RecordedAt = time.Now()
	}
	data := e.Data
	if data == nil {
		data = map[string]string{}
	}
	d := &eventDoc{Key: e.Key, Kind: string(e.Kind), ReaderID: e.ReaderID, SubjectID: e.SubjectID, WorkID: e.WorkID,
		LibraryID: e.LibraryID, Data: data, Handled: e.HandledAt != nil}
	d.At, d.AtNs = toDate(e.At)
	d.RecordedAt, d.RecordedAtNs = toDate(e.RecordedAt)
	d.HandledAt, d.HandledAtNs = toDatePtr(e.HandledAt)
	_, err := s.c.InsertOne(ctx, d)
	if mongodrv.IsDuplicateKeyError(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("recording event %s: %w", e.Key, err)
	}
	return true, nil
}

// UnhandledEvents implements events.Store.
func (s *EventStore) UnhandledEvents(ctx context.Context, limit int) ([]*events.Event, error) {
	es, err := findAs(ctx, s.c, bson.D{{Key: "handled", Value: false}},
		options.Find().SetSort(bson.D{{Key: "recordedAt", Value: 1}, {Key: "recordedAtNs", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(int64(limit)),
		(*eventDoc).event)
	if err != nil {
		return nil, fmt.Errorf("unhandled events: %w", err)
	}
	return es, nil
}

// MarkEventHandled implements events.Store.
func (s *EventStore) MarkEventHandled(ctx context.Context, key string, at time.Time) (bool, error) {
	d, ns := toDate(at)
	set := bson.D{{Key: "handled", Value: true}, {Key: "handledAt", Value: d}}
	if ns != 0 {
		set = append(set, bson.E{Key: "handledAtNs", Value: ns})
	}
	res, err := s.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: key}, {Key: "handled", Value: false}}, bson.D{{Key: "$set", Value: set}})
	if err != nil {
		return false, fmt.Errorf("marking event %s handled: %w", key, err)
	}
	return res.ModifiedCount == 1, nil
}

// EventsForReader implements events.Store.
func (s *EventStore) EventsForReader(ctx context.Context, readerID string, limit int) ([]*events.Event, error) {
	es, err := findAs(ctx, s.c, bson.D{{Key: "readerId", Value: readerID}},
		options.Find().SetSort(bson.D{{Key: "recordedAt", Value: -1}, {Key: "recordedAtNs", Value: -1}, {Key: "_id", Value: -1}}).SetLimit(int64(limit)),
		(*eventDoc).event)
	if err != nil {
		return nil, fmt.Errorf("events of %s: %w", readerID, err)
	}
	return es, nil
}

// RecordedKeys implements events.Store.
func (s *EventStore) RecordedKeys(ctx context.Context, keys []string) (map[string]bool, error) {
	out := make(map[string]bool, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	found, err := findAs(ctx, s.c, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: keys}}}},
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}),
		func(d *eventDoc) (string, error) { return d.Key, nil })
	if err != nil {
		return nil, fmt.Errorf("recorded events: %w", err)
	}
	for _, k := range found {
		out[k] = true
	}
	return out, nil
}
