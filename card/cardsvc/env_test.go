package cardsvc_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/card"
	"github.com/bacninh/thuvienso/card/cardsvc"
	"github.com/bacninh/thuvienso/library"
	"github.com/bacninh/thuvienso/lock"
	"github.com/bacninh/thuvienso/nonce"
	"github.com/bacninh/thuvienso/ratelimit"
	"github.com/bacninh/thuvienso/signing"
	"github.com/bacninh/thuvienso/sqlite"
	"github.com/bacninh/thuvienso/store"
)

// password is every test account's password; its hash is computed once.
const password = "mật-khẩu-của-bé"

var passwordHash = sync.OnceValue(func() string {
	h, err := auth.HashPassword(password)
	if err != nil {
		panic(err)
	}
	return h
})

// env is a card service on a fresh embedded store, with three libraries
// (the Từ Sơn district library, a secondary school, the Quế Võ library),
// a clock the test sets, and the card keys in a temporary folder.
type env struct {
	t       testing.TB
	ctx     context.Context
	set     *store.Set
	auth    *auth.Service
	svc     *cardsvc.Service
	keysDir string
	clock   atomic.Int64 // unix nanoseconds

	tuSon, school, queVo *library.Library
	admin                auth.Actor
}

// start is the default time of a test: a weekday morning in November, in
// the middle of a school year.
var start = time.Date(2026, time.November, 25, 9, 0, 0, 0, thuvienso.Zone)

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := t.Context()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "cards.db"))
	if err != nil {
		t.Fatal(err)
	}
	set := db.Stores()
	t.Cleanup(func() { _ = set.Close(context.Background()) })
	e := &env{t: t, ctx: ctx, set: set, keysDir: filepath.Join(t.TempDir(), "keys", "card")}
	e.setNow(start)
	e.tuSon = e.library("lib-tuson", "BN-TS", "Thư viện thị xã Từ Sơn", library.TypeDistrict)
	e.school = e.library("lib-thcs-dongngan", "BN-TS-THCS-DN", "Thư viện Trường THCS Đông Ngàn", library.TypeSchool)
	e.queVo = e.library("lib-quevo", "BN-QV", "Thư viện thị xã Quế Võ", library.TypeDistrict)
	libs := &library.Service{Store: set.Libraries}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	accessKeys, err := signing.NewEphemeral()
	if err != nil {
		t.Fatal(err)
	}
	e.auth = &auth.Service{Store: set.Auth, Libraries: libs, Keys: accessKeys, Limiter: ratelimit.NewMemory(1000),
		Logger: quiet, Now: e.now}
	ring, err := cardsvc.LoadKeyRing(e.keysDir)
	if err != nil {
		t.Fatal(err)
	}
	e.svc = &cardsvc.Service{Store: set.Cards, Accounts: set.Auth, Auth: e.auth, Libraries: libs, Keys: ring,
		Nonces: nonce.NewMemory(0), Limiter: ratelimit.NewMemory(1000), Locker: lock.NewMemory(), Logger: quiet, Now: e.now}
	adm := e.account("Quản trị viên", auth.RoleAdmin, auth.CategoryAdult, e.tuSon.ID)
	e.admin = auth.Actor{AccountID: adm.ID, Role: auth.RoleAdmin}
	return e
}

func (e *env) now() time.Time     { return time.Unix(0, e.clock.Load()).UTC() }
func (e *env) setNow(t time.Time) { e.clock.Store(t.UnixNano()) }
func (e *env) advance(d time.Duration) {
	e.clock.Add(int64(d))
}

func (e *env) library(id, code, name string, typ library.Type) *library.Library {
	e.t.Helper()
	l := &library.Library{ID: id, Code: code, Name: name, Type: typ, District: "Thị xã Từ Sơn", PickupPoint: true}
	if err := e.set.Libraries.CreateLibrary(e.ctx, l); err != nil {
		e.t.Fatal(err)
	}
	return l
}

// account creates an account (password: password) of role and category
// registered at homeLibrary; a librarian works there.
func (e *env) account(name string, role auth.Role, cat auth.Category, homeLibrary string) *auth.Account {
	e.t.Helper()
	in := auth.NewAccount{Name: name, Role: role, Category: cat, HomeLibraryID: homeLibrary, PasswordHash: passwordHash()}
	if role == auth.RoleLibrarian {
		in.LibraryID = homeLibrary
	}
	acc, err := e.auth.CreateAccount(e.ctx, in)
	if err != nil {
		e.t.Fatal(err)
	}
	return acc
}

// reader creates a reader and returns the account and its actor.
func (e *env) reader(name string, cat auth.Category, homeLibrary string) (*auth.Account, auth.Actor) {
	e.t.Helper()
	acc := e.account(name, auth.RoleReader, cat, homeLibrary)
	return acc, auth.Actor{AccountID: acc.ID, Role: auth.RoleReader}
}

// librarian creates a librarian of lib and returns their actor.
func (e *env) librarian(lib *library.Library) auth.Actor {
	e.t.Helper()
	acc := e.account("Thủ thư "+lib.Code, auth.RoleLibrarian, auth.CategoryAdult, lib.ID)
	return auth.Actor{AccountID: acc.ID, Role: auth.RoleLibrarian, LibraryID: lib.ID}
}

// digital returns a fresh digital card of account for actor a.
func (e *env) digital(a auth.Actor, accountID string, pass cardsvc.Pass) *cardsvc.DigitalCard {
	e.t.Helper()
	dc, err := e.svc.DigitalCard(e.ctx, a, accountID, pass)
	if err != nil {
		e.t.Fatalf("DigitalCard: %v", err)
	}
	return dc
}

// wantErr fails t unless errors.Is(err, target).
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got %v, want %v", what, err, target)
	}
}

// wantCode fails t unless err carries code (and field, when given).
func wantCode(t *testing.T, what string, err error, code thuvienso.Code, field ...string) {
	t.Helper()
	if got := thuvienso.ErrorCode(err); got != code {
		t.Fatalf("%s: error %v has code %q, want %q", what, err, got, code)
	}
	if len(field) > 0 {
		var de *thuvienso.Error
		errors.As(err, &de)
		if de.Field != field[0] {
			t.Fatalf("%s: error %v names field %q, want %q", what, err, de.Field, field[0])
		}
	}
}

// must fails t on a non-nil error.
func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// block blocks the card of acc by a librarian of its home library.
func (e *env) block(lib auth.Actor, number string, reason card.BlockReason) *card.Card {
	e.t.Helper()
	c, err := e.svc.BlockCard(e.ctx, lib, number, reason, "")
	if err != nil {
		e.t.Fatalf("BlockCard: %v", err)
	}
	return c
}
