package storetest

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/card"
	"github.com/bacninh/thuvienso/store"
)

// cardNumber returns the i-th test card number (a valid one, with its
// check digit).
func cardNumber(i int) string {
	n, err := card.NumberFrom(fmt.Sprintf("%010d", 1_000_000+i))
	if err != nil {
		panic(err)
	}
	return n
}

// newCard returns a current, active card of account with every field set.
func newCard(number, account string) *card.Card {
	return &card.Card{
		Number:        number,
		AccountID:     account,
		Symbology:     card.Codabar,
		Status:        card.StatusActive,
		BlockNote:     "Ghi chú của thủ thư: " + readerName,
		Current:       true,
		HomeLibraryID: "lib-tuson",
		IssuedAt:      at(time.Hour),
		ExpiresAt:     at(5 * 365 * 24 * time.Hour),
		CreatedAt:     at(time.Hour + 1),
		UpdatedAt:     at(time.Hour + 2),
	}
}

// studentCard returns a current card registered by a school.
func studentCard(number, account, school, studentID string) *card.Card {
	c := newCard(number, account)
	c.SchoolLibraryID, c.StudentID, c.Class = school, studentID, "6A1"
	return c
}

// wantCard fails t unless got is want as a store returns it.
func wantCard(t *testing.T, what string, got, want *card.Card) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: got nil card", what)
	}
	w := *want
	w.IssuedAt, w.ExpiresAt, w.CreatedAt, w.UpdatedAt = w.IssuedAt.UTC(), w.ExpiresAt.UTC(), w.CreatedAt.UTC(), w.UpdatedAt.UTC()
	wantUTC(t, what, got.IssuedAt, got.ExpiresAt, got.CreatedAt, got.UpdatedAt)
	mustEqual(t, what, *got, w)
}

// wantLink fails t unless got is want as a store returns it.
func wantLink(t *testing.T, what string, got, want *card.Link) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: got nil link", what)
	}
	w := *want
	w.RequestedAt, w.ApprovedAt = w.RequestedAt.UTC(), utcPtr(w.ApprovedAt)
	wantUTC(t, what, got.RequestedAt)
	if got.ApprovedAt != nil {
		wantUTC(t, what, *got.ApprovedAt)
	}
	mustEqual(t, what, *got, w)
}

// numbers returns the numbers of cs, in order.
func numbers(cs []*card.Card) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Number
	}
	return out
}

// cardRaceGoroutines is how many goroutines race in the card concurrency
// tests: within what a one-connection FerretDB serves quickly, and plenty
// for SQLite's and MongoDB's conditional updates to be tested.
const cardRaceGoroutines = 32

var cardTests = []test{
	{"Card/RoundTrip", func(t *testing.T, s *store.Set) {
		ctx, cs := t.Context(), s.Cards
		c := studentCard(cardNumber(1), "acc-1", "lib-thcs", "0123456789")
		c.Status, c.BlockReason = card.StatusBlocked, card.ReasonOverdue
		must(t, "CreateCard", cs.CreateCard(ctx, c))
		got, err := cs.Card(ctx, c.Number)
		must(t, "Card", err)
		wantCard(t, "Card", got, c)
		got, err = cs.CurrentCard(ctx, "acc-1")
		must(t, "CurrentCard", err)
		wantCard(t, "CurrentCard", got, c)

		// A card that is not current (an old card brought over, say) is
		// kept as given and is not the account's current card.
		lost := newCard(cardNumber(2), "acc-2")
		lost.Current, lost.Status, lost.ReplacedBy, lost.Symbology = false, card.StatusLost, cardNumber(3), card.Code128
		must(t, "CreateCard of a lost card", cs.CreateCard(ctx, lost))
		got, err = cs.Card(ctx, lost.Number)
		must(t, "Card of a lost card", err)
		wantCard(t, "Card of a lost card", got, lost)
		_, err = cs.CurrentCard(ctx, "acc-2")
		wantErr(t, "CurrentCard of an account with only a lost card", err, thuvienso.ErrNotFound)
		all, err := cs.CardsOfAccount(ctx, "acc-1")
		must(t, "CardsOfAccount", err)
		if len(all) != 1 {
			t.Fatalf("CardsOfAccount = %v, want one card", numbers(all))
		}
		wantCard(t, "CardsOfAccount", all[0], c)
	}},
	{"Card/NotFound", func(t *testing.T, s *store.Set) {
		ctx, cs := t.Context(), s.Cards
		_, err := cs.Card(ctx, cardNumber(1))
		wantErr(t, "Card", err, thuvienso.ErrNotFound)
		_, err = cs.CurrentCard(ctx, "nobody")
		wantErr(t, "CurrentCard", err, thuvienso.ErrNotFound)
		all, err := cs.CardsOfAccount(ctx, "nobody")
		must(t, "CardsOfAccount", err)
		if len(all) != 0 {
			t.Fatalf("CardsOfAccount of nobody = %v", numbers(all))
		}
		for _, keys := range [][]string{nil, {card.StudentKey("lib-thcs", "X")}} {
			got, err := cs.CardsByStudentKey(ctx, keys)
			must(t, "CardsByStudentKey", err)
			if len(got) != 0 {
				t.Fatalf("CardsByStudentKey(%v) = %v", keys, numbers(got))
			}
		}
		st := card.StatusBlocked
		_, err = cs.UpdateCard(ctx, cardNumber(1), card.Update{Status: &st}, at(time.Hour))
		wantErr(t, "UpdateCard", err, thuvienso.ErrNotFound)
		err = cs.ReplaceCard(ctx, cardNumber(1), newCard(cardNumber(2), "nobody"), at(time.Hour))
		wantErr(t, "ReplaceCard", err, thuvienso.ErrNotFound)
		_, err = cs.Card(ctx, cardNumber(2))
		wantErr(t, "the card a failed ReplaceCard named", err, thuvienso.ErrNotFound)
	}},
	{"Card/Uniqueness", func(t *testing.T, s *store.Set) {
		ctx, cs := t.Context(), s.Cards
		first := studentCard(cardNumber(1), "acc-1", "lib-thcs", "HS-001")
		must(t, "CreateCard", cs.CreateCard(ctx, first))
		tests := []struct {
			name string
			c    *card.Card
			want error
		}{
			{"the same number for another account", newCard(cardNumber(1), "acc-2"), card.ErrNumberTaken},
			{"a lost card with a used number", func() *card.Card {
				c := newCard(cardNumber(1), "acc-1")
				c.Current, c.Status = false, card.StatusLost
				return c
			}(), card.ErrNumberTaken},
			{"a second current card of the account", newCard(cardNumber(2), "acc-1"), card.ErrHasCard},
			{"the student at the same school again", studentCard(cardNumber(3), "acc-3", "lib-thcs", "HS-001"), card.ErrStudentTaken},
		}
		for _, tc := range tests {
			err := cs.CreateCard(ctx, tc.c)
			wantErr(t, tc.name, err, tc.want)
			wantCode(t, tc.name, err, thuvienso.CodeConflict)
			if tc.c.Number != first.Number {
				_, err := cs.Card(ctx, tc.c.Number)
				wantErr(t, tc.name+": the refused card was stored", err, thuvienso.ErrNotFound)
			}
		}
		got, err := cs.Card(ctx, first.Number)
		must(t, "Card", err)
		wantCard(t, "the first card after refused duplicates", got, first)

		// What is unique among current cards only.
		allowed := []*card.Card{
			studentCard(cardNumber(4), "acc-4", "lib-other-school", "HS-001"), // same student ID, other school
			func() *card.Card { // a lost card of an account with a current card
				c := newCard(cardNumber(5), "acc-1")
				c.Current, c.Status = false, card.StatusLost
				return c
			}(),
			newCard(cardNumber(6), "acc-6"), // no student key: empty keys never collide
			newCard(cardNumber(7), "acc-7"),
		}
		for _, c := range allowed {
			must(t, "CreateCard "+c.Number, cs.CreateCard(ctx, c))
		}
	}},
	{"Card/StudentKeys", func(t *testing.T, s *store.Set) {
		ctx, cs := t.Context(), s.Cards
		a := studentCard(cardNumber(1), "acc-1", "lib-thcs", "HS-001")
		b := studentCard(cardNumber(2), "acc-2", "lib-thcs", "HS-002")
		other := studentCard(cardNumber(3), "acc-3", "lib-thpt", "HS-001")
		for _, c := range []*card.Card{a, b, other, newCard(cardNumber(4), "acc-4")} {
			must(t, "CreateCard", cs.CreateCard(ctx, c))
		}
		got, err := cs.CardsByStudentKey(ctx, []string{
			card.StudentKey("lib-thcs", "HS-001"), card.StudentKey("lib-thcs", "HS-002"), card.StudentKey("lib-thcs", "HS-999")})
		must(t, "CardsByStudentKey", err)
		sort.Slice(got, func(i, j int) bool { return got[i].Number < got[j].Number })
		mustEqual(t, "CardsByStudentKey", numbers(got), []string{a.Number, b.Number})
		wantCard(t, "CardsByStudentKey", got[0], a)

		// A replacement carries the registration on; the lost card keeps it
		// for the record but is no longer found by it.
		next := studentCard(cardNumber(5), "acc-1", "lib-thcs", "HS-001")
		next.IssuedAt = at(48 * time.Hour)
		must(t, "ReplaceCard", cs.ReplaceCard(ctx, a.Number, next, at(48*time.Hour)))
		got, err = cs.CardsByStudentKey(ctx, []string{a.StudentKey()})
		must(t, "CardsByStudentKey after ReplaceCard", err)
		mustEqual(t, "CardsByStudentKey after ReplaceCard", numbers(got), []string{next.Number})
		old, err := cs.Card(ctx, a.Number)
		must(t, "Card of the lost card", err)
		if old.StudentKey() != a.StudentKey() || old.Class != a.Class {
			t.Fatalf("the lost card lost its registration: %+v", old)
		}
	}},
	{"Card/Replace", func(t *testing.T, s *store.Set) {
		ctx, cs := t.Context(), s.Cards
		old := newCard(cardNumber(1), "acc-1")
		old.Status, old.BlockReason = card.StatusBlocked, card.ReasonFines
		must(t, "CreateCard", cs.CreateCard(ctx, old))
		must(t, "CreateCard of another account", cs.CreateCard(ctx, newCard(cardNumber(9), "acc-9")))

		next := newCard(cardNumber(2), "acc-1")
		next.Status, next.BlockReason = card.StatusBlocked, card.ReasonFines
		next.IssuedAt, next.CreatedAt, next.UpdatedAt = at(72*time.Hour), at(72*time.Hour), at(72*time.Hour)
		next.Current = false // ReplaceCard makes it current
		when := at(72*time.Hour + 123456789)

		// A taken number changes nothing.
		taken := *next
		taken.Number = cardNumber(9)
		err := cs.ReplaceCard(ctx, old.Number, &taken, when)
		wantErr(t, "ReplaceCard with a taken number", err, card.ErrNumberTaken)
		got, err := cs.Card(ctx, old.Number)
		must(t, "Card after a refused ReplaceCard", err)
		wantCard(t, "the old card after a refused ReplaceCard", got, old)

		must(t, "ReplaceCard", cs.ReplaceCard(ctx, old.Number, next, when))
		if !next.Current {
			t.Error("ReplaceCard left next.Current false")
		}
		wantOld := *old
		wantOld.Current, wantOld.Status, wantOld.ReplacedBy, wantOld.UpdatedAt = false, card.StatusLost, next.Number, when
		got, err = cs.Card(ctx, old.Number)
		must(t, "Card of the replaced card", err)
		wantCard(t, "the replaced card", got, &wantOld)
		wantNext := *next
		wantNext.Current = true
		got, err = cs.Card(ctx, next.Number)
		must(t, "Card of the new card", err)
		wantCard(t, "the new card", got, &wantNext)
		got, err = cs.CurrentCard(ctx, "acc-1")
		must(t, "CurrentCard", err)
		wantCard(t, "CurrentCard after ReplaceCard", got, &wantNext)
		all, err := cs.CardsOfAccount(ctx, "acc-1")
		must(t, "CardsOfAccount", err)
		mustEqual(t, "CardsOfAccount, newest issue first", numbers(all), []string{next.Number, old.Number})

		// The old card again: not current any more, and nothing changes.
		again := newCard(cardNumber(3), "acc-1")
		err = cs.ReplaceCard(ctx, old.Number, again, at(96*time.Hour))
		wantErr(t, "ReplaceCard of a lost card", err, card.ErrNotCurrent)
		wantCode(t, "ReplaceCard of a lost card", err, thuvienso.CodeConflict)
		_, err = cs.Card(ctx, again.Number)
		wantErr(t, "the card of a refused ReplaceCard", err, thuvienso.ErrNotFound)
		got, err = cs.CurrentCard(ctx, "acc-1")
		must(t, "CurrentCard", err)
		wantCard(t, "CurrentCard after a refused ReplaceCard", got, &wantNext)

		// A replacement is of the same account.
		err = cs.ReplaceCard(ctx, next.Number, newCard(cardNumber(4), "acc-other"), at(96*time.Hour))
		if err == nil {
			t.Fatal("ReplaceCard accepted a new card of another account")
		}
		got, err = cs.CurrentCard(ctx, "acc-1")
		must(t, "CurrentCard", err)
		wantCard(t, "CurrentCard after a replacement for another account", got, &wantNext)
		_, err = cs.Card(ctx, cardNumber(4))
		wantErr(t, "the card of a replacement for another account", err, thuvienso.ErrNotFound)
	}},
	{"Card/Update", func(t *testing.T, s *store.Set) {
		ctx, cs := t.Context(), s.Cards
		c := newCard(cardNumber(1), "acc-1")
		must(t, "CreateCard", cs.CreateCard(ctx, c))
		blocked, reason, note := card.StatusBlocked, card.ReasonDamagedItems, "Làm rách sách “Dế Mèn phiêu lưu ký”"
		sym, exp := card.Code128, at(800*24*time.Hour+5)
		when := at(10*time.Hour + 77)
		want := *c
		want.Status, want.BlockReason, want.BlockNote, want.Symbology, want.ExpiresAt, want.UpdatedAt =
			blocked, reason, note, sym, exp, when
		got, err := cs.UpdateCard(ctx, c.Number, card.Update{Status: &blocked, BlockReason: &reason, BlockNote: &note,
			Symbology: &sym, ExpiresAt: &exp}, when)
		must(t, "UpdateCard", err)
		wantCard(t, "UpdateCard's answer", got, &want)
		got, err = cs.Card(ctx, c.Number)
		must(t, "Card", err)
		wantCard(t, "the updated card", got, &want)

		// Nil fields are left as they are.
		when2 := at(11 * time.Hour)
		want.UpdatedAt = when2
		got, err = cs.UpdateCard(ctx, c.Number, card.Update{}, when2)
		must(t, "an empty UpdateCard", err)
		wantCard(t, "after an empty update", got, &want)

		// The precondition on the block reason.
		guardian, none := card.ReasonGuardian, card.BlockReason("")
		_, err = cs.UpdateCard(ctx, c.Number, card.Update{BlockReason: &guardian, IfBlockReason: &none}, at(12*time.Hour))
		wantErr(t, "UpdateCard whose precondition fails", err, card.ErrCardChanged)
		got, err = cs.Card(ctx, c.Number)
		must(t, "Card", err)
		wantCard(t, "after a refused conditional update", got, &want)
		active, when3 := card.StatusActive, at(13*time.Hour)
		got, err = cs.UpdateCard(ctx, c.Number, card.Update{Status: &active, BlockReason: &none, BlockNote: new(string),
			IfBlockReason: &reason}, when3)
		must(t, "UpdateCard whose precondition holds", err)
		want.Status, want.BlockReason, want.BlockNote, want.UpdatedAt = active, none, "", when3
		wantCard(t, "after a conditional update", got, &want)

		// A lost card is not updated.
		must(t, "ReplaceCard", cs.ReplaceCard(ctx, c.Number, newCard(cardNumber(2), "acc-1"), at(14*time.Hour)))
		_, err = cs.UpdateCard(ctx, c.Number, card.Update{Status: &blocked}, at(15*time.Hour))
		wantErr(t, "UpdateCard of a lost card", err, card.ErrNotCurrent)
		got, err = cs.Card(ctx, c.Number)
		must(t, "Card", err)
		if got.Status != card.StatusLost || got.UpdatedAt != at(14*time.Hour).UTC() {
			t.Fatalf("a refused update changed the lost card: %+v", got)
		}
	}},
	{"Card/Links", func(t *testing.T, s *store.Set) {
		ctx, cs := t.Context(), s.Cards
		pending := &card.Link{GuardianID: "g-1", ChildID: "c-1", Status: card.LinkPending, RequestedAt: at(time.Hour)}
		approvedAt := at(2*time.Hour + 3)
		active := &card.Link{GuardianID: "g-1", ChildID: "c-2", Status: card.LinkActive, RequestedAt: at(2 * time.Hour),
			ApprovedBy: "g-1", ApprovedAt: &approvedAt}
		second := &card.Link{GuardianID: "g-2", ChildID: "c-1", Status: card.LinkPending, RequestedAt: at(30 * time.Minute)}
		for _, l := range []*card.Link{active, pending, second} {
			must(t, "CreateLink", cs.CreateLink(ctx, l))
		}
		got, err := cs.Link(ctx, "g-1", "c-1")
		must(t, "Link", err)
		wantLink(t, "the pending link", got, pending)
		got, err = cs.Link(ctx, "g-1", "c-2")
		must(t, "Link", err)
		wantLink(t, "the active link", got, active)
		_, err = cs.Link(ctx, "c-1", "g-1")
		wantErr(t, "Link the other way round", err, thuvienso.ErrNotFound)

		dup := *pending
		dup.Status = card.LinkActive
		err = cs.CreateLink(ctx, &dup)
		wantErr(t, "CreateLink of a linked pair", err, card.ErrLinkExists)
		wantCode(t, "CreateLink of a linked pair", err, thuvienso.CodeConflict)

		gl, err := cs.LinksOfGuardian(ctx, "g-1")
		must(t, "LinksOfGuardian", err)
		if len(gl) != 2 {
			t.Fatalf("LinksOfGuardian = %+v, want 2", gl)
		}
		wantLink(t, "LinksOfGuardian[0], oldest first", gl[0], pending)
		wantLink(t, "LinksOfGuardian[1]", gl[1], active)
		cl, err := cs.LinksOfChild(ctx, "c-1")
		must(t, "LinksOfChild", err)
		if len(cl) != 2 {
			t.Fatalf("LinksOfChild = %+v, want 2", cl)
		}
		wantLink(t, "LinksOfChild[0], oldest first", cl[0], second)
		wantLink(t, "LinksOfChild[1]", cl[1], pending)

		when := at(5*time.Hour + 11)
		got, err = cs.ActivateLink(ctx, "g-1", "c-1", "librarian-1", when)
		must(t, "ActivateLink", err)
		wantActive := *pending
		wantActive.Status, wantActive.ApprovedBy, wantActive.ApprovedAt = card.LinkActive, "librarian-1", &when
		wantLink(t, "the activated link", got, &wantActive)
		got, err = cs.ActivateLink(ctx, "g-1", "c-1", "librarian-2", at(6*time.Hour))
		must(t, "ActivateLink of an active link", err)
		wantLink(t, "an active link activated again", got, &wantActive)
		_, err = cs.ActivateLink(ctx, "g-9", "c-9", "librarian-1", when)
		wantErr(t, "ActivateLink of no link", err, thuvienso.ErrNotFound)

		must(t, "DeleteLink", cs.DeleteLink(ctx, "g-1", "c-1"))
		_, err = cs.Link(ctx, "g-1", "c-1")
		wantErr(t, "Link after DeleteLink", err, thuvienso.ErrNotFound)
		err = cs.DeleteLink(ctx, "g-1", "c-1")
		wantErr(t, "DeleteLink again", err, thuvienso.ErrNotFound)
		gl, err = cs.LinksOfGuardian(ctx, "g-1")
		must(t, "LinksOfGuardian", err)
		if len(gl) != 1 || gl[0].ChildID != "c-2" {
			t.Fatalf("LinksOfGuardian after DeleteLink = %+v", gl)
		}
		must(t, "CreateLink after DeleteLink", cs.CreateLink(ctx, pending))
		none, err := cs.LinksOfGuardian(ctx, "nobody")
		must(t, "LinksOfGuardian of nobody", err)
		if len(none) != 0 {
			t.Fatalf("LinksOfGuardian of nobody = %+v", none)
		}
	}},
	{"Card/ConcurrentReplacementsOneWins", func(t *testing.T, s *store.Set) {
		const n = cardRaceGoroutines
		ctx, cs := t.Context(), s.Cards
		old := newCard(cardNumber(0), "acc-1")
		must(t, "CreateCard", cs.CreateCard(ctx, old))

		// Readers watch the account while the replacements race: it always
		// has exactly one current card, the old one or the winner.
		stop := make(chan struct{})
		var readers sync.WaitGroup
		var reads atomic.Int64
		var readErr atomic.Value
		for range 2 {
			readers.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					c, err := cs.CurrentCard(ctx, "acc-1")
					if err == nil && (!c.Current || c.Status == card.StatusLost) {
						err = fmt.Errorf("CurrentCard returned a lost card %+v", c)
					}
					if err != nil {
						readErr.CompareAndSwap(nil, err)
						return
					}
					reads.Add(1)
				}
			})
		}
		errs := race(n, func(i int) error {
			next := newCard(cardNumber(100+i), "acc-1")
			next.IssuedAt = at(24*time.Hour + time.Duration(i))
			return cs.ReplaceCard(ctx, old.Number, next, at(24*time.Hour+time.Duration(i)))
		})
		close(stop)
		readers.Wait()
		if err, _ := readErr.Load().(error); err != nil {
			t.Fatalf("a reader during the race: %v", err)
		}
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil:
				if winner >= 0 {
					t.Fatalf("replacements %d and %d both succeeded", winner, i)
				}
				winner = i
			case errors.Is(err, card.ErrNotCurrent):
			default:
				t.Errorf("replacement %d: %v, want nil or %v", i, err, card.ErrNotCurrent)
			}
		}
		if winner < 0 {
			t.Fatal("no replacement succeeded")
		}
		cur, err := cs.CurrentCard(ctx, "acc-1")
		must(t, "CurrentCard", err)
		if cur.Number != cardNumber(100+winner) {
			t.Fatalf("current card %s, want the winner's %s", cur.Number, cardNumber(100+winner))
		}
		got, err := cs.Card(ctx, old.Number)
		must(t, "Card of the old card", err)
		if got.Current || got.Status != card.StatusLost || got.ReplacedBy != cur.Number {
			t.Fatalf("old card after the race: %+v", got)
		}
		all, err := cs.CardsOfAccount(ctx, "acc-1")
		must(t, "CardsOfAccount", err)
		mustEqual(t, "cards of the account after the race", numbers(all), []string{cur.Number, old.Number})
		for i := range n {
			if i == winner {
				continue
			}
			if _, err := cs.Card(ctx, cardNumber(100+i)); !errors.Is(err, thuvienso.ErrNotFound) {
				t.Errorf("the card of losing replacement %d: %v, want not found", i, err)
			}
		}
		t.Logf("%d replacements raced, %d reads during the race", n, reads.Load())
	}},
	{"Card/ConcurrentCreatesOneCurrentCard", func(t *testing.T, s *store.Set) {
		const n = cardRaceGoroutines
		ctx, cs := t.Context(), s.Cards
		errs := race(n, func(i int) error {
			return cs.CreateCard(ctx, newCard(cardNumber(i), "acc-1"))
		})
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil:
				if winner >= 0 {
					t.Fatalf("goroutines %d and %d both created a current card of one account", winner, i)
				}
				winner = i
			case errors.Is(err, card.ErrHasCard):
			default:
				t.Errorf("goroutine %d: %v, want nil or %v", i, err, card.ErrHasCard)
			}
		}
		if winner < 0 {
			t.Fatal("no card was created")
		}
		all, err := cs.CardsOfAccount(ctx, "acc-1")
		must(t, "CardsOfAccount", err)
		mustEqual(t, "cards of the account", numbers(all), []string{cardNumber(winner)})
	}},
}
