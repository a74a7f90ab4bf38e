package loadgen

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// NewTransport returns a keep-alive transport for up to conns concurrent
// connections to one host. It asks for gzip as the apps do but leaves the
// bodies as they came (Raw gives the bytes on the wire; Post decompresses).
func NewTransport(conns int) *http.Transport {
	return &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
}

// GraphQL posts GraphQL requests to one endpoint.
type GraphQL struct {
	URL  string
	HTTP *http.Client
	// Language is sent as Accept-Language when set.
	Language string
}

// Request is a GraphQL request body.
type Request struct {
	Query     string         `json:"query"`
	Variables map[string]any `json:"variables,omitempty"`
}

// Body encodes r as a request body.
func (r Request) Body() []byte {
	b, err := json.Marshal(r)
	if err != nil {
		panic(fmt.Sprintf("loadgen: encoding a GraphQL request: %v", err)) // only plain values go in
	}
	return b
}

// Error is one GraphQL error of an answer.
type Error struct {
	Message    string `json:"message"`
	Extensions struct {
		Code string `json:"code"`
	} `json:"extensions"`
}

// Response is a decoded GraphQL answer.
type Response struct {
	Status int
	Data   json.RawMessage `json:"data"`
	Errors []Error         `json:"errors"`
}

// Code returns the first error's code ("" when there is no error; the
// message when it has no code).
func (r *Response) Code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	if c := r.Errors[0].Extensions.Code; c != "" {
		return c
	}
	return r.Errors[0].Message
}

// Err returns nil for an answer without errors, else an error naming
// the status and the first error.
func (r *Response) Err() error {
	if len(r.Errors) == 0 && r.Status == http.StatusOK {
		return nil
	}
	msg := ""
	if len(r.Errors) > 0 {
		msg = r.Errors[0].Message
	}
	return fmt.Errorf("HTTP %d, %s: %s", r.Status, r.Code(), msg)
}

// RawResponse is an answer as it came over the wire.
type RawResponse struct {
	Status int
	Header http.Header
	// Body is the body as sent (compressed when Header says so).
	Body []byte
}

// Raw posts body with the bearer token (none when empty) and returns the
// answer undecoded, and the time from sending to the last byte read.
func (g *GraphQL) Raw(ctx context.Context, token string, body []byte) (*RawResponse, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.URL, bytes.NewReader(body))
	if err != nil {
		return nil, 0, err
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("Accept", "application/graphql-response+json, application/json")
	h.Set("Accept-Encoding", "gzip")
	if g.Language != "" {
		h.Set("Accept-Language", g.Language)
	}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	start := time.Now()
	resp, err := g.HTTP.Do(req)
	if err != nil {
		return nil, time.Since(start), err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	took := time.Since(start)
	if err != nil {
		return nil, took, err
	}
	return &RawResponse{Status: resp.StatusCode, Header: resp.Header, Body: b}, took, nil
}

// Post posts body and decodes the GraphQL answer. The latency covers the
// exchange, not the decoding. A transport error or an answer that is not
// GraphQL is an error; GraphQL errors are in the Response.
func (g *GraphQL) Post(ctx context.Context, token string, body []byte) (*Response, time.Duration, error) {
	raw, took, err := g.Raw(ctx, token, body)
	if err != nil {
		return nil, took, err
	}
	res, err := Decode(raw)
	return res, took, err
}

var gzipReaders sync.Pool

// Decode decompresses (gzip) and decodes a raw GraphQL answer.
func Decode(raw *RawResponse) (*Response, error) {
	body := raw.Body
	if raw.Header.Get("Content-Encoding") == "gzip" {
		var err error
		if body, err = gunzip(body); err != nil {
			return nil, fmt.Errorf("HTTP %d: gzip: %w", raw.Status, err)
		}
	}
	res := &Response{Status: raw.Status}
	if err := json.Unmarshal(body, res); err != nil {
		return nil, fmt.Errorf("HTTP %d: not a GraphQL answer (%w): %.200s", raw.Status, err, body)
	}
	return res, nil
}

func gunzip(b []byte) ([]byte, error) {
	zr, _ := gzipReaders.Get().(*gzip.Reader)
	var err error
	if zr == nil {
		zr, err = gzip.NewReader(bytes.NewReader(b))
	} else {
		err = zr.Reset(bytes.NewReader(b))
	}
	if err != nil {
		return nil, err
	}
	defer gzipReaders.Put(zr)
	return io.ReadAll(zr)
}
