package demo

import (
	"time"

	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/library"
)

// The demo province, as it stood before the 2025 merger of provinces: Bắc
// Ninh city, Từ Sơn city (since 2021), the towns (thị xã) of Quế Võ and
// Thuận Thành (since 2023) and the districts of Tiên Du, Yên Phong, Gia Bình
// and Lương Tài. Places and communes are real; street addresses, telephone
// numbers and coordinates are approximate (coordinates to within a few
// hundred metres), and the private libraries and all people are invented.
//
// Libraries are listed parents first, so each can be created after the one
// it reports to. Codes are ASCII: the librarian's login is derived from them.

// District and commune names, as stored in Library.District and
// Library.Commune: the bare name, without huyện/xã/phường.
const (
	dBacNinh    = "Bắc Ninh"
	dTuSon      = "Từ Sơn"
	dTienDu     = "Tiên Du"
	dYenPhong   = "Yên Phong"
	dQueVo      = "Quế Võ"
	dThuanThanh = "Thuận Thành"
	dGiaBinh    = "Gia Bình"
	dLuongTai   = "Lương Tài"
)

// site is one demo library; parent is the code of the library it reports to.
type site struct {
	code, name string
	typ        library.Type
	parent     string
	district   string
	commune    string
	address    string
	lat, lng   float64
	hours      []library.OpeningHours
	pickup     bool
	contact    library.Contact
}

// period is one opening period of a day.
type period struct{ opens, closes string }

// week repeats the periods on each of the days.
func week(days []time.Weekday, periods ...period) []library.OpeningHours {
	var out []library.OpeningHours
	for _, d := range days {
		for _, p := range periods {
			out = append(out, library.OpeningHours{Weekday: d, Opens: p.opens, Closes: p.closes})
		}
	}
	return out
}

// join concatenates weekly schedules.
func join(parts ...[]library.OpeningHours) []library.OpeningHours {
	var out []library.OpeningHours
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

var (
	monToFri = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}
	tueToSun = []time.Weekday{time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}
	weekend  = []time.Weekday{time.Saturday, time.Sunday}

	morning   = period{"07:30", "11:30"}
	afternoon = period{"13:30", "17:00"}
)

// Opening hours by kind of library.
var (
	// The provincial library closes on Mondays and opens at weekends.
	provincialHours = week(tueToSun, morning, afternoon)
	// District libraries keep office hours plus Saturday morning.
	districtHours = join(week(monToFri, morning, afternoon), week([]time.Weekday{time.Saturday}, morning))
	// Commune reading rooms are staffed in the afternoon on weekdays, when
	// pupils are out of school, and on weekend mornings.
	communeHours = join(week(monToFri, period{"14:00", "17:00"}), week(weekend, period{"08:00", "11:00"}))
	// School libraries follow the school day, Monday to Friday.
	schoolHours = week(monToFri, period{"07:00", "11:30"}, period{"13:30", "16:30"})
	// Village reading rooms open in the evening after field work, and on
	// Sunday.
	villageHours = join(
		week([]time.Weekday{time.Tuesday, time.Thursday, time.Saturday}, period{"18:30", "21:00"}),
		week([]time.Weekday{time.Sunday}, period{"08:00", "11:00"}, period{"14:30", "17:30"}))
	// Private libraries open when their owners are at home: weekends and
	// Wednesday evening.
	privateHours = join(
		week([]time.Weekday{time.Wednesday}, period{"18:00", "20:30"}),
		week(weekend, period{"08:00", "11:30"}, period{"14:00", "18:00"}))
)

func provincial(code, name, address string, lat, lng float64, c library.Contact) site {
	return site{code: code, name: name, typ: library.TypeProvincial, district: dBacNinh, address: address,
		lat: lat, lng: lng, hours: provincialHours, pickup: true, contact: c}
}

func district(code, name, district, address string, lat, lng float64, c library.Contact) site {
	return site{code: code, name: name, typ: library.TypeDistrict, parent: "BN", district: district,
		address: address, lat: lat, lng: lng, hours: districtHours, pickup: true, contact: c}
}

func commune(code, name, parent, district, commune, address string, lat, lng float64, pickup bool) site {
	return site{code: code, name: name, typ: library.TypeCommune, parent: parent, district: district,
		commune: commune, address: address, lat: lat, lng: lng, hours: communeHours, pickup: pickup}
}

func school(code, name, parent, district, commune, address string, lat, lng float64, phone string) site {
	return site{code: code, name: name, typ: library.TypeSchool, parent: parent, district: district,
		commune: commune, address: address, lat: lat, lng: lng, hours: schoolHours,
		contact: library.Contact{Phone: phone}}
}

func village(code, name, parent, district, commune, address string, lat, lng float64, pickup bool) site {
	return site{code: code, name: name, typ: library.TypeVillage, parent: parent, district: district,
		commune: commune, address: address, lat: lat, lng: lng, hours: villageHours, pickup: pickup}
}

func private(code, name, parent, district, commune, address string, lat, lng float64, pickup bool) site {
	return site{code: code, name: name, typ: library.TypePrivate, parent: parent, district: district,
		commune: commune, address: address, lat: lat, lng: lng, hours: privateHours, pickup: pickup}
}

// sites is the demo network, parents before children.
var sites = []site{
	provincial("BN", "Thư viện tỉnh Bắc Ninh", "Số 1 Lý Thái Tổ, phường Suối Hoa, thành phố Bắc Ninh",
		21.1812, 106.0637, library.Contact{Phone: "0222 3822 616", Email: "thuvientinh@bacninh.gov.vn",
			Website: "https://thuvientinh.bacninh.gov.vn"}),

	// District-level libraries.
	district("BN-TP", "Thư viện thành phố Bắc Ninh", dBacNinh,
		"Số 20 Nguyễn Gia Thiều, phường Tiền An, thành phố Bắc Ninh", 21.1860, 106.0735,
		library.Contact{Phone: "0222 3821 345", Email: "thuvien.tpbacninh@bacninh.gov.vn"}),
	district("BN-TS", "Thư viện thành phố Từ Sơn", dTuSon,
		"Đường Lý Thánh Tông, phường Đông Ngàn, thành phố Từ Sơn", 21.1165, 105.9620,
		library.Contact{Phone: "0222 3831 208", Email: "thuvien.tuson@bacninh.gov.vn"}),
	district("BN-TD", "Thư viện huyện Tiên Du", dTienDu,
		"Khu phố Lũng Giang, thị trấn Lim, huyện Tiên Du", 21.1445, 106.0215,
		library.Contact{Phone: "0222 3837 154", Email: "thuvien.tiendu@bacninh.gov.vn"}),
	district("BN-YP", "Thư viện huyện Yên Phong", dYenPhong,
		"Khu phố Trung Bạn, thị trấn Chờ, huyện Yên Phong", 21.2035, 105.9545,
		library.Contact{Phone: "0222 3860 217", Email: "thuvien.yenphong@bacninh.gov.vn"}),
	district("BN-QV", "Thư viện thị xã Quế Võ", dQueVo,
		"Đường Nguyễn Cao, phường Phố Mới, thị xã Quế Võ", 21.1530, 106.1565,
		library.Contact{Phone: "0222 3863 092", Email: "thuvien.quevo@bacninh.gov.vn"}),
	district("BN-TT", "Thư viện thị xã Thuận Thành", dThuanThanh,
		"Đường Thiên Đức, phường Hồ, thị xã Thuận Thành", 21.0585, 106.0890,
		library.Contact{Phone: "0222 3865 318", Email: "thuvien.thuanthanh@bacninh.gov.vn"}),
	district("BN-GB", "Thư viện huyện Gia Bình", dGiaBinh,
		"Khu 1, thị trấn Gia Bình, huyện Gia Bình", 21.0575, 106.1870,
		library.Contact{Phone: "0222 3868 427", Email: "thuvien.giabinh@bacninh.gov.vn"}),
	district("BN-LT", "Thư viện huyện Lương Tài", dLuongTai,
		"Phố Thứa, thị trấn Thứa, huyện Lương Tài", 21.0230, 106.2030,
		library.Contact{Phone: "0222 3867 139", Email: "thuvien.luongtai@bacninh.gov.vn"}),

	// Bắc Ninh city.
	commune("BN-TP-HL", "Thư viện phường Hòa Long", "BN-TP", dBacNinh, "Hòa Long",
		"Nhà văn hóa phường Hòa Long, thành phố Bắc Ninh", 21.2135, 106.0530, true),
	commune("BN-TP-KB", "Thư viện phường Kinh Bắc", "BN-TP", dBacNinh, "Kinh Bắc",
		"Đường Hồ Ngọc Lân, phường Kinh Bắc, thành phố Bắc Ninh", 21.1950, 106.0560, true),
	commune("BN-TP-VA", "Thư viện phường Vệ An", "BN-TP", dBacNinh, "Vệ An",
		"Đường Ngô Gia Tự, phường Vệ An, thành phố Bắc Ninh", 21.1905, 106.0700, true),
	village("BN-TP-HL-DIEM", "Phòng đọc làng Diềm (Viêm Xá)", "BN-TP-HL", dBacNinh, "Hòa Long",
		"Nhà văn hóa thôn Viêm Xá, phường Hòa Long, thành phố Bắc Ninh", 21.2165, 106.0505, true),
	school("BN-TP-THPT-CBN", "Thư viện Trường THPT Chuyên Bắc Ninh", "BN-TP", dBacNinh, "Kinh Bắc",
		"Số 4 Hồ Ngọc Lân, phường Kinh Bắc, thành phố Bắc Ninh", 21.1908, 106.0613, "0222 3874 206"),
	school("BN-TP-THPT-HT", "Thư viện Trường THPT Hàn Thuyên", "BN-TP", dBacNinh, "Đại Phúc",
		"Đường Nguyễn Trãi, phường Đại Phúc, thành phố Bắc Ninh", 21.1755, 106.0710, "0222 3822 480"),
	school("BN-TP-THCS-NDD", "Thư viện Trường THCS Nguyễn Đăng Đạo", "BN-TP", dBacNinh, "Suối Hoa",
		"Đường Nguyễn Đăng Đạo, phường Suối Hoa, thành phố Bắc Ninh", 21.1790, 106.0600, "0222 3811 552"),
	private("BN-TP-TN-AD", "Thư viện tư nhân Ánh Dương", "BN-TP", dBacNinh, "Vệ An",
		"Số 15 ngõ 42 Ngô Gia Tự, phường Vệ An, thành phố Bắc Ninh", 21.1918, 106.0688, true),

	// Từ Sơn.
	commune("BN-TS-DB", "Thư viện phường Đình Bảng", "BN-TS", dTuSon, "Đình Bảng",
		"Nhà văn hóa phường Đình Bảng, thành phố Từ Sơn", 21.1050, 105.9530, true),
	commune("BN-TS-DK", "Thư viện phường Đồng Kỵ", "BN-TS", dTuSon, "Đồng Kỵ",
		"Nhà văn hóa phường Đồng Kỵ, thành phố Từ Sơn", 21.1390, 105.9490, true),
	commune("BN-TS-CK", "Thư viện phường Châu Khê", "BN-TS", dTuSon, "Châu Khê",
		"Nhà văn hóa phường Châu Khê, thành phố Từ Sơn", 21.1185, 105.9420, false),
	village("BN-TS-DB-LANG", "Phòng đọc làng Đình Bảng", "BN-TS-DB", dTuSon, "Đình Bảng",
		"Cạnh đình làng Đình Bảng, phường Đình Bảng, thành phố Từ Sơn", 21.1045, 105.9505, false),
	village("BN-TS-DK-LANG", "Phòng đọc làng Đồng Kỵ", "BN-TS-DK", dTuSon, "Đồng Kỵ",
		"Nhà văn hóa khu phố Đồng Kỵ, phường Đồng Kỵ, thành phố Từ Sơn", 21.1405, 105.9515, false),
	school("BN-TS-THPT-LTT", "Thư viện Trường THPT Lý Thái Tổ", "BN-TS", dTuSon, "Đình Bảng",
		"Phường Đình Bảng, thành phố Từ Sơn", 21.1100, 105.9560, "0222 3740 128"),
	school("BN-TS-TH-DK", "Thư viện Trường Tiểu học Đồng Kỵ", "BN-TS", dTuSon, "Đồng Kỵ",
		"Phường Đồng Kỵ, thành phố Từ Sơn", 21.1375, 105.9475, "0222 3831 775"),
	private("BN-TS-TN-NVT", "Tủ sách Gia đình ông Nguyễn Văn Thịnh", "BN-TS", dTuSon, "Đồng Kỵ",
		"Khu phố Đồng Kỵ, phường Đồng Kỵ, thành phố Từ Sơn", 21.1412, 105.9468, true),

	// Tiên Du.
	commune("BN-TD-LIM", "Thư viện thị trấn Lim", "BN-TD", dTienDu, "Lim",
		"Nhà văn hóa thị trấn Lim, huyện Tiên Du", 21.1430, 106.0245, true),
	commune("BN-TD-PT", "Thư viện xã Phật Tích", "BN-TD", dTienDu, "Phật Tích",
		"Nhà văn hóa xã Phật Tích, huyện Tiên Du", 21.0880, 106.0285, true),
	commune("BN-TD-ND", "Thư viện xã Nội Duệ", "BN-TD", dTienDu, "Nội Duệ",
		"Nhà văn hóa xã Nội Duệ, huyện Tiên Du", 21.1330, 106.0060, false),
	commune("BN-TD-LB", "Thư viện xã Liên Bão", "BN-TD", dTienDu, "Liên Bão",
		"Nhà văn hóa xã Liên Bão, huyện Tiên Du", 21.1220, 106.0320, false),
	village("BN-TD-LIM-LANG", "Phòng đọc làng Lim (Lũng Giang)", "BN-TD-LIM", dTienDu, "Lim",
		"Dưới chân đồi Lim, thôn Lũng Giang, thị trấn Lim, huyện Tiên Du", 21.1452, 106.0195, true),
	school("BN-TD-THPT-1", "Thư viện Trường THPT Tiên Du số 1", "BN-TD", dTienDu, "Lim",
		"Thị trấn Lim, huyện Tiên Du", 21.1410, 106.0190, "0222 3837 265"),
	school("BN-TD-TH-PT", "Thư viện Trường Tiểu học Phật Tích", "BN-TD", dTienDu, "Phật Tích",
		"Xã Phật Tích, huyện Tiên Du", 21.0885, 106.0300, "0222 3838 041"),

	// Yên Phong.
	commune("BN-YP-DL", "Thư viện xã Dũng Liệt", "BN-YP", dYenPhong, "Dũng Liệt",
		"Nhà văn hóa xã Dũng Liệt, huyện Yên Phong", 21.2400, 105.9930, false),
	commune("BN-YP-VM", "Thư viện xã Văn Môn", "BN-YP", dYenPhong, "Văn Môn",
		"Nhà văn hóa xã Văn Môn, huyện Yên Phong", 21.1850, 105.9330, true),
	commune("BN-YP-DT", "Thư viện xã Đông Thọ", "BN-YP", dYenPhong, "Đông Thọ",
		"Nhà văn hóa xã Đông Thọ, huyện Yên Phong", 21.2050, 106.0000, true),
	village("BN-YP-VM-MX", "Phòng đọc làng Mẫn Xá", "BN-YP-VM", dYenPhong, "Văn Môn",
		"Nhà văn hóa thôn Mẫn Xá, xã Văn Môn, huyện Yên Phong", 21.1830, 105.9375, false),
	school("BN-YP-THPT-1", "Thư viện Trường THPT Yên Phong số 1", "BN-YP", dYenPhong, "Chờ",
		"Thị trấn Chờ, huyện Yên Phong", 21.2010, 105.9510, "0222 3860 330"),
	private("BN-YP-TN-NQH", "Tủ sách Gia đình ông Ngô Quang Huy", "BN-YP", dYenPhong, "Dũng Liệt",
		"Thôn Đông Xá, xã Dũng Liệt, huyện Yên Phong", 21.2385, 105.9905, false),

	// Quế Võ.
	commune("BN-QV-PL", "Thư viện phường Phương Liễu", "BN-QV", dQueVo, "Phương Liễu",
		"Nhà văn hóa phường Phương Liễu, thị xã Quế Võ", 21.1610, 106.1230, true),
	commune("BN-QV-BA", "Thư viện phường Bằng An", "BN-QV", dQueVo, "Bằng An",
		"Nhà văn hóa phường Bằng An, thị xã Quế Võ", 21.1450, 106.1700, false),
	commune("BN-QV-VH", "Thư viện phường Việt Hùng", "BN-QV", dQueVo, "Việt Hùng",
		"Nhà văn hóa phường Việt Hùng, thị xã Quế Võ", 21.1440, 106.1420, true),
	commune("BN-QV-PLG", "Thư viện xã Phù Lãng", "BN-QV", dQueVo, "Phù Lãng",
		"Nhà văn hóa xã Phù Lãng, thị xã Quế Võ", 21.1660, 106.2410, true),
	village("BN-QV-PLG-GOM", "Phòng đọc làng gốm Phù Lãng", "BN-QV-PLG", dQueVo, "Phù Lãng",
		"Thôn Phù Lãng, xã Phù Lãng, thị xã Quế Võ (bên sông Cầu)", 21.1690, 106.2465, true),
	school("BN-QV-THPT-1", "Thư viện Trường THPT Quế Võ số 1", "BN-QV", dQueVo, "Phố Mới",
		"Phường Phố Mới, thị xã Quế Võ", 21.1555, 106.1530, "0222 3863 215"),
	private("BN-QV-TN-DVK", "Thư viện tư nhân Đỗ Văn Khang", "BN-QV", dQueVo, "Phương Liễu",
		"Khu phố Phương Liễu, phường Phương Liễu, thị xã Quế Võ", 21.1622, 106.1255, true),

	// Thuận Thành.
	commune("BN-TT-TK", "Thư viện phường Thanh Khương", "BN-TT", dThuanThanh, "Thanh Khương",
		"Nhà văn hóa phường Thanh Khương, thị xã Thuận Thành", 21.0465, 106.0700, true),
	commune("BN-TT-SH", "Thư viện phường Song Hồ", "BN-TT", dThuanThanh, "Song Hồ",
		"Nhà văn hóa phường Song Hồ, thị xã Thuận Thành", 21.0685, 106.0815, true),
	commune("BN-TT-XL", "Thư viện phường Xuân Lâm", "BN-TT", dThuanThanh, "Xuân Lâm",
		"Nhà văn hóa phường Xuân Lâm, thị xã Thuận Thành", 21.0330, 106.0470, false),
	village("BN-TT-SH-DH", "Phòng đọc làng tranh Đông Hồ", "BN-TT-SH", dThuanThanh, "Song Hồ",
		"Khu phố Đông Hồ, phường Song Hồ, thị xã Thuận Thành", 21.0740, 106.0765, true),
	school("BN-TT-THPT-1", "Thư viện Trường THPT Thuận Thành số 1", "BN-TT", dThuanThanh, "Hồ",
		"Phường Hồ, thị xã Thuận Thành", 21.0560, 106.0920, "0222 3865 042"),
	school("BN-TT-THCS-TK", "Thư viện Trường THCS Thanh Khương", "BN-TT", dThuanThanh, "Thanh Khương",
		"Phường Thanh Khương, thị xã Thuận Thành", 21.0470, 106.0730, "0222 3779 163"),
	private("BN-TT-TN-PTN", "Tủ sách Gia đình bà Phạm Thị Nhung", "BN-TT", dThuanThanh, "Xuân Lâm",
		"Khu phố Xuân Lê, phường Xuân Lâm, thị xã Thuận Thành", 21.0345, 106.0495, false),

	// Gia Bình.
	commune("BN-GB-DC", "Thư viện xã Đông Cứu", "BN-GB", dGiaBinh, "Đông Cứu",
		"Nhà văn hóa xã Đông Cứu, huyện Gia Bình", 21.0900, 106.1950, true),
	commune("BN-GB-DL", "Thư viện xã Đại Lai", "BN-GB", dGiaBinh, "Đại Lai",
		"Nhà văn hóa xã Đại Lai, huyện Gia Bình", 21.0880, 106.1390, false),
	commune("BN-GB-NT", "Thư viện xã Nhân Thắng", "BN-GB", dGiaBinh, "Nhân Thắng",
		"Nhà văn hóa xã Nhân Thắng, huyện Gia Bình", 21.0330, 106.1660, true),
	school("BN-GB-THPT-1", "Thư viện Trường THPT Gia Bình số 1", "BN-GB", dGiaBinh, "Gia Bình",
		"Thị trấn Gia Bình, huyện Gia Bình", 21.0560, 106.1830, "0222 3868 105"),
	private("BN-GB-TN-HS", "Tủ sách cộng đồng Hoa Sen", "BN-GB", dGiaBinh, "Nhân Thắng",
		"Thôn Bình Ngô, xã Nhân Thắng, huyện Gia Bình", 21.0352, 106.1685, false),

	// Lương Tài.
	commune("BN-LT-LTH", "Thư viện xã Lâm Thao", "BN-LT", dLuongTai, "Lâm Thao",
		"Nhà văn hóa xã Lâm Thao, huyện Lương Tài", 21.0420, 106.2300, true),
	commune("BN-LT-QP", "Thư viện xã Quảng Phú", "BN-LT", dLuongTai, "Quảng Phú",
		"Nhà văn hóa xã Quảng Phú, huyện Lương Tài", 21.0150, 106.1560, true),
	commune("BN-LT-TK", "Thư viện xã Trung Kênh", "BN-LT", dLuongTai, "Trung Kênh",
		"Nhà văn hóa xã Trung Kênh, huyện Lương Tài", 21.0600, 106.2490, false),
	village("BN-LT-QP-QB", "Phòng đọc làng chèo Quảng Bố", "BN-LT-QP", dLuongTai, "Quảng Phú",
		"Thôn Quảng Bố, xã Quảng Phú, huyện Lương Tài", 21.0185, 106.1530, false),
	school("BN-LT-THPT", "Thư viện Trường THPT Lương Tài", "BN-LT", dLuongTai, "Thứa",
		"Thị trấn Thứa, huyện Lương Tài", 21.0250, 106.2060, "0222 3867 220"),
	private("BN-LT-TN-TTH", "Thư viện tư nhân Trần Thị Hằng", "BN-LT", dLuongTai, "Lâm Thao",
		"Thôn Lĩnh Mai, xã Lâm Thao, huyện Lương Tài", 21.0435, 106.2322, true),
}

// reader is one demo reader account.
type reader struct {
	name, email, phone string
	category           auth.Category
	home               string // library code
	cardBody           string // ten digits for card.NumberFrom
}

// readers are the demo readers: one of each category, at libraries of
// different kinds, and one who registered with a phone number only.
var readers = []reader{
	{name: "Nguyễn Thị Lan", email: "ban.doc@example.vn", category: auth.CategoryAdult, home: "BN-TS", cardBody: "9900000011"},
	{name: "Trần Minh Khôi", email: "hoc.sinh@example.vn", category: auth.CategoryStudent, home: "BN-TP-THPT-CBN", cardBody: "9900000012"},
	{name: "Lê Bảo An", email: "be.an@example.vn", category: auth.CategoryChild, home: "BN-TS-DB", cardBody: "9900000013"},
	{name: "Phạm Văn Đức", phone: "0901 234 567", category: auth.CategoryAdult, home: "BN-TT-SH-DH", cardBody: "9900000014"},
	{name: "Ngô Thị Mai", email: "doc.gia@example.vn", category: auth.CategoryAdult, home: "BN", cardBody: "9900000015"},
	{name: "Vũ Đức Anh", email: "vu.duc.anh@example.vn", category: auth.CategoryStudent, home: "BN-QV-THPT-1", cardBody: "9900000016"},
	{name: "Đặng Gia Hân", email: "gia.han@example.vn", category: auth.CategoryChild, home: "BN-TP-HL-DIEM", cardBody: "9900000017"},
}

// admin is the province's demo administrator.
var admin = reader{name: "Đỗ Thanh Huyền", email: "admin@thuvien.bacninh.gov.vn", home: "BN", cardBody: "9900000001"}

// Librarian names are drawn from these lists by the library's position, so
// every run gives every library the same librarian. Most librarians in the
// network are women, and so are most here.
var (
	surnames      = []string{"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đỗ", "Ngô", "Dương", "Đặng", "Bùi", "Đào", "Nguyễn", "Lương", "Chu", "Hà", "Tạ", "Trịnh", "Nguyễn"}
	womenMiddles  = []string{"Thị", "Thị Thu", "Thị Thanh", "Thị Minh", "Thị Hồng", "Thị Ngọc", "Thu", "Thanh"}
	womenGiven    = []string{"Hương", "Hạnh", "Mai", "Hằng", "Nga", "Thúy", "Yến", "Huyền", "Oanh", "Dung", "Phương", "Loan", "Trang", "Hiền", "Linh", "Nhung", "Vân", "Liên", "Thảo", "Quyên", "Ngân", "Hòa", "Lý"}
	menMiddles    = []string{"Văn", "Đức", "Quang", "Minh", "Hữu", "Xuân"}
	menGiven      = []string{"Hùng", "Tuấn", "Dũng", "Thắng", "Cường", "Sơn", "Long", "Hải", "Toàn", "Nam", "Bình"}
	librarianBody = 9900001000 // card body of the first librarian; the i-th adds i
)

// librarianName is the demo librarian of the i-th library.
func librarianName(i int) string {
	s := surnames[(i*7+3)%len(surnames)]
	if i%4 == 3 {
		return s + " " + menMiddles[(i/4)%len(menMiddles)] + " " + menGiven[(i*5)%len(menGiven)]
	}
	return s + " " + womenMiddles[(i*3)%len(womenMiddles)] + " " + womenGiven[(i*11)%len(womenGiven)]
}
