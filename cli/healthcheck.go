package cli

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"time"
)

type healthcheckCmd struct {
	Addr string `default:"127.0.0.1:8080" env:"BULLSEYE_MOCK_ADDR" help:"Address the mock listens on; a wildcard host (0.0.0.0, [::]) is checked on loopback."`
	TLS  bool   `name:"tls" env:"BULLSEYE_MOCK_HEALTHCHECK_TLS,BULLSEYE_MOCK_TLS_SELF_SIGNED" help:"The mock serves HTTPS (the certificate is not verified). Implied by the serve command's TLS variables, so a container serving HTTPS stays healthy."`
	// The serve command's certificate variable: when set, the mock serves HTTPS.
	TLSCert  string        `name:"tls-cert" hidden:"" env:"BULLSEYE_MOCK_TLS_CERT"`
	Deadline time.Duration `name:"deadline" default:"3s" help:"Give up after this long."`
}

func (c *healthcheckCmd) Run(e *env) error {
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return usagef("--addr %q is not host:port: %v", c.Addr, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	scheme := "http"
	if c.TLS || c.TLSCert != "" {
		scheme = "https"
	}
	url := fmt.Sprintf("%s://%s/healthz", scheme, net.JoinHostPort(host, port))
	ctx, cancel := context.WithTimeout(e.ctx, c.Deadline)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return usageError{err}
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := client.Do(req)
	if err != nil {
		return exitError{code: ExitFailed, msg: fmt.Sprintf("unhealthy: %v", err)}
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return exitError{code: ExitFailed, msg: fmt.Sprintf("unhealthy: GET %s answered %d", url, resp.StatusCode)}
	}
	fmt.Fprintln(e.stdout, "healthy")
	return nil
}
