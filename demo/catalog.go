package demo

import (
	"fmt"
	"hash/fnv"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/bacninh/thuvienso/catalog"
	"github.com/bacninh/thuvienso/library"
	"github.com/bacninh/thuvienso/vietnamese"
)

// CatalogWorks is the number of works Catalog generates; every one is held by
// at least one library.
const CatalogWorks = 22000

// Catalog returns a believable Vietnamese union catalogue for the given
// libraries (normally the demo province, see Libraries or Seed): records
// describing CatalogWorks distinct works and the items (physical copies) of
// each record. It is deterministic: the same libraries (by code, type and
// name) and seed give the same output. No database is touched.
//
// The works are the classics of Vietnamese literature, world classics in
// translation, the textbooks of the 2018 programme in their three series,
// children's series and folk tales, laws in force, Bắc Ninh's heritage, and a
// bulk of fiction, agriculture, health, skills, study aids and other
// non-fiction built from curated word lists. A work is described by every
// library that holds it, so one ISBN usually has records in several
// libraries. Who holds what follows the kind of library: the provincial
// library holds most of everything, district libraries a broad tenth,
// commune and village reading rooms agriculture, law, politics and
// children's books, school libraries the textbooks of their level in many
// copies, private libraries fiction and children's books.
//
// Records are NFC, already in the form Record.Normalize gives; item barcodes
// are the library's code and a sequence number, unique in the network.
// Records are returned grouped by work, items in record order.
func Catalog(libraries []*library.Library, seed int64) (records []*catalog.Record, items []*catalog.Item) {
	g := newGenerator(libraries, seed, CatalogWorks, demoTargets)
	g.nCurated = len(g.curated)
	records = make([]*catalog.Record, 0, CatalogWorks*3)
	items = make([]*catalog.Item, 0, CatalogWorks*6)
	for i := 0; i < CatalogWorks; i++ {
		w := g.work(i)
		for _, h := range g.holdingsWithin(w, i, 0, -1) {
			records = append(records, h.rec)
			items = append(items, h.items...)
		}
	}
	return records, items
}

// Libraries returns the demo province's libraries (the ones Seed creates)
// with identifiers derived from their codes, so that tests, tools and
// benchmarks can use the demo network without a store.
func Libraries() []*library.Library {
	byCode := make(map[string]*library.Library, len(sites))
	out := make([]*library.Library, 0, len(sites))
	for _, s := range sites {
		l, err := s.library(byCode, fixedTime)
		if err != nil {
			panic(err) // the dataset is checked by TestDataset
		}
		l.ID = libraryID(s.code)
		byCode[s.code] = l
		out = append(out, l)
	}
	return out
}

// ---------------------------------------------------------------------------
// Random numbers: splitmix64, so that output never depends on the standard
// library's generators.

type rng struct{ s uint64 }

func newRNG(seed int64, stream uint64) rng {
	r := rng{s: uint64(seed)*0x9E3779B97F4A7C15 ^ stream*0xD1B54A32D192ED03}
	r.next()
	return r
}

func (r *rng) next() uint64 {
	r.s += 0x9E3779B97F4A7C15
	z := r.s
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

func (r *rng) intn(n int) int        { return int(r.next() % uint64(n)) }
func (r *rng) float() float64        { return float64(r.next()>>11) / (1 << 53) }
func (r *rng) chance(p float64) bool { return r.float() < p }

// normal returns a standard normal deviate (Box–Muller).
func (r *rng) normal() float64 {
	u := r.float()
	if u < 1e-300 {
		u = 1e-300
	}
	return math.Sqrt(-2*math.Log(u)) * math.Cos(2*math.Pi*r.float())
}

func pick[T any](r *rng, s []T) T { return s[r.intn(len(s))] }

// hashOf is FNV-64a of the strings joined.
func hashOf(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

// ---------------------------------------------------------------------------
// Libraries as the generator sees them.

type libInfo struct {
	lib   *library.Library
	typ   library.Type
	level int // school level: 1 primary, 2 lower secondary, 3 upper secondary
	// ils is true for libraries running an ILS that exports MARC; the
	// others keep a spreadsheet.
	ils              bool
	nextRec, nextBar int
}

// group is the libraries of one kind that hold a work with one
// probability.
type group struct {
	typ   library.Type
	level int
	libs  []int
}

// targets are the expected records per library of each kind for bulk works.
type targets map[library.Type]float64

var demoTargets = targets{
	library.TypeProvincial: 14000, library.TypeDistrict: 2600, library.TypeCommune: 520,
	library.TypeSchool: 380, library.TypeVillage: 220, library.TypePrivate: 320,
}

// generator makes works and the holdings of each work.
type generator struct {
	seed    int64
	n       int // works in all, to spread bulk holdings
	libs    []libInfo
	groups  []group
	prov    int // index of the provincial library, -1 when absent
	targets targets
	// isbnNext counts the ISBNs given out per publisher.
	isbnNext []int
	// seen holds the hash of every work's title, first author and year so
	// that no two generated works cluster together.
	seen    map[uint64]struct{}
	curated []func(r *rng) *work
	// textbookCopies is the range of a school's copies of a textbook.
	textbookCopies [2]int
	// nCurated of the n works are curated ones; nextCurated counts those
	// given out.
	nCurated, nextCurated int
}

func newGenerator(libraries []*library.Library, seed int64, n int, t targets) *generator {
	g := &generator{seed: seed, n: n, prov: -1, targets: t,
		isbnNext: make([]int, len(publishers)), seen: make(map[uint64]struct{}, n)}
	byKey := map[[2]int]int{}
	for _, l := range libraries {
		li := libInfo{lib: l, typ: l.Type}
		switch l.Type {
		case library.TypeSchool:
			li.level = schoolLevel(l.Name)
			li.ils = li.level == 3
		case library.TypeProvincial, library.TypeDistrict:
			li.ils = true
		}
		i := len(g.libs)
		g.libs = append(g.libs, li)
		if l.Type == library.TypeProvincial && g.prov < 0 {
			g.prov = i
			continue
		}
		k := [2]int{typeIndex(l.Type), li.level}
		gi, ok := byKey[k]
		if !ok {
			gi = len(g.groups)
			byKey[k] = gi
			g.groups = append(g.groups, group{typ: l.Type, level: li.level})
		}
		g.groups[gi].libs = append(g.groups[gi].libs, i)
	}
	g.curated = curatedWorks()
	g.textbookCopies = [2]int{5, 20}
	g.nCurated = min(len(g.curated), n/100)
	return g
}

func typeIndex(t library.Type) int {
	for i, u := range library.Types {
		if u == t {
			return i
		}
	}
	return len(library.Types)
}

// schoolLevel reads the level of a school from its name.
func schoolLevel(name string) int {
	switch {
	case strings.Contains(name, "Tiểu học"):
		return 1
	case strings.Contains(name, "THCS"), strings.Contains(name, "Trung học cơ sở"):
		return 2
	}
	return 3
}

// gradeLevel is the school level a grade belongs to.
func gradeLevel(grade int) int {
	switch {
	case grade <= 5:
		return 1
	case grade <= 9:
		return 2
	}
	return 3
}

// ---------------------------------------------------------------------------
// Works.

// work is one publication before any library describes it.
type work struct {
	topic     topic
	title     string
	subtitle  string
	authors   []catalog.Author
	pub       int
	year      int
	isbn      string // ISBN-13, "" for a book without one
	edition   string
	ddc       string
	subjects  []string
	series    []string
	summary   string
	pages     int
	height    int
	illus     bool
	format    catalog.Format
	languages []string
	// level is the school level of a textbook or study aid, grade its grade.
	level, grade int
	textbook     string // the series of a textbook
	teacher      bool   // a teacher's guide
	// spread is the share of libraries of a kind that hold a curated work;
	// 0 for bulk works, whose holdings follow pop.
	spread float64
	pop    float64
	// physical overrides the physical description of a recording or file.
	physical string
	call     string // call number
}

func person(name string) catalog.Author {
	return catalog.Author{Name: name, Role: catalog.RoleAuthor, Kind: catalog.AuthorPerson}
}

func withRole(name, role string) catalog.Author {
	return catalog.Author{Name: name, Role: role, Kind: catalog.AuthorPerson}
}

func corporate(name string) catalog.Author {
	return catalog.Author{Name: name, Role: catalog.RoleAuthor, Kind: catalog.AuthorCorporate}
}

// work returns the i-th work: one of the curated works, spread evenly in
// their fixed order, or one drawn from the bulk lists. Works must be asked
// for in order (0, 1, 2, …): ISBNs and the uniqueness check depend on it.
func (g *generator) work(i int) *work {
	r := newRNG(g.seed, uint64(i)+1)
	if j := g.nextCurated; j < g.nCurated && i == j*g.n/g.nCurated {
		// The curated works are spread evenly over the stream; a province
		// smaller than the lists takes every k-th.
		g.nextCurated++
		w := g.curated[j*len(g.curated)/g.nCurated](&r)
		g.finish(w, &r)
		for k := 1; !g.claim(w); k++ {
			// A bulk work took this title, author and year: this is
			// another printing.
			w.edition = "Tái bản lần thứ " + strconv.Itoa(k)
			w.year++
		}
		return w
	}
	for attempt := 0; ; attempt++ {
		w := g.bulk(&r)
		if attempt > 40 {
			w.title += ". Tập " + strconv.Itoa(attempt-39)
		}
		if g.claim(w) {
			g.finish(w, &r)
			return w
		}
	}
}

// claim records w's title key and reports whether no work had it before.
func (g *generator) claim(w *work) bool {
	first := ""
	if len(w.authors) > 0 {
		first = w.authors[0].Name
	}
	k := hashOf(w.title, first, strconv.Itoa(w.year))
	if _, dup := g.seen[k]; dup {
		return false
	}
	g.seen[k] = struct{}{}
	return true
}

// finish gives w its ISBN, physical description and summary.
func (g *generator) finish(w *work, r *rng) {
	if w.format == "" {
		w.format = catalog.FormatBook
	}
	if w.languages == nil {
		w.languages = []string{"vie"}
	}
	if w.year >= 2009 || w.year >= 2005 && r.chance(0.5) {
		w.isbn = g.isbn(w.pub)
	}
	if w.pages == 0 {
		w.pages = 80 + r.intn(300)
	}
	if w.height == 0 {
		w.height = pick(r, []int{19, 20, 21, 21, 21, 24})
	}
	if w.summary == "" {
		w.summary = summaryOf(w, r)
	}
	w.subjects = uniqueHeadings(w.subjects)
	w.call = callNumber(w)
}

// uniqueHeadings drops repeated subject headings.
func uniqueHeadings(s []string) []string {
	out := s[:0]
	for i, h := range s {
		dup := false
		for _, e := range s[:i] {
			if e == h {
				dup = true
			}
		}
		if !dup {
			out = append(out, h)
		}
	}
	return out
}

// isbn gives out the next ISBN-13 of publisher p, "" when its block is used
// up. Title numbers are spread over the block by a fixed permutation.
func (g *generator) isbn(p int) string {
	pub := publishers[p]
	digits := 12 - 6 - len(pub.code)
	capacity := int(math.Pow10(digits))
	n := g.isbnNext[p]
	if n >= capacity {
		return ""
	}
	g.isbnNext[p]++
	offset := int(uint64(g.seed)*2654435761%uint64(capacity)) + p*97
	num := (n*7919 + offset) % capacity
	body := "978604" + pub.code + fmt.Sprintf("%0*d", digits, num)
	return body + string(isbnCheck(body))
}

// isbnCheck is the ISBN-13 check digit of 12 digits.
func isbnCheck(d string) byte {
	sum := 0
	for i := 0; i < 12; i++ {
		w := 1
		if i%2 == 1 {
			w = 3
		}
		sum += w * int(d[i]-'0')
	}
	return byte('0' + (10-sum%10)%10)
}

// hyphenated writes an ISBN-13 of the 604 group as catalogued:
// 978-604-2-12345-6.
func hyphenated(isbn string, p int) string {
	c := len(publishers[p].code)
	return isbn[:3] + "-" + isbn[3:6] + "-" + isbn[6:6+c] + "-" + isbn[6+c:12] + "-" + isbn[12:]
}

// recentYear draws a publication year, most of them recent.
func recentYear(r *rng, from int) int {
	y := 2025 - int(math.Abs(r.normal())*7)
	if y < from {
		y = from + r.intn(2025-from+1)
	}
	return y
}

// authorName draws an invented Vietnamese name from h.
func authorName(h uint64) string {
	s := authorSurnames[h%uint64(len(authorSurnames))]
	h /= uint64(len(authorSurnames))
	if h%5 < 2 {
		h /= 5
		return s + " " + womenMiddle[h%uint64(len(womenMiddle))] + " " + womenNames[(h/16)%uint64(len(womenNames))]
	}
	h /= 5
	return s + " " + menMiddle[h%uint64(len(menMiddle))] + " " + menNames[(h/16)%uint64(len(menNames))]
}

// authorsFor gives a title its invented authors: the same title has the same
// authors in every edition.
func authorsFor(title string, n int) []catalog.Author {
	h := hashOf(title)
	out := make([]catalog.Author, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, person(authorName(h)))
		h = h*6364136223846793005 + 1442695040888963407
	}
	return out
}

var popOf = [6]float64{0, 0.04, 0.1, 0.22, 0.4, 0.65}

// curatedWorks lists the constructors of the real works, in a fixed order.
func curatedWorks() []func(*rng) *work {
	var out []func(*rng) *work
	for _, list := range [][]classic{vnClassics, translated} {
		for _, c := range list {
			for k, p := range c.pubs {
				c, k, p := c, k, p
				out = append(out, func(r *rng) *work { return classicWork(r, c, k, p) })
			}
		}
	}
	for _, s := range childSeries {
		for v := 1; v <= s.volumes; v++ {
			s, v := s, v
			out = append(out, func(r *rng) *work { return seriesWork(r, s, v) })
		}
	}
	for i, t := range folkTales {
		for k, s := range talesSeries {
			if (i+k)%2 == 1 {
				continue
			}
			t, s := t, s
			out = append(out, func(r *rng) *work { return taleWork(r, t, s) })
		}
	}
	for v, t := range historyPictures {
		v, t := v, t
		out = append(out, func(r *rng) *work { return historyPictureWork(r, t, v+1) })
	}
	for _, sub := range schoolSubjects {
		for grade := sub.from; grade <= sub.to; grade++ {
			for _, s := range textbookSeriesList {
				for _, kind := range []string{"SGK", "SBT", "SGV"} {
					if kind == "SBT" && !mainSubject(sub.name) {
						continue
					}
					vols := 1
					if kind == "SGK" {
						vols = sub.vols
					}
					for v := 1; v <= vols; v++ {
						sub, grade, s, kind, v, vols := sub, grade, s, kind, v, vols
						out = append(out, func(r *rng) *work { return textbookWork(r, sub, grade, s, kind, v, vols) })
					}
				}
			}
		}
	}
	for _, l := range laws {
		l := l
		out = append(out, func(r *rng) *work { return lawWork(r, l, "%s", 0.5) })
	}
	for v := 1; v <= 15; v++ {
		v := v
		out = append(out, func(r *rng) *work {
			w := politicsWork(r, "Hồ Chí Minh toàn tập", 0.3)
			w.title += ". Tập " + strconv.Itoa(v)
			w.year = 2011
			w.authors = []catalog.Author{person("Hồ Chí Minh")}
			return w
		})
	}
	for _, t := range politics[1:] {
		t := t
		out = append(out, func(r *rng) *work { return politicsWork(r, t, 0.35) })
	}
	for _, t := range localTitles {
		t := t
		out = append(out, func(r *rng) *work { return localWork(r, t, 0.3) })
	}
	for _, t := range historyTitles {
		t := t
		out = append(out, func(r *rng) *work { return historyWork(r, t, 0.2) })
	}
	for _, t := range referenceTitles {
		t := t
		out = append(out, func(r *rng) *work { return referenceWork(r, t) })
	}
	out = append(out, specialWorks()...)
	return out
}

func mainSubject(s string) bool {
	switch s {
	case "Toán", "Tiếng Việt", "Ngữ văn", "Tiếng Anh", "Khoa học tự nhiên", "Vật lí", "Hóa học", "Sinh học", "Lịch sử và Địa lí":
		return true
	}
	return false
}

func classicWork(r *rng, c classic, k, p int) *work {
	w := &work{title: c.title, pub: p, ddc: c.ddc, topic: tFiction}
	w.authors = []catalog.Author{person(c.author)}
	if c.translator != "" {
		w.authors = append(w.authors, withRole(c.translator, catalog.RoleTranslator))
	}
	switch {
	case c.form == formPoetry || c.form == formVerse:
		w.topic = tPoetry
	case c.form == formChildren || c.form == formTales:
		w.topic = tChildren
	case c.form == formSkills:
		w.topic = tSkills
	case c.form == formScience:
		w.topic = tScience
	case c.form == formHistory:
		w.topic = tHistory
	case c.form == "Từ điển":
		w.topic = tReference
	}
	lang := "Văn học Việt Nam"
	if strings.HasPrefix(c.ddc, "8") && !strings.HasPrefix(c.ddc, "895.92") {
		lang = "Văn học nước ngoài"
		if w.topic == tFiction {
			w.topic = tTranslated
		}
	}
	w.subjects = []string{c.form}
	if strings.HasPrefix(c.ddc, "8") {
		w.subjects = append(w.subjects, lang)
	}
	w.year = 2008 + (int(hashOf(c.title))+k*5)%17
	if k > 0 {
		w.edition = "Tái bản lần thứ " + strconv.Itoa(1+int(hashOf(c.title, strconv.Itoa(k))%12))
	}
	w.spread = popOf[c.pop] / float64(k+1)
	w.summary = classicSummary(c)
	if c.form == formChildren || c.form == formTales {
		w.illus = true
	}
	return w
}

func seriesWork(r *rng, s seriesSpec, v int) *work {
	w := &work{title: s.name + ". Tập " + strconv.Itoa(v), pub: s.pub, ddc: s.ddc, topic: tChildren,
		series: []string{s.name}, illus: true, height: 18, pages: 180 + r.intn(20)}
	if s.form == "Truyện tranh" {
		w.topic = tComics
	}
	role := catalog.RoleAuthor
	if s.role != "" {
		role = s.role
	}
	w.authors = []catalog.Author{withRole(s.author, role)}
	w.subjects = []string{s.form, "Văn học thiếu nhi"}
	w.year = s.year + v/12
	if w.year > 2025 {
		w.year = 2025
	}
	w.spread = popOf[s.pop] * (1 - float64(v)/float64(2*s.volumes))
	return w
}

func taleWork(r *rng, tale, series string) *work {
	w := &work{title: tale, pub: pKimDong, ddc: "398.209597", topic: tChildren, series: []string{series},
		illus: true, pages: 16 + 8*r.intn(3), height: 24, year: recentYear(r, 2010)}
	if series == "Kho tàng truyện cổ tích Việt Nam" {
		w.pub = pVanHoc
		w.pages = 120
		w.height = 21
	}
	w.authors = []catalog.Author{withRole(authorName(hashOf(series, "lời")), catalog.RoleEditor),
		withRole(authorName(hashOf(tale, "tranh")), catalog.RoleIllustrator)}
	w.subjects = []string{formTales, "Văn học dân gian", "Văn học thiếu nhi"}
	w.spread = 0.2
	return w
}

func historyPictureWork(r *rng, title string, v int) *work {
	w := &work{title: title, pub: pKimDong, ddc: "959.7", topic: tChildren, series: []string{"Lịch sử Việt Nam bằng tranh"},
		illus: true, pages: 80 + r.intn(40), height: 21, year: 2016 + v%8}
	w.authors = []catalog.Author{withRole("Trần Bạch Đằng", catalog.RoleEditor)}
	w.subjects = []string{"Lịch sử Việt Nam", "Truyện tranh", "Văn học thiếu nhi"}
	w.spread = 0.3
	return w
}

// textbookSeriesEnglish names the English textbooks of each series.
var textbookSeriesEnglish = map[string]string{
	"Kết nối tri thức với cuộc sống": "Global Success", "Cánh diều": "Explore English", "Chân trời sáng tạo": "Friends Plus",
}

// textbookEditors are the general editors of the main subjects, per series.
var textbookEditors = map[string]string{
	"Toán|Kết nối tri thức với cuộc sống": "Hà Huy Khoái", "Toán|Cánh diều": "Đỗ Đức Thái", "Toán|Chân trời sáng tạo": "Trần Nam Dũng",
	"Ngữ văn|Kết nối tri thức với cuộc sống": "Bùi Mạnh Hùng", "Ngữ văn|Cánh diều": "Nguyễn Minh Thuyết",
	"Tiếng Việt|Cánh diều": "Nguyễn Minh Thuyết", "Tiếng Việt|Kết nối tri thức với cuộc sống": "Bùi Mạnh Hùng",
	"Tiếng Anh|Kết nối tri thức với cuộc sống": "Hoàng Văn Vân",
}

func textbookWork(r *rng, sub schoolSubject, grade int, s textbookSeries, kind string, v, vols int) *work {
	name := sub.name + " " + strconv.Itoa(grade)
	if sub.name == "Tiếng Anh" {
		name += " " + textbookSeriesEnglish[s.name]
	}
	w := &work{pub: s.pub, grade: grade, level: gradeLevel(grade), textbook: s.name, topic: tTextbook,
		series: []string{s.name}, year: rollout[grade], illus: true, height: 27, pages: 120 + 8*r.intn(12)}
	switch kind {
	case "SGK":
		w.title = name
		if vols > 1 {
			w.title += ". Tập " + strconv.Itoa(v)
		}
		w.subjects = []string{"Sách giáo khoa", sub.name, "Lớp " + strconv.Itoa(grade)}
	case "SBT":
		w.title = "Bài tập " + name
		w.topic = tStudy
		w.subjects = []string{"Sách bài tập", sub.name, "Lớp " + strconv.Itoa(grade)}
		w.height = 24
	case "SGV":
		w.title = name + ". Sách giáo viên"
		w.teacher = true
		w.subjects = []string{"Sách giáo viên", sub.name, "Lớp " + strconv.Itoa(grade)}
		w.height = 24
	}
	w.ddc = sub.ddcS
	if grade <= 5 || w.ddc == "" {
		w.ddc = sub.ddcP
	}
	if w.ddc == "" {
		w.ddc = "372"
	}
	if sub.name == "Tiếng Anh" {
		w.languages = []string{"eng", "vie"}
	}
	if ed, ok := textbookEditors[sub.name+"|"+s.name]; ok {
		w.authors = []catalog.Author{withRole(ed, "tổng chủ biên")}
	} else {
		w.authors = []catalog.Author{withRole(authorName(hashOf(sub.name, s.name, "tcb")), "tổng chủ biên")}
	}
	w.authors = append(w.authors, withRole(authorName(hashOf(sub.name, s.name, strconv.Itoa(grade))), "chủ biên"))
	return w
}

func lawWork(r *rng, l law, pattern string, spread float64) *work {
	name := l.name + " năm " + strconv.Itoa(l.year)
	if l.year == 2013 && strings.HasPrefix(l.name, "Hiến pháp") {
		name = l.name + " năm 2013"
	}
	w := &work{title: fmt.Sprintf(pattern, name), ddc: l.ddc, topic: tLaw, spread: spread,
		pub: pick(r, []int{pChinhTri, pTuPhap, pTuPhap, pLaoDong, pHongDuc}), height: 19, pages: 60 + r.intn(400)}
	w.year = l.year + 1 + r.intn(2)
	if w.year > 2025 {
		w.year = 2025
	}
	if pattern != "%s" && pattern != "%s (hiện hành)" && pattern != "%s và văn bản hướng dẫn thi hành" {
		w.authors = authorsFor(w.title, 1+r.intn(2))
	}
	w.subjects = []string{"Pháp luật", strings.TrimSuffix(l.name, " nước Cộng hòa xã hội chủ nghĩa Việt Nam"), "Việt Nam"}
	return w
}

func politicsWork(r *rng, title string, spread float64) *work {
	w := &work{title: title, pub: pChinhTri, ddc: "335.4346", topic: tPolitics, spread: spread, year: recentYear(r, 2009)}
	if strings.Contains(title, "Đảng") || strings.Contains(title, "Văn kiện") {
		w.ddc = "324.2597075"
		w.authors = []catalog.Author{corporate("Đảng Cộng sản Việt Nam")}
	}
	w.subjects = []string{"Chính trị", "Tư tưởng Hồ Chí Minh", "Việt Nam"}
	if w.ddc != "335.4346" {
		w.subjects = []string{"Chính trị", "Đảng Cộng sản Việt Nam", "Việt Nam"}
	}
	return w
}

func localWork(r *rng, title string, spread float64) *work {
	w := &work{title: title, topic: tLocal, spread: spread, ddc: "959.727", year: recentYear(r, 2000),
		pub: pick(r, []int{pVHDT, pKHXH, pHoiNhaVan, pChinhTri, pLaoDong})}
	switch {
	case strings.Contains(title, "Quan họ") || strings.Contains(title, "Ca trù") || strings.Contains(title, "chèo"):
		w.ddc = "782.4216209597"
		w.subjects = []string{"Quan họ", "Dân ca", "Bắc Ninh"}
	case strings.Contains(title, "tranh") || strings.Contains(title, "Tranh"):
		w.ddc = "769.09597"
		w.subjects = []string{"Tranh dân gian", "Đông Hồ", "Bắc Ninh"}
		w.illus = true
	case strings.Contains(title, "Lễ hội") || strings.Contains(title, "Đồng dao"):
		w.ddc = "394.269597"
		w.subjects = []string{"Lễ hội", "Văn hóa dân gian", "Bắc Ninh"}
	case strings.Contains(title, "Chùa"):
		w.ddc = "294.3435"
		w.subjects = []string{"Phật giáo", "Di tích lịch sử", "Bắc Ninh"}
	case strings.Contains(title, "Làng") || strings.Contains(title, "nghề"):
		w.ddc = "680.959727"
		w.subjects = []string{"Làng nghề", "Bắc Ninh"}
	default:
		w.subjects = []string{"Lịch sử", "Văn hóa", "Bắc Ninh"}
	}
	w.authors = authorsFor(title, 1+r.intn(3))
	return w
}

func historyWork(r *rng, title string, spread float64) *work {
	w := &work{title: title, topic: tHistory, spread: spread, ddc: "959.7", year: recentYear(r, 2000),
		pub: pick(r, []int{pKHXH, pChinhTri, pGiaoDuc, pKimDong, pQDND, pDHQGHN})}
	if strings.Contains(title, "Địa lí") || strings.Contains(title, "Atlat") {
		w.ddc = "915.97"
		w.subjects = []string{"Địa lí", "Việt Nam"}
		if strings.Contains(title, "Atlat") {
			w.format = catalog.FormatMap
			w.pub = pGiaoDuc
		}
	} else {
		w.subjects = []string{"Lịch sử Việt Nam", "Lịch sử"}
	}
	w.authors = authorsFor(title, 1+r.intn(3))
	return w
}

func referenceWork(r *rng, title string) *work {
	w := &work{title: title, topic: tReference, spread: 0.25, ddc: "495.9223", year: recentYear(r, 2005),
		pub: pick(r, []int{pHongDuc, pDHQGHN, pKHXH, pDanTri}), pages: 900 + r.intn(1200), height: 24}
	switch {
	case strings.Contains(title, "Anh"):
		w.ddc = "423.95922"
		w.languages = []string{"vie", "eng"}
	case strings.Contains(title, "Hán"):
		w.ddc = "495.17395922"
	case strings.Contains(title, "bách khoa"):
		w.ddc = "039.95922"
	case strings.Contains(title, "Toán"):
		w.ddc = "510"
		w.pages = 240
	}
	w.subjects = []string{"Từ điển", "Sách tra cứu"}
	w.authors = authorsFor(title, 1)
	return w
}

// specialWorks are the few works of other formats: periodicals, maps,
// recordings, theses, e-books and audiobooks.
func specialWorks() []func(*rng) *work {
	var out []func(*rng) *work
	add := func(f func(*rng) *work) { out = append(out, f) }
	for y := 2015; y <= 2025; y++ {
		y := y
		add(func(r *rng) *work {
			return &work{title: "Văn nghệ Bắc Ninh", subtitle: "Tạp chí của Hội Văn học Nghệ thuật tỉnh Bắc Ninh. Năm " + strconv.Itoa(y),
				topic: tLocal, format: catalog.FormatPeriodical, ddc: "059.9597", year: y, pub: pHoiNhaVan,
				authors: []catalog.Author{corporate("Hội Văn học Nghệ thuật tỉnh Bắc Ninh")}, spread: 0.15,
				subjects: []string{"Tạp chí", "Văn học nghệ thuật", "Bắc Ninh"}}
		})
		add(func(r *rng) *work {
			return &work{title: "Báo Bắc Ninh", subtitle: "Đóng tập năm " + strconv.Itoa(y),
				topic: tLocal, format: catalog.FormatPeriodical, ddc: "079.597", year: y, pub: pVHDT,
				authors: []catalog.Author{corporate("Báo Bắc Ninh")}, spread: 0.1,
				subjects: []string{"Báo", "Bắc Ninh"}}
		})
	}
	for _, m := range []string{"Bản đồ hành chính tỉnh Bắc Ninh", "Bản đồ du lịch Bắc Ninh", "Bản đồ hành chính Việt Nam"} {
		m := m
		add(func(r *rng) *work {
			return &work{title: m, topic: tReference, format: catalog.FormatMap, ddc: "912.597", year: recentYear(r, 2015),
				pub: pTTTT, spread: 0.3, pages: 1, subjects: []string{"Bản đồ", "Bắc Ninh"}}
		})
	}
	for _, m := range []string{"Quan họ Bắc Ninh – những làn điệu cổ", "Quan họ Bắc Ninh – tuyển chọn", "Dân ca ba miền", "Hát ru Việt Nam"} {
		m := m
		add(func(r *rng) *work {
			return &work{title: m, topic: tLocal, format: catalog.FormatMusic, ddc: "782.42162", year: recentYear(r, 2010),
				pub: pVHDT, spread: 0.15, pages: 1, subjects: []string{"Âm nhạc", "Dân ca", "Quan họ"},
				physical: "1 đĩa CD (60 phút)"}
		})
	}
	for _, m := range []string{"Hội Lim – phim tài liệu", "Làng tranh Đông Hồ – phim tài liệu", "Kinh Bắc – đất và người"} {
		m := m
		add(func(r *rng) *work {
			return &work{title: m, topic: tLocal, format: catalog.FormatVideo, ddc: "959.727", year: recentYear(r, 2010),
				pub: pVHDT, spread: 0.1, pages: 1, subjects: []string{"Phim tài liệu", "Bắc Ninh"},
				physical: "1 đĩa DVD (45 phút)"}
		})
	}
	for i, t := range []string{
		"Phát triển văn hóa đọc ở cộng đồng dân cư tỉnh Bắc Ninh", "Bảo tồn và phát huy giá trị dân ca Quan họ trong đời sống đương đại",
		"Làng nghề truyền thống ở Bắc Ninh trong quá trình công nghiệp hóa", "Tổ chức hệ thống thư viện công cộng tỉnh Bắc Ninh",
		"Tranh dân gian Đông Hồ trong bối cảnh kinh tế thị trường", "Chuyển đổi số trong thư viện công cộng cấp huyện",
	} {
		i, t := i, t
		add(func(r *rng) *work {
			return &work{title: t, subtitle: "Luận văn thạc sĩ", topic: tLocal, format: catalog.FormatThesis, ddc: "020.959727",
				year: 2012 + i*2, pub: pDHQGHN, spread: 0.0, authors: authorsFor(t, 1), pages: 110 + r.intn(60),
				subjects: []string{"Luận văn", "Bắc Ninh"}, height: 30}
		})
	}
	for _, c := range []string{"Truyện Kiều", "Tắt đèn", "Dế Mèn phiêu lưu ký", "Số đỏ", "Nhà giả kim", "Đắc nhân tâm"} {
		c := c
		add(func(r *rng) *work {
			a := "Nguyễn Du"
			for _, list := range [][]classic{vnClassics, translated} {
				for _, x := range list {
					if x.title == c {
						a = x.author
					}
				}
			}
			return &work{title: c, subtitle: "Sách nói", topic: tFiction, format: catalog.FormatAudiobook, ddc: "895.9223",
				year: 2019 + r.intn(6), pub: pTre, spread: 0.05, pages: 1, authors: []catalog.Author{person(a)},
				subjects: []string{"Sách nói"}, physical: "1 tệp âm thanh (MP3)"}
		})
	}
	return out
}

// ---------------------------------------------------------------------------
// Bulk works.

// bulkWeights are the shares of the bulk topics.
var bulkWeights = [numTopics]int{
	tFiction: 22, tPoetry: 5, tChildren: 12, tStudy: 8, tUniversity: 5, tAgriculture: 11, tLaw: 2,
	tPolitics: 1, tHistory: 4, tLocal: 3, tScience: 6, tHealth: 6, tSkills: 5, tHome: 4, tEconomy: 4, tIT: 3, tCulture: 3,
}

var bulkTotal = func() int {
	n := 0
	for _, w := range bulkWeights {
		n += w
	}
	return n
}()

func (g *generator) bulk(r *rng) *work {
	x := r.intn(bulkTotal)
	var t topic
	for t = 0; t < numTopics; t++ {
		if x < bulkWeights[t] {
			break
		}
		x -= bulkWeights[t]
	}
	w := &work{topic: t}
	switch t {
	case tFiction:
		fictionWork(r, w)
	case tPoetry:
		w.title = pick(r, poetryHeads) + " " + pick(r, fictionTails)
		if r.chance(0.2) {
			w.title = "Tuyển tập thơ " + authorName(r.next())
		}
		w.subtitle = "Thơ"
		w.ddc = "895.92214"
		w.pub = pick(r, []int{pHoiNhaVan, pHoiNhaVan, pVanHoc, pThanhNien, pPhuNu})
		w.subjects = []string{"Thơ", "Văn học Việt Nam"}
		w.authors = authorsFor(w.title, 1)
		w.pages = 60 + r.intn(100)
		w.year = recentYear(r, 1995)
	case tChildren:
		w.title = pick(r, childKinds) + " " + pick(r, childAnimals) + " " + pick(r, childTails)
		w.ddc = "895.9223"
		w.pub = pick(r, []int{pKimDong, pKimDong, pTre, pDanTri, pPhuNu, pThanhNien})
		w.subjects = []string{"Truyện thiếu nhi", "Văn học thiếu nhi"}
		w.authors = append(authorsFor(w.title, 1), withRole(authorName(hashOf(w.title, "tranh")), catalog.RoleIllustrator))
		w.illus = true
		w.pages = 24 + 8*r.intn(6)
		w.height = 24
		w.year = recentYear(r, 2005)
		if r.chance(0.3) {
			w.series = []string{pick(r, []string{"Tủ sách Em yêu đọc sách", "Truyện hay cho thiếu nhi", "Gieo mầm tính cách", "Bé ngoan"})}
		}
	case tStudy:
		if r.chance(0.1) {
			w.title = pick(r, examTitles)
			w.level = 3
			if strings.Contains(w.title, "lớp 10") {
				w.level = 2
			}
			w.subjects = []string{"Sách tham khảo", "Ôn thi"}
		} else {
			sub := pick(r, schoolSubjects[:4])
			grade := sub.from + r.intn(sub.to-sub.from+1)
			w.title = fmt.Sprintf(pick(r, studyPatterns), sub.name+" "+strconv.Itoa(grade))
			w.level, w.grade = gradeLevel(grade), grade
			w.subjects = []string{"Sách tham khảo", sub.name, "Lớp " + strconv.Itoa(grade)}
		}
		w.ddc = "373.19"
		if w.level == 1 {
			w.ddc = "372.19"
		}
		w.pub = pick(r, []int{pGiaoDuc, pDHQGHN, pDHSP, pDanTri, pHongDuc})
		w.authors = authorsFor(w.title+strconv.Itoa(w.pub), 1+r.intn(2))
		w.height = 24
		w.year = recentYear(r, 2010)
	case tUniversity:
		course := pick(r, universityCourses)
		w.title = "Giáo trình " + course
		w.pub = pick(r, []int{pGiaoDuc, pDHQGHN, pKTQD, pChinhTri, pDHSP, pNongNghiep, pYHoc})
		w.authors = authorsFor(w.title+strconv.Itoa(w.pub), 1+r.intn(3))
		w.authors[0].Role = catalog.RoleEditor
		w.ddc = universityDDC(course)
		w.subjects = []string{"Giáo trình", course}
		w.year = recentYear(r, 2005)
		w.height = 24
		if r.chance(0.2) {
			w.title += ". Tập " + strconv.Itoa(1+r.intn(2))
		}
	case tAgriculture:
		agriWork(r, w)
	case tLaw:
		if r.chance(0.3) {
			w.title = pick(r, lawGeneral)
			w.ddc = "349.597"
			w.subjects = []string{"Pháp luật", "Việt Nam"}
			w.pub = pick(r, []int{pTuPhap, pChinhTri, pLaoDong})
			w.authors = authorsFor(w.title, 1)
			w.year = recentYear(r, 2009)
		} else {
			l := pick(r, laws)
			*w = *lawWork(r, l, pick(r, lawPatterns), 0)
			w.year = l.year + 1 + r.intn(2026-l.year-1+1)
			if w.year > 2025 {
				w.year = 2025
			}
		}
	case tPolitics:
		*w = *politicsWork(r, pick(r, politics[1:]), 0)
	case tHistory:
		if r.chance(0.5) {
			*w = *historyWork(r, fmt.Sprintf(pick(r, historyPatterns), pick(r, historyFigures)), 0)
			w.ddc = "959.7092"
			w.subjects = []string{"Danh nhân", "Lịch sử Việt Nam"}
		} else {
			*w = *historyWork(r, pick(r, historyTitles), 0)
		}
	case tLocal:
		localBulk(r, w)
	case tScience:
		patternWork(r, w, sciencePatterns, []int{pKimDong, pKHKT, pTre, pDanTri, pGiaoDuc}, "Khoa học phổ thông")
		if strings.HasPrefix(w.title, "Bé học") {
			w.topic = tChildren
			w.illus = true
			w.pages = 24
		}
	case tHealth:
		patternWork(r, w, healthPatterns, []int{pYHoc, pYHoc, pPhuNu, pHongDuc, pDanTri}, "Y học")
	case tSkills:
		patternWork(r, w, skillPatterns, []int{pTre, pTongHopHCM, pPhuNu, pThanhNien, pKimDong, pLaoDong}, "Kỹ năng sống")
	case tHome:
		patternWork(r, w, homePatterns, []int{pPhuNu, pPhuNu, pVHVN, pHongDuc, pDanTri}, "Gia đình")
	case tEconomy:
		patternWork(r, w, economyPatterns, []int{pKTQD, pTaiChinh, pLaoDong, pTre, pChinhTri}, "Kinh tế")
	case tIT:
		patternWork(r, w, itPatterns, []int{pTTTT, pKHKT, pDHQGHN, pThanhNien}, "Tin học")
	case tCulture:
		patternWork(r, w, cultureTitles, []int{pVHDT, pKHXH, pHoiNhaVan, pTheGioi}, "Văn hóa")
	}
	if w.year == 0 {
		w.year = recentYear(r, 1995)
	}
	if w.edition == "" && r.chance(0.15) {
		w.edition = pick(r, []string{"Tái bản lần thứ 1", "Tái bản lần thứ 2", "Tái bản lần thứ 3", "Tái bản có sửa chữa, bổ sung", "In lần thứ 2"})
	}
	w.pop = math.Exp(1.1*r.normal() - 0.605)
	if r.chance(0.03) && w.topic != tStudy && w.topic != tChildren {
		// The provincial library's digital collection.
		w.format = catalog.FormatEbook
		w.physical = "1 tệp PDF"
	}
	return w
}

func fictionWork(r *rng, w *work) {
	switch x := r.intn(20); {
	case x < 2:
		w.title = "Tuyển tập truyện ngắn " + authorName(r.next())
	case x < 4:
		w.title = pick(r, []string{"Chuyện làng", "Trở về", "Nhớ", "Mùa xuân ở", "Người con gái", "Đêm", "Bến sông", "Tình yêu"}) +
			" " + pick(r, villageNames())
	default:
		w.title = pick(r, fictionHeads) + " " + pick(r, fictionTails)
	}
	w.authors = authorsFor(w.title, 1)
	if strings.HasPrefix(w.title, "Tuyển tập truyện ngắn ") {
		w.authors = []catalog.Author{person(strings.TrimPrefix(w.title, "Tuyển tập truyện ngắn "))}
	}
	if r.chance(0.6) {
		w.subtitle = "Tiểu thuyết"
		w.subjects = []string{"Tiểu thuyết", "Văn học Việt Nam"}
		w.pages = 200 + r.intn(350)
	} else {
		w.subtitle = "Tập truyện ngắn"
		w.subjects = []string{"Truyện ngắn", "Văn học Việt Nam"}
		w.pages = 140 + r.intn(160)
	}
	w.ddc = "895.92234"
	w.pub = pick(r, []int{pHoiNhaVan, pHoiNhaVan, pVanHoc, pVanHoc, pTre, pThanhNien, pPhuNu, pQDND, pLaoDong, pDanTri})
	w.year = recentYear(r, 1995)
}

// villageNames lists the commune names of the province, bare.
var villageNames = func() func() []string {
	var names []string
	for _, d := range districtOrder {
		for _, c := range districtCommunes[d.name] {
			names = append(names, bareUnit(c))
		}
	}
	return func() []string { return names }
}()

// bareUnit drops the kind of unit: "thị trấn Lim" → "Lim".
func bareUnit(s string) string {
	for _, p := range []string{"thị trấn ", "phường ", "xã "} {
		if strings.HasPrefix(s, p) {
			return s[len(p):]
		}
	}
	return s
}

func agriWork(r *rng, w *work) {
	w.pub = pick(r, []int{pNongNghiep, pNongNghiep, pNongNghiep, pKHKT, pHongDuc, pThanhNien})
	w.year = recentYear(r, 2000)
	w.height = 19
	w.pages = 60 + r.intn(150)
	if r.chance(0.12) {
		w.title = pick(r, agriGeneral)
		w.ddc = "630"
		w.subjects = []string{"Nông nghiệp", "Khuyến nông"}
		w.authors = authorsFor(w.title, 1+r.intn(2))
		return
	}
	s := pick(r, agriSubjects)
	var pats []string
	switch s.kind {
	case 'c':
		pats = agriCropPatterns
		w.subjects = []string{"Nông nghiệp", "Trồng trọt", s.heading}
	case 'a':
		pats = agriAnimalPatterns
		w.subjects = []string{"Nông nghiệp", "Chăn nuôi", s.heading}
	default:
		pats = agriFishPatterns
		w.subjects = []string{"Thủy sản", "Nuôi trồng thủy sản", s.heading}
	}
	w.title = fmt.Sprintf(pick(r, pats), s.name)
	w.ddc = s.ddc
	w.authors = authorsFor(w.title, 1+r.intn(2))
}

func localBulk(r *rng, w *work) {
	d := pick(r, districtOrder)
	c := pick(r, districtCommunes[d.name])
	unit := strings.SplitN(c, " ", 2)[0]
	if strings.HasPrefix(c, "thị trấn") {
		unit = "thị trấn"
	}
	bare := bareUnit(c)
	w.topic = tLocal
	w.pub = pick(r, []int{pChinhTri, pVHDT, pKHXH, pLaoDong, pHoiNhaVan})
	w.year = recentYear(r, 2000)
	w.ddc = "959.727"
	switch r.intn(6) {
	case 0, 1:
		y := 2000 + 5*r.intn(5)
		w.title = fmt.Sprintf("Lịch sử Đảng bộ %s %s (1945–%d)", unit, bare, y)
		if w.year < y+1 {
			w.year = y + 1 + r.intn(2)
		}
		w.authors = []catalog.Author{corporate("Ban Chấp hành Đảng bộ " + unit + " " + bare)}
		w.ddc = "324.2597075"
		w.subjects = []string{"Lịch sử Đảng bộ", "Lịch sử", bare, "Bắc Ninh"}
	case 2:
		w.title = "Địa chí " + unit + " " + bare
		w.subjects = []string{"Địa chí", bare, "Bắc Ninh"}
		w.authors = authorsFor(w.title, 2)
	case 3:
		w.title = "Văn hóa làng " + bare
		w.ddc = "306.0959727"
		w.subjects = []string{"Văn hóa làng", bare, "Bắc Ninh"}
		w.authors = authorsFor(w.title, 1)
	case 4:
		w.title = "Di tích lịch sử – văn hóa " + d.kind + " " + d.name
		w.subjects = []string{"Di tích lịch sử", d.name, "Bắc Ninh"}
		w.authors = []catalog.Author{corporate("Phòng Văn hóa và Thông tin " + d.kind + " " + d.name)}
	default:
		w.title = "Lễ hội truyền thống " + d.kind + " " + d.name
		w.ddc = "394.26959727"
		w.subjects = []string{"Lễ hội", d.name, "Bắc Ninh"}
		w.authors = authorsFor(w.title, 1)
	}
}

func patternWork(r *rng, w *work, ps []pattern, pubs []int, heading string) {
	p := pick(r, ps)
	word := pick(r, p.words)
	w.title = fmt.Sprintf(p.format, word)
	w.ddc = p.ddc
	w.pub = pick(r, pubs)
	w.subjects = []string{heading, upperFirst(word)}
	w.authors = authorsFor(w.title, 1+r.intn(2))
	w.year = recentYear(r, 2000)
	w.pages = 80 + r.intn(220)
}

func universityDDC(course string) string {
	switch {
	case strings.Contains(course, "Mác") || strings.Contains(course, "xã hội khoa học"):
		return "335.4"
	case strings.Contains(course, "Hồ Chí Minh"):
		return "335.4346"
	case strings.Contains(course, "Đảng"):
		return "324.2597075"
	case strings.Contains(course, "Luật") || strings.Contains(course, "Pháp luật"):
		return "349.597"
	case strings.Contains(course, "Kinh tế"):
		return "338.5"
	case strings.Contains(course, "oán") || strings.Contains(course, "Tài chính"):
		return "657"
	case strings.Contains(course, "Marketing") || strings.Contains(course, "Quản trị"):
		return "658"
	case strings.Contains(course, "Toán") || strings.Contains(course, "Đại số") || strings.Contains(course, "Giải tích") || strings.Contains(course, "Xác suất"):
		return "510"
	case strings.Contains(course, "Vật lý"):
		return "530"
	case strings.Contains(course, "Hóa"):
		return "540"
	case strings.Contains(course, "dữ liệu") || strings.Contains(course, "Lập trình") || strings.Contains(course, "máy tính") || strings.Contains(course, "điều hành"):
		return "005"
	case strings.Contains(course, "Thư viện") || strings.Contains(course, "Biên mục") || strings.Contains(course, "Phân loại"):
		return "025"
	case strings.Contains(course, "văn học") || strings.Contains(course, "Văn học"):
		return "895.92209"
	case strings.Contains(course, "Tiếng Việt") || strings.Contains(course, "ngôn ngữ"):
		return "495.922"
	case strings.Contains(course, "Tâm lý") || strings.Contains(course, "Giáo dục"):
		return "370.15"
	case strings.Contains(course, "đất") || strings.Contains(course, "Trồng trọt") || strings.Contains(course, "thực vật"):
		return "631"
	case strings.Contains(course, "Chăn nuôi") || strings.Contains(course, "Thú y"):
		return "636"
	case strings.Contains(course, "Điều dưỡng") || strings.Contains(course, "Dược") || strings.Contains(course, "Giải phẫu") || strings.Contains(course, "Sinh lý"):
		return "610"
	}
	return "300"
}

func upperFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

// classicSummary is a one-line description of a classic.
func classicSummary(c classic) string {
	switch c.title {
	case "Truyện Kiều":
		return "Truyện thơ lục bát kể cuộc đời mười lăm năm lưu lạc của Thúy Kiều, kiệt tác của văn học Việt Nam."
	case "Số đỏ":
		return "Tiểu thuyết trào phúng về Xuân Tóc Đỏ và xã hội thành thị Hà Nội những năm 1930."
	case "Tắt đèn":
		return "Tiểu thuyết về chị Dậu và cảnh sưu thuế ở nông thôn Bắc Bộ trước Cách mạng tháng Tám."
	case "Dế Mèn phiêu lưu ký":
		return "Cuộc phiêu lưu của chú Dế Mèn qua thế giới loài vật, tác phẩm nổi tiếng nhất của văn học thiếu nhi Việt Nam."
	case "Chí Phèo":
		return "Truyện ngắn về người nông dân lương thiện bị tha hóa ở làng Vũ Đại."
	case "Nỗi buồn chiến tranh":
		return "Tiểu thuyết về người lính Kiên và ký ức chiến tranh."
	case "Lều chõng", "Việc làng":
		return "Tác phẩm của nhà văn Ngô Tất Tố, người làng Lộc Hà, Từ Sơn, Bắc Ninh."
	case "Bên kia sông Đuống", "Mưa Thuận Thành":
		return "Thơ Hoàng Cầm về quê hương Kinh Bắc bên dòng sông Đuống."
	case "Cung oán ngâm khúc":
		return "Khúc ngâm của Nguyễn Gia Thiều, danh nhân Bắc Ninh, về nỗi oán của người cung nữ."
	}
	switch c.form {
	case formPoetry, formVerse:
		return "Tác phẩm thơ của " + c.author + ", in trọn bộ kèm chú thích."
	case formChildren, formTales:
		return "Tác phẩm văn học thiếu nhi của " + c.author + "."
	case formSkills:
		return "Sách kỹ năng sống được nhiều thế hệ bạn đọc Việt Nam yêu thích."
	}
	if strings.HasPrefix(c.ddc, "895.92") {
		return "Tác phẩm tiêu biểu của văn học Việt Nam, sáng tác của " + c.author + "."
	}
	return "Tác phẩm kinh điển của văn học thế giới, sáng tác của " + c.author + ", bản dịch tiếng Việt."
}

// summaryOf writes a summary for a generated work.
func summaryOf(w *work, r *rng) string {
	switch w.topic {
	case tFiction:
		return pick(r, []string{
			"Câu chuyện về những con người bình dị ở một làng quê Bắc Bộ qua những biến động của lịch sử.",
			"Tác phẩm viết về tình yêu quê hương, gia đình và những ký ức tuổi thơ không thể nào quên.",
			"Những trang văn giàu cảm xúc về cuộc sống, tình người và khát vọng của người Việt Nam hôm nay.",
			"Tiểu thuyết về số phận người phụ nữ Việt Nam trong thời chiến và thời bình.",
		})
	case tPoetry:
		return "Tập thơ gồm những bài viết về quê hương, đất nước, tình yêu và con người Việt Nam."
	case tChildren, tComics:
		return "Câu chuyện nhẹ nhàng, dễ thương, giúp các em nhỏ biết yêu thương, chia sẻ và ham học hỏi."
	case tTextbook:
		if w.teacher {
			return "Sách giáo viên hướng dẫn dạy học " + strings.TrimSuffix(w.title, ". Sách giáo viên") + " theo Chương trình giáo dục phổ thông 2018, bộ sách " + w.textbook + "."
		}
		return "Sách giáo khoa theo Chương trình giáo dục phổ thông 2018, bộ sách " + w.textbook + "."
	case tStudy:
		return "Tóm tắt kiến thức, bài tập và đề kiểm tra có lời giải giúp học sinh ôn tập và nâng cao kết quả học tập."
	case tUniversity:
		return "Giáo trình dùng cho sinh viên các trường đại học, cao đẳng; trình bày những kiến thức cơ bản và hệ thống câu hỏi ôn tập."
	case tAgriculture:
		return pick(r, []string{
			"Hướng dẫn kỹ thuật chọn giống, chăm sóc, phòng trừ sâu bệnh và thu hoạch, phù hợp với điều kiện sản xuất ở đồng bằng Bắc Bộ.",
			"Những kinh nghiệm sản xuất và mô hình làm ăn hiệu quả giúp bà con nông dân nâng cao thu nhập.",
			"Sổ tay kỹ thuật dành cho nông dân, cán bộ khuyến nông và hợp tác xã.",
		})
	case tLaw:
		return "Giới thiệu nội dung và những điểm mới của văn bản pháp luật, kèm các văn bản hướng dẫn thi hành."
	case tPolitics:
		return "Tài liệu phục vụ học tập, nghiên cứu lý luận chính trị và công tác tuyên truyền ở cơ sở."
	case tHistory:
		return "Trình bày những sự kiện, nhân vật tiêu biểu của lịch sử Việt Nam qua các thời kỳ dựng nước và giữ nước."
	case tLocal:
		return "Tư liệu về lịch sử, văn hóa và con người vùng đất Kinh Bắc – Bắc Ninh."
	case tReference:
		return "Sách tra cứu dùng cho học sinh, sinh viên, giáo viên và bạn đọc rộng rãi."
	case tHealth:
		return "Kiến thức phổ thông về phòng bệnh, chăm sóc sức khỏe và dinh dưỡng hợp lý cho mọi gia đình."
	case tSkills:
		return "Những bài học thiết thực giúp bạn đọc, nhất là thanh thiếu niên, rèn luyện kỹ năng sống và làm việc."
	case tScience:
		return "Giải đáp những câu hỏi thú vị về thế giới tự nhiên bằng ngôn ngữ dễ hiểu, nhiều hình minh họa."
	case tIT:
		return "Hướng dẫn từng bước, có ví dụ và bài thực hành, cho người mới bắt đầu."
	}
	return "Sách giới thiệu những kiến thức cơ bản và kinh nghiệm thực tiễn của Việt Nam."
}

// ---------------------------------------------------------------------------
// Holdings.

// holding is one library's record of a work with its copies.
type holding struct {
	rec   *catalog.Record
	items []*catalog.Item
}

// affinity is how much each kind of library leans to each topic, relative
// to its own average.
var affinity = map[library.Type]*[numTopics]float64{
	//                             Fic  Poe  Chi  Com  Txt  Stu  Uni  Agr  Law  Pol  His  Loc  Tra  Sci  Hea  Ski  Hom  Eco  IT   Ref  Cul
	library.TypeProvincial: {1, 1, 1, 0.8, 0.5, 0.6, 1.3, 1, 1, 1.2, 1.2, 3, 1, 1, 1, 1, 1, 1.2, 1.2, 2, 1.2},
	library.TypeDistrict:   {1.2, 1, 1.3, 1, 0.2, 0.6, 0.3, 1.2, 1.2, 1.3, 1.2, 1.5, 1, 1, 1, 1, 1, 0.8, 0.8, 1, 1.1},
	library.TypeCommune:    {0.8, 0.6, 1.5, 0.8, 0.1, 0.3, 0.05, 3, 3, 2.5, 1, 1.5, 0.5, 0.8, 1.5, 1, 1.2, 0.5, 0.4, 0.5, 1},
	library.TypeSchool:     {0.8, 0.8, 1.5, 0.5, 0, 4, 0.1, 0.2, 0.4, 0.6, 1.5, 0.8, 1, 2, 0.5, 1.5, 0.2, 0.1, 0.8, 1.5, 0.6},
	library.TypeVillage:    {0.8, 0.5, 2, 1, 0.05, 0.2, 0.02, 4, 2, 1.5, 0.8, 1.2, 0.4, 0.6, 2, 0.8, 1.5, 0.3, 0.2, 0.2, 1},
	library.TypePrivate:    {1.5, 0.8, 2.5, 2, 0.05, 0.5, 0.1, 0.5, 0.3, 0.3, 0.8, 0.5, 2, 1.5, 0.8, 2, 1.5, 0.8, 0.6, 0.5, 0.6},
}

// meanAffinity is the affinity of a kind of library averaged over the bulk.
var meanAffinity = func() map[library.Type]float64 {
	out := map[library.Type]float64{}
	for t, a := range affinity {
		s := 0.0
		for k, w := range bulkWeights {
			s += float64(w) * a[k]
		}
		out[t] = s / float64(bulkTotal)
	}
	return out
}()

// holdProbability is the chance that one library of kind t (and school
// level) holds w.
func (g *generator) holdProbability(w *work, t library.Type, level int) float64 {
	a := affinity[t][w.topic]
	if t == library.TypeSchool && w.level > 0 && w.level != level {
		return 0
	}
	var p float64
	if w.spread > 0 {
		p = w.spread * a
		if t == library.TypeProvincial {
			p = 1
		}
	} else {
		p = g.targets[t] / float64(g.n) * a / meanAffinity[t] * w.pop
	}
	return math.Min(p, 1)
}

// holders picks the libraries that hold w, provincial library first.
func (g *generator) holders(w *work, r *rng) []int {
	var out []int
	if g.prov >= 0 {
		if w.format == catalog.FormatThesis || r.chance(g.holdProbability(w, library.TypeProvincial, 0)) {
			out = append(out, g.prov)
		}
	}
	for _, gr := range g.groups {
		if w.topic == tTextbook && gr.typ == library.TypeSchool {
			// A school uses one series for each subject and grade, and
			// holds the others now and then for its teachers.
			if gr.level != w.level {
				continue
			}
			for _, li := range gr.libs {
				chosen := textbookSeriesList[hashOf(g.libs[li].lib.Code, w.subjects[1], strconv.Itoa(w.grade))%3].name
				if chosen == w.textbook || r.chance(0.04) {
					out = append(out, li)
				}
			}
			continue
		}
		p := g.holdProbability(w, gr.typ, gr.level)
		if w.topic == tTextbook {
			p = map[library.Type]float64{library.TypeDistrict: 0.15, library.TypeCommune: 0.02}[gr.typ]
		}
		if w.format == catalog.FormatEbook || w.format == catalog.FormatAudiobook || w.format == catalog.FormatThesis {
			p = 0
		}
		out = appendBernoulli(out, gr.libs, p, r)
	}
	if len(out) == 0 {
		if g.prov >= 0 {
			out = append(out, g.prov)
		} else {
			out = append(out, r.intn(len(g.libs)))
		}
	}
	return out
}

// appendBernoulli appends each of libs with probability p, skipping ahead
// geometrically so that the cost follows the number picked.
func appendBernoulli(out, libs []int, p float64, r *rng) []int {
	switch {
	case p <= 0 || len(libs) == 0:
		return out
	case p >= 1:
		return append(out, libs...)
	}
	l := math.Log1p(-p)
	for i := -1; ; {
		u := r.float()
		if u < 1e-300 {
			u = 1e-300
		}
		i += 1 + int(math.Log(u)/l)
		if i >= len(libs) || i < 0 {
			return out
		}
		out = append(out, libs[i])
	}
}

// adjustCopies moves the copy counts towards want: each holding keeps at
// least one copy (an e-book none).
func adjustCopies(copies []int, total, want int, w *work) {
	if len(copies) == 0 || w.format == catalog.FormatEbook {
		return
	}
	for total > want {
		big := 0
		for k := range copies {
			if copies[k] > copies[big] {
				big = k
			}
		}
		if copies[big] <= 1 {
			return
		}
		copies[big]--
		total--
	}
	if total < want {
		copies[0] += want - total
	}
}

// copies is how many copies a library has of w.
func (g *generator) copies(w *work, l *libInfo, r *rng) int {
	if w.format == catalog.FormatEbook {
		return 0
	}
	switch l.typ {
	case library.TypeProvincial:
		n := 1
		for n < 6 && r.chance(0.45+w.spread*0.5) {
			n++
		}
		if w.topic == tLocal || w.topic == tReference {
			n = 1 + r.intn(2)
		}
		return n
	case library.TypeDistrict:
		switch x := r.float(); {
		case x < 0.62:
			return 1
		case x < 0.9:
			return 2
		}
		return 3
	case library.TypeSchool:
		switch {
		case w.topic == tTextbook && w.teacher:
			return 2 + r.intn(3)
		case w.topic == tTextbook:
			return g.textbookCopies[0] + r.intn(g.textbookCopies[1]-g.textbookCopies[0]+1)
		case w.topic == tStudy:
			return 1 + r.intn(3)
		}
		if r.chance(0.2) {
			return 2
		}
		return 1
	}
	if r.chance(0.1) {
		return 2
	}
	return 1
}

// holding builds library li's record of w and its copies.
func (g *generator) holding(w *work, li int, copies int, r *rng) holding {
	l := &g.libs[li]
	l.nextRec++
	rec := &catalog.Record{
		LibraryID: l.lib.ID,
		Title:     w.title, Subtitle: w.subtitle, Edition: w.edition,
		Year: w.year, Format: w.format, Languages: clone(w.languages),
		Authors: clone(w.authors), Series: clone(w.series),
	}
	pub := publishers[w.pub]
	rec.Publisher, rec.Place = pub.name, pub.place
	full := l.ils
	if full {
		rec.SourceFormat = catalog.SourceOAIDC
		rec.SourceID = "oai:" + strings.ToLower(l.lib.Code) + ".thuvien.bacninh.gov.vn:" + strconv.Itoa(l.nextRec)
		rec.DDC = w.ddc
		rec.Summary = w.summary
		rec.Subjects = clone(w.subjects)
		rec.PhysicalDescription = physical(w)
	} else {
		rec.SourceFormat = catalog.SourceCSV
		rec.SourceID = "csv:" + barcode("", l.nextRec)[1:]
		if len(w.subjects) > 0 && r.chance(0.5) {
			rec.Subjects = clone(w.subjects[:1])
		}
		if r.chance(0.3) {
			rec.PhysicalDescription = strconv.Itoa(w.pages) + " tr."
		}
		if r.chance(0.15) {
			// A spreadsheet typed with the old tone placement.
			rec.Title = oldTones(rec.Title)
		}
	}
	if w.isbn != "" && (full || r.chance(0.85)) {
		raw := w.isbn
		if r.chance(0.6) {
			raw = hyphenated(w.isbn, w.pub)
		}
		rec.ISBNs = []catalog.ISBN{{Raw: raw, ISBN13: w.isbn}}
	}
	if w.format == catalog.FormatEbook {
		rec.Links = []catalog.Link{{URL: "https://thuvienso.bacninh.gov.vn/doc/" + w.isbn, Note: "Toàn văn"}}
	}
	items := make([]*catalog.Item, 0, copies)
	for c := 0; c < copies; c++ {
		l.nextBar++
		loc, loan := location(w, l, c)
		items = append(items, &catalog.Item{
			Barcode:        barcode(l.lib.Code, l.nextBar),
			LibraryID:      l.lib.ID,
			RecordSourceID: rec.SourceID,
			Location:       loc,
			CallNumber:     w.call,
			LoanType:       loan,
			Status:         status(w, l, loan, r),
		})
	}
	return holding{rec: rec, items: items}
}

// barcode is a library's code and a six-digit sequence number.
func barcode(code string, n int) string {
	d := strconv.Itoa(n)
	if len(d) < 6 {
		d = "000000"[len(d):] + d
	}
	return code + "-" + d
}

// clone copies a list so that no two records share one.
func clone[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return append(make([]T, 0, len(s)), s...)
}

// physical is the physical description (MARC 300) of w.
func physical(w *work) string {
	if w.physical != "" {
		return w.physical
	}
	s := strconv.Itoa(w.pages) + " tr."
	if w.format == catalog.FormatMap {
		return "1 tờ bản đồ : màu ; 79 x 109 cm"
	}
	if w.illus {
		s += " : minh họa"
	}
	return s + " ; " + strconv.Itoa(w.height) + " cm"
}

// oldTones rewrites open syllables with the old tone placement
// ("hòa" → "hoà", "thủy" → "thuỷ"), as many older documents do.
func oldTones(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		if i+1 < len(rs) && (i+2 == len(rs) || !unicode.IsLetter(rs[i+2])) {
			if repl, ok := oldTone[[2]rune{rs[i], rs[i+1]}]; ok && i > 0 && unicode.IsLetter(rs[i-1]) {
				b.WriteString(repl)
				i++
				continue
			}
		}
		b.WriteRune(rs[i])
	}
	return b.String()
}

var oldTone = map[[2]rune]string{
	{'ò', 'a'}: "oà", {'ó', 'a'}: "oá", {'ỏ', 'a'}: "oả", {'õ', 'a'}: "oã", {'ọ', 'a'}: "oạ",
	{'ù', 'y'}: "uỳ", {'ú', 'y'}: "uý", {'ủ', 'y'}: "uỷ", {'ũ', 'y'}: "uỹ", {'ụ', 'y'}: "uỵ",
	{'ò', 'e'}: "oè", {'ó', 'e'}: "oé", {'ỏ', 'e'}: "oẻ", {'õ', 'e'}: "oẽ", {'ọ', 'e'}: "oẹ",
}

// callNumber is the DDC number and a cutter from the main entry.
func callNumber(w *work) string {
	entry := w.title
	if len(w.authors) > 0 && w.authors[0].Kind == catalog.AuthorPerson {
		f := strings.Fields(w.authors[0].Name)
		entry = f[len(f)-1]
	}
	return w.ddc + " " + cutter(entry) + strings.ToUpper(firstLetter(w.title))
}

// cutter is a short author mark: the first letter and two digits from the
// following letters ("Hoài" → "H62").
func cutter(s string) string {
	f := vietnamese.Fold(s)
	var letters []rune
	for _, r := range f {
		if r >= 'a' && r <= 'z' {
			letters = append(letters, r)
		}
	}
	if len(letters) == 0 {
		return "X"
	}
	out := strings.ToUpper(string(letters[0]))
	for k := 1; k < 3; k++ {
		d := 1
		if k < len(letters) {
			d = int(letters[k]-'a')*9/26 + 1
		}
		out += strconv.Itoa(d)
	}
	return out
}

func firstLetter(s string) string {
	for _, r := range vietnamese.Fold(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return string(r)
		}
	}
	return ""
}

// location is the shelf and loan type of copy c of w in library l.
func location(w *work, l *libInfo, c int) (string, string) {
	child := w.topic == tChildren || w.topic == tComics
	switch l.typ {
	case library.TypeProvincial:
		switch {
		case w.topic == tLocal && (c == 0 || w.format != catalog.FormatBook):
			return locLocal, loanReference
		case w.format == catalog.FormatPeriodical:
			return locPeriodicals, loanReference
		case w.format == catalog.FormatMusic || w.format == catalog.FormatVideo || w.format == catalog.FormatAudiobook:
			return locMultimedia, loanStandard
		case w.topic == tReference || w.format == catalog.FormatThesis:
			return locReference, loanReference
		case child:
			return locChildren, loanChildren
		case c >= 3:
			return locStack, loanStandard
		case w.year >= 2024:
			return locOpen2, loanShort
		}
		return locOpen2, loanStandard
	case library.TypeDistrict:
		switch {
		case child:
			return locChildren, loanChildren
		case w.topic == tReference || w.format == catalog.FormatPeriodical:
			return locGeneral, loanReference
		case w.topic == tLocal && c == 0:
			return locGeneral, loanReference
		}
		return locOpen, loanStandard
	case library.TypeSchool:
		switch {
		case w.topic == tTextbook && w.teacher:
			return locTeacher, loanStandard
		case w.topic == tTextbook:
			return locTextbook, loanTextbook
		case w.topic == tStudy || w.topic == tReference:
			return locStudy, loanStandard
		case child && l.level == 1:
			return "Góc đọc lớp học", loanChildren
		}
		return locStudy, loanStandard
	case library.TypeCommune:
		switch {
		case w.topic == tLaw || w.topic == tPolitics:
			return locLaw, loanStandard
		case child:
			return locCorner, loanChildren
		}
		return locOpen, loanStandard
	case library.TypeVillage:
		if child {
			return locCorner, loanChildren
		}
		return locShared, loanStandard
	}
	if child {
		return locCorner, loanChildren
	}
	return locMainShelf, loanStandard
}

// status draws a copy's status: mostly on the shelf, a tenth on loan, a few
// in processing (more among this year's books), lost or damaged; reference
// copies stay in the library.
func status(w *work, l *libInfo, loan string, r *rng) catalog.ItemStatus {
	if loan == loanReference {
		return catalog.StatusReferenceOnly
	}
	x := r.float()
	processing := 0.012
	if w.year >= 2025 {
		processing = 0.2
	}
	onLoan := 0.09
	switch {
	case loan == loanChildren:
		onLoan = 0.16
	case loan == loanTextbook:
		onLoan = 0.35
	case w.topic == tFiction || w.topic == tTranslated:
		onLoan = 0.12
	}
	switch {
	case x < 0.01:
		return catalog.StatusLost
	case x < 0.018:
		return catalog.StatusDamaged
	case x < 0.018+processing:
		return catalog.StatusInProcessing
	}
	x -= 0.018 + processing
	switch {
	case x < 0.004 && l.typ != library.TypeVillage && l.typ != library.TypePrivate:
		return catalog.StatusInTransit
	case x < 0.008 && l.typ != library.TypeVillage && l.typ != library.TypePrivate:
		return catalog.StatusOnHoldShelf
	case x < 0.008+onLoan:
		return catalog.StatusOnLoan
	}
	return catalog.StatusAvailable
}
