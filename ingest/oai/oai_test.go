package oai

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// sharedOAI holds real OAI-PMH responses beside the repository.
var sharedOAI = filepath.Join("..", "..", "..", "shared", "data", "oai-pmh")

// repo serves the shared files as an OAI-PMH repository. The ListRecords
// chain is ListRecords.xml → ListRecords2.xml → ListRecords3.xml, linked by
// resumption tokens naming the next file; page 3 names ListRecords4.xml,
// which does not exist: with end set, page 3 is served as the last page (its
// token emptied), otherwise the unknown token gets badResumptionToken.
type repo struct {
	t    *testing.T
	end  bool
	mu   sync.Mutex
	reqs []string
	// fail, when set, answers a request instead of the repository.
	fail func(n int, w http.ResponseWriter) bool
}

var tokenRE = regexp.MustCompile(`<resumptionToken[^>]*>[^<]*</resumptionToken>`)

func (rp *repo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rp.mu.Lock()
	rp.reqs = append(rp.reqs, r.URL.RawQuery)
	n := len(rp.reqs)
	rp.mu.Unlock()
	if rp.fail != nil && rp.fail(n, w) {
		return
	}
	q := r.URL.Query()
	var file string
	switch q.Get("verb") {
	case "Identify":
		file = "Identify.xml"
	case "GetRecord":
		file = "GetRecord.xml"
	case "ListRecords":
		switch tok := q.Get("resumptionToken"); {
		case tok != "":
			file = filepath.Base(tok)
		case q.Get("metadataPrefix") == "":
			file = "badArgument.xml"
		case q.Get("set") == "empty":
			file = "noRecordsMatch.xml"
		default:
			file = "ListRecords.xml"
		}
	default:
		http.Error(w, "unknown verb", http.StatusBadRequest)
		return
	}
	data, err := os.ReadFile(filepath.Join(sharedOAI, file))
	if err != nil {
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">`+
			`<responseDate>2013-02-27T09:11:00Z</responseDate><request verb="ListRecords">http://test.example.com/oai</request>`+
			`<error code="badResumptionToken">The value of the resumptionToken argument is invalid or expired.</error></OAI-PMH>`)
		return
	}
	if rp.end && file == "ListRecords3.xml" {
		data = tokenRE.ReplaceAll(data, []byte(`<resumptionToken completeListSize="6" cursor="4"/>`))
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	_, _ = w.Write(data)
}

func (rp *repo) requests() []string {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	return append([]string(nil), rp.reqs...)
}

func newClient(t *testing.T, rp *repo) (*Client, *[]time.Duration) {
	srv := httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	var waits []time.Duration
	var mu sync.Mutex
	c := &Client{BaseURL: srv.URL + "/oai", MinBackoff: 100 * time.Millisecond, MaxBackoff: 10 * time.Second,
		Sleep: func(ctx context.Context, d time.Duration) error {
			mu.Lock()
			waits = append(waits, d)
			mu.Unlock()
			return ctx.Err()
		}}
	return c, &waits
}

func TestIdentify(t *testing.T) {
	c, _ := newClient(t, &repo{t: t})
	id, err := c.Identify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if id.RepositoryName != "A Test Repository" || id.Granularity != GranularityDay || id.DeletedRecord != "persistent" ||
		id.ProtocolVersion != "2.0" || id.EarliestDatestamp != "1970-01-01T00:00:00Z" {
		t.Errorf("%+v", id)
	}
}

func TestHarvestFollowsTokens(t *testing.T) {
	rp := &repo{t: t, end: true}
	c, _ := newClient(t, rp)
	st := &HarvestState{MetadataPrefix: "oai_dc"}
	var pages []*Page
	err := c.Harvest(context.Background(), st, func(p *Page) error { pages = append(pages, p); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) != 3 {
		t.Fatalf("%d pages", len(pages))
	}
	deleted, live := 0, 0
	for _, p := range pages {
		for _, r := range p.Records {
			if r.Header.Deleted {
				deleted++
				if r.Header.Identifier != "oai:test.example.com:1585310" || r.Metadata != nil {
					t.Errorf("deleted %+v", r)
				}
			} else {
				live++
				if !strings.Contains(string(r.Metadata), "Sample Title") {
					t.Errorf("metadata %q", r.Metadata)
				}
			}
		}
	}
	if deleted != 3 || live != 3 {
		t.Errorf("deleted %d live %d", deleted, live)
	}
	if pages[0].ResumptionToken != "ListRecords2.xml" || pages[0].CompleteListSize != 8 || pages[2].ResumptionToken != "" {
		t.Errorf("tokens %q %d %q", pages[0].ResumptionToken, pages[0].CompleteListSize, pages[2].ResumptionToken)
	}
	reqs := rp.requests()
	want := []string{"verb=Identify", "metadataPrefix=oai_dc&verb=ListRecords",
		"resumptionToken=ListRecords2.xml&verb=ListRecords", "resumptionToken=ListRecords3.xml&verb=ListRecords"}
	if strings.Join(reqs, " ") != strings.Join(want, " ") {
		t.Errorf("requests %q", reqs)
	}
	if st.From != "2013-02-27" || st.ResumptionToken != "" || st.LastDatestamp != "2011-07-18T16:31:00Z" ||
		st.Pages != 3 || st.Records != 6 || st.Granularity != GranularityDay {
		t.Errorf("state %+v", st)
	}
	// The next harvest is incremental and set-restricted.
	st.Set = "bookFtxt"
	if err := c.Harvest(context.Background(), st, func(*Page) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if r := rp.requests()[4]; r != "from=2013-02-27&metadataPrefix=oai_dc&set=bookFtxt&verb=ListRecords" {
		t.Errorf("incremental request %q", r)
	}
}

func TestHarvestResumesAndExpiredToken(t *testing.T) {
	rp := &repo{t: t}
	c, _ := newClient(t, rp)
	st := &HarvestState{MetadataPrefix: "oai_dc", Granularity: GranularitySecond}
	stop := errors.New("disk full")
	calls := 0
	err := c.Harvest(context.Background(), st, func(p *Page) error {
		calls++
		if calls == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || st.ResumptionToken != "ListRecords2.xml" || st.Pages != 1 {
		t.Fatalf("err %v state %+v", err, st)
	}
	// Resume: page 2 again, then 3, then page 3's token is unknown.
	err = c.Harvest(context.Background(), st, func(p *Page) error { return nil })
	if !IsCode(err, CodeBadResumptionToken) {
		t.Fatalf("want badResumptionToken, got %v", err)
	}
	reqs := rp.requests()
	if reqs[2] != "resumptionToken=ListRecords2.xml&verb=ListRecords" || st.Pages != 3 {
		t.Errorf("resume requests %q, pages %d", reqs, st.Pages)
	}
	if st.ResumptionToken != "" || st.From != "" {
		t.Errorf("after an expired token the next harvest restarts: %+v", st)
	}
}

func TestErrorsAndEmpty(t *testing.T) {
	c, _ := newClient(t, &repo{t: t})
	ctx := context.Background()
	p, err := c.ListRecords(ctx, ListRecordsRequest{MetadataPrefix: "oai_dc", Set: "empty"})
	if err != nil || len(p.Records) != 0 || p.ResumptionToken != "" {
		t.Errorf("noRecordsMatch: %+v %v", p, err)
	}
	st := &HarvestState{MetadataPrefix: "oai_dc", Set: "empty", Granularity: GranularityDay}
	if err := c.Harvest(ctx, st, func(*Page) error { return nil }); err != nil || st.From != "2002-02-08" {
		t.Errorf("empty harvest: %v %+v", err, st)
	}
	// badArgument: the server gets a request without metadataPrefix.
	c2 := *c
	c2.BaseURL += "?resumptionToken=badArgument.xml"
	_, err = c2.ListRecords(ctx, ListRecordsRequest{MetadataPrefix: "x"})
	if err == nil {
		t.Fatal("want an error")
	}
	if _, err := c.ListRecords(ctx, ListRecordsRequest{}); err == nil {
		t.Error("metadataPrefix required")
	}
	r, err := c.GetRecord(ctx, "oai:test.example.com:1996652", "oai_dc")
	if err != nil || r.Header.Identifier != "oai:test.example.com:1996652" {
		t.Errorf("GetRecord %+v %v", r, err)
	}
	for _, f := range []string{"badArgument.xml", "noRecordsMatch.xml"} {
		data, _ := os.ReadFile(filepath.Join(sharedOAI, f))
		_, err := decode(data)
		want := strings.TrimSuffix(f, ".xml")
		if !IsCode(err, want) {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestRetries(t *testing.T) {
	rp := &repo{t: t}
	rp.fail = func(n int, w http.ResponseWriter) bool {
		switch n {
		case 1:
			w.Header().Set("Retry-After", "7")
			http.Error(w, "busy", http.StatusServiceUnavailable)
		case 2:
			http.Error(w, "oops", http.StatusInternalServerError)
		case 3: // the connection breaks in the middle of the body
			hj, _ := w.(http.Hijacker)
			conn, buf, _ := hj.Hijack()
			_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n<OAI-PMH")
			_ = buf.Flush()
			conn.Close()
		default:
			return false
		}
		return true
	}
	c, waits := newClient(t, rp)
	id, err := c.Identify(context.Background())
	if err != nil || id.RepositoryName == "" {
		t.Fatal(err)
	}
	w := *waits
	if len(w) != 3 || w[0] != 7*time.Second {
		t.Fatalf("waits %v", w)
	}
	// Backoff doubles from 100 ms with jitter in [d/2, d].
	if w[1] < 100*time.Millisecond || w[1] > 200*time.Millisecond || w[2] < 200*time.Millisecond || w[2] > 400*time.Millisecond {
		t.Errorf("backoff %v", w)
	}

	// A 404 is not retried; a server that keeps failing is given up on.
	rp404 := &repo{t: t, fail: func(n int, w http.ResponseWriter) bool { http.NotFound(w, nil); return true }}
	c404, waits404 := newClient(t, rp404)
	var se *StatusError
	if _, err := c404.Identify(context.Background()); !errors.As(err, &se) || se.StatusCode != 404 || len(*waits404) != 0 {
		t.Errorf("404: %v, waits %v", err, *waits404)
	}
	rpDown := &repo{t: t, fail: func(n int, w http.ResponseWriter) bool { http.Error(w, "", 502); return true }}
	cDown, waitsDown := newClient(t, rpDown)
	cDown.MaxRetries = 3
	if _, err := cDown.Identify(context.Background()); err == nil || len(*waitsDown) != 3 || len(rpDown.requests()) != 4 {
		t.Errorf("down: %v, waits %v", err, *waitsDown)
	}
	// Cancellation stops the waiting.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cDown.Sleep = nil
	if _, err := cDown.Identify(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestRetryAfterDate(t *testing.T) {
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	if d, ok := retryAfter(now.Add(90*time.Second).Format(http.TimeFormat), now); !ok || d != 90*time.Second {
		t.Errorf("%v %v", d, ok)
	}
	if _, ok := retryAfter("soon", now); ok {
		t.Error("garbage accepted")
	}
}
