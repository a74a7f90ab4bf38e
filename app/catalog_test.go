package app

import (
	"encoding/base64"
	"fmt"
	"github.com/bacninh/thuvienso/demo"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/bacninh/thuvienso/catalog"
)

// catalogEnv is the whole service with the demo province (its catalog not
// seeded), reached over HTTP.
type catalogEnv struct {
	a    *App
	srv  *httptest.Server
	anon *client
}

func newCatalogEnv(t *testing.T) *catalogEnv {
	t.Helper()
	a, srv := testApp(t, t.TempDir(), "auto")
	return &catalogEnv{a: a, srv: srv, anon: &client{t: t, url: srv.URL}}
}

// librarian logs in the demo librarian of the library with this code.
func (e *catalogEnv) librarian(t *testing.T, code string) *client {
	t.Helper()
	for _, l := range e.a.Demo.Logins {
		if l.Role == "LIBRARIAN" && l.LibraryCode == code {
			r := e.anon.do(loginMutation, map[string]any{"login": l.Login, "pw": l.Password})
			token, _ := field(r.Data, "login", "accessToken").(string)
			if token == "" {
				t.Fatalf("login of the librarian of %s: %+v", code, r)
			}
			return &client{t: t, url: e.srv.URL, token: token}
		}
	}
	t.Fatalf("the demo has no librarian for %s", code)
	return nil
}

const importMutation = `mutation($in: ImportRecordsInput!) { importRecords(input: $in) {
  read created updated unchanged skipped deleted items itemsRefused problems { position id reason } } }`

// importCSV sends a CSV file through the importRecords mutation.
func importCSV(t *testing.T, c *client, libraryID, csv string) gqlResponse {
	t.Helper()
	return c.do(importMutation, map[string]any{"in": map[string]any{
		"libraryId": libraryID, "filename": "kho.csv", "contentBase64": base64.StdEncoding.EncodeToString([]byte(csv)),
	}})
}

// mustImport imports csv as the library's librarian and fails on any error.
func (e *catalogEnv) mustImport(t *testing.T, code, csv string) {
	t.Helper()
	r := importCSV(t, e.librarian(t, code), libraryID(t, e.anon, code), csv)
	if len(r.Errors) > 0 || field(r.Data, "importRecords", "skipped") != 0.0 {
		t.Fatalf("import into %s: %+v", code, r)
	}
}

// indexed waits until the search index has followed every catalog change.
func (e *catalogEnv) indexed(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		latest, err := e.a.Stores.Catalog.LatestSeq(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		w, err := e.a.Index.Watermark()
		if err != nil {
			t.Fatal(err)
		}
		if w >= latest {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the index is at change %d of %d after 10s", w, latest)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

const searchQuery = `query($q: String, $f: SearchFilter) { search(query: $q, filter: $f, first: 100) {
  totalCount edges { node { id title availability { total available libraries } } highlights { title } } } }`

// hits is one search's works: ID → title.
type hits map[string]string

func doSearch(t *testing.T, c *client, q string, filter map[string]any) (hits, gqlResponse) {
	t.Helper()
	vars := map[string]any{"q": q}
	if filter != nil {
		vars["f"] = filter
	}
	r := c.do(searchQuery, vars)
	if len(r.Errors) > 0 {
		t.Fatalf("search %q: %+v", q, r.Errors)
	}
	out := hits{}
	edges, _ := field(r.Data, "search", "edges").([]any)
	for _, e := range edges {
		n := e.(map[string]any)["node"].(map[string]any)
		out[n["id"].(string)] = n["title"].(string)
	}
	if total, _ := field(r.Data, "search", "totalCount").(float64); int(total) != len(out) {
		t.Fatalf("search %q: totalCount %v, %d edges", q, total, len(out))
	}
	return out, r
}

func (h hits) titles() []string {
	var out []string
	for _, title := range h {
		out = append(out, title)
	}
	slices.Sort(out)
	return out
}

// bnShelf, tsShelf and qvShelf are three libraries' files. The book with
// ISBN 978-604-2-12345-7 is in all three (as ISBN-13 with and without
// hyphens, and as ISBN-10): one work with three holdings.
const (
	bnShelf = `title,author,isbn,year,publisher,barcode,call number,location
Thư viện trong nhà trường,Nguyễn Văn An,978-604-2-12345-7,2019,NXB Giáo dục,BN-0001,027.8 NG-A,Kho mở
Thư viện xanh của bé,Lê Thị Hoa,,2021,NXB Kim Đồng,BN-0002,895.9223 LE-H,Phòng thiếu nhi
Chiến tranh và hoà bình,Lev Tolstoy,,2015,NXB Văn học,BN-0003,891.73 TOL,Kho mở
Hòa bình cho em,Trần Minh,,2020,NXB Kim Đồng,BN-0004,895.92 TR-M,Phòng thiếu nhi
Vườn rau nhà em,Phạm Thu,,2018,NXB Nông nghiệp,BN-0005,635 PH-T,Kho mở
`
	tsShelf = `title,author,isbn,year,publisher,barcode,call number,location
Thư viện trong nhà trường,Nguyễn Văn An,6042123459,2019,NXB Giáo dục,TS-0001,027.8 NG-A,Kho đóng
Thư viện trong nhà trường,Nguyễn Văn An,6042123459,2019,NXB Giáo dục,TS-0002,027.8 NG-A,Kho đóng
Kỹ thuật trồng lúa,Hoàng Văn Nông,,2017,NXB Nông nghiệp,TS-0101,633.1 HO-N,Kho mở
`
	qvShelf = `title,author,isbn,year,publisher,barcode,call number,location
Thư viện trong nhà trường,Nguyễn Văn An,9786042123457,2019,NXB Giáo dục,QV-0001,027.8 NG-A,Kho mở
`
)

// shelves imports the three libraries' files as their librarians and waits
// until the index has them.
func (e *catalogEnv) shelves(t *testing.T) {
	t.Helper()
	e.mustImport(t, "BN", bnShelf)
	e.mustImport(t, "BN-TS", tsShelf)
	e.mustImport(t, "BN-QV", qvShelf)
	e.indexed(t)
}

// A reader finds Vietnamese titles however they type the words: without
// diacritics, with them, in capitals, decomposed (NFD), with the old or the
// new tone placement — always the same works.
func TestSearchFindsTheSameWorksWithOrWithoutDiacritics(t *testing.T) {
	e := newCatalogEnv(t)
	e.shelves(t)
	for _, tc := range []struct {
		queries []string
		want    []string
	}{
		{[]string{"thu vien", "thư viện", "THƯ VIỆN", norm.NFD.String("thư viện")},
			[]string{"Thư viện trong nhà trường", "Thư viện xanh của bé"}},
		{[]string{"hoà bình", "hòa bình", "hoa binh", norm.NFD.String("hoà bình")},
			[]string{"Chiến tranh và hoà bình", "Hòa bình cho em"}},
	} {
		first, r := doSearch(t, e.anon, tc.queries[0], nil)
		if got := first.titles(); !slices.Equal(got, tc.want) {
			t.Errorf("search %q found %q, want %q", tc.queries[0], got, tc.want)
		}
		if h, _ := field(r.Data, "search", "edges").([]any)[0].(map[string]any)["highlights"].(map[string]any)["title"].(string); !strings.Contains(h, "<mark>") {
			t.Errorf("search %q: title highlight %q has no <mark>", tc.queries[0], h)
		}
		for _, q := range tc.queries[1:] {
			if got, _ := doSearch(t, e.anon, q, nil); !sameWorks(got, first) {
				t.Errorf("search %q found %q; %q found %q", q, got.titles(), tc.queries[0], first.titles())
			}
		}
	}
}

// sameWorks reports whether two searches found the same works.
func sameWorks(a, b hits) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			return false
		}
	}
	return true
}

// The same book catalogued by three libraries is one work, with each
// library's copies counted in its holding; a copy's barcode leads to it.
func TestBookHeldByThreeLibrariesIsOneWorkWithThreeHoldings(t *testing.T) {
	e := newCatalogEnv(t)
	e.shelves(t)
	if _, err := e.a.Stores.Catalog.SetItemStatus(t.Context(), "TS-0002", []catalog.ItemStatus{catalog.StatusAvailable}, catalog.StatusOnLoan, time.Now()); err != nil {
		t.Fatal(err)
	}

	item := e.anon.do(`{ item(barcode: "TS-0002") { barcode status callNumber location library { code } work { id title } } }`, nil)
	if len(item.Errors) > 0 || field(item.Data, "item", "status") != "ON_LOAN" || field(item.Data, "item", "library", "code") != "BN-TS" ||
		field(item.Data, "item", "callNumber") != "027.8 NG-A" || field(item.Data, "item", "location") != "Kho đóng" ||
		field(item.Data, "item", "work", "title") != "Thư viện trong nhà trường" {
		t.Fatalf("item TS-0002: %+v", item)
	}
	if r := e.anon.do(`{ item(barcode: "KHONG-CO") { barcode } }`, nil); len(r.Errors) > 0 || field(r.Data, "item") != nil {
		t.Fatalf("an unknown barcode: %+v, want null", r)
	}
	// Every library's copy leads to the same work.
	id := field(item.Data, "item", "work", "id").(string)
	for _, bc := range []string{"BN-0001", "QV-0001"} {
		r := e.anon.do(`query($b: String!) { item(barcode: $b) { work { id } } }`, map[string]any{"b": bc})
		if field(r.Data, "item", "work", "id") != id {
			t.Errorf("copy %s belongs to work %v, want %s", bc, field(r.Data, "item", "work", "id"), id)
		}
	}

	w := e.anon.do(`query($id: ID!) { work(id: $id) { title isbns records { library { code } sourceFormat }
  holdings { library { code } total available onShelf callNumbers locations items { barcode status } }
  availability { total available libraries } } }`, map[string]any{"id": id})
	if len(w.Errors) > 0 {
		t.Fatalf("work: %+v", w.Errors)
	}
	if isbns := field(w.Data, "work", "isbns").([]any); len(isbns) != 1 || isbns[0] != "9786042123457" {
		t.Errorf("isbns %v", isbns)
	}
	if recs := field(w.Data, "work", "records").([]any); len(recs) != 3 {
		t.Errorf("%d records, want 3: %v", len(recs), recs)
	}
	type holding struct{ total, available, onShelf, items int }
	want := map[string]holding{"BN": {1, 1, 1, 1}, "BN-TS": {2, 1, 1, 2}, "BN-QV": {1, 1, 1, 1}}
	got := map[string]holding{}
	for _, h := range field(w.Data, "work", "holdings").([]any) {
		h := h.(map[string]any)
		n := func(k string) int { return int(h[k].(float64)) }
		got[field(h, "library", "code").(string)] = holding{n("total"), n("available"), n("onShelf"), len(h["items"].([]any))}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("holdings %v, want %v", got, want)
	}
	if a := field(w.Data, "work", "availability").(map[string]any); a["total"] != 4.0 || a["available"] != 3.0 || a["libraries"] != 3.0 {
		t.Errorf("availability %v, want 4 copies, 3 available, in 3 libraries", a)
	}
	if r := e.anon.do(`{ work(id: "khong-co") { id } }`, nil); len(r.Errors) > 0 || field(r.Data, "work") != nil {
		t.Errorf("an unknown work: %+v, want null", r)
	}
}

// Librarians import files into their own library's catalog only; a bad
// record is reported with its line and reason while the rest lands, and the
// same file imported again changes nothing.
func TestLibrarianImportsRecordsIntoTheirOwnCatalogOnly(t *testing.T) {
	e := newCatalogEnv(t)
	ts, qv := libraryID(t, e.anon, "BN-TS"), libraryID(t, e.anon, "BN-QV")
	staff := e.librarian(t, "BN-TS")
	const file = `title,author,year,barcode
Truyện Kiều,Nguyễn Du,2016,TS-1001
,Khuyết Danh,2010,TS-1002
Lục Vân Tiên,Nguyễn Đình Chiểu,2014,TS-1003
`
	for _, tc := range []struct {
		name      string
		c         *client
		libraryID string
		code      string
	}{
		{"another library's catalog", staff, qv, "FORBIDDEN"},
		{"anonymous", e.anon, ts, "UNAUTHENTICATED"},
	} {
		if r := importCSV(t, tc.c, tc.libraryID, file); r.code() != tc.code || field(r.Data, "importRecords") != nil {
			t.Errorf("import into %s: %+v, want %s", tc.name, r, tc.code)
		}
	}
	if counts, err := e.a.Stores.Catalog.Counts(t.Context()); err != nil || counts.Records != 0 {
		t.Fatalf("refused imports stored something: %+v, %v", counts, err)
	}

	first := importCSV(t, staff, ts, file)
	if len(first.Errors) > 0 {
		t.Fatalf("import into their own library: %+v", first.Errors)
	}
	p := field(first.Data, "importRecords").(map[string]any)
	if p["read"] != 3.0 || p["created"] != 2.0 || p["skipped"] != 1.0 || p["items"] != 2.0 {
		t.Errorf("first import: %v", p)
	}
	problems := p["problems"].([]any)
	if len(problems) != 1 || field(problems[0].(map[string]any), "position") != 3.0 || field(problems[0].(map[string]any), "reason") == "" {
		t.Errorf("problems %v, want line 3 with a reason", problems)
	}
	counts, _ := e.a.Stores.Catalog.Counts(t.Context())
	seq, _ := e.a.Stores.Catalog.LatestSeq(t.Context())
	if counts.Records != 2 || counts.Items != 2 {
		t.Errorf("after the import: %+v", counts)
	}

	again := importCSV(t, staff, ts, file)
	p = field(again.Data, "importRecords").(map[string]any)
	if len(again.Errors) > 0 || p["created"] != 0.0 || p["updated"] != 0.0 || p["unchanged"] != 2.0 || p["skipped"] != 1.0 {
		t.Errorf("second import: %+v", again)
	}
	counts2, _ := e.a.Stores.Catalog.Counts(t.Context())
	seq2, _ := e.a.Stores.Catalog.LatestSeq(t.Context())
	if counts2 != counts || seq2 != seq {
		t.Errorf("the second import changed the catalog: %+v → %+v, changes %d → %d", counts, counts2, seq, seq2)
	}
	e.indexed(t)
	if h, _ := doSearch(t, e.anon, "truyen kieu", nil); len(h) != 1 {
		t.Errorf("the imported book is not found: %v", h)
	}
}

// A checkout (here a status change in the store, as circulation will make
// it) shows in the next searches within a second or two, although the
// search before it was cached: the cache key moves with the index.
func TestCheckoutChangesAvailabilityInTheNextSearch(t *testing.T) {
	e := newCatalogEnv(t)
	e.shelves(t)
	onShelfAtTS := map[string]any{"availableAt": libraryID(t, e.anon, "BN-TS")}
	item := e.anon.do(`{ item(barcode: "TS-0101") { work { id } } }`, nil)
	work, _ := field(item.Data, "item", "work", "id").(string)
	if work == "" {
		t.Fatalf("item TS-0101: %+v", item)
	}
	// shown returns whether the search for the book with the filter finds
	// it, and its available copies in the search without the filter.
	const query = "kỹ thuật trồng lúa"
	shown := func() (onShelf bool, available any) {
		h, _ := doSearch(t, e.anon, query, onShelfAtTS)
		_, onShelf = h[work]
		_, all := doSearch(t, e.anon, query, nil)
		for _, edge := range field(all.Data, "search", "edges").([]any) {
			if n := edge.(map[string]any)["node"].(map[string]any); n["id"] == work {
				available = field(n, "availability", "available")
			}
		}
		return onShelf, available
	}

	// Cached before the checkout: the repeated search is a cache hit.
	hitsBefore := cacheHits(e.a)
	for range 2 {
		if onShelf, available := shown(); !onShelf || available != 1.0 {
			t.Fatalf("before the checkout: on the shelf at Từ Sơn %v, %v available", onShelf, available)
		}
	}
	if hits := cacheHits(e.a); hits <= hitsBefore {
		t.Fatal("the repeated search was not answered from the cache")
	}

	for _, step := range []struct {
		from, to catalog.ItemStatus
		onShelf  bool
	}{
		{catalog.StatusAvailable, catalog.StatusOnLoan, false},
		{catalog.StatusOnLoan, catalog.StatusAvailable, true},
	} {
		changed := time.Now()
		if _, err := e.a.Stores.Catalog.SetItemStatus(t.Context(), "TS-0101", []catalog.ItemStatus{step.from}, step.to, changed); err != nil {
			t.Fatal(err)
		}
		want := 0.0
		if step.onShelf {
			want = 1
		}
		for {
			onShelf, available := shown()
			if onShelf == step.onShelf && available == want {
				t.Logf("%s → %s shown after %s", step.from, step.to, time.Since(changed).Round(time.Millisecond))
				break
			}
			if time.Since(changed) > 2*time.Second {
				w, _ := e.a.Index.Watermark()
				latest, _ := e.a.Stores.Catalog.LatestSeq(t.Context())
				t.Fatalf("%s → %s: after 2s the search still says on the shelf at Từ Sơn %v, %v available (index at change %d of %d)",
					step.from, step.to, onShelf, available, w, latest)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// /metrics shows the hits and misses of the response and search caches,
// whose ratio is the hit ratio: three identical anonymous searches are one
// miss of both, then two whole responses reused.
func TestCacheHitRatiosAreOnMetrics(t *testing.T) {
	e := newCatalogEnv(t)
	e.shelves(t)
	scrape := func() map[string]float64 {
		t.Helper()
		resp, err := http.Get(e.srv.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		out := map[string]float64{}
		for _, cache := range []string{"search", "response"} {
			for _, result := range []string{"hit", "miss"} {
				m := regexp.MustCompile(`(?m)^thuvienso_cache_lookups_total\{cache="` + cache + `",result="` + result + `"\} (\S+)$`).FindSubmatch(body)
				if m == nil {
					t.Fatalf("no %s cache %s counter on /metrics:\n%s", cache, result, body)
				}
				out[cache+" "+result], _ = strconv.ParseFloat(string(m[1]), 64)
			}
		}
		return out
	}
	before := scrape()
	for range 3 {
		doSearch(t, e.anon, "vườn rau", nil)
	}
	after := scrape()
	for counter, want := range map[string]float64{"response hit": 2, "response miss": 1, "search hit": 0, "search miss": 1} {
		if got := after[counter] - before[counter]; got != want {
			t.Errorf("three identical anonymous searches: %s %v, want %v", counter, got, want)
		}
	}
}

// cacheHits counts the answers a's caches gave: whole anonymous responses
// and search pages.
func cacheHits(a *App) uint64 {
	hits, _ := a.Searcher.CacheStats()
	if rc := a.Server.ResponseCache(); rc != nil {
		h, _ := rc.Stats()
		hits += h
	}
	return hits
}

// Two readers and a visitor opening the same search page share one answer
// (it does not depend on who asks), while each reader's own account is
// computed for them and never shown to another.
func TestReadersShareSearchPagesButNotTheirAccounts(t *testing.T) {
	e := newCatalogEnv(t)
	e.shelves(t)
	login := func(email string) *client {
		r := e.anon.do(loginMutation, map[string]any{"login": email, "pw": demo.Password})
		token, _ := field(r.Data, "login", "accessToken").(string)
		if token == "" {
			t.Fatalf("login %s: %+v", email, r)
		}
		return &client{t: t, url: e.srv.URL, token: token}
	}
	lan, mai := login("ban.doc@example.vn"), login("doc.gia@example.vn")
	rc := e.a.Server.ResponseCache()
	hits := func() uint64 { h, _ := rc.Stats(); return h }

	before := hits()
	first, _ := doSearch(t, lan, "vườn rau", nil)
	again, _ := doSearch(t, mai, "vườn rau", nil)
	anon, _ := doSearch(t, e.anon, "vườn rau", nil)
	if got := hits() - before; got != 2 {
		t.Fatalf("the same search by two readers and a visitor: %d answers from the response cache, want 2", got)
	}
	if len(first) == 0 || !reflect.DeepEqual(first, again) || !reflect.DeepEqual(first, anon) {
		t.Fatalf("shared answers differ: %v / %v / %v", first, again, anon)
	}

	const me = `{ me { name } }`
	before = hits()
	for range 2 {
		for name, c := range map[string]*client{"Nguyễn Thị Lan": lan, "Ngô Thị Mai": mai} {
			r := c.do(me, nil)
			if got := field(r.Data, "me", "name"); got != name {
				t.Fatalf("%s was answered me = %v (%+v)", name, got, r.Errors)
			}
		}
	}
	if got := hits() - before; got != 0 {
		t.Fatalf("a reader's own account came from the response cache %d times", got)
	}
}
