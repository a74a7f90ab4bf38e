// Package relay implements Relay-style cursor pagination over an ordered
// list: opaque cursors, `first`/`after`, and the page's position. Lists that
// live in a search index or a store page themselves and only use the cursor
// encoding.
package relay

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	thuvienso "github.com/bacninh/thuvienso"
)

// DefaultPageSize is the page size when a client gives no `first`.
const DefaultPageSize = 20

// MaxPageSize is the largest page a client may ask for.
const MaxPageSize = 100

// Window is one page of a list.
type Window struct {
	// Start and End delimit the page: items[Start:End].
	Start, End int
	// Total is the length of the whole list.
	Total int
}

// HasNext reports whether items follow the page.
func (w Window) HasNext() bool { return w.End < w.Total }

// HasPrevious reports whether items come before the page.
func (w Window) HasPrevious() bool { return w.Start > 0 }

// Cursor returns the cursor of the item at index i of the whole list.
func Cursor(i int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("o:" + strconv.Itoa(i)))
}

// ParseCursor returns the list index a cursor stands for.
func ParseCursor(cursor string) (int, error) {
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err == nil && strings.HasPrefix(string(raw), "o:") {
		if i, err := strconv.Atoi(string(raw[2:])); err == nil && i >= 0 {
			return i, nil
		}
	}
	return 0, thuvienso.Invalid("after", "this cursor is not one the server gave", "Con trỏ phân trang không hợp lệ")
}

// Paginate returns the window of a list of total items that `first` items
// after the cursor `after` make.
func Paginate(total int, first *int, after *string) (Window, error) {
	n := DefaultPageSize
	if first != nil {
		n = *first
	}
	if n < 0 || n > MaxPageSize {
		return Window{}, thuvienso.Invalid("first", fmt.Sprintf("first must be between 0 and %d", MaxPageSize),
			fmt.Sprintf("first phải từ 0 đến %d", MaxPageSize))
	}
	start := 0
	if after != nil && *after != "" {
		i, err := ParseCursor(*after)
		if err != nil {
			return Window{}, err
		}
		start = i + 1
	}
	start = min(start, total)
	return Window{Start: start, End: min(start+n, total), Total: total}, nil
}
