package demo

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/library"
	"github.com/bacninh/thuvienso/ratelimit"
	"github.com/bacninh/thuvienso/signing"
	"github.com/bacninh/thuvienso/sqlite"
)

// backend opens a fresh, empty pair of stores.
type backend struct {
	name string
	open func(t *testing.T) (library.Store, auth.Store)
}

var backends = []backend{
	{"memory", func(*testing.T) (library.Store, auth.Store) { return newMemLibraries(), newMemAccounts() }},
	{"sqlite", func(t *testing.T) (library.Store, auth.Store) {
		db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "db.sqlite"))
		if err != nil {
			t.Fatalf("sqlite.Open: %v", err)
		}
		set := db.Stores()
		t.Cleanup(func() { set.Close(context.Background()) })
		return set.Libraries, set.Auth
	}},
}

func newAuthService(t *testing.T, libs library.Store, accts auth.Store) *auth.Service {
	t.Helper()
	keys, err := signing.NewEphemeral()
	if err != nil {
		t.Fatalf("signing.NewEphemeral: %v", err)
	}
	return &auth.Service{Store: accts, Libraries: &library.Service{Store: libs}, Keys: keys,
		Limiter: ratelimit.NewMemory(0), Logger: quietLogger()}
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestSeed(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := t.Context()
			libs, accts := b.open(t)
			svc := newAuthService(t, libs, accts)

			if need, err := NeedsSeed(ctx, libs); err != nil || !need {
				t.Fatalf("NeedsSeed on an empty store = %v, %v; want true", need, err)
			}
			res, err := Seed(ctx, libs, svc, quietLogger())
			if err != nil {
				t.Fatalf("Seed: %v", err)
			}
			t.Logf("seeded %d libraries and %d accounts in %v", res.Libraries, res.Accounts, res.Duration)
			wantAccounts := 1 + len(readers) + len(sites)
			if res.Libraries != len(sites) || res.LibrariesCreated != len(sites) ||
				res.Accounts != wantAccounts || res.AccountsCreated != wantAccounts || len(res.Logins) != wantAccounts {
				t.Fatalf("Seed result: %d/%d libraries, %d/%d accounts, %d logins; want %d libraries and %d accounts, all created",
					res.LibrariesCreated, res.Libraries, res.AccountsCreated, res.Accounts, len(res.Logins), len(sites), wantAccounts)
			}
			if need, err := NeedsSeed(ctx, libs); err != nil || need {
				t.Fatalf("NeedsSeed after seeding = %v, %v; want false", need, err)
			}

			all, err := libs.Libraries(ctx, nil, "")
			if err != nil {
				t.Fatalf("Libraries: %v", err)
			}
			checkNetwork(t, all)
			checkLibrarians(t, ctx, accts, all)
			checkLogins(t, ctx, svc, res)

			again, err := Seed(ctx, libs, svc, quietLogger())
			if err != nil {
				t.Fatalf("second Seed: %v", err)
			}
			if again.LibrariesCreated != 0 || again.AccountsCreated != 0 {
				t.Errorf("second Seed created %d libraries and %d accounts; want none", again.LibrariesCreated, again.AccountsCreated)
			}
			if n, _ := libs.CountLibraries(ctx); n != len(sites) {
				t.Errorf("after a second Seed there are %d libraries; want %d", n, len(sites))
			}
			for i := range res.Logins {
				if res.Logins[i] != again.Logins[i] {
					t.Errorf("second Seed login %d = %+v; first gave %+v", i, again.Logins[i], res.Logins[i])
				}
			}
		})
	}
}

// districts are the district-level libraries the issue names.
var districts = map[string]struct{ name, district string }{
	"BN-TP": {"Thư viện thành phố Bắc Ninh", "Bắc Ninh"},
	"BN-TS": {"Thư viện thành phố Từ Sơn", "Từ Sơn"},
	"BN-TD": {"Thư viện huyện Tiên Du", "Tiên Du"},
	"BN-YP": {"Thư viện huyện Yên Phong", "Yên Phong"},
	"BN-QV": {"Thư viện thị xã Quế Võ", "Quế Võ"},
	"BN-TT": {"Thư viện thị xã Thuận Thành", "Thuận Thành"},
	"BN-GB": {"Thư viện huyện Gia Bình", "Gia Bình"},
	"BN-LT": {"Thư viện huyện Lương Tài", "Lương Tài"},
}

// parentType is the kind of library each kind reports to.
var parentType = map[library.Type]library.Type{
	library.TypeDistrict: library.TypeProvincial,
	library.TypeCommune:  library.TypeDistrict,
	library.TypeSchool:   library.TypeDistrict,
	library.TypeVillage:  library.TypeCommune,
	library.TypePrivate:  library.TypeDistrict,
}

func checkNetwork(t *testing.T, all []*library.Library) {
	t.Helper()
	if len(all) < 50 || len(all) > 70 {
		t.Errorf("%d libraries; want 50–70", len(all))
	}
	byID, byCode := map[string]*library.Library{}, map[string]*library.Library{}
	types := map[library.Type]int{}
	for _, l := range all {
		if byCode[l.Code] != nil {
			t.Errorf("code %s used twice", l.Code)
		}
		byID[l.ID], byCode[l.Code] = l, l
		types[l.Type]++
	}
	for _, typ := range library.Types {
		if types[typ] == 0 {
			t.Errorf("no library of type %s", typ)
		}
	}
	prov := byCode["BN"]
	if prov == nil || prov.Type != library.TypeProvincial || prov.Name != "Thư viện tỉnh Bắc Ninh" || prov.ParentID != "" || !prov.PickupPoint {
		t.Fatalf("provincial library = %+v", prov)
	}
	for code, want := range districts {
		l := byCode[code]
		if l == nil {
			t.Errorf("district library %s missing", code)
			continue
		}
		if l.Name != want.name || l.District != want.district || l.Type != library.TypeDistrict || l.ParentID != prov.ID {
			t.Errorf("district library %s = %q in %q, type %s, parent %s; want %q in %q, DISTRICT under BN",
				code, l.Name, l.District, l.Type, l.ParentID, want.name, want.district)
		}
	}
	for _, l := range all {
		for field, s := range map[string]string{"name": l.Name, "district": l.District, "commune": l.Commune, "address": l.Address} {
			if !norm.NFC.IsNormalString(s) {
				t.Errorf("%s: %s %q is not NFC", l.Code, field, s)
			}
		}
		if l.Name == "" || l.District == "" || l.Address == "" {
			t.Errorf("%s: name, district or address missing: %+v", l.Code, l)
		}
		if p := l.Location; p == nil || p.Lat < 20.95 || p.Lat > 21.30 || p.Lng < 105.90 || p.Lng > 106.30 {
			t.Errorf("%s: location %+v is outside Bắc Ninh", l.Code, p)
		}
		if l.Type != library.TypeProvincial {
			parent := byID[l.ParentID]
			if parent == nil || parent.Type != parentType[l.Type] {
				t.Errorf("%s (%s): parent %+v; want a %s library", l.Code, l.Type, parent, parentType[l.Type])
			} else if parent.Type != library.TypeProvincial && parent.District != l.District {
				t.Errorf("%s in %s reports to %s in %s", l.Code, l.District, parent.Code, parent.District)
			}
		}
		checkHours(t, l)
	}
}

func checkHours(t *testing.T, l *library.Library) {
	t.Helper()
	if len(l.Hours) == 0 {
		t.Errorf("%s: no opening hours", l.Code)
	}
	for _, h := range l.Hours {
		opens, err1 := time.Parse("15:04", h.Opens)
		closes, err2 := time.Parse("15:04", h.Closes)
		if err1 != nil || err2 != nil || !closes.After(opens) || h.Weekday < time.Sunday || h.Weekday > time.Saturday {
			t.Errorf("%s: bad opening period %+v", l.Code, h)
		}
		if l.Type == library.TypeSchool && (h.Weekday == time.Saturday || h.Weekday == time.Sunday) {
			t.Errorf("%s: a school library open on %s", l.Code, h.Weekday)
		}
	}
}

func checkLibrarians(t *testing.T, ctx context.Context, accts auth.Store, all []*library.Library) {
	t.Helper()
	for _, l := range all {
		a, err := accts.AccountByLogin(ctx, LibrarianEmail(l.Code))
		if err != nil {
			t.Errorf("%s: librarian %s: %v", l.Code, LibrarianEmail(l.Code), err)
			continue
		}
		if a.Role != auth.RoleLibrarian || a.LibraryID != l.ID || a.HomeLibraryID != l.ID || !norm.NFC.IsNormalString(a.Name) {
			t.Errorf("%s: librarian %+v", l.Code, a)
		}
	}
}

func checkLogins(t *testing.T, ctx context.Context, svc *auth.Service, res *Result) {
	t.Helper()
	head := res.Headline()
	if len(head) == 0 || head[0].Role != auth.RoleAdmin || head[0].Login != "admin@thuvien.bacninh.gov.vn" {
		t.Errorf("first headline login = %+v; want the administrator", head)
	}
	seen := map[string]bool{}
	for _, l := range res.Logins {
		if seen[l.Login] || seen[l.CardNumber] {
			t.Errorf("login %s or card %s listed twice", l.Login, l.CardNumber)
		}
		seen[l.Login], seen[l.CardNumber] = true, true
		if l.Password != Password || l.Library == "" || l.Name == "" {
			t.Errorf("login %+v incomplete", l)
		}
	}
	client := auth.Client{IP: "192.0.2.1", UserAgent: "demo test"}
	for _, c := range []struct {
		login    string
		role     auth.Role
		category auth.Category
	}{
		{"ban.doc@example.vn", auth.RoleReader, auth.CategoryAdult},
		{"hoc.sinh@example.vn", auth.RoleReader, auth.CategoryStudent},
		{"0901 234 567", auth.RoleReader, auth.CategoryAdult},
		{res.Logins[1].CardNumber, auth.RoleReader, auth.CategoryAdult},
		{"admin@thuvien.bacninh.gov.vn", auth.RoleAdmin, auth.CategoryAdult},
		{LibrarianEmail("BN-TS"), auth.RoleLibrarian, auth.CategoryAdult},
	} {
		acc, tokens, err := svc.Login(ctx, c.login, Password, client)
		if err != nil {
			t.Errorf("Login(%s): %v", c.login, err)
			continue
		}
		if acc.Role != c.role || acc.Category != c.category || tokens.AccessToken == "" {
			t.Errorf("Login(%s) = %s %s; want %s %s", c.login, acc.Role, acc.Category, c.role, c.category)
		}
	}
	if _, _, err := svc.Login(ctx, "ban.doc@example.vn", "sai-mat-khau", client); !errors.Is(err, auth.ErrBadCredentials) {
		t.Errorf("Login with a wrong password: %v; want ErrBadCredentials", err)
	}
}

// TestSeedFinishesAfterFailingHalfWay: a seed interrupted by a store
// failure completes on the next run without duplicates or errors.
func TestSeedFinishesAfterFailingHalfWay(t *testing.T) {
	ctx := t.Context()
	libs, accts := newMemLibraries(), newMemAccounts()
	accts.failAfter = 20
	svc := newAuthService(t, libs, accts)
	if _, err := Seed(ctx, libs, svc, quietLogger()); err == nil {
		t.Fatal("Seed with a failing store succeeded")
	}
	created := len(accts.accounts)
	if created < 20 || created >= 1+len(readers)+len(sites) {
		t.Fatalf("the failing Seed left %d accounts", created)
	}
	accts.mu.Lock()
	accts.failAfter = 0
	accts.mu.Unlock()
	res, err := Seed(ctx, libs, svc, quietLogger())
	if err != nil {
		t.Fatalf("Seed after a failure: %v", err)
	}
	if res.LibrariesCreated != 0 || res.AccountsCreated != res.Accounts-created || len(accts.accounts) != res.Accounts {
		t.Errorf("resumed Seed created %d libraries and %d of %d accounts (%d existed); store holds %d",
			res.LibrariesCreated, res.AccountsCreated, res.Accounts, created, len(accts.accounts))
	}
}

// TestDataset checks the dataset itself, before any store normalises it.
func TestDataset(t *testing.T) {
	codes := map[string]bool{}
	for _, s := range sites {
		for _, text := range []string{s.name, s.district, s.commune, s.address} {
			if !norm.NFC.IsNormalString(text) {
				t.Errorf("%s: %q is not NFC", s.code, text)
			}
		}
		for _, r := range s.code {
			if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				t.Errorf("code %q is not upper-case ASCII with dashes", s.code)
				break
			}
		}
		if s.parent != "" && !codes[s.parent] {
			t.Errorf("%s is listed before its parent %s", s.code, s.parent)
		}
		codes[s.code] = true
	}
	names := map[string]bool{}
	for i := range sites {
		names[librarianName(i)] = true
	}
	if len(names) < len(sites)*9/10 {
		t.Errorf("only %d different librarian names for %d libraries", len(names), len(sites))
	}
	for _, r := range append(readers, admin) {
		if !norm.NFC.IsNormalString(r.name) {
			t.Errorf("reader name %q is not NFC", r.name)
		}
	}
}

// memLibraries is an in-memory library.Store.
type memLibraries struct {
	mu   sync.Mutex
	byID map[string]library.Library
}

func newMemLibraries() *memLibraries { return &memLibraries{byID: map[string]library.Library{}} }

func (m *memLibraries) CreateLibrary(_ context.Context, l *library.Library) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, o := range m.byID {
		if o.Code == l.Code {
			return library.ErrCodeTaken
		}
	}
	m.byID[l.ID] = *l
	return nil
}

func (m *memLibraries) UpdateLibrary(_ context.Context, l *library.Library) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.byID[l.ID]; !ok {
		return thuvienso.ErrNotFound
	}
	m.byID[l.ID] = *l
	return nil
}

func (m *memLibraries) Library(_ context.Context, id string) (*library.Library, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.byID[id]
	if !ok {
		return nil, thuvienso.ErrNotFound
	}
	return &l, nil
}

func (m *memLibraries) LibraryByCode(_ context.Context, code string) (*library.Library, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, l := range m.byID {
		if l.Code == code {
			return &l, nil
		}
	}
	return nil, thuvienso.ErrNotFound
}

func (m *memLibraries) LibrariesByID(_ context.Context, ids []string) ([]*library.Library, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*library.Library
	for _, id := range ids {
		if l, ok := m.byID[id]; ok {
			out = append(out, &l)
		}
	}
	return out, nil
}

func (m *memLibraries) Libraries(_ context.Context, types []library.Type, district string) ([]*library.Library, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*library.Library
	for _, l := range m.byID {
		if (len(types) == 0 || containsType(types, l.Type)) && (district == "" || l.District == district) {
			out = append(out, &l)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out, nil
}

func containsType(types []library.Type, t library.Type) bool {
	for _, v := range types {
		if v == t {
			return true
		}
	}
	return false
}

func (m *memLibraries) CountLibraries(context.Context) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.byID), nil
}

// memAccounts is an in-memory auth.Store. With failAfter > 0 it fails every
// CreateAccount once it holds that many accounts.
type memAccounts struct {
	mu        sync.Mutex
	accounts  map[string]auth.Account
	sessions  map[string]auth.Session
	tokens    map[string]auth.RefreshToken
	failAfter int
}

func newMemAccounts() *memAccounts {
	return &memAccounts{accounts: map[string]auth.Account{}, sessions: map[string]auth.Session{}, tokens: map[string]auth.RefreshToken{}}
}

var errStoreDown = errors.New("store unavailable")

func (m *memAccounts) CreateAccount(_ context.Context, a *auth.Account) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failAfter > 0 && len(m.accounts) >= m.failAfter {
		return errStoreDown
	}
	for _, o := range m.accounts {
		switch {
		case a.Email != "" && o.Email == a.Email:
			return auth.ErrEmailTaken
		case a.Phone != "" && o.Phone == a.Phone:
			return auth.ErrPhoneTaken
		case a.CardNumber != "" && o.CardNumber == a.CardNumber:
			return auth.ErrCardTaken
		}
	}
	m.accounts[a.ID] = *a
	return nil
}

func (m *memAccounts) Account(_ context.Context, id string) (*auth.Account, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.accounts[id]
	if !ok {
		return nil, thuvienso.ErrNotFound
	}
	return &a, nil
}

func (m *memAccounts) AccountsByID(_ context.Context, ids []string) ([]*auth.Account, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*auth.Account
	for _, id := range ids {
		if a, ok := m.accounts[id]; ok {
			out = append(out, &a)
		}
	}
	return out, nil
}

func (m *memAccounts) AccountByLogin(_ context.Context, login string) (*auth.Account, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, a := range m.accounts {
		if login != "" && (a.Email == login || a.Phone == login || a.CardNumber == login) {
			return &a, nil
		}
	}
	return nil, thuvienso.ErrNotFound
}

func (m *memAccounts) SetPasswordHash(_ context.Context, id, hash string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.accounts[id]
	if !ok {
		return thuvienso.ErrNotFound
	}
	a.PasswordHash, a.UpdatedAt = hash, at
	m.accounts[id] = a
	return nil
}

func (m *memAccounts) ReaderIDs(_ context.Context, home, after string, limit int) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ids []string
	for id, a := range m.accounts {
		if a.Role == auth.RoleReader && (home == "" || a.HomeLibraryID == home) && id > after {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids[:min(len(ids), limit)], nil
}

func (m *memAccounts) SetCardNumber(_ context.Context, id, number string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.accounts[id]
	if !ok {
		return thuvienso.ErrNotFound
	}
	for oid, o := range m.accounts {
		if oid != id && number != "" && o.CardNumber == number {
			return auth.ErrCardTaken
		}
	}
	a.CardNumber, a.UpdatedAt = number, at
	m.accounts[id] = a
	return nil
}

func (m *memAccounts) CreateSession(_ context.Context, s *auth.Session) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sessions[s.ID] = *s
	return nil
}

func (m *memAccounts) Session(_ context.Context, id string) (*auth.Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[id]
	if !ok {
		return nil, thuvienso.ErrNotFound
	}
	return &s, nil
}

func (m *memAccounts) RevokeSession(_ context.Context, id, reason string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[id]
	if !ok {
		return thuvienso.ErrNotFound
	}
	if s.RevokedAt == nil {
		s.RevokedAt, s.RevokedReason = &at, reason
		m.sessions[id] = s
	}
	return nil
}

func (m *memAccounts) RevokeAccountSessions(_ context.Context, accountID, keepID, reason string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, s := range m.sessions {
		if s.AccountID == accountID && id != keepID && s.RevokedAt == nil {
			s.RevokedAt, s.RevokedReason = &at, reason
			m.sessions[id] = s
		}
	}
	return nil
}

func (m *memAccounts) CreateRefreshToken(_ context.Context, rt *auth.RefreshToken) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tokens[rt.Hash] = *rt
	return nil
}

func (m *memAccounts) UseRefreshToken(_ context.Context, hash string, at time.Time) (*auth.RefreshToken, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rt, ok := m.tokens[hash]
	if !ok {
		return nil, thuvienso.ErrNotFound
	}
	if rt.UsedAt != nil {
		return &rt, auth.ErrRefreshTokenReused
	}
	rt.UsedAt = &at
	m.tokens[hash] = rt
	return &rt, nil
}
