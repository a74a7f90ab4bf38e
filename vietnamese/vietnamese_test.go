package vietnamese

import (
	"sort"
	"testing"

	"golang.org/x/text/unicode/norm"
)

func TestFoldMatchesTextTypedWithoutMarks(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Thư viện", "thu vien"},
		{"Đường", "duong"},
		{"đường", "duong"},
		{"Truyện Kiều", "truyen kieu"},
		{norm.NFD.String("Nguyễn Du"), "nguyen du"},
		{"Bắc Ninh", "bac ninh"},
	}
	for _, tt := range tests {
		if got := Fold(tt.in); got != tt.want {
			t.Errorf("Fold(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestKeyTreatsOldAndNewTonePlacementAsOneWord(t *testing.T) {
	same := [][2]string{
		{"hòa", "hoà"},
		{"Hòa Long", "hoà long"},
		{"thủy", "thuỷ"},
		{"khỏe", "khoẻ"},
		{"Thúy Kiều", "Thuý Kiều"},
		{norm.NFD.String("hòa"), "hoà"},
		{"quý", "quý"},
	}
	for _, p := range same {
		if Key(p[0]) != Key(p[1]) {
			t.Errorf("Key(%q)=%q differs from Key(%q)=%q", p[0], Key(p[0]), p[1], Key(p[1]))
		}
	}
	different := [][2]string{
		{"hóa", "hòa"},
		{"đường", "dương"},
		{"hoàn", "hòan"}, // a misplaced mark before a final consonant is not silently "fixed"
	}
	for _, p := range different {
		if Key(p[0]) == Key(p[1]) {
			t.Errorf("Key(%q) equals Key(%q); they are different words", p[0], p[1])
		}
	}
}

func TestNormalizeTonesLeavesUnambiguousSyllablesAlone(t *testing.T) {
	for _, s := range []string{"hoàn toàn", "thuyền", "quả", "quý", "Thư viện tỉnh Bắc Ninh", "Hoa"} {
		if got := NormalizeTones(s); got != norm.NFC.String(s) {
			t.Errorf("NormalizeTones(%q) = %q, want unchanged", s, got)
		}
	}
}

func TestCompareSortsInVietnameseOrder(t *testing.T) {
	words := []string{"Đông", "Dung", "Ăn", "An", "Ân", "Bắc", "Ê", "E", "Cây"}
	sort.Slice(words, func(i, j int) bool { return Compare(words[i], words[j]) < 0 })
	want := []string{"An", "Ăn", "Ân", "Bắc", "Cây", "Dung", "Đông", "E", "Ê"}
	for i := range want {
		if words[i] != want[i] {
			t.Fatalf("sorted = %v, want %v", words, want)
		}
	}
}

func TestCleanStoresNFCWithSingleSpaces(t *testing.T) {
	in := "  " + norm.NFD.String("Thư   viện") + " \t"
	if got := Clean(in); got != "Thư viện" || !norm.NFC.IsNormalString(got) {
		t.Errorf("Clean(%q) = %q", in, got)
	}
}
