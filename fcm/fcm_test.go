package fcm_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/bacninh/thuvienso/fcm"
	"github.com/bacninh/thuvienso/fcm/fcmtest"
	"github.com/bacninh/thuvienso/notifications"
)

func message(token string) notifications.Message {
	return notifications.Message{Token: token, Platform: notifications.Android, Title: "Sách điện tử sắp hết hạn mượn",
		Body:        "Lượt mượn “Truyện Kiều” kết thúc 09:26 ngày 16/03/2025.",
		Data:        map[string]string{"kind": "EBOOK_EXPIRING", "notificationId": "n-1", "subjectId": "loan-1", "link": "thuvienso://ebooks/loans/loan-1"},
		CollapseKey: "EBOOK_EXPIRING:loan-1", Urgent: true}
}

// Every FCM answer documented for the v1 API is turned into what the
// notification service does: the real SDK parses the body, and Classify
// decides by the FCM error code, not by the HTTP status or details[0].
func TestEveryFCMAnswerLeadsToTheRightAction(t *testing.T) {
	srv := fcmtest.NewServer(t)
	snd := srv.Sender(t)
	missingRecipient := `{"error":{"code":400,"message":"Recipient of the message is not set.","status":"INVALID_ARGUMENT",
		"details":[{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"message","description":"Recipient of the message is not set."}]},
		{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"INVALID_ARGUMENT"}]}}`
	invalidTokenMessage := `{"error":{"code":400,"message":"The registration token is not a valid FCM registration token","status":"INVALID_ARGUMENT",
		"details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"INVALID_ARGUMENT"}]}}`
	badData := `{"error":{"code":400,"message":"Invalid value at 'message.data[0].value' (TYPE_STRING), 12","status":"INVALID_ARGUMENT",
		"details":[{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"message.data[0].value","description":"Invalid value"}]}]}}`
	tests := []struct {
		name       string
		resp       fcmtest.Response
		want       notifications.Outcome
		retryAfter time.Duration
	}{
		{"success", fcmtest.Fixture(t, "200-ok.json"), notifications.Delivered, 0},
		{"unregistered token", fcmtest.Fixture(t, "404-unregistered.json"), notifications.DropToken, 0},
		{"unregistered token served as 500 (as the SDK's own tests do)",
			fcmtest.Response{Status: 500, Body: fcmtest.Body(404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED")}, notifications.DropToken, 0},
		{"invalid registration token (BadRequest on message.token)", fcmtest.Fixture(t, "400-invalid-registration-token.json"), notifications.DropToken, 0},
		{"invalid registration token (said in the message)", fcmtest.Response{Status: 400, Body: invalidTokenMessage}, notifications.DropToken, 0},
		{"missing recipient (FcmError second among details)", fcmtest.Response{Status: 400, Body: missingRecipient}, notifications.Rejected, 0},
		{"payload too large, no details", fcmtest.Response{Status: 400, Body: `{"error":{"code":400,"message":"Request contains an invalid argument.","status":"INVALID_ARGUMENT"}}`}, notifications.Rejected, 0},
		{"data value not a string, BadRequest only", fcmtest.Response{Status: 400, Body: badData}, notifications.Rejected, 0},
		{"sender id mismatch", fcmtest.Response{Status: 403, Body: fcmtest.Body(403, "PERMISSION_DENIED", "SenderId mismatch", "SENDER_ID_MISMATCH")}, notifications.Misconfigured, 0},
		{"third-party auth error (APNs, Web Push)", fcmtest.Response{Status: 401, Body: fcmtest.Body(401, "UNAUTHENTICATED", "Auth error from APNS or Web Push Service", "THIRD_PARTY_AUTH_ERROR")}, notifications.Misconfigured, 0},
		{"our credentials refused", fcmtest.Response{Status: 401, Body: `{"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}}`}, notifications.Misconfigured, 0},
		{"quota exceeded: at least a minute", fcmtest.Response{Status: 429, Body: fcmtest.Body(429, "RESOURCE_EXHAUSTED", "Quota exceeded.", "QUOTA_EXCEEDED")}, notifications.Retry, time.Minute},
		{"quota exceeded with Retry-After", fcmtest.Response{Status: 429, Header: map[string]string{"Retry-After": "90"},
			Body: fcmtest.Body(429, "RESOURCE_EXHAUSTED", "Quota exceeded.", "QUOTA_EXCEEDED")}, notifications.Retry, 90 * time.Second},
		{"internal error", fcmtest.Response{Status: 500, Body: fcmtest.Body(500, "INTERNAL", "Internal error encountered.", "INTERNAL")}, notifications.Retry, 0},
		{"unavailable with a Retry-After past the SDK's budget", fcmtest.Response{Status: 503, Header: map[string]string{"Retry-After": "300"},
			Body: fcmtest.Fixture(t, "503-unavailable.json").Body}, notifications.Retry, 300 * time.Second},
		{"HTML 502 from the front end", fcmtest.Response{Status: 502, Body: "<!DOCTYPE html><html><title>Error 502 (Server Error)</title><p>Please try again in 30 seconds.</p></html>"}, notifications.Retry, 0},
		{"empty object", fcmtest.Response{Status: 500, Body: `{}`}, notifications.Retry, 0},
		{"not JSON", fcmtest.Response{Status: 500, Body: `not json`}, notifications.Retry, 0},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			token := fmt.Sprintf("token-%02d", i)
			srv.Script(token, tc.resp)
			rs := snd.Send(t.Context(), []notifications.Message{message(token)})
			if len(rs) != 1 {
				t.Fatalf("%d results, want 1", len(rs))
			}
			if rs[0].Outcome != tc.want || rs[0].RetryAfter != tc.retryAfter {
				t.Fatalf("outcome %v after %v (err %v), want %v after %v", rs[0].Outcome, rs[0].RetryAfter, rs[0].Err, tc.want, tc.retryAfter)
			}
			if tc.want == notifications.Delivered && rs[0].MessageID == "" {
				t.Error("a delivered message has no message ID")
			}
		})
	}
}

// One bad token does not fail the others of a batch, results keep the
// order of the messages, and each message carries the platform settings.
func TestABatchReachesEveryDeviceAndKeepsOrder(t *testing.T) {
	srv := fcmtest.NewServer(t)
	snd := srv.Sender(t)
	srv.Script("gone", fcmtest.Fixture(t, "404-unregistered.json"))
	msgs := []notifications.Message{message("a"), message("gone"), message("b")}
	rs := snd.Send(t.Context(), msgs)
	want := []notifications.Outcome{notifications.Delivered, notifications.DropToken, notifications.Delivered}
	for i := range want {
		if rs[i].Outcome != want[i] {
			t.Errorf("result %d: %v, want %v", i, rs[i].Outcome, want[i])
		}
	}
	reqs := srv.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	m := reqs[0].Message
	notif, _ := m["notification"].(map[string]any)
	android, _ := m["android"].(map[string]any)
	apns, _ := m["apns"].(map[string]any)
	data, _ := m["data"].(map[string]any)
	headers, _ := apns["headers"].(map[string]any)
	switch {
	case notif["title"] != msgs[0].Title || notif["body"] != msgs[0].Body:
		t.Errorf("notification %v, want the message's title and body", notif)
	case android["collapse_key"] != "EBOOK_EXPIRING:loan-1" || android["priority"] != "high" || android["ttl"] != "259200s":
		t.Errorf("android %v, want the collapse key, high priority and a 3-day TTL", android)
	case headers["apns-priority"] != "10" || headers["apns-collapse-id"] != "EBOOK_EXPIRING:loan-1":
		t.Errorf("apns headers %v, want priority 10 and the collapse id", headers)
	case data["link"] != "thuvienso://ebooks/loans/loan-1" || data["kind"] != "EBOOK_EXPIRING":
		t.Errorf("data %v, want kind and link", data)
	}
	if reqs[0].Header.Get("X-Goog-Api-Format-Version") != "2" {
		t.Errorf("the SDK did not send X-GOOG-API-FORMAT-VERSION: 2 (%v)", reqs[0].Header)
	}
}

// A 503 without Retry-After is retried by the SDK itself, at once.
func TestA503IsRetried(t *testing.T) {
	srv := fcmtest.NewServer(t)
	snd := srv.Sender(t)
	srv.Script("t", fcmtest.Fixture(t, "503-unavailable.json"))
	rs := snd.Send(t.Context(), []notifications.Message{message("t")})
	if rs[0].Outcome != notifications.Delivered {
		t.Fatalf("outcome %v (%v), want delivered after a retry", rs[0].Outcome, rs[0].Err)
	}
	if got := len(srv.Requests()); got != 2 {
		t.Fatalf("%d requests, want 2 (the 503, then the retry)", got)
	}
}

// More than 500 messages go out in several SendEach calls, all of them.
func TestMoreThan500MessagesAreAllSent(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 501 requests")
	}
	srv := fcmtest.NewServer(t)
	snd := srv.Sender(t)
	msgs := make([]notifications.Message, fcm.MaxBatch+1)
	for i := range msgs {
		msgs[i] = message(fmt.Sprintf("t-%03d", i))
	}
	rs := snd.Send(t.Context(), msgs)
	if len(rs) != len(msgs) {
		t.Fatalf("%d results, want %d", len(rs), len(msgs))
	}
	for i, r := range rs {
		if r.Outcome != notifications.Delivered {
			t.Fatalf("message %d: %v (%v)", i, r.Outcome, r.Err)
		}
	}
	if got := len(srv.Delivered()); got != len(msgs) {
		t.Fatalf("the server got %d messages, want %d", got, len(msgs))
	}
}

// A cancelled send is retried later, not dropped.
func TestACancelledSendIsRetried(t *testing.T) {
	srv := fcmtest.NewServer(t)
	snd := srv.Sender(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	rs := snd.Send(ctx, []notifications.Message{message("t")})
	if rs[0].Outcome != notifications.Retry {
		t.Fatalf("outcome %v, want retry", rs[0].Outcome)
	}
}
