package circulation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
)

// claimView is a copy's claim as read, with its holder.
type claimView struct {
	// holder is the claim's holder as stored ("" when free).
	holder string
	// loan is the ACTIVE loan of the copy that holds the claim.
	loan *Loan
	// hold is the IN_TRANSIT or READY hold of the copy that holds it.
	hold *Hold
	// busy: the holder has not recorded the copy yet and the claim is
	// younger than ClaimGrace: another caller is working on it.
	busy bool
}

// free reports whether the caller may take the claim from holder: nobody
// has it, or its holder ended or never recorded it (a crash).
func (c *claimView) free() bool { return c.loan == nil && c.hold == nil && !c.busy }

// readClaim reads who holds the copy.
func (s *Service) readClaim(ctx context.Context, barcode string, now time.Time) (*claimView, error) {
	cl, err := s.store.CopyClaim(ctx, barcode)
	if errors.Is(err, thuvienso.ErrNotFound) {
		return &claimView{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the claim of copy %s: %w", barcode, err)
	}
	v := &claimView{holder: cl.Holder}
	young := now.Sub(cl.ClaimedAt) < ClaimGrace
	switch {
	case cl.Holder == "":
	case strings.HasPrefix(cl.Holder, "loan:"):
		l, err := s.store.Loan(ctx, strings.TrimPrefix(cl.Holder, "loan:"))
		switch {
		case errors.Is(err, thuvienso.ErrNotFound):
			v.busy = young // a check-out between its claim and its loan
		case err != nil:
			return nil, fmt.Errorf("reading the loan of copy %s: %w", barcode, err)
		case l.State == LoanActive && l.Barcode == barcode:
			v.loan = l
		}
	case strings.HasPrefix(cl.Holder, "hold:"):
		h, err := s.store.Hold(ctx, strings.TrimPrefix(cl.Holder, "hold:"))
		switch {
		case errors.Is(err, thuvienso.ErrNotFound):
			v.busy = young
		case err != nil:
			return nil, fmt.Errorf("reading the hold of copy %s: %w", barcode, err)
		case h.State.HasCopy() && h.Barcode == barcode:
			v.hold = h
		case h.State.Active():
			v.busy = young // a check-in between its claim and the hold's update
		}
	}
	if v.free() {
		// A hold still attached to the copy owns it although the claim
		// says otherwise (a crash between a hand-over and its record):
		// the claim follows the hold.
		h, err := s.store.HoldForCopy(ctx, barcode)
		switch {
		case errors.Is(err, thuvienso.ErrNotFound):
		case err != nil:
			return nil, fmt.Errorf("reading the hold of copy %s: %w", barcode, err)
		default:
			if err := s.handOver(ctx, barcode, v.holder, holdHolder(h.ID), now); err != nil {
				if errors.Is(err, ErrClaimLost) {
					return &claimView{busy: true}, nil
				}
				return nil, err
			}
			v.holder, v.hold = holdHolder(h.ID), h
		}
	}
	return v, nil
}

// handOver hands the claim of the copy from holder from to holder to.
func (s *Service) handOver(ctx context.Context, barcode, from, to string, now time.Time) error {
	if from == to {
		return nil
	}
	if err := s.store.ClaimCopy(ctx, barcode, from, to, now); err != nil {
		return fmt.Errorf("handing copy %s over: %w", barcode, err)
	}
	return nil
}

// backOff waits a little before re-reading a copy another caller is
// working on.
func backOff(ctx context.Context, attempt int) error {
	t := time.NewTimer(time.Duration(attempt+1) * 5 * time.Millisecond)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
