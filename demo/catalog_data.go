package demo

// The curated lists the demo catalogue is built from. Titles, authors and
// publishers of the classics, the laws, the textbook series and Bắc Ninh's
// heritage are real; the bulk of the catalogue combines the lists below
// (crops, livestock, places, fiction title words, invented author names) into
// titles of the kinds such libraries hold. ISBN registrant codes follow the
// shape of the Vietnamese range (978-604-…) and are illustrative.

// publisher is a publishing house with its ISBN registrant code (after
// 978-604-) and place of publication as Vietnamese catalogues write it.
type publisher struct {
	name, code, place string
}

// Publishers, by index; the p* constants name them.
var publishers = []publisher{
	{"NXB Giáo dục Việt Nam", "0", "H."},
	{"NXB Trẻ", "1", "Tp. Hồ Chí Minh"},
	{"NXB Kim Đồng", "2", "H."},
	{"NXB Đại học Sư phạm", "54", "H."},
	{"NXB Văn học", "69", "H."},
	{"NXB Hội Nhà văn", "53", "H."},
	{"NXB Chính trị quốc gia Sự thật", "57", "H."},
	{"NXB Tư pháp", "81", "H."},
	{"NXB Nông nghiệp", "60", "H."},
	{"NXB Lao động", "59", "H."},
	{"NXB Phụ nữ Việt Nam", "56", "H."},
	{"NXB Thanh niên", "64", "H."},
	{"NXB Đại học Quốc gia Hà Nội", "62", "H."},
	{"NXB Hồng Đức", "86", "H."},
	{"NXB Dân trí", "88", "H."},
	{"NXB Thế giới", "77", "H."},
	{"NXB Tổng hợp Thành phố Hồ Chí Minh", "58", "Tp. Hồ Chí Minh"},
	{"NXB Khoa học xã hội", "956", "H."},
	{"NXB Văn hóa dân tộc", "70", "H."},
	{"NXB Khoa học và Kỹ thuật", "67", "H."},
	{"NXB Y học", "66", "H."},
	{"NXB Thông tin và Truyền thông", "80", "H."},
	{"NXB Quân đội nhân dân", "51", "H."},
	{"NXB Đại học Kinh tế Quốc dân", "946", "H."},
	{"NXB Tài chính", "79", "H."},
	{"NXB Công an nhân dân", "72", "H."},
	{"NXB Văn hóa – Văn nghệ", "68", "Tp. Hồ Chí Minh"},
	{"NXB Mỹ thuật", "78", "H."},
}

const (
	pGiaoDuc = iota
	pTre
	pKimDong
	pDHSP
	pVanHoc
	pHoiNhaVan
	pChinhTri
	pTuPhap
	pNongNghiep
	pLaoDong
	pPhuNu
	pThanhNien
	pDHQGHN
	pHongDuc
	pDanTri
	pTheGioi
	pTongHopHCM
	pKHXH
	pVHDT
	pKHKT
	pYHoc
	pTTTT
	pQDND
	pKTQD
	pTaiChinh
	pCAND
	pVHVN
	pMyThuat
)

// classic is a real, well-known book: its author (with translator when it is
// a translation), the year it first appeared, its DDC and form, and the
// publishers that keep it in print.
type classic struct {
	title, author, translator string
	year                      int
	ddc, form                 string
	pubs                      []int
	// pop is how widely the network holds it, 1 (a few libraries) to 5
	// (nearly every library).
	pop int
}

// Forms of literature, used as the first subject heading.
const (
	formNovel    = "Tiểu thuyết"
	formStories  = "Truyện ngắn"
	formPoetry   = "Thơ"
	formVerse    = "Truyện thơ"
	formMemoir   = "Hồi ký"
	formEssay    = "Tùy bút"
	formChildren = "Truyện thiếu nhi"
	formTales    = "Truyện cổ tích"
	formClassic  = "Văn học cổ điển"
	formCritique = "Nghiên cứu văn học"
	formSkills   = "Kỹ năng sống"
	formScience  = "Khoa học phổ thông"
	formHistory  = "Lịch sử"
)

// vnClassics are Vietnamese literature from the middle ages to today.
var vnClassics = []classic{
	{title: "Truyện Kiều", author: "Nguyễn Du", year: 1820, ddc: "895.9221", form: formVerse, pubs: []int{pVanHoc, pGiaoDuc, pKimDong, pHoiNhaVan}, pop: 5},
	{title: "Lục Vân Tiên", author: "Nguyễn Đình Chiểu", year: 1864, ddc: "895.9221", form: formVerse, pubs: []int{pVanHoc, pGiaoDuc}, pop: 4},
	{title: "Chinh phụ ngâm", author: "Đặng Trần Côn", translator: "Đoàn Thị Điểm", year: 1741, ddc: "895.9221", form: formPoetry, pubs: []int{pVanHoc, pGiaoDuc}, pop: 3},
	{title: "Cung oán ngâm khúc", author: "Nguyễn Gia Thiều", year: 1800, ddc: "895.9221", form: formPoetry, pubs: []int{pVanHoc, pHoiNhaVan}, pop: 3},
	{title: "Thơ Hồ Xuân Hương", author: "Hồ Xuân Hương", year: 1820, ddc: "895.9221", form: formPoetry, pubs: []int{pVanHoc, pHoiNhaVan, pGiaoDuc}, pop: 4},
	{title: "Quốc âm thi tập", author: "Nguyễn Trãi", year: 1440, ddc: "895.9221", form: formPoetry, pubs: []int{pVanHoc}, pop: 2},
	{title: "Bình Ngô đại cáo", author: "Nguyễn Trãi", year: 1428, ddc: "895.9228", form: formClassic, pubs: []int{pVanHoc, pKimDong}, pop: 3},
	{title: "Truyền kỳ mạn lục", author: "Nguyễn Dữ", year: 1547, ddc: "895.9223", form: formClassic, pubs: []int{pVanHoc}, pop: 2},
	{title: "Hoàng Lê nhất thống chí", author: "Ngô gia văn phái", year: 1800, ddc: "895.9223", form: formNovel, pubs: []int{pVanHoc, pGiaoDuc}, pop: 4},
	{title: "Vũ trung tùy bút", author: "Phạm Đình Hổ", year: 1810, ddc: "895.9224", form: formEssay, pubs: []int{pVanHoc}, pop: 2},
	{title: "Thượng kinh ký sự", author: "Lê Hữu Trác", year: 1783, ddc: "895.9228", form: formMemoir, pubs: []int{pVanHoc}, pop: 2},
	{title: "Thơ Nguyễn Khuyến", author: "Nguyễn Khuyến", year: 1900, ddc: "895.9221", form: formPoetry, pubs: []int{pVanHoc, pGiaoDuc}, pop: 3},
	{title: "Thơ văn Trần Tế Xương", author: "Trần Tế Xương", year: 1907, ddc: "895.9221", form: formPoetry, pubs: []int{pVanHoc}, pop: 2},
	{title: "Số đỏ", author: "Vũ Trọng Phụng", year: 1936, ddc: "895.9223", form: formNovel, pubs: []int{pVanHoc, pHoiNhaVan, pKimDong}, pop: 5},
	{title: "Giông tố", author: "Vũ Trọng Phụng", year: 1936, ddc: "895.9223", form: formNovel, pubs: []int{pVanHoc, pHoiNhaVan}, pop: 3},
	{title: "Kỹ nghệ lấy Tây", author: "Vũ Trọng Phụng", year: 1934, ddc: "895.9228", form: "Phóng sự", pubs: []int{pVanHoc}, pop: 2},
	{title: "Tắt đèn", author: "Ngô Tất Tố", year: 1939, ddc: "895.9223", form: formNovel, pubs: []int{pVanHoc, pKimDong, pHoiNhaVan, pGiaoDuc}, pop: 5},
	{title: "Lều chõng", author: "Ngô Tất Tố", year: 1941, ddc: "895.9223", form: formNovel, pubs: []int{pVanHoc, pHoiNhaVan}, pop: 4},
	{title: "Việc làng", author: "Ngô Tất Tố", year: 1940, ddc: "895.9228", form: "Phóng sự", pubs: []int{pVanHoc}, pop: 3},
	{title: "Chí Phèo", author: "Nam Cao", year: 1941, ddc: "895.9223", form: formStories, pubs: []int{pVanHoc, pKimDong, pHoiNhaVan}, pop: 5},
	{title: "Lão Hạc", author: "Nam Cao", year: 1943, ddc: "895.9223", form: formStories, pubs: []int{pKimDong, pVanHoc}, pop: 5},
	{title: "Sống mòn", author: "Nam Cao", year: 1944, ddc: "895.9223", form: formNovel, pubs: []int{pVanHoc, pHoiNhaVan}, pop: 3},
	{title: "Đời thừa", author: "Nam Cao", year: 1943, ddc: "895.9223", form: formStories, pubs: []int{pVanHoc}, pop: 2},
	{title: "Dế Mèn phiêu lưu ký", author: "Tô Hoài", year: 1941, ddc: "895.9223", form: formChildren, pubs: []int{pKimDong, pVanHoc}, pop: 5},
	{title: "Vợ chồng A Phủ", author: "Tô Hoài", year: 1952, ddc: "895.9223", form: formStories, pubs: []int{pKimDong, pVanHoc}, pop: 4},
	{title: "Cát bụi chân ai", author: "Tô Hoài", year: 1992, ddc: "895.9228", form: formMemoir, pubs: []int{pHoiNhaVan, pTre}, pop: 2},
	{title: "Nỗi buồn chiến tranh", author: "Bảo Ninh", year: 1990, ddc: "895.9223", form: formNovel, pubs: []int{pTre, pHoiNhaVan}, pop: 4},
	{title: "Bỉ vỏ", author: "Nguyên Hồng", year: 1938, ddc: "895.9223", form: formNovel, pubs: []int{pVanHoc, pHoiNhaVan}, pop: 4},
	{title: "Những ngày thơ ấu", author: "Nguyên Hồng", year: 1940, ddc: "895.9228", form: formMemoir, pubs: []int{pKimDong, pVanHoc}, pop: 4},
	{title: "Vợ nhặt", author: "Kim Lân", year: 1962, ddc: "895.9223", form: formStories, pubs: []int{pVanHoc, pKimDong}, pop: 5},
	{title: "Làng", author: "Kim Lân", year: 1948, ddc: "895.9223", form: formStories, pubs: []int{pKimDong}, pop: 3},
	{title: "Đất rừng phương Nam", author: "Đoàn Giỏi", year: 1957, ddc: "895.9223", form: formChildren, pubs: []int{pKimDong, pTre}, pop: 5},
	{title: "Tuổi thơ dữ dội", author: "Phùng Quán", year: 1988, ddc: "895.9223", form: formChildren, pubs: []int{pKimDong}, pop: 5},
	{title: "Gánh hàng hoa", author: "Khái Hưng", year: 1934, ddc: "895.9223", form: formNovel, pubs: []int{pVanHoc}, pop: 2},
	{title: "Đoạn tuyệt", author: "Nhất Linh", year: 1935, ddc: "895.9223", form: formNovel, pubs: []int{pVanHoc, pHoiNhaVan}, pop: 3},
	{title: "Nửa chừng xuân", author: "Khái Hưng", year: 1934, ddc: "895.9223", form: formNovel, pubs: []int{pVanHoc}, pop: 3},
	{title: "Gió đầu mùa", author: "Thạch Lam", year: 1937, ddc: "895.9223", form: formStories, pubs: []int{pVanHoc, pKimDong}, pop: 4},
	{title: "Hà Nội băm sáu phố phường", author: "Thạch Lam", year: 1943, ddc: "895.9224", form: formEssay, pubs: []int{pVanHoc, pHoiNhaVan}, pop: 3},
	{title: "Vang bóng một thời", author: "Nguyễn Tuân", year: 1940, ddc: "895.9223", form: formStories, pubs: []int{pVanHoc, pHoiNhaVan}, pop: 4},
	{title: "Bước đường cùng", author: "Nguyễn Công Hoan", year: 1938, ddc: "895.9223", form: formNovel, pubs: []int{pVanHoc}, pop: 3},
	{title: "Quê mẹ", author: "Thanh Tịnh", year: 1941, ddc: "895.9223", form: formStories, pubs: []int{pKimDong, pVanHoc}, pop: 3},
	{title: "Thi nhân Việt Nam", author: "Hoài Thanh", year: 1942, ddc: "895.92213", form: formCritique, pubs: []int{pVanHoc, pHoiNhaVan}, pop: 4},
	{title: "Thơ thơ", author: "Xuân Diệu", year: 1938, ddc: "895.9221", form: formPoetry, pubs: []int{pVanHoc, pHoiNhaVan}, pop: 3},
	{title: "Lửa thiêng", author: "Huy Cận", year: 1940, ddc: "895.9221", form: formPoetry, pubs: []int{pVanHoc}, pop: 3},
	{title: "Lỡ bước sang ngang", author: "Nguyễn Bính", year: 1940, ddc: "895.9221", form: formPoetry, pubs: []int{pVanHoc, pHoiNhaVan}, pop: 3},
	{title: "Gái quê", author: "Hàn Mặc Tử", year: 1936, ddc: "895.9221", form: formPoetry, pubs: []int{pVanHoc}, pop: 2},
	{title: "Từ ấy", author: "Tố Hữu", year: 1946, ddc: "895.9221", form: formPoetry, pubs: []int{pVanHoc, pGiaoDuc}, pop: 4},
	{title: "Việt Bắc", author: "Tố Hữu", year: 1954, ddc: "895.9221", form: formPoetry, pubs: []int{pVanHoc}, pop: 3},
	{title: "Bên kia sông Đuống", author: "Hoàng Cầm", year: 1948, ddc: "895.9221", form: formPoetry, pubs: []int{pVanHoc, pHoiNhaVan}, pop: 4},
	{title: "Mưa Thuận Thành", author: "Hoàng Cầm", year: 1960, ddc: "895.9221", form: formPoetry, pubs: []int{pHoiNhaVan}, pop: 3},
	{title: "Mặt đường khát vọng", author: "Nguyễn Khoa Điềm", year: 1974, ddc: "895.9221", form: formPoetry, pubs: []int{pVanHoc}, pop: 3},
	{title: "Ánh trăng", author: "Nguyễn Duy", year: 1984, ddc: "895.9221", form: formPoetry, pubs: []int{pVanHoc, pHoiNhaVan}, pop: 3},
	{title: "Góc sân và khoảng trời", author: "Trần Đăng Khoa", year: 1968, ddc: "895.9221", form: formPoetry, pubs: []int{pKimDong}, pop: 4},
	{title: "Nhật ký trong tù", author: "Hồ Chí Minh", year: 1960, ddc: "895.9221", form: formPoetry, pubs: []int{pChinhTri, pVanHoc, pKimDong}, pop: 5},
	{title: "Rừng xà nu", author: "Nguyên Ngọc", year: 1965, ddc: "895.9223", form: formStories, pubs: []int{pVanHoc, pKimDong}, pop: 3},
	{title: "Đất nước đứng lên", author: "Nguyên Ngọc", year: 1956, ddc: "895.9223", form: formNovel, pubs: []int{pVanHoc}, pop: 2},
	{title: "Hòn Đất", author: "Anh Đức", year: 1966, ddc: "895.9223", form: formNovel, pubs: []int{pVanHoc, pQDND}, pop: 3},
	{title: "Dấu chân người lính", author: "Nguyễn Minh Châu", year: 1972, ddc: "895.9223", form: formNovel, pubs: []int{pQDND, pVanHoc}, pop: 3},
	{title: "Chiếc thuyền ngoài xa", author: "Nguyễn Minh Châu", year: 1983, ddc: "895.9223", form: formStories, pubs: []int{pVanHoc, pHoiNhaVan}, pop: 4},
	{title: "Mùa lá rụng trong vườn", author: "Ma Văn Kháng", year: 1985, ddc: "895.9223", form: formNovel, pubs: []int{pVanHoc, pHoiNhaVan}, pop: 3},
	{title: "Thời xa vắng", author: "Lê Lựu", year: 1986, ddc: "895.9223", form: formNovel, pubs: []int{pVanHoc, pHoiNhaVan}, pop: 3},
	{title: "Bến không chồng", author: "Dương Hướng", year: 1990, ddc: "895.9223", form: formNovel, pubs: []int{pVanHoc, pHoiNhaVan}, pop: 3},
	{title: "Mảnh đất lắm người nhiều ma", author: "Nguyễn Khắc Trường", year: 1990, ddc: "895.9223", form: formNovel, pubs: []int{pHoiNhaVan}, pop: 2},
	{title: "Tướng về hưu", author: "Nguyễn Huy Thiệp", year: 1987, ddc: "895.9223", form: formStories, pubs: []int{pTre, pHoiNhaVan}, pop: 3},
	{title: "Cánh đồng bất tận", author: "Nguyễn Ngọc Tư", year: 2005, ddc: "895.9223", form: formStories, pubs: []int{pTre}, pop: 4},
	{title: "Những ngôi sao xa xôi", author: "Lê Minh Khuê", year: 1971, ddc: "895.9223", form: formStories, pubs: []int{pKimDong, pVanHoc}, pop: 3},
	{title: "Những đứa con trong gia đình", author: "Nguyễn Thi", year: 1966, ddc: "895.9223", form: formStories, pubs: []int{pVanHoc}, pop: 3},
	{title: "Búp sen xanh", author: "Sơn Tùng", year: 1982, ddc: "895.9223", form: formNovel, pubs: []int{pKimDong, pVanHoc}, pop: 4},
	{title: "Vỡ bờ", author: "Nguyễn Đình Thi", year: 1962, ddc: "895.9223", form: formNovel, pubs: []int{pVanHoc}, pop: 2},
	{title: "Nhật ký Đặng Thùy Trâm", author: "Đặng Thùy Trâm", year: 2005, ddc: "895.9228", form: "Nhật ký", pubs: []int{pHoiNhaVan, pKimDong}, pop: 4},
	{title: "Mãi mãi tuổi hai mươi", author: "Nguyễn Văn Thạc", year: 2005, ddc: "895.9228", form: "Nhật ký", pubs: []int{pThanhNien}, pop: 3},
	{title: "Thương nhớ mười hai", author: "Vũ Bằng", year: 1972, ddc: "895.9224", form: formEssay, pubs: []int{pVanHoc, pHoiNhaVan}, pop: 3},
	{title: "Quê nội", author: "Võ Quảng", year: 1974, ddc: "895.9223", form: formChildren, pubs: []int{pKimDong}, pop: 4},
	{title: "Đội thiếu niên du kích Đình Bảng", author: "Xuân Sách", year: 1971, ddc: "895.9223", form: formChildren, pubs: []int{pKimDong}, pop: 4},
	{title: "Cho tôi xin một vé đi tuổi thơ", author: "Nguyễn Nhật Ánh", year: 2008, ddc: "895.9223", form: formNovel, pubs: []int{pTre}, pop: 5},
	{title: "Mắt biếc", author: "Nguyễn Nhật Ánh", year: 1990, ddc: "895.9223", form: formNovel, pubs: []int{pTre}, pop: 5},
	{title: "Tôi thấy hoa vàng trên cỏ xanh", author: "Nguyễn Nhật Ánh", year: 2010, ddc: "895.9223", form: formNovel, pubs: []int{pTre}, pop: 5},
	{title: "Cô gái đến từ hôm qua", author: "Nguyễn Nhật Ánh", year: 1989, ddc: "895.9223", form: formNovel, pubs: []int{pTre}, pop: 4},
	{title: "Ngồi khóc trên cây", author: "Nguyễn Nhật Ánh", year: 2013, ddc: "895.9223", form: formNovel, pubs: []int{pTre}, pop: 4},
	{title: "Cây chuối non đi giày xanh", author: "Nguyễn Nhật Ánh", year: 2018, ddc: "895.9223", form: formNovel, pubs: []int{pTre}, pop: 4},
	{title: "Con chim xanh biếc bay về", author: "Nguyễn Nhật Ánh", year: 2020, ddc: "895.9223", form: formNovel, pubs: []int{pTre}, pop: 4},
	{title: "Mùa hè không tên", author: "Nguyễn Nhật Ánh", year: 2023, ddc: "895.9223", form: formNovel, pubs: []int{pTre}, pop: 4},
	{title: "Có hai con mèo ngồi bên cửa sổ", author: "Nguyễn Nhật Ánh", year: 2012, ddc: "895.9223", form: formChildren, pubs: []int{pTre}, pop: 4},
	{title: "Hạ đỏ", author: "Nguyễn Nhật Ánh", year: 1991, ddc: "895.9223", form: formNovel, pubs: []int{pTre}, pop: 3},
	{title: "Bồ câu không đưa thư", author: "Nguyễn Nhật Ánh", year: 1993, ddc: "895.9223", form: formNovel, pubs: []int{pTre}, pop: 3},
	{title: "Tôi là Bêtô", author: "Nguyễn Nhật Ánh", year: 2007, ddc: "895.9223", form: formChildren, pubs: []int{pTre}, pop: 3},
	{title: "Tuổi trẻ đáng giá bao nhiêu", author: "Rosie Nguyễn", year: 2016, ddc: "158.1", form: formSkills, pubs: []int{pHoiNhaVan}, pop: 3},
	{title: "Trên đường băng", author: "Tony Buổi Sáng", year: 2015, ddc: "158.1", form: formSkills, pubs: []int{pTre}, pop: 3},
	{title: "Việt Nam sử lược", author: "Trần Trọng Kim", year: 1920, ddc: "959.7", form: formHistory, pubs: []int{pVanHoc, pHongDuc}, pop: 4},
	{title: "Đại Việt sử ký toàn thư", author: "Ngô Sĩ Liên", year: 1479, ddc: "959.7", form: formHistory, pubs: []int{pKHXH, pHongDuc}, pop: 3},
	{title: "Từ điển tiếng Việt", author: "Hoàng Phê", year: 1988, ddc: "495.9223", form: "Từ điển", pubs: []int{pHongDuc, pDHQGHN}, pop: 4},
}

// translated are classics of world literature and international bestsellers
// in Vietnamese translation. ddc is the original literature's class.
var translated = []classic{
	{title: "Chiến tranh và hòa bình", author: "Lev Tolstoy", year: 1869, ddc: "891.733", form: formNovel, pubs: []int{pVanHoc}, pop: 3},
	{title: "Anna Karenina", author: "Lev Tolstoy", year: 1878, ddc: "891.733", form: formNovel, pubs: []int{pVanHoc}, pop: 3},
	{title: "Tội ác và hình phạt", author: "Fyodor Dostoevsky", year: 1866, ddc: "891.733", form: formNovel, pubs: []int{pVanHoc}, pop: 3},
	{title: "Thép đã tôi thế đấy", author: "Nikolai Ostrovsky", translator: "Thép Mới", year: 1934, ddc: "891.734", form: formNovel, pubs: []int{pVanHoc, pKimDong}, pop: 4},
	{title: "Người mẹ", author: "Maxim Gorky", year: 1906, ddc: "891.733", form: formNovel, pubs: []int{pVanHoc}, pop: 3},
	{title: "Thời thơ ấu", author: "Maxim Gorky", year: 1913, ddc: "891.733", form: formNovel, pubs: []int{pVanHoc, pKimDong}, pop: 3},
	{title: "Sông Đông êm đềm", author: "Mikhail Sholokhov", year: 1940, ddc: "891.734", form: formNovel, pubs: []int{pVanHoc}, pop: 2},
	{title: "Những người khốn khổ", author: "Victor Hugo", year: 1862, ddc: "843.7", form: formNovel, pubs: []int{pVanHoc}, pop: 4},
	{title: "Nhà thờ Đức Bà Paris", author: "Victor Hugo", year: 1831, ddc: "843.7", form: formNovel, pubs: []int{pVanHoc}, pop: 3},
	{title: "Không gia đình", author: "Hector Malot", translator: "Huỳnh Lý", year: 1878, ddc: "843.8", form: formChildren, pubs: []int{pKimDong, pVanHoc}, pop: 4},
	{title: "Ba chàng lính ngự lâm", author: "Alexandre Dumas", year: 1844, ddc: "843.7", form: formNovel, pubs: []int{pVanHoc}, pop: 3},
	{title: "Bá tước Monte Cristo", author: "Alexandre Dumas", year: 1844, ddc: "843.7", form: formNovel, pubs: []int{pVanHoc}, pop: 3},
	{title: "Hai vạn dặm dưới đáy biển", author: "Jules Verne", year: 1870, ddc: "843.8", form: formNovel, pubs: []int{pKimDong}, pop: 4},
	{title: "Tám mươi ngày vòng quanh thế giới", author: "Jules Verne", year: 1872, ddc: "843.8", form: formNovel, pubs: []int{pKimDong}, pop: 3},
	{title: "Hoàng tử bé", author: "Antoine de Saint-Exupéry", year: 1943, ddc: "843.912", form: formChildren, pubs: []int{pKimDong, pHoiNhaVan}, pop: 5},
	{title: "Đỏ và đen", author: "Stendhal", year: 1830, ddc: "843.7", form: formNovel, pubs: []int{pVanHoc}, pop: 2},
	{title: "Ông già và biển cả", author: "Ernest Hemingway", year: 1952, ddc: "813.52", form: formNovel, pubs: []int{pVanHoc, pHoiNhaVan}, pop: 4},
	{title: "Cuốn theo chiều gió", author: "Margaret Mitchell", year: 1936, ddc: "813.52", form: formNovel, pubs: []int{pVanHoc}, pop: 3},
	{title: "Giết con chim nhại", author: "Harper Lee", year: 1960, ddc: "813.54", form: formNovel, pubs: []int{pVanHoc}, pop: 3},
	{title: "Túp lều bác Tom", author: "Harriet Beecher Stowe", year: 1852, ddc: "813.3", form: formNovel, pubs: []int{pVanHoc}, pop: 2},
	{title: "Những cuộc phiêu lưu của Tom Sawyer", author: "Mark Twain", year: 1876, ddc: "813.4", form: formChildren, pubs: []int{pKimDong}, pop: 3},
	{title: "Kiêu hãnh và định kiến", author: "Jane Austen", year: 1813, ddc: "823.7", form: formNovel, pubs: []int{pVanHoc}, pop: 3},
	{title: "Jane Eyre", author: "Charlotte Brontë", year: 1847, ddc: "823.8", form: formNovel, pubs: []int{pVanHoc}, pop: 2},
	{title: "Đồi gió hú", author: "Emily Brontë", year: 1847, ddc: "823.8", form: formNovel, pubs: []int{pVanHoc}, pop: 3},
	{title: "Oliver Twist", author: "Charles Dickens", year: 1838, ddc: "823.8", form: formNovel, pubs: []int{pVanHoc, pKimDong}, pop: 3},
	{title: "Robinson Crusoe", author: "Daniel Defoe", year: 1719, ddc: "823.5", form: formNovel, pubs: []int{pKimDong}, pop: 3},
	{title: "Ruồi trâu", author: "Ethel Lilian Voynich", year: 1897, ddc: "823.8", form: formNovel, pubs: []int{pVanHoc}, pop: 2},
	{title: "Harry Potter và hòn đá phù thủy", author: "J. K. Rowling", year: 1997, ddc: "823.914", form: formChildren, pubs: []int{pTre}, pop: 4},
	{title: "Harry Potter và phòng chứa bí mật", author: "J. K. Rowling", year: 1998, ddc: "823.914", form: formChildren, pubs: []int{pTre}, pop: 3},
	{title: "Harry Potter và tên tù nhân ngục Azkaban", author: "J. K. Rowling", year: 1999, ddc: "823.914", form: formChildren, pubs: []int{pTre}, pop: 3},
	{title: "Harry Potter và chiếc cốc lửa", author: "J. K. Rowling", year: 2000, ddc: "823.914", form: formChildren, pubs: []int{pTre}, pop: 3},
	{title: "Trăm năm cô đơn", author: "Gabriel García Márquez", year: 1967, ddc: "863.64", form: formNovel, pubs: []int{pVanHoc}, pop: 3},
	{title: "Nhà giả kim", author: "Paulo Coelho", translator: "Lê Chu Cầu", year: 1988, ddc: "869.342", form: formNovel, pubs: []int{pHoiNhaVan}, pop: 5},
	{title: "Cây cam ngọt của tôi", author: "José Mauro de Vasconcelos", year: 1968, ddc: "869.342", form: formNovel, pubs: []int{pHoiNhaVan}, pop: 4},
	{title: "Những tấm lòng cao cả", author: "Edmondo De Amicis", year: 1886, ddc: "853.8", form: formChildren, pubs: []int{pKimDong, pVanHoc}, pop: 4},
	{title: "Những cuộc phiêu lưu của Pinocchio", author: "Carlo Collodi", year: 1883, ddc: "853.8", form: formChildren, pubs: []int{pKimDong}, pop: 3},
	{title: "Tây du ký", author: "Ngô Thừa Ân", year: 1592, ddc: "895.1346", form: formNovel, pubs: []int{pVanHoc, pKimDong}, pop: 4},
	{title: "Tam quốc diễn nghĩa", author: "La Quán Trung", translator: "Phan Kế Bính", year: 1522, ddc: "895.1346", form: formNovel, pubs: []int{pVanHoc}, pop: 4},
	{title: "Thủy hử", author: "Thi Nại Am", year: 1589, ddc: "895.1346", form: formNovel, pubs: []int{pVanHoc}, pop: 3},
	{title: "Hồng lâu mộng", author: "Tào Tuyết Cần", year: 1791, ddc: "895.1348", form: formNovel, pubs: []int{pVanHoc}, pop: 2},
	{title: "Totto-chan bên cửa sổ", author: "Kuroyanagi Tetsuko", year: 1981, ddc: "895.635", form: formChildren, pubs: []int{pHoiNhaVan}, pop: 4},
	{title: "Rừng Na-uy", author: "Murakami Haruki", translator: "Trịnh Lữ", year: 1987, ddc: "895.635", form: formNovel, pubs: []int{pHoiNhaVan}, pop: 3},
	{title: "Chuyện con mèo dạy hải âu bay", author: "Luis Sepúlveda", year: 1996, ddc: "863.64", form: formChildren, pubs: []int{pHoiNhaVan}, pop: 3},
	{title: "Tiếng chim hót trong bụi mận gai", author: "Colleen McCullough", year: 1977, ddc: "823.914", form: formNovel, pubs: []int{pVanHoc}, pop: 2},
	{title: "Bố già", author: "Mario Puzo", year: 1969, ddc: "813.54", form: formNovel, pubs: []int{pVanHoc}, pop: 3},
	{title: "Alice ở xứ sở thần tiên", author: "Lewis Carroll", year: 1865, ddc: "823.8", form: formChildren, pubs: []int{pKimDong}, pop: 3},
	{title: "Truyện cổ Grimm", author: "Jacob Grimm", year: 1812, ddc: "398.2", form: formTales, pubs: []int{pKimDong}, pop: 4},
	{title: "Truyện cổ Andersen", author: "Hans Christian Andersen", year: 1835, ddc: "839.8136", form: formTales, pubs: []int{pKimDong}, pop: 4},
	{title: "Nghìn lẻ một đêm", author: "Khuyết danh", year: 1700, ddc: "398.22", form: formTales, pubs: []int{pVanHoc, pKimDong}, pop: 3},
	{title: "Nhật ký Anne Frank", author: "Anne Frank", year: 1947, ddc: "940.5318", form: "Nhật ký", pubs: []int{pHoiNhaVan}, pop: 3},
	{title: "Đắc nhân tâm", author: "Dale Carnegie", translator: "Nguyễn Hiến Lê", year: 1936, ddc: "158.2", form: formSkills, pubs: []int{pTongHopHCM, pTre}, pop: 5},
	{title: "Quẳng gánh lo đi và vui sống", author: "Dale Carnegie", year: 1948, ddc: "158.1", form: formSkills, pubs: []int{pTongHopHCM}, pop: 4},
	{title: "Nghĩ giàu và làm giàu", author: "Napoleon Hill", year: 1937, ddc: "650.1", form: formSkills, pubs: []int{pLaoDong}, pop: 3},
	{title: "Đi tìm lẽ sống", author: "Viktor E. Frankl", year: 1946, ddc: "150.195", form: formSkills, pubs: []int{pTongHopHCM}, pop: 3},
	{title: "Lược sử thời gian", author: "Stephen Hawking", year: 1988, ddc: "523.1", form: formScience, pubs: []int{pTre}, pop: 3},
	{title: "Sapiens: Lược sử loài người", author: "Yuval Noah Harari", year: 2011, ddc: "909", form: formHistory, pubs: []int{pTheGioi}, pop: 3},
	{title: "Cuộc phiêu lưu của Mít Đặc và các bạn", author: "Nikolai Nosov", year: 1954, ddc: "891.734", form: formChildren, pubs: []int{pKimDong}, pop: 3},
}

// seriesSpec is a numbered children's series: "Doraemon: Truyện ngắn. Tập 12".
type seriesSpec struct {
	name, author string
	role         string
	volumes      int
	year         int // first volume
	ddc, form    string
	pub          int
	pop          int
}

var childSeries = []seriesSpec{
	{"Doraemon: Truyện ngắn", "Fujiko F. Fujio", "", 45, 2010, "741.5952", "Truyện tranh", pKimDong, 4},
	{"Thám tử lừng danh Conan", "Aoyama Gōshō", "", 100, 2012, "741.5952", "Truyện tranh", pKimDong, 3},
	{"Thần đồng đất Việt", "Lê Linh", "", 60, 2005, "741.59597", "Truyện tranh", pTre, 3},
	{"Kính vạn hoa", "Nguyễn Nhật Ánh", "", 54, 2008, "895.9223", formChildren, pKimDong, 3},
	{"Mười vạn câu hỏi vì sao", "Trần Văn Thắng", "editor", 12, 2016, "030", formScience, pKimDong, 3},
}

// folkTales are Vietnamese folk tales; each appears in several illustrated
// series for children.
var folkTales = []string{
	"Tấm Cám", "Sọ Dừa", "Thạch Sanh", "Cây khế", "Sự tích trầu cau", "Sơn Tinh, Thủy Tinh",
	"Thánh Gióng", "Con Rồng cháu Tiên", "Bánh chưng, bánh giầy", "Sự tích Hồ Gươm", "Cây tre trăm đốt",
	"Sự tích dưa hấu", "Chú Cuội cung trăng", "Ba chàng thiện nghệ", "Sự tích cây vú sữa",
	"Sự tích chú Cuội", "Thầy bói xem voi", "Ếch ngồi đáy giếng", "Đeo nhạc cho mèo", "Trí khôn của ta đây",
	"Sự tích con muỗi", "Người con gái Nam Xương", "Nàng Tiên Ốc", "Cóc kiện trời", "Sự tích núi Vọng Phu",
	"Sự tích bánh chưng", "Mai An Tiêm", "Sự tích hoa cúc trắng", "Chử Đồng Tử", "Lạc Long Quân và Âu Cơ",
	"Em bé thông minh", "Ông lão đánh cá và con cá vàng", "Sự tích con Rồng cháu Tiên", "Cây bút thần",
	"Sự tích chim quốc", "Anh em nhà Khế", "Chàng Ngốc được kiện", "Sự tích con khỉ", "Thỏ và Rùa",
	"Sự tích hồ Ba Bể", "Sự tích đầm Dạ Trạch", "Chuyện chàng Lía", "Sự tích ông Táo",
}

var talesSeries = []string{"Truyện cổ tích Việt Nam", "Tranh truyện dân gian Việt Nam", "Cổ tích Việt Nam cho bé", "Kho tàng truyện cổ tích Việt Nam"}

// historyPictures are volumes of "Lịch sử Việt Nam bằng tranh".
var historyPictures = []string{
	"Hùng Vương dựng nước", "An Dương Vương xây thành Cổ Loa", "Hai Bà Trưng", "Bà Triệu", "Lý Nam Đế",
	"Ngô Quyền đại phá quân Nam Hán", "Đinh Bộ Lĩnh dẹp loạn mười hai sứ quân", "Lê Hoàn đánh Tống",
	"Lý Công Uẩn dời đô", "Lý Thường Kiệt đánh Tống", "Trần Thủ Độ", "Hào khí Đông A", "Trần Hưng Đạo",
	"Chiến thắng Bạch Đằng", "Hồ Quý Ly", "Lê Lợi khởi nghĩa Lam Sơn", "Nguyễn Trãi", "Lê Thánh Tông",
	"Quang Trung đại phá quân Thanh", "Nguyễn Huệ", "Phan Đình Phùng", "Hoàng Hoa Thám", "Phan Bội Châu",
	"Phan Châu Trinh", "Nguyễn Ái Quốc tìm đường cứu nước", "Cách mạng tháng Tám", "Chiến thắng Điện Biên Phủ",
}

// Topics of the generated bulk.
type topic uint8

const (
	tFiction topic = iota
	tPoetry
	tChildren
	tComics
	tTextbook
	tStudy // exercise books, revision, teacher's guides
	tUniversity
	tAgriculture
	tLaw
	tPolitics
	tHistory
	tLocal
	tTranslated
	tScience
	tHealth
	tSkills
	tHome
	tEconomy
	tIT
	tReference
	tCulture
	numTopics
)

// Fiction titles: a head and a complement ("Bến đò" + "quê ngoại").
var fictionHeads = []string{
	"Mùa", "Dòng sông", "Bến đò", "Cánh đồng", "Ngôi nhà", "Con đường", "Ánh trăng", "Tiếng hát", "Khúc ca",
	"Chuyện tình", "Người đàn bà", "Đứa con", "Giấc mơ", "Mảnh đất", "Ký ức", "Mùa xuân", "Mùa thu", "Hoàng hôn",
	"Bình minh", "Tiếng chuông", "Cây đa", "Giếng làng", "Mái đình", "Sân đình", "Chuyến tàu", "Lá thư",
	"Nỗi nhớ", "Hương lúa", "Bông sen", "Cánh diều", "Người lính", "Người thầy", "Cô giáo", "Chuyện làng",
	"Ngọn đèn", "Tiếng gà", "Gió", "Mưa", "Khói bếp", "Bến sông", "Con đò", "Lũy tre", "Hoa gạo", "Đêm trăng",
	"Người mẹ", "Người cha", "Tuổi thơ", "Tình yêu", "Mối tình", "Vầng trăng", "Bờ đê", "Cánh cò", "Sóng",
	"Miền quê", "Ngày trở về", "Những ngày", "Những người", "Chuyện kể", "Câu hát", "Vết thương",
}

var fictionTails = []string{
	"tuổi thơ", "quê ngoại", "làng Quan họ", "ven sông Cầu", "mùa lúa chín", "không tên", "cuối cùng",
	"xa xứ", "của mẹ", "bên kia sông Đuống", "ngày ấy", "yên bình", "màu tím hoa sim", "đầu tiên", "năm ấy",
	"bên dòng sông Đuống", "trên đồi Lim", "thời chiến tranh", "thời bao cấp", "của những người ở lại",
	"phố huyện", "trong mưa", "tháng Ba", "tháng Chạp", "mùa đông", "cuối năm", "quê hương", "không ngủ",
	"hoa sữa", "xanh", "thầm lặng", "làng tôi", "đã xa", "của cha", "bên hiên nhà", "ngày mai", "nơi biên giới",
	"trên phố cổ", "Kinh Bắc", "miền Bắc", "đồng chiêm", "trong ký ức", "không quên", "dưới trăng",
	"nhỏ bé", "cô đơn", "trở về", "lặng lẽ", "ngày xưa", "mùa hạ", "sau cơn mưa", "bên cửa sổ",
	"giữa đời thường", "của biển", "nơi phố thị", "vùng ven", "đồng bằng", "bên bờ tre", "hoa bưởi",
}

// Children's book words: "Chú" + animal + adventure.
var childAnimals = []string{
	"mèo", "thỏ", "gấu", "sóc", "chó", "voi", "hươu", "khỉ", "gà trống", "vịt", "ếch", "kiến", "ong", "cá",
	"chim sẻ", "sư tử", "hổ", "nhím", "rùa", "cáo", "chuột", "dế", "bướm", "ốc sên", "cún", "trâu",
}

var childTails = []string{
	"đi học", "lạc đường", "tốt bụng", "lười biếng", "dũng cảm", "và người bạn mới", "tìm mẹ",
	"học bơi", "biết xin lỗi", "đi chợ", "ăn khỏe", "đón Tết", "làm vườn", "và cầu vồng", "thích đọc sách",
	"đi cắm trại", "và chiếc ô", "không chịu ngủ", "giúp bà", "kể chuyện", "biết nhường nhịn",
	"khám phá khu rừng", "đi sở thú", "tập đánh răng", "và bác nông dân",
}

var childKinds = []string{"Chú", "Bạn", "Cô bé", "Cậu bé"}

// Agriculture: crops, livestock and fish, each with the kinds of handbook
// written about it.
type agriSubject struct {
	name, ddc, heading string
	kind               byte // 'c' crop, 'a' animal, 'f' fish
}

var agriSubjects = []agriSubject{
	{"lúa", "633.18", "Cây lúa", 'c'}, {"lúa lai", "633.18", "Cây lúa", 'c'}, {"ngô", "633.15", "Cây ngô", 'c'},
	{"khoai lang", "635.22", "Khoai lang", 'c'}, {"khoai tây", "635.21", "Khoai tây", 'c'}, {"sắn", "633.68", "Cây sắn", 'c'},
	{"lạc", "633.368", "Cây lạc", 'c'}, {"đậu tương", "633.34", "Đậu tương", 'c'}, {"rau sạch", "635", "Rau", 'c'},
	{"rau muống", "635.6", "Rau", 'c'}, {"cải bắp", "635.34", "Rau", 'c'}, {"su hào", "635.34", "Rau", 'c'},
	{"cà chua", "635.642", "Cà chua", 'c'}, {"dưa chuột", "635.63", "Dưa chuột", 'c'}, {"bí xanh", "635.62", "Rau", 'c'},
	{"nấm rơm", "635.8", "Nấm ăn", 'c'}, {"nấm sò", "635.8", "Nấm ăn", 'c'}, {"nấm linh chi", "635.8", "Nấm ăn", 'c'},
	{"cây vải thiều", "634.6", "Cây ăn quả", 'c'}, {"cây nhãn", "634.6", "Cây ăn quả", 'c'}, {"cây bưởi", "634.3", "Cây ăn quả", 'c'},
	{"cây cam", "634.31", "Cây ăn quả", 'c'}, {"cây chuối", "634.772", "Cây ăn quả", 'c'}, {"cây ổi", "634.421", "Cây ăn quả", 'c'},
	{"cây na", "634.41", "Cây ăn quả", 'c'}, {"cây chè", "633.72", "Cây chè", 'c'}, {"cây cà phê", "633.73", "Cây cà phê", 'c'},
	{"hoa cúc", "635.93", "Hoa", 'c'}, {"hoa hồng", "635.933", "Hoa", 'c'}, {"hoa lan", "635.9344", "Hoa", 'c'},
	{"cây cảnh", "635.9", "Cây cảnh", 'c'}, {"cây dược liệu", "633.88", "Cây thuốc", 'c'},
	{"gà", "636.5", "Gà", 'a'}, {"gà thả vườn", "636.5", "Gà", 'a'}, {"gà đẻ trứng", "636.5", "Gà", 'a'},
	{"vịt", "636.597", "Vịt", 'a'}, {"ngan", "636.597", "Ngan", 'a'}, {"lợn", "636.4", "Lợn", 'a'},
	{"lợn nái", "636.4", "Lợn", 'a'}, {"bò thịt", "636.213", "Bò", 'a'}, {"bò sữa", "636.2142", "Bò", 'a'},
	{"trâu", "636.293", "Trâu", 'a'}, {"dê", "636.39", "Dê", 'a'}, {"thỏ", "636.932", "Thỏ", 'a'},
	{"chim bồ câu", "636.596", "Chim bồ câu", 'a'}, {"ong mật", "638.1", "Ong mật", 'a'}, {"giun quế", "639.75", "Giun quế", 'a'},
	{"cá rô phi", "639.3758", "Cá nước ngọt", 'f'}, {"cá trắm cỏ", "639.3748", "Cá nước ngọt", 'f'},
	{"cá chép", "639.3748", "Cá nước ngọt", 'f'}, {"cá trê", "639.3749", "Cá nước ngọt", 'f'}, {"lươn", "639.3", "Thủy sản", 'f'},
	{"ếch", "639.3789", "Thủy sản", 'f'}, {"ba ba", "639.392", "Thủy sản", 'f'}, {"tôm càng xanh", "639.58", "Thủy sản", 'f'},
	{"cá lóc", "639.3", "Cá nước ngọt", 'f'}, {"cá nước ngọt", "639.31", "Cá nước ngọt", 'f'},
}

var agriCropPatterns = []string{
	"Kỹ thuật trồng %s", "Kỹ thuật trồng và chăm sóc %s", "Phòng trừ sâu bệnh hại %s", "Hỏi đáp về trồng %s",
	"Sổ tay trồng %s", "Kỹ thuật thâm canh %s", "Bón phân cho %s", "Giống %s năng suất cao",
	"Trồng %s theo tiêu chuẩn VietGAP", "Kỹ thuật trồng %s hữu cơ",
}

var agriAnimalPatterns = []string{
	"Kỹ thuật chăn nuôi %s", "Kỹ thuật nuôi %s", "Phòng và trị bệnh cho %s", "Hỏi đáp về chăn nuôi %s",
	"Sổ tay chăn nuôi %s", "Chuồng trại và thức ăn cho %s", "Nuôi %s an toàn sinh học", "Chăn nuôi %s theo hướng VietGAHP",
}

var agriFishPatterns = []string{
	"Kỹ thuật nuôi %s", "Kỹ thuật nuôi %s trong ao", "Phòng và trị bệnh cho %s", "Sổ tay nuôi %s",
	"Kỹ thuật nuôi %s thương phẩm", "Kỹ thuật sản xuất giống %s",
}

var agriGeneral = []string{
	"Kỹ thuật làm phân bón hữu cơ", "Cẩm nang nhà nông", "Sổ tay khuyến nông", "Kinh tế trang trại",
	"Xây dựng nông thôn mới", "Mô hình vườn – ao – chuồng", "Sử dụng thuốc bảo vệ thực vật an toàn",
	"Nông nghiệp công nghệ cao", "Bảo quản và chế biến nông sản sau thu hoạch", "Thủy lợi nội đồng",
	"Hợp tác xã nông nghiệp kiểu mới", "Làm giàu từ nông nghiệp", "Phòng chống thiên tai trong nông nghiệp",
}

// law is a law (or code) in force, its year and DDC.
type law struct {
	name string
	year int
	ddc  string
}

var laws = []law{
	{"Hiến pháp nước Cộng hòa xã hội chủ nghĩa Việt Nam", 2013, "342.597"},
	{"Bộ luật Dân sự", 2015, "346.597"}, {"Bộ luật Hình sự", 2015, "345.597"},
	{"Bộ luật Tố tụng dân sự", 2015, "347.597"}, {"Bộ luật Tố tụng hình sự", 2015, "345.59705"},
	{"Bộ luật Lao động", 2019, "344.59701"}, {"Luật Đất đai", 2024, "346.597043"}, {"Luật Đất đai", 2013, "346.597043"},
	{"Luật Hôn nhân và gia đình", 2014, "346.597015"}, {"Luật Nhà ở", 2023, "346.597043"},
	{"Luật Kinh doanh bất động sản", 2023, "346.597043"}, {"Luật Doanh nghiệp", 2020, "346.597065"},
	{"Luật Đầu tư", 2020, "346.597092"}, {"Luật Thư viện", 2019, "344.597092"}, {"Luật Giáo dục", 2019, "344.597071"},
	{"Luật Bảo vệ môi trường", 2020, "344.597046"}, {"Luật Phòng, chống bạo lực gia đình", 2022, "346.597015"},
	{"Luật Trẻ em", 2016, "346.597013"}, {"Luật Người cao tuổi", 2009, "344.5970326"},
	{"Luật Bảo hiểm xã hội", 2024, "344.59702"}, {"Luật Bảo hiểm y tế", 2008, "344.59702"},
	{"Luật Khám bệnh, chữa bệnh", 2023, "344.597041"}, {"Luật Cư trú", 2020, "342.597083"},
	{"Luật Căn cước", 2023, "342.597082"}, {"Luật Hòa giải ở cơ sở", 2013, "347.59709"},
	{"Luật Tiếp cận thông tin", 2016, "342.597066"}, {"Luật An ninh mạng", 2018, "343.5970999"},
	{"Luật Phòng, chống ma túy", 2021, "344.597045"}, {"Luật Thực hiện dân chủ ở cơ sở", 2022, "342.597"},
	{"Luật Trồng trọt", 2018, "343.597076"}, {"Luật Chăn nuôi", 2018, "343.597076"}, {"Luật Thủy sản", 2017, "343.5970769"},
	{"Luật Lâm nghiệp", 2017, "346.597046"}, {"Luật Di sản văn hóa", 2024, "344.59709"},
	{"Luật Trật tự, an toàn giao thông đường bộ", 2024, "343.597094"}, {"Luật Giao thông đường bộ", 2008, "343.597094"},
	{"Luật Xử lý vi phạm hành chính", 2012, "342.59706"}, {"Luật Khiếu nại", 2011, "342.59706"},
	{"Luật Tố cáo", 2018, "342.59706"}, {"Luật Thuế thu nhập cá nhân", 2007, "343.59705"},
	{"Luật Bình đẳng giới", 2006, "342.597087"}, {"Luật Thanh niên", 2020, "346.597013"},
	{"Luật Phòng, chống tham nhũng", 2018, "345.59702"}, {"Luật Bảo vệ quyền lợi người tiêu dùng", 2023, "343.59707"},
	{"Luật Tín ngưỡng, tôn giáo", 2016, "342.597085"}, {"Luật Nghĩa vụ quân sự", 2015, "343.59701"},
	{"Luật Phòng cháy và chữa cháy", 2001, "344.597053"}, {"Luật Thể dục, thể thao", 2006, "344.597099"},
}

var lawPatterns = []string{
	"%s", "%s (hiện hành)", "Tìm hiểu %s", "Hỏi – đáp %s", "%s và văn bản hướng dẫn thi hành",
	"Những điểm mới của %s", "Bình luận khoa học %s", "Sổ tay tuyên truyền %s",
}

var lawGeneral = []string{
	"Sổ tay pháp luật cho cán bộ cơ sở", "Hỏi – đáp pháp luật về đất đai cho nông dân", "Pháp luật về quyền trẻ em",
	"Kỹ năng hòa giải ở cơ sở", "Pháp luật về phòng, chống mua bán người", "Tìm hiểu pháp luật về thừa kế",
	"Pháp luật về giao thông đường bộ cho học sinh", "Pháp luật về lao động cho người lao động",
	"Tủ sách pháp luật xã, phường, thị trấn", "Xử phạt vi phạm hành chính trong lĩnh vực đất đai",
}

// Politics and Hồ Chí Minh: real titles kept by every commune library.
var politics = []string{
	"Hồ Chí Minh toàn tập", "Di chúc của Chủ tịch Hồ Chí Minh", "Tư tưởng Hồ Chí Minh về đạo đức",
	"Học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh", "Văn kiện Đại hội đại biểu toàn quốc lần thứ XIII",
	"Văn kiện Đại hội đại biểu toàn quốc lần thứ XII", "Điều lệ Đảng Cộng sản Việt Nam",
	"Lịch sử Đảng Cộng sản Việt Nam", "Chủ tịch Hồ Chí Minh với quê hương Kinh Bắc", "Bác Hồ với thiếu nhi",
	"Những mẩu chuyện về tấm gương đạo đức Hồ Chí Minh", "Đường Kách mệnh", "Sửa đổi lối làm việc",
	"Chủ nghĩa xã hội và con đường đi lên chủ nghĩa xã hội ở Việt Nam", "Xây dựng Đảng về đạo đức",
	"Công tác dân vận trong tình hình mới", "Xây dựng văn hóa và con người Việt Nam",
	"Phát huy sức mạnh khối đại đoàn kết toàn dân tộc",
}

// Vietnamese history and biography.
var historyFigures = []string{
	"Lý Công Uẩn", "Lý Thường Kiệt", "Trần Hưng Đạo", "Lê Lợi", "Nguyễn Trãi", "Quang Trung", "Hai Bà Trưng",
	"Ngô Quyền", "Lê Thánh Tông", "Chu Văn An", "Lê Quý Đôn", "Nguyễn Văn Cừ", "Ngô Gia Tự", "Lê Văn Thịnh",
	"Hàn Thuyên", "Võ Nguyên Giáp", "Phan Bội Châu", "Nguyễn Đình Chiểu", "Trần Nhân Tông", "Lý Chiêu Hoàng",
	"Nguyễn Gia Thiều", "Cao Lỗ", "Lý Thánh Tông", "Phạm Ngũ Lão", "Tuệ Tĩnh", "Hải Thượng Lãn Ông",
}

var historyPatterns = []string{
	"%s – cuộc đời và sự nghiệp", "Danh nhân %s", "Kể chuyện %s", "%s – nhân vật lịch sử",
}

var historyTitles = []string{
	"Lịch sử Việt Nam", "Lịch sử Việt Nam từ nguồn gốc đến năm 938", "Lịch sử Việt Nam thời Lý", "Lịch sử Việt Nam thời Trần",
	"Lịch sử Việt Nam thời Lê sơ", "Lịch sử Việt Nam từ 1858 đến 1945", "Lịch sử Việt Nam từ 1945 đến 1975",
	"Kháng chiến chống thực dân Pháp", "Kháng chiến chống Mỹ cứu nước", "Chiến dịch Điện Biên Phủ",
	"Đại thắng mùa Xuân 1975", "Hỏi đáp lịch sử Việt Nam", "Việt Nam – đất nước, con người",
	"Các triều đại Việt Nam", "Khởi nghĩa Lam Sơn", "Nhà Lý và kinh đô Thăng Long", "Hoàng Sa, Trường Sa là của Việt Nam",
	"Địa lí Việt Nam", "Atlat Địa lí Việt Nam", "54 dân tộc Việt Nam",
}

// Bắc Ninh's heritage: curated titles for the local collection.
var localTitles = []string{
	"Dân ca Quan họ Bắc Ninh", "Quan họ Bắc Ninh – lời ca và bình giải", "Tìm hiểu dân ca Quan họ Bắc Ninh",
	"Không gian văn hóa Quan họ", "Quan họ – di sản văn hóa phi vật thể của nhân loại", "Lễ hội Lim",
	"Tranh dân gian Đông Hồ", "Làng tranh Đông Hồ", "Kinh Bắc – văn hóa và lịch sử", "Văn hiến Kinh Bắc",
	"Địa chí Bắc Ninh", "Địa chí Kinh Bắc", "Bắc Ninh – vùng đất khoa bảng", "Các nhà khoa bảng Bắc Ninh",
	"Lê Văn Thịnh – trạng nguyên khai khoa", "Đền Đô và vương triều Lý", "Chùa Dâu – trung tâm Phật giáo Luy Lâu",
	"Chùa Phật Tích", "Chùa Bút Tháp", "Làng gốm Phù Lãng", "Làng nghề đồ gỗ Đồng Kỵ", "Làng Diềm – cái nôi Quan họ",
	"Ca trù Bắc Ninh", "Làng chèo Quảng Bố", "Văn bia Bắc Ninh", "Lịch sử Đảng bộ tỉnh Bắc Ninh",
	"Luy Lâu – lịch sử và văn hóa", "Thành cổ Bắc Ninh", "Ẩm thực Kinh Bắc", "Bánh phu thê Đình Bảng",
	"Làng Đình Bảng", "Làng nghề truyền thống Bắc Ninh", "Di tích lịch sử – văn hóa Bắc Ninh",
	"Lễ hội truyền thống Bắc Ninh", "Kinh Bắc – miền văn hiến", "Người Kinh Bắc", "Đồng dao và trò chơi trẻ em Kinh Bắc",
	"Nghề đúc đồng Đại Bái", "Làng giấy Phong Khê", "Làng tranh Đông Hồ và nghệ nhân", "Sông Đuống – dòng sông văn hóa",
	"Tục ngữ, ca dao Bắc Ninh", "Hát Quan họ cho thiếu nhi", "Bắc Ninh – 190 năm xây dựng và phát triển",
}

// Textbooks of the 2018 general education programme.
type textbookSeries struct {
	name string
	pub  int
}

var textbookSeriesList = []textbookSeries{
	{"Kết nối tri thức với cuộc sống", pGiaoDuc}, {"Cánh diều", pDHSP}, {"Chân trời sáng tạo", pGiaoDuc},
}

// schoolSubject is a subject and the grades it is taught in; the DDC of its
// primary and secondary textbooks; two volumes when vols is 2.
type schoolSubject struct {
	name     string
	from, to int
	ddcP     string
	ddcS     string
	vols     int
}

var schoolSubjects = []schoolSubject{
	{"Toán", 1, 12, "372.7", "510.712", 2},
	{"Tiếng Việt", 1, 5, "372.6", "", 2},
	{"Ngữ văn", 6, 12, "", "807.12", 2},
	{"Tiếng Anh", 3, 12, "372.652", "428.00712", 1},
	{"Đạo đức", 1, 5, "372.83", "", 1},
	{"Tự nhiên và Xã hội", 1, 3, "372.3", "", 1},
	{"Khoa học", 4, 5, "372.35", "", 1},
	{"Lịch sử và Địa lí", 4, 9, "372.89", "907.12", 1},
	{"Khoa học tự nhiên", 6, 9, "", "500.712", 1},
	{"Lịch sử", 10, 12, "", "959.70712", 1},
	{"Địa lí", 10, 12, "", "910.712", 1},
	{"Vật lí", 10, 12, "", "530.0712", 1},
	{"Hóa học", 10, 12, "", "540.712", 1},
	{"Sinh học", 10, 12, "", "570.712", 1},
	{"Tin học", 3, 12, "372.34", "004.0712", 1},
	{"Công nghệ", 3, 12, "372.358", "600.712", 1},
	{"Giáo dục công dân", 6, 9, "", "170.712", 1},
	{"Giáo dục kinh tế và pháp luật", 10, 12, "", "340.0712", 1},
	{"Âm nhạc", 1, 9, "372.87", "780.712", 1},
	{"Mĩ thuật", 1, 9, "372.52", "700.712", 1},
	{"Hoạt động trải nghiệm", 1, 9, "372.37", "373.0712", 1},
	{"Giáo dục thể chất", 1, 12, "372.86", "613.70712", 1},
}

// rollout is the school year a grade's new textbooks arrived.
var rollout = [13]int{0, 2020, 2021, 2022, 2023, 2024, 2021, 2022, 2023, 2024, 2022, 2023, 2024}

// Study aids for pupils: "%s" is subject and grade ("Toán 9").
var studyPatterns = []string{
	"Để học tốt %s", "Bồi dưỡng học sinh giỏi %s", "Bài tập nâng cao %s", "Đề kiểm tra %s",
	"Hướng dẫn giải bài tập %s", "Ôn luyện %s", "Vở bài tập %s", "Tuyển chọn đề thi %s",
}

var examTitles = []string{
	"Ôn thi tốt nghiệp THPT môn Toán", "Ôn thi tốt nghiệp THPT môn Ngữ văn", "Ôn thi tốt nghiệp THPT môn Tiếng Anh",
	"Ôn thi vào lớp 10 môn Toán", "Ôn thi vào lớp 10 môn Ngữ văn", "Ôn thi vào lớp 10 môn Tiếng Anh",
	"Tuyển tập đề thi học sinh giỏi Toán", "Tuyển tập văn mẫu", "Những bài văn hay", "Cẩm nang ôn thi đại học",
}

// University courses ("Giáo trình …").
var universityCourses = []string{
	"Triết học Mác – Lênin", "Kinh tế chính trị Mác – Lênin", "Chủ nghĩa xã hội khoa học", "Tư tưởng Hồ Chí Minh",
	"Lịch sử Đảng Cộng sản Việt Nam", "Pháp luật đại cương", "Kinh tế vi mô", "Kinh tế vĩ mô", "Nguyên lý kế toán",
	"Kế toán tài chính", "Marketing căn bản", "Quản trị học", "Quản trị nhân lực", "Tài chính doanh nghiệp",
	"Toán cao cấp", "Xác suất thống kê", "Đại số tuyến tính", "Giải tích", "Vật lý đại cương", "Hóa học đại cương",
	"Cơ sở dữ liệu", "Lập trình C", "Cấu trúc dữ liệu và giải thuật", "Mạng máy tính", "Hệ điều hành",
	"Tiếng Việt thực hành", "Cơ sở văn hóa Việt Nam", "Dẫn luận ngôn ngữ học", "Lý luận văn học",
	"Văn học dân gian Việt Nam", "Văn học Việt Nam hiện đại", "Tâm lý học đại cương", "Giáo dục học",
	"Thư viện học đại cương", "Biên mục mô tả", "Phân loại tài liệu", "Xã hội học đại cương",
	"Khoa học đất", "Trồng trọt đại cương", "Chăn nuôi đại cương", "Thú y cơ bản", "Bảo vệ thực vật",
	"Luật dân sự Việt Nam", "Luật hình sự Việt Nam", "Luật hành chính Việt Nam", "Luật đất đai",
	"Điều dưỡng cơ bản", "Dược lý học", "Giải phẫu người", "Sinh lý học",
}

// Other non-fiction: titles formed from a pattern and a word.
type pattern struct {
	format string
	words  []string
	ddc    string
}

var healthPatterns = []pattern{
	{"Phòng và chữa bệnh %s", []string{"tiểu đường", "cao huyết áp", "tim mạch", "dạ dày", "xương khớp", "gan", "thận", "hen phế quản", "gút", "mất ngủ", "sốt xuất huyết", "tay chân miệng", "cúm", "viêm họng"}, "616"},
	{"Chăm sóc sức khỏe %s", []string{"người cao tuổi", "bà mẹ và trẻ em", "phụ nữ mang thai", "trẻ sơ sinh", "học đường", "gia đình", "người lao động"}, "613"},
	{"Dinh dưỡng cho %s", []string{"trẻ em", "người cao tuổi", "người bệnh tiểu đường", "phụ nữ mang thai", "học sinh"}, "613.2"},
	{"Cây thuốc %s", []string{"quanh nhà", "và vị thuốc Việt Nam", "nam chữa bệnh thường gặp", "trong vườn nhà"}, "615.321"},
}

var skillPatterns = []pattern{
	{"Kỹ năng %s", []string{"giao tiếp", "tự học", "thuyết trình", "quản lý thời gian", "làm việc nhóm", "sống cho học sinh", "ứng xử", "tự bảo vệ bản thân", "lãnh đạo", "giải quyết vấn đề", "tư duy phản biện", "đọc sách hiệu quả"}, "158.1"},
	{"%s điều cần biết để thành công", []string{"Mười", "Hai mươi", "Năm mươi", "Một trăm"}, "158.1"},
	{"Cẩm nang %s", []string{"cho cha mẹ", "tuổi mới lớn", "phòng chống đuối nước", "an toàn giao thông", "phòng chống xâm hại trẻ em", "khởi nghiệp"}, "646.7"},
}

var homePatterns = []pattern{
	{"Món ngon %s", []string{"Hà Nội", "miền Bắc", "ngày Tết", "từ rau củ", "từ cá", "từ thịt gà", "Kinh Bắc", "dân dã", "mỗi ngày", "cho bé"}, "641.59597"},
	{"Nghệ thuật %s", []string{"cắm hoa", "nấu ăn", "làm bánh", "trang trí nhà cửa", "nuôi dạy con"}, "640"},
	{"Nuôi dạy con %s", []string{"từ 0 đến 3 tuổi", "tuổi mẫu giáo", "tuổi học đường", "tuổi dậy thì", "theo phương pháp Montessori"}, "649.1"},
}

var economyPatterns = []pattern{
	{"Quản trị %s", []string{"doanh nghiệp nhỏ và vừa", "bán hàng", "tài chính cá nhân", "chuỗi cung ứng", "nhân sự", "dự án"}, "658"},
	{"Kinh tế %s", []string{"Việt Nam", "hộ gia đình", "nông thôn", "số", "tuần hoàn", "du lịch"}, "330.9597"},
	{"Khởi nghiệp %s", []string{"từ làng nghề", "ở nông thôn", "cho người trẻ", "kinh doanh online"}, "658.11"},
}

var itPatterns = []pattern{
	{"Tin học văn phòng %s", []string{"Word", "Excel", "PowerPoint", "căn bản", "nâng cao"}, "005.5"},
	{"Lập trình %s", []string{"Python cơ bản", "Java", "C++", "Scratch cho thiếu nhi", "web với HTML và CSS", "Go"}, "005.13"},
	{"Chuyển đổi số %s", []string{"trong thư viện", "ở cấp xã", "cho doanh nghiệp", "trong nông nghiệp"}, "303.4833"},
	{"An toàn thông tin %s", []string{"cho người dùng", "trên mạng xã hội", "cho trẻ em"}, "005.8"},
}

var sciencePatterns = []pattern{
	{"Khám phá %s", []string{"vũ trụ", "đại dương", "cơ thể người", "thế giới động vật", "thế giới thực vật", "Trái Đất", "khủng long", "côn trùng"}, "500"},
	{"Bách khoa tri thức %s", []string{"cho trẻ em", "về khoa học", "về lịch sử thế giới", "về động vật"}, "031"},
	{"Thế giới %s", []string{"quanh em", "khoa học kỳ thú", "động vật hoang dã", "biển sâu"}, "508"},
	{"Bé học %s", []string{"chữ cái", "đếm số", "màu sắc", "con vật", "tiếng Anh", "kỹ năng"}, "372.21"},
}

var cultureTitles = []pattern{
	{"Lễ hội %s", []string{"truyền thống Việt Nam", "dân gian", "đồng bằng Bắc Bộ", "làng Việt"}, "394.269597"},
	{"Văn hóa %s", []string{"làng Việt", "ẩm thực Việt Nam", "tâm linh người Việt", "đồng bằng sông Hồng", "Việt Nam", "dân gian"}, "306.09597"},
	{"Phong tục %s", []string{"cưới hỏi Việt Nam", "Tết cổ truyền", "thờ cúng tổ tiên", "làng xã"}, "390.09597"},
	{"Nghệ thuật %s", []string{"chèo", "tuồng", "múa rối nước", "ca trù", "hát xẩm"}, "792.09597"},
}

var referenceTitles = []string{
	"Từ điển Anh – Việt", "Từ điển Việt – Anh", "Từ điển Hán Việt", "Từ điển thành ngữ, tục ngữ Việt Nam",
	"Từ điển bách khoa Việt Nam", "Từ điển chính tả tiếng Việt", "Từ điển tiếng Việt cho học sinh",
	"Đại từ điển tiếng Việt", "Từ điển văn học", "Từ điển địa danh Việt Nam", "Sổ tay kiến thức Toán học",
}

// poetryWords compose poetry collection titles.
var poetryHeads = []string{"Lời ru", "Khúc hát", "Gửi", "Nhớ", "Thương", "Hát về", "Ngày xanh", "Mưa", "Trăng", "Lục bát"}

// Names of invented authors. surnames weights follow the frequency of
// Vietnamese family names.
var (
	authorSurnames = []string{"Nguyễn", "Nguyễn", "Nguyễn", "Nguyễn", "Trần", "Trần", "Lê", "Lê", "Phạm", "Hoàng", "Vũ",
		"Đỗ", "Ngô", "Dương", "Đặng", "Bùi", "Đào", "Phan", "Lương", "Chu", "Hà", "Tạ", "Trịnh", "Đinh", "Cao", "Mai", "Lý", "Kiều", "Nghiêm", "Tô"}
	menMiddle   = []string{"Văn", "Đức", "Hữu", "Quang", "Minh", "Xuân", "Công", "Đình", "Ngọc", "Thế", "Mạnh", "Trọng", "Tiến", "Thanh", "Duy", "Khắc"}
	menNames    = []string{"Hùng", "Tuấn", "Dũng", "Thắng", "Cường", "Sơn", "Long", "Hải", "Toàn", "Nam", "Bình", "Khang", "Việt", "Thành", "Phong", "Trung", "Hiếu", "Tùng", "Lâm", "Quân", "Đạt", "Kiên", "Huy", "Thịnh", "Vinh", "Tâm", "Chiến", "Hòa", "Thủy", "Lợi"}
	womenMiddle = []string{"Thị", "Thị", "Thu", "Thanh", "Ngọc", "Hồng", "Minh", "Bích", "Thúy", "Kim", "Phương", "Diệu"}
	womenNames  = []string{"Hương", "Hạnh", "Mai", "Hằng", "Nga", "Thúy", "Yến", "Huyền", "Oanh", "Dung", "Phương", "Loan", "Trang", "Hiền", "Linh", "Nhung", "Vân", "Liên", "Thảo", "Quyên", "Ngân", "Hòa", "Lan", "Hà", "Thủy", "Xuân", "Anh", "Châu"}
)

// Shelf locations.
const (
	locOpen        = "Kho mở"
	locOpen2       = "Kho mở tầng 2"
	locChildren    = "Phòng đọc thiếu nhi"
	locLocal       = "Kho tài liệu địa chí"
	locReference   = "Phòng tra cứu"
	locStack       = "Kho lưu trữ"
	locGeneral     = "Phòng đọc tổng hợp"
	locTextbook    = "Kho sách giáo khoa"
	locStudy       = "Kho sách tham khảo"
	locTeacher     = "Phòng đọc giáo viên"
	locLaw         = "Tủ sách pháp luật"
	locCorner      = "Góc thiếu nhi"
	locShared      = "Tủ sách chung"
	locMainShelf   = "Giá sách chính"
	locMultimedia  = "Phòng đa phương tiện"
	locPeriodicals = "Phòng báo, tạp chí"
)

// Loan types.
const (
	loanStandard  = "STANDARD"
	loanShort     = "SHORT_LOAN"
	loanReference = "REFERENCE"
	loanTextbook  = "TEXTBOOK"
	loanChildren  = "CHILDREN"
)

// Commune-level units of each district before the 2025 merger, used to
// name the generated libraries of the benchmark province. The first word is
// the kind of unit.
var districtCommunes = map[string][]string{
	dBacNinh: {"phường Suối Hoa", "phường Tiền An", "phường Ninh Xá", "phường Đại Phúc", "phường Võ Cường",
		"phường Thị Cầu", "phường Đáp Cầu", "phường Vũ Ninh", "phường Vạn An", "phường Khúc Xuyên",
		"phường Phong Khê", "phường Khắc Niệm", "phường Hạp Lĩnh", "phường Nam Sơn", "phường Kim Chân",
		"phường Vân Dương", "phường Hòa Long", "phường Kinh Bắc", "phường Vệ An"},
	dTuSon: {"phường Đông Ngàn", "phường Đồng Nguyên", "phường Hương Mạc", "phường Phù Chẩn", "phường Phù Khê",
		"phường Tam Sơn", "phường Tân Hồng", "phường Trang Hạ", "phường Tương Giang", "phường Đình Bảng",
		"phường Đồng Kỵ", "phường Châu Khê"},
	dTienDu: {"xã Cảnh Hưng", "xã Đại Đồng", "xã Hiên Vân", "xã Hoàn Sơn", "xã Lạc Vệ", "xã Minh Đạo",
		"xã Phú Lâm", "xã Tân Chi", "xã Tri Phương", "xã Việt Đoàn", "thị trấn Lim", "xã Phật Tích",
		"xã Nội Duệ", "xã Liên Bão"},
	dYenPhong: {"thị trấn Chờ", "xã Đông Phong", "xã Đông Tiến", "xã Hòa Tiến", "xã Long Châu", "xã Tam Đa",
		"xã Tam Giang", "xã Thụy Hòa", "xã Trung Nghĩa", "xã Yên Phụ", "xã Yên Trung", "xã Dũng Liệt",
		"xã Văn Môn", "xã Đông Thọ"},
	dQueVo: {"phường Phố Mới", "phường Bồng Lai", "phường Cách Bi", "phường Đại Xuân", "phường Nhân Hòa",
		"phường Phù Lương", "phường Phượng Mao", "phường Quế Tân", "xã Châu Phong", "xã Chi Lăng",
		"xã Đào Viên", "xã Đức Long", "xã Hán Quảng", "xã Mộ Đạo", "xã Ngọc Xá", "xã Việt Thống",
		"xã Yên Giả", "phường Phương Liễu", "phường Bằng An", "phường Việt Hùng", "xã Phù Lãng"},
	dThuanThanh: {"phường Hồ", "phường An Bình", "phường Gia Đông", "phường Hà Mãn", "phường Ninh Xá",
		"phường Trạm Lộ", "phường Trí Quả", "xã Đại Đồng Thành", "xã Đình Tổ", "xã Hoài Thượng",
		"xã Mão Điền", "xã Nghĩa Đạo", "xã Ngũ Thái", "xã Nguyệt Đức", "xã Song Liễu",
		"phường Thanh Khương", "phường Song Hồ", "phường Xuân Lâm"},
	dGiaBinh: {"thị trấn Gia Bình", "xã Bình Dương", "xã Cao Đức", "xã Đại Bái", "xã Giang Sơn",
		"xã Lãng Ngâm", "xã Quỳnh Phú", "xã Song Giang", "xã Thái Bảo", "xã Vạn Ninh", "xã Xuân Lai",
		"xã Đông Cứu", "xã Đại Lai", "xã Nhân Thắng"},
	dLuongTai: {"thị trấn Thứa", "xã An Thịnh", "xã Bình Định", "xã Lai Hạ", "xã Minh Tân", "xã Phú Hòa",
		"xã Phú Lương", "xã Tân Lãng", "xã Trung Chính", "xã Trừng Xá", "xã Mỹ Hương", "xã Lâm Thao",
		"xã Quảng Phú", "xã Trung Kênh"},
}

// districtOrder lists the districts with their library codes.
var districtOrder = []struct{ name, code, kind string }{
	{dBacNinh, "BN-TP", "thành phố"}, {dTuSon, "BN-TS", "thành phố"}, {dTienDu, "BN-TD", "huyện"},
	{dYenPhong, "BN-YP", "huyện"}, {dQueVo, "BN-QV", "thị xã"}, {dThuanThanh, "BN-TT", "thị xã"},
	{dGiaBinh, "BN-GB", "huyện"}, {dLuongTai, "BN-LT", "huyện"},
}

// Village name parts: Bắc Ninh's villages are often a commune's name with a
// position, or an old name ending in Xá, Trung, Đông, Đoài.
var villagePrefixes = []string{"thôn Đông", "thôn Đoài", "thôn Thượng", "thôn Hạ", "thôn Trung", "thôn Nam", "thôn Bắc", "khu phố"}

// Private library owners' titles.
var privateKinds = []string{"Tủ sách Gia đình ông", "Tủ sách Gia đình bà", "Thư viện tư nhân", "Tủ sách cộng đồng"}

var communityNames = []string{"Hoa Sen", "Ánh Dương", "Tuổi Thơ", "Khuyến Học", "Ước Mơ", "Hạt Giống", "Sao Mai", "Cầu Vồng", "Tri Thức", "Đom Đóm"}
