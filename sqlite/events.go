package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/bacninh/thuvienso/events"
)

// EventStore implements events.Store on SQLite: the key is the primary
// key, so recording an event twice stores it once (INSERT … ON CONFLICT DO
// NOTHING), and marking it handled is one conditional UPDATE.
type EventStore struct {
	db *pools
}

var _ events.Store = (*EventStore)(nil)

const eventColumns = `key, kind, reader_id, subject_id, work_id, library_id, at, data, recorded_at, handled_at`

func scanEvent(r rowScanner) (*events.Event, error) {
	var (
		e                     events.Event
		kind, at, data, recAt string
		handled               sql.NullString
	)
	if err := r.Scan(&e.Key, &kind, &e.ReaderID, &e.SubjectID, &e.WorkID, &e.LibraryID, &at, &data, &recAt, &handled); err != nil {
		return nil, err
	}
	e.Kind = events.Kind(kind)
	if err := json.Unmarshal([]byte(data), &e.Data); err != nil {
		return nil, fmt.Errorf("event %s data: %w", e.Key, err)
	}
	var err error
	if e.At, err = parseTime(at); err != nil {
		return nil, err
	}
	if e.RecordedAt, err = parseTime(recAt); err != nil {
		return nil, err
	}
	if e.HandledAt, err = parseTimePtr(handled); err != nil {
		return nil, err
	}
	return &e, nil
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
	d, _ := json.Marshal(data)
	res, err := s.db.ExecContext(ctx, `INSERT INTO events (`+eventColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT (key) DO NOTHING`,
		e.Key, string(e.Kind), e.ReaderID, e.SubjectID, e.WorkID, e.LibraryID, fmtTime(e.At), string(d),
		fmtTime(e.RecordedAt), fmtTimePtr(e.HandledAt))
	if err != nil {
		return false, fmt.Errorf("recording event %s: %w", e.Key, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// UnhandledEvents implements events.Store.
func (s *EventStore) UnhandledEvents(ctx context.Context, limit int) ([]*events.Event, error) {
	es, err := queryAll(ctx, s.db, scanEvent, `SELECT `+eventColumns+` FROM events
		WHERE handled_at IS NULL ORDER BY recorded_at, key LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("unhandled events: %w", err)
	}
	return es, nil
}

// MarkEventHandled implements events.Store.
func (s *EventStore) MarkEventHandled(ctx context.Context, key string, at time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE events SET handled_at = ? WHERE key = ? AND handled_at IS NULL`, fmtTime(at), key)
	if err != nil {
		return false, fmt.Errorf("marking event %s handled: %w", key, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// EventsForReader implements events.Store.
func (s *EventStore) EventsForReader(ctx context.Context, readerID string, limit int) ([]*events.Event, error) {
	es, err := queryAll(ctx, s.db, scanEvent, `SELECT `+eventColumns+` FROM events
		WHERE reader_id = ? ORDER BY recorded_at DESC, key DESC LIMIT ?`, readerID, limit)
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
	found, err := queryAll(ctx, s.db, func(r rowScanner) (string, error) {
		var k string
		return k, r.Scan(&k)
	}, `SELECT key FROM events WHERE key IN (SELECT value FROM json_each(?))`, jsonArray(keys))
	if err != nil {
		return nil, fmt.Errorf("recorded events: %w", err)
	}
	for _, k := range found {
		out[k] = true
	}
	return out, nil
}
