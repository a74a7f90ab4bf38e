package notifications_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/catalog"
	"github.com/bacninh/thuvienso/notifications"
	"github.com/bacninh/thuvienso/search"
)

var (
	_ notifications.Searcher = (*search.Index)(nil)
	_ notifications.Searcher = (*search.Cached)(nil)
)

// catalogue adds works by one author to the search index.
func (e *env) catalogue(author string, works map[string]int) {
	e.t.Helper()
	var docs []search.Document
	for title, year := range works {
		docs = append(docs, search.Document{ID: "work-" + strings.ReplaceAll(strings.ToLower(title), " ", "-"), Title: title,
			Authors: []string{author}, Year: year, Format: catalog.FormatBook, Languages: []string{"vie"},
			LibraryIDs: []string{"lib-tuson"}, TotalItems: 1, AvailableItems: 1})
	}
	if err := e.index.Index(e.t.Context(), docs...); err != nil {
		e.t.Fatal(err)
	}
}

func TestASavedSearchTellsOfNewTitlesAtMostOnceAWeek(t *testing.T) {
	e := newEnv(t)
	e.device("reader-1", "phone", notifications.Android, "vi")
	e.catalogue("Nguyễn Nhật Ánh", map[string]int{"Mắt biếc": 1990, "Cho tôi xin một vé đi tuổi thơ": 2008})
	saved, err := e.svc.SaveSearch(t.Context(), reader("reader-1"), notifications.SaveSearchInput{
		Name: "Sách mới của Nguyễn Nhật Ánh", Query: "nguyen nhat anh"})
	if err != nil {
		t.Fatal(err)
	}
	if len(saved.Seen) != 2 {
		t.Fatalf("the saved search noted %v, want the two works there are", saved.Seen)
	}
	e.catalogue("Nguyễn Nhật Ánh", map[string]int{"Ngồi khóc trên cây": 2013, "Cây chuối non đi giày xanh": 2010})
	e.catalogue("Tô Hoài", map[string]int{"Dế Mèn phiêu lưu ký": 2021})

	week := 7 * 24 * time.Hour
	start := e.clock.Now()
	steps := []struct {
		name    string
		at      time.Time
		notices int
		count   string
		title   string
	}{
		{"the day it was saved", start.Add(time.Hour), 0, "", ""},
		{"three days later", start.Add(3 * 24 * time.Hour), 0, "", ""},
		{"a week later: the two new titles", start.Add(week + time.Minute), 1, "2", "Ngồi khóc trên cây"},
		{"a minute after that", start.Add(week + 2*time.Minute), 0, "", ""},
		{"a week and a day: one more title came, but a week has not passed", start.Add(week + 24*time.Hour), 0, "", ""},
		{"two weeks later: the one new title", start.Add(2*week + 2*time.Minute), 1, "1", "Mắt biếc – bản đặc biệt"},
		{"three weeks later: nothing new", start.Add(3*week + 3*time.Minute), 0, "", ""},
	}
	for _, st := range steps {
		if st.name == "a week and a day: one more title came, but a week has not passed" {
			e.catalogue("Nguyễn Nhật Ánh", map[string]int{"Mắt biếc – bản đặc biệt": 2024})
		}
		rep := e.at(st.at)
		if rep.SavedSearchNotices != st.notices {
			t.Fatalf("%s: %d notices, want %d (%+v)", st.name, rep.SavedSearchNotices, st.notices, rep)
		}
		if st.notices == 0 {
			continue
		}
		n := e.inbox("reader-1")[0]
		if n.Kind != notifications.SavedSearch || n.SubjectID != saved.ID || n.Data["count"] != st.count || n.Data["title"] != st.title {
			t.Fatalf("%s: notified %+v, want %s new, the newest %q", st.name, n.Data, st.count, st.title)
		}
		if !n.Moment.Equal(notifications.WeekOf(n.Moment)) {
			t.Fatalf("%s: the moment %v is not the start of a week", st.name, n.Moment)
		}
	}
	in := e.inbox("reader-1")
	if len(in) != 2 {
		t.Fatalf("%d notifications, want 2", len(in))
	}
	if body := notifications.Render(in[1], "vi").Body; body != "2 đầu sách mới phù hợp với “Sách mới của Nguyễn Nhật Ánh”, mới nhất là “Ngồi khóc trên cây”." {
		t.Errorf("the first notice reads %q", body)
	}
	if body := notifications.Render(in[0], "en").Body; body != "A new title matches “Sách mới của Nguyễn Nhật Ánh”: “Mắt biếc – bản đặc biệt”." {
		t.Errorf("the second notice reads %q", body)
	}
	if link := notifications.Link(in[0]); link != "thuvienso://saved-searches/"+saved.ID {
		t.Errorf("the notice opens %q", link)
	}
	if got := e.fcm.Delivered(); len(got) != 2 {
		t.Fatalf("%d pushes, want 2", len(got))
	}
}

func TestSavedSearchesAreCheckedCappedAndTheReadersOwn(t *testing.T) {
	e := newEnv(t)
	r := reader("reader-1")
	save := func(in notifications.SaveSearchInput) error {
		_, err := e.svc.SaveSearch(t.Context(), r, in)
		return err
	}
	tests := []struct {
		name string
		in   notifications.SaveSearchInput
		want error
	}{
		{"words", notifications.SaveSearchInput{Name: "Truyện Kiều", Query: "Truyện Kiều"}, nil},
		{"a filter only", notifications.SaveSearchInput{Name: "Sách mới ở Từ Sơn", Filter: search.Filter{LibraryIDs: []string{"lib-tuson"}}}, nil},
		{"the same name", notifications.SaveSearchInput{Name: "Truyện Kiều", Query: "Nguyễn Du"}, notifications.ErrSavedSearchNameTaken},
		{"no name", notifications.SaveSearchInput{Name: " ", Query: "Nguyễn Du"}, notifications.ErrSavedSearchName},
		{"nothing to search", notifications.SaveSearchInput{Name: "Tất cả"}, notifications.ErrSavedSearchQuery},
		{"a filter the search refuses", notifications.SaveSearchInput{Name: "Năm lạ", Query: "thơ",
			Filter: search.Filter{YearFrom: 2020, YearTo: 2000}}, search.ErrYearRange},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := save(tc.in); !errors.Is(err, tc.want) {
				t.Fatalf("SaveSearch = %v, want %v", err, tc.want)
			}
		})
	}
	for i := 2; i < notifications.MaxSavedSearches; i++ {
		if err := save(notifications.SaveSearchInput{Name: fmt.Sprintf("Tìm %d", i), Query: "thơ"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := save(notifications.SaveSearchInput{Name: "Một tìm kiếm nữa", Query: "thơ"}); !errors.Is(err, notifications.ErrTooManySavedSearches) {
		t.Fatalf("one more than %d: %v", notifications.MaxSavedSearches, err)
	}
	mine, err := e.svc.SavedSearches(t.Context(), r)
	if err != nil || len(mine) != notifications.MaxSavedSearches || mine[0].Name != "Truyện Kiều" {
		t.Fatalf("SavedSearches: %d, %v; want %d, oldest first", len(mine), err, notifications.MaxSavedSearches)
	}
	if err := e.svc.DeleteSavedSearch(t.Context(), reader("reader-2"), mine[0].ID); !errors.Is(err, thuvienso.ErrNotFound) {
		t.Fatalf("another reader deleting it: %v", err)
	}
	if err := e.svc.DeleteSavedSearch(t.Context(), r, mine[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := save(notifications.SaveSearchInput{Name: "Truyện Kiều", Query: "Truyện Kiều"}); err != nil {
		t.Fatalf("saving again after deleting one: %v", err)
	}
	if _, err := e.svc.SavedSearches(t.Context(), auth.Actor{}); !errors.Is(err, thuvienso.ErrUnauthenticated) {
		t.Fatalf("an anonymous list: %v", err)
	}
}
