package scenarios

import (
	"fmt"
	"io"

	"github.com/bullseye-mock/bullseye-mock/junit"
)

// WriteText writes the readable summary of reports: one line per scenario,
// one per expectation, and a total.
func WriteText(w io.Writer, reports []*Report) error {
	passed := 0
	for _, r := range reports {
		verdict := "FAIL"
		if r.Passed {
			verdict = "PASS"
			passed++
		}
		noun := "deliveries"
		if r.Deliveries == 1 {
			noun = "delivery"
		}
		fmt.Fprintf(w, "%s %s (%s): %d %s, %s of mock time\n", verdict, r.Name, r.File, r.Deliveries, noun, r.MockTime)
		for _, o := range r.Expects {
			switch {
			case o.Held && o.Note != "":
				fmt.Fprintf(w, "  ok    %s:%d:%d expect (note: %s)\n", r.File, o.Line, o.Col, o.Note)
			case o.Held:
				fmt.Fprintf(w, "  ok    %s:%d:%d expect\n", r.File, o.Line, o.Col)
			default:
				fmt.Fprintf(w, "  FAIL  %s:%d:%d expect: %s\n", r.File, o.Line, o.Col, o.Message)
			}
		}
		if r.Error != "" {
			fmt.Fprintf(w, "  ERROR %s\n", r.Error)
		}
	}
	noun := "scenarios"
	if len(reports) == 1 {
		noun = "scenario"
	}
	_, err := fmt.Fprintf(w, "%d %s: %d passed, %d failed\n", len(reports), noun, passed, len(reports)-passed)
	return err
}

// WriteJUnit writes reports as JUnit XML, the format CI systems display:
// a suite per scenario, a test case per expectation.
func WriteJUnit(w io.Writer, reports []*Report) error {
	var out []junit.Suite
	for _, r := range reports {
		s := junit.Suite{Name: r.Name}
		for _, o := range r.Expects {
			c := junit.Case{Name: fmt.Sprintf("expect at %s:%d:%d", r.File, o.Line, o.Col), Classname: r.File}
			if !o.Held {
				c.Failure = junit.Fail(o.Message)
			}
			s.Cases = append(s.Cases, c)
		}
		if r.Error != "" {
			s.Cases = append(s.Cases, junit.Case{Name: "run", Classname: r.File, Error: junit.Fail(r.Error)})
		}
		out = append(out, s)
	}
	return junit.Write(w, out...)
}
