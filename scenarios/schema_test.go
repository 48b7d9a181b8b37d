package scenarios

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

// compileSchema compiles schema.json with a draft 2020-12 validator, the
// way an editor would use it.
func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// instance reads a YAML or JSON file as the JSON value an editor checks.
func instance(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

// Every example is valid for the schema as well as for the parser, and
// files the parser rejects for a wrong key or name the schema rejects too:
// an editor shows the same mistakes the run command does.
func TestSchemaValidatesExamples(t *testing.T) {
	sch := compileSchema(t)
	files, _ := filepath.Glob("examples/*")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(instance(t, data)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	for _, src := range []string{
		"name: x\nstpes: []\n",
		"steps: [{sned: {type: credits.low}}]\n",
		"steps: [{send: {type: visitor.identifed}}]\n",
		"steps: [{send: {type: credits.low, faults: [{signature: wrong-secet}]}}]\n",
		"steps: [{send: {type: credits.low, rate: fast}}]\n",
		"steps: [{wait: forever}]\n",
		"steps: [{expect: {state: done}}]\n",
		"steps: [{expect: {statuses: [7xx]}}]\n",
		"steps: [{expect: {faults: {bad: 4xx}}}]\n",
		"clock: fast\nsteps: [{wait: 1s}]\n",
		"steps: [{send: {type: credits.low}, wait: 1m}]\n",
	} {
		if _, err := Parse("s.yaml", []byte(src)); err == nil {
			t.Errorf("parser accepts %q", src)
		}
		if err := sch.Validate(instance(t, []byte(src))); err == nil {
			t.Errorf("schema accepts %q", src)
		}
	}
}
