package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/bacninh/thuvienso/config"
)

// testApp starts the whole service on an embedded store in dir, as the run
// command does, with the demo province unless demo is "never", and with
// args as extra command-line settings. Its API rate limits are generous
// (every test client comes from 127.0.0.1) unless args set them.
func testApp(t *testing.T, dir, demo string, args ...string) (*App, *httptest.Server) {
	t.Helper()
	args = append([]string{"-data-dir", dir, "-demo", demo, "-demo-catalog=false",
		"-rate-limit-ip", "10000", "-rate-limit-ip-burst", "100000", "-rate-limit-reader", "10000", "-rate-limit-reader-burst", "100000"}, args...)
	cfg, err := config.Load(args, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Server)
	t.Cleanup(func() {
		srv.Close()
		_ = a.Close(context.Background())
	})
	return a, srv
}

// gqlResponse is a GraphQL response with its HTTP status.
type gqlResponse struct {
	Status int
	Data   map[string]any
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	}
}

func (r gqlResponse) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

type client struct {
	t     *testing.T
	url   string
	token string
	lang  string
}

func (c *client) do(query string, vars map[string]any) gqlResponse {
	c.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return c.raw("application/json", body)
}

func (c *client) raw(contentType string, body []byte) gqlResponse {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/graphql-response+json, application/json")
	if c.lang != "" {
		req.Header.Set("Accept-Language", c.lang)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	out := gqlResponse{Status: resp.StatusCode}
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &out); err != nil {
		c.t.Fatalf("status %d, body is not a GraphQL response: %q", resp.StatusCode, raw)
	}
	return out
}

func field(m map[string]any, path ...string) any {
	var v any = m
	for _, p := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[p]
	}
	return v
}

const registerMutation = `mutation($in: RegisterInput!) { register(input: $in) {
  accessToken refreshToken account { id name email cardNumber homeLibrary { code } } } }`

const loginMutation = `mutation($login: String!, $pw: String!) { login(input: {login: $login, password: $pw}) {
  accessToken refreshToken account { id } } }`

func libraryID(t *testing.T, c *client, code string) string {
	t.Helper()
	r := c.do(`query($c: String) { library(code: $c) { id } }`, map[string]any{"c": code})
	id, _ := field(r.Data, "library", "id").(string)
	if id == "" {
		t.Fatalf("library %s not found: %+v", code, r)
	}
	return id
}

func register(t *testing.T, c *client, email, homeCode string) (token, refresh, id string) {
	t.Helper()
	r := c.do(registerMutation, map[string]any{"in": map[string]any{
		"name": "Trần Văn Bình", "email": email, "password": "mật-khẩu-dài", "homeLibraryId": libraryID(t, c, homeCode),
	}})
	if len(r.Errors) > 0 {
		t.Fatalf("register: %+v", r.Errors)
	}
	return field(r.Data, "register", "accessToken").(string), field(r.Data, "register", "refreshToken").(string),
		field(r.Data, "register", "account", "id").(string)
}

func TestNewReaderRegistersLogsInAndSeesThemself(t *testing.T) {
	_, srv := testApp(t, t.TempDir(), "auto")
	anon := &client{t: t, url: srv.URL}

	r := anon.do(`{ libraries(first: 5) { totalCount edges { node { code name type district } } } }`, nil)
	if n, _ := field(r.Data, "libraries", "totalCount").(float64); n < 20 || len(field(r.Data, "libraries", "edges").([]any)) != 5 {
		t.Fatalf("libraries(first: 5) = %+v", r)
	}

	token, _, id := register(t, anon, "Binh.Tran@Example.vn", "BN-TS")
	me := (&client{t: t, url: srv.URL, token: token}).do(`{ me { id email homeLibrary { code } } }`, nil)
	if field(me.Data, "me", "id") != id || field(me.Data, "me", "email") != "binh.tran@example.vn" || field(me.Data, "me", "homeLibrary", "code") != "BN-TS" {
		t.Fatalf("me = %+v", me)
	}

	login := anon.do(loginMutation, map[string]any{"login": "binh.tran@example.vn", "pw": "mật-khẩu-dài"})
	if field(login.Data, "login", "account", "id") != id {
		t.Fatalf("login = %+v", login)
	}
}

func TestWrongPasswordIsUnauthenticatedInTheReadersLanguage(t *testing.T) {
	_, srv := testApp(t, t.TempDir(), "auto")
	c := &client{t: t, url: srv.URL}
	register(t, c, "lan@example.vn", "BN")
	for lang, want := range map[string]string{"vi": "Sai tên đăng nhập hoặc mật khẩu", "en-US,en;q=0.9": "wrong login or password", "": "Sai tên đăng nhập hoặc mật khẩu"} {
		c.lang = lang
		r := c.do(loginMutation, map[string]any{"login": "lan@example.vn", "pw": "wrong-password"})
		if r.code() != "UNAUTHENTICATED" || r.Errors[0].Message != want {
			t.Errorf("Accept-Language %q: %+v, want UNAUTHENTICATED %q", lang, r.Errors, want)
		}
	}
}

func TestDataAndSigningKeysSurviveARestart(t *testing.T) {
	dir := t.TempDir()
	a, srv := testApp(t, dir, "auto")
	token, _, id := register(t, &client{t: t, url: srv.URL}, "restart@example.vn", "BN")
	srv.Close()
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	b, srv2 := testApp(t, dir, "auto")
	if b.Demo != nil {
		t.Error("the demo province was seeded again into a database that had it")
	}
	me := (&client{t: t, url: srv2.URL, token: token}).do(`{ me { id } }`, nil)
	if field(me.Data, "me", "id") != id {
		t.Fatalf("token issued before the restart: %+v", me)
	}
}

func TestReusedRefreshTokenEndsTheWholeLogin(t *testing.T) {
	_, srv := testApp(t, t.TempDir(), "auto")
	c := &client{t: t, url: srv.URL}
	_, refresh, _ := register(t, c, "reuse@example.vn", "BN")
	const refreshMutation = `mutation($t: String!) { refreshToken(input: {refreshToken: $t}) { accessToken refreshToken } }`

	first := c.do(refreshMutation, map[string]any{"t": refresh})
	if len(first.Errors) > 0 {
		t.Fatalf("first refresh: %+v", first.Errors)
	}
	rotatedAccess := field(first.Data, "refreshToken", "accessToken").(string)
	rotatedRefresh := field(first.Data, "refreshToken", "refreshToken").(string)

	// An attacker replays the old refresh token.
	if r := c.do(refreshMutation, map[string]any{"t": refresh}); r.code() != "UNAUTHENTICATED" {
		t.Fatalf("reused refresh token: %+v", r)
	}
	// The legitimate client's newer tokens are now dead too.
	if r := c.do(refreshMutation, map[string]any{"t": rotatedRefresh}); r.code() != "UNAUTHENTICATED" {
		t.Fatalf("refresh after reuse: %+v", r)
	}
	if r := (&client{t: t, url: srv.URL, token: rotatedAccess}).do(`{ me { id } }`, nil); r.Status != http.StatusUnauthorized || r.code() != "UNAUTHENTICATED" {
		t.Fatalf("access token of a revoked login: %+v", r)
	}
}

func TestLogoutEndsTheLoginAtOnce(t *testing.T) {
	_, srv := testApp(t, t.TempDir(), "auto")
	token, _, _ := register(t, &client{t: t, url: srv.URL}, "logout@example.vn", "BN")
	c := &client{t: t, url: srv.URL, token: token}
	if r := c.do(`mutation { logout { loggedOut } }`, nil); field(r.Data, "logout", "loggedOut") != true {
		t.Fatalf("logout: %+v", r)
	}
	if r := c.do(`{ me { id } }`, nil); r.code() != "UNAUTHENTICATED" {
		t.Fatalf("after logout: %+v", r)
	}
}

func TestReaderCannotReadAnotherReadersAccount(t *testing.T) {
	_, srv := testApp(t, t.TempDir(), "auto")
	anon := &client{t: t, url: srv.URL}
	tokenA, _, idA := register(t, anon, "a@example.vn", "BN")
	_, _, idB := register(t, anon, "b@example.vn", "BN")
	a := &client{t: t, url: srv.URL, token: tokenA}
	if r := a.do(`query($id: ID!) { account(id: $id) { id email } }`, map[string]any{"id": idB}); r.code() != "FORBIDDEN" || field(r.Data, "account") != nil {
		t.Fatalf("reader A reading reader B: %+v", r)
	}
	if r := a.do(`query($id: ID!) { account(id: $id) { id } }`, map[string]any{"id": idA}); field(r.Data, "account", "id") != idA {
		t.Fatalf("reader A reading themself: %+v", r)
	}
	if r := anon.do(`query($id: ID!) { account(id: $id) { id } }`, map[string]any{"id": idA}); r.code() != "UNAUTHENTICATED" {
		t.Fatalf("anonymous reading an account: %+v", r)
	}
}

func TestLibrarianActsOnlyForTheirLibrary(t *testing.T) {
	a, srv := testApp(t, t.TempDir(), "auto")
	anon := &client{t: t, url: srv.URL}
	var librarian struct{ login, password, code string }
	for _, l := range a.Demo.Logins {
		if l.Role == "LIBRARIAN" && l.LibraryCode == "BN-TS" {
			librarian.login, librarian.password, librarian.code = l.Login, l.Password, l.LibraryCode
		}
	}
	if librarian.login == "" {
		t.Fatal("the demo has no librarian for BN-TS")
	}
	r := anon.do(loginMutation, map[string]any{"login": librarian.login, "pw": librarian.password})
	staff := &client{t: t, url: srv.URL, token: field(r.Data, "login", "accessToken").(string)}

	const update = `mutation($id: ID!) { updateLibrary(input: {id: $id, contact: {phone: "0222 3851 234"}}) { library { code contact { phone } } } }`
	own := staff.do(update, map[string]any{"id": libraryID(t, anon, "BN-TS")})
	if field(own.Data, "updateLibrary", "library", "contact", "phone") != "0222 3851 234" {
		t.Fatalf("librarian updating their own library: %+v", own)
	}
	other := staff.do(update, map[string]any{"id": libraryID(t, anon, "BN-QV")})
	if other.code() != "FORBIDDEN" {
		t.Fatalf("librarian of BN-TS updating BN-QV: %+v", other)
	}

	// A librarian sees the readers registered at their library, not others.
	_, _, local := register(t, anon, "local@example.vn", "BN-TS")
	_, _, elsewhere := register(t, anon, "elsewhere@example.vn", "BN-QV")
	if r := staff.do(`query($id: ID!) { account(id: $id) { id } }`, map[string]any{"id": local}); field(r.Data, "account", "id") != local {
		t.Fatalf("librarian reading a reader of their library: %+v", r)
	}
	if r := staff.do(`query($id: ID!) { account(id: $id) { id } }`, map[string]any{"id": elsewhere}); r.code() != "FORBIDDEN" {
		t.Fatalf("librarian reading a reader of another library: %+v", r)
	}
}

func TestRepeatedFailedLoginsTripTheRateLimit(t *testing.T) {
	_, srv := testApp(t, t.TempDir(), "auto")
	c := &client{t: t, url: srv.URL, lang: "en"}
	register(t, c, "target@example.vn", "BN")
	var last gqlResponse
	for i := 0; i < 6; i++ {
		last = c.do(loginMutation, map[string]any{"login": "target@example.vn", "pw": fmt.Sprintf("guess-%d", i)})
	}
	if last.code() != "RATE_LIMITED" {
		t.Fatalf("6th failed login: %+v", last.Errors)
	}
	if ra, _ := last.Errors[0].Extensions["retryAfter"].(float64); ra <= 0 {
		t.Fatalf("RATE_LIMITED without retryAfter: %+v", last.Errors[0].Extensions)
	}
	// The right password is refused too while the limit holds: that is what
	// stops a guesser who happens to guess right.
	if r := c.do(loginMutation, map[string]any{"login": "target@example.vn", "pw": "mật-khẩu-dài"}); r.code() != "RATE_LIMITED" {
		t.Fatalf("login while limited: %+v", r)
	}
}

func TestHostileRequestsGetGraphQLErrorsNotCrashes(t *testing.T) {
	_, srv := testApp(t, t.TempDir(), "never")
	c := &client{t: t, url: srv.URL}
	deep := `{ library(code: "BN") ` + strings.Repeat("{ parent ", 49) + "{ id }" + strings.Repeat(" }", 49) + " }"
	huge, _ := json.Marshal(map[string]any{"query": "{ libraries { totalCount } }" + strings.Repeat(" ", 2<<20)})
	cases := []struct {
		name string
		resp gqlResponse
	}{
		{"malformed JSON", c.raw("application/json", []byte(`{"query": "{ me { id } }"`))},
		{"unknown field", c.do(`{ me { id favouriteColour } }`, nil)},
		{"2 MB query", c.raw("application/json", huge)},
		{"50-level-deep query", c.do(deep, nil)},
	}
	for _, tc := range cases {
		if len(tc.resp.Errors) == 0 || tc.resp.Errors[0].Message == "" || tc.resp.code() == "" {
			t.Errorf("%s: status %d, errors %+v; want a GraphQL error with a code", tc.name, tc.resp.Status, tc.resp.Errors)
		}
		if tc.resp.Status >= 500 {
			t.Errorf("%s: status %d", tc.name, tc.resp.Status)
		}
	}
	// And the server still answers.
	if r := c.do(`{ libraries { totalCount } }`, nil); len(r.Errors) > 0 {
		t.Fatalf("after hostile requests: %+v", r.Errors)
	}
}

func TestConcurrentRegistrationsWithOneEmailCreateOneAccount(t *testing.T) {
	_, srv := testApp(t, t.TempDir(), "auto")
	c := &client{t: t, url: srv.URL}
	home := libraryID(t, c, "BN")
	var wg sync.WaitGroup
	codes := make([]string, 8)
	for i := range codes {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := c.do(registerMutation, map[string]any{"in": map[string]any{
				"name": "Người Trùng", "email": "same@example.vn", "password": "mật-khẩu-dài", "homeLibraryId": home}})
			codes[i] = r.code()
		}(i)
	}
	wg.Wait()
	ok := 0
	for _, code := range codes {
		switch code {
		case "":
			ok++
		case "CONFLICT":
		default:
			t.Errorf("unexpected error code %q", code)
		}
	}
	if ok != 1 {
		t.Fatalf("%d registrations succeeded, want 1 (codes %v)", ok, codes)
	}
}
