package main

import (
	"fmt"
	"image/color"
	"io"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// The chart: one panel per topology, one group of bars per shape, one bar
// per system, cycles/s on a logarithmic axis (the systems differ by orders
// of magnitude). A failed run is a red × at the foot of its bar's place.

var systemColors = map[System]color.Color{
	Switchboard: color.RGBA{0x1f, 0x77, 0xb4, 0xff},
	RabbitMQ:    color.RGBA{0xff, 0x66, 0x00, 0xff},
	NATS:        color.RGBA{0x2c, 0xa0, 0x2c, 0xff},
	BareTCP:     color.RGBA{0x99, 0x99, 0x99, 0xff},
}

// bars draws one system's bars of one panel, from the axis's foot.
type bars struct {
	system System
	values []float64 // per shape; NaN: failed
	index  int       // this system's place in each group
	of     int       // systems per group
	width  vg.Length
}

func (b *bars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	foot := trY(p.Y.Min)
	for i, v := range b.values {
		x := trX(float64(i)) + (vg.Length(b.index)-vg.Length(b.of-1)/2)*b.width
		if math.IsNaN(v) {
			sty := draw.TextStyle{Color: color.RGBA{0xd0, 0, 0, 0xff}, Font: font.From(plot.DefaultFont, vg.Points(10)),
				XAlign: draw.XCenter, YAlign: draw.YBottom, Handler: p.Title.TextStyle.Handler}
			c.FillText(sty, vg.Point{X: x, Y: foot + 2}, "×")
			continue
		}
		if v <= 0 {
			continue
		}
		top := trY(v)
		half := b.width / 2 * 0.9
		c.FillPolygon(systemColors[b.system], []vg.Point{
			{X: x - half, Y: foot}, {X: x - half, Y: top}, {X: x + half, Y: top}, {X: x + half, Y: foot},
		})
	}
}

func (b *bars) Thumbnail(c *draw.Canvas) {
	r := c.Rectangle
	c.FillPolygon(systemColors[b.system], []vg.Point{r.Min, {X: r.Min.X, Y: r.Max.Y}, r.Max, {X: r.Max.X, Y: r.Min.Y}})
}

// writeChart renders the report's cycles/s as a PNG.
func writeChart(r *Report, w io.Writer) error {
	systems, shapes, topos := r.Config.Systems, r.Config.Shapes, r.Config.Topologies
	lo, hi := math.Inf(1), 0.0
	for _, run := range r.Runs {
		if v := run.Outcome.Rate(); run.Failed() == "" && run.Absent == "" && v > 0 {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if hi == 0 {
		lo, hi = 1, 10
	}
	ymin, ymax := math.Pow(10, math.Floor(math.Log10(lo))), math.Pow(10, math.Ceil(math.Log10(hi)))
	if ymax <= ymin*10 {
		ymax = ymin * 100
	}
	if hi > ymax/4 { // room above the tallest bar for the legend
		ymax *= 10
	}
	var rows [][]*plot.Plot
	for ti, t := range topos {
		p := plot.New()
		p.Title.Text = string(t)
		if t == TwoNodes && (has(systems, RabbitMQ) || has(systems, NATS)) {
			p.Title.Text += " (a broker has no such topology)"
		}
		if ti == 0 {
			p.Title.Text = fmt.Sprintf("ping/pong cycles per second (log scale), %d cores, %s\n%s", r.Machine.Cores, r.Machine.CPUModel, p.Title.Text)
		}
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = decades{}
		p.Y.Min, p.Y.Max = ymin, ymax
		labels := make([]string, len(shapes))
		for i, s := range shapes {
			labels[i] = s.Short()
		}
		p.NominalX(labels...)
		p.X.Min, p.X.Max = -0.6, float64(len(shapes))-0.4
		width := vg.Points(66 / float64(max(1, len(systems))))
		for si, sys := range systems {
			b := &bars{system: sys, index: si, of: len(systems), width: width, values: make([]float64, len(shapes))}
			for i, s := range shapes {
				run, ok := r.find(t, sys, s)
				switch {
				case !ok || run.Absent != "":
					b.values[i] = 0
				case run.Failed() != "":
					b.values[i] = math.NaN()
				default:
					b.values[i] = run.Outcome.Rate()
				}
			}
			p.Add(b)
			if ti == 0 {
				p.Legend.Add(string(sys), b)
			}
		}
		p.Legend.Top, p.Legend.Left = true, true
		p.Add(plotGrid())
		rows = append(rows, []*plot.Plot{p})
	}
	img := vgimg.New(vg.Points(900), vg.Points(260*float64(len(rows))+40))
	dc := draw.New(img)
	canvases := plot.Align(rows, draw.Tiles{Rows: len(rows), Cols: 1, PadX: vg.Points(4), PadY: vg.Points(12),
		PadTop: vg.Points(6), PadBottom: vg.Points(6), PadLeft: vg.Points(6), PadRight: vg.Points(10)}, dc)
	for i, row := range rows {
		row[0].Draw(canvases[i][0])
	}
	_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(w)
	return err
}

// plotGrid is horizontal lines only: the x axis is nominal.
func plotGrid() *plotter.Grid {
	g := plotter.NewGrid()
	g.Vertical.Color = nil
	return g
}

// decades ticks a log axis at powers of ten, labelled 1k, 10k, 100k, 1M.
type decades struct{}

func (decades) Ticks(lo, hi float64) []plot.Tick {
	var t []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		v := math.Pow(10, e)
		if v >= lo*0.999 && v <= hi*1.001 {
			t = append(t, plot.Tick{Value: v, Label: siLabel(v)})
		}
		for k := 2.0; k < 10; k++ {
			if m := k * v; m > lo && m < hi {
				t = append(t, plot.Tick{Value: m})
			}
		}
	}
	return t
}

func siLabel(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%gM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%gk", v/1e3)
	}
	return fmt.Sprintf("%g", v)
}
