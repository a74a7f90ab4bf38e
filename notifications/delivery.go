package notifications

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// DeliveryReport says what one delivery round did.
type DeliveryReport struct {
	// Claimed counts pushes this round took (not those another sender had).
	Claimed int
	// Sent counts pushes that reached at least one device.
	Sent int
	// Deferred counts pushes that wait for the end of quiet hours.
	Deferred int
	// Retrying counts pushes rescheduled after a transient failure.
	Retrying int
	// Failed counts pushes given up on.
	Failed int
	// Skipped counts pushes not made (kind disabled, no device).
	Skipped int
	// Messages counts messages handed to the sender.
	Messages int
	// TokensPruned counts devices removed as unregistered or invalid.
	TokensPruned int
	// StaleClaims counts claims of dead senders marked FAILED.
	StaleClaims int
}

// DeliverDue sends every push that is due: it claims each (one sender per
// push, whatever the number of instances), sends to every device of the
// reader that the push has not reached yet, in rounds of at most
// Config.BatchSize, and records the outcome: sent, retried later with
// exponential backoff and jitter (honouring the push service's
// Retry-After), deferred to the end of quiet hours, or failed. Tokens the
// push service reports as unregistered or invalid are removed.
func (s *Service) DeliverDue(ctx context.Context) (DeliveryReport, error) {
	var rep DeliveryReport
	now := s.now()
	stale, err := s.store.FailStaleClaims(ctx, now)
	if err != nil {
		return rep, fmt.Errorf("delivering pushes: %w", err)
	}
	rep.StaleClaims = stale
	s.stats.failed.Add(int64(stale))
	batch := max(s.cfg.BatchSize, 1)
	for ctx.Err() == nil {
		due, err := s.store.DuePushes(ctx, now, batch)
		if err != nil {
			return rep, fmt.Errorf("delivering pushes: %w", err)
		}
		ids := make([]string, len(due))
		for i, n := range due {
			ids[i] = n.ID
		}
		var errs []error
		claimed, err := s.store.ClaimPushes(ctx, ids, now, now.Add(s.cfg.ClaimTTL))
		if err != nil {
			return rep, fmt.Errorf("delivering pushes: %w", err)
		}
		rep.Claimed += len(claimed)
		if err := s.sendClaimed(ctx, now, claimed, &rep); err != nil {
			errs = append(errs, err)
		}
		if len(errs) > 0 {
			return rep, fmt.Errorf("delivering pushes: %w", errors.Join(errs...))
		}
		if len(due) < batch {
			break
		}
	}
	return rep, nil
}

// recordTimeout bounds the recording of a round's outcome once the pass's
// context is done.
const recordTimeout = 30 * time.Second

// sendTimeout bounds a round's requests to the push service once the pass's
// context is done (see sendClaimed).
const sendTimeout = 30 * time.Second

// target is one message of a round: which push, which device.
type target struct {
	n     *Notification
	token string
}

// pushResult gathers the outcomes of one push's messages.
type pushResult struct {
	delivered  []string
	retry      bool
	retryAfter time.Duration
	errs       []string
}

// sendClaimed sends the claimed pushes in one round and records each.
func (s *Service) sendClaimed(ctx context.Context, now time.Time, claimed []*Notification, rep *DeliveryReport) (retErr error) {
	if len(claimed) == 0 {
		return nil
	}
	var readerIDs []string
	seen := map[string]bool{}
	for _, n := range claimed {
		if !seen[n.ReaderID] {
			seen[n.ReaderID] = true
			readerIDs = append(readerIDs, n.ReaderID)
		}
	}
	prefs, err := s.preferencesOf(ctx, readerIDs)
	if err != nil {
		return s.releaseAll(ctx, now, claimed, err)
	}
	devices, err := s.store.DevicesOf(ctx, readerIDs)
	if err != nil {
		return s.releaseAll(ctx, now, claimed, err)
	}

	var msgs []Message
	var targets []target
	var errs []error
	// Every outcome of the round is recorded in one write at its end, even
	// when the pass is being stopped (a lost lease, a shutdown): the
	// pushes went out, and a claim left SENDING would end FAILED.
	var finished []PushFinish
	finish := func(n *Notification, p Push) {
		finished = append(finished, PushFinish{ID: n.ID, ClaimedAttempts: n.Push.Attempts, Push: p})
	}
	defer func() {
		record, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
		defer cancel()
		ok, err := s.store.FinishPushes(record, finished)
		if err != nil {
			retErr = errors.Join(retErr, fmt.Errorf("recording pushes: %w", err))
		} else if ok < len(finished) {
			s.log.WarnContext(ctx, "notifications: push claims ran out while sending", "pushes", len(finished)-ok)
		}
	}()
	for _, n := range claimed {
		p := prefs[n.ReaderID]
		if !p.Enabled(n.Kind) {
			rep.Skipped++
			finish(n, done(n, PushSkipped, now, "kind disabled by the reader"))
			continue
		}
		if next := p.Quiet.NextAllowed(now); next.After(now) {
			rep.Deferred++
			d := n.Push
			d.State, d.At, d.Attempts, d.ClaimedUntil = PushPending, next, n.Push.Attempts-1, nil
			finish(n, d)
			continue
		}
		var devs []*Device
		for _, d := range devices[n.ReaderID] {
			if !slices.Contains(n.Push.SentTo, d.Token) {
				devs = append(devs, d)
			}
		}
		if len(devs) == 0 {
			if len(n.Push.SentTo) > 0 {
				rep.Sent++
				s.stats.sent.Add(1)
				finish(n, done(n, PushSent, now, n.Push.Error))
			} else {
				rep.Skipped++
				finish(n, done(n, PushSkipped, now, "the reader has no device"))
			}
			continue
		}
		for _, d := range devs {
			msgs = append(msgs, s.message(n, p, d))
			targets = append(targets, target{n: n, token: d.Token})
		}
	}
	if len(msgs) == 0 {
		return errors.Join(errs...)
	}

	rep.Messages += len(msgs)
	// Requests already under way finish even when the pass is being
	// stopped: abandoned, their outcome is unknown, and a push the service
	// had accepted would be sent again after the restart.
	sending, cancelSend := context.WithTimeout(context.WithoutCancel(ctx), sendTimeout)
	defer cancelSend()
	results := s.sender.Send(sending, msgs)
	byPush := map[string]*pushResult{}
	misconfigured := 0
	for i, t := range targets {
		r := Result{Outcome: Retry, Err: errors.New("the sender returned no result")}
		if i < len(results) {
			r = results[i]
		}
		pr := byPush[t.n.ID]
		if pr == nil {
			pr = &pushResult{}
			byPush[t.n.ID] = pr
		}
		switch r.Outcome {
		case Delivered:
			pr.delivered = append(pr.delivered, t.token)
		case Retry:
			pr.retry = true
			pr.retryAfter = max(pr.retryAfter, r.RetryAfter)
			pr.errs = append(pr.errs, errString(r.Err))
		case DropToken:
			if _, err := s.store.DeleteDevice(ctx, t.n.ReaderID, t.token); err != nil {
				errs = append(errs, fmt.Errorf("removing an invalid device token: %w", err))
			} else {
				rep.TokensPruned++
				s.stats.pruned.Add(1)
				s.log.InfoContext(ctx, "notifications: removed a device token the push service refused",
					"reader", t.n.ReaderID, "token", shortToken(t.token), "err", r.Err)
			}
		case Rejected:
			pr.errs = append(pr.errs, errString(r.Err))
			s.log.WarnContext(ctx, "notifications: push rejected", "notification", t.n.ID, "err", r.Err)
		case Misconfigured:
			misconfigured++
			pr.errs = append(pr.errs, errString(r.Err))
		}
	}
	if misconfigured > 0 {
		s.log.ErrorContext(ctx, "notifications: PUSH CONFIGURATION ERROR: the push service refused our credentials or the app's keys; tokens kept, pushes not retried",
			"messages", misconfigured, "err", firstErr(results, Misconfigured))
	}

	for _, n := range claimed {
		pr := byPush[n.ID]
		if pr == nil {
			continue // finished above
		}
		p := n.Push
		p.SentTo = append(slices.Clone(p.SentTo), pr.delivered...)
		p.ClaimedUntil = nil
		p.Error = strings.Join(slices.Compact(pr.errs), "; ")
		switch {
		case pr.retry && p.Attempts < s.cfg.MaxAttempts:
			p.State, p.At = PushPending, now.Add(s.backoff(p.Attempts, pr.retryAfter))
			rep.Retrying++
			s.stats.retried.Add(1)
		case len(p.SentTo) > 0:
			p.State, p.At = PushSent, now
			rep.Sent++
			s.stats.sent.Add(1)
		default:
			p.State, p.At = PushFailed, now
			if p.Error == "" {
				p.Error = "no device could be reached"
			}
			rep.Failed++
			s.stats.failed.Add(1)
		}
		finish(n, p)
	}
	return errors.Join(errs...)
}

// done returns n's push finished in state at now.
func done(n *Notification, state PushState, now time.Time, why string) Push {
	p := n.Push
	p.State, p.At, p.ClaimedUntil, p.Error = state, now, nil, why
	return p
}

// releaseAll gives claims back (PENDING, the attempt not counted) when a
// round could not start, and returns cause.
func (s *Service) releaseAll(ctx context.Context, now time.Time, claimed []*Notification, cause error) error {
	errs := []error{cause}
	fs := make([]PushFinish, len(claimed))
	for i, n := range claimed {
		p := n.Push
		p.State, p.At, p.Attempts, p.ClaimedUntil = PushPending, now, n.Push.Attempts-1, nil
		fs[i] = PushFinish{ID: n.ID, ClaimedAttempts: n.Push.Attempts, Push: p}
	}
	if _, err := s.store.FinishPushes(ctx, fs); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// backoff is the wait after the attempt-th failed attempt: RetryBase
// doubled per attempt up to RetryMax, with "equal jitter" (half fixed,
// half random), and never less than what the push service asked for.
func (s *Service) backoff(attempt int, retryAfter time.Duration) time.Duration {
	d := s.cfg.RetryBase
	for i := 1; i < attempt && d < s.cfg.RetryMax; i++ {
		d *= 2
	}
	d = min(d, s.cfg.RetryMax)
	if d > 1 {
		d = d/2 + rand.N(d/2+1)
	}
	return max(d, retryAfter)
}

// message builds the push of n to device d.
func (s *Service) message(n *Notification, p *Preferences, d *Device) Message {
	t := Render(n, p.language(d))
	return Message{
		Token: d.Token, Platform: d.Platform, Title: t.Title, Body: t.Body,
		Data: map[string]string{
			"kind": string(n.Kind), "notificationId": n.ID, "subjectId": n.SubjectID, "link": Link(n),
		},
		CollapseKey: string(n.Kind) + ":" + n.SubjectID,
		Urgent:      n.Kind != DueSoon && n.Kind != SavedSearch && n.Kind != LibraryNews,
	}
}

// errString describes err for Push.Error.
func errString(err error) string {
	if err == nil {
		return "unknown error"
	}
	return err.Error()
}

// firstErr returns the error of the first result with outcome o.
func firstErr(rs []Result, o Outcome) error {
	for _, r := range rs {
		if r.Outcome == o && r.Err != nil {
			return r.Err
		}
	}
	return nil
}
