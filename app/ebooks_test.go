package app

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/config"
	"github.com/bacninh/thuvienso/demo"
)

// testClock is a clock tests move by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *testClock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// demoEnv is the service with the demo province (no catalog) on a clock
// the test moves, and an admin who buys licenses.
type demoEnv struct {
	t     *testing.T
	app   *App
	srv   *httptest.Server
	clock *testClock
	admin *client
}

func newDemoEnv(t *testing.T) *demoEnv {
	t.Helper()
	clock := &testClock{t: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)}
	cfg, err := config.Load([]string{"-data-dir", t.TempDir(), "-demo", "auto", "-demo-catalog=false"}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Server)
	t.Cleanup(func() {
		srv.Close()
		_ = a.Close(context.Background())
	})
	e := &demoEnv{t: t, app: a, srv: srv, clock: clock}
	e.admin = e.login("admin@" + demo.StaffEmailDomain)
	return e
}

// login returns a client logged in as a demo account.
func (e *demoEnv) login(email string) *client {
	e.t.Helper()
	c := &client{t: e.t, url: e.srv.URL, lang: "en"}
	r := c.do(loginMutation, map[string]any{"login": email, "pw": demo.Password})
	if len(r.Errors) > 0 {
		e.t.Fatalf("login %s: %+v", email, r.Errors)
	}
	c.token = field(r.Data, "login", "accessToken").(string)
	return c
}

// title adds a title with one license bought by the admin.
func (e *demoEnv) title(name string, license map[string]any) string {
	e.t.Helper()
	r := e.admin.do(`mutation($in: AddEbookTitleInput!) { addEbookTitle(input: $in) { title { id } } }`, map[string]any{"in": map[string]any{
		"workId": "work-" + name, "format": "EPUB", "title": name, "authors": []string{"Nguyễn Du"}, "contentRef": name + ".epub"}})
	if len(r.Errors) > 0 {
		e.t.Fatalf("addEbookTitle: %+v", r.Errors)
	}
	id := field(r.Data, "addEbookTitle", "title", "id").(string)
	e.license(id, license)
	return id
}

func (e *demoEnv) license(titleID string, license map[string]any) {
	e.t.Helper()
	in := map[string]any{"titleId": titleID}
	for k, v := range license {
		in[k] = v
	}
	r := e.admin.do(`mutation($in: AddEbookLicenseInput!) { addEbookLicense(input: $in) { license { id } } }`, map[string]any{"in": in})
	if len(r.Errors) > 0 {
		e.t.Fatalf("addEbookLicense: %+v", r.Errors)
	}
}

const borrowMutation = `mutation($in: BorrowEbookInput!) { borrowEbook(input: $in) {
  loan { id state endsAt contentLink { url } } hold { id state position } } }`

// borrow borrows and returns the response.
func borrow(c *client, titleID string, extra map[string]any) gqlResponse {
	in := map[string]any{"titleId": titleID}
	for k, v := range extra {
		in[k] = v
	}
	return c.do(borrowMutation, map[string]any{"in": in})
}

func mustLoan(t *testing.T, r gqlResponse) string {
	t.Helper()
	id, _ := field(r.Data, "borrowEbook", "loan", "id").(string)
	if len(r.Errors) > 0 || id == "" {
		t.Fatalf("want a loan, got %+v %+v", r.Data, r.Errors)
	}
	return id
}

func wantCode(t *testing.T, what string, r gqlResponse, code string) {
	t.Helper()
	if r.code() != code {
		t.Fatalf("%s: code %q, want %s (%+v)", what, r.code(), code, r.Errors)
	}
}

func returnLoan(t *testing.T, c *client, loanID string) {
	t.Helper()
	r := c.do(`mutation($id: ID!) { returnEbook(input: {loanId: $id}) { loan { state } } }`, map[string]any{"id": loanID})
	if got := field(r.Data, "returnEbook", "loan", "state"); got != "RETURNED" {
		t.Fatalf("return: state %v, errors %+v", got, r.Errors)
	}
}

func availability(t *testing.T, c *client, titleID string) map[string]any {
	t.Helper()
	r := c.do(`query($id: ID!) { ebookTitle(id: $id) { availability { availableNow unlimited copies availableCopies holds } } }`,
		map[string]any{"id": titleID})
	av, _ := field(r.Data, "ebookTitle", "availability").(map[string]any)
	if av == nil {
		t.Fatalf("availability: %+v", r.Errors)
	}
	return av
}

func myHolds(t *testing.T, c *client) []map[string]any {
	t.Helper()
	r := c.do(`{ myEbookHolds { edges { node { id state position reservedUntil title { id } } } } }`, nil)
	if len(r.Errors) > 0 {
		t.Fatalf("myEbookHolds: %+v", r.Errors)
	}
	var out []map[string]any
	for _, e := range field(r.Data, "myEbookHolds", "edges").([]any) {
		out = append(out, e.(map[string]any)["node"].(map[string]any))
	}
	return out
}

func TestOneCopyOneUserLendsOneCopyAndQueuesTheRest(t *testing.T) {
	e := newDemoEnv(t)
	a, b := e.login("ban.doc@example.vn"), e.login("doc.gia@example.vn")
	id := e.title("kieu", map[string]any{"model": "ONE_COPY_ONE_USER", "concurrency": 1})
	loan := mustLoan(t, borrow(a, id, nil))
	wantCode(t, "a second reader", borrow(b, id, nil), "NO_COPY_AVAILABLE")
	r := borrow(b, id, map[string]any{"holdIfUnavailable": true})
	if field(r.Data, "borrowEbook", "hold", "position") != float64(1) {
		t.Fatalf("hold instead of loan: %+v %+v", r.Data, r.Errors)
	}
	if av := availability(t, b, id); av["availableNow"] != false || av["copies"] != float64(1) || av["holds"] != float64(1) {
		t.Fatalf("availability while lent: %v", av)
	}
	returnLoan(t, a, loan)
	if hs := myHolds(t, b); len(hs) != 1 || hs[0]["state"] != "RESERVED" || hs[0]["reservedUntil"] == nil {
		t.Fatalf("after the return the hold should be reserved: %v", hs)
	}
	wantCode(t, "a newcomer while the copy is reserved", borrow(e.login("hoc.sinh@example.vn"), id, nil), "NO_COPY_AVAILABLE")
	mustLoan(t, borrow(b, id, nil))
}

func TestMeteredCheckoutsRunOut(t *testing.T) {
	e := newDemoEnv(t)
	id := e.title("metered", map[string]any{"model": "METERED_CHECKOUTS", "concurrency": 2, "checkouts": 2})
	for _, who := range []string{"ban.doc@example.vn", "doc.gia@example.vn"} {
		c := e.login(who)
		returnLoan(t, c, mustLoan(t, borrow(c, id, nil)))
	}
	wantCode(t, "a third checkout of two", borrow(e.login("hoc.sinh@example.vn"), id, nil), "NO_COPY_AVAILABLE")
	if av := availability(t, e.admin, id); av["availableNow"] != false || av["copies"] != float64(0) {
		t.Fatalf("a used-up license still counts: %v", av)
	}
	r := e.admin.do(`query($id: ID!) { ebookTitle(id: $id) { licenses { model checkoutsLeft checkoutsTotal inUse } } }`, map[string]any{"id": id})
	l := field(r.Data, "ebookTitle", "licenses").([]any)[0].(map[string]any)
	if l["checkoutsLeft"] != float64(0) || l["checkoutsTotal"] != float64(2) || l["inUse"] != float64(0) {
		t.Fatalf("license after two checkouts: %v", l)
	}
}

func TestTimeLicenseExpiringMidQueue(t *testing.T) {
	e := newDemoEnv(t)
	a, b := e.login("ban.doc@example.vn"), e.login("doc.gia@example.vn")
	expires := e.clock.Now().Add(3 * 24 * time.Hour)
	id := e.title("timed", map[string]any{"model": "METERED_TIME", "concurrency": 1, "expiresAt": expires.Format(time.RFC3339)})
	r := borrow(a, id, map[string]any{"days": 14})
	mustLoan(t, r)
	if end, _ := time.Parse(time.RFC3339, field(r.Data, "borrowEbook", "loan", "endsAt").(string)); end.After(expires) {
		t.Fatalf("the loan ends %v, after its license (%v)", end, expires)
	}
	mustHold := borrow(b, id, map[string]any{"holdIfUnavailable": true})
	if field(mustHold.Data, "borrowEbook", "hold", "id") == nil {
		t.Fatalf("hold: %+v", mustHold.Errors)
	}
	e.clock.Advance(4 * 24 * time.Hour)
	e.app.runEbookExpiry(context.Background())
	r = a.do(`{ myEbookLoans(includeEnded: true) { edges { node { state contentLink { url } } } } }`, nil)
	if n := field(r.Data, "myEbookLoans", "edges").([]any)[0].(map[string]any)["node"].(map[string]any); n["state"] != "EXPIRED" || n["contentLink"] != nil {
		t.Fatalf("loan after its license expired: %v", n)
	}
	if hs := myHolds(t, b); len(hs) != 1 || hs[0]["state"] != "WAITING" {
		t.Fatalf("with the license gone the hold waits: %v", hs)
	}
	wantCode(t, "borrowing under an expired license", borrow(e.login("hoc.sinh@example.vn"), id, nil), "NO_COPY_AVAILABLE")
	// A new license serves the queue first.
	e.license(id, map[string]any{"model": "ONE_COPY_ONE_USER", "concurrency": 1})
	if hs := myHolds(t, b); len(hs) != 1 || hs[0]["state"] != "RESERVED" {
		t.Fatalf("a new license should reserve a copy for the waiting hold: %v", hs)
	}
}

func TestOneCopyManyUsersAndOpenAccessLendToEveryone(t *testing.T) {
	e := newDemoEnv(t)
	until := e.clock.Now().Add(30 * 24 * time.Hour)
	many := e.title("many", map[string]any{"model": "ONE_COPY_MANY_USERS", "expiresAt": until.Format(time.RFC3339)})
	open := e.title("open", map[string]any{"model": "OPEN_ACCESS"})
	readers := []*client{e.login("ban.doc@example.vn"), e.login("doc.gia@example.vn"), e.login("hoc.sinh@example.vn")}
	for _, c := range readers {
		mustLoan(t, borrow(c, many, map[string]any{"days": 7}))
		mustLoan(t, borrow(c, open, map[string]any{"days": 7}))
	}
	if av := availability(t, e.admin, open); av["unlimited"] != true || av["availableNow"] != true {
		t.Fatalf("open access availability: %v", av)
	}
	e.clock.Advance(31 * 24 * time.Hour)
	e.app.runEbookExpiry(context.Background())
	wantCode(t, "after the license's end", borrow(readers[0], many, nil), "NO_COPY_AVAILABLE")
	mustLoan(t, borrow(readers[0], open, nil))
}

func TestReservationPassesOnAfter72Hours(t *testing.T) {
	e := newDemoEnv(t)
	a, b, c := e.login("ban.doc@example.vn"), e.login("doc.gia@example.vn"), e.login("hoc.sinh@example.vn")
	id := e.title("queue", map[string]any{"model": "ONE_COPY_ONE_USER", "concurrency": 1})
	loan := mustLoan(t, borrow(a, id, nil))
	for _, r := range []*client{b, c} {
		if h := borrow(r, id, map[string]any{"holdIfUnavailable": true}); field(h.Data, "borrowEbook", "hold", "id") == nil {
			t.Fatalf("hold: %+v", h.Errors)
		}
	}
	returnLoan(t, a, loan)
	if hs := myHolds(t, b); hs[0]["state"] != "RESERVED" {
		t.Fatalf("first in line: %v", hs)
	}
	e.clock.Advance(71 * time.Hour)
	e.app.runEbookExpiry(context.Background())
	if hs := myHolds(t, b); hs[0]["state"] != "RESERVED" {
		t.Fatalf("the reservation lapsed before 72 hours: %v", hs)
	}
	e.clock.Advance(2 * time.Hour)
	e.app.runEbookExpiry(context.Background())
	if hs := myHolds(t, b); hs[0]["state"] != "SUSPENDED" {
		t.Fatalf("a first miss suspends the hold: %v", hs)
	}
	if hs := myHolds(t, c); hs[0]["state"] != "RESERVED" {
		t.Fatalf("the copy passes to the next reader: %v", hs)
	}
}

func TestContentLinkRefusedOnceTheLoanEnds(t *testing.T) {
	e := newDemoEnv(t)
	a := e.login("ban.doc@example.vn")
	id := e.title("link", map[string]any{"model": "OPEN_ACCESS"})
	if err := e.app.EbookContent.Put(context.Background(), "link.epub", strings.NewReader("epub bytes")); err != nil {
		t.Fatal(err)
	}
	r := borrow(a, id, map[string]any{"days": 7})
	mustLoan(t, r)
	url := field(r.Data, "borrowEbook", "loan", "contentLink", "url").(string)
	get := func() int {
		resp, err := http.Get(e.srv.URL + url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := get(); s != http.StatusOK {
		t.Fatalf("a live loan's link: %d", s)
	}
	// Returned: the link is still within its 15 minutes, but the loan is over.
	returnLoan(t, a, field(r.Data, "borrowEbook", "loan", "id").(string))
	if s := get(); s != http.StatusGone {
		t.Fatalf("a returned loan's link: %d, want 410", s)
	}
	// Expired: links never outlive the loan.
	r = borrow(a, id, map[string]any{"days": 7})
	mustLoan(t, r)
	url = field(r.Data, "borrowEbook", "loan", "contentLink", "url").(string)
	e.clock.Advance(7*24*time.Hour + time.Second)
	if s := get(); s != http.StatusForbidden && s != http.StatusGone {
		t.Fatalf("an expired loan's link: %d, want it refused", s)
	}
}

func TestOnlyStaffBuyLicenses(t *testing.T) {
	e := newDemoEnv(t)
	id := e.title("staff", map[string]any{"model": "OPEN_ACCESS"})
	in := map[string]any{"titleId": id, "model": "ONE_COPY_ONE_USER", "concurrency": 1}
	const m = `mutation($in: AddEbookLicenseInput!) { addEbookLicense(input: $in) { license { id } } }`
	wantCode(t, "a reader", e.login("ban.doc@example.vn").do(m, map[string]any{"in": in}), "FORBIDDEN")
	wantCode(t, "a librarian for the province", e.login("thuthu.bn@"+demo.StaffEmailDomain).do(m, map[string]any{"in": in}), "FORBIDDEN")
	anon := &client{t: t, url: e.srv.URL}
	wantCode(t, "anonymous", anon.do(m, map[string]any{"in": in}), "UNAUTHENTICATED")
	wantCode(t, "licenses seen by a reader", e.login("ban.doc@example.vn").do(`query($id: ID!) { ebookTitle(id: $id) { licenses { id } } }`,
		map[string]any{"id": id}), "FORBIDDEN")
}

// opdsValidator is the official OPDS 2.0 schema validator in ../shared.
const opdsValidator = sharedTools + "opds/validate-opds.mjs"

// TestOPDSFeedsOfTheDemoValidate fetches the demo collection's feeds as an
// OPDS app would (start, catalog, search, a publication, the bookshelf
// with a loan, a waiting hold and a reserved one) and validates each with
// the official schemas.
func TestOPDSFeedsOfTheDemoValidate(t *testing.T) {
	e := newDemoEnv(t)
	ctx := context.Background()
	find := func(_ context.Context, title, _ string) (string, error) { return "work-" + title, nil }
	admin := auth.Actor{AccountID: "test", Role: auth.RoleAdmin}
	if n, err := demo.SeedEbooks(ctx, e.app.Ebooks, e.app.EbookContent, find, admin, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil || n != 5 {
		t.Fatalf("seeding demo e-books: %d, %v", n, err)
	}
	a, b, c := e.login("ban.doc@example.vn"), e.login("doc.gia@example.vn"), e.login("hoc.sinh@example.vn")
	mustLoan(t, borrow(a, "ebook-luc-van-tien", nil))
	mustLoan(t, borrow(b, "ebook-luc-van-tien", nil))
	mustLoan(t, borrow(a, "ebook-so-do", nil))
	// The reader's hold waits; b's reserved copy of Số đỏ after a returns it.
	if r := borrow(c, "ebook-luc-van-tien", map[string]any{"holdIfUnavailable": true}); field(r.Data, "borrowEbook", "hold", "id") == nil {
		t.Fatalf("hold: %+v", r.Errors)
	}

	get := func(path, token string, wantStatus int) []byte {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != wantStatus {
			t.Fatalf("GET %s: %d %s, want %d", path, resp.StatusCode, body, wantStatus)
		}
		return body
	}
	dir := t.TempDir()
	docs := map[string][]string{} // kind → files
	save := func(kind, name string, body []byte) {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, body, 0o600); err != nil {
			t.Fatal(err)
		}
		docs[kind] = append(docs[kind], p)
	}
	save("feed", "start.json", get("/opds", "", 200))
	catalog := get("/opds/catalog", "", 200)
	save("feed", "catalog.json", catalog)
	save("feed", "search.json", get("/opds/catalog?query=so+do", "", 200))
	save("feed", "epub.json", get("/opds/catalog?format=EPUB", "", 200))
	save("publication", "publication.json", get("/opds/publications/ebook-luc-van-tien", "", 200))
	get("/opds/bookshelf", "", http.StatusUnauthorized)
	save("feed", "shelf-a.json", get("/opds/bookshelf", a.token, 200))
	save("feed", "shelf-c.json", get("/opds/bookshelf", c.token, 200))

	var feed struct {
		Publications []struct {
			Metadata struct{ Identifier string }
			Links    []struct {
				Rel        string
				Properties struct {
					Availability struct{ State string }
					Copies       *struct{ Total, Available int }
				}
			}
		}
	}
	if err := json.Unmarshal(catalog, &feed); err != nil || len(feed.Publications) != 5 {
		t.Fatalf("catalog: %d publications, %v", len(feed.Publications), err)
	}
	states := map[string]string{}
	for _, p := range feed.Publications {
		states[p.Metadata.Identifier] = p.Links[1].Properties.Availability.State
	}
	if states["urn:thuvienso:ebook:ebook-luc-van-tien"] != "unavailable" || states["urn:thuvienso:ebook:ebook-truyen-kieu"] != "available" {
		t.Fatalf("availability in the catalog: %v", states)
	}
	if err := json.Unmarshal(get("/opds/bookshelf", c.token, 200), &feed); err != nil || len(feed.Publications) != 1 ||
		feed.Publications[0].Links[1].Properties.Availability.State != "reserved" {
		t.Fatalf("the waiting reader's shelf: %+v %v", feed, err)
	}

	needSharedTools(t, "ajv")
	for kind, files := range docs {
		out, err := exec.Command("node", append([]string{opdsValidator, kind}, files...)...).CombinedOutput()
		if err != nil {
			t.Errorf("OPDS %s documents do not validate: %v\n%s", kind, err, out)
		}
	}
}
