package scenarios

import (
	"encoding/xml"
	"fmt"
	"io"
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

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes reports as JUnit XML, the format CI systems display:
// a suite per scenario, a test case per expectation.
func WriteJUnit(w io.Writer, reports []*Report) error {
	var out junitSuites
	for _, r := range reports {
		s := junitSuite{Name: r.Name}
		for _, o := range r.Expects {
			c := junitCase{Name: fmt.Sprintf("expect at %s:%d:%d", r.File, o.Line, o.Col), Classname: r.File}
			if !o.Held {
				c.Failure = &junitProblem{Message: o.Message, Text: o.Message}
				s.Failures++
			}
			s.Cases = append(s.Cases, c)
		}
		if r.Error != "" {
			s.Cases = append(s.Cases, junitCase{Name: "run", Classname: r.File, Error: &junitProblem{Message: r.Error, Text: r.Error}})
			s.Errors++
		}
		s.Tests = len(s.Cases)
		out.Suites = append(out.Suites, s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
