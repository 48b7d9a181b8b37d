package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// validating is an http.RoundTripper that checks every exchange against the
// OpenAPI document with an independent validator (kin-openapi): the
// request must be one the document describes, and the answer one it
// declares, shape and status.
type validating struct {
	t      *testing.T
	router routers.Router
}

func newValidating(t *testing.T, serverURL string) *validating {
	t.Helper()
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("openapi.json is not a valid OpenAPI document: %v", err)
	}
	doc.Servers = openapi3.Servers{{URL: serverURL}}
	// The traffic plot is a document of its own: its schema is a string.
	openapi3filter.RegisterBodyDecoder("image/svg+xml", openapi3filter.FileBodyDecoder)
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &validating{t: t, router: r}
}

func (v *validating) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		reqBody, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(bytes.NewReader(body))

	check := req.Clone(context.Background())
	check.Body = io.NopCloser(bytes.NewReader(reqBody))
	route, params, err := v.router.FindRoute(check)
	if err != nil {
		// No operation has this path or method: the answer must be the
		// 404 or 405 the document's conventions describe, in the vendor's
		// error JSON.
		var e struct {
			Code    string          `json:"code"`
			Message string          `json:"message"`
			Details json.RawMessage `json:"details"`
		}
		if (resp.StatusCode != 404 && resp.StatusCode != 405) || json.Unmarshal(body, &e) != nil || e.Code == "" || len(e.Details) == 0 {
			v.t.Errorf("%s %s: not in the document (%v), and answered %d %s", req.Method, req.URL.Path, err, resp.StatusCode, body)
		}
		return resp, nil
	}
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true}
	in := &openapi3filter.RequestValidationInput{Request: check, PathParams: params, Route: route, Options: opts}
	// Requests the mock refuses on purpose need not fit the document;
	// what it answers must.
	if resp.StatusCode < 400 {
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			v.t.Errorf("%s %s: request does not fit the document: %v", req.Method, req.URL.Path, err)
		}
	}
	// The headers that carry meaning must be declared where they are sent.
	if rr := route.Operation.Responses.Status(resp.StatusCode); rr != nil && rr.Value != nil {
		for _, name := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After", "Location"} {
			if resp.Header.Get(name) == "" {
				continue
			}
			declared := false
			for h := range rr.Value.Headers {
				declared = declared || strings.EqualFold(h, name)
			}
			if !declared {
				v.t.Errorf("%s %s -> %d sends %s, which the document does not declare", req.Method, req.URL.Path, resp.StatusCode, name)
			}
		}
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Body: io.NopCloser(bytes.NewReader(body)), Options: opts,
	}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		v.t.Errorf("%s %s -> %d: answer does not fit the document: %v\n%s", req.Method, req.URL.Path, resp.StatusCode, err, body)
	}
	return resp, nil
}
