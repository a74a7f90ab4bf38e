package cardsvc

import (
	"bufio"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/codabar"
	"github.com/boombuler/barcode/code128"
	"github.com/boombuler/barcode/qr"

	"github.com/bacninh/thuvienso/card"
)

// Symbol is a barcode or QR code as a matrix of modules, ready to draw.
type Symbol struct {
	// Width and Height are in modules; a linear barcode is one module high
	// (drawn BarHeight modules tall).
	Width, Height int
	dark          func(x, y int) bool
	// Linear is true for a 1D barcode.
	Linear bool
	// Text is printed under a linear barcode (the card number).
	Text string
}

// Dark reports whether the module at (x, y) is dark.
func (s *Symbol) Dark(x, y int) bool { return s.dark(x, y) }

// Drawing sizes in modules: the quiet zones the standards ask for (ten
// modules beside a linear barcode, four around a QR code) and the height
// of bars.
const (
	linearQuiet = 10
	qrQuiet     = 4
	BarHeight   = 50
)

// BarcodeSymbol encodes a card number as a barcode of the card's symbology
// (github.com/boombuler/barcode).
func BarcodeSymbol(number string, sym card.Symbology) (*Symbol, error) {
	var bc barcode.Barcode
	var err error
	switch sym {
	case card.Codabar:
		bc, err = codabar.Encode(sym.BarcodeValue(number))
	default:
		bc, err = code128.Encode(number)
	}
	if err != nil {
		return nil, fmt.Errorf("encode %s barcode: %w", sym, err)
	}
	s := fromBarcode(bc)
	s.Linear, s.Text = true, number
	return s, nil
}

// QRSymbol encodes content (a card number or a signed card code) as a QR
// code with error correction level M.
func QRSymbol(content string) (*Symbol, error) {
	bc, err := qr.Encode(content, qr.M, qr.Auto)
	if err != nil {
		return nil, fmt.Errorf("encode QR code: %w", err)
	}
	return fromBarcode(bc), nil
}

func fromBarcode(bc barcode.Barcode) *Symbol {
	b := bc.Bounds()
	return &Symbol{Width: b.Dx(), Height: b.Dy(), dark: func(x, y int) bool {
		r, g, bl, _ := bc.At(b.Min.X+x, b.Min.Y+y).RGBA()
		return r+g+bl < 3*0x8000
	}}
}

// quiet returns the quiet zone of s in modules.
func (s *Symbol) quiet() int {
	if s.Linear {
		return linearQuiet
	}
	return qrQuiet
}

// drawHeight returns how many modules tall s is drawn.
func (s *Symbol) drawHeight() int {
	if s.Linear {
		return BarHeight
	}
	return s.Height
}

// WritePNG draws s as a black-on-white PNG, scale pixels per module, with
// its quiet zone.
func (s *Symbol) WritePNG(w io.Writer, scale int) error {
	q := s.quiet()
	vq := q
	if s.Linear {
		vq = 2
	}
	width, height := (s.Width+2*q)*scale, (s.drawHeight()+2*vq)*scale
	img := image.NewPaletted(image.Rect(0, 0, width, height), color.Palette{color.White, color.Black})
	for y := range s.drawHeight() {
		for x := range s.Width {
			my := y
			if s.Linear {
				my = 0
			}
			if !s.dark(x, my) {
				continue
			}
			for py := (y + vq) * scale; py < (y+vq+1)*scale; py++ {
				for px := (x + q) * scale; px < (x+q+1)*scale; px++ {
					img.SetColorIndex(px, py, 1)
				}
			}
		}
	}
	return png.Encode(w, img)
}

// WriteSVG draws s as SVG: one rect per run of dark modules in a row, in
// module units scaled to scale pixels per module by the viewBox, with a
// white background, its quiet zone, a title, and for a linear barcode the
// number printed under the bars.
func (s *Symbol) WriteSVG(w io.Writer, scale int, title string) error {
	bw := bufio.NewWriter(w)
	q := s.quiet()
	vq, textH := q, 0
	if s.Linear {
		vq, textH = 2, 12
	}
	vw, vh := s.Width+2*q, s.drawHeight()+2*vq+textH
	fmt.Fprintf(bw, `<?xml version="1.0" encoding="UTF-8"?>`+"\n")
	fmt.Fprintf(bw, `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="%d" height="%d" viewBox="0 0 %d %d" shape-rendering="crispEdges">`+"\n",
		vw*scale, vh*scale, vw, vh)
	fmt.Fprintf(bw, "<title>%s</title>\n", xmlEscape(title))
	fmt.Fprintf(bw, `<rect x="0" y="0" width="%d" height="%d" fill="#fff"/>`+"\n", vw, vh)
	fmt.Fprint(bw, `<g fill="#000">`+"\n")
	rows := s.Height
	for y := range rows {
		for x := 0; x < s.Width; {
			if !s.dark(x, y) {
				x++
				continue
			}
			start := x
			for x < s.Width && s.dark(x, y) {
				x++
			}
			h := 1
			if s.Linear {
				h = BarHeight
			}
			fmt.Fprintf(bw, `<rect x="%d" y="%d" width="%d" height="%d"/>`+"\n", start+q, y+vq, x-start, h)
		}
	}
	fmt.Fprint(bw, "</g>\n")
	if s.Linear && s.Text != "" {
		fmt.Fprintf(bw, `<text x="%d" y="%d" font-family="monospace" font-size="10" text-anchor="middle">%s</text>`+"\n",
			vw/2, BarHeight+vq+textH-1, xmlEscape(s.Text))
	}
	fmt.Fprint(bw, "</svg>\n")
	return bw.Flush()
}

// xmlEscape escapes text for XML content.
func xmlEscape(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		switch r {
		case '&':
			out = append(out, []rune("&amp;")...)
		case '<':
			out = append(out, []rune("&lt;")...)
		case '>':
			out = append(out, []rune("&gt;")...)
		case '"':
			out = append(out, []rune("&quot;")...)
		default:
			out = append(out, r)
		}
	}
	return string(out)
}
