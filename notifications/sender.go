package notifications

import (
	"context"
	"log/slog"
	"time"
)

// Message is one push to one device.
type Message struct {
	Token    string
	Platform Platform
	Title    string
	Body     string
	// Data is the payload the app reads: "kind", "notificationId",
	// "subjectId", "link". Every value is a string.
	Data map[string]string
	// CollapseKey makes a newer push about the same thing replace an older
	// one on the device.
	CollapseKey string
	// Urgent asks for immediate delivery (high priority); reminders that
	// can wait a little are not urgent.
	Urgent bool
}

// Outcome is what became of one message.
type Outcome int

// Outcomes.
const (
	// Delivered: the push service accepted it.
	Delivered Outcome = iota
	// Retry: a transient failure (unavailable, internal error, quota);
	// try again later, after Result.RetryAfter when set.
	Retry
	// DropToken: the token is unregistered or invalid; remove the device.
	DropToken
	// Rejected: this message cannot be sent (too large, malformed); do not
	// retry it, keep the token.
	Rejected
	// Misconfigured: the sender's configuration is wrong (credentials,
	// APNs or Web Push keys, another project's token); keep the token,
	// do not retry, tell the operators.
	Misconfigured
)

// String names the outcome for logs.
func (o Outcome) String() string {
	switch o {
	case Delivered:
		return "delivered"
	case Retry:
		return "retry"
	case DropToken:
		return "drop-token"
	case Rejected:
		return "rejected"
	case Misconfigured:
		return "misconfigured"
	}
	return "unknown"
}

// Result is what became of one message.
type Result struct {
	Outcome Outcome
	// MessageID is the push service's ID of a delivered message.
	MessageID string
	// RetryAfter is the least wait before a Retry (0: the caller's backoff).
	RetryAfter time.Duration
	// Err describes a failure.
	Err error
}

// Sender delivers pushes. Package fcm has the Firebase one.
type Sender interface {
	// Send sends every message and returns one result per message, in
	// the order given. It never fails as a whole: a failure that concerns
	// every message is in every result.
	Send(ctx context.Context, msgs []Message) []Result
}

// LogSender logs pushes instead of sending them: what the server uses when
// no Firebase credentials are configured, so that notifications still
// reach the inbox and development shows what would have been pushed.
type LogSender struct {
	Logger *slog.Logger
}

// Send implements Sender: every message is logged and "delivered".
func (s LogSender) Send(ctx context.Context, msgs []Message) []Result {
	log := s.Logger
	if log == nil {
		log = slog.Default()
	}
	out := make([]Result, len(msgs))
	for i, m := range msgs {
		log.InfoContext(ctx, "push (log only: no Firebase credentials)", "token", shortToken(m.Token),
			"platform", m.Platform, "title", m.Title, "body", m.Body, "kind", m.Data["kind"], "link", m.Data["link"])
		out[i] = Result{Outcome: Delivered, MessageID: "log"}
	}
	return out
}

// shortToken shows the start of a token in logs (tokens are credentials
// of a sort: whoever has one can push to the device).
func shortToken(t string) string {
	if len(t) > 12 {
		return t[:12] + "…"
	}
	return t
}
