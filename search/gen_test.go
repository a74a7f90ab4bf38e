package search

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/bacninh/thuvienso/catalog"
)

// The synthetic catalogue: Vietnamese words and phrases a provincial
// network's titles are made of, most frequent first. pick favours the
// beginning of each list (P(index < k) = (k/n)^⅔), so "văn học" and
// "Việt Nam" are as common as they are in a real catalogue.
var (
	genPhrases = strings.Split("văn học|Việt Nam|lịch sử|giáo trình|kỹ thuật|truyện ngắn|thiếu nhi|pháp luật|"+
		"Bắc Ninh|tiếng Việt|toán học|nông nghiệp|trồng lúa|chăn nuôi|kinh tế|văn hoá|xã hội|gia đình|"+
		"sức khỏe|y học cổ truyền|tiểu thuyết|khoa học tự nhiên|công nghệ thông tin|máy tính|lập trình|"+
		"đời sống|tâm lý học|giáo dục|trẻ em|phụ nữ|môi trường|biển đảo|du lịch|ẩm thực|làng nghề|"+
		"đồng quê|mùa xuân|hoà bình|con đường|thuỷ lợi|thủy sản|dân ca quan họ|thư viện|địa lý|"+
		"sách giáo khoa|tuyển tập|thơ|ca dao|tục ngữ|cách mạng|kháng chiến|chiến tranh|anh hùng|"+
		"quê hương|đất nước|con người|tình yêu|tuổi thơ|học sinh|sinh viên|kỹ năng sống|quản lý|"+
		"kế toán|tài chính|doanh nghiệp|marketing|tiếng Anh|từ điển|bách khoa|vật lý|hoá học|sinh học|"+
		"chính trị|triết học|tôn giáo|phật giáo|đình làng|lễ hội|gốm sứ|tranh Đông Hồ|ngựa gióng|cây ăn quả|"+
		"rau sạch|phân bón|sâu bệnh|thú y|luật đất đai|hôn nhân|thừa kế|hình sự|dân sự|giao thông", "|")
	genPrefixes = strings.Split("|||Giáo trình|Tìm hiểu|Hỏi đáp về|Cẩm nang|Sổ tay|Lịch sử|Truyện|Tuyển tập|Hướng dẫn", "|")
	genSuffixes = strings.Split("||||cho mọi người|lớp 5|lớp 9|tập 1|tập 2|dành cho thiếu nhi|ở Bắc Ninh|thế kỷ XX", "|")
	genSurnames = strings.Split("Nguyễn|Nguyễn|Nguyễn|Trần|Lê|Phạm|Hoàng|Huỳnh|Phan|Vũ|Võ|Đặng|Bùi|Đỗ|Hồ|Ngô|Dương|Lý", "|")
	genMiddles  = strings.Split("Văn|Thị|Đức|Minh|Thanh|Quang|Hữu|Ngọc|Xuân|Thu", "|")
	genGivens   = strings.Split("An|Bình|Cường|Dũng|Đông|Hà|Hải|Hạnh|Hoa|Hùng|Hương|Khánh|Lan|Linh|Long|Mai|"+
		"Minh|Nam|Nga|Phong|Phương|Quân|Sơn|Tâm|Thảo|Thủy|Trang|Trung|Tuấn|Việt|Xuân|Yến|Hoà|Thuỷ", "|")
	genPublishers = strings.Split("Nhà Xuất Bản Giáo Dục|Nhà Xuất Bản Kim Đồng|Nhà Xuất Bản Văn Học|"+
		"Nhà Xuất Bản Nông Nghiệp|Nhà Xuất Bản Tư Pháp|Nhà Xuất Bản Trẻ|Nhà Xuất Bản Hội Nhà Văn|"+
		"Nhà Xuất Bản Khoa Học Kỹ Thuật|Nhà Xuất Bản Chính Trị Quốc Gia", "|")
	genDistricts = strings.Split("Thành phố Bắc Ninh|Từ Sơn|Tiên Du|Yên Phong|Quế Võ|Thuận Thành|Gia Bình|Lương Tài", "|")
	genFormats   = []catalog.Format{catalog.FormatBook, catalog.FormatBook, catalog.FormatBook, catalog.FormatBook,
		catalog.FormatBook, catalog.FormatEbook, catalog.FormatPeriodical, catalog.FormatThesis, catalog.FormatAudiobook, catalog.FormatMap}
)

// genLibraries is the synthetic network's size: one provincial library,
// eight district ones, and schools, communes and village bookcases.
const genLibraries = 550

func genLibrary(i int) (id, typ, district string) {
	switch {
	case i == 0:
		return "lib-000", "PROVINCIAL", genDistricts[0]
	case i <= len(genDistricts):
		return fmt.Sprintf("lib-%03d", i), "DISTRICT", genDistricts[i-1]
	}
	types := []string{"SCHOOL", "SCHOOL", "COMMUNE", "VILLAGE", "PRIVATE"}
	return fmt.Sprintf("lib-%03d", i), types[i%len(types)], genDistricts[i%len(genDistricts)]
}

func pick(r *rand.Rand, list []string) string {
	f := r.Float64()
	return list[int(math.Pow(f, 1.5)*float64(len(list)))]
}

func uniform(r *rand.Rand, list []string) string { return list[r.IntN(len(list))] }

// genDocs returns n synthetic works; the same n gives the same works.
func genDocs(n int) []Document {
	docs := make([]Document, n)
	for i := range docs {
		r := rand.New(rand.NewPCG(20240501, uint64(i)))
		var words []string
		if p := pick(r, genPrefixes); p != "" {
			words = append(words, p)
		}
		for k := 0; k < 1+r.IntN(3); k++ {
			words = append(words, pick(r, genPhrases))
		}
		if s := pick(r, genSuffixes); s != "" {
			words = append(words, s)
		}
		title := capital(strings.Join(words, " "))
		d := Document{
			ID:        fmt.Sprintf("w%07d", i),
			Title:     title,
			Publisher: uniform(r, genPublishers),
			Subjects:  []string{capital(pick(r, genPhrases)), capital(pick(r, genPhrases))},
			Format:    genFormats[r.IntN(len(genFormats))],
			Languages: []string{"vie"},
			Year:      1960 + r.IntN(66),
			ISBNs:     []string{genISBN(i)},
			Summary: fmt.Sprintf("Cuốn sách trình bày về %s và %s, phục vụ bạn đọc quan tâm đến %s.",
				uniform(r, genPhrases), uniform(r, genPhrases), uniform(r, genPhrases)),
		}
		if r.IntN(10) == 0 {
			d.Languages = []string{"eng"}
		}
		if r.IntN(4) == 0 {
			d.Subtitle = pick(r, genPhrases) + " " + pick(r, genPhrases)
		}
		for k := 0; k < 1+r.IntN(2); k++ {
			d.Authors = append(d.Authors, pick(r, genSurnames)+" "+pick(r, genMiddles)+" "+pick(r, genGivens))
		}
		seen := map[string]bool{}
		for k := 0; k < 1+r.IntN(4); k++ {
			l := 0
			if r.IntN(3) > 0 {
				l = 1 + r.IntN(genLibraries-1)
			}
			id, typ, district := genLibrary(l)
			if seen[id] {
				continue
			}
			seen[id] = true
			d.LibraryIDs = append(d.LibraryIDs, id)
			if !contains(d.Districts, district) {
				d.Districts = append(d.Districts, district)
			}
			if !contains(d.LibraryTypes, typ) {
				d.LibraryTypes = append(d.LibraryTypes, typ)
			}
			copies := 1 + r.IntN(3)
			d.TotalItems += copies
			if r.IntN(3) > 0 {
				d.AvailableAt = append(d.AvailableAt, id)
				d.AvailableItems++
			}
		}
		docs[i] = d
	}
	return docs
}

func capital(s string) string {
	r := []rune(s)
	return strings.ToUpper(string(r[:1])) + string(r[1:])
}

// genISBN returns a valid Vietnamese ISBN-13 (978-604-…) for i.
func genISBN(i int) string {
	body := fmt.Sprintf("978604%06d", i%1000000)
	sum := 0
	for k, c := range body {
		w := 1
		if k%2 == 1 {
			w = 3
		}
		sum += w * int(c-'0')
	}
	return fmt.Sprintf("%s-%s-%s-%s%d", body[:3], body[3:6], body[6:8], body[8:], (10-sum%10)%10)
}
