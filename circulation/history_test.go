package circulation_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/circulation"
)

// borrowAndReturn lends a copy to the reader at desk and checks it in
// there an hour later.
func (e *env) borrowAndReturn(desk, readerID, barcode string) *circulation.Loan {
	e.t.Helper()
	l := e.lend(desk, readerID, barcode)
	e.clock.Add(time.Hour)
	if res := e.checkIn(desk, barcode); res.Loan == nil || res.Loan.ID != l.ID {
		e.t.Fatalf("returning %s ended %+v, want loan %s", barcode, res.Loan, l.ID)
	}
	e.clock.Add(time.Hour)
	return l
}

func (e *env) historyTitles(who auth.Actor) []string {
	e.t.Helper()
	p, err := e.svc.History(e.ctx, who, 100, "")
	e.must("History", err)
	var out []string
	for _, h := range p.Entries {
		out = append(out, h.Title)
	}
	return out
}

func TestReadingHistoryIsKeptOnlyWhileTheReaderHasItOn(t *testing.T) {
	e := newEnv(t, friday)
	e.work("Truyện Kiều", "BOOK", map[string]string{"K-1": tuSon})
	e.work("Số đỏ", "BOOK", map[string]string{"S-1": queVo})
	e.work("Tắt đèn", "BOOK", map[string]string{"T-1": tuSon})
	a := e.reader("a", auth.CategoryAdult)

	// Off by default: a return leaves nothing.
	set, err := e.svc.HistorySetting(e.ctx, a)
	e.must("HistorySetting", err)
	if set.Enabled || set.Version != 0 {
		t.Fatalf("a new reader's setting: %+v, want off", set)
	}
	e.borrowAndReturn(tuSon, "a", "K-1")
	if got := e.historyTitles(a); len(got) != 0 {
		t.Fatalf("history kept while off: %v", got)
	}

	// On: every return is an entry, newest first, with what was borrowed where and when.
	set, err = e.svc.SetHistoryEnabled(e.ctx, a, true)
	e.must("SetHistoryEnabled", err)
	if !set.Enabled || set.Version != 1 {
		t.Fatalf("after turning it on: %+v", set)
	}
	out := e.clock.Now()
	kieu := e.borrowAndReturn(tuSon, "a", "K-1")
	e.borrowAndReturn(queVo, "a", "S-1")
	if got := e.historyTitles(a); !slices.Equal(got, []string{"Số đỏ", "Truyện Kiều"}) {
		t.Fatalf("history: %v", got)
	}
	p, err := e.svc.History(e.ctx, a, 100, "")
	e.must("History", err)
	k := p.Entries[1]
	if k.ID != kieu.ID || k.WorkID != kieu.WorkID || !slices.Equal(k.Authors, []string{"Nguyễn Du"}) || k.LibraryID != tuSon ||
		k.LibraryName != "Thư viện thị xã Từ Sơn" || !k.BorrowedAt.Equal(out) || !k.ReturnedAt.Equal(out.Add(time.Hour)) {
		t.Fatalf("the Truyện Kiều entry: %+v", k)
	}

	// Off: returns stop being recorded, the entries stay.
	_, err = e.svc.SetHistoryEnabled(e.ctx, a, false)
	e.must("SetHistoryEnabled off", err)
	e.borrowAndReturn(tuSon, "a", "T-1")
	if got := e.historyTitles(a); !slices.Equal(got, []string{"Số đỏ", "Truyện Kiều"}) {
		t.Fatalf("history after turning it off: %v", got)
	}
	n, err := e.svc.HistoryCount(e.ctx, a)
	e.must("HistoryCount", err)
	if n != 2 {
		t.Fatalf("HistoryCount %d, want 2", n)
	}

	// Cleared: gone for good; the setting is unchanged.
	n, err = e.svc.ClearHistory(e.ctx, a)
	e.must("ClearHistory", err)
	if n != 2 || len(e.historyTitles(a)) != 0 {
		t.Fatalf("ClearHistory deleted %d, left %v", n, e.historyTitles(a))
	}
	if set, _ := e.svc.HistorySetting(e.ctx, a); set.Enabled {
		t.Fatalf("clearing turned the history on: %+v", set)
	}
}

func TestNoOneButTheReaderSeesTheirReadingHistory(t *testing.T) {
	e := newEnv(t, friday)
	e.work("Truyện Kiều", "BOOK", map[string]string{"K-1": tuSon})
	a := e.reader("a", auth.CategoryAdult)
	b := e.reader("b", auth.CategoryAdult)
	_, err := e.svc.SetHistoryEnabled(e.ctx, a, true)
	e.must("SetHistoryEnabled", err)
	e.borrowAndReturn(tuSon, "a", "K-1")
	entryID := func() string {
		p, err := e.svc.History(e.ctx, a, 1, "")
		e.must("History", err)
		if len(p.Entries) != 1 {
			t.Fatalf("a's history: %+v", p.Entries)
		}
		return p.Entries[0].ID
	}()
	admin := auth.Actor{AccountID: "admin", Role: auth.RoleAdmin}
	// Every method acts on the caller's own history: staff, an admin and
	// another reader see theirs (empty), never a's.
	for _, who := range []struct {
		name  string
		actor auth.Actor
	}{{"the librarian who lent it", e.staff[tuSon]}, {"an admin", admin}, {"another reader", b}} {
		t.Run(who.name, func(t *testing.T) {
			if got := e.historyTitles(who.actor); len(got) != 0 {
				t.Fatalf("%s reads %v", who.name, got)
			}
			x, err := e.svc.ExportHistory(e.ctx, who.actor, circulation.ExportJSON, "vi")
			e.must("ExportHistory", err)
			if bytes.Contains(x.Data, []byte("Truyện Kiều")) {
				t.Fatalf("%s exported a's history: %s", who.name, x.Data)
			}
			if err := e.svc.DeleteHistoryEntry(e.ctx, who.actor, entryID); !errors.Is(err, thuvienso.ErrNotFound) {
				t.Fatalf("%s deleting a's entry: %v, want NOT_FOUND", who.name, err)
			}
			if n, err := e.svc.ClearHistory(e.ctx, who.actor); err != nil || n != 0 {
				t.Fatalf("%s clearing: %d, %v", who.name, n, err)
			}
		})
	}
	if got := e.historyTitles(a); !slices.Equal(got, []string{"Truyện Kiều"}) {
		t.Fatalf("a's history after the others tried: %v", got)
	}
	e.must("DeleteHistoryEntry", e.svc.DeleteHistoryEntry(e.ctx, a, entryID))
	if got := e.historyTitles(a); len(got) != 0 {
		t.Fatalf("a's history after deleting the entry: %v", got)
	}
}

func TestReadingHistoryPagesNewestFirst(t *testing.T) {
	e := newEnv(t, friday)
	e.work("Truyện Kiều", "BOOK", map[string]string{"K-1": tuSon})
	a := e.reader("a", auth.CategoryAdult)
	_, err := e.svc.SetHistoryEnabled(e.ctx, a, true)
	e.must("SetHistoryEnabled", err)
	var want []string
	for range 5 {
		l := e.borrowAndReturn(tuSon, "a", "K-1")
		want = append([]string{l.ID}, want...)
	}
	var got []string
	after := ""
	for page := 0; ; page++ {
		p, err := e.svc.History(e.ctx, a, 2, after)
		e.must("History", err)
		for _, h := range p.Entries {
			got = append(got, h.ID)
		}
		if !p.HasNextPage {
			break
		}
		if page > 5 {
			t.Fatal("the pages never end")
		}
		after = circulation.EncodeHistoryCursor(circulation.HistoryCursorOf(p.Entries[len(p.Entries)-1]))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("pages: %v, want %v", got, want)
	}
	for _, tc := range []struct {
		name string
		call func() error
		want error
	}{
		{"a cursor the server never gave", func() error { _, err := e.svc.History(e.ctx, a, 2, "bm90LWEtY3Vyc29y"); return err }, circulation.ErrBadHistoryCursor},
		{"an anonymous request", func() error { _, err := e.svc.History(e.ctx, auth.Actor{}, 2, ""); return err }, thuvienso.ErrUnauthenticated},
		{"an export as PDF", func() error { _, err := e.svc.ExportHistory(e.ctx, a, "PDF", "vi"); return err }, circulation.ErrBadExportFormat},
		{"an anonymous export", func() error { _, err := e.svc.ExportHistory(e.ctx, auth.Actor{}, "CSV", "vi"); return err }, thuvienso.ErrUnauthenticated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestTheReaderDownloadsTheirHistoryAsCSVOrJSON(t *testing.T) {
	e := newEnv(t, friday)
	e.work("Truyện Kiều", "BOOK", map[string]string{"K-1": tuSon})
	e.work("=HYPERLINK(\"x\")", "BOOK", map[string]string{"X-1": queVo})
	a := e.reader("a", auth.CategoryAdult)
	_, err := e.svc.SetHistoryEnabled(e.ctx, a, true)
	e.must("SetHistoryEnabled", err)
	e.borrowAndReturn(tuSon, "a", "K-1")
	e.borrowAndReturn(queVo, "a", "X-1")
	borrowed := friday.Format(time.RFC3339) // 2025-03-14T09:30:00+07:00

	tests := []struct {
		format    circulation.ExportFormat
		lang      string
		mediaType string
		check     func(t *testing.T, data []byte)
	}{
		{circulation.ExportCSV, "vi", "text/csv; charset=utf-8", func(t *testing.T, data []byte) {
			body, ok := bytes.CutPrefix(data, []byte("\uFEFF"))
			if !ok {
				t.Fatal("no byte order mark: spreadsheets would garble the Vietnamese")
			}
			rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
			if err != nil {
				t.Fatalf("not CSV: %v", err)
			}
			if len(rows) != 3 || rows[0][2] != "Nhan đề" {
				t.Fatalf("rows: %q", rows)
			}
			if rows[2][0] != borrowed || rows[2][2] != "Truyện Kiều" || rows[2][3] != "Nguyễn Du" || rows[2][4] != "Thư viện thị xã Từ Sơn" {
				t.Fatalf("the Truyện Kiều row: %q", rows[2])
			}
			if !strings.HasPrefix(rows[1][2], "'=") {
				t.Fatalf("a title that looks like a formula is exported as %q", rows[1][2])
			}
		}},
		{circulation.ExportCSV, "en", "text/csv; charset=utf-8", func(t *testing.T, data []byte) {
			if !bytes.Contains(data, []byte("Borrowed,Returned,Title,Authors,Library,Work ID\r\n")) {
				t.Fatalf("English header missing: %q", data)
			}
		}},
		{circulation.ExportJSON, "en", "application/json", func(t *testing.T, data []byte) {
			var doc struct {
				ExportedAt string `json:"exportedAt"`
				Entries    []struct {
					Title       string   `json:"title"`
					Authors     []string `json:"authors"`
					LibraryName string   `json:"libraryName"`
					BorrowedAt  string   `json:"borrowedAt"`
					ReturnedAt  string   `json:"returnedAt"`
				} `json:"entries"`
			}
			if err := json.Unmarshal(data, &doc); err != nil {
				t.Fatalf("not JSON: %v", err)
			}
			if len(doc.Entries) != 2 || doc.ExportedAt == "" {
				t.Fatalf("document: %+v", doc)
			}
			k := doc.Entries[1]
			if k.Title != "Truyện Kiều" || !slices.Equal(k.Authors, []string{"Nguyễn Du"}) || k.BorrowedAt != borrowed ||
				k.ReturnedAt != friday.Add(time.Hour).Format(time.RFC3339) {
				t.Fatalf("the Truyện Kiều entry: %+v", k)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(string(tc.format)+" "+tc.lang, func(t *testing.T) {
			x, err := e.svc.ExportHistory(e.ctx, a, tc.format, tc.lang)
			e.must("ExportHistory", err)
			if x.MediaType != tc.mediaType || !strings.HasPrefix(x.Filename, "lich-su-doc-") {
				t.Fatalf("export: %s %q", x.MediaType, x.Filename)
			}
			tc.check(t, x.Data)
		})
	}
}

// clearingStore clears the reader's history just before an entry is
// added: a clear that lands after the recording checked the setting and
// before it wrote the entry.
type clearingStore struct {
	circulation.Store
}

func (s clearingStore) AddHistoryEntry(ctx context.Context, h *circulation.HistoryEntry) error {
	if _, err := s.Store.ClearHistory(ctx, h.ReaderID, time.Now()); err != nil {
		return err
	}
	return s.Store.AddHistoryEntry(ctx, h)
}

func TestAnEntryRecordedWhileTheReaderClearsDoesNotSurviveTheClear(t *testing.T) {
	e := newEnv(t, friday)
	e.svc = circulation.NewService(clearingStore{e.set.Circulation}, e.set.Events, e.set.Catalog, e.set.Auth, e.set.Libraries,
		circulation.WithClock(e.clock.Now))
	e.work("Truyện Kiều", "BOOK", map[string]string{"K-1": tuSon})
	a := e.reader("a", auth.CategoryAdult)
	_, err := e.svc.SetHistoryEnabled(e.ctx, a, true)
	e.must("SetHistoryEnabled", err)
	e.borrowAndReturn(tuSon, "a", "K-1")
	if got := e.historyTitles(a); len(got) != 0 {
		t.Fatalf("an entry survived the clear: %v", got)
	}
}
