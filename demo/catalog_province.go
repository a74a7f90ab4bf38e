package demo

import (
	"iter"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/bacninh/thuvienso/catalog"
	"github.com/bacninh/thuvienso/library"
	"github.com/bacninh/thuvienso/vietnamese"
)

// Scale sizes a generated province.
type Scale struct {
	// Libraries is the number of libraries: the demo network's 63 first,
	// then generated commune, school, village and private libraries of the
	// eight districts.
	Libraries int
	// Works is the number of distinct works (clusters under catalog.Cluster).
	Works int
	// Items is the number of physical copies the province holds. Copies are
	// steered towards it work by work and the last works settle the rest,
	// so the total is exact unless the early works overshoot it (only at
	// scales with very few items per work).
	Items int
	// Seed makes another province of the same size.
	Seed int64
}

// FullScale is the benchmark province: about 550 libraries, 300,000 works
// and 1,000,000 items.
var FullScale = Scale{Libraries: 550, Works: 300_000, Items: 1_000_000, Seed: 1}

// SmallScale is a province for quick tests: the same shape, a hundredth of
// the works and items.
var SmallScale = Scale{Libraries: 150, Works: 3_000, Items: 11_000, Seed: 1}

// GeneratedProvince is a benchmark province: its libraries in memory and
// its catalogue as a stream.
type GeneratedProvince struct {
	Scale Scale
	// Libraries are the province's libraries, parents before children,
	// with identifiers derived from their codes.
	Libraries []*library.Library
}

// Province builds the libraries of a province of scale s; its catalogue is
// generated on demand by Holdings. Province and Holdings are deterministic:
// the same scale gives the same libraries, records and items.
func Province(s Scale) *GeneratedProvince {
	return &GeneratedProvince{Scale: s, Libraries: provinceLibraries(s.Libraries)}
}

// provinceTargets are the records per library of each kind, as a share of
// the province's works.
var provinceTargets = map[library.Type]float64{
	library.TypeProvincial: 0.4, library.TypeDistrict: 0.055, library.TypeCommune: 0.0024,
	library.TypeSchool: 0.0009, library.TypeVillage: 0.0008, library.TypePrivate: 0.001,
}

// Holdings streams the catalogue: each record with its items, the records
// of one work one after another. Memory stays flat whatever the scale: the
// generator keeps only a hash of each work's title key (to keep works
// distinct) and one counter per library and publisher; the values it yields
// are fresh and left to the caller. Every call starts the same stream again.
func (p *GeneratedProvince) Holdings() iter.Seq2[*catalog.Record, []*catalog.Item] {
	return func(yield func(*catalog.Record, []*catalog.Item) bool) {
		s := p.Scale
		t := targets{}
		for k, v := range provinceTargets {
			t[k] = v * float64(s.Works)
		}
		g := newGenerator(p.Libraries, s.Seed, s.Works, t)
		g.textbookCopies = [2]int{2, 5}
		emitted := 0
		for i := 0; i < s.Works; i++ {
			w := g.work(i)
			// Items the province should hold after this work, and how far
			// this work may move from its natural copy count.
			want := int(int64(s.Items) * int64(i+1) / int64(s.Works))
			slack := 2
			if i >= s.Works-s.Works/100-1 {
				slack = math.MaxInt32
			}
			hs := g.holdingsWithin(w, i, want-emitted, slack)
			for _, h := range hs {
				emitted += len(h.items)
				if !yield(h.rec, h.items) {
					return
				}
			}
		}
	}
}

// holdingsWithin returns the records and items of w in every library that
// holds it, with the work's total copy count moved towards budget by at most
// slack plus half its natural count (not at all when slack is negative,
// without bound when it is math.MaxInt32).
func (g *generator) holdingsWithin(w *work, i, budget, slack int) []holding {
	r := newRNG(g.seed, uint64(i)+1<<40)
	hs := g.holders(w, &r)
	copies := make([]int, len(hs))
	total := 0
	for k, li := range hs {
		copies[k] = g.copies(w, &g.libs[li], &r)
		total += copies[k]
	}
	if slack >= 0 {
		if slack < math.MaxInt32 {
			slack += total / 2
		}
		want := min(max(budget, total-slack), total+slack)
		adjustCopies(copies, total, want, w)
	}
	out := make([]holding, 0, len(hs))
	for k, li := range hs {
		out = append(out, g.holding(w, li, copies[k], &r))
	}
	return out
}

// fixedTime stamps the libraries built without a store.
var fixedTime = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// libraryID is the identifier of a library built without a store: a name
// based UUID of its code.
func libraryID(code string) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://thuvien.bacninh.gov.vn/library/"+code)).String()
}

// districtKind is the kind of each district: thành phố, thị xã or huyện.
var districtKind = func() map[string]string {
	m := map[string]string{}
	for _, d := range districtOrder {
		m[d.name] = d.kind
	}
	return m
}()

// districtCentres are approximate coordinates of each district's centre.
var districtCentres = map[string][2]float64{
	dBacNinh: {21.1812, 106.0637}, dTuSon: {21.1165, 105.9620}, dTienDu: {21.1300, 106.0300},
	dYenPhong: {21.2035, 105.9545}, dQueVo: {21.1530, 106.1565}, dThuanThanh: {21.0585, 106.0890},
	dGiaBinh: {21.0575, 106.1870}, dLuongTai: {21.0230, 106.2030},
}

// upperTHPT are the upper secondary schools the demo network does not list.
var upperTHPT = []struct{ district, name, commune string }{
	{dBacNinh, "Trường THPT Hoàng Quốc Việt", "phường Võ Cường"},
	{dBacNinh, "Trường THPT Lý Nhân Tông", "phường Vạn An"},
	{dTuSon, "Trường THPT Ngô Gia Tự", "phường Tân Hồng"},
	{dTuSon, "Trường THPT Từ Sơn", "phường Đông Ngàn"},
	{dTuSon, "Trường THPT Nguyễn Văn Cừ", "phường Phù Khê"},
	{dTienDu, "Trường THPT Tiên Du số 2", "xã Việt Đoàn"},
	{dTienDu, "Trường THPT Nguyễn Đăng Đạo", "xã Cảnh Hưng"},
	{dYenPhong, "Trường THPT Yên Phong số 2", "xã Yên Trung"},
	{dQueVo, "Trường THPT Quế Võ số 2", "xã Đào Viên"},
	{dQueVo, "Trường THPT Quế Võ số 3", "phường Phượng Mao"},
	{dThuanThanh, "Trường THPT Thuận Thành số 2", "phường Gia Đông"},
	{dThuanThanh, "Trường THPT Thuận Thành số 3", "xã Nguyệt Đức"},
	{dGiaBinh, "Trường THPT Lê Văn Thịnh", "xã Đông Cứu"},
	{dGiaBinh, "Trường THPT Gia Bình số 2", "xã Nhân Thắng"},
	{dLuongTai, "Trường THPT Lương Tài số 2", "xã Trung Chính"},
}

// provinceLibraries returns n libraries: the demo network, then generated
// ones taken round-robin from the districts so that a smaller province
// keeps the mix of kinds.
func provinceLibraries(n int) []*library.Library {
	demo := Libraries()
	if n <= len(demo) {
		return demo[:n]
	}
	out := demo
	byCode := map[string]*library.Library{}
	names := map[string]bool{}
	communeLib := map[string]string{} // district|commune → library code
	for _, l := range demo {
		byCode[l.Code] = l
		names[l.Name] = true
		if l.Type == library.TypeCommune {
			communeLib[l.District+"|"+l.Commune] = l.Code
		}
	}
	unique := func(code string) string {
		c := code
		for k := 2; byCode[c] != nil; k++ {
			c = code + strconv.Itoa(k)
		}
		return c
	}
	add := func(code, name string, typ library.Type, parent, district, commune, address string, seq int) bool {
		if names[name] {
			// Two communes of the same name in different districts.
			name += ", " + districtKind[district] + " " + district
		}
		if names[name] || len(out) >= n {
			return false
		}
		code = unique(code)
		c := districtCentres[district]
		h := hashOf(code)
		l := &library.Library{
			ID: libraryID(code), Code: code, Name: name, Type: typ, District: district, Commune: commune,
			Address:   address,
			Location:  &library.Point{Lat: round4(c[0] + (float64(h%2000)/1000-1)*0.04), Lng: round4(c[1] + (float64(h/2000%2000)/1000-1)*0.05)},
			CreatedAt: fixedTime, UpdatedAt: fixedTime,
		}
		if p := byCode[parent]; p != nil {
			l.ParentID = p.ID
		}
		switch typ {
		case library.TypeCommune:
			l.Hours, l.PickupPoint = communeHours, seq%2 == 0
		case library.TypeSchool:
			l.Hours = schoolHours
		case library.TypeVillage:
			l.Hours, l.PickupPoint = villageHours, seq%3 == 0
		default:
			l.Hours, l.PickupPoint = privateHours, seq%2 == 1
		}
		l.Hours = append([]library.OpeningHours(nil), l.Hours...)
		byCode[code] = l
		names[name] = true
		out = append(out, l)
		return true
	}
	// Candidates round-robin over the districts, commune by commune.
	maxCommunes := 0
	for _, d := range districtOrder {
		maxCommunes = max(maxCommunes, len(districtCommunes[d.name]))
	}
	for pass := 0; pass < 2 && len(out) < n; pass++ {
		for ci := 0; ci < maxCommunes && len(out) < n; ci++ {
			for di, d := range districtOrder {
				cs := districtCommunes[d.name]
				if ci >= len(cs) {
					continue
				}
				unit := cs[ci]
				bare := bareUnit(unit)
				abbr := initials(bare)
				where := unit + ", " + d.kind + " " + d.name
				seq := ci*len(districtOrder) + di
				if pass == 0 {
					code, ok := communeLib[d.name+"|"+bare]
					if !ok {
						code = unique(d.code + "-" + abbr)
						if add(code, "Thư viện "+unit, library.TypeCommune, d.code, d.name, bare,
							"Nhà văn hóa "+where, seq) {
							communeLib[d.name+"|"+bare] = code
						}
					}
					add(d.code+"-TH-"+abbr, "Thư viện Trường Tiểu học "+bare, library.TypeSchool, d.code, d.name, bare,
						"Trường Tiểu học "+bare+", "+where, seq)
					add(d.code+"-THCS-"+abbr, "Thư viện Trường THCS "+bare, library.TypeSchool, d.code, d.name, bare,
						"Trường THCS "+bare+", "+where, seq)
					if ci < 2 {
						for _, s := range upperTHPT {
							if s.district == d.name && (ci == 0) == strings.Contains(s.name, "số 2") {
								b := bareUnit(s.commune)
								add(d.code+"-THPT-"+initials(strings.TrimPrefix(s.name, "Trường THPT ")), "Thư viện "+s.name,
									library.TypeSchool, d.code, d.name, b, s.name+", "+s.commune+", "+d.kind+" "+d.name, seq)
							}
						}
					}
				}
				pos := villagePrefixes[(seq+pass*3)%len(villagePrefixes)]
				if parent, ok := communeLib[d.name+"|"+bare]; ok {
					add(parent+"-"+initials(strings.TrimPrefix(pos, "thôn ")), "Phòng đọc "+pos+", "+unit,
						library.TypeVillage, parent, d.name, bare, "Nhà văn hóa "+pos+", "+where, seq)
				}
				if (seq+pass)%3 == 0 {
					h := hashOf(d.code, unit, strconv.Itoa(pass))
					kind := privateKinds[h%uint64(len(privateKinds))]
					var name string
					switch {
					case strings.HasSuffix(kind, "ông"):
						name = kind + " " + authorSurnames[h/7%uint64(len(authorSurnames))] + " " + menMiddle[h/11%uint64(len(menMiddle))] + " " + menNames[h/13%uint64(len(menNames))]
					case strings.HasSuffix(kind, "bà"):
						name = kind + " " + authorSurnames[h/7%uint64(len(authorSurnames))] + " " + womenMiddle[h/11%uint64(len(womenMiddle))] + " " + womenNames[h/13%uint64(len(womenNames))]
					default:
						name = kind + " " + communityNames[h/7%uint64(len(communityNames))] + " " + bare
					}
					add(d.code+"-TN-"+initials(strings.TrimPrefix(strings.TrimPrefix(name, kind), " ")), name,
						library.TypePrivate, d.code, d.name, bare, where, seq)
				}
			}
		}
	}
	// A province larger than the candidates: more village reading rooms.
	for k := 0; len(out) < n; k++ {
		d := districtOrder[k%len(districtOrder)]
		cs := districtCommunes[d.name]
		unit := cs[(k/len(districtOrder))%len(cs)]
		bare := bareUnit(unit)
		num := strconv.Itoa(k/(len(districtOrder)*len(cs)) + 1)
		parent, ok := communeLib[d.name+"|"+bare]
		if !ok {
			parent = d.code
		}
		add(parent+"-XOM"+num, "Phòng đọc xóm "+num+", "+unit, library.TypeVillage, parent, d.name, bare,
			"Xóm "+num+", "+unit+", "+d.kind+" "+d.name, k)
	}
	return out
}

func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }

// initials is the upper-case ASCII initials of the words of s ("Cảnh
// Hưng" → "CH"); a one-word name keeps its first three letters.
func initials(s string) string {
	f := strings.Fields(vietnamese.Fold(s))
	var b strings.Builder
	if len(f) == 1 {
		w := f[0]
		if len(w) > 3 {
			w = w[:3]
		}
		return strings.ToUpper(w)
	}
	for _, w := range f {
		if w[0] >= 'a' && w[0] <= 'z' || w[0] >= '0' && w[0] <= '9' {
			b.WriteByte(w[0])
		}
	}
	return strings.ToUpper(b.String())
}
