package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/bacninh/thuvienso"
)

// The HTTP transports of /graphql. gqlgen ships POST and GET transports; we
// use our own because, in v0.17.98, gqlgen's:
//
//   - answer a body that cannot be read (e.g. over http.MaxBytesReader) with
//     status 200, and echo the whole body back in the "could not be decoded"
//     message of malformed JSON;
//   - refuse a mutation over GET with 406 instead of the 405 (with Allow:
//     POST) that GraphQL-over-HTTP requires, and without an error code;
//   - answer request errors (parse, validation) sent as application/json with
//     422, where GraphQL-over-HTTP says 200 for that media type (400 stays
//     for application/graphql-response+json);
//   - answer an unsupported method or content type with an uncoded 400.
//
// Everything else (parsing, validation, execution, extensions) is gqlgen's
// executor, reached through the graphql.GraphExecutor interface.

const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"
)

// responseMediaType picks the response media type from the Accept header, as
// GraphQL-over-HTTP asks: application/graphql-response+json when the client
// lists it before application/json, application/json otherwise (including
// no Accept header, */* and legacy clients).
func responseMediaType(r *http.Request) string {
	accept := r.Header.Get("Accept")
	best, bestQ := mediaJSON, -1.0
	for part := range strings.SplitSeq(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		if q <= 0 || q <= bestQ {
			continue
		}
		switch mt {
		case mediaGraphQLResponse:
			best, bestQ = mediaGraphQLResponse, q
		case mediaJSON, "application/*", "*/*":
			best, bestQ = mediaJSON, q
		}
	}
	return best
}

// requestErrorStatus is the status of a response without data: a request
// that could not be executed (parse, validation, limits). With
// application/json it is 200, as GraphQL-over-HTTP asks for a well-formed
// request; with application/graphql-response+json it is 429 for
// RATE_LIMITED, 403 for FORBIDDEN (an operation not on the allow-list), and
// 400 otherwise.
func requestErrorStatus(mediaType string, errs gqlerror.List) int {
	if mediaType != mediaGraphQLResponse {
		return http.StatusOK
	}
	for _, e := range errs {
		switch code, _ := e.Extensions["code"].(string); thuvienso.Code(code) {
		case thuvienso.CodeRateLimited:
			return http.StatusTooManyRequests
		case thuvienso.CodeForbidden:
			return http.StatusForbidden
		}
	}
	return http.StatusBadRequest
}

// writeResponse writes a GraphQL response with its status. A Retry-After
// header is added when an error carries extensions.retryAfter.
func writeResponse(w http.ResponseWriter, mediaType string, status int, resp *graphql.Response) {
	var b []byte
	var err error
	if resp != nil && resp.Data == nil && len(resp.Errors) > 0 {
		// A request that was not executed has no "data" entry at all
		// (GraphQL spec, "Response Format"); gqlgen's type would write null.
		b, err = json.Marshal(requestErrorResponse{Errors: resp.Errors, Extensions: resp.Extensions})
	} else {
		b, err = json.Marshal(resp)
	}
	if err != nil {
		// Cannot happen with gqlgen's types; never answer an empty 500.
		b = []byte(`{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL"}}]}`)
		status = http.StatusInternalServerError
	}
	h := w.Header()
	h.Set("Content-Type", mediaType+"; charset=utf-8")
	if resp != nil {
		for _, e := range resp.Errors {
			if ra, ok := e.Extensions["retryAfter"].(int); ok && ra > 0 {
				h.Set("Retry-After", strconv.Itoa(ra))
				break
			}
		}
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// requestErrorResponse is a response without data.
type requestErrorResponse struct {
	Errors     gqlerror.List  `json:"errors"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

func graphqlErrors(errs ...*gqlerror.Error) *graphql.Response {
	return &graphql.Response{Errors: errs}
}

// transportError builds a request-level error (body, method, media type)
// that the error presenter renders with its code in the request's language.
func transportError(code thuvienso.Code, en, vi string) *gqlerror.Error {
	return &gqlerror.Error{
		Message:    en,
		Err:        thuvienso.E(code, en, vi),
		Extensions: map[string]any{"code": string(code)},
	}
}

// sendTransportError presents err through the executor (so that response
// middlewares, e.g. metrics, see it) and writes it with status.
func sendTransportError(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, mediaType string, status int, err *gqlerror.Error) {
	resp := exec.DispatchError(r.Context(), gqlerror.List{err})
	writeResponse(w, mediaType, status, resp)
}

// execute runs one operation from params and writes its (single) response.
func execute(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, mediaType string, params *graphql.RawParams, get bool) {
	ctx := r.Context()
	opCtx, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		resp := exec.DispatchError(graphql.WithOperationContext(ctx, opCtx), errs)
		writeResponse(w, mediaType, requestErrorStatus(mediaType, resp.Errors), resp)
		return
	}
	switch op := opCtx.Operation.Operation; {
	case get && op != ast.Query:
		// GraphQL-over-HTTP: a mutation over GET is answered 405 and not run.
		w.Header().Set("Allow", http.MethodPost)
		resp := exec.DispatchError(graphql.WithOperationContext(ctx, opCtx), gqlerror.List{transportError(
			thuvienso.CodeBadUserInput,
			fmt.Sprintf("GET requests may only run queries; send this %s with POST", op),
			fmt.Sprintf("yêu cầu GET chỉ được chạy truy vấn (query); hãy gửi %s bằng POST", op),
		)})
		writeResponse(w, mediaType, http.StatusMethodNotAllowed, resp)
		return
	case op == ast.Subscription:
		resp := exec.DispatchError(graphql.WithOperationContext(ctx, opCtx), gqlerror.List{transportError(
			thuvienso.CodeBadUserInput,
			"subscriptions need a WebSocket (graphql-transport-ws) connection to /graphql",
			"subscription cần kết nối WebSocket (graphql-transport-ws) tới /graphql",
		)})
		writeResponse(w, mediaType, requestErrorStatus(mediaType, resp.Errors), resp)
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, opCtx)
	resp := responses(ctx)
	if resp == nil {
		resp = &graphql.Response{}
	}
	writeResponse(w, mediaType, http.StatusOK, resp)
}

// postTransport is POST /graphql with an application/json body.
type postTransport struct{ s *Server }

var _ graphql.Transport = postTransport{}

// Supports implements graphql.Transport.
func (t postTransport) Supports(r *http.Request) bool {
	return r.Method == http.MethodPost && !isUpgrade(r)
}

// Do implements graphql.Transport.
func (t postTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	mediaType := responseMediaType(r)
	start := graphql.Now()

	if !sendsJSON(r) {
		sendTransportError(w, r, exec, mediaType, http.StatusUnsupportedMediaType, transportError(
			thuvienso.CodeBadUserInput,
			"send the GraphQL request as JSON with Content-Type: application/json",
			"hãy gửi yêu cầu GraphQL dạng JSON với Content-Type: application/json",
		))
		return
	}

	limit := t.s.opts.MaxBodyBytes
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			sendTransportError(w, r, exec, mediaType, http.StatusRequestEntityTooLarge, transportError(
				thuvienso.CodeBadUserInput,
				fmt.Sprintf("the request body is larger than the limit of %d bytes", limit),
				fmt.Sprintf("nội dung yêu cầu vượt quá giới hạn %d byte", limit),
			))
			return
		}
		sendTransportError(w, r, exec, mediaType, http.StatusBadRequest, transportError(
			thuvienso.CodeBadUserInput,
			"the request body could not be read",
			"không đọc được nội dung yêu cầu",
		))
		return
	}

	if isBatch(body) {
		sendTransportError(w, r, exec, mediaType, http.StatusBadRequest, transportError(
			thuvienso.CodeBadUserInput,
			"batched requests (a JSON array of operations) are not supported; send one operation per request",
			"không hỗ trợ gửi nhiều thao tác trong một yêu cầu (mảng JSON); hãy gửi mỗi thao tác trong một yêu cầu",
		))
		return
	}
	params := &graphql.RawParams{}
	if err := decodeJSON(body, params); err != nil {
		sendTransportError(w, r, exec, mediaType, http.StatusBadRequest, transportError(
			thuvienso.CodeBadUserInput,
			"the request body is not a valid GraphQL JSON request: "+err.Error(),
			"nội dung yêu cầu không phải là một yêu cầu GraphQL JSON hợp lệ: "+err.Error(),
		))
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	execute(w, r, exec, mediaType, params, false)
}

// sendsJSON reports whether r's body is declared JSON, the one media type a
// POST may send.
func sendsJSON(r *http.Request) bool {
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && ct == mediaJSON
}

// isBatch reports whether body is a JSON array: the batched requests some
// clients (Apollo's BatchHttpLink) send, which this server refuses as a
// whole, so that one request runs one operation and counts once.
func isBatch(body []byte) bool {
	b := bytes.TrimLeft(body, " \t\r\n")
	return len(b) > 0 && b[0] == '['
}

// decodeJSON decodes one JSON object into v, numbers as json.Number (as
// gqlgen expects), refusing trailing data.
func decodeJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			return errors.New("empty body")
		case errors.As(err, &syn):
			return fmt.Errorf("JSON syntax error at byte %d", syn.Offset)
		case errors.As(err, &typ):
			if typ.Field != "" {
				return fmt.Errorf("%q must be a JSON %s", typ.Field, jsonKindFor(typ.Field))
			}
			return errors.New("the body must be a JSON object")
		case errors.Is(err, io.ErrUnexpectedEOF):
			return errors.New("unexpected end of JSON")
		}
		return errors.New("malformed JSON")
	}
	if dec.More() {
		return errors.New("unexpected data after the JSON object")
	}
	return nil
}

func jsonKindFor(field string) string {
	switch field {
	case "query", "operationName":
		return "string"
	default:
		return "object"
	}
}

// getTransport is GET /graphql?query=…&variables=…: queries only.
type getTransport struct{ s *Server }

var _ graphql.Transport = getTransport{}

// Supports implements graphql.Transport.
func (t getTransport) Supports(r *http.Request) bool {
	return r.Method == http.MethodGet && !isUpgrade(r)
}

// Do implements graphql.Transport.
func (t getTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	mediaType := responseMediaType(r)
	start := graphql.Now()
	bad := func(en, vi string) {
		sendTransportError(w, r, exec, mediaType, http.StatusBadRequest, transportError(thuvienso.CodeBadUserInput, en, vi))
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		bad("the query string is malformed", "chuỗi truy vấn URL không hợp lệ")
		return
	}
	params := &graphql.RawParams{
		Query:         q.Get("query"),
		OperationName: q.Get("operationName"),
		Headers:       r.Header,
	}
	if v := q.Get("variables"); v != "" {
		if err := decodeJSON([]byte(v), &params.Variables); err != nil {
			bad("the variables parameter is not a JSON object: "+err.Error(), "tham số variables không phải là một đối tượng JSON: "+err.Error())
			return
		}
	}
	if v := q.Get("extensions"); v != "" {
		if err := decodeJSON([]byte(v), &params.Extensions); err != nil {
			bad("the extensions parameter is not a JSON object: "+err.Error(), "tham số extensions không phải là một đối tượng JSON: "+err.Error())
			return
		}
	}
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	execute(w, r, exec, mediaType, params, true)
}

// unsupportedTransport answers everything else (PUT, DELETE, a non-CORS
// OPTIONS, …) with 405 and a GraphQL error, instead of gqlgen's uncoded 400.
type unsupportedTransport struct{ s *Server }

var _ graphql.Transport = unsupportedTransport{}

// Supports implements graphql.Transport: it is the last resort.
func (unsupportedTransport) Supports(*http.Request) bool { return true }

// Do implements graphql.Transport.
func (unsupportedTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	w.Header().Set("Allow", "GET, POST")
	sendTransportError(w, r, exec, responseMediaType(r), http.StatusMethodNotAllowed, transportError(
		thuvienso.CodeBadUserInput,
		"use POST (or GET for queries) to call /graphql",
		"hãy dùng POST (hoặc GET cho truy vấn) để gọi /graphql",
	))
}
