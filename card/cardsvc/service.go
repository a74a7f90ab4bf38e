// Package cardsvc is the behaviour of the digital library card: every
// reader's current card (created lazily for accounts older than cards),
// reporting a card lost, blocking and renewing, the digital card with its
// signed QR code and offline pass, verification at a library desk
// (signature, current status, replay), printable barcodes and QR codes,
// family links between guardians and children, and bulk registration of a
// school's students from CSV.
//
// It sits beside package card (numbers, types, rules, the Store interface)
// rather than inside it because it needs package auth (accounts, actors),
// which itself imports card for card numbers.
//
// Every operation takes the auth.Actor of the request and checks inside
// what that actor may do; the GraphQL resolvers only convert.
package cardsvc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/card"
	"github.com/bacninh/thuvienso/library"
	"github.com/bacninh/thuvienso/lock"
	"github.com/bacninh/thuvienso/nonce"
	"github.com/bacninh/thuvienso/ratelimit"
)

// Libraries is what the card service needs to know about libraries: a
// home library's name (shown on the card) and a school's type.
// library.Service provides it.
type Libraries interface {
	Library(ctx context.Context, id string) (*library.Library, error)
}

// Service is the card domain's behaviour.
type Service struct {
	Store card.Store
	// Accounts is the auth store: accounts are read, and an account's card
	// number follows its current card (SetCardNumber).
	Accounts auth.Store
	// Auth creates the accounts of bulk-registered students.
	Auth      *auth.Service
	Libraries Libraries
	// Keys signs and verifies card codes (the card key set, KEYS_DIR/card).
	Keys *KeyRing
	// Nonces remembers the nonces of verified card codes, shared between
	// instances (Redis) when there are several.
	Nonces nonce.Store
	// Limiter throttles attempts at a child's password when linking; nil
	// means no limit.
	Limiter ratelimit.Limiter
	// Locker serialises bulk registrations of one school; nil means none.
	Locker lock.Locker
	Logger *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// relation is how an actor stands to an account.
type relation int

const (
	relNone     relation = iota
	relSelf              // the account holder
	relGuardian          // an active guardian of the holder
	relStaff             // a librarian of the holder's home library, or an admin
)

// access returns the account and how the actor stands to it, or
// ErrForbidden when the actor may not see it. A reader asking about another
// account is refused before the lookup unless they are linked to it, so
// answers do not reveal which ids exist.
func (s *Service) access(ctx context.Context, a auth.Actor, accountID string) (*auth.Account, relation, error) {
	if a.AccountID == "" {
		return nil, relNone, thuvienso.ErrUnauthenticated
	}
	rel := relNone
	switch {
	case accountID == a.AccountID:
		rel = relSelf
	case a.Role == auth.RoleReader:
		ok, err := s.GuardianOf(ctx, a.AccountID, accountID)
		if err != nil {
			return nil, relNone, err
		}
		if !ok {
			return nil, relNone, thuvienso.ErrForbidden
		}
		rel = relGuardian
	}
	acc, err := s.Accounts.Account(ctx, accountID)
	if err != nil {
		return nil, relNone, fmt.Errorf("account %s: %w", accountID, err)
	}
	if rel == relNone && a.CanViewAccount(acc) {
		rel = relStaff
	} else if rel == relNone {
		// A librarian may also be a parent, of a child of another library.
		ok, err := s.GuardianOf(ctx, a.AccountID, accountID)
		if err != nil {
			return nil, relNone, err
		}
		if !ok {
			return nil, relNone, thuvienso.ErrForbidden
		}
		rel = relGuardian
	}
	return acc, rel, nil
}

// isStaff reports whether the actor is a librarian or an admin.
func isStaff(a auth.Actor) bool { return a.Role == auth.RoleLibrarian || a.Role == auth.RoleAdmin }

// ViewAccount returns an account the actor may see: their own, a linked
// child's (as the child's guardian), or one a librarian or admin may see.
func (s *Service) ViewAccount(ctx context.Context, a auth.Actor, accountID string) (*auth.Account, error) {
	acc, _, err := s.access(ctx, a, accountID)
	if err != nil {
		return nil, fmt.Errorf("view account: %w", err)
	}
	return acc, nil
}

// CanActFor returns nil when the actor may act for the reader (place a
// hold, renew a loan, show their card): the reader themself, an active
// guardian of the reader, or staff who may see the reader's account.
// Circulation calls it before acting "for" someone.
func (s *Service) CanActFor(ctx context.Context, a auth.Actor, readerID string) error {
	if _, _, err := s.access(ctx, a, readerID); err != nil {
		return fmt.Errorf("act for reader: %w", err)
	}
	return nil
}

// EnsureCard returns the account's current card, creating it when the
// account has none yet (accounts registered before cards existed, or whose
// card replacement was interrupted): the card takes the account's existing
// card number when it is valid and free, so the number a reader already
// knows (and logs in with) stays. It also brings the account's card number
// back in step with the card when they differ.
func (s *Service) EnsureCard(ctx context.Context, acc *auth.Account) (*card.Card, error) {
	cur, err := s.Store.CurrentCard(ctx, acc.ID)
	if err == nil {
		s.syncAccountNumber(ctx, acc, cur.Number)
		return cur, nil
	}
	if !errors.Is(err, thuvienso.ErrNotFound) {
		return nil, fmt.Errorf("ensure card: %w", err)
	}
	number := acc.CardNumber
	if !card.ValidNumber(number) {
		number = ""
	}
	now := s.now()
	for attempt := 0; attempt < 5; attempt++ {
		if number == "" {
			if number, err = s.freshNumber(ctx); err != nil {
				return nil, fmt.Errorf("ensure card: %w", err)
			}
		}
		c := &card.Card{
			Number: number, AccountID: acc.ID, Symbology: card.Code128, Status: card.StatusActive, Current: true,
			HomeLibraryID: acc.HomeLibraryID, IssuedAt: now,
			ExpiresAt: card.ExpiryFor(acc.Category == auth.CategoryStudent, now),
			CreatedAt: now, UpdatedAt: now,
		}
		err = s.Store.CreateCard(ctx, c)
		switch {
		case err == nil:
			s.syncAccountNumber(ctx, acc, c.Number)
			return c, nil
		case errors.Is(err, card.ErrHasCard):
			// Created concurrently by another request.
			cur, err := s.Store.CurrentCard(ctx, acc.ID)
			if err != nil {
				return nil, fmt.Errorf("ensure card: %w", err)
			}
			s.syncAccountNumber(ctx, acc, cur.Number)
			return cur, nil
		case errors.Is(err, card.ErrNumberTaken):
			number = "" // the account's number is a lost card's: issue a new one
		default:
			return nil, fmt.Errorf("ensure card: %w", err)
		}
	}
	return nil, fmt.Errorf("ensure card: %w", err)
}

// syncAccountNumber makes the account's card number (what login by card
// number looks up) the current card's. A failure is logged: the next call
// tries again.
func (s *Service) syncAccountNumber(ctx context.Context, acc *auth.Account, number string) {
	if acc.CardNumber == number {
		return
	}
	if err := s.Accounts.SetCardNumber(ctx, acc.ID, number, s.now()); err != nil {
		s.logger().Error("card: bringing the account's card number in step failed", "account", acc.ID, "err", err)
		return
	}
	acc.CardNumber = number
}

// freshNumber returns a random card number that no card and no account
// uses. Numbers are also unique by constraint in both stores; this check
// makes a collision (about one in ten billion per number) a retry here
// rather than a failed write later.
func (s *Service) freshNumber(ctx context.Context) (string, error) {
	for range 5 {
		n, err := card.NewNumber()
		if err != nil {
			return "", err
		}
		free, err := s.numberFree(ctx, n)
		if err != nil {
			return "", err
		}
		if free {
			return n, nil
		}
	}
	return "", errors.New("no free card number after 5 tries")
}

// numberFree reports whether no card and no account uses number.
func (s *Service) numberFree(ctx context.Context, number string) (bool, error) {
	if _, err := s.Store.Card(ctx, number); err == nil {
		return false, nil
	} else if !errors.Is(err, thuvienso.ErrNotFound) {
		return false, err
	}
	if _, err := s.Accounts.AccountByLogin(ctx, number); err == nil {
		return false, nil
	} else if !errors.Is(err, thuvienso.ErrNotFound) {
		return false, err
	}
	return true, nil
}

// Card returns the current card of an account the actor may see (their
// own, a linked child's, or as staff), creating it when missing.
func (s *Service) Card(ctx context.Context, a auth.Actor, accountID string) (*card.Card, error) {
	acc, _, err := s.access(ctx, a, accountID)
	if err != nil {
		return nil, fmt.Errorf("card: %w", err)
	}
	return s.EnsureCard(ctx, acc)
}

// Cards returns every card of an account, current first, then the lost
// ones newest first.
func (s *Service) Cards(ctx context.Context, a auth.Actor, accountID string) ([]*card.Card, error) {
	acc, _, err := s.access(ctx, a, accountID)
	if err != nil {
		return nil, fmt.Errorf("cards: %w", err)
	}
	if _, err := s.EnsureCard(ctx, acc); err != nil {
		return nil, err
	}
	cs, err := s.Store.CardsOfAccount(ctx, acc.ID)
	if err != nil {
		return nil, fmt.Errorf("cards: %w", err)
	}
	out := make([]*card.Card, 0, len(cs))
	for _, c := range cs {
		if c.Current {
			out = append([]*card.Card{c}, out...)
		} else {
			out = append(out, c)
		}
	}
	return out, nil
}

// CardByNumber looks a card up by its number (typed or scanned at a desk):
// for librarians and admins of any library, since the card is
// province-wide. A lost card is returned too, with its status LOST and
// ReplacedBy. A mistyped number is refused by its check digit.
func (s *Service) CardByNumber(ctx context.Context, a auth.Actor, number string) (*card.Card, error) {
	if !isStaff(a) {
		return nil, thuvienso.ErrForbidden
	}
	n, err := ParseNumber("number", number)
	if err != nil {
		return nil, err
	}
	c, err := s.Store.Card(ctx, n)
	if errors.Is(err, thuvienso.ErrNotFound) {
		// An account older than cards has its number but no card yet.
		acc, aerr := s.Accounts.AccountByLogin(ctx, n)
		if aerr != nil {
			return nil, fmt.Errorf("card %s: %w", n, aerr)
		}
		if acc.CardNumber != n {
			return nil, fmt.Errorf("card %s: %w", n, thuvienso.ErrNotFound)
		}
		return s.EnsureCard(ctx, acc)
	}
	if err != nil {
		return nil, fmt.Errorf("card %s: %w", n, err)
	}
	return c, nil
}

// ParseNumber normalises a typed card number (spaces and dashes between
// groups) and checks it, naming field in the error: a wrong length, a
// wrong prefix and a wrong check digit (one digit mistyped, two swapped)
// are refused.
func ParseNumber(field, s string) (string, error) {
	n := card.NormalizeNumber(s)
	if !card.ValidNumber(n) {
		return "", thuvienso.Invalid(field,
			fmt.Sprintf("%q is not a valid card number: check the %d digits", s, card.NumberLength),
			fmt.Sprintf("%q không phải là số thẻ hợp lệ: hãy kiểm tra lại %d chữ số", s, card.NumberLength))
	}
	return n, nil
}

// ReportLost replaces the account's current card: the old number is marked
// LOST (a code or barcode of it is refused from now on, and it no longer
// logs in) and a new number is issued with the same symbology, status and
// expiry; the account logs in with the new number. The reader, their
// guardian or staff may report it.
func (s *Service) ReportLost(ctx context.Context, a auth.Actor, accountID string) (*card.Card, error) {
	acc, _, err := s.access(ctx, a, accountID)
	if err != nil {
		return nil, fmt.Errorf("report card lost: %w", err)
	}
	cur, err := s.EnsureCard(ctx, acc)
	if err != nil {
		return nil, fmt.Errorf("report card lost: %w", err)
	}
	now := s.now()
	for attempt := 0; ; attempt++ {
		number, err := s.freshNumber(ctx)
		if err != nil {
			return nil, fmt.Errorf("report card lost: %w", err)
		}
		next := *cur
		next.Number, next.Current, next.ReplacedBy = number, true, ""
		next.IssuedAt, next.CreatedAt, next.UpdatedAt = now, now, now
		err = s.Store.ReplaceCard(ctx, cur.Number, &next, now)
		switch {
		case err == nil:
			if err := s.Accounts.SetCardNumber(ctx, acc.ID, number, now); err != nil {
				// The card is replaced; EnsureCard heals the account later.
				s.logger().Error("card: account keeps the lost card's number", "account", acc.ID, "err", err)
			}
			s.logger().Info("card reported lost", "account", acc.ID, "old", cur.Number, "new", number)
			return &next, nil
		case errors.Is(err, card.ErrNumberTaken) && attempt < 3:
			continue
		case errors.Is(err, card.ErrNotCurrent):
			return nil, fmt.Errorf("report card lost: the card was replaced meanwhile: %w", err)
		default:
			return nil, fmt.Errorf("report card lost: %w", err)
		}
	}
}

// staffCard returns the current card with this number for an actor who
// is staff for its holder.
func (s *Service) staffCard(ctx context.Context, a auth.Actor, number string) (*card.Card, *auth.Account, error) {
	if !isStaff(a) {
		return nil, nil, thuvienso.ErrForbidden
	}
	n, err := ParseNumber("input.number", number)
	if err != nil {
		return nil, nil, err
	}
	c, err := s.CardByNumber(ctx, a, n)
	if err != nil {
		return nil, nil, err
	}
	acc, rel, err := s.access(ctx, a, c.AccountID)
	if err != nil {
		return nil, nil, err
	}
	if rel != relStaff && !(rel == relSelf && a.IsAdmin()) {
		return nil, nil, thuvienso.ErrForbidden
	}
	if !c.Current {
		return nil, nil, card.ErrCardLost
	}
	return c, acc, nil
}

// BlockCard blocks a card for a reason the reader can read, with an
// optional note. Staff of the holder's home library and admins may block
// any card; a guardian may block a linked child's card for
// card.ReasonGuardian.
func (s *Service) BlockCard(ctx context.Context, a auth.Actor, number string, reason card.BlockReason, note string) (*card.Card, error) {
	if !reason.Valid() {
		return nil, thuvienso.Invalid("input.reason", "unknown block reason", "Lý do khóa thẻ không hợp lệ")
	}
	if len([]rune(note)) > 500 {
		return nil, thuvienso.Invalid("input.note", "the note may have at most 500 characters", "Ghi chú tối đa 500 ký tự")
	}
	st := card.StatusBlocked
	u := card.Update{Status: &st, BlockReason: &reason, BlockNote: &note}
	var c *card.Card
	var err error
	if a.Role == auth.RoleReader {
		if reason != card.ReasonGuardian {
			return nil, thuvienso.ErrForbidden
		}
		if c, err = s.guardianCard(ctx, a, number); err != nil {
			return nil, fmt.Errorf("block card: %w", err)
		}
		// A guardian does not overwrite the library's block (and could then
		// lift it): only a card that is not blocked, or blocked by a
		// guardian, and only if it still is when written.
		if c.Status == card.StatusBlocked && c.BlockReason != card.ReasonGuardian {
			return nil, fmt.Errorf("block card: blocked by the library: %w", thuvienso.ErrForbidden)
		}
		u.IfBlockReason = &c.BlockReason
	} else if c, _, err = s.staffCard(ctx, a, number); err != nil {
		return nil, fmt.Errorf("block card: %w", err)
	}
	return s.update(ctx, "block card", c.Number, u)
}

// guardianCard returns the current card with this number when the reader
// actor is an active guardian of its holder.
func (s *Service) guardianCard(ctx context.Context, a auth.Actor, number string) (*card.Card, error) {
	n, err := ParseNumber("input.number", number)
	if err != nil {
		return nil, err
	}
	c, err := s.Store.Card(ctx, n)
	if errors.Is(err, thuvienso.ErrNotFound) {
		return nil, thuvienso.ErrForbidden
	}
	if err != nil {
		return nil, err
	}
	if ok, err := s.GuardianOf(ctx, a.AccountID, c.AccountID); err != nil || !ok {
		if err == nil {
			err = thuvienso.ErrForbidden
		}
		return nil, err
	}
	if !c.Current {
		return nil, card.ErrCardLost
	}
	return c, nil
}

// UnblockCard makes a blocked card active again (staff; or the guardian
// who blocked it for card.ReasonGuardian).
func (s *Service) UnblockCard(ctx context.Context, a auth.Actor, number string) (*card.Card, error) {
	st, none, empty := card.StatusActive, card.BlockReason(""), ""
	u := card.Update{Status: &st, BlockReason: &none, BlockNote: &empty}
	var c *card.Card
	var err error
	if a.Role == auth.RoleReader {
		if c, err = s.guardianCard(ctx, a, number); err != nil {
			return nil, fmt.Errorf("unblock card: %w", err)
		}
		if c.Status == card.StatusBlocked && c.BlockReason != card.ReasonGuardian {
			return nil, fmt.Errorf("unblock card: blocked by the library: %w", thuvienso.ErrForbidden)
		}
		u.IfBlockReason = &c.BlockReason // and still so when written
	} else if c, _, err = s.staffCard(ctx, a, number); err != nil {
		return nil, fmt.Errorf("unblock card: %w", err)
	}
	return s.update(ctx, "unblock card", c.Number, u)
}

// RenewCard gives a card a new expiry counted from now (the end of the
// coming school year for a student): staff only.
func (s *Service) RenewCard(ctx context.Context, a auth.Actor, number string) (*card.Card, error) {
	c, acc, err := s.staffCard(ctx, a, number)
	if err != nil {
		return nil, fmt.Errorf("renew card: %w", err)
	}
	exp := card.ExpiryFor(acc.Category == auth.CategoryStudent || c.SchoolLibraryID != "", s.now())
	return s.update(ctx, "renew card", c.Number, card.Update{ExpiresAt: &exp})
}

// SetSymbology chooses how the account's card is drawn as a barcode
// (Code 128 or Codabar): the holder, their guardian or staff.
func (s *Service) SetSymbology(ctx context.Context, a auth.Actor, accountID string, sym card.Symbology) (*card.Card, error) {
	if !sym.Valid() {
		return nil, thuvienso.Invalid("input.symbology", "the symbology must be CODE128 or CODABAR",
			"Kiểu mã vạch phải là CODE128 hoặc CODABAR")
	}
	c, err := s.Card(ctx, a, accountID)
	if err != nil {
		return nil, fmt.Errorf("set symbology: %w", err)
	}
	return s.update(ctx, "set symbology", c.Number, card.Update{Symbology: &sym})
}

func (s *Service) update(ctx context.Context, what, number string, u card.Update) (*card.Card, error) {
	c, err := s.Store.UpdateCard(ctx, number, u, s.now())
	if errors.Is(err, card.ErrNotCurrent) {
		err = card.ErrCardLost
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return c, nil
}
