package app

import (
	"fmt"
	"strings"
	"testing"

	"github.com/bacninh/thuvienso/demo"
	"github.com/bacninh/thuvienso/events"
)

const (
	holdFields = `id state position queueLength pickupDeadline estimatedWait { earliest latest } item { barcode } pickupLibrary { code }`
	checkInM   = `mutation($lib: ID!, $bc: String!) { checkIn(input: {libraryId: $lib, barcode: $bc}) {
	  action destination { code } hold { ` + holdFields + ` } loan { state } } }`
	receiveM = `mutation($lib: ID!, $bc: String!) { receiveTransit(input: {libraryId: $lib, barcode: $bc}) {
	  action hold { ` + holdFields + ` } } }`
	checkOutM = `mutation($in: CheckOutInput!) { checkOut(input: $in) { loan { id state dueAt renewable item { barcode } } } }`
)

// cardOf returns a reader's card number and a fresh digital card code.
func cardOf(t *testing.T, c *client) (number, token string) {
	t.Helper()
	r := c.do(`{ digitalCard { number token } }`, nil)
	number, _ = field(r.Data, "digitalCard", "number").(string)
	token, _ = field(r.Data, "digitalCard", "token").(string)
	if number == "" || token == "" {
		t.Fatalf("digitalCard: %+v", r.Errors)
	}
	return number, token
}

// TestHoldTravelsFromAnotherDistrictToThePickupLibrary is the consortium
// journey through GraphQL: every copy is out; a reader of Từ Sơn holds the
// work; a copy comes back at the provincial library (another district),
// travels to Từ Sơn, is received onto the hold shelf with a deadline, and
// is lent to the reader with their digital card, fulfilling the hold; the
// events recorded for the reader tell the same story.
func TestHoldTravelsFromAnotherDistrictToThePickupLibrary(t *testing.T) {
	e := newDemoEnv(t)
	anon := &client{t: t, url: e.srv.URL}
	bn, ts := libraryID(t, anon, "BN"), libraryID(t, anon, "BN-TS")
	deskBN, deskTS := e.login(demo.LibrarianEmail("BN")), e.login(demo.LibrarianEmail("BN-TS"))
	const csv = "title,author,isbn,year,publisher,barcode,call number,location\nTruyện Kiều,Nguyễn Du,,2015,NXB Văn học,%s,895.922 NG-D,Kho mở\n"
	for _, imp := range []struct {
		desk    *client
		lib, bc string
	}{{deskBN, bn, "BN-KIEU-1"}, {deskTS, ts, "TS-KIEU-1"}} {
		if r := importCSV(t, imp.desk, imp.lib, fmt.Sprintf(csv, imp.bc)); len(r.Errors) > 0 {
			t.Fatalf("import: %+v", r.Errors)
		}
	}
	workID := field(anon.do(`{ item(barcode: "BN-KIEU-1") { work { id } } }`, nil).Data, "item", "work", "id").(string)

	// Both copies are out.
	other, student := e.login("doc.gia@example.vn"), e.login("hoc.sinh@example.vn")
	for _, out := range []struct {
		desk   *client
		lib    string
		reader *client
		bc     string
	}{{deskBN, bn, other, "BN-KIEU-1"}, {deskTS, ts, student, "TS-KIEU-1"}} {
		n, _ := cardOf(t, out.reader)
		r := out.desk.do(checkOutM, map[string]any{"in": map[string]any{"libraryId": out.lib, "cardNumber": n, "barcode": out.bc}})
		if field(r.Data, "checkOut", "loan", "state") != "ACTIVE" {
			t.Fatalf("checkOut %s: %+v", out.bc, r.Errors)
		}
	}

	reader := e.login("ban.doc@example.vn")
	r := reader.do(`mutation($in: PlaceHoldInput!) { placeHold(input: $in) { hold { `+holdFields+` } } }`,
		map[string]any{"in": map[string]any{"workId": workID, "pickupLibraryId": ts, "idempotencyKey": "hold-kieu"}})
	hold, _ := field(r.Data, "placeHold", "hold").(map[string]any)
	if hold == nil || hold["state"] != "WAITING" || hold["position"] != float64(1) || hold["estimatedWait"] == nil {
		t.Fatalf("placeHold: %v %+v", hold, r.Errors)
	}
	// Renewing the student's copy is refused while the reader waits, with the reason.
	loans := student.do(`{ myLoans { edges { node { id renewable notRenewableReason } } } }`, nil)
	sl := field(loans.Data, "myLoans", "edges").([]any)[0].(map[string]any)["node"].(map[string]any)
	if sl["renewable"] != false || sl["notRenewableReason"] == nil {
		t.Fatalf("the student's loan while someone waits: %v", sl)
	}
	wantCode(t, "renewing while someone waits", student.do(`mutation($id: ID!) { renewLoan(input: {loanId: $id}) { loan { id } } }`,
		map[string]any{"id": sl["id"]}), "CONFLICT")

	// The provincial library's copy comes back: it travels to Từ Sơn.
	r = deskBN.do(checkInM, map[string]any{"lib": bn, "bc": "BN-KIEU-1"})
	if field(r.Data, "checkIn", "action") != "TRANSIT_TO_PICKUP" || field(r.Data, "checkIn", "destination", "code") != "BN-TS" ||
		field(r.Data, "checkIn", "hold", "state") != "IN_TRANSIT" || field(r.Data, "checkIn", "loan", "state") != "RETURNED" {
		t.Fatalf("checkIn at the provincial library: %+v %+v", r.Data, r.Errors)
	}
	wantCode(t, "receiving at the wrong library's desk", deskTS.do(receiveM, map[string]any{"lib": bn, "bc": "BN-KIEU-1"}), "FORBIDDEN")
	r = deskTS.do(receiveM, map[string]any{"lib": ts, "bc": "BN-KIEU-1"})
	if field(r.Data, "receiveTransit", "action") != "HOLD_SHELF" || field(r.Data, "receiveTransit", "hold", "state") != "READY" ||
		field(r.Data, "receiveTransit", "hold", "pickupDeadline") == nil {
		t.Fatalf("receiveTransit: %+v %+v", r.Data, r.Errors)
	}
	shelf := deskTS.do(`query($lib: ID!) { holdShelf(libraryId: $lib) { id item { barcode } } }`, map[string]any{"lib": ts})
	if s := field(shelf.Data, "holdShelf").([]any); len(s) != 1 || s[0].(map[string]any)["id"] != hold["id"] {
		t.Fatalf("hold shelf: %+v %+v", shelf.Data, shelf.Errors)
	}

	// The reader shows their digital card at the Từ Sơn desk.
	_, token := cardOf(t, reader)
	r = deskTS.do(checkOutM, map[string]any{"in": map[string]any{"libraryId": ts, "cardToken": token, "barcode": "BN-KIEU-1"}})
	if field(r.Data, "checkOut", "loan", "state") != "ACTIVE" || field(r.Data, "checkOut", "loan", "item", "barcode") != "BN-KIEU-1" {
		t.Fatalf("checkOut with the digital card: %+v %+v", r.Data, r.Errors)
	}
	r = reader.do(`{ myHolds(includeEnded: true) { edges { node { id state } } } myLoans { totalCount } }`, nil)
	if h := field(r.Data, "myHolds", "edges").([]any)[0].(map[string]any)["node"].(map[string]any); h["state"] != "FULFILLED" ||
		field(r.Data, "myLoans", "totalCount") != float64(1) {
		t.Fatalf("after the checkout: %+v", r.Data)
	}

	readerID := field(reader.do(`{ me { id } }`, nil).Data, "me", "id").(string)
	evs, err := e.app.Stores.Events.EventsForReader(t.Context(), readerID, 50)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[events.Kind]int{}
	for _, ev := range evs {
		kinds[ev.Kind]++
	}
	if kinds[events.HoldInTransit] != 1 || kinds[events.HoldReady] != 1 {
		t.Fatalf("events recorded for the reader: %v", kinds)
	}
}

// TestReadingHistoryIsOptInExportableAndPrivate: nothing is kept until the
// reader turns it on; then returned loans are listed and exported; staff
// see only their own; clearing deletes it.
func TestReadingHistoryIsOptInExportableAndPrivate(t *testing.T) {
	e := newDemoEnv(t)
	anon := &client{t: t, url: e.srv.URL}
	ts := libraryID(t, anon, "BN-TS")
	desk := e.login(demo.LibrarianEmail("BN-TS"))
	const csv = "title,author,isbn,year,publisher,barcode,call number,location\nNhật ký trong tù,Hồ Chí Minh,,2010,NXB Văn học,TS-NK-1,895.922 HO-M,Kho mở\n"
	if r := importCSV(t, desk, ts, csv); len(r.Errors) > 0 {
		t.Fatalf("import: %+v", r.Errors)
	}
	reader := e.login("ban.doc@example.vn")
	number, _ := cardOf(t, reader)
	lendAndReturn := func() {
		t.Helper()
		r := desk.do(checkOutM, map[string]any{"in": map[string]any{"libraryId": ts, "cardNumber": number, "barcode": "TS-NK-1"}})
		if field(r.Data, "checkOut", "loan", "state") != "ACTIVE" {
			t.Fatalf("checkOut: %+v", r.Errors)
		}
		if r := desk.do(checkInM, map[string]any{"lib": ts, "bc": "TS-NK-1"}); len(r.Errors) > 0 {
			t.Fatalf("checkIn: %+v", r.Errors)
		}
	}
	const history = `{ readingHistorySetting { enabled } readingHistory { totalCount edges { node { title authors libraryName work { id } } } } }`
	lendAndReturn()
	if r := reader.do(history, nil); field(r.Data, "readingHistorySetting", "enabled") != false || field(r.Data, "readingHistory", "totalCount") != float64(0) {
		t.Fatalf("with the history off: %+v %+v", r.Data, r.Errors)
	}
	if r := reader.do(`mutation { setReadingHistory(input: {enabled: true}) { setting { enabled updatedAt } } }`, nil); field(r.Data, "setReadingHistory", "setting", "enabled") != true {
		t.Fatalf("turning it on: %+v", r.Errors)
	}
	lendAndReturn()
	r := reader.do(history, nil)
	entries := field(r.Data, "readingHistory", "edges").([]any)
	if len(entries) != 1 || entries[0].(map[string]any)["node"].(map[string]any)["title"] != "Nhật ký trong tù" {
		t.Fatalf("with the history on: %+v %+v", r.Data, r.Errors)
	}
	x := reader.do(`{ readingHistoryExport(format: CSV) { filename mediaType content } }`, nil)
	if c, _ := field(x.Data, "readingHistoryExport", "content").(string); !strings.Contains(c, "Nhật ký trong tù") ||
		!strings.HasPrefix(field(x.Data, "readingHistoryExport", "mediaType").(string), "text/csv") {
		t.Fatalf("export: %+v %+v", x.Data, x.Errors)
	}
	if r := desk.do(history, nil); field(r.Data, "readingHistory", "totalCount") != float64(0) {
		t.Fatalf("the librarian sees: %+v", r.Data)
	}
	if r := reader.do(`mutation { clearReadingHistory { deleted } }`, nil); field(r.Data, "clearReadingHistory", "deleted") != float64(1) {
		t.Fatalf("clear: %+v %+v", r.Data, r.Errors)
	}
	if r := reader.do(history, nil); field(r.Data, "readingHistory", "totalCount") != float64(0) {
		t.Fatalf("after clearing: %+v", r.Data)
	}
}

// TestPullListNamesShelfCopiesForWaitingHolds: a copy standing on a
// shelf is listed for the library's staff when a hold could take it.
func TestPullListNamesShelfCopiesForWaitingHolds(t *testing.T) {
	e := newDemoEnv(t)
	anon := &client{t: t, url: e.srv.URL}
	bn, ts := libraryID(t, anon, "BN"), libraryID(t, anon, "BN-TS")
	desk := e.login(demo.LibrarianEmail("BN"))
	const csv = "title,author,isbn,year,publisher,barcode,call number,location\nVợ nhặt,Kim Lân,,2012,NXB Văn học,BN-VN-1,895.922 KI-L,Kho mở tầng 2\n"
	if r := importCSV(t, desk, bn, csv); len(r.Errors) > 0 {
		t.Fatalf("import: %+v", r.Errors)
	}
	workID := field(anon.do(`{ item(barcode: "BN-VN-1") { work { id } } }`, nil).Data, "item", "work", "id").(string)
	reader := e.login("ban.doc@example.vn")
	r := reader.do(`mutation($in: PlaceHoldInput!) { placeHold(input: $in) { hold { id } } }`,
		map[string]any{"in": map[string]any{"workId": workID, "pickupLibraryId": ts}})
	holdID, _ := field(r.Data, "placeHold", "hold", "id").(string)
	if holdID == "" {
		t.Fatalf("placeHold: %+v", r.Errors)
	}
	const pull = `query($lib: ID!) { pullList(libraryId: $lib) { scope item { barcode location } hold { id pickupLibrary { code } } } }`
	r = desk.do(pull, map[string]any{"lib": bn})
	items, _ := field(r.Data, "pullList").([]any)
	if len(items) != 1 {
		t.Fatalf("pull list: %+v %+v", r.Data, r.Errors)
	}
	it := items[0].(map[string]any)
	if field(it, "item", "barcode") != "BN-VN-1" || field(it, "hold", "id") != holdID || it["scope"] == "HERE" {
		t.Fatalf("pull list entry: %v", it)
	}
	wantCode(t, "another library's pull list", e.login(demo.LibrarianEmail("BN-TS")).do(pull, map[string]any{"lib": bn}), "FORBIDDEN")
}
