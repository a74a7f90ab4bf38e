package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/circulation"
)

// Reading history and the pull list's query (migration 0008).

// WaitingHoldWorks implements circulation.Store (index circ_holds_waiting).
func (s *CirculationStore) WaitingHoldWorks(ctx context.Context) ([]string, error) {
	ids, err := circMany(ctx, s, func(r rowScanner) (id string, err error) { return id, r.Scan(&id) },
		`SELECT DISTINCT work_id FROM circ_holds WHERE state = 'WAITING'`)
	if err != nil {
		return nil, fmt.Errorf("works with waiting holds: %w", err)
	}
	return ids, nil
}

func scanHistorySetting(r rowScanner) (*circulation.HistorySetting, error) {
	var (
		h       circulation.HistorySetting
		enabled int
		updated string
	)
	if err := r.Scan(&h.ReaderID, &enabled, &updated, &h.Version); err != nil {
		return nil, err
	}
	h.Enabled = enabled != 0
	var err error
	h.UpdatedAt, err = parseTime(updated)
	return &h, err
}

const historySettingColumns = `reader_id, enabled, updated_at, version`

// HistorySetting implements circulation.Store.
func (s *CirculationStore) HistorySetting(ctx context.Context, readerID string) (*circulation.HistorySetting, error) {
	h, err := circOne(ctx, s, scanHistorySetting, `SELECT `+historySettingColumns+` FROM circ_history_settings WHERE reader_id = ?`, readerID)
	if errors.Is(err, sql.ErrNoRows) {
		err = thuvienso.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("history setting of %s: %w", readerID, err)
	}
	return h, nil
}

// SetHistorySetting implements circulation.Store: one upsert that
// increments the version.
func (s *CirculationStore) SetHistorySetting(ctx context.Context, readerID string, enabled bool, at time.Time) (*circulation.HistorySetting, error) {
	h, err := circOne(ctx, s, scanHistorySetting, `INSERT INTO circ_history_settings (`+historySettingColumns+`) VALUES (?, ?, ?, 1)
		ON CONFLICT (reader_id) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at, version = version + 1
		RETURNING `+historySettingColumns, readerID, boolInt(enabled), fmtTime(at))
	if err != nil {
		return nil, fmt.Errorf("setting the history of %s: %w", readerID, err)
	}
	return h, nil
}

const historyColumns = `id, reader_id, work_id, title, authors, library_id, library_name, borrowed_at, returned_at`

func scanHistoryEntry(r rowScanner) (*circulation.HistoryEntry, error) {
	var (
		e                  circulation.HistoryEntry
		authors, out, back string
	)
	if err := r.Scan(&e.ID, &e.ReaderID, &e.WorkID, &e.Title, &authors, &e.LibraryID, &e.LibraryName, &out, &back); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(authors), &e.Authors); err != nil {
		return nil, fmt.Errorf("stored authors %q: %w", authors, err)
	}
	var err error
	if e.BorrowedAt, err = parseTime(out); err != nil {
		return nil, err
	}
	e.ReturnedAt, err = parseTime(back)
	return &e, err
}

// AddHistoryEntry implements circulation.Store.
func (s *CirculationStore) AddHistoryEntry(ctx context.Context, e *circulation.HistoryEntry) error {
	_, err := s.exec(ctx, `INSERT INTO circ_history (`+historyColumns+`) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (id) DO NOTHING`,
		e.ID, e.ReaderID, e.WorkID, e.Title, jsonArray(e.Authors), e.LibraryID, e.LibraryName, fmtTime(e.BorrowedAt), fmtTime(e.ReturnedAt))
	if err != nil {
		return fmt.Errorf("adding to the history of %s: %w", e.ReaderID, err)
	}
	return nil
}

// HistoryEntries implements circulation.Store (index circ_history_reader).
func (s *CirculationStore) HistoryEntries(ctx context.Context, readerID string, after *circulation.HistoryCursor, limit int) ([]*circulation.HistoryEntry, error) {
	q, args := `SELECT `+historyColumns+` FROM circ_history WHERE reader_id = ?`, []any{readerID}
	if after != nil {
		q, args = q+` AND (returned_at, id) < (?, ?)`, append(args, fmtTime(after.ReturnedAt), after.ID)
	}
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	es, err := circMany(ctx, s, scanHistoryEntry, q+` ORDER BY returned_at DESC, id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", readerID, err)
	}
	return es, nil
}

// CountHistory implements circulation.Store.
func (s *CirculationStore) CountHistory(ctx context.Context, readerID string) (int, error) {
	n, err := circOne(ctx, s, func(r rowScanner) (n int, err error) { return n, r.Scan(&n) },
		`SELECT count(*) FROM circ_history WHERE reader_id = ?`, readerID)
	if err != nil {
		return 0, fmt.Errorf("counting the history of %s: %w", readerID, err)
	}
	return n, nil
}

// DeleteHistoryEntry implements circulation.Store.
func (s *CirculationStore) DeleteHistoryEntry(ctx context.Context, readerID, id string) error {
	res, err := s.exec(ctx, `DELETE FROM circ_history WHERE id = ? AND reader_id = ?`, id, readerID)
	if err != nil {
		return fmt.Errorf("deleting history entry %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("deleting history entry %s: %w", id, thuvienso.ErrNotFound)
	}
	return nil
}

// ClearHistory implements circulation.Store: the version first, then the
// entries.
func (s *CirculationStore) ClearHistory(ctx context.Context, readerID string, at time.Time) (int, error) {
	_, err := s.exec(ctx, `INSERT INTO circ_history_settings (`+historySettingColumns+`) VALUES (?, 0, ?, 1)
		ON CONFLICT (reader_id) DO UPDATE SET updated_at = excluded.updated_at, version = version + 1`, readerID, fmtTime(at))
	if err != nil {
		return 0, fmt.Errorf("clearing the history of %s: %w", readerID, err)
	}
	res, err := s.exec(ctx, `DELETE FROM circ_history WHERE reader_id = ?`, readerID)
	if err != nil {
		return 0, fmt.Errorf("clearing the history of %s: %w", readerID, err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
