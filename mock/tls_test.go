package mock

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSelfSignedTLS serves over HTTPS with a generated certificate; a
// client that trusts only the written CA file connects and verifies it.
func TestSelfSignedTLS(t *testing.T) {
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	cfg, err := SelfSignedTLS([]string{"mock.test"}, caFile, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	m := startMock(t, Config{TLS: cfg})
	if !strings.HasPrefix(m.URL(), "https://127.0.0.1:") {
		t.Fatalf("URL %s", m.URL())
	}
	pemBytes, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatal("the CA file holds no certificate")
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get(m.URL() + "/healthz")
	if err != nil {
		t.Fatalf("a client trusting the CA file cannot connect: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("healthz %d", resp.StatusCode)
	}
	// A client with only the system roots refuses the certificate.
	if _, err := http.Get(m.URL() + "/healthz"); err == nil {
		t.Fatal("an untrusting client connected")
	}
}

func TestLoadTLSErrors(t *testing.T) {
	if _, err := LoadTLS("/nonexistent.pem", "/nonexistent.key"); err == nil || !strings.Contains(err.Error(), "load TLS certificate") {
		t.Fatalf("err %v", err)
	}
}
