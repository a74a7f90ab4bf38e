// Package fcmtest is a fake Firebase Cloud Messaging HTTP v1 server for
// tests: the real Firebase Admin SDK is pointed at it (option.WithEndpoint,
// option.WithoutAuthentication), it records every message it is sent, and
// it answers each token with the responses a test scripts, by default a
// success. Its testdata holds error bodies captured from the live API
// (bloomberg/pushiko docs/fcm_responses.md, Apache-2.0; see the "source"
// of each file), and Body gives the documented shapes of the others.
package fcmtest

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/bacninh/thuvienso/fcm"
)

//go:embed testdata/*.json
var fixtures embed.FS

// ProjectID is the project the fake server serves.
const ProjectID = "thuvienso-test"

// Response is one scripted answer.
type Response struct {
	Status int
	// Body is sent as is; Content-Type is JSON unless it starts with "<".
	Body string
	// Header is added to the response (e.g. Retry-After).
	Header map[string]string
}

// Request is one message the server received.
type Request struct {
	// Token is the message's target.
	Token string
	// Message is the "message" object as the SDK sent it.
	Message map[string]any
	// Header is the request's headers.
	Header http.Header
	// Answer is the status the server gave.
	Answer int
}

// Server is a fake FCM server. It is safe for concurrent use.
type Server struct {
	*httptest.Server
	mu       sync.Mutex
	scripts  map[string][]Response
	requests []Request
	seq      int
	lean     bool
}

// Lean makes the server keep, of each request from now on, only the
// token, the message's "data" payload and the answer (no headers, no
// notification or platform settings): what a benchmark of a hundred
// thousand messages needs to count them without holding every message.
func (s *Server) Lean() {
	s.mu.Lock()
	s.lean = true
	s.mu.Unlock()
}

// NewServer starts a fake FCM server for the rest of the test.
func NewServer(t testing.TB) *Server {
	t.Helper()
	s := &Server{scripts: map[string][]Response{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// Sender returns an fcm.Sender that talks to s.
func (s *Server) Sender(t testing.TB) *fcm.Sender {
	t.Helper()
	snd, err := fcm.New(context.Background(), fcm.Config{ProjectID: ProjectID, Endpoint: s.URL, WithoutAuthentication: true}, nil)
	if err != nil {
		t.Fatalf("fcm.New: %v", err)
	}
	return snd
}

// Script makes the server answer the next messages to token with rs, one
// each, in order; once they are used up it answers with success.
func (s *Server) Script(token string, rs ...Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scripts[token] = append(s.scripts[token], rs...)
}

// Requests returns every message received so far, in arrival order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Delivered returns the tokens that got a successful answer, in order.
func (s *Server) Delivered() []string {
	var out []string
	for _, r := range s.Requests() {
		if r.Answer == http.StatusOK {
			out = append(out, r.Token)
		}
	}
	return out
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	want := "/projects/" + ProjectID + "/messages:send"
	if r.Method != http.MethodPost || r.URL.Path != want {
		http.Error(w, "unexpected "+r.Method+" "+r.URL.Path, http.StatusNotFound)
		return
	}
	var req struct {
		Message map[string]any `json:"message"`
	}
	b, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(b, &req); err != nil {
		http.Error(w, "bad JSON: "+err.Error(), http.StatusBadRequest)
		return
	}
	token, _ := req.Message["token"].(string)

	s.mu.Lock()
	resp := Response{Status: http.StatusOK}
	if q := s.scripts[token]; len(q) > 0 {
		resp, s.scripts[token] = q[0], q[1:]
	}
	if resp.Status == http.StatusOK && resp.Body == "" {
		s.seq++
		resp.Body = fmt.Sprintf(`{"name":"projects/%s/messages/%d"}`, ProjectID, s.seq)
	}
	rec := Request{Token: token, Message: req.Message, Header: r.Header.Clone(), Answer: resp.Status}
	if s.lean {
		rec.Message, rec.Header = map[string]any{"data": req.Message["data"]}, nil
	}
	s.requests = append(s.requests, rec)
	s.mu.Unlock()

	for k, v := range resp.Header {
		w.Header().Set(k, v)
	}
	if strings.HasPrefix(resp.Body, "<") {
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	} else {
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	}
	w.WriteHeader(resp.Status)
	_, _ = io.WriteString(w, resp.Body)
}

// Fixture returns a response from testdata: a file with "http_status" and
// "body", as captured from the live API.
func Fixture(t testing.TB, name string) Response {
	t.Helper()
	b, err := fixtures.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatalf("fixture %s: %v", name, err)
	}
	var f struct {
		Status int             `json:"http_status"`
		Body   json.RawMessage `json:"body"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("fixture %s: %v", name, err)
	}
	return Response{Status: f.Status, Body: string(f.Body)}
}

// Body is Google's error envelope with an FcmError detail (errorCode;
// none when empty), as the FCM v1 API and the Admin SDK's tests shape it.
func Body(status int, canonical, message, errorCode string) string {
	details := "[]"
	if errorCode != "" {
		details = `[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"` + errorCode + `"}]`
	}
	return fmt.Sprintf(`{"error":{"code":%d,"message":%q,"status":%q,"details":%s}}`, status, message, canonical, details)
}
