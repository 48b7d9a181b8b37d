package scenarios

import (
	"bytes"
	"encoding/xml"
	goparser "go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bullseye-mock/bullseye-mock/junit"
)

var sampleReports = []*Report{
	{Name: "ok", File: "a.yaml", Passed: true, Deliveries: 1, MockTime: "6m0s", Expects: []Outcome{{Line: 3, Col: 5, Held: true}}},
	{Name: "bad", File: "b.yaml", Deliveries: 2, MockTime: "0s", Error: "b.yaml:9:5: boom", Expects: []Outcome{{Line: 4, Col: 5, Message: "delivery 1: failed, want delivered"}}},
}

func TestWriteText(t *testing.T) {
	var b bytes.Buffer
	if err := WriteText(&b, sampleReports); err != nil {
		t.Fatal(err)
	}
	want := `PASS ok (a.yaml): 1 delivery, 6m0s of mock time
  ok    a.yaml:3:5 expect
FAIL bad (b.yaml): 2 deliveries, 0s of mock time
  FAIL  b.yaml:4:5 expect: delivery 1: failed, want delivered
  ERROR b.yaml:9:5: boom
2 scenarios: 1 passed, 1 failed
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestWriteJUnit(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJUnit(&b, sampleReports); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Suites []junit.Suite `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if len(got.Suites) != 2 || got.Suites[0].Tests != 1 || got.Suites[0].Failures != 0 ||
		got.Suites[1].Tests != 2 || got.Suites[1].Failures != 1 || got.Suites[1].Errors != 1 ||
		got.Suites[1].Cases[0].Failure.Message != "delivery 1: failed, want delivered" {
		t.Errorf("junit:\n%s", b.String())
	}
}

// The runner is an adapter over ops: it must not depend on the mock or its
// server, so that the mock can own the scenario runs of its control API;
// package mock is the one place that joins them.
func TestRunnerDoesNotImportTheMock(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := goparser.ParseFile(fset, f, nil, goparser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			if p := strings.Trim(imp.Path.Value, `"`); strings.HasSuffix(p, "/mock") || strings.HasSuffix(p, "/server") {
				t.Errorf("%s imports %s", f, p)
			}
		}
	}
}
