package cardsvc_test

import (
	"fmt"
	"testing"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/card"
	"github.com/bacninh/thuvienso/card/cardsvc"
)

func TestMistypedNumbersAreRejected(t *testing.T) {
	e := newEnv(t)
	acc, me := e.reader("Ngô Thị Thu", auth.CategoryAdult, e.tuSon.ID)
	desk := e.librarian(e.tuSon)
	n := e.digital(me, acc.ID, "").Number

	type typo struct{ name, number string }
	var typos []typo
	for i := range n {
		d := '0' + (n[i]-'0'+1)%10
		typos = append(typos, typo{fmt.Sprintf("digit %d changed", i+1), n[:i] + string(d) + n[i+1:]})
	}
	for i := 0; i+1 < len(n); i++ {
		if n[i] != n[i+1] {
			typos = append(typos, typo{fmt.Sprintf("digits %d and %d swapped", i+1, i+2), n[:i] + string(n[i+1]) + string(n[i]) + n[i+2:]})
		}
	}
	typos = append(typos, typo{"a digit missing", n[1:]}, typo{"a digit too many", n + "0"}, typo{"letters", "27ABC"})
	for _, tc := range typos {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.CardByNumber(e.ctx, desk, tc.number)
			wantCode(t, tc.number, err, thuvienso.CodeBadUserInput, "number")
			_, err = e.svc.BlockCard(e.ctx, desk, tc.number, card.ReasonOverdue, "")
			wantCode(t, tc.number, err, thuvienso.CodeBadUserInput, "input.number")
		})
	}
	// As printed or typed in groups, it is found.
	for _, typed := range []string{n, n[:4] + " " + n[4:8] + " " + n[8:], n[:4] + "-" + n[4:8] + "-" + n[8:]} {
		c, err := e.svc.CardByNumber(e.ctx, desk, typed)
		must(t, "CardByNumber "+typed, err)
		if c.Number != n {
			t.Fatalf("CardByNumber(%q) = %s", typed, c.Number)
		}
	}
	// Readers do not look cards up by number.
	_, err := e.svc.CardByNumber(e.ctx, me, n)
	wantErr(t, "a reader looking up a number", err, thuvienso.ErrForbidden)
}

func TestReportLostIssuesANewNumber(t *testing.T) {
	e := newEnv(t)
	acc, me := e.reader("Bùi Văn Cường", auth.CategoryAdult, e.tuSon.ID)
	desk := e.librarian(e.tuSon)
	before := e.digital(me, acc.ID, "")
	pass := e.digital(me, acc.ID, cardsvc.PassOffline).Token
	_, err := e.svc.SetSymbology(e.ctx, me, acc.ID, card.Codabar)
	must(t, "SetSymbology", err)
	e.advance(2 * time.Hour)

	next, err := e.svc.ReportLost(e.ctx, me, acc.ID)
	must(t, "ReportLost", err)
	if next.Number == before.Number || !card.ValidNumber(next.Number) || !next.Current ||
		next.Status != card.StatusActive || next.Symbology != card.Codabar || !next.ExpiresAt.Equal(before.ExpiresAt) {
		t.Fatalf("new card %+v, old number %s", next, before.Number)
	}
	old, err := e.svc.CardByNumber(e.ctx, desk, before.Number)
	must(t, "CardByNumber of the lost card", err)
	if old.Current || old.Status != card.StatusLost || old.ReplacedBy != next.Number {
		t.Fatalf("old card %+v", old)
	}
	cards, err := e.svc.Cards(e.ctx, me, acc.ID)
	must(t, "Cards", err)
	if len(cards) != 2 || cards[0].Number != next.Number || cards[1].Number != before.Number {
		t.Fatalf("Cards = %+v", cards)
	}

	// Login follows the new number; the lost one no longer logs in.
	got, _, err := e.auth.Login(e.ctx, next.Number, password, auth.Client{})
	must(t, "login with the new number", err)
	if got.ID != acc.ID || got.CardNumber != next.Number {
		t.Fatalf("login with the new number: %+v", got)
	}
	_, _, err = e.auth.Login(e.ctx, before.Number, password, auth.Client{})
	wantErr(t, "login with the lost number", err, auth.ErrBadCredentials)

	// The lost card's codes are refused; the new card's verify.
	_, err = e.svc.VerifyCard(e.ctx, desk, pass)
	wantErr(t, "an offline pass of the lost card", err, card.ErrCardLost)
	dc := e.digital(me, acc.ID, "")
	if dc.Number != next.Number || dc.BarcodeValue != "A"+next.Number+"A" {
		t.Fatalf("digital card after the loss: %s (%s)", dc.Number, dc.BarcodeValue)
	}
	_, err = e.svc.VerifyCard(e.ctx, desk, dc.Token)
	must(t, "VerifyCard of the new card", err)
	// Staff do nothing more to a lost card.
	_, err = e.svc.BlockCard(e.ctx, desk, before.Number, card.ReasonFines, "")
	wantErr(t, "BlockCard of the lost card", err, card.ErrCardLost)

	// A blocked card reported lost stays blocked under its new number.
	e.block(desk, next.Number, card.ReasonFines)
	third, err := e.svc.ReportLost(e.ctx, desk, acc.ID)
	must(t, "ReportLost by a librarian", err)
	if third.Status != card.StatusBlocked || third.BlockReason != card.ReasonFines {
		t.Fatalf("a blocked card's replacement: %+v", third)
	}
}

func TestWhoMaySeeWhat(t *testing.T) {
	e := newEnv(t)
	reader, readerActor := e.reader("Đinh Thị Ngọc", auth.CategoryAdult, e.tuSon.ID)
	_, otherReader := e.reader("Cao Văn Hải", auth.CategoryAdult, e.tuSon.ID)
	child, childActor := e.reader("Đinh Minh Khôi", auth.CategoryChild, e.tuSon.ID)
	_, pendingGuardian := e.reader("Lý Thị Hạnh", auth.CategoryAdult, e.queVo.ID)
	homeLibrarian, otherLibrarian := e.librarian(e.tuSon), e.librarian(e.queVo)
	childNumber := e.digital(childActor, child.ID, "").Number

	// The reader links their child with the child's password; another
	// asks without it and waits for a librarian.
	l, err := e.svc.LinkChild(e.ctx, readerActor, cardsvc.LinkChildInput{ChildCardNumber: childNumber, ChildPassword: password})
	must(t, "LinkChild with the password", err)
	if l.Status != card.LinkActive || l.ApprovedBy != reader.ID {
		t.Fatalf("link %+v", l)
	}
	l, err = e.svc.LinkChild(e.ctx, pendingGuardian, cardsvc.LinkChildInput{ChildCardNumber: childNumber})
	must(t, "LinkChild without the password", err)
	if l.Status != card.LinkPending {
		t.Fatalf("link without the password: %+v", l)
	}

	tests := []struct {
		name    string
		actor   auth.Actor
		account string
		want    error // nil: allowed
	}{
		{"a reader, their own card", readerActor, reader.ID, nil},
		{"a reader, another reader's card", otherReader, reader.ID, thuvienso.ErrForbidden},
		{"a reader, an id that does not exist", otherReader, "no-such-account", thuvienso.ErrForbidden},
		{"a guardian, their linked child's card", readerActor, child.ID, nil},
		{"a guardian waiting for approval, the child's card", pendingGuardian, child.ID, thuvienso.ErrForbidden},
		{"a child, their guardian's card", childActor, reader.ID, thuvienso.ErrForbidden},
		{"a librarian of the home library", homeLibrarian, reader.ID, nil},
		{"a librarian of another library", otherLibrarian, reader.ID, thuvienso.ErrForbidden},
		{"an admin", e.admin, reader.ID, nil},
		{"nobody logged in", auth.Actor{}, reader.ID, thuvienso.ErrUnauthenticated},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			calls := map[string]error{}
			_, calls["DigitalCard"] = e.svc.DigitalCard(e.ctx, tc.actor, tc.account, "")
			_, calls["Cards"] = e.svc.Cards(e.ctx, tc.actor, tc.account)
			_, calls["Links"] = e.svc.Links(e.ctx, tc.actor, tc.account)
			calls["CanActFor"] = e.svc.CanActFor(e.ctx, tc.actor, tc.account)
			for call, err := range calls {
				if tc.want == nil {
					must(t, call, err)
				} else {
					wantErr(t, call, err, tc.want)
				}
			}
		})
	}

	// A librarian approves the pending link; then that guardian sees the
	// child too, and switches between the cards in the app.
	_, err = e.svc.ApproveLink(e.ctx, otherLibrarian, pendingGuardian.AccountID, child.ID)
	must(t, "ApproveLink by a librarian of the guardian's library", err)
	_, err = e.svc.DigitalCard(e.ctx, pendingGuardian, child.ID, "")
	must(t, "DigitalCard of the child after approval", err)
	linked, err := e.svc.LinkedCards(e.ctx, readerActor)
	must(t, "LinkedCards", err)
	if len(linked) != 2 || linked[0].Account.ID != reader.ID || linked[1].Account.ID != child.ID || linked[1].Card.Number != childNumber {
		t.Fatalf("LinkedCards = %+v", linked)
	}

	// Unlinked, the guardian no longer sees the child.
	must(t, "Unlink", e.svc.Unlink(e.ctx, readerActor, reader.ID, child.ID))
	_, err = e.svc.DigitalCard(e.ctx, readerActor, child.ID, "")
	wantErr(t, "DigitalCard of a child after unlinking", err, thuvienso.ErrForbidden)
	err = e.svc.Unlink(e.ctx, otherReader, pendingGuardian.AccountID, child.ID)
	wantErr(t, "Unlink by a stranger", err, thuvienso.ErrForbidden)
}

func TestLinkChildRefusals(t *testing.T) {
	e := newEnv(t)
	_, guardian := e.reader("Trịnh Văn Long", auth.CategoryAdult, e.tuSon.ID)
	adult, adultActor := e.reader("Mai Thị Yến", auth.CategoryAdult, e.tuSon.ID)
	child, childActor := e.reader("Trịnh Bảo Anh", auth.CategoryChild, e.tuSon.ID)
	childNumber := e.digital(childActor, child.ID, "").Number
	adultNumber := e.digital(adultActor, adult.ID, "").Number

	_, err := e.svc.LinkChild(e.ctx, guardian, cardsvc.LinkChildInput{ChildCardNumber: childNumber, ChildPassword: "sai-mật-khẩu"})
	wantErr(t, "a wrong password", err, card.ErrBadChildCredentials)
	_, err = e.svc.LinkChild(e.ctx, guardian, cardsvc.LinkChildInput{ChildCardNumber: adultNumber, ChildPassword: password})
	wantErr(t, "an adult's card", err, card.ErrNotAChild)
	_, err = e.svc.LinkChild(e.ctx, guardian, cardsvc.LinkChildInput{ChildCardNumber: childNumber[:12] + "x"})
	wantCode(t, "a malformed number", err, thuvienso.CodeBadUserInput, "input.childCardNumber")
	_, err = e.svc.LinkChild(e.ctx, guardian, cardsvc.LinkChildInput{GuardianID: adult.ID, ChildCardNumber: childNumber})
	wantErr(t, "a reader linking for someone else", err, thuvienso.ErrForbidden)
	// Wrong passwords are limited like logins.
	for range 6 {
		_, err = e.svc.LinkChild(e.ctx, guardian, cardsvc.LinkChildInput{ChildCardNumber: childNumber, ChildPassword: "sai"})
	}
	wantCode(t, "many wrong passwords", err, thuvienso.CodeRateLimited)
}

func TestBlockingByGuardianAndLibrary(t *testing.T) {
	e := newEnv(t)
	guardian, guardianActor := e.reader("Phan Văn Tùng", auth.CategoryAdult, e.tuSon.ID)
	child, childActor := e.reader("Phan Gia Huy", auth.CategoryChild, e.tuSon.ID)
	desk := e.librarian(e.tuSon)
	n := e.digital(childActor, child.ID, "").Number
	_, err := e.svc.LinkChild(e.ctx, desk, cardsvc.LinkChildInput{GuardianID: guardian.ID, ChildCardNumber: n})
	must(t, "LinkChild by a librarian", err)

	// A guardian blocks and unblocks for their own reason only.
	_, err = e.svc.BlockCard(e.ctx, guardianActor, n, card.ReasonOverdue, "")
	wantErr(t, "a guardian blocking for the library's reason", err, thuvienso.ErrForbidden)
	c, err := e.svc.BlockCard(e.ctx, guardianActor, n, card.ReasonGuardian, "Con đánh mất điện thoại")
	must(t, "BlockCard by the guardian", err)
	if c.Status != card.StatusBlocked || c.BlockReason != card.ReasonGuardian {
		t.Fatalf("blocked card %+v", c)
	}
	_, err = e.svc.UnblockCard(e.ctx, guardianActor, n)
	must(t, "UnblockCard by the guardian", err)

	// The library's block is not the guardian's to overwrite or lift.
	e.block(desk, n, card.ReasonDamagedItems)
	_, err = e.svc.BlockCard(e.ctx, guardianActor, n, card.ReasonGuardian, "")
	wantErr(t, "a guardian re-blocking a card the library blocked", err, thuvienso.ErrForbidden)
	_, err = e.svc.UnblockCard(e.ctx, guardianActor, n)
	wantErr(t, "a guardian unblocking the library's block", err, thuvienso.ErrForbidden)
	c, err = e.svc.CardByNumber(e.ctx, desk, n)
	must(t, "CardByNumber", err)
	if c.Status != card.StatusBlocked || c.BlockReason != card.ReasonDamagedItems {
		t.Fatalf("the library's block after the guardian's attempts: %+v", c)
	}
	// Nor is the child's own, nor another library's.
	_, err = e.svc.UnblockCard(e.ctx, childActor, n)
	wantErr(t, "the child unblocking", err, thuvienso.ErrForbidden)
	_, err = e.svc.UnblockCard(e.ctx, e.librarian(e.queVo), n)
	wantErr(t, "a librarian of another library unblocking", err, thuvienso.ErrForbidden)
	_, err = e.svc.BlockCard(e.ctx, desk, n, card.BlockReason("BECAUSE"), "")
	wantCode(t, "an unknown reason", err, thuvienso.CodeBadUserInput, "input.reason")
	_, err = e.svc.UnblockCard(e.ctx, desk, n)
	must(t, "UnblockCard by the library", err)
}
