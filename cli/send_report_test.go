package cli

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// --report json prints one object with the fixed fields, counted right:
// a receiver failing every fourth request, no retries.
func TestSendReportJSON(t *testing.T) {
	var n atomic.Int64
	url := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%4 == 0 {
			w.WriteHeader(503)
		}
	})
	status, out, errs := runCLI(t, "send", "--url", url, "--count", "20", "--rate", "100/s", "--time-scale", "100",
		"--max-attempts", "1", "--report", "json")
	if status != ExitFailed { // no threshold: every delivery must be delivered
		t.Fatalf("status %d\n%s\n%s", status, out, errs)
	}
	var rep struct {
		Requests    int64            `json:"requests"`
		Rate        *float64         `json:"rate"`
		Throughput  *float64         `json:"throughput"`
		Success     float64          `json:"success"`
		StatusCodes map[string]int64 `json:"statusCodes"`
		LatencyMs   map[string]float64
		TargetRate  float64 `json:"targetRate"`
	}
	d := json.NewDecoder(strings.NewReader(out))
	if err := d.Decode(&rep); err != nil || d.More() {
		t.Fatalf("stdout is not one JSON object (%v):\n%s", err, out)
	}
	if rep.Requests != 20 || rep.Success != 0.75 || rep.StatusCodes["200"] != 15 || rep.StatusCodes["503"] != 5 ||
		rep.Rate == nil || rep.Throughput == nil || rep.TargetRate != 100 {
		t.Errorf("report %+v", rep)
	}
	for _, k := range []string{"p50", "p90", "p95", "p99", "max", "mean"} {
		if _, ok := rep.LatencyMs[k]; !ok {
			t.Errorf("latencyMs lacks %s: %s", k, out)
		}
	}
}

// Thresholds decide the exit status when given: the same failing
// receiver passes --min-success 0.7 and fails 0.8, and the JUnit file has
// a case per threshold.
func TestSendThresholdsSetTheExitStatus(t *testing.T) {
	var n atomic.Int64
	url := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%4 == 0 {
			w.WriteHeader(500)
		}
	})
	for _, c := range []struct {
		success string
		status  int
	}{{"0.7", ExitOK}, {"0.8", ExitFailed}} {
		n.Store(0)
		junitFile := filepath.Join(t.TempDir(), "send.xml")
		status, out, errs := runCLI(t, "send", "--url", url, "--count", "8", "--max-attempts", "1",
			"--min-success", c.success, "--max-p99", "10s", "--junit", junitFile)
		if status != c.status {
			t.Errorf("--min-success %s: status %d, want %d\n%s%s", c.success, status, c.status, out, errs)
		}
		if !strings.Contains(out, "success       75.00%") || !strings.Contains(out, "threshold     ok   p99 <= 10s") {
			t.Errorf("text report:\n%s", out)
		}
		b, err := os.ReadFile(junitFile)
		var doc struct {
			Suites []struct {
				Tests    int `xml:"tests,attr"`
				Failures int `xml:"failures,attr"`
			} `xml:"testsuite"`
		}
		if err != nil || xml.Unmarshal(b, &doc) != nil || len(doc.Suites) != 1 || doc.Suites[0].Tests != 2 ||
			doc.Suites[0].Failures != map[int]int{ExitOK: 0, ExitFailed: 1}[c.status] {
			t.Errorf("junit %v:\n%s", err, b)
		}
	}
}

func TestSendThresholdUsage(t *testing.T) {
	for args, want := range map[string]string{
		"--min-success 1.5": "--min-success: minSuccess must be from 0 to 1, got 1.5",
		"--max-p99 fast":    "--max-p99: maxP99 must be a duration",
		"--max-late=-1":     "--max-late: maxLate must not be negative, got -1",
	} {
		status, _, errs := runCLI(t, append([]string{"send", "--url", "http://127.0.0.1:1"}, strings.Fields(args)...)...)
		if status != ExitUsage || !strings.Contains(errs, want) {
			t.Errorf("%s: status %d, stderr %q, want %q", args, status, errs, want)
		}
	}
}

// --plot writes a well-formed SVG with a bar per time bucket.
func TestSendPlot(t *testing.T) {
	url := receiver(t, func(w http.ResponseWriter, r *http.Request) {})
	plot := filepath.Join(t.TempDir(), "traffic.svg")
	status, out, errs := runCLI(t, "send", "--url", url, "--count", "10", "--rate", "100/s", "--time-scale", "10", "--plot", plot)
	if status != ExitOK {
		t.Fatalf("status %d\n%s\n%s", status, out, errs)
	}
	b, err := os.ReadFile(plot)
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(b, new(struct{})); err != nil || !strings.Contains(string(b), `class="rate-ok"`) ||
		!strings.Contains(string(b), `class="target" data-rate="100"`) || !strings.Contains(string(b), "10 requests") {
		t.Errorf("plot (%v):\n%.600s", err, b)
	}
}
