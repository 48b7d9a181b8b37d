package mocktest_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/bullseye-mock/bullseye-mock/mocktest"
	"github.com/bullseye-mock/bullseye-mock/ops"
)

// registerWebhook is the app under test: at start-up it registers its
// webhook through the Partner API, retrying a 5xx a few times.
func registerWebhook(base, key string) error {
	var last int
	for range 3 {
		req, _ := http.NewRequest(http.MethodPut, base+"/api/v1/partner/webhooks/identification",
			strings.NewReader(`{"url":"https://app.example/hooks/bullseye","secret":"whsec_app","enabled":true}`))
		req.Header.Set("X-Partner-API-Key", key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if last = resp.StatusCode; last < 500 {
			return nil
		}
	}
	return fmt.Errorf("gave up after %d", last)
}

// The app must register its webhook, with a secret and enabled, and retry
// when Bullseye answers 503: the fault makes the first PUT fail, and the
// journal shows what the app sent.
func ExampleServer_ExpectRequests() {
	s, err := mocktest.StartServer() // in a test: s := mocktest.NewServer(t)
	if err != nil {
		panic(err)
	}
	defer s.Close()

	s.AddAPIFault(ops.APIFault{Method: "PUT", Path: "/api/v1/partner/webhooks/*", Status: 503, Times: ops.N(1)})
	if err := registerWebhook(s.URL, s.APIKey); err != nil {
		panic(err)
	}

	put := ops.RequestMatch{Method: "PUT", Path: "/api/v1/partner/webhooks/identification"}
	for _, e := range s.Requests(put) {
		fmt.Println(e.ID, e.Method, e.Path, e.Status, "fault:"+e.Fault)
	}
	ok := ops.RequestMatch{Method: "PUT", Path: put.Path, Status: "2xx", Body: []byte(`{"enabled": true}`), Has: []string{"secret"}}
	fmt.Println(s.ExpectRequests(ops.RequestExpectation{RequestMatch: ok, Count: ops.N(1)}))
	// Output:
	// 2 PUT /api/v1/partner/webhooks/identification 200 fault:
	// 1 PUT /api/v1/partner/webhooks/identification 503 fault:flt_1
	// true
}

// A read-only key may list the webhooks but not change them (403), and a
// revoked key is refused like an unknown one (401).
func TestScopedKeyInProcess(t *testing.T) {
	s := mocktest.NewServer(t)
	reader := s.AddKey(ops.Key{Scopes: []string{"read"}})
	status := func(method, key string) int {
		req, _ := http.NewRequest(method, s.URL+"/api/v1/partner/webhooks/identification", strings.NewReader(`{"enabled":true}`))
		if method == http.MethodGet {
			req, _ = http.NewRequest(method, s.URL+"/api/v1/partner/webhooks", nil)
		}
		req.Header.Set("X-Partner-API-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := status(http.MethodGet, reader); got != 200 {
		t.Errorf("GET with a read key = %d", got)
	}
	if got := status(http.MethodPut, reader); got != 403 {
		t.Errorf("PUT with a read key = %d, want 403", got)
	}
	s.RevokeKey(reader)
	if got := status(http.MethodGet, reader); got != 401 {
		t.Errorf("GET with a revoked key = %d, want 401", got)
	}
	s.WaitRequests(ops.RequestMatch{Status: "4xx"}, 2)
	s.ExpectRequests(ops.RequestExpectation{RequestMatch: ops.RequestMatch{Status: "403"}, Count: ops.N(1)})
}
