package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bacninh/thuvienso/loadgen"
	"github.com/bacninh/thuvienso/vietnamese"
)

// The operations of the report, in its order.
const (
	opSearch         = "search"
	opSearchFolded   = "search, no diacritics"
	opWork           = "work page"
	opAccount        = "account"
	opCard           = "card refresh"
	opPlaceHold      = "placeHold"
	opCancelHold     = "cancelHold"
	opBorrowEbook    = "borrowEbook"
	opReturnEbook    = "returnEbook"
	opSearchUncached = "search, uncached"
	opSearchCached   = "search, cached"
	opBare           = "bare net/http handler"
)

// mixedOps are the operations of the mixed workload.
var mixedOps = []string{opSearch, opSearchFolded, opWork, opAccount, opCard, opPlaceHold, opCancelHold, opBorrowEbook, opReturnEbook}

// The GraphQL documents the clients send: what the apps ask for on each
// screen.
const (
	searchDoc = `query Search($query: String!, $filter: SearchFilter, $first: Int, $facetSize: Int) {
  search(query: $query, filter: $filter, first: $first, facetSize: $facetSize) {
    totalCount relaxed
    pageInfo { hasNextPage endCursor }
    edges { cursor highlights { title authors } node { id title authors { name } year format availability { total available libraries } } }
    facets { name other values { value label count } }
  }
}`
	workDoc = `query Work($id: ID!) {
  work(id: $id) {
    id title subtitle authors { name role } year format languages isbns subjects series publisher summary physicalDescription
    availability { total available libraries }
    records { library { name } sourceFormat title }
    holdings { library { id name district } total available onShelf callNumbers items { barcode status callNumber location } }
  }
}`
	accountDoc = `query Account {
  me { id name cardNumber homeLibrary { name } }
  myLoans(first: 20) { totalCount edges { node { id dueAt overdue renewable work { title } } } }
  myHolds(first: 20) { totalCount edges { node { id state position queueLength work { title } pickupLibrary { name } } } }
  myEbookLoans(first: 20) { totalCount edges { node { id endsAt title { title } } } }
  unreadNotificationCount
  notifications(first: 10) { edges { node { id title read createdAt } } }
}`
	cardDoc       = `query Card { digitalCard { number barcodeValue status token tokenExpiresAt refreshAt } }`
	placeHoldDoc  = `mutation PlaceHold($input: PlaceHoldInput!) { placeHold(input: $input) { hold { id state position queueLength } } }`
	cancelHoldDoc = `mutation CancelHold($id: ID!) { cancelHold(input: { holdId: $id }) { hold { id state } } }`
	borrowDoc     = `mutation Borrow($input: BorrowEbookInput!) { borrowEbook(input: $input) { loan { id endsAt contentLink { url expiresAt } } hold { id position } } }`
	returnDoc     = `mutation Return($id: ID!) { returnEbook(input: { loanId: $id }) { loan { id state } } }`

	loginDoc    = `mutation Login($login: String!, $password: String!) { login(input: { login: $login, password: $password }) { accessToken refreshToken } }`
	registerDoc = `mutation Register($input: RegisterInput!) { register(input: $input) { accessToken refreshToken account { id cardNumber } } }`
	refreshDoc  = `mutation Refresh($token: String!) { refreshToken(input: { refreshToken: $token }) { accessToken refreshToken } }`
	pickupsDoc  = `query Pickups { libraries(first: 100, filter: { pickupOnly: true }) { edges { node { id code type } } } }`
	worksDoc    = `query Works($query: String!, $filter: SearchFilter) { search(query: $query, filter: $filter, first: 50) { edges { node { id } } } }`
	addTitleDoc = `mutation AddTitle($input: AddEbookTitleInput!) { addEbookTitle(input: $input) { title { id } } }`
	addLicDoc   = `mutation AddLicense($input: AddEbookLicenseInput!) { addEbookLicense(input: $input) { license { id } } }`
)

// expectedCodes are the business outcomes the workload counts as normal,
// per operation: a reader who finds every copy of a title lent.
var expectedCodes = map[string][]string{
	opBorrowEbook: {"NO_COPY_AVAILABLE"},
}

// workload is what the clients run against: the readers, works and
// e-books the set-up made through the API, and the searches.
type workload struct {
	gql     *loadgen.GraphQL
	readers []*loadReader
	// works are work pages to open; holdable ones take a hold at every
	// reader's pickup library.
	works, holdable []string
	// titles are e-book titles with licenses.
	titles   []string
	searches []loadSearch
	// cachedBody is the cached-search request, cachedAnswer the server's
	// answer to it as sent (what the bare server serves).
	cachedBody, cachedAnswer []byte
	// uncachedSeq numbers the uncached searches: each is unique.
	uncachedSeq atomic.Int64
}

// loadReader is a reader account the set-up registered.
type loadReader struct {
	email          string
	token, refresh string
	issued         time.Time
	pickupID       string
}

// loadSearch is a search of the mix as a GraphQL request.
type loadSearch struct {
	q      benchQuery
	folded bool // typed without diacritics (or an ISBN, or no text)
	body   []byte
}

// setupStats say what the set-up made and what it took.
type setupStats struct {
	readers, pickups, works, holdable, titles int
	took                                      time.Duration
}

// searchRequest is the search GraphQL request of a query of the mix.
func searchRequest(query string, filter map[string]any, first, facetSize int) loadgen.Request {
	v := map[string]any{"query": query, "first": first, "facetSize": facetSize}
	if len(filter) > 0 {
		v["filter"] = filter
	}
	return loadgen.Request{Query: searchDoc, Variables: v}
}

// searchFilter is a search.Filter as the GraphQL SearchFilter input.
func searchFilter(q benchQuery) map[string]any {
	f := q.req.Filter
	m := map[string]any{}
	if len(f.LibraryIDs) > 0 {
		m["libraryIds"] = f.LibraryIDs
	}
	if len(f.Districts) > 0 {
		m["districts"] = f.Districts
	}
	if len(f.LibraryTypes) > 0 {
		m["libraryTypes"] = f.LibraryTypes
	}
	if len(f.Formats) > 0 {
		m["formats"] = f.Formats
	}
	if f.YearFrom != 0 {
		m["yearFrom"] = f.YearFrom
	}
	if f.YearTo != 0 {
		m["yearTo"] = f.YearTo
	}
	if f.AvailableAt != "" {
		m["availableAt"] = f.AvailableAt
	}
	return m
}

// loadSearches turns the catalog benchmark's mix into GraphQL requests.
func loadSearches(mix []benchQuery) []loadSearch {
	out := make([]loadSearch, len(mix))
	for i, q := range mix {
		text := q.req.Query
		out[i] = loadSearch{q: q, folded: vietnamese.Fold(text) == text,
			body: searchRequest(text, searchFilter(q), 20, 10).Body()}
	}
	return out
}

// post sends a request and returns its data, or an error for a transport
// failure or any GraphQL error.
func post(ctx context.Context, gql *loadgen.GraphQL, token string, r loadgen.Request, data any) error {
	res, _, err := gql.Post(ctx, token, r.Body())
	if err != nil {
		return err
	}
	if err := res.Err(); err != nil {
		return err
	}
	if data == nil {
		return nil
	}
	return json.Unmarshal(res.Data, data)
}

// setUpWorkload makes, through the API, what the clients need: readers
// registered (one per client, each logged in once by registering: argon2
// is costly and stays out of the measured loop) and their digital cards,
// works to open and to place holds on, e-book titles with licenses.
func setUpWorkload(ctx context.Context, gql *loadgen.GraphQL, admin *adminLogin, mix []benchQuery, readers int, st *setupStats, log *slog.Logger) (*workload, error) {
	start := time.Now()
	w := &workload{gql: gql, searches: loadSearches(mix)}
	var login struct {
		Login struct{ AccessToken string } `json:"login"`
	}
	if err := post(ctx, gql, "", loadgen.Request{Query: loginDoc, Variables: map[string]any{"login": admin.email, "password": loadPassword}}, &login); err != nil {
		return nil, fmt.Errorf("bench load: administrator login: %w", err)
	}
	adminToken := login.Login.AccessToken
	pickups, err := pickupLibraries(ctx, gql, admin)
	if err != nil {
		return nil, err
	}
	log.Info("registering readers", "readers", readers, "pickup libraries", len(pickups))
	if w.readers, err = registerReaders(ctx, gql, readers, pickups); err != nil {
		return nil, err
	}
	if w.works, err = collectWorks(ctx, gql, w.searches); err != nil {
		return nil, err
	}
	if w.holdable, err = holdableWorks(ctx, gql, w.readers, pickups, w.works, min(40, 4*readers)); err != nil {
		return nil, err
	}
	if w.titles, err = addEbooks(ctx, gql, adminToken, w.works, readers); err != nil {
		return nil, err
	}
	w.cachedBody = searchRequest(coldStartQuery, nil, 20, 10).Body()
	*st = setupStats{readers: len(w.readers), pickups: len(pickups), works: len(w.works), holdable: len(w.holdable),
		titles: len(w.titles), took: time.Since(start)}
	log.Info("set up", "readers", st.readers, "works", st.works, "holdable", st.holdable, "e-book titles", st.titles, "took", st.took.Round(time.Millisecond))
	return w, nil
}

// maxPickups bounds the pickup libraries the readers are spread over:
// every holdable work is checked at each of them.
const maxPickups = 4

// pickupLibraries returns up to maxPickups pickup libraries, the
// provincial library first.
func pickupLibraries(ctx context.Context, gql *loadgen.GraphQL, admin *adminLogin) ([]string, error) {
	var data struct {
		Libraries struct {
			Edges []struct {
				Node struct{ ID, Code, Type string }
			}
		}
	}
	if err := post(ctx, gql, "", loadgen.Request{Query: pickupsDoc}, &data); err != nil {
		return nil, fmt.Errorf("bench load: pickup libraries: %w", err)
	}
	out := []string{admin.provincialID}
	for _, e := range data.Libraries.Edges {
		if len(out) < maxPickups && e.Node.ID != admin.provincialID && e.Node.Type == "DISTRICT" {
			out = append(out, e.Node.ID)
		}
	}
	return out, nil
}

// registerReaders registers n readers through the register mutation, two
// at a time (each hashes a password), spread over the pickup libraries.
func registerReaders(ctx context.Context, gql *loadgen.GraphQL, n int, pickups []string) ([]*loadReader, error) {
	run := runID()
	readers := make([]*loadReader, n)
	errs := make([]error, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n && ctx.Err() == nil; i = int(next.Add(1)) - 1 {
				readers[i], errs[i] = registerReader(ctx, gql, run, i, pickups[i%len(pickups)])
			}
		})
	}
	wg.Wait()
	if err := errors.Join(append(errs, ctx.Err())...); err != nil {
		return nil, fmt.Errorf("bench load: registering readers: %w", err)
	}
	return readers, nil
}

func registerReader(ctx context.Context, gql *loadgen.GraphQL, run string, i int, pickup string) (*loadReader, error) {
	r := &loadReader{email: fmt.Sprintf("ban-doc-%s-%d@do-tai.thuvienso.vn", run, i), pickupID: pickup}
	var data struct {
		Register struct{ AccessToken, RefreshToken string }
	}
	in := map[string]any{"name": fmt.Sprintf("Bạn đọc đo tải %d", i+1), "email": r.email, "password": loadPassword, "homeLibraryId": pickup}
	if err := post(ctx, gql, "", loadgen.Request{Query: registerDoc, Variables: map[string]any{"input": in}}, &data); err != nil {
		return nil, err
	}
	r.token, r.refresh, r.issued = data.Register.AccessToken, data.Register.RefreshToken, time.Now()
	// The first digital card makes the card; the measured ones refresh it.
	if err := post(ctx, gql, r.token, loadgen.Request{Query: cardDoc}, nil); err != nil {
		return nil, fmt.Errorf("digital card: %w", err)
	}
	return r, nil
}

// collectWorks gathers the works the mix's searches find, for work pages.
func collectWorks(ctx context.Context, gql *loadgen.GraphQL, searches []loadSearch) ([]string, error) {
	seen := map[string]bool{}
	var works []string
	for _, s := range searches {
		var data struct {
			Search struct {
				Edges []struct{ Node struct{ ID string } }
			}
		}
		v := map[string]any{"query": s.q.req.Query}
		if f := searchFilter(s.q); len(f) > 0 {
			v["filter"] = f
		}
		if err := post(ctx, gql, "", loadgen.Request{Query: worksDoc, Variables: v}, &data); err != nil {
			return nil, fmt.Errorf("bench load: collecting works (%q): %w", s.q.req.Query, err)
		}
		for _, e := range data.Search.Edges {
			if !seen[e.Node.ID] {
				seen[e.Node.ID] = true
				works = append(works, e.Node.ID)
			}
		}
	}
	if len(works) == 0 {
		return nil, errors.New("bench load: the searches find no works")
	}
	return works, nil
}

// holdableWorks returns up to want works on which a hold can be placed at
// every pickup library, trying each with a reader of that pickup (placed,
// then cancelled).
func holdableWorks(ctx context.Context, gql *loadgen.GraphQL, readers []*loadReader, pickups, works []string, want int) ([]string, error) {
	byPickup := map[string]*loadReader{}
	for _, r := range readers {
		if byPickup[r.pickupID] == nil {
			byPickup[r.pickupID] = r
		}
	}
	var out []string
	for _, id := range works {
		if len(out) >= want {
			break
		}
		ok := true
		for _, r := range byPickup {
			holdID, code, err := placeHold(ctx, gql, r, id)
			if err != nil {
				return nil, fmt.Errorf("bench load: trying a hold: %w", err)
			}
			if code != "" {
				ok = false
				break
			}
			if res, _, err := gql.Post(ctx, r.token, cancelHoldBody(holdID)); err != nil || res.Err() != nil {
				return nil, fmt.Errorf("bench load: cancelling a trial hold: %v %v", err, res.Err())
			}
		}
		if ok {
			out = append(out, id)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("bench load: no work takes a hold at the pickup libraries")
	}
	return out, nil
}

var holdKeys atomic.Int64

// placeHold places a hold for r on work; code is the GraphQL error code
// of a refusal.
func placeHold(ctx context.Context, gql *loadgen.GraphQL, r *loadReader, work string) (id, code string, err error) {
	res, _, err := gql.Post(ctx, r.token, placeHoldBody(r, work))
	if err != nil {
		return "", "", err
	}
	if res.Err() != nil {
		return "", res.Code(), nil
	}
	var data struct {
		PlaceHold struct{ Hold struct{ ID string } }
	}
	if err := json.Unmarshal(res.Data, &data); err != nil {
		return "", "", err
	}
	return data.PlaceHold.Hold.ID, "", nil
}

func placeHoldBody(r *loadReader, work string) []byte {
	in := map[string]any{"workId": work, "pickupLibraryId": r.pickupID,
		"idempotencyKey": fmt.Sprintf("tai-%d-%d", time.Now().UnixNano(), holdKeys.Add(1))}
	return loadgen.Request{Query: placeHoldDoc, Variables: map[string]any{"input": in}}.Body()
}

func cancelHoldBody(id string) []byte {
	return loadgen.Request{Query: cancelHoldDoc, Variables: map[string]any{"id": id}}.Body()
}

// ebookTitles is how many e-book titles the set-up adds.
const ebookTitles = 10

// addEbooks adds e-book titles to the first works, each with a license of
// enough copies that the readers rarely find a title fully lent (when one
// does, borrowEbook answers NO_COPY_AVAILABLE: an expected outcome).
func addEbooks(ctx context.Context, gql *loadgen.GraphQL, token string, works []string, readers int) ([]string, error) {
	n := min(ebookTitles, len(works))
	copies := readers/n + 2
	var titles []string
	for i, work := range works[:n] {
		var t struct {
			AddEbookTitle struct{ Title struct{ ID string } }
		}
		in := map[string]any{"workId": work, "format": "EPUB", "title": fmt.Sprintf("Sách điện tử đo tải %d", i+1),
			"authors": []string{"Nhiều tác giả"}, "language": "vi", "contentRef": fmt.Sprintf("do-tai/%d.epub", i+1)}
		if err := post(ctx, gql, token, loadgen.Request{Query: addTitleDoc, Variables: map[string]any{"input": in}}, &t); err != nil {
			return nil, fmt.Errorf("bench load: adding an e-book title: %w", err)
		}
		lic := map[string]any{"titleId": t.AddEbookTitle.Title.ID, "model": "ONE_COPY_ONE_USER", "concurrency": copies}
		if err := post(ctx, gql, token, loadgen.Request{Query: addLicDoc, Variables: map[string]any{"input": lic}}, nil); err != nil {
			return nil, fmt.Errorf("bench load: adding an e-book license: %w", err)
		}
		titles = append(titles, t.AddEbookTitle.Title.ID)
	}
	return titles, nil
}

// tokenMaxAge is when the readers' access tokens (15 minutes) are
// refreshed between steps.
const tokenMaxAge = 10 * time.Minute

// refreshTokens renews the readers' access tokens that are getting old.
func (w *workload) refreshTokens(ctx context.Context) error {
	for _, r := range w.readers {
		if time.Since(r.issued) < tokenMaxAge {
			continue
		}
		var data struct {
			RefreshToken struct{ AccessToken, RefreshToken string }
		}
		if err := post(ctx, w.gql, "", loadgen.Request{Query: refreshDoc, Variables: map[string]any{"token": r.refresh}}, &data); err != nil {
			return fmt.Errorf("bench load: refreshing a reader's token: %w", err)
		}
		r.token, r.refresh, r.issued = data.RefreshToken.AccessToken, data.RefreshToken.RefreshToken, time.Now()
	}
	return nil
}

// mixWeights are the shares of the mixed workload's steps: a reader
// searching, opening works, checking their account and card, and now and
// then placing or cancelling a hold, borrowing or returning an e-book.
var mixWeights = []struct {
	step   string
	weight int
}{
	{opSearch, 20}, {opSearchFolded, 10}, {opWork, 25}, {opAccount, 15}, {opCard, 10}, {"hold", 10}, {"ebook", 10},
}

// mixClient is one reader of the mixed workload. It holds at most one
// hold and one e-book loan: a hold step places a hold when it has none
// and cancels it otherwise, an e-book step borrows or returns. Steps
// follow mixWeights by smooth weighted round-robin (every kind of step
// comes within the first ten, in exact shares over a hundred), starting
// at another point for each client; works, titles and queries are drawn
// at random.
type mixClient struct {
	w       *workload
	r       *loadReader
	rng     *rand.Rand
	current []int // the round-robin's running weights
	holdID  string
	loanID  string
	folded  []loadSearch
	typed   []loadSearch
}

func newMixClient(w *workload, i int) *mixClient {
	c := &mixClient{w: w, r: w.readers[i%len(w.readers)], rng: rand.New(rand.NewPCG(uint64(i), 0x7468757669656e)),
		current: make([]int, len(mixWeights))}
	for _, s := range w.searches {
		if s.folded {
			c.folded = append(c.folded, s)
		} else {
			c.typed = append(c.typed, s)
		}
	}
	for range i % 100 {
		c.nextStep()
	}
	return c
}

// nextStep picks the next kind of step: the one furthest behind its share.
func (c *mixClient) nextStep() string {
	best, total := 0, 0
	for i, m := range mixWeights {
		c.current[i] += m.weight
		total += m.weight
		if c.current[i] > c.current[best] {
			best = i
		}
	}
	c.current[best] -= total
	return mixWeights[best].step
}

// Next runs one step of the mix.
func (c *mixClient) Next(ctx context.Context) loadgen.Sample {
	switch c.nextStep() {
	case opSearch:
		return c.send(ctx, opSearch, c.typed[c.rng.IntN(len(c.typed))].body, nil)
	case opSearchFolded:
		return c.send(ctx, opSearchFolded, c.folded[c.rng.IntN(len(c.folded))].body, nil)
	case opWork:
		id := c.w.works[c.rng.IntN(len(c.w.works))]
		return c.send(ctx, opWork, loadgen.Request{Query: workDoc, Variables: map[string]any{"id": id}}.Body(), nil)
	case opAccount:
		return c.send(ctx, opAccount, accountBody, nil)
	case opCard:
		return c.send(ctx, opCard, cardBody, nil)
	case "hold":
		return c.holdStep(ctx)
	default:
		return c.ebookStep(ctx)
	}
}

// The bodies of the requests without variables.
var (
	accountBody = loadgen.Request{Query: accountDoc}.Body()
	cardBody    = loadgen.Request{Query: cardDoc}.Body()
)

// release cancels the client's hold and returns its e-book loan, so that
// the next step starts with readers who have neither.
func (c *mixClient) release(ctx context.Context) error {
	if c.holdID != "" {
		if s := c.send(ctx, opCancelHold, cancelHoldBody(c.holdID), nil); s.Outcome == loadgen.Failed {
			return fmt.Errorf("bench load: cancelling a hold after the mix: %s", s.Detail)
		}
		c.holdID = ""
	}
	if c.loanID != "" {
		s := c.send(ctx, opReturnEbook, loadgen.Request{Query: returnDoc, Variables: map[string]any{"id": c.loanID}}.Body(), nil)
		if s.Outcome == loadgen.Failed {
			return fmt.Errorf("bench load: returning an e-book after the mix: %s", s.Detail)
		}
		c.loanID = ""
	}
	return nil
}

func (c *mixClient) holdStep(ctx context.Context) loadgen.Sample {
	if c.holdID != "" {
		s := c.send(ctx, opCancelHold, cancelHoldBody(c.holdID), nil)
		if s.Outcome != loadgen.Failed {
			c.holdID = ""
		}
		return s
	}
	work := c.w.holdable[c.rng.IntN(len(c.w.holdable))]
	var data struct {
		PlaceHold struct{ Hold struct{ ID string } }
	}
	s := c.send(ctx, opPlaceHold, placeHoldBody(c.r, work), &data)
	c.holdID = data.PlaceHold.Hold.ID
	return s
}

func (c *mixClient) ebookStep(ctx context.Context) loadgen.Sample {
	if c.loanID != "" {
		s := c.send(ctx, opReturnEbook, loadgen.Request{Query: returnDoc, Variables: map[string]any{"id": c.loanID}}.Body(), nil)
		if s.Outcome != loadgen.Failed {
			c.loanID = ""
		}
		return s
	}
	title := c.w.titles[c.rng.IntN(len(c.w.titles))]
	in := map[string]any{"titleId": title, "idempotencyKey": fmt.Sprintf("tai-%d-%d", time.Now().UnixNano(), holdKeys.Add(1))}
	var data struct {
		BorrowEbook struct {
			Loan *struct{ ID string }
		}
	}
	s := c.send(ctx, opBorrowEbook, loadgen.Request{Query: borrowDoc, Variables: map[string]any{"input": in}}.Body(), &data)
	if data.BorrowEbook.Loan != nil {
		c.loanID = data.BorrowEbook.Loan.ID
	}
	return s
}

// send posts body as the client's reader and classifies the answer; data,
// when not nil, receives the answer's data.
func (c *mixClient) send(ctx context.Context, op string, body []byte, data any) loadgen.Sample {
	return exchange(ctx, c.w.gql, c.r.token, op, body, data)
}

// exchange posts body and classifies the answer as a sample of op.
func exchange(ctx context.Context, gql *loadgen.GraphQL, token, op string, body []byte, data any) loadgen.Sample {
	res, took, err := gql.Post(ctx, token, body)
	s := loadgen.Sample{Op: op, Latency: took}
	switch {
	case err != nil:
		s.Outcome, s.Detail = loadgen.Failed, shortError(err)
	case res.Err() != nil:
		s.Outcome, s.Detail = loadgen.Failed, failure(res)
		for _, code := range expectedCodes[op] {
			if res.Code() == code {
				s.Outcome, s.Detail = loadgen.Expected, code
			}
		}
	case data != nil:
		if err := json.Unmarshal(res.Data, data); err != nil {
			s.Outcome, s.Detail = loadgen.Failed, "undecodable data"
		}
	}
	return s
}

// failure names an unexpected GraphQL error: its code and the start of
// its message.
func failure(res *loadgen.Response) string {
	msg := ""
	if len(res.Errors) > 0 {
		msg = res.Errors[0].Message
		if r := []rune(msg); len(r) > 80 {
			msg = string(r[:80]) + "…"
		}
	}
	return fmt.Sprintf("%s (%s)", res.Code(), msg)
}

// shortError is an error's text without the request's address.
func shortError(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		return msg[i+2:]
	}
	return msg
}

// uncachedClient sends searches no request has sent before: the mix's
// queries and filters, each time with another facet size and page size,
// so that every one misses the server's cache (which has no switch).
type uncachedClient struct {
	w *workload
}

func (c uncachedClient) Next(ctx context.Context) loadgen.Sample {
	n := int(c.w.uncachedSeq.Add(1))
	s := c.w.searches[n%len(c.w.searches)]
	// Facet sizes 11–100: the other cases ask for 10.
	k := n / len(c.w.searches)
	body := searchRequest(s.q.req.Query, searchFilter(s.q), 20+k/90%20, 11+k%90).Body()
	return exchange(ctx, c.w.gql, "", opSearchUncached, body, nil)
}

// sameRequestClient sends one request over and over and checks that the
// answer is the expected bytes (a different answer is decoded and checked
// for errors).
type sameRequestClient struct {
	gql    *loadgen.GraphQL
	op     string
	body   []byte
	answer []byte
}

func (c sameRequestClient) Next(ctx context.Context) loadgen.Sample {
	raw, took, err := c.gql.Raw(ctx, "", c.body)
	s := loadgen.Sample{Op: c.op, Latency: took}
	if err != nil {
		s.Outcome, s.Detail = loadgen.Failed, shortError(err)
		return s
	}
	if raw.Status == 200 && bytes.Equal(raw.Body, c.answer) {
		return s
	}
	res, err := loadgen.Decode(raw)
	switch {
	case err != nil:
		s.Outcome, s.Detail = loadgen.Failed, shortError(err)
	case res.Err() != nil:
		s.Outcome, s.Detail = loadgen.Failed, failure(res)
	}
	return s
}
