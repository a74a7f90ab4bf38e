package app

import (
	"fmt"
	"strings"
	"testing"

	"github.com/bacninh/thuvienso/demo"
)

const digitalCardQuery = `query($pass: CardPass) { digitalCard(pass: $pass) {
  number barcodeValue symbology status token pass tokenExpiresAt refreshAt homeLibrary { code } card { current } } }`

const verifyMutation = `mutation($t: String!) { verifyCard(input: {token: $t}) { verification {
  holderName status pass card { number status } } } }`

// TestDigitalCardVerifiedOnceAtADeskAndRefusedWhenBlocked is the desk
// journey through GraphQL: a reader shows their card, a librarian of
// another library verifies it, the same code shown again is refused, and
// once blocked the card's fresh code is refused with the reason.
func TestDigitalCardVerifiedOnceAtADeskAndRefusedWhenBlocked(t *testing.T) {
	e := newDemoEnv(t)
	reader := e.login("ban.doc@example.vn")
	desk := e.login(demo.LibrarianEmail("BN")) // the provincial library; the reader is from Từ Sơn
	r := reader.do(digitalCardQuery, nil)
	if len(r.Errors) > 0 {
		t.Fatalf("digitalCard: %+v", r.Errors)
	}
	dc := field(r.Data, "digitalCard").(map[string]any)
	if dc["status"] != "ACTIVE" || dc["pass"] != "ONLINE" || dc["token"] == "" || dc["barcodeValue"] != dc["number"] {
		t.Fatalf("digital card: %v", dc)
	}
	token := dc["token"].(string)
	v := desk.do(verifyMutation, map[string]any{"t": token})
	if field(v.Data, "verifyCard", "verification", "status") != "ACTIVE" ||
		field(v.Data, "verifyCard", "verification", "card", "number") != dc["number"] {
		t.Fatalf("verify: %+v %+v", v.Data, v.Errors)
	}
	wantCode(t, "the same code again", desk.do(verifyMutation, map[string]any{"t": token}), "BAD_USER_INPUT")
	wantCode(t, "a reader verifying", reader.do(verifyMutation, map[string]any{"t": token}), "FORBIDDEN")
	wantCode(t, "a tampered code", desk.do(verifyMutation, map[string]any{"t": token[:len(token)-4] + "AAAA"}), "BAD_USER_INPUT")

	// The home library's librarian blocks it; the reader reads why.
	home := e.login(demo.LibrarianEmail("BN-TS"))
	b := home.do(`mutation($n: String!) { blockCard(input: {number: $n, reason: OVERDUE}) { card { status blockReason } } }`,
		map[string]any{"n": dc["number"]})
	if field(b.Data, "blockCard", "card", "status") != "BLOCKED" {
		t.Fatalf("block: %+v %+v", b.Data, b.Errors)
	}
	r = reader.do(`{ myCards { card { status blockReason blockMessage } link { status } } }`, nil)
	mine := field(r.Data, "myCards").([]any)[0].(map[string]any)["card"].(map[string]any)
	if mine["status"] != "BLOCKED" || !strings.Contains(mine["blockMessage"].(string), "overdue") {
		t.Fatalf("the reader's view of the block: %v", mine)
	}
	fresh := field(reader.do(digitalCardQuery, nil).Data, "digitalCard", "token").(string)
	wantCode(t, "a blocked card's code", desk.do(verifyMutation, map[string]any{"t": fresh}), "FORBIDDEN")
	wantCode(t, "an offline pass of a blocked card", reader.do(digitalCardQuery, map[string]any{"pass": "OFFLINE"}), "FORBIDDEN")
}

// TestMistypedCardNumbersAreCaughtByTheCheckDigit types a real card number
// with one digit changed and with two neighbours swapped.
func TestMistypedCardNumbersAreCaughtByTheCheckDigit(t *testing.T) {
	e := newDemoEnv(t)
	reader := e.login("ban.doc@example.vn")
	desk := e.login(demo.LibrarianEmail("BN"))
	number := field(reader.do(digitalCardQuery, nil).Data, "digitalCard", "number").(string)
	const q = `query($n: String!) { cardByNumber(number: $n) { number holder { name } } }`
	if r := desk.do(q, map[string]any{"n": number}); field(r.Data, "cardByNumber", "number") != number {
		t.Fatalf("the real number: %+v %+v", r.Data, r.Errors)
	}
	changed := []byte(number)
	changed[5] = '0' + (changed[5]-'0'+3)%10
	swapped := []byte(number)
	i := 3
	for swapped[i] == swapped[i+1] {
		i++
	}
	swapped[i], swapped[i+1] = swapped[i+1], swapped[i]
	for _, typo := range []string{string(changed), string(swapped)} {
		r := desk.do(q, map[string]any{"n": typo})
		wantCode(t, "typo "+typo, r, "BAD_USER_INPUT")
	}
}

// TestLostCardIsReplacedAndTheOldNumberRefused reports a card lost.
func TestLostCardIsReplacedAndTheOldNumberRefused(t *testing.T) {
	e := newDemoEnv(t)
	reader := e.login("ban.doc@example.vn")
	old := field(reader.do(digitalCardQuery, nil).Data, "digitalCard", "number").(string)
	r := reader.do(`mutation { reportCardLost(input: {}) { card { number status current } } }`, nil)
	nw, _ := field(r.Data, "reportCardLost", "card", "number").(string)
	if nw == "" || nw == old || field(r.Data, "reportCardLost", "card", "status") != "ACTIVE" {
		t.Fatalf("report lost: %+v %+v", r.Data, r.Errors)
	}
	desk := e.login(demo.LibrarianEmail("BN"))
	c := desk.do(`query($n: String!) { cardByNumber(number: $n) { status current replacedBy } }`, map[string]any{"n": old})
	if field(c.Data, "cardByNumber", "status") != "LOST" || field(c.Data, "cardByNumber", "replacedBy") != nw {
		t.Fatalf("the old card: %+v %+v", c.Data, c.Errors)
	}
	anon := &client{t: t, url: e.srv.URL}
	if r := anon.do(loginMutation, map[string]any{"login": nw, "pw": demo.Password}); len(r.Errors) > 0 {
		t.Fatalf("login with the new number: %+v", r.Errors)
	}
	wantCode(t, "login with the lost number", anon.do(loginMutation, map[string]any{"login": old, "pw": demo.Password}), "UNAUTHENTICATED")
}

// TestBulkSchoolRegistrationOfFiveHundredStudents registers a school's
// students in one mutation, reports bad rows by line, and changes nothing
// when run again.
func TestBulkSchoolRegistrationOfFiveHundredStudents(t *testing.T) {
	e := newDemoEnv(t)
	r := e.admin.do(`{ libraries(first: 1, filter: {types: [SCHOOL]}) { edges { node { id code } } } }`, nil)
	school := field(r.Data, "libraries", "edges").([]any)[0].(map[string]any)["node"].(map[string]any)
	librarian := e.login(demo.LibrarianEmail(school["code"].(string)))
	var csv strings.Builder
	csv.WriteString("Họ và tên,Lớp,Mã học sinh\n")
	for i := range 500 {
		fmt.Fprintf(&csv, "Nguyễn Văn Học %d,10A%d,HS%05d\n", i, i%9+1, i)
	}
	csv.WriteString(",10A1,HS99998\n") // no name: line 502
	const m = `mutation($in: RegisterStudentsInput!) { registerStudents(input: $in) {
	  created { line cardNumber } existing { line } errors { line field message } cardsExpireAt } }`
	in := map[string]any{"in": map[string]any{"schoolLibraryId": school["id"], "csv": csv.String()}}
	first := librarian.do(m, in)
	if len(first.Errors) > 0 {
		t.Fatalf("registerStudents: %+v", first.Errors)
	}
	created := field(first.Data, "registerStudents", "created").([]any)
	errs := field(first.Data, "registerStudents", "errors").([]any)
	if len(created) != 500 || len(errs) != 1 || errs[0].(map[string]any)["line"] != float64(502) {
		t.Fatalf("first run: %d created, errors %v", len(created), errs)
	}
	again := librarian.do(m, in)
	if n := len(field(again.Data, "registerStudents", "created").([]any)); n != 0 ||
		len(field(again.Data, "registerStudents", "existing").([]any)) != 500 {
		t.Fatalf("second run created %d: %+v", n, again.Errors)
	}
	wantCode(t, "another library's librarian", e.login(demo.LibrarianEmail("BN-TS")).do(m, in), "FORBIDDEN")
}
