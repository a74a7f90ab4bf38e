package cardsvc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/card"
	"github.com/bacninh/thuvienso/ratelimit"
)

// MaxChildren is how many children one guardian may link.
const MaxChildren = 10

// LinkChildLimit bounds attempts at children's passwords per child card
// number, as login does per account.
var LinkChildLimit = ratelimit.Limit{Burst: 5, Period: 15 * time.Minute}

// LinkChildInput is a request to link a child's account to a guardian's.
type LinkChildInput struct {
	// GuardianID is the guardian's account. A reader links to themself
	// (empty or their own id); a librarian names the guardian.
	GuardianID string
	// ChildCardNumber is the child's current card number.
	ChildCardNumber string
	// ChildPassword, given by a guardian, links at once when it is the
	// child's; without it the link waits for a librarian's approval.
	ChildPassword string
}

// LinkChild links a child's account to a guardian's.
//
//   - A guardian (a reader) who gives the child's card number and password
//     is linked at once (attempts are limited per child card like logins).
//   - A guardian who gives only the card number gets a PENDING link that a
//     librarian approves (ApproveLink) after checking papers at the desk.
//   - A librarian of the child's or the guardian's home library (or an
//     admin) links directly: that is the librarian's approval.
//
// The child must be a reader of category CHILD or STUDENT.
func (s *Service) LinkChild(ctx context.Context, a auth.Actor, in LinkChildInput) (*card.Link, error) {
	if a.AccountID == "" {
		return nil, thuvienso.ErrUnauthenticated
	}
	staff := isStaff(a)
	guardianID := in.GuardianID
	switch {
	case !staff && guardianID != "" && guardianID != a.AccountID:
		return nil, thuvienso.ErrForbidden
	case !staff:
		guardianID = a.AccountID
	case guardianID == "":
		return nil, thuvienso.Invalid("input.guardianId", "name the guardian's account", "Cần chọn tài khoản người giám hộ")
	}
	number, err := ParseNumber("input.childCardNumber", in.ChildCardNumber)
	if err != nil {
		return nil, err
	}
	limitKey := "link-child:" + number
	if !staff && in.ChildPassword != "" && s.Limiter != nil {
		if d, err := s.Limiter.Check(ctx, limitKey, LinkChildLimit); err == nil && !d.Allowed {
			secs := max(1, int(d.RetryAfter.Round(time.Second)/time.Second))
			return nil, &thuvienso.Error{Code: thuvienso.CodeRateLimited, RetryAfterSeconds: secs,
				EN: fmt.Sprintf("too many wrong passwords; try again in %d seconds", secs),
				VI: fmt.Sprintf("Nhập sai mật khẩu quá nhiều lần; vui lòng thử lại sau %d giây", secs)}
		}
	}
	child, err := s.Accounts.AccountByLogin(ctx, number)
	if errors.Is(err, thuvienso.ErrNotFound) {
		if !staff {
			auth.CheckPassword(in.ChildPassword, pendingHashForTiming)
			return nil, card.ErrBadChildCredentials
		}
		return nil, fmt.Errorf("link child: card %s: %w", number, thuvienso.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("link child: %w", err)
	}
	guardian, err := s.Accounts.Account(ctx, guardianID)
	if err != nil {
		return nil, fmt.Errorf("link child: guardian: %w", err)
	}
	if child.ID == guardian.ID || child.Role != auth.RoleReader ||
		(child.Category != auth.CategoryChild && child.Category != auth.CategoryStudent) {
		return nil, card.ErrNotAChild
	}
	status, approvedBy := card.LinkPending, ""
	switch {
	case staff:
		if !a.CanActForLibrary(child.HomeLibraryID) && !a.CanActForLibrary(guardian.HomeLibraryID) {
			return nil, thuvienso.ErrForbidden
		}
		status, approvedBy = card.LinkActive, a.AccountID
	case in.ChildPassword != "":
		if !auth.CheckPassword(in.ChildPassword, child.PasswordHash) {
			if s.Limiter != nil {
				if _, err := s.Limiter.Allow(ctx, limitKey, LinkChildLimit); err != nil {
					s.logger().Warn("record failed child password", "err", err)
				}
			}
			return nil, card.ErrBadChildCredentials
		}
		status, approvedBy = card.LinkActive, a.AccountID
	}
	links, err := s.Store.LinksOfGuardian(ctx, guardianID)
	if err != nil {
		return nil, fmt.Errorf("link child: %w", err)
	}
	linked := slices.ContainsFunc(links, func(l *card.Link) bool { return l.ChildID == child.ID })
	if len(links) >= MaxChildren && !linked { // approving a pending request adds no child
		return nil, card.ErrTooManyChildren
	}
	now := s.now()
	l := &card.Link{GuardianID: guardianID, ChildID: child.ID, Status: status, RequestedAt: now}
	if status == card.LinkActive {
		l.ApprovedBy, l.ApprovedAt = approvedBy, &now
	}
	err = s.Store.CreateLink(ctx, l)
	if errors.Is(err, card.ErrLinkExists) && status == card.LinkActive {
		// A pending request, now proven or approved.
		return s.Store.ActivateLink(ctx, guardianID, child.ID, approvedBy, now)
	}
	if err != nil {
		return nil, fmt.Errorf("link child: %w", err)
	}
	return l, nil
}

// pendingHashForTiming is checked against when no child has the number, so
// that a wrong number costs as long as a wrong password.
var pendingHashForTiming, _ = auth.HashPassword("no-such-child-account")

// ApproveLink makes a pending link active: a librarian of the child's or
// the guardian's home library, or an admin.
func (s *Service) ApproveLink(ctx context.Context, a auth.Actor, guardianID, childID string) (*card.Link, error) {
	if !isStaff(a) {
		return nil, thuvienso.ErrForbidden
	}
	if err := s.staffForPair(ctx, a, guardianID, childID); err != nil {
		return nil, fmt.Errorf("approve link: %w", err)
	}
	l, err := s.Store.ActivateLink(ctx, guardianID, childID, a.AccountID, s.now())
	if err != nil {
		return nil, fmt.Errorf("approve link: %w", err)
	}
	return l, nil
}

// staffForPair returns nil when the staff actor may act for the child's or
// the guardian's home library.
func (s *Service) staffForPair(ctx context.Context, a auth.Actor, guardianID, childID string) error {
	accs, err := s.Accounts.AccountsByID(ctx, []string{guardianID, childID})
	if err != nil {
		return err
	}
	for _, acc := range accs {
		if a.CanActForLibrary(acc.HomeLibraryID) {
			return nil
		}
	}
	if len(accs) < 2 {
		return thuvienso.ErrNotFound
	}
	return thuvienso.ErrForbidden
}

// Unlink removes a guardian–child link (active or pending): the guardian,
// or staff of either home library.
func (s *Service) Unlink(ctx context.Context, a auth.Actor, guardianID, childID string) error {
	switch {
	case a.AccountID == "":
		return thuvienso.ErrUnauthenticated
	case a.AccountID == guardianID:
	case isStaff(a):
		if err := s.staffForPair(ctx, a, guardianID, childID); err != nil {
			return fmt.Errorf("unlink: %w", err)
		}
	default:
		return thuvienso.ErrForbidden
	}
	if err := s.Store.DeleteLink(ctx, guardianID, childID); err != nil {
		return fmt.Errorf("unlink: %w", err)
	}
	return nil
}

// GuardianOf reports whether guardianID has an active link to childID.
// Circulation and the resolvers call it to let a guardian see a child's
// loans and holds and place holds for them (or use CanActFor).
func (s *Service) GuardianOf(ctx context.Context, guardianID, childID string) (bool, error) {
	if guardianID == "" || childID == "" || guardianID == childID {
		return false, nil
	}
	l, err := s.Store.Link(ctx, guardianID, childID)
	if errors.Is(err, thuvienso.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("guardian of: %w", err)
	}
	return l.Status == card.LinkActive, nil
}

// Links returns an account's family links, both ways: those where it is
// the guardian and those where it is the child (the holder, their
// guardians, and staff may look).
func (s *Service) Links(ctx context.Context, a auth.Actor, accountID string) ([]*card.Link, error) {
	if _, _, err := s.access(ctx, a, accountID); err != nil {
		return nil, fmt.Errorf("links: %w", err)
	}
	asGuardian, err := s.Store.LinksOfGuardian(ctx, accountID)
	if err != nil {
		return nil, fmt.Errorf("links: %w", err)
	}
	asChild, err := s.Store.LinksOfChild(ctx, accountID)
	if err != nil {
		return nil, fmt.Errorf("links: %w", err)
	}
	return append(asGuardian, asChild...), nil
}

// LinkedCard is one card the app can switch to: the actor's own (Link nil)
// or an actively linked child's.
type LinkedCard struct {
	Account *auth.Account
	Card    *card.Card
	Link    *card.Link
}

// LinkedCards returns the actor's own card first, then the cards of the
// children actively linked to them, for the app's card switcher. Pending
// links are not listed here (see Links).
func (s *Service) LinkedCards(ctx context.Context, a auth.Actor) ([]*LinkedCard, error) {
	own, err := s.Card(ctx, a, a.AccountID)
	if err != nil {
		return nil, fmt.Errorf("linked cards: %w", err)
	}
	me, err := s.Accounts.Account(ctx, a.AccountID)
	if err != nil {
		return nil, fmt.Errorf("linked cards: %w", err)
	}
	out := []*LinkedCard{{Account: me, Card: own}}
	links, err := s.Store.LinksOfGuardian(ctx, a.AccountID)
	if err != nil {
		return nil, fmt.Errorf("linked cards: %w", err)
	}
	var ids []string
	byChild := map[string]*card.Link{}
	for _, l := range links {
		if l.Status == card.LinkActive {
			ids = append(ids, l.ChildID)
			byChild[l.ChildID] = l
		}
	}
	accs, err := s.Accounts.AccountsByID(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("linked cards: %w", err)
	}
	byID := map[string]*auth.Account{}
	for _, acc := range accs {
		byID[acc.ID] = acc
	}
	for _, id := range ids {
		acc := byID[id]
		if acc == nil {
			continue
		}
		c, err := s.EnsureCard(ctx, acc)
		if err != nil {
			return nil, fmt.Errorf("linked cards: %w", err)
		}
		out = append(out, &LinkedCard{Account: acc, Card: c, Link: byChild[id]})
	}
	return out, nil
}
