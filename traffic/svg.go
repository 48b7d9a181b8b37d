package traffic

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
)

// The plot's geometry: three panels, one above the other.
const (
	plotW   = 760
	panelH  = 180
	marginL = 64
	marginR = 16
	titleH  = 40
	gapH    = 56
)

// Plot draws r as a standalone SVG document: attempts per second over time
// (delivered and failed stacked, the target as a dashed line), latency p50
// and p99 over time, and the latency distribution with its percentiles
// marked. Every chart element carries a class and a data- attribute with
// its value, so tests and scripts can read the picture back.
func Plot(w io.Writer, r Report) error {
	var b bytes.Buffer
	height := titleH + 3*panelH + 3*gapH + 16
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n", plotW, height, plotW, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", plotW, height)
	text(&b, marginL, 18, "title", fmt.Sprintf("%d requests, %s/s, success %s, p50 %s, p99 %s, max %s",
		r.Requests, num2(r.Rate), pct(r.Success), msText(r.LatencyMs.P50), msText(r.LatencyMs.P99), msText(r.LatencyMs.Max)), 13)
	top := titleH + gapH/2
	ratePanel(&b, r, top)
	latencyPanel(&b, r, top+panelH+gapH)
	histogramPanel(&b, r, top+2*(panelH+gapH))
	b.WriteString("</svg>\n")
	_, err := w.Write(b.Bytes())
	return err
}

// maxBars is how many time buckets a panel draws; finer series are merged
// for the picture (the report keeps them all).
const maxBars = 120

// bars merges the series' points into at most maxBars, returning them and
// their width. A merged point's p50 is the median of its points' and its
// p99 their highest: the picture shows the worst, not an average.
func bars(s Series) ([]Point, float64) {
	k := (len(s.Points) + maxBars - 1) / maxBars
	if k <= 1 {
		return s.Points, s.BucketMs
	}
	out := make([]Point, 0, maxBars)
	for i := 0; i < len(s.Points); i += k {
		group := s.Points[i:min(i+k, len(s.Points))]
		m := Point{OffsetMs: group[0].OffsetMs}
		var p50s []float64
		for _, p := range group {
			m.Started += p.Started
			m.OK += p.OK
			m.Failed += p.Failed
			m.Late += p.Late
			m.P99Ms = math.Max(m.P99Ms, p.P99Ms)
			if p.Started > 0 {
				p50s = append(p50s, p.P50Ms)
			}
		}
		if len(p50s) > 0 {
			slices.Sort(p50s)
			m.P50Ms = p50s[len(p50s)/2]
		}
		m.Rate = round(float64(m.Started) / (s.BucketMs * float64(k) / 1000))
		out = append(out, m)
	}
	return out, s.BucketMs * float64(k)
}

func ratePanel(b *bytes.Buffer, r Report, top int) {
	pts, width := bars(r.Series)
	peak := 1.0
	for _, p := range pts {
		peak = math.Max(peak, p.Rate)
	}
	if r.TargetRate != nil {
		peak = math.Max(peak, *r.TargetRate)
	}
	peak = nice(peak)
	frame(b, top, "attempts per second", fmt.Sprintf("time (s, bars of %s)", msText(width)), peak)
	n := max(len(pts), 1)
	bw := float64(plotW-marginL-marginR) / float64(n)
	per := width / 1000
	for i, p := range pts {
		x := marginL + float64(i)*bw
		okH := float64(p.OK) / per / peak * panelH
		failH := float64(p.Failed) / per / peak * panelH
		base := float64(top + panelH)
		fmt.Fprintf(b, `<rect class="rate-ok" data-rate="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#3a7d44"/>`+"\n",
			num(round(float64(p.OK)/per)), x, base-okH, math.Max(bw-1, 0.5), okH)
		if p.Failed > 0 {
			fmt.Fprintf(b, `<rect class="rate-failed" data-rate="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#c0392b"/>`+"\n",
				num(round(float64(p.Failed)/per)), x, base-okH-failH, math.Max(bw-1, 0.5), failH)
		}
	}
	if r.TargetRate != nil {
		y := float64(top+panelH) - *r.TargetRate/peak*panelH
		fmt.Fprintf(b, `<line class="target" data-rate="%s" x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#1f4e9c" stroke-dasharray="6 4"/>`+"\n",
			num(*r.TargetRate), marginL, y, plotW-marginR, y)
		text(b, plotW-marginR-90, int(y)-4, "legend", fmt.Sprintf("target %s/s", num(*r.TargetRate)), 10)
	}
	xTicks(b, top, len(pts), width)
}

func latencyPanel(b *bytes.Buffer, r Report, top int) {
	pts, width := bars(r.Series)
	peak := 0.001
	for _, p := range pts {
		peak = math.Max(peak, p.P99Ms)
	}
	peak = nice(peak)
	frame(b, top, "latency (ms)", "time (s)", peak)
	n := max(len(pts), 1)
	bw := float64(plotW-marginL-marginR) / float64(n)
	line := func(class, color string, v func(Point) float64) {
		fmt.Fprintf(b, `<polyline class="%s" fill="none" stroke="%s" stroke-width="1.5" points="`, class, color)
		for i, p := range pts {
			if p.Started == 0 {
				continue
			}
			fmt.Fprintf(b, "%.1f,%.1f ", marginL+(float64(i)+0.5)*bw, float64(top+panelH)-v(p)/peak*panelH)
		}
		b.WriteString(`"/>` + "\n")
	}
	line("p50", "#3a7d44", func(p Point) float64 { return p.P50Ms })
	line("p99", "#c0392b", func(p Point) float64 { return p.P99Ms })
	text(b, plotW-marginR-200, top+12, "legend", "— p50   — p99 (the highest in each bar)", 10)
	xTicks(b, top, len(pts), width)
}

func histogramPanel(b *bytes.Buffer, r Report, top int) {
	peak := int64(1)
	for _, bin := range r.Histogram {
		peak = max(peak, bin.Count)
	}
	frame(b, top, "attempts", "latency (ms, log scale)", nice(float64(peak)))
	n := max(len(r.Histogram), 1)
	bw := float64(plotW-marginL-marginR) / float64(n)
	for i, bin := range r.Histogram {
		h := float64(bin.Count) / nice(float64(peak)) * panelH
		x := marginL + float64(i)*bw
		fmt.Fprintf(b, `<rect class="bin" data-count="%d" data-from-ms="%s" data-to-ms="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#1f4e9c"/>`+"\n",
			bin.Count, num(bin.FromMs), num(bin.ToMs), x, float64(top+panelH)-h, math.Max(bw-1, 0.5), h)
		if i%max(n/8, 1) == 0 {
			text(b, int(x), top+panelH+14, "tick", tickMs(bin.FromMs), 10)
		}
	}
	// Percentile markers sit over the bin that holds them.
	// Their labels sit one below the other, as percentiles are often close.
	for j, m := range []struct {
		name string
		v    float64
	}{{"p50", r.LatencyMs.P50}, {"p90", r.LatencyMs.P90}, {"p99", r.LatencyMs.P99}} {
		for i, bin := range r.Histogram {
			if m.v <= bin.ToMs || i == len(r.Histogram)-1 {
				x := marginL + (float64(i)+0.5)*bw
				fmt.Fprintf(b, `<line class="marker" data-name="%s" data-ms="%s" x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#c0392b" stroke-dasharray="3 3"/>`+"\n",
					m.name, num(m.v), x, top, x, top+panelH)
				lx := int(x) + 3
				if x > plotW-140 {
					lx = int(x) - 100 // keep the label inside the picture
				}
				text(b, lx, top+10+12*j, "legend", m.name+" "+msText(m.v), 10)
				break
			}
		}
	}
}

// tickMs is a latency axis label: three significant figures.
func tickMs(v float64) string { return strconv.FormatFloat(v, 'g', 3, 64) }

// frame draws a panel's axes, labels and the y axis' top value.
func frame(b *bytes.Buffer, top int, ylabel, xlabel string, peak float64) {
	fmt.Fprintf(b, `<g class="axes" stroke="#444"><line x1="%d" y1="%d" x2="%d" y2="%d"/><line x1="%d" y1="%d" x2="%d" y2="%d"/></g>`+"\n",
		marginL, top, marginL, top+panelH, marginL, top+panelH, plotW-marginR, top+panelH)
	text(b, 8, top-8, "axis-label", ylabel, 11)
	text(b, plotW/2-60, top+panelH+30, "axis-label", xlabel, 11)
	text(b, 8, top+8, "tick", num(peak), 10)
	text(b, 8, top+panelH, "tick", "0", 10)
}

// xTicks labels the time axis in seconds at up to eight places.
func xTicks(b *bytes.Buffer, top, n int, bucketMs float64) {
	if n == 0 {
		return
	}
	bw := float64(plotW-marginL-marginR) / float64(n)
	step := max(n/8, 1)
	for i := 0; i < n; i += step {
		text(b, int(marginL+float64(i)*bw), top+panelH+14, "tick", num(round(float64(i)*bucketMs/1000)), 10)
	}
}

func text(b *bytes.Buffer, x, y int, class, s string, size int) {
	fmt.Fprintf(b, `<text class="%s" x="%d" y="%d" font-size="%d">`, class, x, y, size)
	_ = xml.EscapeText(b, []byte(s))
	b.WriteString("</text>\n")
}

// nice rounds v up to 1, 2 or 5 times a power of ten, for an axis top.
func nice(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}
