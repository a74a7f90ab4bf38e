package ingest

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"

	"github.com/bacninh/thuvienso/catalog"
)

// TestKohaExport reads the real Koha MARCXML export. It carries no 952 item
// fields (only 942 and 999), so its copies are tested by adding 952 fields
// as Koha writes them to the same real record.
func TestKohaExport(t *testing.T) {
	b := readShared(t, "1474920681_KOHA_LFL_5.xml")
	if len(b.Records) != 1 {
		t.Fatal(b.Report.String())
	}
	r := b.Records[0]
	if r.SourceID != "121564" || r.Title != "Cinema and architecture : from historical to digital" ||
		r.FirstAuthor() != "Penz, Francois" || r.Publisher != "BFI (British Film Institute) Publishing" ||
		r.Place != "London" || r.Year != 1996 || len(r.Links) != 2 || r.Format != catalog.FormatBook ||
		r.PhysicalDescription != "192 p." || !reflect.DeepEqual(r.Languages, []string{"eng"}) ||
		!reflect.DeepEqual(r.ValidISBN13s(), []string{"9780851705774"}) {
		t.Errorf("Koha record %+v", r)
	}
	if len(b.Items) != 0 {
		t.Errorf("items %+v", b.Items)
	}

	data, err := os.ReadFile(sharedFile(t, "marc", "1474920681_KOHA_LFL_5.xml"))
	if err != nil {
		t.Fatal(err)
	}
	items := `
  <datafield ind1=" " ind2=" " tag="952">
    <subfield code="a">LFL</subfield><subfield code="b">LFL</subfield><subfield code="c">GEN</subfield>
    <subfield code="o">791.43 PEN</subfield><subfield code="p">39000000123</subfield><subfield code="y">BK</subfield>
  </datafield>
  <datafield ind1=" " ind2=" " tag="952">
    <subfield code="a">BR2</subfield><subfield code="o">791.43 PEN c.2</subfield><subfield code="p">39000000124</subfield>
    <subfield code="q">2016-02-01</subfield>
  </datafield>
  <datafield ind1=" " ind2=" " tag="952">
    <subfield code="a">LFL</subfield><subfield code="p">39000000125</subfield><subfield code="1">1</subfield>
  </datafield>
  <datafield ind1=" " ind2=" " tag="952">
    <subfield code="a">LFL</subfield><subfield code="p">39000000126</subfield><subfield code="4">1</subfield>
  </datafield>
  <datafield ind1=" " ind2=" " tag="952">
    <subfield code="a">LFL</subfield><subfield code="p">39000000127</subfield><subfield code="7">1</subfield>
  </datafield>
  <datafield ind1=" " ind2=" " tag="952">
    <subfield code="a">LFL</subfield><subfield code="p">39000000128</subfield><subfield code="7">-1</subfield>
  </datafield>
  <datafield ind1=" " ind2=" " tag="952">
    <subfield code="a">LFL</subfield><subfield code="p">39000000129</subfield><subfield code="0">1</subfield>
  </datafield>
  <datafield ind1=" " ind2=" " tag="952">
    <subfield code="a">LFL</subfield><subfield code="c">GEN</subfield>
  </datafield>
</record>`
	doc := strings.Replace(string(data), "</record>", items, 1)
	o := Options{LibraryID: "huyen-tien-du", Branches: map[string]string{"BR2": "xa-lac-ve"}}
	b, err = ReadMARCXML(strings.NewReader(doc), "koha-with-items.xml", o)
	if err != nil {
		t.Fatal(err)
	}
	want := []catalog.Item{
		{Barcode: "39000000123", LibraryID: "huyen-tien-du", RecordSourceID: "121564", Branch: "LFL", Location: "GEN", CallNumber: "791.43 PEN", LoanType: "BK", Status: catalog.StatusAvailable},
		{Barcode: "39000000124", LibraryID: "xa-lac-ve", RecordSourceID: "121564", Branch: "BR2", CallNumber: "791.43 PEN c.2", LoanType: "BK", Status: catalog.StatusOnLoan},
		{Barcode: "39000000125", LibraryID: "huyen-tien-du", RecordSourceID: "121564", Branch: "LFL", LoanType: "BK", Status: catalog.StatusLost},
		{Barcode: "39000000126", LibraryID: "huyen-tien-du", RecordSourceID: "121564", Branch: "LFL", LoanType: "BK", Status: catalog.StatusDamaged},
		{Barcode: "39000000127", LibraryID: "huyen-tien-du", RecordSourceID: "121564", Branch: "LFL", LoanType: "BK", Status: catalog.StatusReferenceOnly},
		{Barcode: "39000000128", LibraryID: "huyen-tien-du", RecordSourceID: "121564", Branch: "LFL", LoanType: "BK", Status: catalog.StatusInProcessing},
	}
	if !reflect.DeepEqual(b.Items, want) {
		t.Errorf("items\n%+v\nwant\n%+v", b.Items, want)
	}
	if b.Report.Items != 6 || b.Report.WarningCount != 2 {
		t.Errorf("report %s %v", b.Report.String(), b.Report.Warnings)
	}
}

func TestReadCSV(t *testing.T) {
	in := "\ufeffNhan đề;Tác giả;ISBN;Năm xuất bản;Nhà xuất bản;Mã vạch;Ký hiệu xếp giá;Ghi chú\n" +
		norm.NFD.String("Truyện Kiều;Nguyễn Du;978-0-85170-577-4;2015;NXB Văn học;TV001;895.922 NG-D;x\n") +
		"Truyện Kiều;Nguyễn Du;0851705774;2015;NXB Văn học;TV002;895.922 NG-D;\n" + // same book, second copy
		"Dế Mèn phiêu lưu ký;Tô Hoài;;1941;Kim Đồng;TV003;;\n" +
		";Không tên;;;;TV004;;\n" + // no title: skipped
		"Số đỏ;Vũ Trọng Phụng;12345;1936;;TV001;;\n" + // barcode reused: skipped
		"Số đỏ;Vũ Trọng Phụng;12345;năm nào;;;;\n" + // bad ISBN and year: warnings
		"\n"
	b, err := ReadCSV(strings.NewReader(in), "lang.csv", Options{LibraryID: "xa-dong-ky"})
	if err != nil {
		t.Fatal(err)
	}
	r := b.Report
	t.Log(r.String(), r.Skips, r.Warnings)
	if r.Read != 6 || r.Imported != 4 || r.Skipped != 2 || r.Items != 3 || len(b.Records) != 3 {
		t.Fatalf("report %s", r.String())
	}
	k := b.Records[0]
	if k.Title != "Truyện Kiều" || k.FirstAuthor() != "Nguyễn Du" || k.Year != 2015 || k.Publisher != "NXB Văn học" ||
		len(k.ValidISBN13s()) != 1 || !strings.HasPrefix(k.SourceID, "csv:") || k.SourceFormat != catalog.SourceCSV {
		t.Errorf("record %+v", k)
	}
	if b.Items[0].RecordSourceID != k.SourceID || b.Items[1].RecordSourceID != k.SourceID ||
		b.Items[0].CallNumber != "895.922 NG-D" || b.Items[1].Barcode != "TV002" {
		t.Errorf("items %+v", b.Items)
	}
	if len(r.Skips) != 2 || r.Skips[0].Position != 5 || r.Skips[1].Position != 6 {
		t.Errorf("skips %v", r.Skips)
	}
	// Same file again: same source IDs.
	b2, _ := ReadCSV(strings.NewReader(in), "lang.csv", Options{LibraryID: "xa-dong-ky"})
	for i := range b.Records {
		if b.Records[i].SourceID != b2.Records[i].SourceID {
			t.Error("source ids not stable")
		}
	}
	if _, err := ReadCSV(strings.NewReader("a,b\n1,2\n"), "x.csv", Options{LibraryID: "x"}); err == nil {
		t.Error("a file without a title column must be refused")
	}
}

// TestReadRealCSV reads the real Vietnamese bookstore spreadsheet (no
// barcodes: one record per distinct book, NFC whatever the file had).
func TestReadRealCSV(t *testing.T) {
	b, err := ReadFile(sharedFile(t, "vietnamese", "tiki_bestsellers_book_data.csv"), Options{LibraryID: "tu-sach-xa"})
	if err != nil {
		t.Fatal(err)
	}
	r := b.Report
	t.Log(r.String())
	if r.Read != 1751 || r.Imported+r.Skipped != r.Read || len(b.Records) == 0 || len(b.Records) >= 1751 {
		t.Fatalf("report %s", r.String())
	}
	for _, rec := range b.Records {
		if !norm.NFC.IsNormalString(rec.Title) || !norm.NFC.IsNormalString(rec.FirstAuthor()) || rec.Title == "" {
			t.Fatalf("record %+v", rec)
		}
	}
}
