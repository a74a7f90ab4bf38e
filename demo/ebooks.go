package demo

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"strings"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/ebooks"
	"github.com/bacninh/thuvienso/vietnamese"
)

// Ebook is one demo e-book title: a public-domain classic of the demo
// catalog, lent under one license model, so every model can be tried.
type Ebook struct {
	// ID is the title's stable ID (so seeding again changes nothing).
	ID      string
	Title   string
	Author  string
	Year    int
	Summary string
	// Chapters are the text of the generated EPUB, one paragraph each.
	Chapters []string
	License  ebooks.License
}

// Ebooks returns the demo e-books with their licenses; time-limited
// licenses end a year after now.
func Ebooks(now time.Time) []Ebook {
	year := now.AddDate(1, 0, 0)
	return []Ebook{
		{ID: "ebook-truyen-kieu", Title: "Truyện Kiều", Author: "Nguyễn Du", Year: 1820,
			Summary:  "Truyện thơ lục bát kể cuộc đời mười lăm năm lưu lạc của Thúy Kiều.",
			Chapters: []string{"Trăm năm trong cõi người ta, / Chữ tài chữ mệnh khéo là ghét nhau.", "Trải qua một cuộc bể dâu, / Những điều trông thấy mà đau đớn lòng."},
			License:  ebooks.License{Model: ebooks.OpenAccess}},
		{ID: "ebook-luc-van-tien", Title: "Lục Vân Tiên", Author: "Nguyễn Đình Chiểu", Year: 1864,
			Summary:  "Truyện thơ Nôm đề cao nhân nghĩa, trung hiếu, tiết hạnh.",
			Chapters: []string{"Trước đèn xem truyện Tây Minh, / Gẫm cười hai chữ nhân tình éo le."},
			License:  ebooks.License{Model: ebooks.OneCopyOneUser, Concurrency: 2}},
		{ID: "ebook-so-do", Title: "Số đỏ", Author: "Vũ Trọng Phụng", Year: 1936,
			Summary:  "Tiểu thuyết trào phúng về xã hội thành thị Hà Nội những năm 1930.",
			Chapters: []string{"Chương một: Hạnh phúc của một tang gia.", "Chương hai: Xuân Tóc Đỏ bước vào thế giới văn minh."},
			License:  ebooks.License{Model: ebooks.MeteredCheckouts, Concurrency: 1, CheckoutsTotal: 26}},
		{ID: "ebook-tat-den", Title: "Tắt đèn", Author: "Ngô Tất Tố", Year: 1939,
			Summary:  "Tiểu thuyết về người nông dân Việt Nam trước Cách mạng qua số phận chị Dậu.",
			Chapters: []string{"Chương một: Sưu thuế.", "Chương hai: Chị Dậu."},
			License:  ebooks.License{Model: ebooks.MeteredTime, Concurrency: 1, ExpiresAt: &year}},
		{ID: "ebook-de-men", Title: "Dế Mèn phiêu lưu ký", Author: "Tô Hoài", Year: 1941,
			Summary:  "Cuộc phiêu lưu của chú Dế Mèn, truyện thiếu nhi được yêu thích nhất.",
			Chapters: []string{"Tôi sống độc lập từ thuở bé.", "Một hôm, tôi gặp chị Cốc."},
			License:  ebooks.License{Model: ebooks.OneCopyManyUsers, ExpiresAt: &year}},
	}
}

// WorkFinder returns the catalog work of a title and author, or "" when
// the catalog has none.
type WorkFinder func(ctx context.Context, title, author string) (string, error)

// SeedEbooks adds the demo e-books whose work the catalog has: their EPUB
// files to content, their titles and licenses through svc as admin.
// Titles that exist are left alone, so seeding again changes nothing.
func SeedEbooks(ctx context.Context, svc *ebooks.Service, content ebooks.ContentStore, find WorkFinder, admin auth.Actor, logger *slog.Logger) (int, error) {
	added := 0
	for _, e := range Ebooks(time.Now()) {
		if _, err := svc.Title(ctx, e.ID); err == nil {
			continue
		} else if !errors.Is(err, thuvienso.ErrNotFound) {
			return added, err
		}
		workID, err := find(ctx, e.Title, e.Author)
		if err != nil {
			return added, fmt.Errorf("demo e-book %s: %w", e.ID, err)
		}
		if workID == "" {
			logger.Warn("demo e-book has no catalog work; skipped", "title", e.Title)
			continue
		}
		ref := e.ID + ".epub"
		epub, err := EPUB(e.ID, e.Title, e.Author, "vi", e.Chapters)
		if err != nil {
			return added, err
		}
		if err := content.Put(ctx, ref, bytes.NewReader(epub)); err != nil {
			return added, fmt.Errorf("demo e-book %s: %w", e.ID, err)
		}
		t, err := svc.AddTitle(ctx, admin, &ebooks.Title{ID: e.ID, WorkID: workID, Format: ebooks.FormatEPUB, Name: e.Title,
			Authors: []string{e.Author}, Language: "vi", Publisher: "Thư viện tỉnh Bắc Ninh (bản số hóa)", Summary: e.Summary, ContentRef: ref})
		if err != nil {
			return added, fmt.Errorf("demo e-book %s: %w", e.ID, err)
		}
		l := e.License
		l.TitleID, l.Scope = t.ID, ebooks.ScopeProvince
		if _, err := svc.AddLicense(ctx, admin, &l); err != nil {
			return added, fmt.Errorf("demo e-book %s: %w", e.ID, err)
		}
		added++
	}
	return added, nil
}

// EPUB builds a small valid EPUB 3 book: the stored mimetype entry first,
// the container, the package document, a navigation document and one
// XHTML file per chapter.
func EPUB(id, title, author, lang string, chapters []string) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	// The mimetype must come first and uncompressed (EPUB OCF 3.3 §4.2.4).
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "mimetype", Method: zip.Store})
	if err == nil {
		_, err = w.Write([]byte("application/epub+zip"))
	}
	if err != nil {
		return nil, fmt.Errorf("epub %s: %w", id, err)
	}
	esc := func(s string) string { return html.EscapeString(vietnamese.Clean(s)) }
	files := []struct{ name, body string }{
		{"META-INF/container.xml", `<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles>
</container>`},
	}
	var manifest, spine, nav strings.Builder
	for i, text := range chapters {
		name := fmt.Sprintf("chapter-%d.xhtml", i+1)
		fmt.Fprintf(&manifest, `    <item id="c%d" href="%s" media-type="application/xhtml+xml"/>`+"\n", i+1, name)
		fmt.Fprintf(&spine, `    <itemref idref="c%d"/>`+"\n", i+1)
		fmt.Fprintf(&nav, `      <li><a href="%s">%d</a></li>`+"\n", name, i+1)
		files = append(files, struct{ name, body string }{"OEBPS/" + name, fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="%[1]s" lang="%[1]s">
<head><title>%[2]s</title></head>
<body><h1>%[2]s</h1><p>%[3]s</p></body>
</html>`, lang, esc(title), esc(text))})
	}
	files = append(files,
		struct{ name, body string }{"OEBPS/nav.xhtml", fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" xml:lang="%[1]s" lang="%[1]s">
<head><title>%[2]s</title></head>
<body><nav epub:type="toc" id="toc"><h1>%[2]s</h1><ol>
%[3]s    </ol></nav></body>
</html>`, lang, esc(title), nav.String())},
		struct{ name, body string }{"OEBPS/content.opf", fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="uid" xml:lang="%[1]s">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
    <dc:identifier id="uid">urn:thuvienso:%[2]s</dc:identifier>
    <dc:title>%[3]s</dc:title>
    <dc:creator>%[4]s</dc:creator>
    <dc:language>%[1]s</dc:language>
    <meta property="dcterms:modified">2026-01-01T00:00:00Z</meta>
  </metadata>
  <manifest>
    <item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>
%[5]s  </manifest>
  <spine>
%[6]s  </spine>
</package>`, lang, esc(id), esc(title), esc(author), manifest.String(), spine.String())})
	for _, f := range files {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: fixedTime})
		if err == nil {
			_, err = w.Write([]byte(f.body))
		}
		if err != nil {
			return nil, fmt.Errorf("epub %s: %w", id, err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("epub %s: %w", id, err)
	}
	return buf.Bytes(), nil
}
