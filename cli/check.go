package cli

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/bullseye-mock/bullseye-mock/check"
)

type checkCmd struct {
	URL     string        `name:"url" env:"BULLSEYE_MOCK_URL" help:"Receiver endpoint to check (http:// or https://)."`
	Secret  string        `env:"BULLSEYE_MOCK_SECRET" help:"The webhook secret the receiver verifies with, as given (whsec_ prefix included)."`
	JSON    bool          `name:"json" help:"Print the report as JSON (every request and response) instead of text."`
	JUnit   string        `name:"junit" placeholder:"FILE" help:"Also write a JUnit XML report to FILE, for CI."`
	Only    []string      `sep:"," placeholder:"CASE" help:"Run only these cases (names or globs such as sig_*; comma-separated, repeatable)."`
	Skip    []string      `sep:"," placeholder:"CASE" help:"Skip these cases (names or globs; comma-separated, repeatable)."`
	Seed    int64         `default:"0" help:"Seed of the payloads' fake values; 0 picks one at random (the report shows it), so reruns send fresh session_ids."`
	Timeout time.Duration `default:"30s" help:"How long the receiver has to answer in full; the vendor's is 30s."`
	List    bool          `help:"List the cases and exit."`

	CACert             string `name:"ca-cert" type:"existingfile" env:"BULLSEYE_MOCK_CA_CERT" help:"PEM file of extra CAs trusted for an https receiver."`
	InsecureSkipVerify bool   `name:"insecure-skip-verify" env:"BULLSEYE_MOCK_INSECURE_SKIP_VERIFY" help:"Do not verify the receiver's TLS certificate."`
}

// Run probes the endpoint, runs the battery and reports. Exit 0 when every
// case passed (notes included), 1 when one failed, 2 for bad flags or an
// endpoint that gives no HTTP answer at all.
func (c *checkCmd) Run(e *env) error {
	if c.List {
		for _, ci := range check.Cases() {
			fmt.Fprintf(e.stdout, "%-27s %s\n", ci.Name, ci.Doc)
		}
		return nil
	}
	if c.URL == "" || c.Secret == "" {
		return usagef("--url and --secret are required (or BULLSEYE_MOCK_URL and BULLSEYE_MOCK_SECRET)")
	}
	if !strings.HasPrefix(c.URL, "http://") && !strings.HasPrefix(c.URL, "https://") {
		return usagef("--url %q: expected an http:// or https:// URL", c.URL)
	}
	if c.Timeout <= 0 {
		return usagef("--timeout must be greater than 0, got %s", c.Timeout)
	}
	names, err := check.Select(c.Only, c.Skip)
	if err != nil {
		return usageError{err}
	}
	if len(names) == 0 {
		return usagef("--only and --skip leave no case to run")
	}
	tr, err := c.transport()
	if err != nil {
		return usageError{err}
	}
	seed := c.Seed
	for seed == 0 {
		var b [8]byte
		rand.Read(b[:])
		seed = int64(binary.LittleEndian.Uint64(b[:]) >> 1)
	}
	rep, err := check.Run(e.ctx, check.Config{URL: c.URL, Secret: c.Secret, Seed: seed, Timeout: c.Timeout,
		Cases: names, Transport: tr, UserAgent: programName + "/" + Version + " check"})
	if errors.Is(err, check.ErrUnreachable) {
		return usageError{err}
	}
	if rep == nil {
		return err
	}
	if c.JSON {
		if err := check.WriteJSON(e.stdout, rep); err != nil {
			return err
		}
	} else if err := check.WriteText(e.stdout, rep); err != nil {
		return err
	}
	if c.JUnit != "" {
		if err := writeFile(c.JUnit, func(w io.Writer) error { return check.WriteJUnit(w, rep) }); err != nil {
			return err
		}
	}
	if err != nil {
		return exitError{code: ExitFailed, msg: "interrupted"}
	}
	if !rep.OK() {
		return exitError{code: ExitFailed}
	}
	return nil
}

// transport trusts the system roots plus --ca-cert, as serve does for the
// receivers it delivers to, so a receiver that works with one works with
// the other.
func (c *checkCmd) transport() (*http.Transport, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: c.InsecureSkipVerify}
	if c.CACert != "" {
		pem, err := os.ReadFile(c.CACert)
		if err != nil {
			return nil, err
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--ca-cert %s: no PEM certificate in it", c.CACert)
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	return tr, nil
}

// writeFile creates name and writes it with write, reporting a failed
// close too (a full disk shows there).
func writeFile(name string, write func(io.Writer) error) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
