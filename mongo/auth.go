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
	"github.com/bacninh/thuvienso/auth"
)

// AuthStore implements auth.Store on the "accounts", "sessions" and
// "refreshTokens" collections.
type AuthStore struct {
	accounts, sessions, tokens *mongodrv.Collection
}

var _ auth.Store = (*AuthStore)(nil)

// accountDoc is an account as stored. Empty email, phone and card number
// are left out, so the sparse unique indexes skip them.
type accountDoc struct {
	ID            string        `bson:"_id"`
	Name          string        `bson:"name"`
	Email         string        `bson:"email,omitempty"`
	Phone         string        `bson:"phone,omitempty"`
	CardNumber    string        `bson:"cardNumber,omitempty"`
	PasswordHash  string        `bson:"passwordHash"`
	Role          string        `bson:"role"`
	Category      string        `bson:"category"`
	HomeLibraryID string        `bson:"homeLibraryId"`
	LibraryID     string        `bson:"libraryId"`
	Language      string        `bson:"language"`
	CreatedAt     bson.DateTime `bson:"createdAt"`
	CreatedAtNs   int32         `bson:"createdAtNs,omitempty"`
	UpdatedAt     bson.DateTime `bson:"updatedAt"`
	UpdatedAtNs   int32         `bson:"updatedAtNs,omitempty"`
}

// account converts d back to the domain type.
func (d *accountDoc) account() *auth.Account {
	return &auth.Account{
		ID: d.ID, Name: d.Name, Email: d.Email, Phone: d.Phone, CardNumber: d.CardNumber,
		PasswordHash: d.PasswordHash, Role: auth.Role(d.Role), Category: auth.Category(d.Category),
		HomeLibraryID: d.HomeLibraryID, LibraryID: d.LibraryID, Language: d.Language,
		CreatedAt: fromDate(d.CreatedAt, d.CreatedAtNs),
		UpdatedAt: fromDate(d.UpdatedAt, d.UpdatedAtNs),
	}
}

// sessionDoc is a session as stored; revokedAt is absent until revoked.
type sessionDoc struct {
	ID            string         `bson:"_id"`
	AccountID     string         `bson:"accountId"`
	CreatedAt     bson.DateTime  `bson:"createdAt"`
	CreatedAtNs   int32          `bson:"createdAtNs,omitempty"`
	ExpiresAt     bson.DateTime  `bson:"expiresAt"`
	ExpiresAtNs   int32          `bson:"expiresAtNs,omitempty"`
	RevokedAt     *bson.DateTime `bson:"revokedAt,omitempty"`
	RevokedAtNs   int32          `bson:"revokedAtNs,omitempty"`
	RevokedReason string         `bson:"revokedReason,omitempty"`
	UserAgent     string         `bson:"userAgent"`
	IP            string         `bson:"ip"`
}

// refreshTokenDoc is a refresh token as stored, keyed by its hash; usedAt
// is absent until used.
type refreshTokenDoc struct {
	Hash        string         `bson:"_id"`
	SessionID   string         `bson:"sessionId"`
	AccountID   string         `bson:"accountId"`
	IssuedAt    bson.DateTime  `bson:"issuedAt"`
	IssuedAtNs  int32          `bson:"issuedAtNs,omitempty"`
	ExpiresAt   bson.DateTime  `bson:"expiresAt"`
	ExpiresAtNs int32          `bson:"expiresAtNs,omitempty"`
	UsedAt      *bson.DateTime `bson:"usedAt,omitempty"`
	UsedAtNs    int32          `bson:"usedAtNs,omitempty"`
}

// token converts d back to the domain type.
func (d *refreshTokenDoc) token() *auth.RefreshToken {
	return &auth.RefreshToken{
		Hash: d.Hash, SessionID: d.SessionID, AccountID: d.AccountID,
		IssuedAt:  fromDate(d.IssuedAt, d.IssuedAtNs),
		ExpiresAt: fromDate(d.ExpiresAt, d.ExpiresAtNs),
		UsedAt:    fromDatePtr(d.UsedAt, d.UsedAtNs),
	}
}

// byID is the filter {_id: id}.
func byID(id string) bson.D { return bson.D{{Key: "_id", Value: id}} }

// CreateAccount inserts a, giving it a new ID when it has none. An email,
// phone or card number already taken fails with auth.ErrEmailTaken,
// auth.ErrPhoneTaken or auth.ErrCardTaken; empty ones never collide.
func (s *AuthStore) CreateAccount(ctx context.Context, a *auth.Account) error {
	if a.ID == "" {
		a.ID = newID()
	}
	d := &accountDoc{
		ID: a.ID, Name: a.Name, Email: a.Email, Phone: a.Phone, CardNumber: a.CardNumber,
		PasswordHash: a.PasswordHash, Role: string(a.Role), Category: string(a.Category),
		HomeLibraryID: a.HomeLibraryID, LibraryID: a.LibraryID, Language: a.Language,
	}
	d.CreatedAt, d.CreatedAtNs = toDate(a.CreatedAt)
	d.UpdatedAt, d.UpdatedAtNs = toDate(a.UpdatedAt)
	if _, err := s.accounts.InsertOne(ctx, d); err != nil {
		return fmt.Errorf("creating account: %w", s.accountWriteError(ctx, err, a))
	}
	return nil
}

// accountWriteError maps a duplicate-key error on inserting a to the auth
// error naming the field. MongoDB names the index; FerretDB does not, so
// then the values are looked up (documents are never deleted here, so the
// holder of the value is still there).
func (s *AuthStore) accountWriteError(ctx context.Context, err error, a *auth.Account) error {
	idx, dup := duplicateIndex(err)
	if !dup {
		return err
	}
	switch idx {
	case idxAccountEmail:
		return auth.ErrEmailTaken
	case idxAccountPhone:
		return auth.ErrPhoneTaken
	case idxAccountCard:
		return auth.ErrCardTaken
	case "_id_":
		return err
	}
	for _, f := range []struct {
		field, value string
		taken        error
	}{
		{"email", a.Email, auth.ErrEmailTaken},
		{"phone", a.Phone, auth.ErrPhoneTaken},
		{"cardNumber", a.CardNumber, auth.ErrCardTaken},
	} {
		if f.value == "" {
			continue
		}
		found, lerr := exists(ctx, s.accounts, bson.D{{Key: f.field, Value: f.value}, {Key: "_id", Value: bson.D{{Key: "$ne", Value: a.ID}}}})
		if lerr != nil {
			return errors.Join(err, lerr)
		}
		if found {
			return f.taken
		}
	}
	return err
}

// Account returns the account with this ID, or thuvienso.ErrNotFound.
func (s *AuthStore) Account(ctx context.Context, id string) (*auth.Account, error) {
	var d accountDoc
	err := s.accounts.FindOne(ctx, byID(id)).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		err = thuvienso.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("account %s: %w", id, err)
	}
	return d.account(), nil
}

// AccountsByID returns the accounts with these IDs that exist, in one query.
func (s *AuthStore) AccountsByID(ctx context.Context, ids []string) ([]*auth.Account, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	docs, err := s.findAccounts(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
	if err != nil {
		return nil, fmt.Errorf("accounts by id: %w", err)
	}
	as := make([]*auth.Account, 0, len(docs))
	for i := range docs {
		as = append(as, docs[i].account())
	}
	return as, nil
}

// ReaderIDs implements auth.Store: the _id index read in order from
// afterID, so the pages of one list walk the accounts once.
func (s *AuthStore) ReaderIDs(ctx context.Context, homeLibraryID, afterID string, limit int) ([]string, error) {
	filter := bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: afterID}}}, {Key: "role", Value: string(auth.RoleReader)}}
	if homeLibraryID != "" {
		filter = append(filter, bson.E{Key: "homeLibraryId", Value: homeLibraryID})
	}
	type idDoc struct {
		ID string `bson:"_id"`
	}
	ids, err := findAs(ctx, s.accounts, filter,
		options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(limit)).SetProjection(bson.D{{Key: "_id", Value: 1}}),
		func(d *idDoc) (string, error) { return d.ID, nil })
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
	docs, err := s.findAccounts(ctx, bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "email", Value: login}},
		bson.D{{Key: "phone", Value: login}},
		bson.D{{Key: "cardNumber", Value: login}},
	}}})
	if err != nil {
		return nil, fmt.Errorf("account by login: %w", err)
	}
	var best *accountDoc
	rank := func(d *accountDoc) int {
		switch login {
		case d.Email:
			return 0
		case d.Phone:
			return 1
		}
		return 2
	}
	for i := range docs {
		if best == nil || rank(&docs[i]) < rank(best) {
			best = &docs[i]
		}
	}
	if best == nil {
		return nil, fmt.Errorf("account by login: %w", thuvienso.ErrNotFound)
	}
	return best.account(), nil
}

// findAccounts returns the account documents matching filter.
func (s *AuthStore) findAccounts(ctx context.Context, filter bson.D) ([]accountDoc, error) {
	cur, err := s.accounts.Find(ctx, filter)
	if err != nil {
		return nil, err
	}
	var docs []accountDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	return docs, nil
}

// SetPasswordHash replaces an account's password hash and sets its
// UpdatedAt to at; thuvienso.ErrNotFound when there is no such account.
func (s *AuthStore) SetPasswordHash(ctx context.Context, accountID, hash string, at time.Time) error {
	d, ns := toDate(at)
	res, err := s.accounts.UpdateOne(ctx, byID(accountID), bson.D{{Key: "$set", Value: bson.D{
		{Key: "passwordHash", Value: hash},
		{Key: "updatedAt", Value: d},
		{Key: "updatedAtNs", Value: ns},
	}}})
	if err != nil {
		return fmt.Errorf("setting password of account %s: %w", accountID, err)
	}
	if res.MatchedCount == 0 {
		return fmt.Errorf("setting password of account %s: %w", accountID, thuvienso.ErrNotFound)
	}
	return nil
}

// SetCardNumber replaces an account's card number (removing the field for
// "") and sets its UpdatedAt to at; auth.ErrCardTaken when another account
// has the number, thuvienso.ErrNotFound when there is no such account.
// FerretDB reports a unique violation of an update as an internal error,
// so after any failure the number is looked up.
func (s *AuthStore) SetCardNumber(ctx context.Context, accountID, number string, at time.Time) error {
	d, ns := toDate(at)
	set := bson.D{{Key: "updatedAt", Value: d}, {Key: "updatedAtNs", Value: ns}}
	update := bson.D{{Key: "$set", Value: append(set, bson.E{Key: "cardNumber", Value: number})}}
	if number == "" {
		update = bson.D{{Key: "$set", Value: set}, {Key: "$unset", Value: bson.D{{Key: "cardNumber", Value: ""}}}}
	}
	res, err := s.accounts.UpdateOne(ctx, byID(accountID), update)
	if err != nil {
		if number != "" {
			taken, lerr := exists(ctx, s.accounts, bson.D{{Key: "cardNumber", Value: number}, {Key: "_id", Value: bson.D{{Key: "$ne", Value: accountID}}}})
			if lerr == nil && taken {
				err = auth.ErrCardTaken
			}
		}
		return fmt.Errorf("setting card number of account %s: %w", accountID, err)
	}
	if res.MatchedCount == 0 {
		return fmt.Errorf("setting card number of account %s: %w", accountID, thuvienso.ErrNotFound)
	}
	return nil
}

// CreateSession inserts a new login, giving it a new ID when it has none.
func (s *AuthStore) CreateSession(ctx context.Context, sess *auth.Session) error {
	if sess.ID == "" {
		sess.ID = newID()
	}
	d := &sessionDoc{ID: sess.ID, AccountID: sess.AccountID, RevokedReason: sess.RevokedReason,
		UserAgent: sess.UserAgent, IP: sess.IP}
	d.CreatedAt, d.CreatedAtNs = toDate(sess.CreatedAt)
	d.ExpiresAt, d.ExpiresAtNs = toDate(sess.ExpiresAt)
	d.RevokedAt, d.RevokedAtNs = toDatePtr(sess.RevokedAt)
	if _, err := s.sessions.InsertOne(ctx, d); err != nil {
		return fmt.Errorf("creating session: %w", err)
	}
	return nil
}

// Session returns the session with this ID, or thuvienso.ErrNotFound.
func (s *AuthStore) Session(ctx context.Context, id string) (*auth.Session, error) {
	var d sessionDoc
	err := s.sessions.FindOne(ctx, byID(id)).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		err = thuvienso.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("session %s: %w", id, err)
	}
	return &auth.Session{
		ID: d.ID, AccountID: d.AccountID,
		CreatedAt:     fromDate(d.CreatedAt, d.CreatedAtNs),
		ExpiresAt:     fromDate(d.ExpiresAt, d.ExpiresAtNs),
		RevokedAt:     fromDatePtr(d.RevokedAt, d.RevokedAtNs),
		RevokedReason: d.RevokedReason, UserAgent: d.UserAgent, IP: d.IP,
	}, nil
}

// revokeUpdate is the $set that revokes a session.
func revokeUpdate(reason string, at time.Time) bson.D {
	d, ns := toDate(at)
	return bson.D{{Key: "$set", Value: bson.D{
		{Key: "revokedAt", Value: d},
		{Key: "revokedAtNs", Value: ns},
		{Key: "revokedReason", Value: reason},
	}}}
}

// notRevoked matches sessions whose revokedAt is absent (or null).
var notRevoked = bson.E{Key: "revokedAt", Value: nil}

// RevokeSession marks the session revoked at `at` for reason, in one
// conditional update. A session already revoked keeps its first time and
// reason; an unknown one is thuvienso.ErrNotFound.
func (s *AuthStore) RevokeSession(ctx context.Context, id, reason string, at time.Time) error {
	res, err := s.sessions.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, notRevoked}, revokeUpdate(reason, at))
	if err != nil {
		return fmt.Errorf("revoking session %s: %w", id, err)
	}
	if res.MatchedCount > 0 {
		return nil
	}
	found, err := exists(ctx, s.sessions, byID(id))
	if err != nil {
		return fmt.Errorf("revoking session %s: %w", id, err)
	}
	if !found {
		return fmt.Errorf("revoking session %s: %w", id, thuvienso.ErrNotFound)
	}
	return nil // revoked before: keeps its first revocation
}

// RevokeAccountSessions revokes every session of the account not yet
// revoked, except keepID (which may be empty).
func (s *AuthStore) RevokeAccountSessions(ctx context.Context, accountID, keepID, reason string, at time.Time) error {
	filter := bson.D{{Key: "accountId", Value: accountID}, notRevoked}
	if keepID != "" {
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$ne", Value: keepID}}})
	}
	if _, err := s.sessions.UpdateMany(ctx, filter, revokeUpdate(reason, at)); err != nil {
		return fmt.Errorf("revoking sessions of account %s: %w", accountID, err)
	}
	return nil
}

// CreateRefreshToken stores a new refresh token.
func (s *AuthStore) CreateRefreshToken(ctx context.Context, t *auth.RefreshToken) error {
	d := &refreshTokenDoc{Hash: t.Hash, SessionID: t.SessionID, AccountID: t.AccountID}
	d.IssuedAt, d.IssuedAtNs = toDate(t.IssuedAt)
	d.ExpiresAt, d.ExpiresAtNs = toDate(t.ExpiresAt)
	d.UsedAt, d.UsedAtNs = toDatePtr(t.UsedAt)
	if _, err := s.tokens.InsertOne(ctx, d); err != nil {
		return fmt.Errorf("creating refresh token: %w", err)
	}
	return nil
}

// UseRefreshToken marks the token with this hash used at `at` with one
// FindOneAndUpdate whose filter requires it unused, so of many concurrent
// uses exactly one succeeds. A token already used is returned with
// auth.ErrRefreshTokenReused; an unknown hash is thuvienso.ErrNotFound.
func (s *AuthStore) UseRefreshToken(ctx context.Context, hash string, at time.Time) (*auth.RefreshToken, error) {
	d, ns := toDate(at)
	var doc refreshTokenDoc
	err := s.tokens.FindOneAndUpdate(ctx,
		bson.D{{Key: "_id", Value: hash}, {Key: "usedAt", Value: nil}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "usedAt", Value: d}, {Key: "usedAtNs", Value: ns}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After),
	).Decode(&doc)
	if err == nil {
		return doc.token(), nil
	}
	if !errors.Is(err, mongodrv.ErrNoDocuments) {
		return nil, fmt.Errorf("using refresh token: %w", err)
	}
	// Not updated: either used before or never issued.
	err = s.tokens.FindOne(ctx, byID(hash)).Decode(&doc)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		return nil, fmt.Errorf("using refresh token: %w", thuvienso.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("using refresh token: %w", err)
	}
	return doc.token(), fmt.Errorf("using refresh token of session %s: %w", doc.SessionID, auth.ErrRefreshTokenReused)
}
