package notifications_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/circulation"
	"github.com/bacninh/thuvienso/events"
	"github.com/bacninh/thuvienso/lock"
	"github.com/bacninh/thuvienso/notifications"
)

// endOfDay is the end of a day in the province: circulation's due times
// and pickup deadlines.
func endOfDay(month time.Month, day int) time.Time {
	return time.Date(2026, month, day, 23, 59, 59, 0, thuvienso.Zone)
}

// slot returns the next free loan or hold slot of a reader.
func (e *env) slot(readerID string) int {
	n := e.slots[readerID]
	e.slots[readerID] = n + 1
	return n
}

// lend stores an ACTIVE circulation loan due at due.
func (e *env) lend(id, readerID string, due time.Time) *circulation.Loan {
	e.t.Helper()
	l := &circulation.Loan{ID: id, ReaderID: readerID, Barcode: "BC-" + id, WorkID: "work-so-do", LibraryID: "lib-tuson",
		ItemLibraryID: "lib-tuson", State: circulation.LoanActive, CheckedOutAt: e.clock.Now(), DueAt: due, Slot: e.slot(readerID)}
	if err := e.stores.Circulation.CreateLoan(e.t.Context(), l); err != nil {
		e.t.Fatalf("CreateLoan: %v", err)
	}
	return l
}

// at moves the clock to t and runs a dispatcher pass.
func (e *env) at(t time.Time) notifications.Report {
	e.t.Helper()
	e.clock.Set(t)
	return e.run()
}

// kindsAndMoments lists a reader's inbox as "KIND@moment in ICT".
func (e *env) kindsAndMoments(readerID string) []string {
	e.t.Helper()
	var out []string
	for _, n := range e.inbox(readerID) {
		out = append(out, string(n.Kind)+"@"+n.Moment.In(thuvienso.Zone).Format("01-02 15:04"))
	}
	return out
}

func TestDueSoonRemindersGoOnTheDaysEachReaderChose(t *testing.T) {
	e := newEnv(t)
	e.device("reader-1", "phone-1", notifications.Android, "vi")
	e.device("reader-2", "phone-2", notifications.Android, "en")
	five := []int{5}
	if _, err := e.svc.UpdatePreferences(t.Context(), reader("reader-2"), notifications.PreferencesUpdate{DaysBeforeDue: &five}); err != nil {
		t.Fatal(err)
	}
	due := endOfDay(3, 22)
	e.lend("loan-1", "reader-1", due)
	e.lend("loan-2", "reader-2", due)

	steps := []struct {
		name      string
		at        time.Time
		reminders int
		delivered []string
	}{
		{"six days before: nothing yet", ict(3, 16, 10, 0), 0, nil},
		{"reader 2's fifth day before", ict(3, 18, 8, 0), 1, []string{"phone-2"}},
		{"reader 1's third day before", ict(3, 20, 7, 0), 1, []string{"phone-2", "phone-1"}},
		{"reader 1's last day, at night: in the inbox, the push waits", ict(3, 22, 0, 1), 1, []string{"phone-2", "phone-1"}},
		{"the next morning the push goes", ict(3, 22, 7, 0), 0, []string{"phone-2", "phone-1", "phone-1"}},
		{"after the due date: no due-soon reminder", ict(3, 23, 8, 0), 0, []string{"phone-2", "phone-1", "phone-1"}},
	}
	for _, st := range steps {
		rep := e.at(st.at)
		if rep.Reminders != st.reminders {
			t.Fatalf("%s: %d reminders created, want %d (%+v)", st.name, rep.Reminders, st.reminders, rep)
		}
		if got := e.fcm.Delivered(); !slices.Equal(got, st.delivered) {
			t.Fatalf("%s: pushes delivered to %v, want %v", st.name, got, st.delivered)
		}
	}
	if got, want := e.kindsAndMoments("reader-1"), []string{"DUE_SOON@03-21 23:59", "DUE_SOON@03-19 23:59"}; !slices.Equal(got, want) {
		t.Fatalf("reader 1's inbox %v, want %v", got, want)
	}
	in := e.inbox("reader-2")
	if len(in) != 1 || in[0].Kind != notifications.DueSoon {
		t.Fatalf("reader 2's inbox %v, want one DUE_SOON", e.kindsAndMoments("reader-2"))
	}
	if body := notifications.Render(in[0], "en").Body; !strings.Contains(body, "Số đỏ") || !strings.Contains(body, "22 Mar 2026, 23:59") {
		t.Errorf("the reminder reads %q, want the title and the due date", body)
	}
	if link := notifications.Link(in[0]); link != "thuvienso://loans/loan-2" {
		t.Errorf("the reminder opens %q", link)
	}
}

func TestOverdueRemindersGoOnDayOneAndDaySevenUntilTheBookIsBack(t *testing.T) {
	e := newEnv(t)
	e.device("reader-1", "phone-1", notifications.Android, "vi")
	e.device("reader-2", "phone-2", notifications.Android, "vi")
	none := []int{}
	for _, r := range []string{"reader-1", "reader-2"} { // no due-soon reminders: this is about overdue ones
		if _, err := e.svc.UpdatePreferences(t.Context(), reader(r), notifications.PreferencesUpdate{DaysBeforeDue: &none}); err != nil {
			t.Fatal(err)
		}
	}
	kept := e.lend("loan-kept", "reader-1", endOfDay(3, 16))
	returned := e.lend("loan-returned", "reader-2", endOfDay(3, 16))
	steps := []struct {
		name      string
		at        time.Time
		reminders int
	}{
		{"the due day", ict(3, 16, 12, 0), 0},
		{"overdue, less than a day", ict(3, 17, 12, 0), 0},
		{"day 1", ict(3, 18, 8, 0), 2},
		{"day 3", ict(3, 20, 8, 0), 0},
		{"day 7", ict(3, 24, 8, 0), 1},
		{"day 12", ict(3, 29, 8, 0), 0},
	}
	for _, st := range steps {
		if st.name == "day 3" { // reader 2 brings the book back
			l, err := e.stores.Circulation.Loan(t.Context(), returned.ID)
			if err != nil {
				t.Fatal(err)
			}
			now := e.clock.Now()
			l.State, l.ReturnedAt = circulation.LoanReturned, &now
			if err := e.stores.Circulation.UpdateLoan(t.Context(), l); err != nil {
				t.Fatal(err)
			}
		}
		if rep := e.at(st.at); rep.Reminders != st.reminders {
			t.Fatalf("%s: %d reminders, want %d", st.name, rep.Reminders, st.reminders)
		}
	}
	if got, want := e.kindsAndMoments(kept.ReaderID), []string{"OVERDUE@03-23 23:59", "OVERDUE@03-17 23:59"}; !slices.Equal(got, want) {
		t.Fatalf("the inbox of the reader who kept the book: %v, want %v", got, want)
	}
	if got, want := e.kindsAndMoments(returned.ReaderID), []string{"OVERDUE@03-17 23:59"}; !slices.Equal(got, want) {
		t.Fatalf("the inbox of the reader who returned it: %v, want %v", got, want)
	}
	if got := e.fcm.Delivered(); len(got) != 3 {
		t.Fatalf("%d pushes, want 3", len(got))
	}
}

func TestAReadyHoldIsRemindedOnceTheDayBeforeItsDeadline(t *testing.T) {
	e := newEnv(t)
	e.device("reader-1", "phone-1", notifications.IOS, "vi")
	deadline := endOfDay(3, 18)
	ready := ict(3, 16, 9, 0)
	h := &circulation.Hold{ID: "hold-1", ReaderID: "reader-1", WorkID: "work-so-do", PickupLibraryID: "lib-tuson",
		State: circulation.HoldReady, CreatedAt: ict(3, 1, 9, 0), Barcode: "BC-1", TargetedAt: &ready, ReadyAt: &ready,
		PickupDeadline: &deadline, Slot: e.slot("reader-1")}
	if err := e.stores.Circulation.CreateHold(t.Context(), h); err != nil {
		t.Fatal(err)
	}
	if rep := e.at(ict(3, 17, 20, 0)); rep.Reminders != 0 {
		t.Fatalf("more than a day before the deadline: %+v", rep)
	}
	// A day before: the dispatcher's scan, and circulation's expiry pass
	// records its HOLD_EXPIRING event for the same deadline.
	if rep := e.at(ict(3, 18, 6, 0)); rep.Reminders != 1 || rep.Pushes.Deferred != 0 || rep.Pushes.Claimed != 0 {
		t.Fatalf("a day before, at 06:00: %+v, want the reminder with its push waiting for the morning", rep)
	}
	if _, err := e.stores.Events.RecordEvent(t.Context(), &events.Event{
		Key: fmt.Sprintf("hold-expiring:%s:%d", h.ID, deadline.Unix()), Kind: events.HoldExpiring, ReaderID: h.ReaderID,
		SubjectID: h.ID, WorkID: h.WorkID, LibraryID: h.PickupLibraryID, At: deadline,
		Data: map[string]string{"barcode": h.Barcode, "deadline": deadline.UTC().Format(time.RFC3339)}}); err != nil {
		t.Fatal(err)
	}
	if rep := e.at(ict(3, 18, 7, 0)); rep.Events != 1 || rep.FromEvents != 0 || rep.Pushes.Sent != 1 {
		t.Fatalf("at 07:00: %+v, want the event handled without a second notification and the push sent", rep)
	}
	if rep := e.at(ict(3, 18, 12, 0)); rep.Reminders != 0 || rep.Pushes.Messages != 0 {
		t.Fatalf("at noon: %+v, want nothing", rep)
	}
	in := e.inbox("reader-1")
	if len(in) != 1 || in[0].Kind != notifications.HoldExpiring || !in[0].Moment.Equal(deadline) {
		t.Fatalf("inbox %v, want one HOLD_EXPIRING about the deadline", e.kindsAndMoments("reader-1"))
	}
	if got := e.fcm.Delivered(); len(got) != 1 {
		t.Fatalf("%d pushes, want 1", len(got))
	}
	if link := notifications.Link(in[0]); link != "thuvienso://holds/hold-1" {
		t.Errorf("the reminder opens %q", link)
	}
}

func TestEveryLoanIsRemindedWhenMoreAreDueThanOneReadOfTheStoreReturns(t *testing.T) {
	e := newEnv(t)
	cfg := notifications.DefaultDispatcherConfig()
	cfg.DeadlineLimit = 3
	_, disp := e.instanceWith(e.stores, lock.NewMemory(), cfg)
	due := endOfDay(3, 18) // ten loans share one due time (the end of a day)
	const loans = 10
	for i := range loans {
		e.lend(fmt.Sprintf("loan-%02d", i), fmt.Sprintf("reader-%02d", i), due)
	}
	e.clock.Set(ict(3, 16, 8, 0)) // the third day before has begun for all of them
	rep, err := disp.RunOnce(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Reminders != loans {
		t.Fatalf("%d reminders from reads of 3, want %d", rep.Reminders, loans)
	}
	e.clock.Add(2 * time.Minute)
	if rep, _ := disp.RunOnce(t.Context()); rep.Reminders != 0 {
		t.Fatalf("the next scan made %d more", rep.Reminders)
	}
}
