package cli

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestHealthcheckFollowsServeTLS: a container that serves HTTPS through the
// serve command's variables must not probe it over plain HTTP.
func TestHealthcheckFollowsServeTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			w.WriteHeader(404)
		}
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "https://")
	cases := []struct {
		env  map[string]string
		want int
	}{
		{map[string]string{}, ExitFailed},
		{map[string]string{"BULLSEYE_MOCK_TLS_SELF_SIGNED": "true"}, ExitOK},
		{map[string]string{"BULLSEYE_MOCK_TLS_CERT": "/certs/cert.pem"}, ExitOK},
		{map[string]string{"BULLSEYE_MOCK_HEALTHCHECK_TLS": "true"}, ExitOK},
	}
	for _, c := range cases {
		t.Run(strings.Join(keys(c.env), ","), func(t *testing.T) {
			t.Setenv("BULLSEYE_MOCK_ADDR", addr)
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			var out, errOut strings.Builder
			if got := Run(context.Background(), []string{"healthcheck"}, &out, &errOut); got != c.want {
				t.Fatalf("exit %d, want %d; stderr %q", got, c.want, errOut.String())
			}
		})
	}
}

func keys(m map[string]string) []string {
	out := []string{}
	for k := range m {
		out = append(out, k)
	}
	return out
}
