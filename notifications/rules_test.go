package notifications_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bacninh/thuvienso/events"
	"github.com/bacninh/thuvienso/notifications"
)

func TestQuietHoursHoldPushesUntilMorningInTheProvincesTime(t *testing.T) {
	night := notifications.DefaultPreferences("r").Quiet
	lunch := notifications.QuietHours{Start: 12 * 60, End: 13*60 + 30}
	tests := []struct {
		name string
		q    notifications.QuietHours
		at   time.Time
		want time.Time
	}{
		{"evening before quiet hours", night, ict(3, 16, 20, 59), ict(3, 16, 20, 59)},
		{"start of quiet hours", night, ict(3, 16, 21, 0), ict(3, 17, 7, 0)},
		{"late evening", night, ict(3, 16, 23, 45), ict(3, 17, 7, 0)},
		{"after midnight", night, ict(3, 17, 2, 0), ict(3, 17, 7, 0)},
		{"end of quiet hours", night, ict(3, 17, 7, 0), ict(3, 17, 7, 0)},
		{"22:30 in Hanoi is 15:30 UTC", night, time.Date(2026, 3, 16, 15, 30, 0, 0, time.UTC), ict(3, 17, 7, 0)},
		{"last day of the month", night, ict(3, 31, 22, 0), ict(4, 1, 7, 0)},
		{"a window within one day", lunch, ict(3, 16, 12, 15), ict(3, 16, 13, 30)},
		{"outside a window within one day", lunch, ict(3, 16, 14, 0), ict(3, 16, 14, 0)},
		{"no quiet hours", notifications.QuietHours{}, ict(3, 16, 23, 0), ict(3, 16, 23, 0)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.q.NextAllowed(tc.at); !got.Equal(tc.want) {
				t.Fatalf("NextAllowed(%v) = %v, want %v", tc.at, got, tc.want)
			}
		})
	}
}

func TestRemindersGoAtTheReadersChosenMoments(t *testing.T) {
	due := ict(3, 20, 17, 0)
	dl := notifications.Deadline{ReaderID: "r", SubjectID: "loan-1", At: due, Data: map[string]string{"title": "Số đỏ"}}
	def := notifications.DefaultPreferences("r")
	five := notifications.DefaultPreferences("r")
	five.DaysBeforeDue = []int{5}
	tests := []struct {
		name   string
		kind   notifications.Kind
		p      *notifications.Preferences
		now    time.Time
		moment time.Time // zero: no reminder
	}{
		{"due soon: 4 days before", notifications.DueSoon, def, ict(3, 16, 17, 0), time.Time{}},
		{"due soon: 3 days before", notifications.DueSoon, def, ict(3, 17, 17, 0), ict(3, 17, 17, 0)},
		{"due soon: 2 days before, still the 3-day one", notifications.DueSoon, def, ict(3, 18, 9, 0), ict(3, 17, 17, 0)},
		{"due soon: 1 day before", notifications.DueSoon, def, ict(3, 19, 18, 0), ict(3, 19, 17, 0)},
		{"due soon: after the due date", notifications.DueSoon, def, ict(3, 20, 17, 0), time.Time{}},
		{"due soon: the reader's own 5 days", notifications.DueSoon, five, ict(3, 15, 17, 0), ict(3, 15, 17, 0)},
		{"due soon: the reader's own 5 days, 4 days before", notifications.DueSoon, five, ict(3, 16, 17, 0), ict(3, 15, 17, 0)},
		{"overdue: the due day", notifications.Overdue, def, ict(3, 21, 9, 0), time.Time{}},
		{"overdue: day 1", notifications.Overdue, def, ict(3, 21, 17, 0), ict(3, 21, 17, 0)},
		{"overdue: day 6", notifications.Overdue, def, ict(3, 26, 17, 0), ict(3, 21, 17, 0)},
		{"overdue: day 7", notifications.Overdue, def, ict(3, 27, 17, 0), ict(3, 27, 17, 0)},
		{"e-book: 3 days before the end", notifications.EbookExpiring, def, ict(3, 17, 17, 0), time.Time{}},
		{"e-book: 2 days before the end", notifications.EbookExpiring, def, ict(3, 18, 17, 0), due},
		{"e-book: ended", notifications.EbookExpiring, def, ict(3, 20, 17, 0), time.Time{}},
		{"hold: the day before the deadline", notifications.HoldExpiring, def, ict(3, 19, 17, 0), due},
		{"hold: two days before", notifications.HoldExpiring, def, ict(3, 18, 18, 0), time.Time{}},
		{"no rule for library news", notifications.LibraryNews, def, ict(3, 19, 17, 0), time.Time{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, ok := notifications.Reminder(tc.kind, dl, tc.p, tc.now)
			if ok != !tc.moment.IsZero() {
				t.Fatalf("reminder %v (%+v), want %v", ok, r, !tc.moment.IsZero())
			}
			if !ok {
				return
			}
			if !r.Moment.Equal(tc.moment) || r.Kind != tc.kind || r.SubjectID != "loan-1" || r.Data["title"] != "Số đỏ" || r.Data["deadline"] == "" {
				t.Fatalf("reminder %+v, want moment %v with the deadline's data", r, tc.moment)
			}
		})
	}
}

func TestEventsBecomeTheNotificationsReadersAreToldAbout(t *testing.T) {
	at := ict(3, 20, 17, 0)
	tests := []struct {
		kind events.Kind
		want notifications.Kind // "": not told
	}{
		{events.HoldReady, notifications.HoldReady},
		{events.HoldExpiring, notifications.HoldExpiring},
		{events.LoanDueSoon, notifications.DueSoon},
		{events.LoanOverdue, notifications.Overdue},
		{events.EbookLoanExpiring, notifications.EbookExpiring},
		{events.EbookHoldReserved, notifications.EbookHoldReserved},
		{events.EbookReservationExpiring, notifications.HoldExpiring},
		{events.EbookLoanEnded, ""},
		{events.LoanRenewed, ""},
		{events.HoldInTransit, ""},
	}
	for _, tc := range tests {
		t.Run(string(tc.kind), func(t *testing.T) {
			r, ok := notifications.FromEvent(&events.Event{Key: "k", Kind: tc.kind, ReaderID: "r", SubjectID: "s", WorkID: "w",
				LibraryID: "lib", At: at, Data: map[string]string{"deadline": "x"}})
			if ok != (tc.want != "") || (ok && (r.Kind != tc.want || !r.Moment.Equal(at) || r.EventKey != "k" ||
				r.Data["workId"] != "w" || r.Data["libraryId"] != "lib" || r.Data["deadline"] != "x")) {
				t.Fatalf("FromEvent = %+v, %v; want kind %q", r, ok, tc.want)
			}
		})
	}
}

func TestCirculationsLoanEventsGiveTheirDueDateToTheText(t *testing.T) {
	due := ict(3, 20, 17, 0)
	r, ok := notifications.FromEvent(&events.Event{Key: "loan-due-soon:l-1", Kind: events.LoanDueSoon, ReaderID: "r",
		SubjectID: "l-1", At: due, Data: map[string]string{"dueAt": due.UTC().Format(time.RFC3339)}})
	if !ok || !strings.Contains(notifications.Render(&notifications.Notification{Kind: r.Kind, Data: r.Data}, "en").Body, "20 Mar 2026, 17:00") {
		t.Fatalf("FromEvent = %+v, %v; want the due date in the text", r, ok)
	}
	r, _ = notifications.FromEvent(&events.Event{Key: "k", Kind: events.LoanOverdue, ReaderID: "r", SubjectID: "l-1", At: due})
	if r.Data["deadline"] != due.UTC().Format(time.RFC3339) {
		t.Fatalf("an overdue event without data gave deadline %q", r.Data["deadline"])
	}
}

func TestPreferencesAreCheckedAndKeepNewKindsOn(t *testing.T) {
	e := newEnv(t)
	r := reader("reader-1")
	p, err := e.svc.Preferences(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.DaysBeforeDue, []int{3, 1}) || p.Quiet.Start.String() != "21:00" || p.Quiet.End.String() != "07:00" ||
		len(p.EnabledKinds()) != len(notifications.Kinds) || p.Language != "" {
		t.Fatalf("defaults %+v, want every kind, 3 and 1 days, 21:00–07:00, each device's language", p)
	}
	kinds, days, lang := []notifications.Kind{notifications.HoldReady, notifications.DueSoon}, []int{1, 7, 3, 3}, "EN"
	start, _ := notifications.ParseTimeOfDay("22:30")
	end, _ := notifications.ParseTimeOfDay("06:15")
	p, err = e.svc.UpdatePreferences(t.Context(), r, notifications.PreferencesUpdate{Kinds: &kinds, DaysBeforeDue: &days,
		Quiet: &notifications.QuietHours{Start: start, End: end}, Language: &lang})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.EnabledKinds(), []notifications.Kind{notifications.DueSoon, notifications.HoldReady}) ||
		!slices.Equal(p.DaysBeforeDue, []int{7, 3, 1}) || p.Language != "en" || p.Quiet.Start.String() != "22:30" {
		t.Fatalf("updated %+v", p)
	}
	again, _ := e.svc.Preferences(t.Context(), r)
	if !slices.Equal(again.Disabled, p.Disabled) || again.Quiet != p.Quiet {
		t.Fatalf("stored %+v, want %+v", again, p)
	}
	bad := []struct {
		name string
		u    notifications.PreferencesUpdate
		want error
	}{
		{"unknown kind", notifications.PreferencesUpdate{Kinds: &[]notifications.Kind{"SPAM"}}, notifications.ErrBadKind},
		{"zero days", notifications.PreferencesUpdate{DaysBeforeDue: &[]int{0}}, notifications.ErrBadDaysBeforeDue},
		{"too far", notifications.PreferencesUpdate{DaysBeforeDue: &[]int{15}}, notifications.ErrBadDaysBeforeDue},
		{"too many", notifications.PreferencesUpdate{DaysBeforeDue: &[]int{1, 2, 3, 4, 5, 6}}, notifications.ErrBadDaysBeforeDue},
		{"bad time", notifications.PreferencesUpdate{Quiet: &notifications.QuietHours{Start: 24 * 60}}, notifications.ErrBadQuietHours},
		{"bad language", notifications.PreferencesUpdate{Language: ptr("fr")}, notifications.ErrBadLanguage},
	}
	for _, tc := range bad {
		if _, err := e.svc.UpdatePreferences(t.Context(), r, tc.u); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := notifications.ParseTimeOfDay("7h"); !errors.Is(err, notifications.ErrBadQuietHours) {
		t.Errorf("ParseTimeOfDay(7h) = %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestTextsAreInVietnameseAndEnglishForEveryKind(t *testing.T) {
	data := map[string]string{"title": "Dế Mèn phiêu lưu ký", "library": "Thư viện tỉnh Bắc Ninh",
		"deadline": "2026-03-20T10:00:00Z", "query": "Nguyễn Nhật Ánh", "count": "3"}
	for _, k := range notifications.Kinds {
		for _, lang := range []string{"vi", "en"} {
			n := &notifications.Notification{ID: "n-1", Kind: k, SubjectID: "s-1", Data: data}
			if k == notifications.LibraryNews {
				n.Data = map[string]string{"title": "Ngày hội đọc sách", "body": "Mời bạn đến thư viện."}
			}
			text := notifications.Render(n, lang)
			if text.Title == "" || text.Body == "" || strings.Contains(text.Body, "{") {
				t.Errorf("%s in %s: %+v", k, lang, text)
			}
			if !strings.HasPrefix(notifications.Link(n), notifications.LinkScheme) {
				t.Errorf("%s: link %q", k, notifications.Link(n))
			}
		}
	}
	n := &notifications.Notification{Kind: notifications.DueSoon, Data: data}
	if got := notifications.Render(n, "vi").Body; !strings.Contains(got, "17:00 ngày 20/03/2026") {
		t.Errorf("Vietnamese deadline: %q", got)
	}
	if got := notifications.Render(n, "en").Body; !strings.Contains(got, "20 Mar 2026, 17:00") {
		t.Errorf("English deadline: %q", got)
	}
	bare := &notifications.Notification{Kind: notifications.HoldReady}
	if got := notifications.Render(bare, "vi").Body; got != "sách của bạn đang chờ bạn tại thư viện đến thời hạn ghi trong ứng dụng." {
		t.Errorf("text without data: %q", got)
	}
	long := &notifications.Notification{Kind: notifications.LibraryNews, Data: map[string]string{"body": strings.Repeat("Thư viện ", 500)}}
	if got := notifications.Render(long, "vi").Body; len(got) > 1024 || !strings.HasSuffix(got, "…") {
		t.Errorf("a long body is %d bytes", len(got))
	}
}
