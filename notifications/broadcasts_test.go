package notifications_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/lock"
	"github.com/bacninh/thuvienso/notifications"
)

// account stores an account with a home library.
func (e *env) account(id string, role auth.Role, home string) {
	e.t.Helper()
	now := e.clock.Now()
	if err := e.stores.Auth.CreateAccount(e.t.Context(), &auth.Account{ID: id, Name: "Nguyễn Văn " + id, PasswordHash: "x",
		Role: role, Category: auth.CategoryAdult, HomeLibraryID: home, Language: "vi", CreatedAt: now, UpdatedAt: now}); err != nil {
		e.t.Fatalf("CreateAccount: %v", err)
	}
}

var (
	librarianTuSon = auth.Actor{AccountID: "staff-tuson", Role: auth.RoleLibrarian, LibraryID: "lib-tuson"}
	admin          = auth.Actor{AccountID: "admin-1", Role: auth.RoleAdmin}
)

// festival is the message of the tests.
var festival = notifications.BroadcastInput{Title: "Ngày hội đọc sách", Body: "Mời bạn đến thư viện sáng Chủ nhật.",
	TitleEn: "Reading festival", BodyEn: "Come to the library on Sunday morning."}

func TestALibrarianTellsTheReadersOfTheirLibraryEachOnceInTheirLanguage(t *testing.T) {
	e := newEnv(t)
	for _, a := range []struct {
		id, home string
		role     auth.Role
	}{
		{"reader-vi", "lib-tuson", auth.RoleReader}, {"reader-en", "lib-tuson", auth.RoleReader},
		{"reader-night-owl", "lib-tuson", auth.RoleReader}, {"reader-elsewhere", "lib-quevo", auth.RoleReader},
		{"staff-tuson", "lib-tuson", auth.RoleLibrarian},
	} {
		e.account(a.id, a.role, a.home)
	}
	e.device("reader-vi", "phone-vi", notifications.Android, "vi")
	e.device("reader-en", "phone-en", notifications.IOS, "en")
	e.device("reader-night-owl", "phone-owl", notifications.Android, "vi")
	e.device("reader-elsewhere", "phone-elsewhere", notifications.Android, "vi")
	// The night owl's quiet hours are now: the push waits for them.
	if _, err := e.svc.UpdatePreferences(t.Context(), reader("reader-night-owl"), notifications.PreferencesUpdate{
		Quiet: &notifications.QuietHours{Start: 9 * 60, End: 12 * 60}}); err != nil {
		t.Fatal(err)
	}

	b, err := e.svc.SendBroadcast(t.Context(), librarianTuSon, festival)
	if err != nil {
		t.Fatal(err)
	}
	if b.LibraryID != "lib-tuson" || b.Finished() {
		t.Fatalf("the broadcast %+v, want one to Từ Sơn's readers, not yet fanned out", b)
	}
	rep := e.run()
	if rep.News != 3 || rep.Pushes.Sent != 2 {
		t.Fatalf("report %+v, want three readers told and two pushes sent", rep)
	}
	titles := map[string]string{}
	for _, r := range e.fcm.Requests() {
		n, _ := r.Message["notification"].(map[string]any)
		titles[r.Token], _ = n["title"].(string)
	}
	if want := map[string]string{"phone-vi": "Ngày hội đọc sách", "phone-en": "Reading festival"}; fmt.Sprint(titles) != fmt.Sprint(want) {
		t.Fatalf("pushes %v, want %v", titles, want)
	}
	for _, r := range []string{"reader-vi", "reader-en", "reader-night-owl"} {
		in := e.inbox(r)
		if len(in) != 1 || in[0].Kind != notifications.LibraryNews || in[0].SubjectID != b.ID {
			t.Fatalf("%s's inbox %+v, want the library's news", r, in)
		}
	}
	if in := e.inbox("reader-elsewhere"); len(in) != 0 {
		t.Fatalf("a reader of another library got %+v", in)
	}
	if in := e.inbox("staff-tuson"); len(in) != 0 {
		t.Fatalf("the librarian got their own news: %+v", in)
	}
	got, err := e.svc.Broadcast(t.Context(), librarianTuSon, b.ID)
	if err != nil || !got.Finished() || got.Recipients != 3 {
		t.Fatalf("the broadcast after the fan-out: %+v, %v; want finished with 3 recipients", got, err)
	}
	e.clock.Set(ict(3, 16, 12, 0))
	if rep := e.run(); rep.News != 0 || rep.Pushes.Sent != 1 {
		t.Fatalf("at noon: %+v, want only the night owl's push", rep)
	}
	if n := len(e.fcm.Delivered()); n != 3 {
		t.Fatalf("%d pushes in all, want 3", n)
	}
}

func TestAnAdministratorTellsEveryReaderOrOneLibrarysReaders(t *testing.T) {
	e := newEnv(t)
	for i := range 7 {
		e.account(fmt.Sprintf("reader-%d", i), auth.RoleReader, []string{"lib-tuson", "lib-quevo", "lib-giabinh"}[i%3])
	}
	e.account("staff-quevo", auth.RoleLibrarian, "lib-quevo")
	if _, err := e.svc.SendBroadcast(t.Context(), admin, festival); err != nil {
		t.Fatal(err)
	}
	quevo := festival
	quevo.LibraryID, quevo.Title = "lib-quevo", "Thư viện Quế Võ nghỉ ngày 20/3"
	if _, err := e.svc.SendBroadcast(t.Context(), admin, quevo); err != nil {
		t.Fatal(err)
	}
	if rep := e.run(); rep.News != 7+2 {
		t.Fatalf("report %+v, want 7 readers told and the 2 of Quế Võ told again", rep)
	}
	for i := range 7 {
		want := 1
		if i%3 == 1 {
			want = 2
		}
		if in := e.inbox(fmt.Sprintf("reader-%d", i)); len(in) != want {
			t.Fatalf("reader %d has %d notifications, want %d", i, len(in), want)
		}
	}
	p, err := e.svc.Broadcasts(t.Context(), admin, "", 10, "")
	if err != nil || len(p.Broadcasts) != 2 {
		t.Fatalf("the administrator's list: %+v, %v", p, err)
	}
	staff := auth.Actor{AccountID: "staff-quevo", Role: auth.RoleLibrarian, LibraryID: "lib-quevo"}
	p, err = e.svc.Broadcasts(t.Context(), staff, "", 10, "")
	if err != nil || len(p.Broadcasts) != 1 || p.Broadcasts[0].Title != quevo.Title || p.Broadcasts[0].Recipients != 2 {
		t.Fatalf("Quế Võ's librarian's list: %+v, %v; want their library's one", p, err)
	}
}

func TestWhoMaySendWhatToWhom(t *testing.T) {
	e := newEnv(t)
	long := strings.Repeat("ư", notifications.MaxBroadcastBody+1)
	tests := []struct {
		name  string
		actor auth.Actor
		in    notifications.BroadcastInput
		want  error // nil: sent
		lib   string
	}{
		{"a librarian to their library", librarianTuSon, festival, nil, "lib-tuson"},
		{"a librarian naming their library", librarianTuSon, with(festival, func(b *notifications.BroadcastInput) { b.LibraryID = "lib-tuson" }), nil, "lib-tuson"},
		{"a librarian to another library", librarianTuSon, with(festival, func(b *notifications.BroadcastInput) { b.LibraryID = "lib-quevo" }), thuvienso.ErrForbidden, ""},
		{"a librarian of no library", auth.Actor{AccountID: "x", Role: auth.RoleLibrarian}, festival, thuvienso.ErrForbidden, ""},
		{"a reader", reader("reader-1"), festival, thuvienso.ErrForbidden, ""},
		{"nobody", auth.Actor{}, festival, thuvienso.ErrUnauthenticated, ""},
		{"an administrator to every reader", admin, festival, nil, ""},
		{"an administrator to one library", admin, with(festival, func(b *notifications.BroadcastInput) { b.LibraryID = "lib-quevo" }), nil, "lib-quevo"},
		{"Vietnamese only", admin, with(festival, func(b *notifications.BroadcastInput) { b.TitleEn, b.BodyEn = "", "" }), nil, ""},
		{"no title", admin, with(festival, func(b *notifications.BroadcastInput) { b.Title = "  " }), notifications.ErrBroadcastTitle, ""},
		{"no body", admin, with(festival, func(b *notifications.BroadcastInput) { b.Body = "" }), notifications.ErrBroadcastBody, ""},
		{"a body too long", admin, with(festival, func(b *notifications.BroadcastInput) { b.Body = long }), notifications.ErrBroadcastBody, ""},
		{"an English title without an English body", admin, with(festival, func(b *notifications.BroadcastInput) { b.BodyEn = "" }), notifications.ErrBroadcastBodyEn, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := e.svc.SendBroadcast(t.Context(), tc.actor, tc.in)
			if !errors.Is(err, tc.want) {
				t.Fatalf("SendBroadcast = %v, want %v", err, tc.want)
			}
			if err == nil && b.LibraryID != tc.lib {
				t.Fatalf("sent to %q, want %q", b.LibraryID, tc.lib)
			}
		})
	}
	if _, err := e.svc.Broadcasts(t.Context(), librarianTuSon, "lib-quevo", 10, ""); !errors.Is(err, thuvienso.ErrForbidden) {
		t.Fatalf("a librarian listing another library's broadcasts: %v", err)
	}
}

// with returns in changed by f.
func with(in notifications.BroadcastInput, f func(*notifications.BroadcastInput)) notifications.BroadcastInput {
	f(&in)
	return in
}

func TestASendRetriedWithItsKeyIsOneMessage(t *testing.T) {
	e := newEnv(t)
	e.account("reader-1", auth.RoleReader, "lib-tuson")
	in := with(festival, func(b *notifications.BroadcastInput) { b.IdempotencyKey = "send-7" })
	first, err := e.svc.SendBroadcast(t.Context(), librarianTuSon, in)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Add(time.Minute)
	again, err := e.svc.SendBroadcast(t.Context(), librarianTuSon, in)
	if err != nil || again.ID != first.ID {
		t.Fatalf("the retry gave %+v, %v; want the first broadcast %s", again, err, first.ID)
	}
	e.run()
	if in := e.inbox("reader-1"); len(in) != 1 {
		t.Fatalf("the reader got %d messages, want 1", len(in))
	}
}

// dyingStore is a notification store whose instance dies when it is about
// to move a broadcast's cursor for the nth time: the batch's
// notifications exist, the cursor does not say so.
type dyingStore struct {
	notifications.Store
	n     int32
	calls atomic.Int32
}

func (d *dyingStore) AdvanceBroadcast(ctx context.Context, id, from, to string, reached int, finished *time.Time) (bool, error) {
	if d.calls.Add(1) >= d.n {
		return false, errors.New("the instance stopped")
	}
	return d.Store.AdvanceBroadcast(ctx, id, from, to, reached, finished)
}

func TestAFanOutCutShortResumesWithoutTellingAnyoneTwice(t *testing.T) {
	e := newEnv(t)
	const readers = 23
	for i := range readers {
		id := fmt.Sprintf("reader-%02d", i)
		e.account(id, auth.RoleReader, "lib-tuson")
		e.device(id, "phone-"+id, notifications.Android, "vi")
	}
	cfg := notifications.DefaultConfig()
	cfg.BatchSize = 5 // five readers a batch: five batches
	first := notifications.NewService(&dyingStore{Store: e.stores.Notifications, n: 3}, e.fcm.Sender(t),
		notifications.WithClock(e.clock.Now), notifications.WithLogger(quiet), notifications.WithConfig(cfg),
		notifications.WithReaders(e.stores.Auth))
	b, err := first.SendBroadcast(t.Context(), librarianTuSon, festival)
	if err != nil {
		t.Fatal(err)
	}
	dying := notifications.NewDispatcher(first, e.stores.Events, lock.NewMemory(), notifications.DefaultDispatcherConfig())
	rep, err := dying.RunOnce(t.Context())
	if err == nil || rep.News != 15 {
		t.Fatalf("the first instance did %+v, %v; want 15 readers told, then an error", rep, err)
	}
	got, _ := e.svc.Broadcast(t.Context(), librarianTuSon, b.ID)
	if got.Finished() || got.Recipients != 10 {
		t.Fatalf("after the failure: %+v, want the cursor after 10 of 23", got)
	}
	// Another instance takes over: it repeats the third batch, which
	// tells nobody twice, and goes on.
	second := notifications.NewService(e.stores.Notifications, e.fcm.Sender(t), notifications.WithClock(e.clock.Now),
		notifications.WithLogger(quiet), notifications.WithConfig(cfg), notifications.WithReaders(e.stores.Auth))
	takeover := notifications.NewDispatcher(second, e.stores.Events, lock.NewMemory(), notifications.DefaultDispatcherConfig())
	if rep, err := takeover.RunOnce(t.Context()); err != nil || rep.News != readers-15 {
		t.Fatalf("the takeover did %+v, %v; want the other %d told", rep, err, readers-15)
	}
	got, _ = e.svc.Broadcast(t.Context(), librarianTuSon, b.ID)
	if !got.Finished() || got.Recipients != readers {
		t.Fatalf("after the takeover: %+v, want finished with %d recipients", got, readers)
	}
	delivered := e.fcm.Delivered()
	sort.Strings(delivered)
	if len(delivered) != readers || len(slices.Compact(delivered)) != readers {
		t.Fatalf("%d pushes to %d phones, want %d, each once", len(delivered), len(slices.Compact(delivered)), readers)
	}
	for i := range readers {
		if in := e.inbox(fmt.Sprintf("reader-%02d", i)); len(in) != 1 {
			t.Fatalf("reader %d has %d notifications, want 1", i, len(in))
		}
	}
}
