package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/bullseye-mock/bullseye-mock/junit"
	"github.com/bullseye-mock/bullseye-mock/ops"
	"github.com/bullseye-mock/bullseye-mock/traffic"
)

// loadFlags are send's report: what load tools print, and the thresholds
// that set the exit status, in ops.Thresholds' grammar.
type loadFlags struct {
	Report     string `default:"text" enum:"text,json" help:"Report on stdout: text, or json (one object: requests, rate, throughput, success, statusCodes, latencyMs, ...)."`
	JUnit      string `name:"junit" placeholder:"FILE" help:"Also write a JUnit XML report to FILE: a test case per threshold, or one that every delivery was delivered."`
	Plot       string `placeholder:"FILE" help:"Write an SVG picture to FILE: attempts per second and latency over time, and the latency distribution."`
	MaxP50     string `name:"max-p50" placeholder:"DURATION" help:"Threshold: the median latency is at most this."`
	MaxP90     string `name:"max-p90" placeholder:"DURATION" help:"Threshold: the 90th percentile latency is at most this."`
	MaxP95     string `name:"max-p95" placeholder:"DURATION" help:"Threshold: the 95th percentile latency is at most this."`
	MaxP99     string `name:"max-p99" placeholder:"DURATION" help:"Threshold: the 99th percentile latency is at most this (200ms)."`
	MaxLatency string `name:"max-latency" placeholder:"DURATION" help:"Threshold: no attempt takes longer."`
	MinSuccess string `name:"min-success" placeholder:"SHARE" help:"Threshold: at least this share of attempts is answered 2xx in full (0.99)."`
	MaxLate    string `name:"max-late" placeholder:"N" help:"Threshold: at most N attempts start behind schedule (more than 10ms late)."`
	MinRate    string `name:"min-rate" placeholder:"SHARE" help:"Threshold: first attempts reach at least this share of --rate (0.99: within 1%)."`
}

// thresholdFlags maps each threshold's key to its flag, for messages.
var thresholdFlags = map[string]string{
	"maxP50": "--max-p50", "maxP90": "--max-p90", "maxP95": "--max-p95", "maxP99": "--max-p99",
	"maxLatency": "--max-latency", "minSuccess": "--min-success", "maxLate": "--max-late", "minRate": "--min-rate",
}

// thresholds reads the threshold flags through the one grammar.
func (f loadFlags) thresholds() (ops.Thresholds, error) {
	given := map[string]string{}
	for k, v := range map[string]string{"maxP50": f.MaxP50, "maxP90": f.MaxP90, "maxP95": f.MaxP95, "maxP99": f.MaxP99,
		"maxLatency": f.MaxLatency, "minSuccess": f.MinSuccess, "maxLate": f.MaxLate, "minRate": f.MinRate} {
		if v != "" {
			given[k] = v
		}
	}
	return ops.ParseThresholds(given)
}

// report prints the traffic report and writes the plot and the JUnit
// file. It returns whether the send passed: its thresholds when any is
// set (a load test judges by them), else every delivery delivered.
func (f loadFlags) report(e *env, o *ops.Ops, th ops.Thresholds, summary string, allDelivered bool) (bool, error) {
	rep, err := o.Traffic(th)
	if err != nil {
		return false, err
	}
	pass := allDelivered
	if rep.Pass != nil {
		pass = *rep.Pass
	}
	if f.Report == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		err = enc.Encode(rep)
	} else {
		fmt.Fprintln(e.stdout, summary)
		err = rep.WriteText(e.stdout)
	}
	if err != nil {
		return pass, err
	}
	if f.Plot != "" {
		if err := writeFile(f.Plot, func(w io.Writer) error { return traffic.Plot(w, rep) }); err != nil {
			return pass, err
		}
	}
	if f.JUnit != "" {
		s := junit.Suite{Name: "bullseye-mock send", Time: fmt.Sprintf("%.3f", (rep.DurationMs+rep.WaitMs)/1000)}
		for _, v := range rep.Thresholds {
			c := junit.Case{Name: fmt.Sprintf("%s %s %s", v.Metric, v.Op, v.Limit), Classname: "send"}
			if !v.Pass {
				c.Failure = junit.Fail(fmt.Sprintf("%s is %s, want %s %s", v.Metric, v.Actual, v.Op, v.Limit))
			}
			s.Cases = append(s.Cases, c)
		}
		if len(rep.Thresholds) == 0 {
			c := junit.Case{Name: "every delivery delivered", Classname: "send", SystemOut: summary}
			if !allDelivered {
				c.Failure = junit.Fail(summary)
			}
			s.Cases = append(s.Cases, c)
		}
		if err := writeFile(f.JUnit, func(w io.Writer) error { return junit.Write(w, s) }); err != nil {
			return pass, err
		}
	}
	return pass, nil
}

// progress shows a bar on a terminal (done, rate, p99 so far, time left)
// and nothing elsewhere, so logs and pipes stay clean. The ticker only
// refreshes the display; waiting is done by the sender's Settled.
func (c *sendCmd) progress(e *env, o *ops.Ops) (stop func()) {
	show := c.Progress == "always"
	if f, ok := e.stderr.(*os.File); ok && c.Progress == "auto" {
		show = term.IsTerminal(int(f.Fd()))
	}
	if !show {
		return func() {}
	}
	bar := progressbar.NewOptions64(int64(c.Count), progressbar.OptionSetWriter(e.stderr),
		progressbar.OptionSetDescription("sending"), progressbar.OptionShowCount(), progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("deliveries"), progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionSetWidth(30))
	done := make(chan struct{})
	finished := make(chan struct{})
	update := func() {
		st := o.Stats()
		if int64(st.Sent) > bar.GetMax64() {
			bar.ChangeMax64(int64(st.Sent)) // duplicates and replays
		}
		bar.Describe(progressLine(st.Failed, o.TrafficGlance()))
		_ = bar.Set64(int64(st.Delivered + st.Failed + st.Canceled))
	}
	go func() {
		defer close(finished)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			update()
			select {
			case <-done:
				update()
				_ = bar.Finish()
				fmt.Fprintln(e.stderr)
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}

// progressLine is the bar's description: what a user watching a long send
// wants besides the count.
func progressLine(failed uint64, g traffic.Glance) string {
	var b strings.Builder
	fmt.Fprintf(&b, "p99 %s", g.P99.Round(time.Microsecond))
	if failed > 0 {
		fmt.Fprintf(&b, ", %d failed", failed)
	}
	if g.Late > 0 {
		fmt.Fprintf(&b, ", %d late", g.Late)
	}
	return b.String()
}
