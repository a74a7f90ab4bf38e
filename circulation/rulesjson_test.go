package circulation_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/circulation"
	"github.com/bacninh/thuvienso/library"
)

func TestRulesReadFromJSONKeepTheDefaultsForAnythingLeftOut(t *testing.T) {
	def := circulation.DefaultRules()
	tests := []struct {
		name string
		doc  string
		// check inspects the rules read (def are the defaults).
		check func(t *testing.T, r circulation.Rules)
	}{
		{"an empty document is the defaults", `{}`, func(t *testing.T, r circulation.Rules) {
			if !reflect.DeepEqual(r, def) {
				t.Fatalf("got %+v\nwant %+v", r, def)
			}
		}},
		{"a school lends to children for 21 days with one renewal", `{"terms": [
			{"libraryType": "SCHOOL", "bookDays": 21},
			{"libraryType": "SCHOOL", "category": "CHILD", "maxRenewals": 1},
			{"category": "CHILD", "bookDays": 10, "shortLoanDays": 5}
		]}`, func(t *testing.T, r circulation.Rules) {
			for _, c := range []struct {
				lt   library.Type
				cat  auth.Category
				want [3]int // book days, short-loan days, renewals
			}{
				{library.TypeSchool, auth.CategoryChild, [3]int{21, 7, 1}}, // the school's days, not the child's
				{library.TypeSchool, auth.CategoryAdult, [3]int{21, 7, 2}},
				{library.TypeDistrict, auth.CategoryChild, [3]int{10, 5, 2}},
				{library.TypeDistrict, auth.CategoryAdult, [3]int{14, 7, 2}}, // the default entry for everyone
			} {
				tm := r.TermsFor(c.lt, c.cat)
				if got := [3]int{tm.BookDays, tm.ShortLoanDays, tm.MaxRenewals}; got != c.want {
					t.Errorf("%s lending to %s: %v, want %v", c.lt, c.cat, got, c.want)
				}
			}
		}},
		{"the entry for everyone changes every default period", `{"terms": [{"bookDays": 21}, {"category": "STUDENT", "maxRenewals": 3}]}`,
			func(t *testing.T, r circulation.Rules) {
				if tm := r.TermsFor(library.TypeCommune, auth.CategoryStudent); tm.BookDays != 21 || tm.MaxRenewals != 3 {
					t.Fatalf("a student at a commune library: %+v", tm)
				}
			}},
		{"limits name only the categories that differ", `{"maxLoans": {"CHILD": 3}, "maxHolds": {"ADULT": 20}}`, func(t *testing.T, r circulation.Rules) {
			if r.MaxLoansFor(auth.CategoryChild) != 3 || r.MaxLoansFor(auth.CategoryAdult) != 10 ||
				r.MaxHoldsFor(auth.CategoryAdult) != 20 || r.MaxHoldsFor(auth.CategoryChild) != 5 {
				t.Fatalf("limits: loans %v, holds %v", r.MaxLoans, r.MaxHolds)
			}
		}},
		{"zero turns a block off; times and opt-outs", `{"overdueBlockDays": 0, "blockExpiredCard": false, "holdShelfDays": 5,
			"holdExpiringNoticeHours": 12, "maxSuspensionDays": 90, "localOnlyLibraries": ["tu-sach-tam-an"], "localOnlyLibraryTypes": ["PRIVATE"]}`,
			func(t *testing.T, r circulation.Rules) {
				if r.OverdueBlockDays != 0 || r.BlockExpiredCard || r.MaxOverdueItems != def.MaxOverdueItems || r.HoldShelfDays != 5 ||
					r.HoldExpiringNotice != 12*time.Hour || r.MaxSuspension != 90*24*time.Hour {
					t.Fatalf("rules: %+v", r)
				}
				if r.LendsToNetwork(&library.Library{ID: "tu-sach-tam-an", Type: library.TypeCommune}) ||
					r.LendsToNetwork(&library.Library{ID: "x", Type: library.TypePrivate}) ||
					!r.LendsToNetwork(&library.Library{ID: "y", Type: library.TypeSchool}) {
					t.Fatalf("opt-outs: %v %v", r.LocalOnly, r.LocalOnlyTypes)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := circulation.ParseRules([]byte(tc.doc))
			if err != nil {
				t.Fatalf("ParseRules: %v", err)
			}
			tc.check(t, r)
		})
	}
}

func TestBadRulesAreRefusedWithEveryReason(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		// fields are the places the error must name.
		fields []string
	}{
		{"not JSON", `{"terms": [`, []string{"JSON"}},
		{"a misspelt key", `{"holdShelfDay": 7}`, []string{"holdShelfDay"}},
		{"two documents", `{} {}`, []string{"more than one"}},
		{"unknown type and category, a negative period", `{"terms": [{"libraryType": "UNIVERSITY"}, {"category": "SENIOR"}, {"bookDays": -1}]}`,
			[]string{"terms[0].libraryType", "terms[1].category", "terms[2].bookDays"}},
		{"the same terms twice", `{"terms": [{"category": "CHILD"}, {"category": "CHILD", "bookDays": 7}]}`, []string{"terms[0] and terms[1]"}},
		{"limits", `{"maxLoans": {"TEEN": 3, "ADULT": -2}, "maxHolds": {"CHILD": 5000}}`,
			[]string{"maxLoans.TEEN", "maxLoans.ADULT", "maxHolds.CHILD"}},
		{"numbers out of range", `{"holdShelfDays": 0, "maxSuspensionDays": 0, "transitDaysOtherDistrict": 100, "localOnlyLibraryTypes": ["CAFE"]}`,
			[]string{"holdShelfDays", "maxSuspensionDays", "transitDaysOtherDistrict", "localOnlyLibraryTypes[0]"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := circulation.ParseRules([]byte(tc.doc))
			var te *thuvienso.Error
			if !errors.As(err, &te) || te.Code != thuvienso.CodeBadUserInput || te.Message("vi") == te.Message("en") {
				t.Fatalf("got %v, want BAD_USER_INPUT in both languages", err)
			}
			for _, f := range tc.fields {
				if !strings.Contains(err.Error(), f) {
					t.Errorf("the error does not name %s: %v", f, err)
				}
			}
		})
	}
}

func TestLoadRulesReadsAFileAndNamesItInErrors(t *testing.T) {
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "rules.json"), filepath.Join(dir, "bad.json")
	if err := os.WriteFile(good, []byte(`{"holdShelfDays": 3}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte(`{"holdShelfDays": -3}`), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := circulation.LoadRules(good)
	if err != nil || r.HoldShelfDays != 3 {
		t.Fatalf("LoadRules: %+v, %v", r.HoldShelfDays, err)
	}
	if _, err := circulation.LoadRules(bad); err == nil || !strings.Contains(err.Error(), "bad.json") {
		t.Fatalf("a bad file: %v", err)
	}
	if _, err := circulation.LoadRules(filepath.Join(dir, "missing.json")); err == nil {
		t.Fatal("a missing file was accepted")
	}
}
