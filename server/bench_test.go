package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// The Partner API's cost over a bare net/http handler that serves the same
// bytes. Run both in one go and compare (see README, "Benchmarks"):
//
//	go test -run '^$' -bench 'GetWebhooks' -count 6 ./server | tee bench.txt
//
// The Handler pair calls ServeHTTP directly, so it shows the whole cost of
// routing, auth, rate limiting and JSON; the Loopback pair adds a real
// keep-alive HTTP client and server on 127.0.0.1, as users see it.

func benchFixture(b *testing.B) (*fixture, []byte) {
	f := newFixture(b, nil)
	f.do(b, "PUT", "/api/v1/partner/webhooks/identification", keyA, `{"url":"https://example.com/webhooks/identify","secret":"s","enabled":true}`)
	body := f.do(b, "GET", "/api/v1/partner/webhooks", keyA, "").body
	// A limit no benchmark reaches: the limiter still runs on every request.
	f.handler.partner.limiter = newRateLimiter(1<<62, f.handler.partner.limiter.now)
	return f, body
}

func bareHandler(body []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
	})
}

func benchHandler(b *testing.B, h http.Handler) {
	req := httptest.NewRequest("GET", "/api/v1/partner/webhooks", nil)
	req.Header.Set("X-Partner-API-Key", keyA)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			w := &discardWriter{header: http.Header{}}
			h.ServeHTTP(w, req)
			if w.code != 200 {
				b.Fatalf("status %d", w.code)
			}
		}
	})
}

// discardWriter is a response writer that costs what net/http's own does
// (a fresh header map per response) and keeps nothing:
// httptest.ResponseRecorder clones the headers on WriteHeader, which made
// the benchmark measure the recorder rather than the handler.
type discardWriter struct {
	header http.Header
	code   int
}

func (w *discardWriter) Header() http.Header { return w.header }

func (w *discardWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

func (w *discardWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return len(b), nil
}

func BenchmarkGetWebhooksHandler(b *testing.B) {
	f, body := benchFixture(b)
	b.Run("bare", func(b *testing.B) { benchHandler(b, bareHandler(body)) })
	b.Run("mock", func(b *testing.B) { benchHandler(b, f.handler) })
}

func benchLoopback(b *testing.B, url string) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("GET", url+"/api/v1/partner/webhooks", nil)
			req.Header.Set("X-Partner-API-Key", keyA)
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
}

func BenchmarkGetWebhooksLoopback(b *testing.B) {
	f, body := benchFixture(b)
	bare := httptest.NewServer(bareHandler(body))
	b.Cleanup(bare.Close)
	b.Run("bare", func(b *testing.B) { benchLoopback(b, bare.URL) })
	b.Run("mock", func(b *testing.B) { benchLoopback(b, f.srv.URL) })
}
