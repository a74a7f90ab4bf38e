package main

import (
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/bacninh/thuvienso/loadgen"
)

// mixedAll names the mixed workload's operations together.
const mixedAll = "mixed, all operations"

// plotSeries is one operation's latency at each number of clients.
type plotSeries struct {
	name     string
	p50, p99 plotter.XYs
}

// latencySeries collects, per operation of the report, its p50 and p99
// at each number of clients (in milliseconds).
func latencySeries(r *loadReport) []plotSeries {
	var out []plotSeries
	add := func(name string, stats func(st loadStep) *loadgen.OpStats) {
		s := plotSeries{name: name}
		for _, st := range r.steps {
			if o := stats(st); o != nil && o.Requests > 0 {
				s.p50 = append(s.p50, plotter.XY{X: float64(st.clients), Y: ms(o.P50)})
				s.p99 = append(s.p99, plotter.XY{X: float64(st.clients), Y: ms(o.P99)})
			}
		}
		if len(s.p50) > 0 {
			out = append(out, s)
		}
	}
	for _, op := range mixedOps {
		add(op, func(st loadStep) *loadgen.OpStats { return st.mixed.res.Op(op) })
	}
	add(mixedAll, func(st loadStep) *loadgen.OpStats { return st.mixed.res.All })
	add(opSearchUncached, func(st loadStep) *loadgen.OpStats { return st.uncached.res.All })
	add(opSearchCached, func(st loadStep) *loadgen.OpStats { return st.cached.res.All })
	add(opBare, func(st loadStep) *loadgen.OpStats { return st.bare.res.All })
	return out
}

// ms is d in milliseconds, at least a microsecond (a log axis has no 0).
func ms(d time.Duration) float64 {
	return max(float64(d)/float64(time.Millisecond), 0.001)
}

// writeLatencyPlot writes a PNG of two panels, p50 and p99 latency
// against the number of clients, one line per operation (log scales).
func writeLatencyPlot(path string, r *loadReport) error {
	series := latencySeries(r)
	panels := make([]*plot.Plot, 2)
	legend := plot.NewLegend()
	for i, title := range []string{"p50 latency", "p99 latency"} {
		p := plot.New()
		p.Title.Text = fmt.Sprintf("%s against concurrency (%s scale)", title, r.opts.scaleName)
		p.X.Label.Text = "concurrent clients"
		p.Y.Label.Text = "milliseconds (log scale)"
		p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
		p.X.Tick.Marker = clientTicks(r)
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
		p.Add(plotter.NewGrid())
		for j, s := range series {
			xys := s.p50
			if i == 1 {
				xys = s.p99
			}
			line, points, err := plotter.NewLinePoints(xys)
			if err != nil {
				return err
			}
			styleSeries(line, points, j, s.name)
			p.Add(line, points)
			if i == 0 {
				legend.Add(s.name, line, points)
			}
		}
		targets := []float64{ms(targetUncachedP99), ms(targetMixedP99)}
		for _, t := range targets {
			if i == 1 {
				addTargetLine(p, r, t)
			}
		}
		panels[i] = p
	}
	legend.Add("targets: 25 ms, 100 ms (p99)", targetLine(nil))
	return savePlot(path, panels, legend)
}

// styleSeries gives the j-th series its colour and glyph: the mixed
// workload's operations solid, all of them together thick and black, the
// search cases dashed.
func styleSeries(line *plotter.Line, points *plotter.Scatter, j int, name string) {
	c := palette[j%len(palette)]
	line.Width = vg.Points(1.5)
	switch {
	case name == mixedAll:
		c = color.Black
		line.Width = vg.Points(3)
	case j > len(mixedOps):
		line.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
		line.Width = vg.Points(2)
	}
	line.Color, points.Color = c, c
	points.Shape = plotutil.Shape(j)
}

// palette has a colour for each series of the plot.
var palette = []color.Color{
	color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}, color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff},
	color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}, color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff}, color.RGBA{R: 0x8c, G: 0x56, B: 0x4b, A: 0xff},
	color.RGBA{R: 0xe3, G: 0x77, B: 0xc2, A: 0xff}, color.RGBA{R: 0x17, G: 0xbe, B: 0xcf, A: 0xff},
	color.RGBA{R: 0xbc, G: 0xbd, B: 0x22, A: 0xff}, color.Black,
	color.RGBA{R: 0xff, G: 0x00, B: 0x00, A: 0xff}, color.RGBA{R: 0x00, G: 0x80, B: 0x00, A: 0xff},
	color.RGBA{R: 0x00, G: 0x00, B: 0xcc, A: 0xff},
}

// clientTicks marks the measured numbers of clients on the x axis.
func clientTicks(r *loadReport) plot.ConstantTicks {
	var ticks []plot.Tick
	for _, st := range r.steps {
		ticks = append(ticks, plot.Tick{Value: float64(st.clients), Label: fmt.Sprint(st.clients)})
	}
	return ticks
}

// targetLine is a dotted grey line, for the targets.
func targetLine(xys plotter.XYs) *plotter.Line {
	l := &plotter.Line{XYs: xys}
	l.Color = color.Gray{Y: 100}
	l.Dashes = []vg.Length{vg.Points(2), vg.Points(3)}
	l.Width = vg.Points(1)
	return l
}

// addTargetLine draws a horizontal target across the measured clients.
func addTargetLine(p *plot.Plot, r *loadReport, y float64) {
	if len(r.steps) == 0 {
		return
	}
	first, last := r.steps[0].clients, r.steps[len(r.steps)-1].clients
	p.Add(targetLine(plotter.XYs{{X: float64(first), Y: y}, {X: float64(last), Y: y}}))
}

// savePlot lays the panels side by side with the legend at the right and
// writes them as a PNG.
func savePlot(path string, panels []*plot.Plot, legend plot.Legend) error {
	const legendWidth = 3.6 * vg.Inch
	img := vgimg.New(15*vg.Inch, 6*vg.Inch)
	dc := draw.New(img)
	area := draw.Crop(dc, 0, -legendWidth-vg.Inch/4, 0, 0)
	tiles := draw.Tiles{Rows: 1, Cols: len(panels), PadX: vg.Inch / 3, PadTop: vg.Inch / 8, PadBottom: vg.Inch / 8, PadLeft: vg.Inch / 8}
	canvases := plot.Align([][]*plot.Plot{panels}, tiles, area)
	for i, p := range panels {
		p.Draw(canvases[0][i])
	}
	legend.Top, legend.Left = true, true
	legend.TextStyle.Font.Size = vg.Points(12)
	legend.YOffs = -vg.Inch / 2
	legend.Draw(draw.Crop(dc, dc.Max.X-legendWidth, 0, 0, 0))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
