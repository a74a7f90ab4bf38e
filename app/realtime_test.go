package app

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/bacninh/thuvienso/demo"
)

// subscribeWithGraphQLWS runs the real graphql-ws client (../shared/tools)
// for one event of query, calling trigger every 200 ms until the client
// has heard one (it connects in its own time), and returns its first line.
func subscribeWithGraphQLWS(t *testing.T, e *demoEnv, token, query string, trigger func(i int)) string {
	t.Helper()
	return subscribeAt(t, e.srv.URL, token, query, trigger)
}

// subscribeAt is subscribeWithGraphQLWS against the server at baseURL
// (http://host:port).
func subscribeAt(t *testing.T, baseURL, token, query string, trigger func(i int)) string {
	t.Helper()
	needSharedTools(t, "graphql-ws")
	ws := "ws" + strings.TrimPrefix(baseURL, "http") + "/graphql"
	cmd := exec.Command("node", sharedTools+"graphql-ws-subscribe.mjs", ws, query, "1", "20000")
	cmd.Env = append(os.Environ(), fmt.Sprintf(`WS_CONNECTION_PARAMS={"authToken":%q}`, token))
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-done:
			if err != nil {
				t.Fatalf("subscription client: %v\n%s", err, out)
			}
			return strings.SplitN(string(out), "\n", 2)[0]
		case <-tick.C:
			trigger(i)
		}
	}
}

// TestEbookHoldUpdatedReachesTheReader: the reader's e-book hold changes
// (suspended, resumed) arrive over the subscription, and only theirs.
func TestEbookHoldUpdatedReachesTheReader(t *testing.T) {
	e := newDemoEnv(t)
	a, b := e.login("ban.doc@example.vn"), e.login("doc.gia@example.vn")
	id := e.title("live", map[string]any{"model": "ONE_COPY_ONE_USER", "concurrency": 1})
	mustLoan(t, borrow(a, id, nil))
	h := borrow(b, id, map[string]any{"holdIfUnavailable": true})
	holdID, _ := field(h.Data, "borrowEbook", "hold", "id").(string)
	if holdID == "" {
		t.Fatalf("hold: %+v", h.Errors)
	}
	line := subscribeWithGraphQLWS(t, e, b.token, `subscription { ebookHoldUpdated { id state position title { id } } }`, func(i int) {
		m := `mutation($id: ID!) { suspendEbookHold(input: {holdId: $id}) { hold { state } } }`
		if i%2 == 1 {
			m = `mutation($id: ID!) { resumeEbookHold(input: {holdId: $id}) { hold { state } } }`
		}
		if r := b.do(m, map[string]any{"id": holdID}); len(r.Errors) > 0 {
			t.Errorf("toggling the hold: %+v", r.Errors)
		}
	})
	if !strings.Contains(line, holdID) || !strings.Contains(line, `"ebookHoldUpdated"`) {
		t.Fatalf("the subscription said: %s", line)
	}
}

// TestHoldUpdatedFollowsADeskCheckIn: a librarian's check-in at another
// library makes the reader's hold IN_TRANSIT, and the reader's open app
// hears it.
func TestHoldUpdatedFollowsADeskCheckIn(t *testing.T) {
	e := newDemoEnv(t)
	anon := &client{t: t, url: e.srv.URL}
	bn, ts := libraryID(t, anon, "BN"), libraryID(t, anon, "BN-TS")
	desk := e.login(demo.LibrarianEmail("BN"))
	csv := "title,author,isbn,year,publisher,barcode,call number,location\n"
	for i := range 20 {
		csv += fmt.Sprintf("Lục Vân Tiên,Nguyễn Đình Chiểu,,2010,NXB Văn học,BN-LVT-%02d,895.922 NG-C,Kho mở\n", i)
	}
	if r := importCSV(t, desk, bn, csv); len(r.Errors) > 0 {
		t.Fatalf("import: %+v", r.Errors)
	}
	workID := field(anon.do(`{ item(barcode: "BN-LVT-00") { work { id } } }`, nil).Data, "item", "work", "id").(string)
	reader := e.login("ban.doc@example.vn")
	line := subscribeWithGraphQLWS(t, e, reader.token, `subscription { holdUpdated { id state pickupLibrary { code } } }`, func(i int) {
		// Each tick: the reader holds the work, a copy comes in at the
		// provincial desk and travels to Từ Sơn; then the reader cancels,
		// so the next tick can start again.
		r := reader.do(`mutation($in: PlaceHoldInput!) { placeHold(input: $in) { hold { id } } }`,
			map[string]any{"in": map[string]any{"workId": workID, "pickupLibraryId": ts}})
		hid, _ := field(r.Data, "placeHold", "hold", "id").(string)
		if hid == "" {
			t.Errorf("placeHold: %+v", r.Errors)
			return
		}
		desk.do(checkInM, map[string]any{"lib": bn, "bc": fmt.Sprintf("BN-LVT-%02d", i%20)})
		reader.do(`mutation($id: ID!) { cancelHold(input: {holdId: $id}) { hold { state } } }`, map[string]any{"id": hid})
	})
	if !strings.Contains(line, `"holdUpdated"`) || !strings.Contains(line, "BN-TS") {
		t.Fatalf("the subscription said: %s", line)
	}
}
