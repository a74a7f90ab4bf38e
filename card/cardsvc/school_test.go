package cardsvc_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/card"
	"github.com/bacninh/thuvienso/card/cardsvc"
)

// roll is a school's CSV as Excel in a Vietnamese locale saves it (BOM,
// semicolons, Vietnamese headers), with the bad rows it has and where.
type roll struct {
	csv      string
	valid    map[string]string // student ID → name
	badLines map[int]string    // line → field named by the error
}

// schoolRoll returns n good students (half with 10-digit national student
// IDs, half with the school's own) and five bad rows among them.
func schoolRoll(n int) roll {
	r := roll{valid: map[string]string{}, badLines: map[int]string{}}
	lines := []string{"\ufeffHọ và tên;Lớp;Mã học sinh;Ghi chú"}
	add := func(line string) int { lines = append(lines, line); return len(lines) }
	for i := range n {
		id := fmt.Sprintf("%010d", 2_700_000_000+i)
		if i%2 == 1 {
			id = fmt.Sprintf("hs-2026-%04d", i) // upper-cased on import
		}
		name := fmt.Sprintf("Nguyễn Văn Học Sinh %d", i)
		add(fmt.Sprintf("%s;%d%s;%s;", name, 6+i%4, string(rune('A'+i%3)), id))
		r.valid[strings.ToUpper(id)] = name
		switch i {
		case 10:
			r.badLines[add(";6A;HS-NO-NAME;")] = "name"
		case 20:
			r.badLines[add(fmt.Sprintf("Trùng Mã;6B;%s;", id))] = "studentId" // the same ID again
		case 30:
			r.badLines[add("Lê Văn Sai;7C;HS 01!;")] = "studentId"
		case 40:
			r.badLines[add(`Lê "Văn" Ngoặc;7C;HS-QUOTE;`)] = "" // not CSV
		case 50:
			r.badLines[add("Không Có Lớp;;HS-NO-CLASS;")] = "class"
			add(";;;") // blank rows are skipped, not errors
		}
	}
	r.csv = strings.Join(lines, "\r\n") + "\r\n"
	return r
}

func TestRegisterStudentsFromCSV(t *testing.T) {
	e := newEnv(t)
	schoolLibrarian := e.librarian(e.school)
	r := schoolRoll(500)

	began := time.Now()
	res, err := e.svc.RegisterStudents(e.ctx, schoolLibrarian, e.school.ID, r.csv)
	must(t, "RegisterStudents", err)
	t.Logf("500 students registered in %v", time.Since(began).Round(time.Millisecond))
	if len(res.Created) != 500 || len(res.Existing) != 0 {
		t.Fatalf("created %d, existing %d; want 500 and 0", len(res.Created), len(res.Existing))
	}
	wantRowErrors(t, res, r.badLines)
	// Students' cards expire at the end of the school year: 1 June 2027
	// in the province, for a registration in November 2026.
	if want := time.Date(2027, time.June, 1, 0, 0, 0, 0, thuvienso.Zone); !res.ExpiresAt.Equal(want) {
		t.Fatalf("ExpiresAt %v, want %v", res.ExpiresAt, want)
	}
	keys := make([]string, 0, len(res.Created))
	numbers := map[string]bool{}
	for _, row := range res.Created {
		name, ok := r.valid[row.StudentID]
		if !ok || row.Name != name || row.AccountID == "" || !card.ValidNumber(row.CardNumber) || numbers[row.CardNumber] {
			t.Fatalf("created row %+v", row)
		}
		numbers[row.CardNumber] = true
		if len(row.StudentID) == 10 && row.CardNumber != card.Prefix+row.StudentID+row.CardNumber[12:] {
			t.Errorf("student %s got number %s: a national student ID is the number's body", row.StudentID, row.CardNumber)
		}
		keys = append(keys, card.StudentKey(e.school.ID, row.StudentID))
	}
	cards, err := e.set.Cards.CardsByStudentKey(e.ctx, keys)
	must(t, "CardsByStudentKey", err)
	if len(cards) != 500 {
		t.Fatalf("%d cards stored, want 500", len(cards))
	}
	for _, c := range cards {
		if !c.ExpiresAt.Equal(res.ExpiresAt) || c.HomeLibraryID != e.school.ID || c.Status != card.StatusActive || c.Class == "" {
			t.Fatalf("stored card %+v", c)
		}
	}

	// The same file again creates nothing and reports everyone as there.
	again, err := e.svc.RegisterStudents(e.ctx, schoolLibrarian, e.school.ID, r.csv)
	must(t, "RegisterStudents again", err)
	if len(again.Created) != 0 || len(again.Existing) != 500 {
		t.Fatalf("second run: created %d, existing %d; want 0 and 500", len(again.Created), len(again.Existing))
	}
	wantRowErrors(t, again, r.badLines)
	byID := map[string]string{}
	for _, row := range res.Created {
		byID[row.StudentID] = row.CardNumber
	}
	for _, row := range again.Existing {
		if byID[row.StudentID] != row.CardNumber {
			t.Fatalf("second run gave %s the number %s, first %s", row.StudentID, row.CardNumber, byID[row.StudentID])
		}
	}

	// A student's card works from the start; the account logs in once a
	// librarian activated it at the desk.
	st := res.Created[0]
	dc := e.digital(schoolLibrarian, st.AccountID, "")
	_, err = e.svc.VerifyCard(e.ctx, e.librarian(e.queVo), dc.Token)
	must(t, "VerifyCard of a student's card", err)
	_, _, err = e.auth.Login(e.ctx, st.CardNumber, cardsvc.PendingActivation, auth.Client{})
	wantErr(t, "login before activation", err, auth.ErrBadCredentials)
	must(t, "ActivateStudent", e.svc.ActivateStudent(e.ctx, schoolLibrarian, st.AccountID, "mật-khẩu-học-sinh"))
	_, _, err = e.auth.Login(e.ctx, st.CardNumber, "mật-khẩu-học-sinh", auth.Client{})
	must(t, "login after activation", err)
	err = e.svc.ActivateStudent(e.ctx, schoolLibrarian, st.AccountID, "mật-khẩu-khác-nữa")
	wantCode(t, "activating twice", err, thuvienso.CodeConflict)

	// A student who lost their card is still found as registered.
	lost, err := e.svc.ReportLost(e.ctx, schoolLibrarian, st.AccountID)
	must(t, "ReportLost", err)
	third, err := e.svc.RegisterStudents(e.ctx, schoolLibrarian, e.school.ID, r.csv)
	must(t, "RegisterStudents after a loss", err)
	if len(third.Created) != 0 {
		t.Fatalf("after a loss, a run created %d students", len(third.Created))
	}
	for _, row := range third.Existing {
		if row.StudentID == st.StudentID && row.CardNumber != lost.Number {
			t.Fatalf("after a loss the student is reported with %s, want the new card %s", row.CardNumber, lost.Number)
		}
	}
}

// wantRowErrors fails t unless res reports exactly the bad lines, each
// naming its field.
func wantRowErrors(t *testing.T, res *cardsvc.RegisterStudentsResult, bad map[int]string) {
	t.Helper()
	got := map[int]string{}
	for _, re := range res.Errors {
		if re.Err == nil || re.Err.Code != thuvienso.CodeBadUserInput || re.Err.VI == "" {
			t.Fatalf("row error %+v", re)
		}
		got[re.Line] = re.Err.Field
	}
	if len(got) != len(bad) {
		t.Fatalf("errors on lines %v, want %v", got, bad)
	}
	for line, field := range bad {
		if f, ok := got[line]; !ok || f != field {
			t.Fatalf("errors on lines %v, want %v", got, bad)
		}
	}
}

func TestRegisterStudentsRefusals(t *testing.T) {
	e := newEnv(t)
	schoolLibrarian := e.librarian(e.school)
	good := "name,class,student id\nĐào Thị Hà,8A,HS-1\n"
	tests := []struct {
		name    string
		actor   auth.Actor
		library string
		csv     string
		want    thuvienso.Code
		field   string
	}{
		{"a librarian of another library", e.librarian(e.queVo), e.school.ID, good, thuvienso.CodeForbidden, ""},
		{"a reader", auth.Actor{AccountID: "r", Role: auth.RoleReader}, e.school.ID, good, thuvienso.CodeForbidden, ""},
		{"not a school", e.admin, e.tuSon.ID, good, thuvienso.CodeBadUserInput, "input.libraryId"},
		{"no student ID column", schoolLibrarian, e.school.ID, "name,class\nĐào Thị Hà,8A\n", thuvienso.CodeBadUserInput, "input.csv"},
		{"no header", schoolLibrarian, e.school.ID, "", thuvienso.CodeBadUserInput, "input.csv"},
		{"not UTF-8", schoolLibrarian, e.school.ID, "name,class,student id\n\xd0\xe0o,8A,HS-1\xff\n", thuvienso.CodeBadUserInput, "input.csv"},
		{"too many rows", schoolLibrarian, e.school.ID,
			"name,class,student id\n" + strings.Repeat("Đào Thị Hà,8A,HS-1\n", cardsvc.MaxStudentRows+1), thuvienso.CodeBadUserInput, "input.csv"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.RegisterStudents(e.ctx, tc.actor, tc.library, tc.csv)
			if tc.field != "" {
				wantCode(t, tc.name, err, tc.want, tc.field)
			} else {
				wantCode(t, tc.name, err, tc.want)
			}
		})
	}
	// English headers, commas, an admin: fine.
	res, err := e.svc.RegisterStudents(e.ctx, e.admin, e.school.ID, good)
	must(t, "RegisterStudents by an admin", err)
	if len(res.Created) != 1 || res.Created[0].Line != 2 {
		t.Fatalf("result %+v", res)
	}
}
