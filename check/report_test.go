package check_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"flag"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bullseye-mock/bullseye-mock/check"
	"github.com/bullseye-mock/bullseye-mock/examples/receivers/naive"
	"github.com/bullseye-mock/bullseye-mock/fixtures"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// flawedReport runs the battery against a receiver with two flaws, with a
// fixed seed and clock, so everything but latencies and the port is stable.
func flawedReport(t *testing.T) *check.Report {
	t.Helper()
	srv := httptest.NewServer(naive.Handler(secret, naive.Flaws{MissingSignature500: true, Conflict: true, CaseInsensitive: true}))
	t.Cleanup(srv.Close)
	rep, err := check.Run(context.Background(), check.Config{URL: srv.URL + "/hook", Secret: secret, Seed: 42,
		Now: func() time.Time { return fixtures.ExampleTime() }, Cases: mustSelect(t, nil, []string{"raw_*", "duplicate_concurrent"})})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func mustSelect(t *testing.T, only, skip []string) []string {
	t.Helper()
	names, err := check.Select(only, skip)
	if err != nil {
		t.Fatal(err)
	}
	return names
}

var (
	latencyRE = regexp.MustCompile(`in [0-9.]+(ns|µs|ms|s)\b`)
	portRE    = regexp.MustCompile(`127\.0\.0\.1:[0-9]+`)
)

func TestWriteTextGolden(t *testing.T) {
	var b bytes.Buffer
	if err := check.WriteText(&b, flawedReport(t)); err != nil {
		t.Fatal(err)
	}
	got := portRE.ReplaceAllString(latencyRE.ReplaceAllString(b.String(), "in LATENCY"), "127.0.0.1:PORT")
	golden := filepath.Join("testdata", "report.golden")
	if *update {
		os.WriteFile(golden, []byte(got), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("text report differs from %s (go test ./check -run Golden -update):\n%s", golden, got)
	}
}

func TestWriteJSON(t *testing.T) {
	rep := flawedReport(t)
	var b bytes.Buffer
	if err := check.WriteJSON(&b, rep); err != nil {
		t.Fatal(err)
	}
	var back check.Report
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Failed != 2 || back.Notes != 1 || len(back.Results) != len(rep.Results) || len(back.Skipped) != 6 {
		t.Errorf("failed %d notes %d results %d skipped %v", back.Failed, back.Notes, len(back.Results), back.Skipped)
	}
	// The exact bytes sent survive the round trip, for reproducing a case.
	for i, r := range back.Results {
		for j, ex := range r.Exchanges {
			if ex.Body != rep.Results[i].Exchanges[j].Body {
				t.Errorf("%s: body changed in JSON", r.Name)
			}
		}
	}
}

func TestWriteJUnit(t *testing.T) {
	var b bytes.Buffer
	if err := check.WriteJUnit(&b, flawedReport(t)); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Suites []struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
			Skipped  int `xml:"skipped,attr"`
			Cases    []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
					Text    string `xml:",chardata"`
				} `xml:"failure"`
				SystemOut string `xml:"system-out"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	s := got.Suites[0]
	if s.Tests != len(check.Names()) || s.Failures != 2 || s.Skipped != 6 {
		t.Errorf("tests %d failures %d skipped %d", s.Tests, s.Failures, s.Skipped)
	}
	for _, c := range s.Cases {
		switch c.Name {
		case "sig_missing":
			if c.Failure == nil || !strings.Contains(c.Failure.Text, "sent: POST") || !strings.Contains(c.Failure.Text, "got:  500") {
				t.Errorf("sig_missing failure: %+v", c.Failure)
			}
		case "sig_uppercase":
			if c.Failure != nil || !strings.HasPrefix(c.SystemOut, "note: accepted") {
				t.Errorf("sig_uppercase: %+v %q", c.Failure, c.SystemOut)
			}
		}
	}
}
