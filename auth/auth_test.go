package auth_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/library"
	"github.com/bacninh/thuvienso/ratelimit"
	"github.com/bacninh/thuvienso/signing"
	"github.com/bacninh/thuvienso/sqlite"
)

// fixture is an auth service on a fresh embedded store with one library.
type fixture struct {
	svc *auth.Service
	lib *library.Library
	now time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "auth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	set := db.Stores()
	lib := &library.Library{ID: "lib-bn", Code: "BN", Name: "Thư viện tỉnh Bắc Ninh", Type: library.TypeProvincial, PickupPoint: true}
	if err := set.Libraries.CreateLibrary(ctx, lib); err != nil {
		t.Fatal(err)
	}
	keys, err := signing.NewEphemeral()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{lib: lib, now: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)}
	f.svc = &auth.Service{Store: set.Auth, Libraries: &library.Service{Store: set.Libraries}, Keys: keys,
		Limiter: ratelimit.NewMemory(1000), Now: func() time.Time { return f.now }}
	return f
}

func (f *fixture) register(t *testing.T, email string) (*auth.Account, *auth.Tokens) {
	t.Helper()
	acc, tokens, err := f.svc.Register(context.Background(), auth.NewAccount{Name: "Nguyễn Thị Lan", Email: email, Password: "mật-khẩu-dài", HomeLibraryID: f.lib.ID}, auth.Client{IP: "10.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	return acc, tokens
}

func TestLoginAcceptsEmailPhoneOrCardNumber(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	acc, _, err := f.svc.Register(ctx, auth.NewAccount{Name: "Lê Văn Hùng", Email: "hung@example.vn", Phone: "0912 345 678",
		Password: "mật-khẩu-dài", HomeLibraryID: f.lib.ID}, auth.Client{})
	if err != nil {
		t.Fatal(err)
	}
	printed := acc.CardNumber[:4] + " " + acc.CardNumber[4:8] + " " + acc.CardNumber[8:]
	for _, login := range []string{"HUNG@example.vn", "+84 912-345-678", "84912345678", "0912345678", acc.CardNumber, printed} {
		got, _, err := f.svc.Login(ctx, login, "mật-khẩu-dài", auth.Client{})
		if err != nil || got.ID != acc.ID {
			t.Errorf("login %q: %v", login, err)
		}
	}
}

func TestRegistrationRefusesBadInputNamingTheField(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name  string
		in    auth.NewAccount
		field string
	}{
		{"no contact", auth.NewAccount{Name: "A", Password: "mật-khẩu-dài", HomeLibraryID: f.lib.ID}, "input.email"},
		{"bad email", auth.NewAccount{Name: "A", Email: "not-an-email", Password: "mật-khẩu-dài", HomeLibraryID: f.lib.ID}, "input.email"},
		{"bad phone", auth.NewAccount{Name: "A", Phone: "12345", Password: "mật-khẩu-dài", HomeLibraryID: f.lib.ID}, "input.phone"},
		{"short password", auth.NewAccount{Name: "A", Email: "a@example.vn", Password: "ngắn", HomeLibraryID: f.lib.ID}, "input.password"},
		{"unknown library", auth.NewAccount{Name: "A", Email: "a@example.vn", Password: "mật-khẩu-dài", HomeLibraryID: "nowhere"}, "input.homeLibraryId"},
		{"blank name", auth.NewAccount{Name: "  ", Email: "a@example.vn", Password: "mật-khẩu-dài", HomeLibraryID: f.lib.ID}, "input.name"},
	}
	for _, tt := range tests {
		_, _, err := f.svc.Register(context.Background(), tt.in, auth.Client{})
		var e *thuvienso.Error
		if !errors.As(err, &e) || e.Code != thuvienso.CodeBadUserInput || e.Field != tt.field {
			t.Errorf("%s: error %v, want BAD_USER_INPUT on %s", tt.name, err, tt.field)
		}
	}
}

func TestRefreshRotatesAndExpiredAccessTokensAreRefused(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	acc, first := f.register(t, "lan@example.vn")
	if a, err := f.svc.Authenticate(ctx, first.AccessToken); err != nil || a.AccountID != acc.ID || a.Role != auth.RoleReader {
		t.Fatalf("fresh access token: %+v, %v", a, err)
	}
	f.now = f.now.Add(auth.AccessTokenTTL + time.Minute)
	if _, err := f.svc.Authenticate(ctx, first.AccessToken); !errors.Is(err, auth.ErrTokenInvalid) {
		t.Fatalf("expired access token: %v", err)
	}
	_, second, err := f.svc.Refresh(ctx, first.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if second.RefreshToken == first.RefreshToken {
		t.Fatal("refresh did not rotate the refresh token")
	}
	if _, err := f.svc.Authenticate(ctx, second.AccessToken); err != nil {
		t.Fatalf("refreshed access token: %v", err)
	}
	if _, _, err := f.svc.Refresh(ctx, "made-up"); !errors.Is(err, auth.ErrTokenInvalid) {
		t.Fatalf("unknown refresh token: %v", err)
	}
}

func TestChangePasswordEndsOtherLoginsButKeepsThisOne(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, here := f.register(t, "lan@example.vn")
	_, elsewhere, err := f.svc.Login(ctx, "lan@example.vn", "mật-khẩu-dài", auth.Client{})
	if err != nil {
		t.Fatal(err)
	}
	actor, _ := f.svc.Authenticate(ctx, here.AccessToken)
	if err := f.svc.ChangePassword(ctx, actor, "wrong", "mật-khẩu-mới-1"); !errors.Is(err, auth.ErrBadCredentials) {
		t.Fatalf("wrong current password: %v", err)
	}
	if err := f.svc.ChangePassword(ctx, actor, "mật-khẩu-dài", "mật-khẩu-mới-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Authenticate(ctx, here.AccessToken); err != nil {
		t.Errorf("the login that changed the password was ended: %v", err)
	}
	if _, err := f.svc.Authenticate(ctx, elsewhere.AccessToken); !errors.Is(err, auth.ErrSessionEnded) {
		t.Errorf("another login survived a password change: %v", err)
	}
	if _, _, err := f.svc.Login(ctx, "lan@example.vn", "mật-khẩu-mới-1", auth.Client{}); err != nil {
		t.Errorf("login with the new password: %v", err)
	}
}

func TestTokensSignedByAnotherKeyAreRefused(t *testing.T) {
	f := newFixture(t)
	_, tokens := f.register(t, "lan@example.vn")
	foreign, _ := signing.NewEphemeral()
	other := &auth.Service{Store: f.svc.Store, Libraries: f.svc.Libraries, Keys: foreign, Limiter: f.svc.Limiter, Now: f.svc.Now}
	if _, err := other.Authenticate(context.Background(), tokens.AccessToken); !errors.Is(err, auth.ErrTokenInvalid) {
		t.Fatalf("token from a foreign key: %v", err)
	}
}

func TestActorRules(t *testing.T) {
	reader := &auth.Account{ID: "r1", Role: auth.RoleReader, HomeLibraryID: "ts"}
	tests := []struct {
		name  string
		actor auth.Actor
		view  bool
		staff bool
	}{
		{"the reader themself", auth.Actor{AccountID: "r1", Role: auth.RoleReader}, true, false},
		{"another reader", auth.Actor{AccountID: "r2", Role: auth.RoleReader}, false, false},
		{"librarian of the home library", auth.Actor{AccountID: "l1", Role: auth.RoleLibrarian, LibraryID: "ts"}, true, true},
		{"librarian elsewhere", auth.Actor{AccountID: "l2", Role: auth.RoleLibrarian, LibraryID: "qv"}, false, false},
		{"admin", auth.Actor{AccountID: "a1", Role: auth.RoleAdmin}, true, true},
	}
	for _, tt := range tests {
		if got := tt.actor.CanViewAccount(reader); got != tt.view {
			t.Errorf("%s: CanViewAccount = %v", tt.name, got)
		}
		if got := tt.actor.CanActForLibrary("ts"); got != tt.staff {
			t.Errorf("%s: CanActForLibrary = %v", tt.name, got)
		}
	}
}

func TestNormalizePhone(t *testing.T) {
	for in, want := range map[string]string{"0912345678": "+84912345678", "+84 912 345 678": "+84912345678", "(84) 912.345.678": "+84912345678"} {
		if got, err := auth.NormalizePhone("p", in); err != nil || got != want {
			t.Errorf("NormalizePhone(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "12345", "091234567a", "+1 415 555 0100"} {
		if _, err := auth.NormalizePhone("p", bad); err == nil {
			t.Errorf("NormalizePhone(%q) accepted", bad)
		}
	}
}

// A token that was checked before keeps working request after request, and
// stops at once when its login ends: the session is read every time, even
// when the signature check is remembered.
func TestLogoutEndsATokenAlreadyInUse(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, tokens := f.register(t, "lan@example.vn")
	var actor auth.Actor
	for range 3 {
		a, err := f.svc.Authenticate(ctx, tokens.AccessToken)
		if err != nil {
			t.Fatalf("a token in use: %v", err)
		}
		actor = a
	}
	if err := f.svc.Logout(ctx, actor); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Authenticate(ctx, tokens.AccessToken); !errors.Is(err, auth.ErrSessionEnded) {
		t.Fatalf("the token after logout: %v, want the session ended", err)
	}
}
