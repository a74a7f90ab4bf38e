// Package storetest owns the contract every store implementation must meet:
// one suite of tests, run against package sqlite always, against package
// mongo over the wire on an embedded FerretDB, and against a real MongoDB
// when MONGODB_URI is set.
//
// The suite states what the domain store interfaces promise and what their
// callers rely on: round trips keep every field (text byte for byte, times
// to the nanosecond and in UTC), not-found and conflict errors are the
// domain's sentinels (errors.Is), and the invariants that concurrency could
// break hold under many goroutines (one use of a refresh token, one account
// per email). A store that needs the suite to be weakened is wrong; fix the
// store.
package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/store"
)

// Open returns a fresh, empty store.Set for one test and arranges its
// release (closing it, dropping a temporary database) with t.Cleanup.
type Open func(t *testing.T) *store.Set

// test is one contract test, given a fresh Set.
type test struct {
	name string
	run  func(t *testing.T, s *store.Set)
}

// Options describe the store under test to the suite. The zero value fits
// SQLite and a real MongoDB.
type Options struct {
	// SerialisedCommands says the server runs one command at a time: the
	// embedded FerretDB, which tests use with SetMaxPoolSize(1) because it
	// answers concurrent commands wrongly (DESIGN.md). Concurrency is proven
	// on SQLite and a real MongoDB, not there, so the largest concurrency
	// tests run fewer goroutines on it, only to finish within the driver's
	// timeouts; what they assert is the same.
	SerialisedCommands bool
}

// Run runs the whole contract suite, each test as a subtest on a fresh Set
// from open. Run it with -race.
func Run(t *testing.T, open Open) {
	t.Helper()
	RunWithOptions(t, open, Options{})
}

// RunWithOptions is Run for a store that o describes.
func RunWithOptions(t *testing.T, open Open, o Options) {
	t.Helper()
	var tests []test
	tests = append(tests, setTests...)
	tests = append(tests, libraryTests...)
	tests = append(tests, accountTests...)
	tests = append(tests, sessionTests...)
	tests = append(tests, refreshTokenTests...)
	tests = append(tests, catalogTests...)
	tests = append(tests, concurrencyTests...)
	tests = append(tests, catalogConcurrencyTests...)
	tests = append(tests, cardTests...)
	tests = append(tests, eventTests...)
	tests = append(tests, ebookStoreTests...)
	tests = append(tests, ebookServiceTests...)
	tests = append(tests, ebookConcurrencyTests(o)...)
	tests = append(tests, notificationTests(o)...)
	tests = append(append(tests, circulationStoreTests...), circulationConcurrencyTests(o)...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			if s == nil {
				t.Fatal("open returned a nil Set")
			}
			tc.run(t, s)
		})
	}
}

var setTests = []test{
	{"Set/KindAndPing", func(t *testing.T, s *store.Set) {
		if s.Kind == "" {
			t.Error("Kind is empty")
		}
		if s.Libraries == nil || s.Auth == nil || s.Catalog == nil || s.Ping == nil || s.Close == nil {
			t.Fatalf("Set has nil members: %+v", s)
		}
		if err := s.Ping(t.Context()); err != nil {
			t.Fatalf("Ping: %v", err)
		}
	}},
}

// ict is the province's offset. Inputs carry it; stores return UTC.
var ict = time.FixedZone("ICT", 7*60*60)

// t0 is a time with nanoseconds that a millisecond store would lose.
var t0 = time.Date(2025, time.March, 14, 9, 26, 53, 589793238, ict)

// at returns t0 plus d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }

// Vietnamese text in NFC (what callers store) and one string in NFD, which a
// store must keep as it was given too: stores never normalise.
const (
	nameProvincial = "Thư viện tỉnh Bắc Ninh"
	nameTuSon      = "Thư viện thị xã Từ Sơn"
	districtTuSon  = "Thị xã Từ Sơn"
	districtQueVo  = "Thị xã Quế Võ"
	communeNFD     = "Phu\u0300 Chu\u031Bo\u031B\u0300ng" // "Phù Chường", decomposed
	readerName     = "Nguyễn Thị Hương Giang"
)

// mustEqual fails t unless got and want are deeply equal.
func mustEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

// wantUTC fails t unless every time is in UTC (a stored time comes back in
// UTC, whatever zone it was given in).
func wantUTC(t *testing.T, what string, ts ...time.Time) {
	t.Helper()
	for _, tm := range ts {
		if tm.Location() != time.UTC {
			t.Errorf("%s: time %v is in %v, want UTC", what, tm, tm.Location())
		}
	}
}

// utcPtr returns tp converted to UTC, nil for nil.
func utcPtr(tp *time.Time) *time.Time {
	if tp == nil {
		return nil
	}
	u := tp.UTC()
	return &u
}

// wantErr fails t unless errors.Is(err, target).
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

// wantCode fails t unless err carries a *thuvienso.Error with code.
func wantCode(t *testing.T, what string, err error, code thuvienso.Code) {
	t.Helper()
	if got := thuvienso.ErrorCode(err); got != code {
		t.Fatalf("%s: error %v has code %q, want %q", what, err, got, code)
	}
}

// must fails t on a non-nil error.
func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// idf makes distinct, readable IDs for one test.
func idf(prefix string, i int) string { return fmt.Sprintf("%s-%03d", prefix, i) }
