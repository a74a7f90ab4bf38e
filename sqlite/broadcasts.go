package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/notifications"
	"github.com/bacninh/thuvienso/search"
)

// ---- broadcasts

const broadcastColumns = `id, sender_id, library_id, title, body, title_en, body_en, idempotency_key, created_at,
	cursor, recipients, finished_at`

func scanBroadcast(r rowScanner) (*notifications.Broadcast, error) {
	var (
		b        notifications.Broadcast
		created  string
		finished sql.NullString
	)
	if err := r.Scan(&b.ID, &b.SenderID, &b.LibraryID, &b.Title, &b.Body, &b.TitleEn, &b.BodyEn, &b.IdempotencyKey,
		&created, &b.Cursor, &b.Recipients, &finished); err != nil {
		return nil, err
	}
	var err error
	if b.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	if b.FinishedAt, err = parseTimePtr(finished); err != nil {
		return nil, err
	}
	return &b, nil
}

// broadcastIdemKey is the unique key of a sender's idempotency key, NULL
// without one.
func broadcastIdemKey(b *notifications.Broadcast) any {
	if b.IdempotencyKey == "" {
		return nil
	}
	return b.SenderID + "|" + b.IdempotencyKey
}

// CreateBroadcast implements notifications.Store: the sender's key is a
// UNIQUE column, so of racing sends with one key one inserts and the
// others read what it inserted.
func (s *NotificationStore) CreateBroadcast(ctx context.Context, b *notifications.Broadcast) (*notifications.Broadcast, bool, error) {
	if b.ID == "" {
		b.ID = newID()
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO notification_broadcasts (`+broadcastColumns+`, idem_key)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (idem_key) DO NOTHING`,
		b.ID, b.SenderID, b.LibraryID, b.Title, b.Body, b.TitleEn, b.BodyEn, b.IdempotencyKey, fmtTime(b.CreatedAt),
		b.Cursor, b.Recipients, fmtTimePtr(b.FinishedAt), broadcastIdemKey(b))
	if _, dup := uniqueViolation(err); dup {
		err = thuvienso.E(thuvienso.CodeConflict, "a broadcast with this ID already exists", "đã có thông báo chung với mã này")
	}
	if err != nil {
		return nil, false, fmt.Errorf("creating broadcast: %w", err)
	}
	if k, _ := res.RowsAffected(); k == 1 {
		stored := *b
		stored.CreatedAt = b.CreatedAt.UTC()
		return &stored, true, nil
	}
	got, err := scanBroadcast(s.db.QueryRowContext(ctx, `SELECT `+broadcastColumns+` FROM notification_broadcasts
		WHERE idem_key = ?`, broadcastIdemKey(b)))
	if err != nil {
		return nil, false, fmt.Errorf("creating broadcast: reading the one sent with this key: %w", err)
	}
	return got, false, nil
}

// Broadcast implements notifications.Store.
func (s *NotificationStore) Broadcast(ctx context.Context, id string) (*notifications.Broadcast, error) {
	b, err := scanBroadcast(s.db.QueryRowContext(ctx, `SELECT `+broadcastColumns+` FROM notification_broadcasts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = thuvienso.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("broadcast %s: %w", id, err)
	}
	return b, nil
}

// Broadcasts implements notifications.Store.
func (s *NotificationStore) Broadcasts(ctx context.Context, q notifications.BroadcastQuery) ([]*notifications.Broadcast, error) {
	var where []string
	var args []any
	if !q.AllLibraries {
		where, args = append(where, "library_id = ?"), append(args, q.LibraryID)
	}
	if q.After != nil {
		where, args = append(where, "(created_at, id) < (?, ?)"), append(args, fmtTime(q.After.CreatedAt), q.After.ID)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	limit := q.Limit
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	bs, err := queryAll(ctx, s.db, scanBroadcast, `SELECT `+broadcastColumns+` FROM notification_broadcasts`+cond+`
		ORDER BY created_at DESC, id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("broadcasts: %w", err)
	}
	return bs, nil
}

// UnfinishedBroadcasts implements notifications.Store.
func (s *NotificationStore) UnfinishedBroadcasts(ctx context.Context, limit int) ([]*notifications.Broadcast, error) {
	bs, err := queryAll(ctx, s.db, scanBroadcast, `SELECT `+broadcastColumns+` FROM notification_broadcasts
		WHERE finished_at IS NULL ORDER BY created_at, id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("unfinished broadcasts: %w", err)
	}
	return bs, nil
}

// AdvanceBroadcast implements notifications.Store.
func (s *NotificationStore) AdvanceBroadcast(ctx context.Context, id, from, to string, reached int, finished *time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE notification_broadcasts SET cursor = ?, recipients = recipients + ?, finished_at = ?
		WHERE id = ? AND cursor = ? AND finished_at IS NULL`, to, reached, fmtTimePtr(finished), id, from)
	if err != nil {
		return false, fmt.Errorf("advancing broadcast %s: %w", id, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// ---- saved searches

const savedSearchColumns = `id, reader_id, name, query, filter, created_at, last_run_at, next_run_at, seen, version`

func scanSavedSearch(r rowScanner) (*notifications.StoredSearch, error) {
	var (
		ss                         notifications.StoredSearch
		filter, created, next, see string
		last                       sql.NullString
	)
	if err := r.Scan(&ss.ID, &ss.ReaderID, &ss.Name, &ss.Query, &filter, &created, &last, &next, &see, &ss.Version); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(filter), &ss.Filter); err != nil {
		return nil, fmt.Errorf("saved search %s filter: %w", ss.ID, err)
	}
	if err := json.Unmarshal([]byte(see), &ss.Seen); err != nil {
		return nil, fmt.Errorf("saved search %s seen: %w", ss.ID, err)
	}
	var err error
	if ss.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	if ss.NextRunAt, err = parseTime(next); err != nil {
		return nil, err
	}
	if ss.LastRunAt, err = parseTimePtr(last); err != nil {
		return nil, err
	}
	return &ss, nil
}

// filterJSON encodes a search filter for storage.
func filterJSON(f search.Filter) (string, error) {
	b, err := json.Marshal(f)
	return string(b), err
}

// CreateSavedSearch implements notifications.Store: (reader, name) is
// UNIQUE.
func (s *NotificationStore) CreateSavedSearch(ctx context.Context, ss *notifications.StoredSearch) error {
	if ss.ID == "" {
		ss.ID = newID()
	}
	f, err := filterJSON(ss.Filter)
	if err != nil {
		return fmt.Errorf("saving search of %s: %w", ss.ReaderID, err)
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO notification_saved_searches (`+savedSearchColumns+`)
		VALUES (?,?,?,?,?,?,?,?,?,?)`,
		ss.ID, ss.ReaderID, ss.Name, ss.Query, f, fmtTime(ss.CreatedAt), fmtTimePtr(ss.LastRunAt), fmtTime(ss.NextRunAt),
		jsonArray(ss.Seen), ss.Version)
	if cols, dup := uniqueViolation(err); dup {
		if strings.Contains(cols, ".name") {
			err = notifications.ErrSavedSearchNameTaken
		} else {
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
	ss, err := scanSavedSearch(s.db.QueryRowContext(ctx, `SELECT `+savedSearchColumns+` FROM notification_saved_searches
		WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = thuvienso.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("saved search %s: %w", id, err)
	}
	return ss, nil
}

// SavedSearches implements notifications.Store.
func (s *NotificationStore) SavedSearches(ctx context.Context, readerID string) ([]*notifications.StoredSearch, error) {
	ss, err := queryAll(ctx, s.db, scanSavedSearch, `SELECT `+savedSearchColumns+` FROM notification_saved_searches
		WHERE reader_id = ? ORDER BY created_at, id`, readerID)
	if err != nil {
		return nil, fmt.Errorf("saved searches of %s: %w", readerID, err)
	}
	return ss, nil
}

// DeleteSavedSearch implements notifications.Store.
func (s *NotificationStore) DeleteSavedSearch(ctx context.Context, readerID, id string) (bool, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM notification_saved_searches WHERE id = ? AND reader_id = ?`, id, readerID)
	if err != nil {
		return false, fmt.Errorf("deleting saved search %s: %w", id, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// DueSavedSearches implements notifications.Store.
func (s *NotificationStore) DueSavedSearches(ctx context.Context, now time.Time, limit int) ([]*notifications.StoredSearch, error) {
	ss, err := queryAll(ctx, s.db, scanSavedSearch, `SELECT `+savedSearchColumns+` FROM notification_saved_searches
		WHERE next_run_at <= ? ORDER BY next_run_at, id LIMIT ?`, fmtTime(now), limit)
	if err != nil {
		return nil, fmt.Errorf("saved searches due: %w", err)
	}
	return ss, nil
}

// RecordSavedSearchRun implements notifications.Store.
func (s *NotificationStore) RecordSavedSearchRun(ctx context.Context, id string, version int, run notifications.SavedSearchRun) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE notification_saved_searches SET last_run_at = ?, next_run_at = ?, seen = ?,
		version = version + 1 WHERE id = ? AND version = ?`,
		fmtTime(run.At), fmtTime(run.Next), jsonArray(run.Seen), id, version)
	if err != nil {
		return false, fmt.Errorf("recording run of saved search %s: %w", id, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}
