package demo

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"io"
	"path"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"
)

// TestEPUBIsAValidContainer checks what a reading system relies on to open
// a demo book: the uncompressed mimetype entry first, a container pointing
// at the package document, every manifest item present and well-formed
// XHTML, and the Vietnamese title intact (NFC).
func TestEPUBIsAValidContainer(t *testing.T) {
	for _, e := range Ebooks(time.Now()) {
		t.Run(e.ID, func(t *testing.T) {
			raw, err := EPUB(e.ID, e.Title, e.Author, "vi", e.Chapters)
			if err != nil {
				t.Fatal(err)
			}
			zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
			if err != nil {
				t.Fatal(err)
			}
			first := zr.File[0]
			if first.Name != "mimetype" || first.Method != zip.Store || string(readZip(t, first)) != "application/epub+zip" {
				t.Fatalf("first entry %q (method %d) is not the stored mimetype", first.Name, first.Method)
			}
			files := map[string]*zip.File{}
			for _, f := range zr.File {
				files[f.Name] = f
			}
			var container struct {
				Rootfiles []struct {
					FullPath string `xml:"full-path,attr"`
				} `xml:"rootfiles>rootfile"`
			}
			decode(t, files, "META-INF/container.xml", &container)
			if len(container.Rootfiles) != 1 {
				t.Fatalf("container lists %d rootfiles", len(container.Rootfiles))
			}
			opfPath := container.Rootfiles[0].FullPath
			var opf struct {
				Title    string `xml:"metadata>title"`
				Language string `xml:"metadata>language"`
				Items    []struct {
					Href  string `xml:"href,attr"`
					Props string `xml:"properties,attr"`
				} `xml:"manifest>item"`
				Spine []struct {
					IDRef string `xml:"idref,attr"`
				} `xml:"spine>itemref"`
			}
			decode(t, files, opfPath, &opf)
			if opf.Title != e.Title || !norm.NFC.IsNormalString(opf.Title) || opf.Language != "vi" {
				t.Errorf("package title %q language %q, want %q vi", opf.Title, opf.Language, e.Title)
			}
			if len(opf.Spine) != len(e.Chapters) {
				t.Errorf("spine has %d items, want %d chapters", len(opf.Spine), len(e.Chapters))
			}
			nav := false
			for _, it := range opf.Items {
				var doc struct {
					XMLName xml.Name
				}
				decode(t, files, path.Join(path.Dir(opfPath), it.Href), &doc)
				if doc.XMLName.Local != "html" {
					t.Errorf("%s is not XHTML", it.Href)
				}
				nav = nav || strings.Contains(it.Props, "nav")
			}
			if !nav {
				t.Error("no navigation document")
			}
		})
	}
}

func readZip(t *testing.T, f *zip.File) []byte {
	t.Helper()
	rc, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decode(t *testing.T, files map[string]*zip.File, name string, v any) {
	t.Helper()
	f := files[name]
	if f == nil {
		t.Fatalf("%s is missing", name)
	}
	if err := xml.Unmarshal(readZip(t, f), v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}
