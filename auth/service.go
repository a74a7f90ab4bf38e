package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/card"
	"github.com/bacninh/thuvienso/ratelimit"
	"github.com/bacninh/thuvienso/vietnamese"
)

// Token lifetimes.
const (
	AccessTokenTTL  = 15 * time.Minute
	RefreshTokenTTL = 30 * 24 * time.Hour
	// SessionTTL bounds a login however often it is refreshed.
	SessionTTL = 180 * 24 * time.Hour
)

// Failed-login limits: per account a handful, per IP many more because a
// school's whole computer room shares one address.
var (
	LoginLimitPerAccount = ratelimit.Limit{Burst: 5, Period: 15 * time.Minute}
	LoginLimitPerIP      = ratelimit.Limit{Burst: 50, Period: 15 * time.Minute}
)

const (
	tokenIssuer   = "thuvienso"
	tokenAudience = "thuvienso-api"
)

// Libraries is what auth needs to know about libraries: that a home or
// staff library exists. library.Service provides it.
type Libraries interface {
	LibraryExists(ctx context.Context, id string) (bool, error)
}

// Service is the auth domain's behaviour: registration, login, token
// refresh and rotation, logout, password change and request authentication.
type Service struct {
	Store     Store
	Libraries Libraries
	Keys      TokenKeys
	// Limiter throttles failed logins.
	Limiter ratelimit.Limiter
	Logger  *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	verified verifiedTokens
}

// tokenLeeway is the clock skew between instances an access token's
// expiry allows.
const tokenLeeway = 30 * time.Second

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Tokens is what a successful login or refresh returns to the client.
type Tokens struct {
	AccessToken           string
	AccessTokenExpiresAt  time.Time
	RefreshToken          string
	RefreshTokenExpiresAt time.Time
}

// Client describes where a login comes from, for rate limits and the
// session list.
type Client struct {
	IP        string
	UserAgent string
}

// NewAccount is what creating an account needs.
type NewAccount struct {
	Name          string
	Email         string
	Phone         string
	Password      string
	HomeLibraryID string
	Category      Category
	Language      string
	Role          Role
	// LibraryID binds a librarian to their library.
	LibraryID string
	// CardNumber is assigned when empty.
	CardNumber string
	// PasswordHash, when set, is stored instead of hashing Password: for
	// seeding many accounts that share one password, where hashing each
	// would cost seconds. It must come from HashPassword.
	PasswordHash string
}

// Register creates a reader account from the public registration form and
// logs it in.
func (s *Service) Register(ctx context.Context, in NewAccount, client Client) (*Account, *Tokens, error) {
	in.Role, in.LibraryID = RoleReader, ""
	if in.Email == "" && in.Phone == "" {
		return nil, nil, thuvienso.Invalid("input.email", "give an email address or a phone number",
			"Cần nhập email hoặc số điện thoại")
	}
	acc, err := s.CreateAccount(ctx, in)
	if err != nil {
		return nil, nil, fmt.Errorf("register: %w", err)
	}
	tokens, err := s.startSession(ctx, acc, client)
	if err != nil {
		return nil, nil, fmt.Errorf("register: %w", err)
	}
	return acc, tokens, nil
}

// CreateAccount validates and stores an account of any role. Staff accounts
// are created by administrators and the demo seed, never by registration.
func (s *Service) CreateAccount(ctx context.Context, in NewAccount) (*Account, error) {
	acc := &Account{
		Name:          vietnamese.Clean(in.Name),
		Role:          in.Role,
		Category:      in.Category,
		HomeLibraryID: in.HomeLibraryID,
		LibraryID:     in.LibraryID,
		Language:      in.Language,
		CardNumber:    in.CardNumber,
	}
	if acc.Name == "" || utf8.RuneCountInString(acc.Name) > 200 {
		return nil, thuvienso.Invalid("input.name", "give a name of at most 200 characters", "Cần nhập họ tên (tối đa 200 ký tự)")
	}
	var err error
	if in.Email != "" {
		if acc.Email, err = NormalizeEmail("input.email", in.Email); err != nil {
			return nil, err
		}
	}
	if in.Phone != "" {
		if acc.Phone, err = NormalizePhone("input.phone", in.Phone); err != nil {
			return nil, err
		}
	}
	if in.PasswordHash == "" {
		if err := ValidatePassword("input.password", in.Password); err != nil {
			return nil, err
		}
	}
	if acc.Category == "" {
		acc.Category = CategoryAdult
	}
	if !acc.Category.Valid() {
		return nil, thuvienso.Invalid("input.category", "unknown reader category", "Loại bạn đọc không hợp lệ")
	}
	switch acc.Language {
	case "":
		acc.Language = "vi"
	case "vi", "en":
	default:
		return nil, thuvienso.Invalid("input.language", "the language must be vi or en", "Ngôn ngữ phải là vi hoặc en")
	}
	switch acc.Role {
	case RoleReader, RoleAdmin:
	case RoleLibrarian:
		if ok, err := s.Libraries.LibraryExists(ctx, acc.LibraryID); err != nil || !ok {
			return nil, thuvienso.Invalid("input.libraryId", "a librarian needs an existing library", "Thủ thư cần thuộc một thư viện có thật")
		}
	default:
		return nil, thuvienso.Invalid("input.role", "unknown role", "Vai trò không hợp lệ")
	}
	ok, err := s.Libraries.LibraryExists(ctx, acc.HomeLibraryID)
	if err != nil {
		return nil, fmt.Errorf("check home library: %w", err)
	}
	if !ok {
		return nil, thuvienso.Invalid("input.homeLibraryId", "choose your home library from the list", "Hãy chọn thư viện đăng ký từ danh sách")
	}
	acc.PasswordHash = in.PasswordHash
	if acc.PasswordHash == "" {
		if acc.PasswordHash, err = HashPassword(in.Password); err != nil {
			return nil, err
		}
	}
	acc.ID = uuid.Must(uuid.NewV7()).String()
	acc.CreatedAt = s.now()
	acc.UpdatedAt = acc.CreatedAt
	// A fresh random card number collides with an existing one about once
	// in ten billion; try again rather than fail the registration.
	for attempt := 0; ; attempt++ {
		if in.CardNumber == "" {
			if acc.CardNumber, err = card.NewNumber(); err != nil {
				return nil, err
			}
		}
		err = s.Store.CreateAccount(ctx, acc)
		if errors.Is(err, ErrCardTaken) && in.CardNumber == "" && attempt < 3 {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("create account: %w", err)
		}
		return acc, nil
	}
}

// Login checks a login (email, phone or card number) and password and
// starts a session. Failed attempts are limited per account and per IP.
func (s *Service) Login(ctx context.Context, login, password string, client Client) (*Account, *Tokens, error) {
	key := NormalizeLogin(login)
	accountKey, ipKey := "login:acct:"+key, "login:ip:"+client.IP
	if err := s.checkLimit(ctx, accountKey, LoginLimitPerAccount); err != nil {
		return nil, nil, err
	}
	if client.IP != "" {
		if err := s.checkLimit(ctx, ipKey, LoginLimitPerIP); err != nil {
			return nil, nil, err
		}
	}
	var acc *Account
	var err error
	if key != "" && len(password) <= 4*MaxPasswordLength {
		acc, err = s.Store.AccountByLogin(ctx, key)
		if err != nil && !errors.Is(err, thuvienso.ErrNotFound) {
			return nil, nil, fmt.Errorf("login: %w", err)
		}
	}
	if acc == nil {
		CheckPassword(password, dummyHash)
	}
	if acc == nil || !CheckPassword(password, acc.PasswordHash) {
		s.recordFailure(ctx, accountKey, LoginLimitPerAccount)
		if client.IP != "" {
			s.recordFailure(ctx, ipKey, LoginLimitPerIP)
		}
		return nil, nil, ErrBadCredentials
	}
	if err := s.Limiter.Reset(ctx, accountKey); err != nil {
		s.logger().Warn("reset login limit", "err", err)
	}
	tokens, err := s.startSession(ctx, acc, client)
	if err != nil {
		return nil, nil, fmt.Errorf("login: %w", err)
	}
	return acc, tokens, nil
}

// checkLimit refuses a login attempt when its key has failed too often. A
// limiter failure is logged and the attempt allowed: the limiter falls back
// to memory on its own, and an outage must not lock every reader out.
func (s *Service) checkLimit(ctx context.Context, key string, l ratelimit.Limit) error {
	d, err := s.Limiter.Check(ctx, key, l)
	if err != nil {
		s.logger().Warn("login rate limit unavailable", "err", err)
		return nil
	}
	if !d.Allowed {
		secs := int(d.RetryAfter.Round(time.Second) / time.Second)
		if secs < 1 {
			secs = 1
		}
		return &thuvienso.Error{Code: thuvienso.CodeRateLimited, RetryAfterSeconds: secs,
			EN: fmt.Sprintf("too many failed logins; try again in %d seconds", secs),
			VI: fmt.Sprintf("Đăng nhập sai quá nhiều lần; vui lòng thử lại sau %d giây", secs)}
	}
	return nil
}

func (s *Service) recordFailure(ctx context.Context, key string, l ratelimit.Limit) {
	if _, err := s.Limiter.Allow(ctx, key, l); err != nil {
		s.logger().Warn("record failed login", "err", err)
	}
}

func (s *Service) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// startSession creates a session for acc and issues its first token pair.
func (s *Service) startSession(ctx context.Context, acc *Account, client Client) (*Tokens, error) {
	now := s.now()
	sess := &Session{
		ID:        uuid.Must(uuid.NewV7()).String(),
		AccountID: acc.ID,
		CreatedAt: now,
		ExpiresAt: now.Add(SessionTTL),
		UserAgent: truncate(client.UserAgent, 256),
		IP:        client.IP,
	}
	if err := s.Store.CreateSession(ctx, sess); err != nil {
		return nil, fmt.Errorf("start session: %w", err)
	}
	return s.issue(ctx, acc, sess.ID, now)
}

// issue signs an access token and stores a new refresh token for a session.
func (s *Service) issue(ctx context.Context, acc *Account, sessionID string, now time.Time) (*Tokens, error) {
	access, exp, err := s.signAccessToken(acc, sessionID, now)
	if err != nil {
		return nil, err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("refresh token: %w", err)
	}
	refresh := base64.RawURLEncoding.EncodeToString(raw)
	rt := &RefreshToken{Hash: hashToken(refresh), SessionID: sessionID, AccountID: acc.ID, IssuedAt: now, ExpiresAt: now.Add(RefreshTokenTTL)}
	if err := s.Store.CreateRefreshToken(ctx, rt); err != nil {
		return nil, fmt.Errorf("store refresh token: %w", err)
	}
	return &Tokens{AccessToken: access, AccessTokenExpiresAt: exp, RefreshToken: refresh, RefreshTokenExpiresAt: rt.ExpiresAt}, nil
}

// hashToken is how refresh tokens are stored: a leaked database holds no
// usable token. SHA-256 suffices because the token is 256 random bits.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// accessClaims are the claims of an access token.
type accessClaims struct {
	jwt.RegisteredClaims
	SessionID string `json:"sid"`
	Role      Role   `json:"role"`
	LibraryID string `json:"lib,omitempty"`
}

func (s *Service) signAccessToken(acc *Account, sessionID string, now time.Time) (string, time.Time, error) {
	exp := now.Add(AccessTokenTTL)
	tok, err := s.Keys.Sign(&accessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: tokenIssuer, Audience: jwt.ClaimStrings{tokenAudience}, Subject: acc.ID,
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(exp),
		},
		SessionID: sessionID, Role: acc.Role, LibraryID: acc.LibraryID,
	})
	return tok, exp, err
}

// Refresh exchanges a refresh token for a new pair. A refresh token is good
// once: presenting it again revokes the whole login, because only a thief
// or a replaying attacker would hold a used token.
func (s *Service) Refresh(ctx context.Context, refreshToken string) (*Account, *Tokens, error) {
	now := s.now()
	rt, err := s.Store.UseRefreshToken(ctx, hashToken(strings.TrimSpace(refreshToken)), now)
	switch {
	case errors.Is(err, ErrRefreshTokenReused):
		if rerr := s.Store.RevokeSession(ctx, rt.SessionID, "reuse", now); rerr != nil {
			return nil, nil, fmt.Errorf("refresh: revoke reused login: %w", rerr)
		}
		s.logger().Warn("refresh token reused; login revoked", "account", rt.AccountID, "session", rt.SessionID)
		return nil, nil, ErrRefreshTokenReused
	case errors.Is(err, thuvienso.ErrNotFound):
		return nil, nil, ErrTokenInvalid
	case err != nil:
		return nil, nil, fmt.Errorf("refresh: %w", err)
	}
	if !now.Before(rt.ExpiresAt) {
		return nil, nil, ErrSessionEnded
	}
	sess, err := s.Store.Session(ctx, rt.SessionID)
	if err != nil {
		return nil, nil, fmt.Errorf("refresh: %w", err)
	}
	if !sess.Active(now) {
		return nil, nil, ErrSessionEnded
	}
	acc, err := s.Store.Account(ctx, rt.AccountID)
	if err != nil {
		return nil, nil, fmt.Errorf("refresh: %w", err)
	}
	tokens, err := s.issue(ctx, acc, sess.ID, now)
	if err != nil {
		return nil, nil, err
	}
	return acc, tokens, nil
}

// Authenticate verifies an access token and that its login is still
// active, and returns the actor. Checking the session on every request is
// one indexed read, and makes logout and reuse revocation immediate.
func (s *Service) Authenticate(ctx context.Context, accessToken string) (Actor, error) {
	now := s.now()
	c, ok := s.verified.get(accessToken, now)
	if !ok {
		err := s.Keys.Verify(accessToken, &c, jwt.WithIssuer(tokenIssuer), jwt.WithAudience(tokenAudience),
			jwt.WithTimeFunc(s.now), jwt.WithLeeway(tokenLeeway))
		if err != nil || c.ExpiresAt == nil {
			return Actor{}, ErrTokenInvalid
		}
		s.verified.put(accessToken, c, now, c.ExpiresAt.Add(tokenLeeway))
	}
	sess, err := s.Store.Session(ctx, c.SessionID)
	if errors.Is(err, thuvienso.ErrNotFound) {
		return Actor{}, ErrSessionEnded
	}
	if err != nil {
		return Actor{}, fmt.Errorf("authenticate: %w", err)
	}
	if !sess.Active(s.now()) || sess.AccountID != c.Subject {
		return Actor{}, ErrSessionEnded
	}
	a := Actor{AccountID: c.Subject, SessionID: c.SessionID, Role: c.Role, LibraryID: c.LibraryID}
	if c.ExpiresAt != nil {
		a.ExpiresAt = c.ExpiresAt.Time
	}
	return a, nil
}

// Logout ends the actor's current login; its tokens stop working at once.
func (s *Service) Logout(ctx context.Context, a Actor) error {
	if err := s.Store.RevokeSession(ctx, a.SessionID, "logout", s.now()); err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	return nil
}

// ChangePassword replaces the actor's password after checking the current
// one, and ends every other login of the account.
func (s *Service) ChangePassword(ctx context.Context, a Actor, current, next string) error {
	acc, err := s.Store.Account(ctx, a.AccountID)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	if !CheckPassword(current, acc.PasswordHash) {
		return ErrBadCredentials.WithField("input.currentPassword")
	}
	if err := ValidatePassword("input.newPassword", next); err != nil {
		return err
	}
	hash, err := HashPassword(next)
	if err != nil {
		return err
	}
	now := s.now()
	if err := s.Store.SetPasswordHash(ctx, acc.ID, hash, now); err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	if err := s.Store.RevokeAccountSessions(ctx, acc.ID, a.SessionID, "password-changed", now); err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	return nil
}

// Account returns the account with this id if the actor may see it.
func (s *Service) Account(ctx context.Context, a Actor, id string) (*Account, error) {
	// A reader may only ever see their own account; answering FORBIDDEN
	// before the lookup does not reveal which ids exist.
	if a.Role == RoleReader && id != a.AccountID {
		return nil, thuvienso.ErrForbidden
	}
	acc, err := s.Store.Account(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("account: %w", err)
	}
	if !a.CanViewAccount(acc) {
		return nil, thuvienso.ErrForbidden
	}
	return acc, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// TokenKeys signs and verifies access tokens: a signing.KeySet, or a
// signing.Ring that follows key rotations made by other processes.
type TokenKeys interface {
	Sign(claims jwt.Claims) (string, error)
	Verify(token string, claims jwt.Claims, opts ...jwt.ParserOption) error
}
