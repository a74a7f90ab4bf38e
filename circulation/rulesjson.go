package circulation

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/library"
)

// rulesDoc is the JSON form of Rules. Every field is optional: a missing
// one keeps its DefaultRules value (pointers tell missing from 0).
type rulesDoc struct {
	Terms                    []termsDoc     `json:"terms"`
	MaxLoans                 map[string]int `json:"maxLoans"`
	MaxHolds                 map[string]int `json:"maxHolds"`
	HoldShelfDays            *int           `json:"holdShelfDays"`
	LocalOnlyLibraries       []string       `json:"localOnlyLibraries"`
	LocalOnlyLibraryTypes    []string       `json:"localOnlyLibraryTypes"`
	BlockExpiredCard         *bool          `json:"blockExpiredCard"`
	OverdueBlockDays         *int           `json:"overdueBlockDays"`
	MaxOverdueItems          *int           `json:"maxOverdueItems"`
	HoldExpiringNoticeHours  *int           `json:"holdExpiringNoticeHours"`
	MaxSuspensionDays        *int           `json:"maxSuspensionDays"`
	TransitDaysSameDistrict  *int           `json:"transitDaysSameDistrict"`
	TransitDaysOtherDistrict *int           `json:"transitDaysOtherDistrict"`
	LateReturnDays           *int           `json:"lateReturnDays"`
}

// termsDoc is the JSON form of Terms.
type termsDoc struct {
	LibraryType   string `json:"libraryType"`
	Category      string `json:"category"`
	BookDays      *int   `json:"bookDays"`
	ShortLoanDays *int   `json:"shortLoanDays"`
	MaxRenewals   *int   `json:"maxRenewals"`
}

// ParseRules reads the lending rules from a JSON document, so that a
// deployment changes them without code (see LoadRules). Anything the
// document leaves out keeps its DefaultRules value. An example, every key
// optional:
//
//	{
//	  "terms": [
//	    {"bookDays": 14, "shortLoanDays": 7, "maxRenewals": 2},
//	    {"libraryType": "SCHOOL", "bookDays": 21},
//	    {"libraryType": "SCHOOL", "category": "CHILD", "maxRenewals": 1},
//	    {"category": "CHILD", "bookDays": 10}
//	  ],
//	  "maxLoans": {"ADULT": 10, "STUDENT": 10, "CHILD": 5},
//	  "maxHolds": {"ADULT": 10, "STUDENT": 10, "CHILD": 5},
//	  "holdShelfDays": 7,
//	  "localOnlyLibraries": ["tu-sach-tam-an"],
//	  "localOnlyLibraryTypes": ["PRIVATE"],
//	  "blockExpiredCard": true,
//	  "overdueBlockDays": 30,
//	  "maxOverdueItems": 5,
//	  "holdExpiringNoticeHours": 24,
//	  "maxSuspensionDays": 365,
//	  "transitDaysSameDistrict": 1,
//	  "transitDaysOtherDistrict": 3,
//	  "lateReturnDays": 7
//	}
//
// Terms are per library type (PROVINCIAL, DISTRICT, COMMUNE, SCHOOL,
// VILLAGE, PRIVATE) and reader category (ADULT, STUDENT, CHILD); an entry
// without either applies to all. A field an entry leaves out comes from the
// nearest entry that covers it — for a type and a category, the entry of
// the type alone, else of the category alone, else the entry for everyone,
// else the default (14-day books, 7-day short loans, 2 renewals) — so the
// example lends school books to children for 21 days with 1 renewal.
// maxLoans and maxHolds name only the categories that differ from the
// defaults (an unnamed category gets the ADULT value). 0 turns a block
// off (overdueBlockDays, maxOverdueItems) or forbids renewals.
//
// Unknown keys, types and categories, negative or absurd numbers, and two
// entries for the same type and category are refused with every reason,
// each a BAD_USER_INPUT error naming its place in the document.
func ParseRules(data []byte) (Rules, error) {
	var doc rulesDoc
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return Rules{}, fmt.Errorf("circulation rules: %w", thuvienso.Invalid("rules",
			"the rules are not a valid JSON document of rules: "+err.Error(),
			"tệp quy định lưu thông không phải tài liệu JSON hợp lệ: "+err.Error()))
	}
	if dec.More() {
		return Rules{}, fmt.Errorf("circulation rules: %w", thuvienso.Invalid("rules",
			"the rules document has more than one JSON value", "tệp quy định lưu thông có nhiều hơn một giá trị JSON"))
	}
	r, errs := doc.rules()
	if err := errors.Join(errs...); err != nil {
		return Rules{}, fmt.Errorf("circulation rules: %w", err)
	}
	return r, nil
}

// LoadRules reads the lending rules from the JSON file at path (see
// ParseRules).
func LoadRules(path string) (Rules, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Rules{}, fmt.Errorf("reading circulation rules: %w", err)
	}
	r, err := ParseRules(b)
	if err != nil {
		return Rules{}, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// badRule is the error of one value of the rules document.
func badRule(field string, lo, hi int) error {
	return thuvienso.Invalid(field,
		fmt.Sprintf("%s must be a whole number from %d to %d", field, lo, hi),
		fmt.Sprintf("%s phải là số nguyên từ %d đến %d", field, lo, hi))
}

// rules applies the document over DefaultRules and returns every problem.
func (d *rulesDoc) rules() (Rules, []error) {
	r := DefaultRules()
	var errs []error
	num := func(field string, v *int, lo, hi int, dst *int) {
		if v == nil {
			return
		}
		if *v < lo || *v > hi {
			errs = append(errs, badRule(field, lo, hi))
			return
		}
		*dst = *v
	}
	num("holdShelfDays", d.HoldShelfDays, 1, 90, &r.HoldShelfDays)
	num("overdueBlockDays", d.OverdueBlockDays, 0, 3650, &r.OverdueBlockDays)
	num("maxOverdueItems", d.MaxOverdueItems, 0, 1000, &r.MaxOverdueItems)
	num("transitDaysSameDistrict", d.TransitDaysSameDistrict, 0, 60, &r.TransitDaysSameDistrict)
	num("transitDaysOtherDistrict", d.TransitDaysOtherDistrict, 0, 60, &r.TransitDaysOtherDistrict)
	num("lateReturnDays", d.LateReturnDays, 0, 365, &r.LateReturnDays)
	var hours, days int
	if num("holdExpiringNoticeHours", d.HoldExpiringNoticeHours, 0, 720, &hours); d.HoldExpiringNoticeHours != nil {
		r.HoldExpiringNotice = time.Duration(hours) * time.Hour
	}
	if num("maxSuspensionDays", d.MaxSuspensionDays, 1, 3650, &days); d.MaxSuspensionDays != nil {
		r.MaxSuspension = time.Duration(days) * 24 * time.Hour
	}
	if d.BlockExpiredCard != nil {
		r.BlockExpiredCard = *d.BlockExpiredCard
	}
	for _, lim := range []struct {
		field string
		given map[string]int
		dst   *map[auth.Category]int
	}{{"maxLoans", d.MaxLoans, &r.MaxLoans}, {"maxHolds", d.MaxHolds, &r.MaxHolds}} {
		keys := make([]string, 0, len(lim.given))
		for k := range lim.given {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			field := lim.field + "." + k
			if !auth.Category(k).Valid() {
				errs = append(errs, unknownCategory(field, k))
				continue
			}
			if v := lim.given[k]; v < 0 || v > 1000 {
				errs = append(errs, badRule(field, 0, 1000))
			} else {
				(*lim.dst)[auth.Category(k)] = v
			}
		}
	}
	if d.LocalOnlyLibraries != nil {
		r.LocalOnly = map[string]bool{}
		for i, id := range d.LocalOnlyLibraries {
			if id == "" {
				errs = append(errs, thuvienso.Invalid(fmt.Sprintf("localOnlyLibraries[%d]", i),
					"a library ID must not be empty", "mã thư viện không được để trống"))
				continue
			}
			r.LocalOnly[id] = true
		}
	}
	if d.LocalOnlyLibraryTypes != nil {
		r.LocalOnlyTypes = map[library.Type]bool{}
		for i, t := range d.LocalOnlyLibraryTypes {
			if !slices.Contains(library.Types, library.Type(t)) {
				errs = append(errs, unknownType(fmt.Sprintf("localOnlyLibraryTypes[%d]", i), t))
				continue
			}
			r.LocalOnlyTypes[library.Type(t)] = true
		}
	}
	terms, terr := d.terms()
	errs = append(errs, terr...)
	if terms != nil {
		r.Terms = terms
	}
	return r, errs
}

func unknownCategory(field, c string) error {
	return thuvienso.Invalid(field,
		fmt.Sprintf("%q is not a reader category (ADULT, STUDENT, CHILD)", c),
		fmt.Sprintf("%q không phải loại bạn đọc (ADULT, STUDENT, CHILD)", c))
}

func unknownType(field, t string) error {
	return thuvienso.Invalid(field,
		fmt.Sprintf("%q is not a library type (PROVINCIAL, DISTRICT, COMMUNE, SCHOOL, VILLAGE, PRIVATE)", t),
		fmt.Sprintf("%q không phải loại thư viện (PROVINCIAL, DISTRICT, COMMUNE, SCHOOL, VILLAGE, PRIVATE)", t))
}

// terms resolves the document's terms (nil when it has none): each entry
// completed from the nearest less specific entry, and an entry for
// everyone added from the defaults when the document has none.
func (d *rulesDoc) terms() ([]Terms, []error) {
	if d.Terms == nil {
		return nil, nil
	}
	type key struct {
		t library.Type
		c auth.Category
	}
	var errs []error
	byKey := map[key]int{}
	for i, td := range d.Terms {
		field := fmt.Sprintf("terms[%d]", i)
		k := key{library.Type(td.LibraryType), auth.Category(td.Category)}
		bad := false
		if k.t != "" && !slices.Contains(library.Types, k.t) {
			errs, bad = append(errs, unknownType(field+".libraryType", td.LibraryType)), true
		}
		if k.c != "" && !k.c.Valid() {
			errs, bad = append(errs, unknownCategory(field+".category", td.Category)), true
		}
		for _, f := range []struct {
			name   string
			v      *int
			lo, hi int
		}{{"bookDays", td.BookDays, 0, 365}, {"shortLoanDays", td.ShortLoanDays, 0, 365}, {"maxRenewals", td.MaxRenewals, 0, 100}} {
			if f.v != nil && (*f.v < f.lo || *f.v > f.hi) {
				errs, bad = append(errs, badRule(field+"."+f.name, f.lo, f.hi)), true
			}
		}
		if j, dup := byKey[k]; dup {
			errs, bad = append(errs, thuvienso.Invalid(field,
				fmt.Sprintf("terms[%d] and terms[%d] are both for library type %q and category %q", j, i, k.t, k.c),
				fmt.Sprintf("terms[%d] và terms[%d] cùng áp dụng cho loại thư viện %q và loại bạn đọc %q", j, i, k.t, k.c))), true
		}
		if !bad {
			byKey[k] = i
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	specificity := func(k key) int {
		s := 0
		if k.t != "" {
			s += 2
		}
		if k.c != "" {
			s++
		}
		return s
	}
	keys := make([]key, 0, len(byKey)+1)
	for k := range byKey {
		keys = append(keys, k)
	}
	if _, ok := byKey[key{}]; !ok {
		keys = append(keys, key{})
	}
	// Less specific first, so that every entry's parent is resolved before it.
	sort.Slice(keys, func(a, b int) bool {
		if sa, sb := specificity(keys[a]), specificity(keys[b]); sa != sb {
			return sa < sb
		}
		if keys[a].t != keys[b].t {
			return keys[a].t < keys[b].t
		}
		return keys[a].c < keys[b].c
	})
	defaults := DefaultRules()
	def := defaults.TermsFor("", "")
	resolved := map[key]Terms{}
	out := make([]Terms, 0, len(keys))
	for _, k := range keys {
		base := def
		for _, p := range []key{{k.t, ""}, {"", k.c}, {}} { // nearest first
			if pt, ok := resolved[p]; ok && p != k {
				base = pt
				break
			}
		}
		t := Terms{LibraryType: k.t, Category: k.c, BookDays: base.BookDays, ShortLoanDays: base.ShortLoanDays, MaxRenewals: base.MaxRenewals}
		if i, ok := byKey[k]; ok {
			td := d.Terms[i]
			if td.BookDays != nil {
				t.BookDays = *td.BookDays
			}
			if td.ShortLoanDays != nil {
				t.ShortLoanDays = *td.ShortLoanDays
			}
			if td.MaxRenewals != nil {
				t.MaxRenewals = *td.MaxRenewals
			}
		}
		resolved[k] = t
		out = append(out, t)
	}
	return out, nil
}
