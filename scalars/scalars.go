// Package scalars holds the custom GraphQL scalars of the schema and how
// they travel as JSON.
package scalars

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"

	thuvienso "github.com/bacninh/thuvienso"
)

// MarshalDateTime writes t as RFC 3339 in the province's zone (+07:00), so
// clients show the local time without a zone database.
func MarshalDateTime(t time.Time) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		_, _ = io.WriteString(w, strconv.Quote(t.In(thuvienso.Zone).Format(time.RFC3339)))
	})
}

// UnmarshalDateTime reads an RFC 3339 string with any offset.
func UnmarshalDateTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, fmt.Errorf("DateTime must be an RFC 3339 string")
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("DateTime must be RFC 3339 with an offset, e.g. 2026-11-25T14:30:00+07:00")
	}
	return t.UTC(), nil
}
