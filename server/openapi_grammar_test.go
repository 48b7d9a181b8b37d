package server_test

import (
	"encoding/json"
	"os"
	"reflect"
	"sort"
	"testing"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/ops"
)

// The OpenAPI document describes the one grammar: its request bodies have
// exactly the keys of the ops types the handlers decode into (the same
// types a scenario file's steps are read into), so the document cannot
// drift from what the mock accepts.
func TestOpenAPIBodiesAreTheOpsGrammar(t *testing.T) {
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for schema, v := range map[string]any{
		"EventRequest": ops.Send{}, "Fault": ops.Fault{}, "Policy": ops.Policy{}, "AdvanceRequest": ops.Advance{},
		"APIFaultRequest": ops.APIFault{}, "KeyRequest": ops.Key{},
	} {
		var got []string
		for k := range doc.Components.Schemas[schema].Properties {
			got = append(got, k)
		}
		sort.Strings(got)
		want := ops.JSONKeys(v)
		sort.Strings(want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("components.schemas.%s properties %v; %T has %v", schema, got, v, want)
		}
	}
}

// The document's word lists are the vocabulary's.
func TestOpenAPIWordLists(t *testing.T) {
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Components struct {
			Schemas struct {
				Fault struct {
					Properties struct {
						Signature struct{ Enum []string } `json:"signature"`
					} `json:"properties"`
				}
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if got, want := doc.Components.Schemas.Fault.Properties.Signature.Enum, bullseye.FaultNames(); !reflect.DeepEqual(got, want) {
		t.Errorf("Fault.signature enum %v, want bullseye.FaultNames() %v", got, want)
	}
}
