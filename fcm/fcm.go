// Package fcm owns push delivery through Firebase Cloud Messaging: a
// notifications.Sender on the Firebase Admin SDK (HTTP v1 API, SendEach in
// batches of at most 500), the Android, APNs and Web Push settings of a
// message, and the classification of FCM's errors into what the
// notification service does about them (Classify).
//
// Credentials come from the usual Google places: a service-account file
// (Config.CredentialsFile, else GOOGLE_APPLICATION_CREDENTIALS), or the
// metadata server when running on Google Cloud. Without any, the server
// uses notifications.LogSender instead (see package app).
package fcm

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	firebase "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/errorutils"
	"firebase.google.com/go/v4/messaging"
	"google.golang.org/api/option"

	"github.com/bacninh/thuvienso/notifications"
)

// MaxBatch is the most messages one SendEach call takes.
const MaxBatch = 500

// QuotaBackoff is the least wait after QUOTA_EXCEEDED (FCM's advice for
// per-device and per-topic rates is about a minute).
const QuotaBackoff = time.Minute

// TTL is how long FCM keeps a push for a device that is offline.
const TTL = 3 * 24 * time.Hour

// Config says how to reach FCM.
type Config struct {
	// ProjectID is the Firebase project; empty: the credentials' project
	// (or GOOGLE_CLOUD_PROJECT).
	ProjectID string
	// CredentialsFile is a service-account JSON file; empty: Application
	// Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, the metadata
	// server).
	CredentialsFile string
	// Endpoint replaces FCM's API root (https://fcm.googleapis.com/v1),
	// for an emulator or a test server.
	Endpoint string
	// WithoutAuthentication sends no credentials (an emulator or a test
	// server only).
	WithoutAuthentication bool
}

// Sender sends pushes through FCM. It is safe for concurrent use.
type Sender struct {
	client *messaging.Client
	log    *slog.Logger
}

var _ notifications.Sender = (*Sender)(nil)

// New connects to FCM as cfg says; opts are passed to the SDK after the
// ones cfg implies.
func New(ctx context.Context, cfg Config, log *slog.Logger, opts ...option.ClientOption) (*Sender, error) {
	var o []option.ClientOption
	if cfg.CredentialsFile != "" {
		o = append(o, option.WithAuthCredentialsFile(option.ServiceAccount, cfg.CredentialsFile))
	}
	if cfg.Endpoint != "" {
		o = append(o, option.WithEndpoint(cfg.Endpoint))
	}
	if cfg.WithoutAuthentication {
		o = append(o, option.WithoutAuthentication())
	}
	o = append(o, opts...)
	app, err := firebase.NewApp(ctx, &firebase.Config{ProjectID: cfg.ProjectID}, o...)
	if err != nil {
		return nil, fmt.Errorf("fcm: %w", err)
	}
	client, err := app.Messaging(ctx)
	if err != nil {
		return nil, fmt.Errorf("fcm: %w", err)
	}
	if log == nil {
		log = slog.Default()
	}
	return &Sender{client: client, log: log}, nil
}

// Send implements notifications.Sender: the messages go out in SendEach
// calls of at most MaxBatch, and each result is classified. One bad
// message never fails the others: should the SDK refuse a whole batch, its
// messages are sent one by one.
func (s *Sender) Send(ctx context.Context, msgs []notifications.Message) []notifications.Result {
	out := make([]notifications.Result, 0, len(msgs))
	for start := 0; start < len(msgs); start += MaxBatch {
		batch := msgs[start:min(start+MaxBatch, len(msgs))]
		fms := make([]*messaging.Message, len(batch))
		for i, m := range batch {
			fms[i] = Build(m)
		}
		resp, err := s.client.SendEach(ctx, fms)
		if err != nil {
			if ctx.Err() != nil {
				for range batch {
					out = append(out, notifications.Result{Outcome: notifications.Retry, Err: ctx.Err()})
				}
				continue
			}
			s.log.WarnContext(ctx, "fcm: a batch was refused; sending its messages one by one", "err", err)
			for _, m := range fms {
				id, err := s.client.Send(ctx, m)
				out = append(out, result(id, err))
			}
			continue
		}
		for _, r := range resp.Responses {
			out = append(out, result(r.MessageID, r.Error))
		}
	}
	return out
}

// result turns one SDK outcome into a notifications.Result.
func result(id string, err error) notifications.Result {
	if err == nil {
		return notifications.Result{Outcome: notifications.Delivered, MessageID: id}
	}
	o, after := Classify(err)
	return notifications.Result{Outcome: o, RetryAfter: after, Err: err}
}

// Build returns the FCM message of m: the notification (title, body) and
// the data payload for every platform, with a collapse key, priority,
// sound and time to live on Android, and the same on APNs (collapse id,
// priority, sound, thread) and Web Push (urgency).
func Build(m notifications.Message) *messaging.Message {
	ttl := TTL
	priority, apnsPriority, urgency := "normal", "5", "normal"
	if m.Urgent {
		priority, apnsPriority, urgency = "high", "10", "high"
	}
	collapse := m.CollapseKey
	if len(collapse) > 64 { // apns-collapse-id is at most 64 bytes
		collapse = collapse[:64]
	}
	apnsHeaders := map[string]string{"apns-priority": apnsPriority}
	if collapse != "" {
		apnsHeaders["apns-collapse-id"] = collapse
	}
	return &messaging.Message{
		Token:        m.Token,
		Notification: &messaging.Notification{Title: m.Title, Body: m.Body},
		Data:         m.Data,
		Android: &messaging.AndroidConfig{
			CollapseKey: collapse, Priority: priority, TTL: &ttl,
			Notification: &messaging.AndroidNotification{Sound: "default", Tag: collapse},
		},
		APNS: &messaging.APNSConfig{
			Headers: apnsHeaders,
			Payload: &messaging.APNSPayload{Aps: &messaging.Aps{Sound: "default", ThreadID: m.Data["kind"]}},
		},
		Webpush: &messaging.WebpushConfig{Headers: map[string]string{"Urgency": urgency, "TTL": strconv.Itoa(int(ttl.Seconds()))}},
	}
}

// Classify says what to do about an FCM error, and the least wait before
// a retry (from Retry-After, or a minute for QUOTA_EXCEEDED):
//
//   - UNREGISTERED, and INVALID_ARGUMENT about the token: DropToken.
//   - UNAVAILABLE, INTERNAL, QUOTA_EXCEEDED, and failures that carry no
//     FCM code but are transient (HTTP 5xx, an HTML 502 page, a body that
//     is not JSON, timeouts, network errors): Retry. The SDK has already
//     retried a 503 up to four times unless Retry-After exceeded two
//     minutes.
//   - SENDER_ID_MISMATCH, THIRD_PARTY_AUTH_ERROR, and 401/403 without an
//     FCM code (our credentials): Misconfigured; the token is kept.
//   - Any other INVALID_ARGUMENT (payload too large, bad data, a missing
//     recipient) and other 4xx: Rejected.
//
// It looks at the FCM error code first (the SDK finds it among the
// details, in any order), and at the canonical status only when there is
// none: never at details[0] or the HTTP status alone.
func Classify(err error) (notifications.Outcome, time.Duration) {
	after := retryAfter(err)
	switch {
	case messaging.IsUnregistered(err):
		return notifications.DropToken, 0
	case messaging.IsSenderIDMismatch(err), messaging.IsThirdPartyAuthError(err):
		return notifications.Misconfigured, 0
	case messaging.IsQuotaExceeded(err):
		return notifications.Retry, max(after, QuotaBackoff)
	case messaging.IsUnavailable(err), messaging.IsInternal(err):
		return notifications.Retry, after
	case messaging.IsInvalidArgument(err), errorutils.IsInvalidArgument(err):
		if aboutToken(err) {
			return notifications.DropToken, 0
		}
		return notifications.Rejected, 0
	case errorutils.IsResourceExhausted(err):
		return notifications.Retry, max(after, QuotaBackoff)
	case errorutils.IsUnavailable(err), errorutils.IsInternal(err), errorutils.IsUnknown(err),
		errorutils.IsDeadlineExceeded(err), errorutils.IsAborted(err), errorutils.IsCancelled(err):
		return notifications.Retry, after
	case errorutils.IsUnauthenticated(err), errorutils.IsPermissionDenied(err):
		return notifications.Misconfigured, 0
	case errorutils.IsNotFound(err), errorutils.IsFailedPrecondition(err), errorutils.IsOutOfRange(err),
		errorutils.IsConflict(err), errorutils.IsAlreadyExists(err):
		return notifications.Rejected, 0
	}
	// Not an error of the service (a network failure, a cancelled
	// context): try again.
	return notifications.Retry, after
}

// retryAfter reads the Retry-After header (seconds or an HTTP date) of
// the response behind err; 0 when there is none.
func retryAfter(err error) time.Duration {
	resp := errorutils.HTTPResponse(err)
	if resp == nil {
		return 0
	}
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}

// errorBody is the part of Google's error envelope that says which field
// was wrong.
type errorBody struct {
	Error struct {
		Message string `json:"message"`
		Details []struct {
			Type            string `json:"@type"`
			FieldViolations []struct {
				Field       string `json:"field"`
				Description string `json:"description"`
			} `json:"fieldViolations"`
		} `json:"details"`
	} `json:"error"`
}

// aboutToken reports whether an INVALID_ARGUMENT is about the registration
// token (so the token is unusable), from the BadRequest detail's field
// "message.token" or the message naming a registration token.
func aboutToken(err error) bool {
	var msg string
	if resp := errorutils.HTTPResponse(err); resp != nil && resp.Body != nil {
		var b errorBody
		if json.NewDecoder(resp.Body).Decode(&b) == nil {
			for _, d := range b.Error.Details {
				for _, v := range d.FieldViolations {
					if v.Field == "message.token" {
						return true
					}
				}
			}
			msg = b.Error.Message
		}
	}
	if msg == "" && err != nil {
		msg = err.Error()
	}
	return strings.Contains(strings.ToLower(msg), "registration token")
}
