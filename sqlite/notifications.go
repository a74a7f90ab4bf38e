package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/notifications"
)

// NotificationStore implements notifications.Store on SQLite: the dedup
// key is a UNIQUE column, so a notification is stored once however many
// callers race (INSERT … ON CONFLICT DO NOTHING); claiming a push, marking
// read and moving a token are one conditional statement each.
type NotificationStore struct {
	db *pools
}

var _ notifications.Store = (*NotificationStore)(nil)

// ---- devices

const deviceColumns = `token, reader_id, platform, locale, registered_at`

func scanDevice(r rowScanner) (*notifications.Device, error) {
	var (
		d            notifications.Device
		platform, at string
	)
	if err := r.Scan(&d.Token, &d.ReaderID, &platform, &d.Locale, &at); err != nil {
		return nil, err
	}
	d.Platform = notifications.Platform(platform)
	var err error
	if d.RegisteredAt, err = parseTime(at); err != nil {
		return nil, err
	}
	return &d, nil
}

// SaveDevice implements notifications.Store.
func (s *NotificationStore) SaveDevice(ctx context.Context, d *notifications.Device) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO notification_devices (`+deviceColumns+`) VALUES (?,?,?,?,?)
		ON CONFLICT (token) DO UPDATE SET reader_id = excluded.reader_id, platform = excluded.platform,
			locale = excluded.locale, registered_at = excluded.registered_at`,
		d.Token, d.ReaderID, string(d.Platform), d.Locale, fmtTime(d.RegisteredAt))
	if err != nil {
		return fmt.Errorf("saving device of %s: %w", d.ReaderID, err)
	}
	return nil
}

// DeleteDevice implements notifications.Store.
func (s *NotificationStore) DeleteDevice(ctx context.Context, readerID, token string) (bool, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM notification_devices WHERE token = ? AND reader_id = ?`, token, readerID)
	if err != nil {
		return false, fmt.Errorf("deleting device of %s: %w", readerID, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// Devices implements notifications.Store.
func (s *NotificationStore) Devices(ctx context.Context, readerID string) ([]*notifications.Device, error) {
	ds, err := queryAll(ctx, s.db, scanDevice, `SELECT `+deviceColumns+` FROM notification_devices
		WHERE reader_id = ? ORDER BY registered_at, token`, readerID)
	if err != nil {
		return nil, fmt.Errorf("devices of %s: %w", readerID, err)
	}
	return ds, nil
}

// DevicesOf implements notifications.Store.
func (s *NotificationStore) DevicesOf(ctx context.Context, readerIDs []string) (map[string][]*notifications.Device, error) {
	out := map[string][]*notifications.Device{}
	for chunk := range slices.Chunk(readerIDs, 1000) {
		ds, err := queryAll(ctx, s.db, scanDevice, `SELECT `+deviceColumns+` FROM notification_devices
			WHERE reader_id IN (SELECT value FROM json_each(?)) ORDER BY reader_id, registered_at, token`, jsonArray(chunk))
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

func scanPreferences(r rowScanner) (*notifications.Preferences, error) {
	var (
		p                   notifications.Preferences
		disabled, days, upd string
		start, end          int
	)
	if err := r.Scan(&p.ReaderID, &disabled, &days, &start, &end, &p.Language, &upd); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(disabled), &p.Disabled); err != nil {
		return nil, fmt.Errorf("preferences of %s: %w", p.ReaderID, err)
	}
	if err := json.Unmarshal([]byte(days), &p.DaysBeforeDue); err != nil {
		return nil, fmt.Errorf("preferences of %s: %w", p.ReaderID, err)
	}
	p.Quiet = notifications.QuietHours{Start: notifications.TimeOfDay(start), End: notifications.TimeOfDay(end)}
	var err error
	if p.UpdatedAt, err = parseTime(upd); err != nil {
		return nil, err
	}
	return &p, nil
}

// Preferences implements notifications.Store.
func (s *NotificationStore) Preferences(ctx context.Context, readerIDs []string) (map[string]*notifications.Preferences, error) {
	out := map[string]*notifications.Preferences{}
	if len(readerIDs) == 0 {
		return out, nil
	}
	ps, err := queryAll(ctx, s.db, scanPreferences, `SELECT reader_id, disabled, days_before_due, quiet_start, quiet_end,
		language, updated_at FROM notification_preferences WHERE reader_id IN (SELECT value FROM json_each(?))`, jsonArray(readerIDs))
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
	disabled := p.Disabled
	if disabled == nil {
		disabled = []notifications.Kind{}
	}
	days := p.DaysBeforeDue
	if days == nil {
		days = []int{}
	}
	dis, _ := json.Marshal(disabled)
	dd, _ := json.Marshal(days)
	_, err := s.db.ExecContext(ctx, `INSERT INTO notification_preferences (reader_id, disabled, days_before_due,
		quiet_start, quiet_end, language, updated_at) VALUES (?,?,?,?,?,?,?)
		ON CONFLICT (reader_id) DO UPDATE SET disabled = excluded.disabled, days_before_due = excluded.days_before_due,
			quiet_start = excluded.quiet_start, quiet_end = excluded.quiet_end, language = excluded.language,
			updated_at = excluded.updated_at`,
		p.ReaderID, string(dis), string(dd), int(p.Quiet.Start), int(p.Quiet.End), p.Language, fmtTime(p.UpdatedAt))
	if err != nil {
		return fmt.Errorf("saving notification preferences of %s: %w", p.ReaderID, err)
	}
	return nil
}

// ---- notifications

const notificationColumns = `id, reader_id, kind, subject_id, moment, dedup_key, event_key, data, created_at, read_at,
	push_state, push_at, push_attempts, push_claimed_until, push_sent_to, push_error`

func scanNotification(r rowScanner) (*notifications.Notification, error) {
	var (
		n                           notifications.Notification
		kind, moment, data, created string
		state, pushAt, sentTo       string
		readAt, claimed             sql.NullString
	)
	if err := r.Scan(&n.ID, &n.ReaderID, &kind, &n.SubjectID, &moment, &n.DedupKey, &n.EventKey, &data, &created, &readAt,
		&state, &pushAt, &n.Push.Attempts, &claimed, &sentTo, &n.Push.Error); err != nil {
		return nil, err
	}
	n.Kind, n.Push.State = notifications.Kind(kind), notifications.PushState(state)
	if err := json.Unmarshal([]byte(data), &n.Data); err != nil {
		return nil, fmt.Errorf("notification %s data: %w", n.ID, err)
	}
	if err := json.Unmarshal([]byte(sentTo), &n.Push.SentTo); err != nil {
		return nil, fmt.Errorf("notification %s tokens: %w", n.ID, err)
	}
	var err error
	for _, f := range []struct {
		dst *time.Time
		s   string
	}{{&n.Moment, moment}, {&n.CreatedAt, created}, {&n.Push.At, pushAt}} {
		if *f.dst, err = parseTime(f.s); err != nil {
			return nil, err
		}
	}
	if n.ReadAt, err = parseTimePtr(readAt); err != nil {
		return nil, err
	}
	if n.Push.ClaimedUntil, err = parseTimePtr(claimed); err != nil {
		return nil, err
	}
	return &n, nil
}

// jsonObject encodes a string map, {} for nil.
func jsonObject(m map[string]string) string {
	if m == nil {
		m = map[string]string{}
	}
	b, _ := json.Marshal(m) // a map of strings always encodes
	return string(b)
}

// CreateNotification implements notifications.Store.
func (s *NotificationStore) CreateNotification(ctx context.Context, n *notifications.Notification) (bool, error) {
	if n.DedupKey == "" {
		return false, fmt.Errorf("creating notification: the dedup key is empty")
	}
	if n.ID == "" {
		n.ID = newID()
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO notifications (`+notificationColumns+`)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (dedup_key) DO NOTHING`,
		n.ID, n.ReaderID, string(n.Kind), n.SubjectID, fmtTime(n.Moment), n.DedupKey, n.EventKey, jsonObject(n.Data),
		fmtTime(n.CreatedAt), fmtTimePtr(n.ReadAt), string(n.Push.State), fmtTime(n.Push.At), n.Push.Attempts,
		fmtTimePtr(n.Push.ClaimedUntil), jsonArray(n.Push.SentTo), n.Push.Error)
	if _, dup := uniqueViolation(err); dup {
		err = thuvienso.E(thuvienso.CodeConflict, "a notification with this ID already exists", "đã có thông báo với mã này")
	}
	if err != nil {
		return false, fmt.Errorf("creating notification %s: %w", n.DedupKey, err)
	}
	k, _ := res.RowsAffected()
	return k == 1, nil
}

// CreateNotifications implements notifications.Store: one transaction,
// one INSERT … ON CONFLICT DO NOTHING per notification.
func (s *NotificationStore) CreateNotifications(ctx context.Context, ns []*notifications.Notification) ([]bool, error) {
	out := make([]bool, len(ns))
	if len(ns) == 0 {
		return out, nil
	}
	for _, n := range ns {
		if n.DedupKey == "" {
			return nil, fmt.Errorf("creating notifications: the dedup key is empty")
		}
		if n.ID == "" {
			n.ID = newID()
		}
	}
	tx, err := s.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE (see dsnParams)
	if err != nil {
		return nil, fmt.Errorf("creating notifications: %w", err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO notifications (`+notificationColumns+`)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (dedup_key) DO NOTHING`)
	if err != nil {
		return nil, fmt.Errorf("creating notifications: %w", err)
	}
	defer stmt.Close()
	for i, n := range ns {
		res, err := stmt.ExecContext(ctx, n.ID, n.ReaderID, string(n.Kind), n.SubjectID, fmtTime(n.Moment), n.DedupKey, n.EventKey,
			jsonObject(n.Data), fmtTime(n.CreatedAt), fmtTimePtr(n.ReadAt), string(n.Push.State), fmtTime(n.Push.At),
			n.Push.Attempts, fmtTimePtr(n.Push.ClaimedUntil), jsonArray(n.Push.SentTo), n.Push.Error)
		if _, dup := uniqueViolation(err); dup {
			err = thuvienso.E(thuvienso.CodeConflict, "a notification with this ID already exists", "đã có thông báo với mã này")
		}
		if err != nil {
			return nil, fmt.Errorf("creating notification %s: %w", n.DedupKey, err)
		}
		k, _ := res.RowsAffected()
		out[i] = k == 1
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("creating notifications: %w", err)
	}
	return out, nil
}

// notification runs a one-row query.
func (s *NotificationStore) notification(ctx context.Context, what, q string, args ...any) (*notifications.Notification, error) {
	n, err := scanNotification(s.db.QueryRowContext(ctx, q, args...))
	if errors.Is(err, sql.ErrNoRows) {
		err = thuvienso.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("notification %s: %w", what, err)
	}
	return n, nil
}

// Notification implements notifications.Store.
func (s *NotificationStore) Notification(ctx context.Context, id string) (*notifications.Notification, error) {
	return s.notification(ctx, id, `SELECT `+notificationColumns+` FROM notifications WHERE id = ?`, id)
}

// NotificationByKey implements notifications.Store.
func (s *NotificationStore) NotificationByKey(ctx context.Context, key string) (*notifications.Notification, error) {
	return s.notification(ctx, key, `SELECT `+notificationColumns+` FROM notifications WHERE dedup_key = ?`, key)
}

// ExistingKeys implements notifications.Store.
func (s *NotificationStore) ExistingKeys(ctx context.Context, keys []string) (map[string]bool, error) {
	out := map[string]bool{}
	for chunk := range slices.Chunk(keys, 1000) {
		ks, err := queryAll(ctx, s.db, func(r rowScanner) (string, error) {
			var k string
			return k, r.Scan(&k)
		}, `SELECT dedup_key FROM notifications WHERE dedup_key IN (SELECT value FROM json_each(?))`, jsonArray(chunk))
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
	where, args := []string{"reader_id = ?"}, []any{q.ReaderID}
	if q.After != nil {
		where, args = append(where, "(created_at, id) < (?, ?)"), append(args, fmtTime(q.After.CreatedAt), q.After.ID)
	}
	if q.UnreadOnly {
		where = append(where, "read_at IS NULL")
	}
	limit := q.Limit
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	ns, err := queryAll(ctx, s.db, scanNotification, `SELECT `+notificationColumns+` FROM notifications WHERE `+
		strings.Join(where, " AND ")+` ORDER BY created_at DESC, id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("notifications of %s: %w", q.ReaderID, err)
	}
	return ns, nil
}

// CountNotifications implements notifications.Store.
func (s *NotificationStore) CountNotifications(ctx context.Context, readerID string, unreadOnly bool) (int, error) {
	q := `SELECT count(*) FROM notifications WHERE reader_id = ?`
	if unreadOnly {
		q += ` AND read_at IS NULL`
	}
	var n int
	if err := s.db.QueryRowContext(ctx, q, readerID).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting notifications of %s: %w", readerID, err)
	}
	return n, nil
}

// MarkRead implements notifications.Store.
func (s *NotificationStore) MarkRead(ctx context.Context, readerID, id string, at time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE notifications SET read_at = ? WHERE id = ? AND reader_id = ? AND read_at IS NULL`,
		fmtTime(at), id, readerID)
	if err != nil {
		return false, fmt.Errorf("marking notification %s read: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return true, nil
	}
	var one int
	err = s.db.QueryRowContext(ctx, `SELECT 1 FROM notifications WHERE id = ? AND reader_id = ?`, id, readerID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		err = thuvienso.ErrNotFound
	}
	if err != nil {
		return false, fmt.Errorf("marking notification %s read: %w", id, err)
	}
	return false, nil
}

// MarkAllRead implements notifications.Store.
func (s *NotificationStore) MarkAllRead(ctx context.Context, readerID string, at time.Time) (int, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE notifications SET read_at = ? WHERE reader_id = ? AND read_at IS NULL`,
		fmtTime(at), readerID)
	if err != nil {
		return 0, fmt.Errorf("marking notifications of %s read: %w", readerID, err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// DuePushes implements notifications.Store.
func (s *NotificationStore) DuePushes(ctx context.Context, now time.Time, limit int) ([]*notifications.Notification, error) {
	ns, err := queryAll(ctx, s.db, scanNotification, `SELECT `+notificationColumns+` FROM notifications
		WHERE push_state = 'PENDING' AND push_at <= ? ORDER BY push_at, id LIMIT ?`, fmtTime(now), limit)
	if err != nil {
		return nil, fmt.Errorf("due pushes: %w", err)
	}
	return ns, nil
}

// ClaimPush implements notifications.Store.
func (s *NotificationStore) ClaimPush(ctx context.Context, id string, now, until time.Time) (*notifications.Notification, error) {
	n, err := scanNotification(s.db.QueryRowContext(ctx, `UPDATE notifications
		SET push_state = 'SENDING', push_attempts = push_attempts + 1, push_claimed_until = ?
		WHERE id = ? AND push_state = 'PENDING' AND push_at <= ? RETURNING `+notificationColumns,
		fmtTime(until), id, fmtTime(now)))
	if errors.Is(err, sql.ErrNoRows) {
		err = notifications.ErrNotClaimed
	}
	if err != nil {
		return nil, fmt.Errorf("claiming push of %s: %w", id, err)
	}
	return n, nil
}

// ClaimPushes implements notifications.Store: one UPDATE … RETURNING,
// whose every row is the conditional update of ClaimPush.
func (s *NotificationStore) ClaimPushes(ctx context.Context, ids []string, now, until time.Time) ([]*notifications.Notification, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	ns, err := queryAll(ctx, s.db, scanNotification, `UPDATE notifications
		SET push_state = 'SENDING', push_attempts = push_attempts + 1, push_claimed_until = ?
		WHERE id IN (SELECT value FROM json_each(?)) AND push_state = 'PENDING' AND push_at <= ? RETURNING `+notificationColumns,
		fmtTime(until), jsonArray(ids), fmtTime(now))
	if err != nil {
		return nil, fmt.Errorf("claiming %d pushes: %w", len(ids), err)
	}
	return ns, nil
}

// FinishPushes implements notifications.Store: the updates of FinishPush
// in one transaction.
func (s *NotificationStore) FinishPushes(ctx context.Context, fs []notifications.PushFinish) (int, error) {
	if len(fs) == 0 {
		return 0, nil
	}
	tx, err := s.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE (see dsnParams)
	if err != nil {
		return 0, fmt.Errorf("recording %d pushes: %w", len(fs), err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `UPDATE notifications SET push_state = ?, push_at = ?, push_attempts = ?,
		push_claimed_until = ?, push_sent_to = ?, push_error = ?
		WHERE id = ? AND push_state = 'SENDING' AND push_attempts = ?`)
	if err != nil {
		return 0, fmt.Errorf("recording %d pushes: %w", len(fs), err)
	}
	defer stmt.Close()
	done := 0
	for _, f := range fs {
		p := f.Push
		res, err := stmt.ExecContext(ctx, string(p.State), fmtTime(p.At), p.Attempts, fmtTimePtr(p.ClaimedUntil),
			jsonArray(p.SentTo), p.Error, f.ID, f.ClaimedAttempts)
		if err != nil {
			return 0, fmt.Errorf("recording push of %s: %w", f.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			done++
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("recording %d pushes: %w", len(fs), err)
	}
	return done, nil
}

// FinishPush implements notifications.Store.
func (s *NotificationStore) FinishPush(ctx context.Context, id string, claimedAttempts int, p notifications.Push) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE notifications SET push_state = ?, push_at = ?, push_attempts = ?,
		push_claimed_until = ?, push_sent_to = ?, push_error = ?
		WHERE id = ? AND push_state = 'SENDING' AND push_attempts = ?`,
		string(p.State), fmtTime(p.At), p.Attempts, fmtTimePtr(p.ClaimedUntil), jsonArray(p.SentTo), p.Error, id, claimedAttempts)
	if err != nil {
		return false, fmt.Errorf("recording push of %s: %w", id, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// FailStaleClaims implements notifications.Store.
func (s *NotificationStore) FailStaleClaims(ctx context.Context, now time.Time) (int, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE notifications SET push_state = 'FAILED', push_at = ?, push_claimed_until = NULL,
		push_error = 'the sender stopped while sending; not sent again'
		WHERE push_state = 'SENDING' AND push_claimed_until < ?`, fmtTime(now), fmtTime(now))
	if err != nil {
		return 0, fmt.Errorf("failing stale push claims: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
