package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	coderws "github.com/coder/websocket"
)

func TestGraphiQL(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/", "/graphiql"} {
		res := f.do(t, httptest.NewRequest(http.MethodGet, path, nil))
		if res.status != 200 || res.header.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Fatalf("%s: %d %q", path, res.status, res.header.Get("Content-Type"))
		}
		html := string(res.body)
		if regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}`).MatchString(html) {
			t.Errorf("%s refers to an external URL", path)
		}
		csp := res.header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-eval") ||
			strings.Contains(csp, "script-src 'self' 'unsafe-inline'") {
			t.Errorf("GraphiQL CSP %q", csp)
		}
		if strings.Contains(html, "<script>") {
			t.Errorf("inline script in the page (the CSP forbids it)")
		}

		// Every asset the page names is served, with its type.
		refs := regexp.MustCompile(`(?:src|href)="(/[^"]+)"`).FindAllStringSubmatch(html, -1)
		if len(refs) != 5 {
			t.Fatalf("page refers to %d assets: %v", len(refs), refs)
		}
		for _, ref := range refs {
			res := f.do(t, httptest.NewRequest(http.MethodGet, ref[1], nil))
			mt, _, _ := mime.ParseMediaType(res.header.Get("Content-Type"))
			want := map[bool]string{true: "text/javascript", false: "text/css"}[strings.HasSuffix(ref[1], ".js")]
			if res.status != 200 || mt != want || len(res.body) < 100 {
				t.Errorf("%s: %d %q %d bytes", ref[1], res.status, mt, len(res.body))
			}
			if res.header.Get("ETag") == "" || !strings.Contains(res.header.Get("Cache-Control"), "max-age") {
				t.Errorf("%s: no caching headers", ref[1])
			}
		}
	}
	for _, lic := range []string{"LICENSE.graphiql", "LICENSE.react", "LICENSE.react-dom"} {
		res := f.do(t, httptest.NewRequest(http.MethodGet, "/graphiql/assets/"+lic, nil))
		if res.status != 200 || !strings.Contains(string(res.body), "MIT License") {
			t.Errorf("%s: %d", lic, res.status)
		}
	}
	setup := f.do(t, httptest.NewRequest(http.MethodGet, "/graphiql/assets/setup.js", nil))
	for _, want := range []string{"GraphiQL.createFetcher", "subscriptionUrl", "Authorization"} {
		if !strings.Contains(string(setup.body), want) {
			t.Errorf("setup.js lacks %s", want)
		}
	}

	// Conditional request.
	req := httptest.NewRequest(http.MethodGet, "/graphiql/assets/react.production.min.js", nil)
	etag := f.do(t, req).header.Get("ETag")
	req = httptest.NewRequest(http.MethodGet, "/graphiql/assets/react.production.min.js", nil)
	req.Header.Set("If-None-Match", etag)
	if res := f.do(t, req); res.status != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", res.status)
	}
	if res := f.do(t, httptest.NewRequest(http.MethodGet, "/graphiql/assets/nope.js", nil)); res.status != 404 {
		t.Errorf("unknown asset: %d", res.status)
	}

	off := newFixture(t, func(o *Options) { o.DisableGraphiQL = true })
	if res := off.do(t, httptest.NewRequest(http.MethodGet, "/", nil)); res.status != 404 {
		t.Errorf("DisableGraphiQL: %d", res.status)
	}
}

// TestListenAndServe runs the real server on a free port: HTTP, a
// graphql-transport-ws subscription with authentication, and the graceful
// shutdown that ends it.
func TestListenAndServe(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.WebsocketKeepAlive = time.Hour })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- f.srv.ListenAndServe(ctx, "127.0.0.1:0") }()
	select {
	case <-f.srv.Listening():
	case err := <-done:
		t.Fatal(err)
	case <-time.After(5 * time.Second):
		t.Fatal("not listening")
	}
	base := "http://" + f.srv.Addr().String()

	resp, err := http.Post(base+"/graphql", "application/json", strings.NewReader(`{"query":"{ hello }"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "hello world") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}

	wsURL := "ws://" + f.srv.Addr().String() + "/graphql"
	dial := func(initPayload map[string]any) *coderws.Conn {
		t.Helper()
		dctx, dcancel := context.WithTimeout(ctx, 5*time.Second)
		defer dcancel()
		c, _, err := coderws.Dial(dctx, wsURL, &coderws.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
		if err != nil {
			t.Fatal(err)
		}
		writeWS(t, c, map[string]any{"type": "connection_init", "payload": initPayload})
		return c
	}

	// Refused token: closed with 4403.
	bad := dial(map[string]any{"authToken": "forged"})
	for {
		var m map[string]any
		if err := readWS(bad, &m); err != nil {
			if coderws.CloseStatus(err) != 4403 {
				t.Fatalf("refused token: closed with %v", err)
			}
			break
		}
		if m["type"] == "connection_ack" {
			t.Fatal("refused token acknowledged")
		}
	}

	// Accepted token ("Authorization": "Bearer …" works as well as authToken).
	c := dial(map[string]any{"Authorization": "Bearer good"})
	defer c.CloseNow()
	expectWS(t, c, "connection_ack")
	writeWS(t, c, map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": "subscription { tick }"}})
	m := expectWS(t, c, "next")
	if !strings.Contains(mustJSON(m["payload"]), "tick for reader-1") {
		t.Fatalf("subscription event %v", m)
	}

	// A second subscription stays open until shutdown.
	writeWS(t, c, map[string]any{"id": "2", "type": "subscribe", "payload": map[string]any{"query": "{ slow }"}})

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("ListenAndServe: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no graceful shutdown")
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("still serving after shutdown")
	}
}

func writeWS(t *testing.T, c *coderws.Conn, v any) {
	t.Helper()
	b, _ := json.Marshal(v)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Write(ctx, coderws.MessageText, b); err != nil {
		t.Fatal(err)
	}
}

func readWS(c *coderws.Conn, v any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, b, err := c.Read(ctx)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// expectWS reads messages until one of type typ, skipping pings.
func expectWS(t *testing.T, c *coderws.Conn, typ string) map[string]any {
	t.Helper()
	for range 10 {
		var m map[string]any
		if err := readWS(c, &m); err != nil {
			t.Fatalf("waiting for %s: %v", typ, err)
		}
		if m["type"] == typ {
			return m
		}
		if m["type"] == "error" {
			t.Fatalf("waiting for %s: %v", typ, m)
		}
	}
	t.Fatalf("no %s", typ)
	return nil
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(errors.Join(err))
	}
	return string(b)
}
