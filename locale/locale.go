// Package locale owns the choice of the language a request is answered in.
//
// Thư viện số speaks Vietnamese ("vi", the default) and English ("en"). The
// HTTP layer parses the Accept-Language header once with Parse and stores the
// result in the request context with With; everything that renders text for
// the client (the GraphQL error presenter, e-mails built during a request)
// reads it back with From.
package locale

import (
	"context"

	"golang.org/x/text/language"
)

// The supported languages, as short tags.
const (
	// VI is Vietnamese, the default language.
	VI = "vi"
	// EN is English.
	EN = "en"
)

// Default is the language used when the client states no usable preference.
const Default = VI

// matcher prefers Vietnamese: it is listed first, so it wins when nothing
// the client asks for is supported.
var matcher = language.NewMatcher([]language.Tag{language.Vietnamese, language.English})

// Parse returns "vi" or "en" for an Accept-Language header value. Vietnamese
// is returned for an empty or malformed header and for languages that are
// neither Vietnamese nor English (e.g. "fr").
func Parse(acceptLanguage string) string {
	if acceptLanguage == "" {
		return Default
	}
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return Default
	}
	_, idx, conf := matcher.Match(tags...)
	if conf == language.No {
		return Default
	}
	if idx == 1 {
		return EN
	}
	return VI
}

type ctxKey struct{}

// With returns a copy of ctx that carries lang. Values other than "en" are
// stored as the default, Vietnamese.
func With(ctx context.Context, lang string) context.Context {
	if lang != EN {
		lang = VI
	}
	return context.WithValue(ctx, ctxKey{}, lang)
}

// From returns the language stored in ctx by With, or "vi" when none is.
func From(ctx context.Context) string {
	if ctx == nil {
		return Default
	}
	if lang, ok := ctx.Value(ctxKey{}).(string); ok {
		return lang
	}
	return Default
}
