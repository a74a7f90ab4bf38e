package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/auth"
)

// AuthStore implements auth.Store on SQLite.
type AuthStore struct {
	db *pools
}

var _ auth.Store = (*AuthStore)(nil)

// accountColumns is the column list every account query selects, in the
// order scanAccount reads.
const accountColumns = `id, name, email, phone, card_number, password_hash, role, category,
	home_library_id, library_id, language, created_at, updated_at`

// scanAccount reads one row selected with accountColumns.
func scanAccount(row interface{ Scan(...any) error }) (*auth.Account, error) {
	var (
		a                    auth.Account
		email, phone, card   sql.NullString
		role, category       string
		createdAt, updatedAt string
	)
	if err := row.Scan(&a.ID, &a.Name, &email, &phone, &card, &a.PasswordHash, &role, &category,
		&a.HomeLibraryID, &a.LibraryID, &a.Language, &createdAt, &updatedAt); err != nil {
		return nil, err
	}
	a.Email, a.Phone, a.CardNumber = email.String, phone.String, card.String
	a.Role, a.Category = auth.Role(role), auth.Category(category)
	var err error
	if a.CreatedAt, err = parseTime(createdAt); err != nil {
		return nil, fmt.Errorf("account %s: %w", a.ID, err)
	}
	if a.UpdatedAt, err = parseTime(updatedAt); err != nil {
		return nil, fmt.Errorf("account %s: %w", a.ID, err)
	}
	return &a, nil
}

// accountWriteError maps a unique violation to the auth error naming the field.
func accountWriteError(err error) error {
	cols, ok := uniqueViolation(err)
	switch {
	case !ok:
		return err
	case strings.Contains(cols, "accounts.email"):
		return auth.ErrEmailTaken
	case strings.Contains(cols, "accounts.phone"):
		return auth.ErrPhoneTaken
	case strings.Contains(cols, "accounts.card_number"):
		return auth.ErrCardTaken
	}
	return err
}

// CreateAccount inserts a, giving it a new ID when it has none. An email,
// phone or card number already taken fails with auth.ErrEmailTaken,
// auth.ErrPhoneTaken or auth.ErrCardTaken; empty ones are stored as NULL and
// never collide.
func (s *AuthStore) CreateAccount(ctx context.Context, a *auth.Account) error {
	if a.ID == "" {
		a.ID = newID()
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO accounts (`+accountColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.Name, nullIfEmpty(a.Email), nullIfEmpty(a.Phone), nullIfEmpty(a.CardNumber), a.PasswordHash,
		string(a.Role), string(a.Category), a.HomeLibraryID, a.LibraryID, a.Language,
		fmtTime(a.CreatedAt), fmtTime(a.UpdatedAt))
	if err != nil {
		return fmt.Errorf("creating account: %w", accountWriteError(err))
	}
	return nil
}

// Account returns the account with this ID, or thuvienso.ErrNotFound.
func (s *AuthStore) Account(ctx context.Context, id string) (*auth.Account, error) {
	a, err := scanAccount(s.db.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = thuvienso.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("account %s: %w", id, err)
	}
	return a, nil
}

// AccountsByID returns the accounts with these IDs that exist, in one query.
func (s *AuthStore) AccountsByID(ctx context.Context, ids []string) ([]*auth.Account, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts
		WHERE id IN (SELECT value FROM json_each(?))`, jsonArray(ids))
	if err != nil {
		return nil, fmt.Errorf("accounts by id: %w", err)
	}
	defer rows.Close()
	var as []*auth.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("accounts by id: %w", err)
		}
		as = append(as, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("accounts by id: %w", err)
	}
	return as, nil
}

// ReaderIDs implements auth.Store (index accounts_home_library for one
// library, the primary key for every reader).
func (s *AuthStore) ReaderIDs(ctx context.Context, homeLibraryID, afterID string, limit int) ([]string, error) {
	q, args := `SELECT id FROM accounts WHERE role = 'READER' AND id > ? ORDER BY id LIMIT ?`, []any{afterID, limit}
	if homeLibraryID != "" {
		q = `SELECT id FROM accounts WHERE role = 'READER' AND home_library_id = ? AND id > ? ORDER BY id LIMIT ?`
		args = append([]any{homeLibraryID}, args...)
	}
	ids, err := queryAll(ctx, s.db, func(r rowScanner) (string, error) {
		var id string
		return id, r.Scan(&id)
	}, q, args...)
	if err != nil {
		return nil, fmt.Errorf("reader ids: %w", err)
	}
	return ids, nil
}

// AccountByLogin returns the account whose email, phone or card number is
// login, or thuvienso.ErrNotFound. Email is preferred, then phone, then card
// number, should one login match different accounts in different fields.
func (s *AuthStore) AccountByLogin(ctx context.Context, login string) (*auth.Account, error) {
	if login == "" {
		return nil, fmt.Errorf("account by login: %w", thuvienso.ErrNotFound)
	}
	a, err := scanAccount(s.db.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts
		WHERE email = ?1 OR phone = ?1 OR card_number = ?1
		ORDER BY email = ?1 DESC, phone = ?1 DESC LIMIT 1`, login))
	if errors.Is(err, sql.ErrNoRows) {
		err = thuvienso.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("account by login: %w", err)
	}
	return a, nil
}

// SetPasswordHash replaces an account's password hash and sets its
// UpdatedAt to at; thuvienso.ErrNotFound when there is no such account.
func (s *AuthStore) SetPasswordHash(ctx context.Context, accountID, hash string, at time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE accounts SET password_hash = ?, updated_at = ? WHERE id = ?`,
		hash, fmtTime(at), accountID)
	if err != nil {
		return fmt.Errorf("setting password of account %s: %w", accountID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("setting password of account %s: %w", accountID, err)
	} else if n == 0 {
		return fmt.Errorf("setting password of account %s: %w", accountID, thuvienso.ErrNotFound)
	}
	return nil
}

// SetCardNumber replaces an account's card number and sets its UpdatedAt
// to at; auth.ErrCardTaken when another account has the number,
// thuvienso.ErrNotFound when there is no such account.
func (s *AuthStore) SetCardNumber(ctx context.Context, accountID, number string, at time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE accounts SET card_number = ?, updated_at = ? WHERE id = ?`,
		nullIfEmpty(number), fmtTime(at), accountID)
	if err != nil {
		return fmt.Errorf("setting card number of account %s: %w", accountID, accountWriteError(err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("setting card number of account %s: %w", accountID, err)
	} else if n == 0 {
		return fmt.Errorf("setting card number of account %s: %w", accountID, thuvienso.ErrNotFound)
	}
	return nil
}

// sessionColumns is the column list every session query selects.
const sessionColumns = `id, account_id, created_at, expires_at, revoked_at, revoked_reason, user_agent, ip`

// CreateSession inserts a new login, giving it a new ID when it has none.
func (s *AuthStore) CreateSession(ctx context.Context, sess *auth.Session) error {
	if sess.ID == "" {
		sess.ID = newID()
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO sessions (`+sessionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		sess.ID, sess.AccountID, fmtTime(sess.CreatedAt), fmtTime(sess.ExpiresAt), fmtTimePtr(sess.RevokedAt),
		sess.RevokedReason, sess.UserAgent, sess.IP)
	if err != nil {
		return fmt.Errorf("creating session: %w", err)
	}
	return nil
}

// Session returns the session with this ID, or thuvienso.ErrNotFound.
func (s *AuthStore) Session(ctx context.Context, id string) (*auth.Session, error) {
	var (
		sess                 auth.Session
		createdAt, expiresAt string
		revokedAt            sql.NullString
	)
	err := s.db.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE id = ?`, id).Scan(
		&sess.ID, &sess.AccountID, &createdAt, &expiresAt, &revokedAt, &sess.RevokedReason, &sess.UserAgent, &sess.IP)
	if errors.Is(err, sql.ErrNoRows) {
		err = thuvienso.ErrNotFound
	}
	if err == nil {
		sess.CreatedAt, err = parseTime(createdAt)
	}
	if err == nil {
		sess.ExpiresAt, err = parseTime(expiresAt)
	}
	if err == nil {
		sess.RevokedAt, err = parseTimePtr(revokedAt)
	}
	if err != nil {
		return nil, fmt.Errorf("session %s: %w", id, err)
	}
	return &sess, nil
}

// RevokeSession marks the session revoked at `at` for reason. A session
// already revoked keeps its first time and reason; an unknown one is
// thuvienso.ErrNotFound.
func (s *AuthStore) RevokeSession(ctx context.Context, id, reason string, at time.Time) error {
	// One statement: "revoke unless revoked" and "does it exist" at once.
	var found int
	err := s.db.QueryRowContext(ctx, `UPDATE sessions
		SET revoked_at = coalesce(revoked_at, ?2),
		    revoked_reason = CASE WHEN revoked_at IS NULL THEN ?3 ELSE revoked_reason END
		WHERE id = ?1 RETURNING 1`, id, fmtTime(at), reason).Scan(&found)
	if errors.Is(err, sql.ErrNoRows) {
		err = thuvienso.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("revoking session %s: %w", id, err)
	}
	return nil
}

// RevokeAccountSessions revokes every session of the account not yet
// revoked, except keepID (which may be empty).
func (s *AuthStore) RevokeAccountSessions(ctx context.Context, accountID, keepID, reason string, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE sessions SET revoked_at = ?, revoked_reason = ?
		WHERE account_id = ? AND id <> ? AND revoked_at IS NULL`, fmtTime(at), reason, accountID, keepID)
	if err != nil {
		return fmt.Errorf("revoking sessions of account %s: %w", accountID, err)
	}
	return nil
}

// refreshTokenColumns is the column list every refresh-token query selects.
const refreshTokenColumns = `hash, session_id, account_id, issued_at, expires_at, used_at`

// scanRefreshToken reads one row selected with refreshTokenColumns.
func scanRefreshToken(row interface{ Scan(...any) error }) (*auth.RefreshToken, error) {
	var (
		t                   auth.RefreshToken
		issuedAt, expiresAt string
		usedAt              sql.NullString
	)
	if err := row.Scan(&t.Hash, &t.SessionID, &t.AccountID, &issuedAt, &expiresAt, &usedAt); err != nil {
		return nil, err
	}
	var err error
	if t.IssuedAt, err = parseTime(issuedAt); err != nil {
		return nil, err
	}
	if t.ExpiresAt, err = parseTime(expiresAt); err != nil {
		return nil, err
	}
	if t.UsedAt, err = parseTimePtr(usedAt); err != nil {
		return nil, err
	}
	return &t, nil
}

// CreateRefreshToken stores a new refresh token.
func (s *AuthStore) CreateRefreshToken(ctx context.Context, t *auth.RefreshToken) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO refresh_tokens (`+refreshTokenColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
		t.Hash, t.SessionID, t.AccountID, fmtTime(t.IssuedAt), fmtTime(t.ExpiresAt), fmtTimePtr(t.UsedAt))
	if err != nil {
		return fmt.Errorf("creating refresh token: %w", err)
	}
	return nil
}

// UseRefreshToken marks the token with this hash used at `at` in one
// conditional statement, so of many concurrent uses exactly one succeeds.
// A token already used is returned with auth.ErrRefreshTokenReused; an
// unknown hash is thuvienso.ErrNotFound.
func (s *AuthStore) UseRefreshToken(ctx context.Context, hash string, at time.Time) (*auth.RefreshToken, error) {
	t, err := scanRefreshToken(s.db.QueryRowContext(ctx, `UPDATE refresh_tokens SET used_at = ?
		WHERE hash = ? AND used_at IS NULL RETURNING `+refreshTokenColumns, fmtTime(at), hash))
	if err == nil {
		return t, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("using refresh token: %w", err)
	}
	// Not updated: either used before or never issued.
	t, err = scanRefreshToken(s.db.QueryRowContext(ctx,
		`SELECT `+refreshTokenColumns+` FROM refresh_tokens WHERE hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("using refresh token: %w", thuvienso.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("using refresh token: %w", err)
	}
	return t, fmt.Errorf("using refresh token of session %s: %w", t.SessionID, auth.ErrRefreshTokenReused)
}
