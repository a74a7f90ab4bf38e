// Package thuvienso holds the vocabulary every part of the Thư viện số backend
// shares: the error codes a client sees and the Error value that carries them.
//
// Domain packages (library, auth, catalog, circulation, …) return *Error values
// wrapped with context; the GraphQL layer maps them to extensions.code in one
// place (server.ErrorPresenter). Nothing here depends on another package of the
// module, so every package may import it.
package thuvienso

import (
	"errors"
	"fmt"
)

// Code is a machine-readable error class. Clients switch on it; it is exposed
// as the ErrorCode enum of the GraphQL schema and as extensions.code.
type Code string

// The error vocabulary. Keep in step with enum ErrorCode in schema.graphql.
const (
	CodeBadUserInput     Code = "BAD_USER_INPUT"
	CodeUnauthenticated  Code = "UNAUTHENTICATED"
	CodeForbidden        Code = "FORBIDDEN"
	CodeNotFound         Code = "NOT_FOUND"
	CodeConflict         Code = "CONFLICT"
	CodeLimitReached     Code = "LIMIT_REACHED"
	CodeNoCopyAvailable  Code = "NO_COPY_AVAILABLE"
	CodeRateLimited      Code = "RATE_LIMITED"
	CodeQueryTooComplex  Code = "QUERY_TOO_COMPLEX"
	CodeInternal         Code = "INTERNAL"
	CodeServiceUnhealthy Code = "SERVICE_UNAVAILABLE"
)

// Error is a failure a user can act on: a code, the input field it concerns
// (for validation errors), and the message in each supported language.
//
// Build one with E and wrap it with fmt.Errorf("doing x: %w", err) on the way
// up; errors.As finds it again.
type Error struct {
	Code Code
	// Field names the input field at fault, as the client spelled it
	// (e.g. "input.email"); empty when the error is not about one field.
	Field string
	// EN and VI are the human messages. Vietnamese is the default language.
	EN, VI string
	// RetryAfterSeconds is set on RATE_LIMITED errors.
	RetryAfterSeconds int
}

// E builds an Error with an English and a Vietnamese message.
func E(code Code, en, vi string) *Error {
	return &Error{Code: code, EN: en, VI: vi}
}

// Invalid builds a BAD_USER_INPUT error about one input field.
func Invalid(field, en, vi string) *Error {
	return &Error{Code: CodeBadUserInput, Field: field, EN: en, VI: vi}
}

// Error implements error with the English message, for logs.
func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s (%s)", e.Code, e.EN, e.Field)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.EN)
}

// Message returns the message in lang ("vi" or "en"); Vietnamese otherwise.
func (e *Error) Message(lang string) string {
	if lang == "en" && e.EN != "" {
		return e.EN
	}
	if e.VI != "" {
		return e.VI
	}
	return e.EN
}

// Is lets errors.Is match two Errors of the same code and English message,
// so that package-level sentinel values work through wrapping and copies.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.EN == e.EN
}

// WithField returns a copy of e that names field.
func (e *Error) WithField(field string) *Error {
	c := *e
	c.Field = field
	return &c
}

// ErrorCode returns the Code of the first *Error in err's chain, INTERNAL for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// Common errors shared by several domains.
var (
	// ErrNotFound is returned by stores when the thing asked for does not exist.
	ErrNotFound = E(CodeNotFound, "not found", "không tìm thấy")
	// ErrUnauthenticated means the request carries no valid login.
	ErrUnauthenticated = E(CodeUnauthenticated, "you need to log in", "bạn cần đăng nhập")
	// ErrForbidden means the caller is known but may not do this.
	ErrForbidden = E(CodeForbidden, "you are not allowed to do this", "bạn không có quyền thực hiện thao tác này")
	// ErrInternal is what a client sees of an unexpected failure.
	ErrInternal = E(CodeInternal, "something went wrong on our side; please try again", "hệ thống gặp lỗi; vui lòng thử lại")
)
