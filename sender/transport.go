package sender

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"time"
)

func moduleVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// newTransport builds the shared keep-alive transport. It sets no real-time
// timeouts: each attempt's deadline is in mock time (its context), so a
// scaled clock shortens it and a manual clock holds it until moved.
func newTransport(cfg Config) (*http.Transport, error) {
	// InsecureSkipVerify is the user's explicit opt-in, for self-signed receivers.
	tlsConf := &tls.Config{InsecureSkipVerify: cfg.InsecureSkipVerify}
	if cfg.CACertFile != "" {
		pem, err := os.ReadFile(cfg.CACertFile)
		if err != nil {
			return nil, fmt.Errorf("sender: CA certificates: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("sender: CA certificates: no PEM certificate in %s", cfg.CACertFile)
		}
		tlsConf.RootCAs = pool
	}
	return &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:     tlsConf,
		ForceAttemptHTTP2:   true,
		MaxIdleConns:        max(100, cfg.Workers),
		MaxIdleConnsPerHost: cfg.PerEndpoint,
		IdleConnTimeout:     90 * time.Second,
		// Go's default is 10 MiB per response; endless headers would cost
		// that much per attempt in flight.
		MaxResponseHeaderBytes: HeaderMax,
		// Keep the request headers exactly the documented ones: without this
		// Go adds Accept-Encoding: gzip.
		DisableCompression: true,
	}, nil
}
