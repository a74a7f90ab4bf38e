package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bacninh/thuvienso/config"
	"github.com/bacninh/thuvienso/demo"
	"github.com/bacninh/thuvienso/lock"
	"github.com/bacninh/thuvienso/notifications"
	"github.com/bacninh/thuvienso/redis/redistest"
	"github.com/bacninh/thuvienso/signing"
)

// The tests of this file run several instances of the service in one
// process, as production runs several behind a reverse proxy, and check
// that they behave as one: what one instance does, the others show.

// followDeadline bounds how long a test waits for an instance's search
// index to follow a change made through another. The follower polls every
// 200 ms, so a change shows within about a second; the bound is generous
// for a loaded machine under -race, and the lag seen is logged.
const followDeadline = 10 * time.Second

// cluster is several instances started together, as a deployment starts
// them: one store (here one SQLite database in one DATA_DIR; MongoDB in
// production), one KEYS_DIR, empty at start, one Redis, and for each
// instance its own search index (INDEX_DIR). The first seeds the demo
// province. They share a clock the test moves.
type cluster struct {
	t     *testing.T
	clock *testClock
	dir   string
	nodes []*instance
	// redis is the Redis they share (the fault tests stop and restart it).
	redis *redistest.Server
}

// instance is one server of a cluster.
type instance struct {
	name string
	app  *App
	srv  *httptest.Server
}

// newCluster starts n instances at once on a throw-away redis-server
// (skipping the test when redis-server is not installed), with args as
// extra command-line settings of every instance.
func newCluster(t *testing.T, n int, args ...string) *cluster {
	t.Helper()
	rs := redistest.Start(t)
	c := &cluster{t: t, clock: &testClock{t: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)}, dir: t.TempDir(), nodes: make([]*instance, n), redis: rs}
	t.Cleanup(func() {
		for _, in := range c.nodes {
			if in != nil {
				in.srv.Close()
				_ = in.app.Close(context.Background())
			}
		}
	})
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		name := string(rune('A' + i))
		seed := "never"
		if i == 0 {
			seed = "auto"
		}
		// Every client of the test is anonymous from 127.0.0.1 until it
		// logs in, and the tests poll: the per-IP limit is off, as behind a
		// reverse proxy (docs/DEPLOYMENT.md).
		cfg, err := config.Load(append([]string{"-data-dir", c.dir, "-keys-dir", filepath.Join(c.dir, "keys"),
			"-index-dir", filepath.Join(t.TempDir(), "index-"+name), "-redis-url", rs.URL(),
			"-demo", seed, "-demo-catalog=false", "-rate-limit-ip", "0"}, args...), func(string) string { return "" })
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			a, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), WithClock(c.clock.Now))
			if err != nil {
				errs[i] = fmt.Errorf("instance %s: %w", name, err)
				return
			}
			c.nodes[i] = &instance{name: name, app: a, srv: httptest.NewServer(a.Server)}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return c
}

// client talks to instance i with token (anonymous when "").
func (c *cluster) client(i int, token string) *client {
	return &client{t: c.t, url: c.nodes[i].srv.URL, token: token, lang: "en"}
}

// login logs a demo account in on instance i; it returns the client and
// the refresh token.
func (c *cluster) login(i int, email string) (*client, string) {
	c.t.Helper()
	cl := c.client(i, "")
	r := cl.do(loginMutation, map[string]any{"login": email, "pw": demo.Password})
	token, _ := field(r.Data, "login", "accessToken").(string)
	if token == "" {
		c.t.Fatalf("login %s on %s: %+v", email, c.nodes[i].name, r.Errors)
	}
	cl.token = token
	return cl, field(r.Data, "login", "refreshToken").(string)
}

// reader logs a demo account in on instance i.
func (c *cluster) reader(i int, email string) *client {
	c.t.Helper()
	cl, _ := c.login(i, email)
	return cl
}

// on is the same login talking to instance i.
func (cl *client) on(c *cluster, i int) *client {
	cp := *cl
	cp.url = c.nodes[i].srv.URL
	return &cp
}

// ebookTitle adds an e-book title with one license, as the admin.
func (c *cluster) ebookTitle(admin *client, name string, license map[string]any) string {
	c.t.Helper()
	r := admin.do(`mutation($in: AddEbookTitleInput!) { addEbookTitle(input: $in) { title { id } } }`, map[string]any{"in": map[string]any{
		"workId": "work-" + name, "format": "EPUB", "title": name, "authors": []string{"Nguyễn Du"}, "contentRef": name + ".epub"}})
	id, _ := field(r.Data, "addEbookTitle", "title", "id").(string)
	if id == "" {
		c.t.Fatalf("addEbookTitle: %+v", r.Errors)
	}
	in := map[string]any{"titleId": id}
	for k, v := range license {
		in[k] = v
	}
	if r := admin.do(`mutation($in: AddEbookLicenseInput!) { addEbookLicense(input: $in) { license { id } } }`, map[string]any{"in": in}); len(r.Errors) > 0 {
		c.t.Fatalf("addEbookLicense: %+v", r.Errors)
	}
	return id
}

// eventually calls cond until it holds, failing the test after
// followDeadline; it returns how long that took.
func eventually(t *testing.T, what string, cond func() bool) time.Duration {
	t.Helper()
	return waitFor(t, what, followDeadline, cond)
}

// holdLock takes the lock named key through locker for the test, waiting
// while a background pass of some instance holds it.
func holdLock(t *testing.T, locker lock.Locker, key string) lock.Lease {
	t.Helper()
	var lease lock.Lease
	eventually(t, "taking the lock "+key, func() bool {
		l, err := locker.TryObtain(t.Context(), key, time.Minute)
		if err != nil && !errors.Is(err, lock.ErrNotObtained) {
			t.Fatalf("lock %s: %v", key, err)
		}
		lease = l
		return err == nil
	})
	return lease
}

// settle waits until no pass holds the lock named key (so that every pass
// started before has finished).
func settle(t *testing.T, locker lock.Locker, key string) {
	t.Helper()
	if err := holdLock(t, locker, key).Release(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// TestInstancesStartedTogetherHonourEachOthersTokensCardsAndLinks starts
// three instances at once on an empty KEYS_DIR: they agree on the keys, so
// an access token, a refresh token, a card code and an e-book link made by
// one are good at the others, and a card code verified at one is refused
// when replayed at another. A card key rotated while they run is used and
// published by all of them.
func TestInstancesStartedTogetherHonourEachOthersTokensCardsAndLinks(t *testing.T) {
	c := newCluster(t, 3)
	reader, refresh := c.login(0, "ban.doc@example.vn")
	var id string
	for i := range c.nodes {
		r := reader.on(c, i).do(`{ me { id } }`, nil)
		got, _ := field(r.Data, "me", "id").(string)
		if got == "" || (id != "" && got != id) {
			t.Fatalf("an access token of A on %s: %+v", c.nodes[i].name, r)
		}
		id = got
	}
	r := c.client(2, "").do(`mutation($t: String!) { refreshToken(input: {refreshToken: $t}) { accessToken } }`, map[string]any{"t": refresh})
	fresh, _ := field(r.Data, "refreshToken", "accessToken").(string)
	if fresh == "" {
		t.Fatalf("a refresh token of A on C: %+v", r.Errors)
	}
	if r := c.client(1, fresh).do(`{ me { id } }`, nil); field(r.Data, "me", "id") != id {
		t.Fatalf("an access token of C on B: %+v", r)
	}

	// The reader's card code, made by A, passes B's desk once; replayed at
	// C's desk, it is refused (the codes seen are shared through Redis).
	desk, _ := c.login(1, demo.LibrarianEmail("BN"))
	_, code := cardOf(t, reader)
	if v := desk.do(verifyMutation, map[string]any{"t": code}); field(v.Data, "verifyCard", "verification", "status") != "ACTIVE" {
		t.Fatalf("A's card code at B's desk: %+v %+v", v.Data, v.Errors)
	}
	wantCode(t, "the code replayed at C's desk", desk.on(c, 2).do(verifyMutation, map[string]any{"t": code}), "BAD_USER_INPUT")

	// `thuvienso keys rotate -set card` while they run: A signs with the
	// new key, B verifies it and publishes it first.
	ks, err := signing.LoadOrCreate(filepath.Join(c.dir, "keys", "card"))
	if err != nil {
		t.Fatal(err)
	}
	newKey, err := ks.Rotate(2)
	if err != nil {
		t.Fatal(err)
	}
	_, code = cardOf(t, reader)
	if v := desk.do(verifyMutation, map[string]any{"t": code}); field(v.Data, "verifyCard", "verification", "status") != "ACTIVE" {
		t.Fatalf("a code of the rotated key at B's desk: %+v %+v", v.Data, v.Errors)
	}
	resp, err := http.Get(c.nodes[1].srv.URL + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	var jwks struct{ Keys []struct{ Kid string } }
	err = json.NewDecoder(resp.Body).Decode(&jwks)
	resp.Body.Close()
	if err != nil || len(jwks.Keys) < 2 || jwks.Keys[0].Kid != newKey.ID {
		t.Fatalf("B's JWKS after the rotation: %+v %v, want %s first", jwks, err, newKey.ID)
	}

	// New opening hours saved through B show on A and C at once, though
	// each keeps its libraries in memory (library.CachedStore, whose
	// snapshot would otherwise live a minute): B announces the change.
	bn := libraryID(t, desk, "BN")
	for _, i := range []int{0, 2} { // both hold a snapshot with the old hours
		c.client(i, "").do(`query($id: ID) { library(id: $id) { openingHours { closes } } }`, map[string]any{"id": bn})
	}
	if r := desk.do(`mutation($in: UpdateLibraryInput!) { updateLibrary(input: $in) { library { id } } }`, map[string]any{"in": map[string]any{
		"id": bn, "openingHours": []map[string]any{{"weekday": "SUNDAY", "opens": "08:00", "closes": "21:45"}}}}); len(r.Errors) > 0 {
		t.Fatalf("updateLibrary on B: %+v", r.Errors)
	}
	for _, i := range []int{0, 2} {
		took := eventually(t, "the new hours on "+c.nodes[i].name, func() bool {
			r := c.client(i, "").do(`query($id: ID) { library(id: $id) { openingHours { closes } } }`, map[string]any{"id": bn})
			hours, _ := field(r.Data, "library", "openingHours").([]any)
			return len(hours) == 1 && fmt.Sprint(hours[0]) == "map[closes:21:45]"
		})
		t.Logf("the new hours showed on %s after %v", c.nodes[i].name, took)
	}

	// An e-book borrowed through A downloads from B and C.
	admin, _ := c.login(0, "admin@"+demo.StaffEmailDomain)
	title := c.ebookTitle(admin, "shared-link", map[string]any{"model": "OPEN_ACCESS"})
	if err := c.nodes[0].app.EbookContent.Put(t.Context(), "shared-link.epub", strings.NewReader("epub bytes")); err != nil {
		t.Fatal(err)
	}
	loan := borrow(reader, title, nil)
	mustLoan(t, loan)
	link := field(loan.Data, "borrowEbook", "loan", "contentLink", "url").(string)
	for _, i := range []int{1, 2} {
		resp, err := http.Get(c.nodes[i].srv.URL + link)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(body) != "epub bytes" {
			t.Fatalf("A's content link on %s: %d %q", c.nodes[i].name, resp.StatusCode, body)
		}
	}
}

// TestInstancesFindWhatAnotherImportedWithItsCurrentAvailability imports a
// file through A: B and C find the work within about a second. A cached
// search on B then follows a copy's status change made through A: the
// cache key carries the watermark of the instance's index, so nothing is
// invalidated and nothing stale is read; once the indexes are in step, A
// reads the answer B cached.
func TestInstancesFindWhatAnotherImportedWithItsCurrentAvailability(t *testing.T) {
	c := newCluster(t, 3)
	bn := libraryID(t, c.client(0, ""), "BN")
	desk, _ := c.login(0, demo.LibrarianEmail("BN"))
	const csv = "title,author,isbn,year,publisher,barcode,call number,location\n" +
		"Tìm về đất Kinh Bắc,Nguyễn Văn Huyên,,2021,NXB Văn hoá,BN-KB-1,915.97 NG-H,Kho mở\n"
	if r := importCSV(t, desk, bn, csv); len(r.Errors) > 0 || field(r.Data, "importRecords", "created") != 1.0 {
		t.Fatalf("import through A: %+v %+v", r.Data, r.Errors)
	}
	imported := time.Now()
	onShelf := map[string]any{"availableAt": bn}
	for _, i := range []int{1, 2} {
		eventually(t, "the import searchable on "+c.nodes[i].name, func() bool {
			h, _ := doSearch(t, c.client(i, ""), "dat kinh bac", onShelf)
			return len(h) == 1
		})
		t.Logf("the import was found on %s %v after A answered", c.nodes[i].name, time.Since(imported).Round(time.Millisecond))
	}

	b := c.nodes[1]
	before, err := b.app.Index.Watermark()
	if err != nil {
		t.Fatal(err)
	}
	hits := cacheHits(b.app)
	if h, _ := doSearch(t, c.client(1, ""), "dat kinh bac", onShelf); len(h) != 1 {
		t.Fatalf("the same search again on B: %v", h)
	}
	if now := cacheHits(b.app); now != hits+1 {
		t.Fatalf("the repeated search on B was not answered from the cache (hits %d → %d)", hits, now)
	}

	r := desk.do(`mutation { markItemDamaged(input: {barcode: "BN-KB-1"}) { item { status } } }`, nil)
	if field(r.Data, "markItemDamaged", "item", "status") != "DAMAGED" {
		t.Fatalf("markItemDamaged through A: %+v %+v", r.Data, r.Errors)
	}
	took := eventually(t, "B's cached search following the change", func() bool {
		h, _ := doSearch(t, c.client(1, ""), "dat kinh bac", onShelf)
		return len(h) == 0
	})
	t.Logf("B's search dropped the damaged copy %v after A answered", took.Round(time.Millisecond))
	if after, _ := b.app.Index.Watermark(); after <= before {
		t.Fatalf("B's answer changed but its watermark did not move (%d → %d)", before, after)
	}

	latest, err := b.app.Stores.Catalog.LatestSeq(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "every index at the latest change", func() bool {
		for _, n := range c.nodes {
			if w, err := n.app.Index.Watermark(); err != nil || w != latest {
				return false
			}
		}
		return true
	})
	a := c.nodes[0]
	hits = cacheHits(a.app)
	if h, _ := doSearch(t, c.client(0, ""), "dat kinh bac", onShelf); len(h) != 0 {
		t.Fatalf("A's search after the change: %v", h)
	}
	if now := cacheHits(a.app); now != hits+1 {
		t.Fatalf("A did not read the answer B cached at the same watermark (hits %d → %d)", hits, now)
	}
}

// TestInstancesRunTheSchedulerOneAtATimeAndEachThingHappensOnce: while
// one instance holds the e-book expiry lock or the dispatch lock, the
// others' passes do nothing; passes run at once from every instance end
// each loan once, give each freed copy to one waiting reader, and make
// each notification once.
func TestInstancesRunTheSchedulerOneAtATimeAndEachThingHappensOnce(t *testing.T) {
	c := newCluster(t, 3)
	ctx := t.Context()
	admin, _ := c.login(0, "admin@"+demo.StaffEmailDomain)
	title := c.ebookTitle(admin, "exam-season", map[string]any{"model": "ONE_COPY_ONE_USER", "concurrency": 2})
	borrowers := []*client{c.reader(0, "ban.doc@example.vn"), c.reader(1, "doc.gia@example.vn")}
	for _, b := range borrowers {
		mustLoan(t, borrow(b, title, map[string]any{"days": 7}))
	}
	waiting := []*client{c.reader(1, "hoc.sinh@example.vn"), c.reader(2, "vu.duc.anh@example.vn"), c.reader(2, "be.an@example.vn")}
	for i, w := range waiting {
		r := borrow(w, title, map[string]any{"holdIfUnavailable": true})
		if field(r.Data, "borrowEbook", "hold", "position") != float64(i+1) {
			t.Fatalf("hold %d: %+v %+v", i+1, r.Data, r.Errors)
		}
	}
	store := c.nodes[0].app.Stores.Ebooks
	dueLoans := func() int {
		due, err := store.ActiveLoansEndingBefore(ctx, c.clock.Now(), 10)
		if err != nil {
			t.Fatal(err)
		}
		return len(due)
	}

	// B holds the dispatch lock and A the expiry lock from before the loans
	// end, so that no background pass of any instance runs in between.
	dispatch := notifications.DefaultDispatcherConfig().LockKey
	dispatchLease := holdLock(t, c.nodes[1].app.Locker, dispatch)
	expiryLease := holdLock(t, c.nodes[0].app.Locker, expiryLockKey)
	c.clock.Advance(8 * 24 * time.Hour)
	// B's and C's expiry passes leave the loans alone.
	for _, n := range c.nodes[1:] {
		n.app.runEbookExpiry(ctx)
	}
	if n := dueLoans(); n != 2 {
		t.Fatalf("%d loans past their end are still active while A holds the lock, want 2", n)
	}
	if err := expiryLease.Release(ctx); err != nil {
		t.Fatal(err)
	}
	// Every instance runs passes at once.
	var wg sync.WaitGroup
	for _, n := range c.nodes {
		for range 3 {
			wg.Go(func() { n.app.runEbookExpiry(ctx) })
		}
	}
	wg.Wait()
	settle(t, c.nodes[2].app.Locker, expiryLockKey)
	if n := dueLoans(); n != 0 {
		t.Fatalf("%d loans past their end are still active after the passes", n)
	}
	for i, w := range waiting {
		want := "RESERVED"
		if i == 2 {
			want = "WAITING"
		}
		if hs := myHolds(t, w.on(c, (i+1)%3)); len(hs) != 1 || hs[0]["state"] != want {
			t.Fatalf("waiting reader %d after the expiry: %v, want %s", i+1, hs, want)
		}
	}
	r := admin.on(c, 1).do(`query($id: ID!) { ebookTitle(id: $id) { availability { availableCopies holds } licenses { inUse } } }`,
		map[string]any{"id": title})
	av, _ := field(r.Data, "ebookTitle", "availability").(map[string]any)
	ls, _ := field(r.Data, "ebookTitle", "licenses").([]any)
	if av == nil || len(ls) != 1 || av["availableCopies"] != 0.0 || ls[0].(map[string]any)["inUse"] != 2.0 {
		t.Fatalf("after two loans ended and two holds were served: %+v %+v (want 0 available, 2 in use)", r.Data, r.Errors)
	}

	// B still holds the dispatch lock: A's and C's passes make no
	// notification.
	for _, i := range []int{0, 2} {
		if rep, err := c.nodes[i].app.NotificationDispatcher.Pass(ctx); err != nil || !rep.Empty() {
			t.Fatalf("%s's pass while B holds the lock: %+v %v", c.nodes[i].name, rep, err)
		}
	}
	if r := waiting[0].do(`{ unreadNotificationCount }`, nil); field(r.Data, "unreadNotificationCount") != 0.0 {
		t.Fatalf("a notification was made while B held the lock: %+v", r)
	}
	if err := dispatchLease.Release(ctx); err != nil {
		t.Fatal(err)
	}
	for _, n := range c.nodes {
		for range 3 {
			wg.Go(func() {
				if _, err := n.app.NotificationDispatcher.Pass(ctx); err != nil {
					t.Errorf("%s's dispatch pass: %v", n.name, err)
				}
			})
		}
	}
	wg.Wait()
	settle(t, c.nodes[0].app.Locker, dispatch)
	const inbox = `{ notifications(first: 50) { totalCount edges { node { kind subjectId } } } }`
	for i, who := range append(borrowers, waiting...) {
		r := who.on(c, i%3).do(inbox, nil)
		if len(r.Errors) > 0 {
			t.Fatalf("inbox: %+v", r.Errors)
		}
		seen, reserved := map[string]bool{}, 0
		for _, e := range field(r.Data, "notifications", "edges").([]any) {
			n := e.(map[string]any)["node"].(map[string]any)
			key := fmt.Sprint(n["kind"], " ", n["subjectId"])
			if seen[key] {
				t.Errorf("reader %d has the notification %s twice", i+1, key)
			}
			seen[key] = true
			if n["kind"] == "EBOOK_HOLD_RESERVED" {
				reserved++
			}
		}
		want := 0
		if who == waiting[0] || who == waiting[1] {
			want = 1
		}
		if reserved != want {
			t.Errorf("reader %d has %d EBOOK_HOLD_RESERVED notifications, want %d: %v", i+1, reserved, want, seen)
		}
	}
}

// TestInstancesDeliverSubscriptionsCausedOnAnother: a reader's app
// connected to B hears the change of their e-book hold made through A, and
// one connected to C hears a notification made on A.
func TestInstancesDeliverSubscriptionsCausedOnAnother(t *testing.T) {
	needSharedTools(t, "graphql-ws")
	c := newCluster(t, 3)
	admin, _ := c.login(0, "admin@"+demo.StaffEmailDomain)
	title := c.ebookTitle(admin, "live-everywhere", map[string]any{"model": "ONE_COPY_ONE_USER", "concurrency": 1})
	mustLoan(t, borrow(c.reader(2, "doc.gia@example.vn"), title, nil))
	reader := c.reader(0, "ban.doc@example.vn")
	h := borrow(reader, title, map[string]any{"holdIfUnavailable": true})
	holdID, _ := field(h.Data, "borrowEbook", "hold", "id").(string)
	if holdID == "" {
		t.Fatalf("hold: %+v", h.Errors)
	}
	line := subscribeAt(t, c.nodes[1].srv.URL, reader.token, `subscription { ebookHoldUpdated { id state } }`, func(i int) {
		m := `mutation($id: ID!) { suspendEbookHold(input: {holdId: $id}) { hold { state } } }`
		if i%2 == 1 {
			m = `mutation($id: ID!) { resumeEbookHold(input: {holdId: $id}) { hold { state } } }`
		}
		if r := reader.do(m, map[string]any{"id": holdID}); len(r.Errors) > 0 {
			t.Errorf("toggling the hold through A: %+v", r.Errors)
		}
	})
	if !strings.Contains(line, `"ebookHoldUpdated"`) || !strings.Contains(line, holdID) {
		t.Fatalf("the subscription on B said: %s", line)
	}

	readerID := field(reader.do(`{ me { id } }`, nil).Data, "me", "id").(string)
	line = subscribeAt(t, c.nodes[2].srv.URL, reader.token, `subscription { notificationReceived { kind subjectId } }`, func(i int) {
		_, _, err := c.nodes[0].app.Notifications.Notify(context.Background(), notifications.Request{ReaderID: readerID,
			Kind: notifications.LibraryNews, SubjectID: fmt.Sprintf("news-%d", i), Moment: c.clock.Now(),
			Data: map[string]string{"title": "Giờ mở cửa dịp Tết"}})
		if err != nil {
			t.Errorf("notifying on A: %v", err)
		}
	})
	if !strings.Contains(line, `"LIBRARY_NEWS"`) || !strings.Contains(line, `"news-`) {
		t.Fatalf("the subscription on C said: %s", line)
	}
}
