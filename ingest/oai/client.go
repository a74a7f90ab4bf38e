package oai

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client talks OAI-PMH 2.0 to one repository.
type Client struct {
	// BaseURL is the repository's base URL.
	BaseURL string
	// HTTP is the client used; http.DefaultClient when nil. Set its Timeout.
	HTTP *http.Client
	// UserAgent is sent with every request.
	UserAgent string
	// MaxRetries is how many times a request is retried after a network
	// error, a 5xx or a 429 (default 5; negative for none).
	MaxRetries int
	// MinBackoff and MaxBackoff bound the exponential backoff (defaults 1 s
	// and 2 min); each wait is drawn uniformly from [d/2, d] (jitter). A
	// Retry-After header is honoured up to MaxBackoff.
	MinBackoff, MaxBackoff time.Duration
	// MaxResponseBytes bounds one response body (default 64 MiB).
	MaxResponseBytes int64
	// Sleep waits between retries; a test replaces it. It must return early
	// with ctx.Err() when ctx ends.
	Sleep func(ctx context.Context, d time.Duration) error
}

func (c *Client) maxRetries() int {
	switch {
	case c.MaxRetries < 0:
		return 0
	case c.MaxRetries == 0:
		return 5
	}
	return c.MaxRetries
}

func (c *Client) backoff(attempt int) time.Duration {
	lo, hi := c.MinBackoff, c.MaxBackoff
	if lo <= 0 {
		lo = time.Second
	}
	if hi <= 0 {
		hi = 2 * time.Minute
	}
	d := lo
	for i := 0; i < attempt && d < hi; i++ {
		d *= 2
	}
	if d > hi {
		d = hi
	}
	return d/2 + rand.N(d/2+1)
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// StatusError is an HTTP response that is not 200 OK.
type StatusError struct {
	StatusCode int
	URL        string
}

// Error implements error.
func (e *StatusError) Error() string {
	return fmt.Sprintf("OAI-PMH %s: HTTP %d %s", e.URL, e.StatusCode, http.StatusText(e.StatusCode))
}

// retryAfter parses a Retry-After header: seconds or an HTTP date.
func retryAfter(h string, now time.Time) (time.Duration, bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(h); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(h); err == nil {
		if d := t.Sub(now); d > 0 {
			return d, true
		}
		return 0, true
	}
	return 0, false
}

// do sends one verb with its arguments and returns the decoded response,
// retrying transient failures. OAI error responses come back as *Error.
func (c *Client) do(ctx context.Context, args url.Values) (*response, error) {
	u, err := url.Parse(c.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("OAI-PMH base URL: %w", err)
	}
	q := u.Query()
	for k, v := range args {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	target := u.String()
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	limit := c.MaxResponseBytes
	if limit <= 0 {
		limit = 64 << 20
	}
	var lastErr error
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			wait := c.backoff(attempt - 1)
			var se *retryAfterError
			if errors.As(lastErr, &se) {
				wait = min(se.wait, c.maxBackoff())
			}
			if err := c.sleep(ctx, wait); err != nil {
				return nil, fmt.Errorf("%w (after %v)", err, lastErr)
			}
		}
		body, err := c.get(ctx, hc, target, limit)
		if err == nil {
			return decode(body)
		}
		if ctx.Err() != nil || !retryable(err) || attempt >= c.maxRetries() {
			if attempt > 0 {
				return nil, fmt.Errorf("%w (gave up after %d attempts)", err, attempt+1)
			}
			return nil, err
		}
		lastErr = err
	}
}

func (c *Client) maxBackoff() time.Duration {
	if c.MaxBackoff <= 0 {
		return 2 * time.Minute
	}
	return c.MaxBackoff
}

// retryAfterError carries a server-requested wait with its status error.
type retryAfterError struct {
	*StatusError
	wait time.Duration
}

// Unwrap returns the status error.
func (e *retryAfterError) Unwrap() error { return e.StatusError }

func retryable(err error) bool {
	var se *StatusError
	if errors.As(err, &se) {
		return se.StatusCode >= 500 || se.StatusCode == http.StatusTooManyRequests || se.StatusCode == http.StatusRequestTimeout
	}
	var tooBig *tooLargeError
	if errors.As(err, &tooBig) {
		return false
	}
	return true // network errors, truncated bodies
}

type tooLargeError struct{ limit int64 }

// Error implements error.
func (e *tooLargeError) Error() string {
	return fmt.Sprintf("OAI-PMH response larger than %d bytes", e.limit)
}

func (c *Client) get(ctx context.Context, hc *http.Client, target string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		se := &StatusError{StatusCode: resp.StatusCode, URL: target}
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ok &&
			(resp.StatusCode == http.StatusServiceUnavailable || resp.StatusCode == http.StatusTooManyRequests) {
			return nil, &retryAfterError{StatusError: se, wait: d}
		}
		return nil, se
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("OAI-PMH %s: reading response: %w", target, err)
	}
	if int64(len(body)) > limit {
		return nil, &tooLargeError{limit: limit}
	}
	return body, nil
}

// Identify asks the repository to describe itself.
func (c *Client) Identify(ctx context.Context) (*Identify, error) {
	resp, err := c.do(ctx, url.Values{"verb": {"Identify"}})
	if err != nil {
		return nil, fmt.Errorf("Identify: %w", err)
	}
	if resp.Identify == nil {
		return nil, errors.New("Identify: response has no Identify element")
	}
	id := resp.Identify
	id.RepositoryName = strings.TrimSpace(id.RepositoryName)
	id.BaseURL = strings.TrimSpace(id.BaseURL)
	id.Granularity = strings.TrimSpace(id.Granularity)
	id.DeletedRecord = strings.TrimSpace(id.DeletedRecord)
	id.EarliestDatestamp = strings.TrimSpace(id.EarliestDatestamp)
	return id, nil
}

// ListRecordsRequest are the arguments of ListRecords. With a
// ResumptionToken the others are not sent (the protocol forbids it).
type ListRecordsRequest struct {
	MetadataPrefix  string
	Set             string
	From, Until     string
	ResumptionToken string
}

// ListRecords fetches one page. noRecordsMatch is an empty last page, not an
// error.
func (c *Client) ListRecords(ctx context.Context, req ListRecordsRequest) (*Page, error) {
	args := url.Values{"verb": {"ListRecords"}}
	if req.ResumptionToken != "" {
		args.Set("resumptionToken", req.ResumptionToken)
	} else {
		if req.MetadataPrefix == "" {
			return nil, errors.New("ListRecords: metadataPrefix is required")
		}
		args.Set("metadataPrefix", req.MetadataPrefix)
		for k, v := range map[string]string{"set": req.Set, "from": req.From, "until": req.Until} {
			if v != "" {
				args.Set(k, v)
			}
		}
	}
	resp, err := c.do(ctx, args)
	page := &Page{}
	if resp != nil {
		page.ResponseDate, _ = ParseDatestamp(resp.ResponseDate)
	}
	if IsCode(err, CodeNoRecordsMatch) {
		return page, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ListRecords: %w", err)
	}
	if resp.ListRecords == nil {
		return nil, errors.New("ListRecords: response has no ListRecords element")
	}
	for i := range resp.ListRecords.Records {
		page.Records = append(page.Records, resp.ListRecords.Records[i].record())
	}
	if t := resp.ListRecords.Token; t != nil {
		page.ResumptionToken = strings.TrimSpace(t.Value)
		page.CompleteListSize, _ = strconv.Atoi(t.CompleteListSize)
		page.Cursor, _ = strconv.Atoi(t.Cursor)
	}
	return page, nil
}

// GetRecord fetches one record by identifier.
func (c *Client) GetRecord(ctx context.Context, identifier, metadataPrefix string) (*Record, error) {
	resp, err := c.do(ctx, url.Values{"verb": {"GetRecord"}, "identifier": {identifier}, "metadataPrefix": {metadataPrefix}})
	if err != nil {
		return nil, fmt.Errorf("GetRecord %s: %w", identifier, err)
	}
	if resp.GetRecord == nil || len(resp.GetRecord.Records) == 0 {
		return nil, fmt.Errorf("GetRecord %s: response has no record", identifier)
	}
	r := resp.GetRecord.Records[0].record()
	return &r, nil
}
