package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"runtime/debug"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/locale"
)

// The codes gqlgen gives the errors it finds in a request before running it.
// They are kept as they are (clients and tools such as Apollo know them);
// they are the only extensions.code values outside thuvienso.Code.
const (
	CodeGraphQLParseFailed      = "GRAPHQL_PARSE_FAILED"
	CodeGraphQLValidationFailed = "GRAPHQL_VALIDATION_FAILED"
)

// init marks the codes of the request errors this package's extensions
// return (before an operation runs) as gqlgen "protocol" errors. gqlgen's
// WebSocket transport sends those through the error presenter as an
// "error" message; any other request error it sends unpresented (English
// only, without retryAfter) as a "next" message.
func init() {
	for _, code := range []string{
		string(thuvienso.CodeQueryTooComplex),
		string(thuvienso.CodeRateLimited),
		string(thuvienso.CodeForbidden),
		CodePersistedQueryNotFound,
	} {
		errcode.RegisterErrorType(code, errcode.KindProtocol)
	}
}

// presentError is THE error presenter: every error a client sees, from a
// resolver, from gqlgen or from this package, goes through it once.
//
//   - An error whose chain holds a *thuvienso.Error becomes that error's code,
//     its field (extensions.field), its retry delay (extensions.retryAfter,
//     seconds, for RATE_LIMITED) and its message in the request's language.
//   - A *gqlerror.Error that wraps nothing was built for the client by
//     gqlgen or gqlparser (parse and validation errors, "operation not
//     found", …): its message stays, in English, and so does its code
//     (GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED, …); one without a code
//     gets BAD_USER_INPUT.
//   - Anything else is a bug or an outage: the client gets INTERNAL and the
//     generic message; the error is logged here, once, with the request id.
//
// Path and locations are kept in every case.
func (s *Server) presentError(ctx context.Context, err error) *gqlerror.Error {
	if err == nil {
		return nil
	}
	lang := locale.From(ctx)

	gqlErr, ok := errors.AsType[*gqlerror.Error](err)
	if !ok {
		gqlErr = gqlerror.WrapPath(graphql.GetPath(ctx), err)
	}
	out := &gqlerror.Error{
		Err:       err,
		Path:      gqlErr.Path,
		Locations: gqlErr.Locations,
		Rule:      gqlErr.Rule,
	}

	if de, ok := errors.AsType[*thuvienso.Error](err); ok {
		out.Message = de.Message(lang)
		out.Extensions = map[string]any{"code": string(de.Code)}
		if de.Field != "" {
			out.Extensions["field"] = de.Field
		}
		if de.Code == thuvienso.CodeRateLimited && de.RetryAfterSeconds > 0 {
			out.Extensions["retryAfter"] = de.RetryAfterSeconds
		}
		return out
	}

	if gqlErr.Err == nil {
		out.Message = gqlErr.Message
		out.Extensions = maps.Clone(gqlErr.Extensions)
		if out.Extensions == nil {
			out.Extensions = map[string]any{}
		}
		if _, ok := out.Extensions["code"]; !ok {
			out.Extensions["code"] = string(thuvienso.CodeBadUserInput)
		}
		return out
	}

	level := slog.LevelError
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		level = slog.LevelWarn
	}
	attrs := []any{"request_id", RequestID(ctx), "err", err.Error()}
	if len(out.Path) > 0 {
		attrs = append(attrs, "path", out.Path.String())
	}
	if op := operationName(ctx); op != "" {
		attrs = append(attrs, "operation", op)
	}
	s.log.Log(ctx, level, "graphql: internal error", attrs...)

	out.Message = thuvienso.ErrInternal.Message(lang)
	out.Extensions = map[string]any{"code": string(thuvienso.CodeInternal)}
	return out
}

// recoverPanic is gqlgen's recover function: a panic in a resolver (or in
// gqlgen) is logged once with its stack and becomes INTERNAL for the client.
// The returned error is a *thuvienso.Error so that presentError does not log
// it a second time.
func (s *Server) recoverPanic(ctx context.Context, v any) error {
	s.log.ErrorContext(ctx, "graphql: panic recovered",
		"request_id", RequestID(ctx),
		"panic", fmt.Sprint(v),
		"operation", operationName(ctx),
		"stack", string(debug.Stack()),
	)
	s.metrics.panics.Inc()
	return thuvienso.ErrInternal
}

func operationName(ctx context.Context) string {
	name, _ := operationLabels(ctx)
	return name
}
