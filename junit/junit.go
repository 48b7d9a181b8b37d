// Package junit writes JUnit XML, the report format CI systems display:
// check, run and send each write their results through it.
package junit

import (
	"encoding/xml"
	"io"
)

// Suite is one testsuite. Write fills in its counts from its cases.
type Suite struct {
	XMLName  xml.Name `xml:"testsuite"`
	Name     string   `xml:"name,attr"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Skipped  int      `xml:"skipped,attr"`
	Time     string   `xml:"time,attr,omitempty"` // seconds
	Cases    []Case   `xml:"testcase"`
}

// Case is one testcase: it passed unless it has a Failure or an Error, or
// was Skipped.
type Case struct {
	Name      string    `xml:"name,attr"`
	Classname string    `xml:"classname,attr"`
	Time      string    `xml:"time,attr,omitempty"`
	Failure   *Problem  `xml:"failure,omitempty"`
	Error     *Problem  `xml:"error,omitempty"`
	Skipped   *struct{} `xml:"skipped,omitempty"`
	SystemOut string    `xml:"system-out,omitempty"`
}

// Problem is a failure or an error: a one-line message and the detail.
type Problem struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// Fail is a Problem whose detail is its message.
func Fail(msg string) *Problem { return &Problem{Message: msg, Text: msg} }

// Write writes the suites as one testsuites document.
func Write(w io.Writer, suites ...Suite) error {
	for i := range suites {
		s := &suites[i]
		s.Tests, s.Failures, s.Errors, s.Skipped = len(s.Cases), 0, 0, 0
		for _, c := range s.Cases {
			switch {
			case c.Failure != nil:
				s.Failures++
			case c.Error != nil:
				s.Errors++
			case c.Skipped != nil:
				s.Skipped++
			}
		}
	}
	doc := struct {
		XMLName xml.Name `xml:"testsuites"`
		Suites  []Suite
	}{Suites: suites}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
