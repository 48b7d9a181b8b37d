package check

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/fixtures"
	"github.com/bullseye-mock/bullseye-mock/junit"
)

// WriteText writes one line per case; failures and notes get the reason
// and, indented below, what was sent and what came back, so the line alone
// tells a user what to fix.
func WriteText(w io.Writer, r *Report) error {
	fmt.Fprintf(w, "check %s (seed %d, timeout %s)\n", r.URL, r.Seed, r.Timeout)
	width := 0
	for _, res := range r.Results {
		width = max(width, len(res.Name))
	}
	for _, res := range r.Results {
		fmt.Fprintf(w, "%-4s  %-*s  %s\n", strings.ToUpper(string(res.Status)), width, res.Name, res.Message)
		if res.Status == Pass {
			continue
		}
		for _, ex := range res.Exchanges {
			fmt.Fprintf(w, "      sent: %s\n", sentLine(ex))
			fmt.Fprintf(w, "      got:  %s\n", gotLine(ex))
		}
	}
	fmt.Fprintf(w, "%d cases: %d passed, %d failed, %d with a note", len(r.Results), r.Passed-r.Notes, r.Failed, r.Notes)
	if len(r.Skipped) > 0 {
		fmt.Fprintf(w, ", %d skipped", len(r.Skipped))
	}
	_, err := fmt.Fprintln(w)
	return err
}

func sentLine(ex Exchange) string {
	sig := "no " + bullseye.SignatureHeader + " header"
	if ex.HasSignature {
		sig = fmt.Sprintf("%s: %q", bullseye.SignatureHeader, ex.Signature)
	}
	key := ""
	if id, err := fixtures.SessionID([]byte(ex.Body)); err == nil {
		key = " for " + id
	}
	return fmt.Sprintf("POST %d bytes%s, %s", len(ex.Body), key, sig)
}

func gotLine(ex Exchange) string {
	if ex.Error != "" {
		return fmt.Sprintf("%s after %s", ex.Error, roundLatency(ex.Latency))
	}
	s := fmt.Sprintf("%d in %s", ex.StatusCode, roundLatency(ex.Latency))
	if ex.Response != "" {
		s += fmt.Sprintf(", body %q", ex.Response)
	}
	return s
}

// WriteJSON writes the report as indented JSON.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteJUnit writes the report as JUnit XML, one suite, one test case per
// case. A note has no JUnit equivalent: it passes, with its message in
// system-out so CI shows it beside the test.
func WriteJUnit(w io.Writer, r *Report) error {
	s := junit.Suite{Name: "bullseye-mock check " + r.URL}
	var total time.Duration
	for _, res := range r.Results {
		var d time.Duration
		for _, ex := range res.Exchanges {
			d += ex.Latency
		}
		total += d
		c := junit.Case{Name: res.Name, Classname: "check", Time: seconds(d)}
		switch res.Status {
		case Fail:
			var detail strings.Builder
			detail.WriteString(res.Message)
			for _, ex := range res.Exchanges {
				fmt.Fprintf(&detail, "\nsent: %s\ngot:  %s", sentLine(ex), gotLine(ex))
			}
			c.Failure = &junit.Problem{Message: res.Message, Text: detail.String()}
		case Note:
			c.SystemOut = "note: " + res.Message
		}
		s.Cases = append(s.Cases, c)
	}
	for _, name := range r.Skipped {
		s.Cases = append(s.Cases, junit.Case{Name: name, Classname: "check", Time: "0", Skipped: &struct{}{}})
	}
	s.Time = seconds(total)
	return junit.Write(w, s)
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }
