// Package check is a conformance battery for a webhook receiver: it sends
// the requests Bullseye sends, and the forged and oddly-shaped ones a
// receiver meets sooner or later, and says for each one whether the receiver
// answered the way the vendor's contract needs.
//
// Most webhook bugs live in receivers, not senders: verifying re-serialised
// JSON instead of the raw body, comparing signatures in the wrong encoding,
// answering 500 (which the vendor retries) to a forged request, refusing a
// duplicate delivery (which the vendor also retries), or taking longer than
// the vendor's 30 s. Each case targets one of these and its failure message
// names the likely cause.
//
// The battery sends single requests with a plain HTTP client, as the vendor
// does: no retries, redirects not followed, the vendor's timeout.
package check

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/fixtures"
)

// DefaultTimeout is the vendor's: a receiver must answer in full within 30 s.
const DefaultTimeout = bullseye.DefaultTimeout

// Status is a case's verdict.
type Status string

const (
	Pass Status = "pass"
	Fail Status = "fail"
	// Note is a pass with something the user should know, such as a
	// receiver that accepts uppercase hex or answers slowly.
	Note Status = "note"
)

// ErrUnreachable is returned by Run when the endpoint gives no HTTP answer at
// all to a probe: nothing the battery would report would mean anything.
var ErrUnreachable = errors.New("endpoint unreachable")

// Config says what to check and how.
type Config struct {
	URL    string // http:// or https:// endpoint of the receiver
	Secret string // the webhook secret the receiver verifies with, as given
	// Seed makes the payloads' fake values; each case derives its own
	// generator from it and its name, so selecting cases does not change the
	// bytes the others send.
	Seed int64
	// Timeout is how long the receiver has to answer in full; zero is
	// DefaultTimeout. Tests lower it to exercise slow receivers quickly.
	Timeout time.Duration
	// Cases are the names to run, in battery order (see Select); nil runs
	// every case.
	Cases []string
	// Transport replaces the HTTP transport (tests, custom TLS); nil clones
	// http.DefaultTransport.
	Transport http.RoundTripper
	// UserAgent of the requests; empty is "bullseye-mock-check".
	UserAgent string
	// Now stamps the payloads' "timestamp" (a receiver may reject stale
	// events); nil is time.Now.
	Now func() time.Time
}

// Exchange is one request the battery sent and what came back.
type Exchange struct {
	// Signature is the X-Bullseye-Signature value sent; HasSignature is
	// false when no header was sent at all.
	Signature    string `json:"signature"`
	HasSignature bool   `json:"hasSignature"`
	Body         string `json:"body"` // the exact bytes sent
	StatusCode   int    `json:"statusCode,omitempty"`
	// Response is the start of the response body (up to 200 bytes).
	Response  string        `json:"response,omitempty"`
	Latency   time.Duration `json:"-"`
	LatencyMs float64       `json:"latencyMs"`
	// Error is set when no full response came: connection error or timeout.
	Error    string `json:"error,omitempty"`
	timedOut bool
}

// Result is the verdict of one case.
type Result struct {
	Name      string     `json:"name"`
	Status    Status     `json:"status"`
	Message   string     `json:"message"`
	Exchanges []Exchange `json:"exchanges"`
}

// Report is the outcome of a battery run.
type Report struct {
	URL     string   `json:"url"`
	Seed    int64    `json:"seed"`
	Timeout string   `json:"timeout"`
	Results []Result `json:"results"`
	Passed  int      `json:"passed"` // notes included
	Failed  int      `json:"failed"`
	Notes   int      `json:"notes"`
	Skipped []string `json:"skipped"`
}

// OK reports whether no case failed.
func (r *Report) OK() bool { return r.Failed == 0 }

// Run probes the endpoint, then runs the selected cases one after the other
// (a slow receiver delays later cases, but no case can disturb another's
// verdict). It returns ErrUnreachable (wrapped) when the probe gets no HTTP
// answer, and an error for an invalid Config. When ctx ends mid-run, it
// returns the cases finished before with ctx's error.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := validURL(cfg.URL); err != nil {
		return nil, err
	}
	names := cfg.Cases
	if names == nil {
		names = Names()
	}
	byName := map[string]caseDef{}
	for _, c := range battery {
		byName[c.name] = c
	}
	for _, n := range names {
		if _, ok := byName[n]; !ok {
			return nil, fmt.Errorf("unknown case %q; cases: %s", n, strings.Join(Names(), ", "))
		}
	}
	b := newRunner(cfg)
	defer b.client.CloseIdleConnections()
	if err := b.probe(ctx); err != nil {
		return nil, err
	}
	rep := &Report{URL: cfg.URL, Seed: cfg.Seed, Timeout: b.timeout.String(), Results: []Result{}, Skipped: []string{}}
	chosen := map[string]bool{}
	for _, n := range names {
		chosen[n] = true
	}
	for _, c := range battery {
		if !chosen[c.name] {
			rep.Skipped = append(rep.Skipped, c.name)
			continue
		}
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		res := c.run(ctx, b.forCase(c.name))
		if err := ctx.Err(); err != nil {
			// The case was cut short by the caller, not by the receiver:
			// its "no answer" verdict would be a false failure.
			return rep, err
		}
		res.Name = c.name
		if res.Exchanges == nil {
			res.Exchanges = []Exchange{}
		}
		switch res.Status {
		case Fail:
			rep.Failed++
		case Note:
			rep.Notes++
			rep.Passed++
		default:
			rep.Passed++
		}
		rep.Results = append(rep.Results, res)
	}
	return rep, ctx.Err()
}

func validURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("url %q: expected an http:// or https:// URL", s)
	}
	return nil
}

// runner holds what every case of one run shares.
type runner struct {
	cfg     Config
	client  *http.Client
	timeout time.Duration
	now     time.Time
	gen     *fixtures.Generator // this case's own, see forCase
}

func newRunner(cfg Config) *runner {
	b := &runner{cfg: cfg, timeout: cfg.Timeout}
	if b.timeout <= 0 {
		b.timeout = DefaultTimeout
	}
	tr := cfg.Transport
	if tr == nil {
		tr = http.DefaultTransport.(*http.Transport).Clone()
	}
	b.client = &http.Client{
		Transport: tr,
		Timeout:   b.timeout,
		// The vendor does not follow redirects: a 3xx is the answer.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if b.cfg.UserAgent == "" {
		b.cfg.UserAgent = "bullseye-mock-check"
	}
	now := time.Now
	if cfg.Now != nil {
		now = cfg.Now
	}
	b.now = now().UTC().Truncate(time.Second)
	return b
}

// forCase returns a runner whose generator is seeded by the run's seed and
// the case's name, so a case's bytes do not depend on which others run.
func (b *runner) forCase(name string) *runner {
	h := fnv.New64a()
	io.WriteString(h, name)
	c := *b
	c.gen = fixtures.New(b.cfg.Seed ^ int64(h.Sum64()))
	return &c
}

// payload builds a fresh event, with its own session_id or event_id.
func (b *runner) payload(eventType string, d bullseye.Dialect) []byte {
	return b.payloadOf(fixtures.Event{Type: eventType, Dialect: d, Org: fixtures.ExampleOrganization(), At: b.now})
}

func (b *runner) payloadOf(e fixtures.Event) []byte {
	body, err := b.gen.Payload(e)
	if err != nil {
		eventType := e.Type
		// The event types are this package's constants: a failure here is
		// a bug in the battery, not something a user can act on.
		panic(fmt.Sprintf("check: building %s payload: %v", eventType, err))
	}
	return body
}

// probe sends a GET: any HTTP answer at all, even 404 or 405, shows the
// endpoint is there; only a connection error or a timeout means it is not.
func (b *runner) probe(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.cfg.URL, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", b.cfg.UserAgent)
	resp, err := b.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w: %s: %v", ErrUnreachable, b.cfg.URL, unwrapURLError(err))
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	return nil
}

// send POSTs body with the signature header (none when !hasSig) and
// records the exchange.
func (b *runner) send(ctx context.Context, sig string, hasSig bool, body []byte) Exchange {
	ex := Exchange{Signature: sig, HasSignature: hasSig, Body: string(body)}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.cfg.URL, bytes.NewReader(body))
	if err != nil {
		ex.Error = err.Error()
		return ex
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", b.cfg.UserAgent)
	if hasSig {
		req.Header.Set(bullseye.SignatureHeader, sig)
	}
	start := time.Now()
	resp, err := b.client.Do(req)
	if err == nil {
		var data []byte
		data, err = io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		ex.StatusCode = resp.StatusCode
		ex.Response = excerpt(data, 200)
	}
	ex.Latency = time.Since(start)
	ex.LatencyMs = float64(ex.Latency.Microseconds()) / 1000
	if err != nil {
		ex.StatusCode = 0
		var ne interface{ Timeout() bool }
		if errors.As(err, &ne) && ne.Timeout() {
			ex.timedOut = true
			ex.Error = fmt.Sprintf("no full response within %s", b.timeout)
		} else {
			ex.Error = unwrapURLError(err).Error()
		}
	}
	return ex
}

// signed sends body with the right signature.
func (b *runner) signed(ctx context.Context, body []byte) Exchange {
	return b.send(ctx, bullseye.Sign(b.cfg.Secret, body), true, body)
}

// unwrapURLError drops the "Get \"http://...\": " prefix, which repeats the
// URL the report already shows.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// excerpt is the start of data as one printable line.
func excerpt(data []byte, n int) string {
	s := strings.ToValidUTF8(string(data), "\uFFFD")
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		s = string(r[:n]) + "…"
	}
	return s
}
