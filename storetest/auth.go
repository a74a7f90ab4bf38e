package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/store"
)

// newAccount returns a reader account with every field set.
func newAccount(id, email, phone, card string) *auth.Account {
	return &auth.Account{
		ID:            id,
		Name:          readerName,
		Email:         email,
		Phone:         phone,
		CardNumber:    card,
		PasswordHash:  "$argon2id$v=19$m=65536,t=3,p=2$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNo",
		Role:          auth.RoleReader,
		Category:      auth.CategoryStudent,
		HomeLibraryID: "lib-tuson",
		LibraryID:     "",
		Language:      "vi",
		CreatedAt:     at(0),
		UpdatedAt:     at(time.Millisecond + 7),
	}
}

// wantAccount fails t unless got is want as a store returns it.
func wantAccount(t *testing.T, what string, got, want *auth.Account) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: got nil account", what)
	}
	w := *want
	w.CreatedAt, w.UpdatedAt = w.CreatedAt.UTC(), w.UpdatedAt.UTC()
	wantUTC(t, what, got.CreatedAt, got.UpdatedAt)
	mustEqual(t, what, *got, w)
}

// wantSession fails t unless got is want as a store returns it.
func wantSession(t *testing.T, what string, got, want *auth.Session) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: got nil session", what)
	}
	w := *want
	w.CreatedAt, w.ExpiresAt, w.RevokedAt = w.CreatedAt.UTC(), w.ExpiresAt.UTC(), utcPtr(w.RevokedAt)
	wantUTC(t, what, got.CreatedAt, got.ExpiresAt)
	if got.RevokedAt != nil {
		wantUTC(t, what, *got.RevokedAt)
	}
	mustEqual(t, what, *got, w)
}

// wantToken fails t unless got is want as a store returns it.
func wantToken(t *testing.T, what string, got, want *auth.RefreshToken) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: got nil refresh token", what)
	}
	w := *want
	w.IssuedAt, w.ExpiresAt, w.UsedAt = w.IssuedAt.UTC(), w.ExpiresAt.UTC(), utcPtr(w.UsedAt)
	wantUTC(t, what, got.IssuedAt, got.ExpiresAt)
	if got.UsedAt != nil {
		wantUTC(t, what, *got.UsedAt)
	}
	mustEqual(t, what, *got, w)
}

// newSession returns an active session of account.
func newSession(id, account string) *auth.Session {
	return &auth.Session{
		ID:        id,
		AccountID: account,
		CreatedAt: at(time.Hour),
		ExpiresAt: at(time.Hour + 30*24*time.Hour),
		UserAgent: "Mozilla/5.0 (Android 14; Mobile) ThuVienSo/1.0",
		IP:        "2001:ee0:4f1c::1",
	}
}

// newToken returns an unused refresh token of session.
func newToken(hash, session, account string) *auth.RefreshToken {
	return &auth.RefreshToken{
		Hash:      hash,
		SessionID: session,
		AccountID: account,
		IssuedAt:  at(2 * time.Hour),
		ExpiresAt: at(2*time.Hour + 14*24*time.Hour),
	}
}

var accountTests = []test{
	{"Account/CreateAndGet", func(t *testing.T, s *store.Set) {
		ctx, as := t.Context(), s.Auth
		reader := newAccount("acc-reader", "giang.nth@example.vn", "+84912345678", "BN-2025-000123")
		librarian := newAccount("acc-librarian", "thuthu@tuson.bacninh.gov.vn", "", "")
		librarian.Role, librarian.Category, librarian.LibraryID, librarian.Language =
			auth.RoleLibrarian, auth.CategoryAdult, "lib-tuson", "en"
		phoneOnly := newAccount("acc-phone", "", "+84987654321", "")
		for _, a := range []*auth.Account{reader, librarian, phoneOnly} {
			must(t, "CreateAccount "+a.ID, as.CreateAccount(ctx, a))
		}
		for _, want := range []*auth.Account{reader, librarian, phoneOnly} {
			got, err := as.Account(ctx, want.ID)
			must(t, "Account "+want.ID, err)
			wantAccount(t, "Account "+want.ID, got, want)
		}
		_, err := as.Account(ctx, "no-such-account")
		wantErr(t, "Account(unknown)", err, thuvienso.ErrNotFound)
	}},
	{"Account/CreateAssignsMissingID", func(t *testing.T, s *store.Set) {
		ctx := t.Context()
		a := newAccount("", "moi@example.vn", "", "")
		must(t, "CreateAccount", s.Auth.CreateAccount(ctx, a))
		if a.ID == "" {
			t.Fatal("CreateAccount left the ID empty")
		}
		got, err := s.Auth.Account(ctx, a.ID)
		must(t, "Account", err)
		wantAccount(t, "Account", got, a)
	}},
	{"Account/UniqueConflicts", func(t *testing.T, s *store.Set) {
		ctx, as := t.Context(), s.Auth
		first := newAccount("acc-first", "a@example.vn", "+84900000001", "BN-0001")
		must(t, "CreateAccount", as.CreateAccount(ctx, first))
		cases := []struct {
			name               string
			email, phone, card string
			want               error
		}{
			{"email", "a@example.vn", "+84900000002", "BN-0002", auth.ErrEmailTaken},
			{"phone", "b@example.vn", "+84900000001", "BN-0003", auth.ErrPhoneTaken},
			{"card", "c@example.vn", "+84900000003", "BN-0001", auth.ErrCardTaken},
			{"email without phone or card", "a@example.vn", "", "", auth.ErrEmailTaken},
			{"phone without email or card", "", "+84900000001", "", auth.ErrPhoneTaken},
			{"card without email or phone", "", "", "BN-0001", auth.ErrCardTaken},
		}
		for i, c := range cases {
			err := as.CreateAccount(ctx, newAccount(idf("acc-dup", i), c.email, c.phone, c.card))
			wantErr(t, "CreateAccount with a taken "+c.name, err, c.want)
			wantCode(t, "CreateAccount with a taken "+c.name, err, thuvienso.CodeConflict)
			_, err = as.Account(ctx, idf("acc-dup", i))
			wantErr(t, "the rejected account "+c.name, err, thuvienso.ErrNotFound)
		}
		got, err := as.Account(ctx, first.ID)
		must(t, "Account", err)
		wantAccount(t, "the first account", got, first)
	}},
	{"Account/AbsentEmailPhoneCardDoNotCollide", func(t *testing.T, s *store.Set) {
		ctx, as := t.Context(), s.Auth
		accounts := []*auth.Account{
			newAccount("acc-0", "", "", ""),
			newAccount("acc-1", "", "", ""),
			newAccount("acc-2", "x@example.vn", "", ""),
			newAccount("acc-3", "y@example.vn", "", ""),
			newAccount("acc-4", "", "+84911111111", ""),
			newAccount("acc-5", "", "+84922222222", ""),
			newAccount("acc-6", "", "", "BN-0006"),
			newAccount("acc-7", "", "", "BN-0007"),
		}
		for _, a := range accounts {
			must(t, "CreateAccount "+a.ID, as.CreateAccount(ctx, a))
		}
		for _, want := range accounts {
			got, err := as.Account(ctx, want.ID)
			must(t, "Account "+want.ID, err)
			wantAccount(t, "Account "+want.ID, got, want)
		}
		_, err := as.AccountByLogin(ctx, "")
		wantErr(t, `AccountByLogin("")`, err, thuvienso.ErrNotFound)
	}},
	{"Account/ByLogin", func(t *testing.T, s *store.Set) {
		ctx, as := t.Context(), s.Auth
		a := newAccount("acc-a", "lan@example.vn", "+84900000001", "BN-0001")
		b := newAccount("acc-b", "", "+84900000002", "")
		c := newAccount("acc-c", "", "", "BN-0003")
		for _, acc := range []*auth.Account{a, b, c} {
			must(t, "CreateAccount "+acc.ID, as.CreateAccount(ctx, acc))
		}
		cases := []struct {
			login string
			want  *auth.Account
		}{
			{"lan@example.vn", a}, {"+84900000001", a}, {"BN-0001", a},
			{"+84900000002", b}, {"BN-0003", c},
			{"LAN@example.vn", nil}, {"+8490000000", nil}, {"BN-0002", nil}, {"nobody@example.vn", nil},
		}
		for _, cs := range cases {
			got, err := as.AccountByLogin(ctx, cs.login)
			if cs.want == nil {
				wantErr(t, "AccountByLogin "+cs.login, err, thuvienso.ErrNotFound)
				continue
			}
			must(t, "AccountByLogin "+cs.login, err)
			wantAccount(t, "AccountByLogin "+cs.login, got, cs.want)
		}
	}},
	{"Account/ByIDs", func(t *testing.T, s *store.Set) {
		ctx, as := t.Context(), s.Auth
		for i := range 4 {
			must(t, "CreateAccount", as.CreateAccount(ctx, newAccount(idf("acc", i), "", "", "")))
		}
		cases := []struct {
			name string
			ids  []string
			want []string
		}{
			{"none", nil, nil},
			{"one", []string{"acc-002"}, []string{"acc-002"}},
			{"some and missing", []string{"acc-003", "nope", "acc-000"}, []string{"acc-000", "acc-003"}},
			{"only missing", []string{"nope"}, nil},
		}
		for _, c := range cases {
			got, err := as.AccountsByID(ctx, c.ids)
			must(t, "AccountsByID "+c.name, err)
			var ids []string
			for _, a := range got {
				ids = append(ids, a.ID)
				wantAccount(t, "AccountsByID "+c.name, a, newAccount(a.ID, "", "", ""))
			}
			slices.Sort(ids)
			mustEqual(t, "AccountsByID "+c.name, ids, c.want)
		}
	}},
	{"Account/ReaderIDsPageThroughTheReadersOfALibrary", func(t *testing.T, s *store.Set) {
		ctx := t.Context()
		for i, a := range []struct {
			id, home string
			role     auth.Role
		}{
			{"acc-05", "lib-tuson", auth.RoleReader}, {"acc-01", "lib-tuson", auth.RoleReader},
			{"acc-03", "lib-quevo", auth.RoleReader}, {"acc-04", "lib-tuson", auth.RoleLibrarian},
			{"acc-02", "lib-tuson", auth.RoleReader}, {"acc-06", "lib-tuson", auth.RoleAdmin},
		} {
			acc := newAccount(a.id, fmt.Sprintf("r%d@example.vn", i), "", "")
			acc.HomeLibraryID, acc.Role = a.home, a.role
			must(t, "CreateAccount "+a.id, s.Auth.CreateAccount(ctx, acc))
		}
		pages := func(home string) [][]string {
			var out [][]string
			after := ""
			for range 10 {
				ids, err := s.Auth.ReaderIDs(ctx, home, after, 2)
				must(t, "ReaderIDs", err)
				if len(ids) == 0 {
					break
				}
				out = append(out, ids)
				after = ids[len(ids)-1]
			}
			return out
		}
		mustEqual(t, "readers of Từ Sơn, two a page", pages("lib-tuson"), [][]string{{"acc-01", "acc-02"}, {"acc-05"}})
		mustEqual(t, "every reader, two a page", pages(""), [][]string{{"acc-01", "acc-02"}, {"acc-03", "acc-05"}})
		ids, err := s.Auth.ReaderIDs(ctx, "lib-none", "", 10)
		must(t, "ReaderIDs of a library without readers", err)
		mustEqual(t, "readers of a library without readers", len(ids), 0)
	}},
	{"Account/SetPasswordHash", func(t *testing.T, s *store.Set) {
		ctx, as := t.Context(), s.Auth
		a := newAccount("acc-1", "p@example.vn", "", "")
		other := newAccount("acc-2", "q@example.vn", "", "")
		must(t, "CreateAccount", as.CreateAccount(ctx, a))
		must(t, "CreateAccount", as.CreateAccount(ctx, other))
		when := at(72*time.Hour + 123456789)
		must(t, "SetPasswordHash", as.SetPasswordHash(ctx, a.ID, "$argon2id$new", when))
		want := *a
		want.PasswordHash, want.UpdatedAt = "$argon2id$new", when
		got, err := as.Account(ctx, a.ID)
		must(t, "Account", err)
		wantAccount(t, "after SetPasswordHash", got, &want)
		got, err = as.Account(ctx, other.ID)
		must(t, "Account", err)
		wantAccount(t, "another account", got, other)
		wantErr(t, "SetPasswordHash(unknown)", as.SetPasswordHash(ctx, "nope", "h", when), thuvienso.ErrNotFound)
	}},
	{"Account/SetCardNumber", func(t *testing.T, s *store.Set) {
		ctx, as := t.Context(), s.Auth
		a := newAccount("acc-1", "p@example.vn", "", "2700000000011")
		other := newAccount("acc-2", "q@example.vn", "", "2700000000022")
		must(t, "CreateAccount", as.CreateAccount(ctx, a))
		must(t, "CreateAccount", as.CreateAccount(ctx, other))
		when := at(72*time.Hour + 123456789)
		must(t, "SetCardNumber", as.SetCardNumber(ctx, a.ID, "2700000000033", when))
		want := *a
		want.CardNumber, want.UpdatedAt = "2700000000033", when
		got, err := as.Account(ctx, a.ID)
		must(t, "Account", err)
		wantAccount(t, "after SetCardNumber", got, &want)
		// Login follows the new number; the old one no longer logs in.
		got, err = as.AccountByLogin(ctx, "2700000000033")
		must(t, "AccountByLogin(new number)", err)
		mustEqual(t, "AccountByLogin(new number)", got.ID, a.ID)
		_, err = as.AccountByLogin(ctx, "2700000000011")
		wantErr(t, "AccountByLogin(old number)", err, thuvienso.ErrNotFound)
		// The old number is free again; another account's number is not.
		wantErr(t, "SetCardNumber(taken)", as.SetCardNumber(ctx, a.ID, "2700000000022", when), auth.ErrCardTaken)
		got, err = as.Account(ctx, a.ID)
		must(t, "Account", err)
		wantAccount(t, "after a refused SetCardNumber", got, &want)
		got, err = as.Account(ctx, other.ID)
		must(t, "Account", err)
		wantAccount(t, "another account", got, other)
		wantErr(t, "SetCardNumber(unknown)", as.SetCardNumber(ctx, "nope", "2700000000044", when), thuvienso.ErrNotFound)
		third := newAccount("acc-3", "r@example.vn", "", "2700000000011")
		must(t, "CreateAccount with the released number", as.CreateAccount(ctx, third))
	}},
}

var sessionTests = []test{
	{"Session/CreateAndGet", func(t *testing.T, s *store.Set) {
		ctx, as := t.Context(), s.Auth
		active := newSession("sess-1", "acc-1")
		revoked := newSession("sess-2", "acc-1")
		revoked.RevokedAt, revoked.RevokedReason = ptr(at(3*time.Hour)), "logout"
		bare := &auth.Session{ID: "sess-3", AccountID: "acc-2", CreatedAt: at(0), ExpiresAt: at(time.Hour)}
		for _, sess := range []*auth.Session{active, revoked, bare} {
			must(t, "CreateSession "+sess.ID, as.CreateSession(ctx, sess))
		}
		for _, want := range []*auth.Session{active, revoked, bare} {
			got, err := as.Session(ctx, want.ID)
			must(t, "Session "+want.ID, err)
			wantSession(t, "Session "+want.ID, got, want)
		}
		_, err := as.Session(ctx, "no-such-session")
		wantErr(t, "Session(unknown)", err, thuvienso.ErrNotFound)
	}},
	{"Session/RevokeKeepsFirstReason", func(t *testing.T, s *store.Set) {
		ctx, as := t.Context(), s.Auth
		sess := newSession("sess-1", "acc-1")
		must(t, "CreateSession", as.CreateSession(ctx, sess))
		must(t, "RevokeSession", as.RevokeSession(ctx, sess.ID, "logout", at(5*time.Hour)))
		want := *sess
		want.RevokedAt, want.RevokedReason = ptr(at(5*time.Hour)), "logout"
		got, err := as.Session(ctx, sess.ID)
		must(t, "Session", err)
		wantSession(t, "revoked session", got, &want)
		if got.Active(at(5 * time.Hour)) {
			t.Error("a revoked session is still Active")
		}
		must(t, "RevokeSession again", as.RevokeSession(ctx, sess.ID, "reuse", at(6*time.Hour)))
		got, err = as.Session(ctx, sess.ID)
		must(t, "Session", err)
		wantSession(t, "revoked twice", got, &want)
		wantErr(t, "RevokeSession(unknown)", as.RevokeSession(ctx, "nope", "logout", at(0)), thuvienso.ErrNotFound)
	}},
	{"Session/RevokeAccountSessions", func(t *testing.T, s *store.Set) {
		ctx, as := t.Context(), s.Auth
		s1, s2, s3 := newSession("s1", "acc-a"), newSession("s2", "acc-a"), newSession("s3", "acc-a")
		s4, s5 := newSession("s4", "acc-a"), newSession("s5", "acc-b")
		s3.RevokedAt, s3.RevokedReason = ptr(at(time.Minute)), "logout"
		for _, sess := range []*auth.Session{s1, s2, s3, s4, s5} {
			must(t, "CreateSession "+sess.ID, as.CreateSession(ctx, sess))
		}
		when := at(10 * time.Hour)
		must(t, "RevokeAccountSessions", as.RevokeAccountSessions(ctx, "acc-a", "s1", "password-changed", when))
		revokedNow := func(sess *auth.Session) *auth.Session {
			c := *sess
			c.RevokedAt, c.RevokedReason = ptr(when), "password-changed"
			return &c
		}
		for _, want := range []*auth.Session{s1, revokedNow(s2), s3, revokedNow(s4), s5} {
			got, err := as.Session(ctx, want.ID)
			must(t, "Session "+want.ID, err)
			wantSession(t, "after RevokeAccountSessions: "+want.ID, got, want)
		}
		// With no session kept, the kept one goes too; the others keep their first revocation.
		later := at(11 * time.Hour)
		must(t, "RevokeAccountSessions (keep none)", as.RevokeAccountSessions(ctx, "acc-a", "", "reuse", later))
		got, err := as.Session(ctx, "s1")
		must(t, "Session s1", err)
		want := *s1
		want.RevokedAt, want.RevokedReason = ptr(later), "reuse"
		wantSession(t, "s1 after revoking all", got, &want)
		got, err = as.Session(ctx, "s2")
		must(t, "Session s2", err)
		wantSession(t, "s2 after revoking all", got, revokedNow(s2))
		must(t, "RevokeAccountSessions (no sessions)", as.RevokeAccountSessions(ctx, "acc-none", "", "reuse", later))
	}},
}

var refreshTokenTests = []test{
	{"RefreshToken/UseOnceThenReused", func(t *testing.T, s *store.Set) {
		ctx, as := t.Context(), s.Auth
		tok := newToken("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "sess-1", "acc-1")
		other := newToken("60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752", "sess-1", "acc-1")
		must(t, "CreateRefreshToken", as.CreateRefreshToken(ctx, tok))
		must(t, "CreateRefreshToken", as.CreateRefreshToken(ctx, other))

		first := at(3*time.Hour + 1)
		got, err := as.UseRefreshToken(ctx, tok.Hash, first)
		must(t, "UseRefreshToken", err)
		want := *tok
		want.UsedAt = ptr(first)
		wantToken(t, "used token", got, &want)

		got, err = as.UseRefreshToken(ctx, tok.Hash, at(4*time.Hour))
		wantErr(t, "UseRefreshToken again", err, auth.ErrRefreshTokenReused)
		wantCode(t, "UseRefreshToken again", err, thuvienso.CodeUnauthenticated)
		wantToken(t, "reused token (keeps the first use)", got, &want)

		// Using one token leaves the other of the same session alone.
		got, err = as.UseRefreshToken(ctx, other.Hash, at(5*time.Hour))
		must(t, "UseRefreshToken (other)", err)
		wantOther := *other
		wantOther.UsedAt = ptr(at(5 * time.Hour))
		wantToken(t, "other token", got, &wantOther)

		_, err = as.UseRefreshToken(ctx, "0000000000000000000000000000000000000000000000000000000000000000", at(0))
		wantErr(t, "UseRefreshToken(unknown)", err, thuvienso.ErrNotFound)
	}},
}
