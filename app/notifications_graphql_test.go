package app

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/bacninh/thuvienso/notifications"
)

// TestReservedEbookReachesTheInbox follows a reservation from the e-book
// queue to the reader's inbox through GraphQL: device and preferences, the
// notification in the reader's language, the unread badge, marking read.
func TestReservedEbookReachesTheInbox(t *testing.T) {
	e := newDemoEnv(t)
	a, b := e.login("ban.doc@example.vn"), e.login("doc.gia@example.vn")
	b.lang = "vi"
	r := b.do(`mutation { registerDevice(input: {token: "fcm-token-of-b", platform: ANDROID, locale: "vi"}) { device { token platform } } }`, nil)
	if field(r.Data, "registerDevice", "device", "platform") != "ANDROID" {
		t.Fatalf("registerDevice: %+v", r.Errors)
	}
	r = b.do(`mutation { updateNotificationPreferences(input: {quietStart: "22:00", quietEnd: "06:30", daysBeforeDue: [2]}) {
	  preferences { quietStart quietEnd daysBeforeDue kinds } } }`, nil)
	if p := field(r.Data, "updateNotificationPreferences", "preferences").(map[string]any); p["quietStart"] != "22:00" || p["quietEnd"] != "06:30" || len(p["kinds"].([]any)) != len(notifications.Kinds) {
		t.Fatalf("preferences: %v %+v", p, r.Errors)
	}
	wantCode(t, "a bad time", b.do(`mutation { updateNotificationPreferences(input: {quietStart: "25:99"}) { preferences { quietStart } } }`, nil), "BAD_USER_INPUT")

	id := e.title("inbox", map[string]any{"model": "ONE_COPY_ONE_USER", "concurrency": 1})
	loan := mustLoan(t, borrow(a, id, nil))
	if h := borrow(b, id, map[string]any{"holdIfUnavailable": true}); field(h.Data, "borrowEbook", "hold", "id") == nil {
		t.Fatalf("hold: %+v", h.Errors)
	}
	returnLoan(t, a, loan)
	if _, err := e.app.NotificationDispatcher.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	const inbox = `{ unreadNotificationCount notifications(first: 10) { totalCount edges { node { id kind title body read } } } }`
	r = b.do(inbox, nil)
	edges := field(r.Data, "notifications", "edges").([]any)
	if len(edges) != 1 || field(r.Data, "unreadNotificationCount") != float64(1) {
		t.Fatalf("inbox after the reservation: %+v %+v", r.Data, r.Errors)
	}
	n := edges[0].(map[string]any)["node"].(map[string]any)
	if n["kind"] != "EBOOK_HOLD_RESERVED" || n["read"] != false || !strings.Contains(n["body"].(string)+n["title"].(string), "inbox") {
		t.Fatalf("the notification: %v", n)
	}
	// Running the dispatcher again makes nothing new.
	if _, err := e.app.NotificationDispatcher.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r = a.do(inbox, nil); field(r.Data, "notifications", "totalCount") != float64(0) {
		t.Fatalf("another reader sees: %+v", r.Data)
	}
	r = b.do(`mutation { markAllNotificationsRead { marked } }`, nil)
	if field(r.Data, "markAllNotificationsRead", "marked") != float64(1) {
		t.Fatalf("markAllNotificationsRead: %+v %+v", r.Data, r.Errors)
	}
	if r = b.do(inbox, nil); field(r.Data, "unreadNotificationCount") != float64(0) || field(r.Data, "notifications", "totalCount") != float64(1) {
		t.Fatalf("after marking read: %+v", r.Data)
	}
	wantCode(t, "anonymous inbox", (&client{t: t, url: e.srv.URL}).do(inbox, nil), "UNAUTHENTICATED")
}

// TestNotificationReceivedOverGraphQLWS subscribes with the real
// graphql-ws client (../shared/tools) and gets the reader's new
// notification, authenticated in connection_init.
func TestNotificationReceivedOverGraphQLWS(t *testing.T) {
	needSharedTools(t, "graphql-ws")
	e := newDemoEnv(t)
	b := e.login("doc.gia@example.vn")
	readerID := field(b.do(`{ me { id } }`, nil).Data, "me", "id").(string)
	ws := "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/graphql"
	cmd := exec.Command("node", sharedTools+"graphql-ws-subscribe.mjs", ws,
		`subscription { notificationReceived { kind title subjectId } }`, "1", "20000")
	cmd.Env = append(os.Environ(), fmt.Sprintf(`WS_CONNECTION_PARAMS={"authToken":%q}`, b.token))
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	// The client connects in its own time: notify until it has heard one.
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-done:
			if err != nil {
				t.Fatalf("subscription client: %v\n%s", err, out)
			}
			var got struct {
				Data struct {
					NotificationReceived struct{ Kind, Title, SubjectID string }
				}
			}
			line := strings.SplitN(string(out), "\n", 2)[0]
			if json.Unmarshal([]byte(line), &got) != nil || got.Data.NotificationReceived.Kind != "LIBRARY_NEWS" ||
				!strings.HasPrefix(got.Data.NotificationReceived.SubjectID, "news-") {
				t.Fatalf("subscription output: %s", out)
			}
			return
		case <-tick.C:
			_, _, nerr := e.app.Notifications.Notify(context.Background(), notifications.Request{ReaderID: readerID,
				Kind: notifications.LibraryNews, SubjectID: fmt.Sprintf("news-%d", i), Moment: e.clock.Now(),
				Data: map[string]string{"title": "Giờ mở cửa dịp Tết"}})
			if nerr != nil {
				t.Fatal(nerr)
			}
		}
	}
}

// TestLibraryBroadcastReachesItsReadersOnly: a Từ Sơn librarian's message
// reaches the readers of Từ Sơn once, retries included, and nobody else.
func TestLibraryBroadcastReachesItsReadersOnly(t *testing.T) {
	e := newDemoEnv(t)
	desk := e.login("thuthu.bn-ts@thuvien.bacninh.gov.vn")
	ours, theirs := e.login("ban.doc@example.vn"), e.login("doc.gia@example.vn")
	const send = `mutation($in: SendBroadcastInput!) { sendBroadcast(input: $in) { broadcast { id title library { code } } } }`
	in := map[string]any{"in": map[string]any{"title": "Nghỉ Tết", "body": "Thư viện nghỉ từ 26 tháng Chạp.", "titleEn": "Closed for Tết",
		"bodyEn": "The library closes on the 26th of the last lunar month.", "idempotencyKey": "tet-2027"}}
	first, again := desk.do(send, in), desk.do(send, in)
	if field(first.Data, "sendBroadcast", "broadcast", "library", "code") != "BN-TS" ||
		field(first.Data, "sendBroadcast", "broadcast", "id") != field(again.Data, "sendBroadcast", "broadcast", "id") {
		t.Fatalf("sendBroadcast twice with one key: %+v %+v / %+v", first.Data, first.Errors, again.Data)
	}
	wantCode(t, "a reader broadcasting", ours.do(send, in), "FORBIDDEN")
	for range 2 {
		if _, err := e.app.NotificationDispatcher.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	const inbox = `{ notifications { totalCount edges { node { kind title } } } }`
	r := ours.do(inbox, nil)
	if field(r.Data, "notifications", "totalCount") != float64(1) ||
		field(r.Data, "notifications", "edges").([]any)[0].(map[string]any)["node"].(map[string]any)["kind"] != "LIBRARY_NEWS" {
		t.Fatalf("the Từ Sơn reader's inbox: %+v %+v", r.Data, r.Errors)
	}
	if r := theirs.do(inbox, nil); field(r.Data, "notifications", "totalCount") != float64(0) {
		t.Fatalf("a reader of another library got: %+v", r.Data)
	}
	list := desk.do(`{ broadcasts { edges { node { id recipients finishedAt } } } }`, nil)
	if b := field(list.Data, "broadcasts", "edges").([]any); len(b) != 1 || b[0].(map[string]any)["node"].(map[string]any)["recipients"] == float64(0) {
		t.Fatalf("broadcasts: %+v %+v", list.Data, list.Errors)
	}
}

// TestSavedSearchesAreTheReadersOwn: saved, listed with their filter,
// names unique, deleted.
func TestSavedSearchesAreTheReadersOwn(t *testing.T) {
	e := newDemoEnv(t)
	reader, other := e.login("ban.doc@example.vn"), e.login("doc.gia@example.vn")
	const save = `mutation($in: SaveSearchInput!) { saveSearch(input: $in) { savedSearch { id name query filter { formats yearFrom districts } nextRunAt } } }`
	in := map[string]any{"in": map[string]any{"name": "Truyện thiếu nhi mới", "query": "truyen thieu nhi",
		"filter": map[string]any{"formats": []string{"BOOK"}, "yearFrom": 2020, "districts": []string{"Từ Sơn"}}}}
	r := reader.do(save, in)
	id, _ := field(r.Data, "saveSearch", "savedSearch", "id").(string)
	if id == "" || field(r.Data, "saveSearch", "savedSearch", "filter", "yearFrom") != float64(2020) {
		t.Fatalf("saveSearch: %+v %+v", r.Data, r.Errors)
	}
	wantCode(t, "the same name again", reader.do(save, in), "CONFLICT")
	if r := other.do(`{ savedSearches { id } }`, nil); len(field(r.Data, "savedSearches").([]any)) != 0 {
		t.Fatalf("another reader sees: %+v", r.Data)
	}
	const del = `mutation($id: ID!) { deleteSavedSearch(input: {id: $id}) { id } }`
	if r := other.do(del, map[string]any{"id": id}); len(r.Errors) == 0 {
		t.Fatal("another reader deleted it")
	}
	if r := reader.do(del, map[string]any{"id": id}); len(r.Errors) > 0 {
		t.Fatalf("delete: %+v", r.Errors)
	}
	if r := reader.do(`{ savedSearches { id } }`, nil); len(field(r.Data, "savedSearches").([]any)) != 0 {
		t.Fatalf("after deleting: %+v", r.Data)
	}
}
