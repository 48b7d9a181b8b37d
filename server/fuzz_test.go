package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzHandlers throws arbitrary methods, paths, queries and bodies at every
// route. No input may panic (the recoverer would turn a panic into a 500),
// and every answer must be JSON.
func FuzzHandlers(f *testing.F) {
	seeds := []struct{ method, path, body string }{
		{"GET", "/api/v1/partner/webhooks", ""},
		{"PUT", "/api/v1/partner/webhooks/identification", `{"url":"https://example.com/h","secret":"s","enabled":true}`},
		{"PUT", "/api/v1/partner/webhooks/billing", `{"enabled":"x"}`},
		{"POST", "/api/v1/partner/webhooks/test", `{"type":"identification"}`},
		{"GET", "/api/v1/partner/webhooks/logs?page=2&pageSize=5&type=billing&status=failed", ""},
		{"GET", "/api/v1/partner/organizations?search=a&status=active&externalId=x", ""},
		{"POST", "/api/v1/partner/organizations", `{"name":"A","credits":3,"metadata":{"a":"b"}}`},
		{"GET", "/api/v1/partner/organizations/%00", ""},
		{"DELETE", "/api/v1/partner/webhooks/test", "{"},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.body)
	}
	fx := newFixture(f, func(c *Config) { c.RateLimit = 0 })
	f.Fuzz(func(t *testing.T, method, path, body string) {
		if !validMethod(method) || !strings.HasPrefix(path, "/") {
			return
		}
		req, err := http.NewRequest(method, "http://mock"+path, strings.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("X-Partner-API-Key", keyA)
		rec := httptest.NewRecorder()
		fx.handler.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", method, path, body, rec.Code, rec.Body)
		}
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Fatalf("%s %s: Content-Type %q", method, path, ct)
		}
	})
}

func validMethod(m string) bool {
	switch m {
	case "GET", "PUT", "POST", "DELETE", "PATCH", "HEAD":
		return true
	}
	return false
}
