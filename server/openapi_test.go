package server_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/gorilla/mux"
)

// TestOpenAPIMatchesRoutes walks the router and checks that the document
// served at /_mock/openapi.json describes exactly the routes served: no
// route undocumented, no documented operation that does not exist.
// errorResponses are the document's shared error answers: the vendor's
// error JSON, alone or with the headers that go with it.
var errorResponses = map[string]bool{
	"#/components/responses/Error": true, "#/components/responses/APIError": true,
	"#/components/responses/APIRateLimited": true, "#/components/responses/TooManyRequests": true,
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	h := newHarness(t, nil)
	r := h.call(t, "GET", "/_mock/openapi.json", "")
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET /_mock/openapi.json = %d %s", r.status, r.header.Get("Content-Type"))
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi = %q", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	served := map[string]bool{}
	err := h.m.Server().Router().Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		path, err := route.GetPathTemplate()
		if err != nil {
			return err
		}
		methods, err := route.GetMethods()
		if err != nil {
			return err
		}
		for _, m := range methods {
			served[m+" "+path] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var missing, extra []string
	for op := range served {
		if !documented[op] {
			missing = append(missing, op)
		}
	}
	for op := range documented {
		if !served[op] {
			extra = append(extra, op)
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	if len(missing) > 0 {
		t.Errorf("served but not in server/openapi.json:\n  %s", strings.Join(missing, "\n  "))
	}
	if len(extra) > 0 {
		t.Errorf("in server/openapi.json but not served:\n  %s", strings.Join(extra, "\n  "))
	}
	// Every operation answers errors in the vendor's format, so each
	// documented non-2xx response must use the shared Error response.
	for path, ops := range doc.Paths {
		for method, raw := range ops {
			var op struct {
				Responses map[string]map[string]any `json:"responses"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			for code, resp := range op.Responses {
				if ref, _ := resp["$ref"].(string); (code[0] == '4' || code[0] == '5') && !errorResponses[ref] {
					t.Errorf("%s %s: response %s does not use the shared Error", method, path, code)
				}
			}
		}
	}
	// Every $ref names a component that exists.
	var whole map[string]any
	if err := json.Unmarshal(r.body, &whole); err != nil {
		t.Fatal(err)
	}
	for _, ref := range refs(whole, nil) {
		node := any(whole)
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			m, _ := node.(map[string]any)
			node = m[part]
		}
		if node == nil {
			t.Errorf("dangling $ref %s", ref)
		}
	}
}

func refs(v any, out []string) []string {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "$ref" {
				out = append(out, s)
			}
			out = refs(x, out)
		}
	case []any:
		for _, x := range v {
			out = refs(x, out)
		}
	}
	return out
}

// The inspector reads the event types from the document, so the enum must
// be the fixtures' list.
func TestOpenAPIEventTypes(t *testing.T) {
	h := newHarness(t, nil)
	var doc struct {
		Components struct {
			Schemas struct {
				EventRequest struct {
					Properties struct {
						Type struct {
							Enum []string `json:"enum"`
						} `json:"type"`
					} `json:"properties"`
				} `json:"EventRequest"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(h.call(t, "GET", "/_mock/openapi.json", "").body, &doc); err != nil {
		t.Fatal(err)
	}
	if got, want := doc.Components.Schemas.EventRequest.Properties.Type.Enum, bullseye.EventTypes(); !slices.Equal(got, want) {
		t.Errorf("EventRequest.type enum = %v, want bullseye.EventTypes() = %v", got, want)
	}
}
