// Package auth owns who a caller is: reader and staff accounts, their
// passwords (argon2id), logins (sessions) with short-lived access tokens and
// rotating refresh tokens, roles, and the rules for who may see or act on
// what (Actor).
package auth

import (
	"context"
	"time"
)

// Role is what an account may do.
type Role string

// Roles. A librarian is bound to one library; an admin acts for the province.
const (
	RoleReader    Role = "READER"
	RoleLibrarian Role = "LIBRARIAN"
	RoleAdmin     Role = "ADMIN"
)

// Category is a reader's category; loan rules differ by category.
type Category string

// Reader categories.
const (
	CategoryAdult   Category = "ADULT"
	CategoryStudent Category = "STUDENT"
	CategoryChild   Category = "CHILD"
)

// Valid reports whether c is a known category.
func (c Category) Valid() bool {
	return c == CategoryAdult || c == CategoryStudent || c == CategoryChild
}

// Account is a person who logs in: a reader, a librarian or an admin.
type Account struct {
	ID   string
	Name string
	// Email and Phone are optional but at least one is set for self-registered
	// readers. Email is stored lowercased; Phone in E.164-like digits ("+84…").
	Email string
	Phone string
	// CardNumber is the province-wide library card number (see package card).
	CardNumber string
	// PasswordHash is the encoded argon2id hash (see HashPassword).
	PasswordHash  string
	Role          Role
	Category      Category
	HomeLibraryID string
	// LibraryID is the library a librarian works for; empty for others.
	LibraryID string
	// Language is the preferred language, "vi" or "en".
	Language  string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Session is one login: the family of refresh tokens issued from one
// password login. Revoking it ends every token of the family.
type Session struct {
	ID        string
	AccountID string
	CreatedAt time.Time
	// ExpiresAt bounds the whole login, however often it is refreshed.
	ExpiresAt time.Time
	// RevokedAt is set by logout, a password change, or refresh-token reuse.
	RevokedAt *time.Time
	// RevokedReason says why ("logout", "reuse", "password-changed").
	RevokedReason string
	UserAgent     string
	IP            string
}

// Active reports whether the session may still be used at now.
func (s *Session) Active(now time.Time) bool {
	return s.RevokedAt == nil && now.Before(s.ExpiresAt)
}

// RefreshToken is one opaque refresh token, stored only as its SHA-256 hash.
type RefreshToken struct {
	// Hash is the hex SHA-256 of the token the client holds.
	Hash      string
	SessionID string
	AccountID string
	IssuedAt  time.Time
	ExpiresAt time.Time
	// UsedAt is set when the token is exchanged for a new one; a second use
	// is reuse, and revokes the session.
	UsedAt *time.Time
}

// Store keeps accounts, sessions and refresh tokens.
// Implementations: sqlite.AuthStore, mongo.AuthStore.
type Store interface {
	// CreateAccount inserts a; an email, phone or card number already taken
	// fails with CONFLICT naming the field.
	CreateAccount(ctx context.Context, a *Account) error
	// Account returns an account by ID, or thuvienso.ErrNotFound.
	Account(ctx context.Context, id string) (*Account, error)
	// AccountsByID returns the accounts with these IDs that exist, any order.
	AccountsByID(ctx context.Context, ids []string) ([]*Account, error)
	// AccountByLogin returns the account whose email, phone or card number
	// equals login (already normalised by the caller), or thuvienso.ErrNotFound.
	AccountByLogin(ctx context.Context, login string) (*Account, error)
	// SetPasswordHash replaces an account's password hash.
	SetPasswordHash(ctx context.Context, accountID, hash string, at time.Time) error
	// ReaderIDs returns up to limit IDs of READER accounts whose home
	// library is homeLibraryID (every reader's when it is empty) and whose
	// ID is greater than afterID, in ID order: a list read page by page
	// (library news goes to every reader of a library this way).
	ReaderIDs(ctx context.Context, homeLibraryID, afterID string, limit int) ([]string, error)
	// SetCardNumber replaces an account's card number (when its card is
	// replaced), so that login by card number follows the current card;
	// auth.ErrCardTaken when another account has the number,
	// thuvienso.ErrNotFound when there is no such account.
	SetCardNumber(ctx context.Context, accountID, number string, at time.Time) error

	// CreateSession inserts a new login.
	CreateSession(ctx context.Context, s *Session) error
	// Session returns a session by ID, or thuvienso.ErrNotFound.
	Session(ctx context.Context, id string) (*Session, error)
	// RevokeSession marks a session revoked (idempotent: a revoked session
	// keeps its first revocation time and reason).
	RevokeSession(ctx context.Context, id, reason string, at time.Time) error
	// RevokeAccountSessions revokes every active session of an account
	// except keepID (may be empty).
	RevokeAccountSessions(ctx context.Context, accountID, keepID, reason string, at time.Time) error

	// CreateRefreshToken stores a new refresh token.
	CreateRefreshToken(ctx context.Context, t *RefreshToken) error
	// UseRefreshToken atomically marks the token with this hash used at `at`
	// and returns it. When it was already used it returns the token (with
	// its earlier UsedAt) and ErrRefreshTokenReused, so the caller can revoke
	// the session; unknown hashes return thuvienso.ErrNotFound. Of many
	// concurrent uses of one token exactly one succeeds.
	UseRefreshToken(ctx context.Context, hash string, at time.Time) (*RefreshToken, error)
}
