package check

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/fixtures"
)

// caseDef is one case of the battery.
type caseDef struct {
	name string
	doc  string
	run  func(ctx context.Context, b *runner) Result
	// shape is the raw_* cases' change to a plain payload's bytes.
	shape func([]byte) []byte
}

// CaseInfo names and describes a case, for listings and documentation.
type CaseInfo struct {
	Name string `json:"name"`
	Doc  string `json:"doc"`
}

// Cases lists the battery in the order it runs.
func Cases() []CaseInfo {
	out := make([]CaseInfo, len(battery))
	for i, c := range battery {
		out[i] = CaseInfo{c.name, c.doc}
	}
	return out
}

// Names lists the case names in the order they run.
func Names() []string {
	out := make([]string, len(battery))
	for i, c := range battery {
		out[i] = c.name
	}
	return out
}

// Hints on why a correct request was refused, by kind of request.
const (
	hintValid = "check that the secret is the one configured (used as given, whsec_ prefix included) " +
		"and that the HMAC covers the raw body bytes"
	hintRaw = "the receiver probably verifies a re-serialisation of the parsed JSON, not the raw body; " +
		"compute the HMAC over the bytes as received, before parsing"
	hintUnknown = "the receiver probably rejects fields it does not know; the vendor may add fields " +
		"at any time, so ignore unknown ones"
	hintDuplicate = "the vendor may deliver the same event more than once and retries any non-2xx answer; " +
		"acknowledge a duplicate with 2xx and skip processing it (dedupe by session_id)"
	hintOutOfOrder = "the vendor does not promise order; acknowledge an older event with 2xx and keep the newer data " +
		"(compare timestamp or last_seen_at), or it is retried and lost"
)

// battery is every case, in the order they run: valid events first (if they
// fail, the rest is hard to read), then signature faults, then bodies that
// only a raw-bytes verifier accepts, then duplicates.
var battery = []caseDef{
	validCase("valid_identification", bullseye.EventVisitorIdentified, bullseye.DialectPartner,
		"a correctly signed visitor.identified in the full (partner, event_type) dialect is accepted in time"),
	validCase("valid_identification_short", bullseye.EventVisitorIdentified, bullseye.DialectIntegration,
		"a correctly signed visitor.identified in the short (integration, event) dialect is accepted in time"),
	validCase("valid_billing", bullseye.EventCreditsLow, bullseye.DialectPartner,
		"a correctly signed billing event (credits.low) is accepted in time"),

	faultCase(bullseye.FaultWrongSecret, "sig_wrong_secret", "a request signed with another secret",
		"the receiver does not verify signatures, or not with this secret"),
	faultCase(bullseye.FaultMissing, "sig_missing", "a request without X-Bullseye-Signature",
		"the receiver probably reads the header without checking it is there"),
	faultCase(bullseye.FaultEmpty, "sig_empty", "a request with an empty X-Bullseye-Signature",
		"the receiver probably compares an empty value without checking it first"),
	faultCase(bullseye.FaultNonHex, "sig_non_hex", "a 64-character signature that is not hex",
		"hex decoding of the header probably fails unhandled"),
	faultCase(bullseye.FaultTruncated, "sig_truncated", "a signature cut to its first 32 hex digits",
		"a length mismatch probably throws (Node's crypto.timingSafeEqual does on unequal lengths); compare lengths first"),
	faultCase(bullseye.FaultOtherBytes, "sig_other_bytes", "a body changed after signing (a field added)",
		"the receiver does not verify the body it processes"),
	{name: "sig_uppercase", doc: "the right signature in uppercase hex: rejected passes; accepted is a note on the comparison, not a failure", run: runUppercase},

	rawCase("raw_escaped_unicode", "escaped unicode (\\u2028, \\u00e9) in a string",
		func(b []byte) []byte { return patched(b, `{"workspace":"Acme\u2028Caf\u00e9 M\u00fcller"}`) }),
	rawCase("raw_emoji", "an emoji as raw UTF-8 and another as an escaped surrogate pair",
		func(b []byte) []byte { return patched(b, `{"workspace":"Acme 🎯 Inc \ud83d\ude80"}`) }),
	rawCase("raw_escaped_slashes", `every "/" escaped as "\/"`, escapedSlashes),
	rawCase("raw_whitespace", "tabs, CRLF and spaces before colons between tokens", spaced),
	rawCase("raw_key_order", "the top-level keys in reverse order", reversedKeys),
	{name: "unknown_fields", doc: "a correctly signed body with fields the vendor does not document (top level and nested) is accepted", run: runUnknownFields},

	{name: "duplicate", doc: "the same delivery (same bytes, same session_id) sent twice in a row is acknowledged with 2xx both times", run: runDuplicate},
	{name: "duplicate_concurrent", doc: "two copies of one delivery released at the same instant are both acknowledged with 2xx", run: runConcurrent},
	{name: "out_of_order", doc: "two sessions of one visitor, the newer delivered first, are both acknowledged with 2xx", run: runOutOfOrder},
}

func validCase(name, eventType string, d bullseye.Dialect, doc string) caseDef {
	what := fmt.Sprintf("a correctly signed %s (%s dialect)", eventType, d)
	return caseDef{name: name, doc: doc, run: func(ctx context.Context, b *runner) Result {
		ex := b.signed(ctx, b.payload(eventType, d))
		return accepted(b, what, hintValid, ex)
	}}
}

func faultCase(f bullseye.Fault, name, what, hint5xx string) caseDef {
	return caseDef{name: name, doc: what + " is rejected with 4xx (never 2xx, never 5xx)", run: func(ctx context.Context, b *runner) Result {
		sig, ok, body := bullseye.ApplyFault(f, b.cfg.Secret, b.payload(bullseye.EventVisitorIdentified, bullseye.DialectPartner))
		ex := b.send(ctx, sig, ok, body)
		return rejected(what, hint5xx, ex)
	}}
}

func rawCase(name, what string, shape func([]byte) []byte) caseDef {
	what = "a correctly signed body with " + what
	return caseDef{name: name, doc: what + " is accepted", shape: shape, run: func(ctx context.Context, b *runner) Result {
		ex := b.signed(ctx, shape(b.payload(bullseye.EventVisitorIdentified, bullseye.DialectPartner)))
		return accepted(b, what, hintRaw, ex)
	}}
}

func runUnknownFields(ctx context.Context, b *runner) Result {
	body := patched(b.payload(bullseye.EventVisitorIdentified, bullseye.DialectPartner),
		`{"bullseye_mock_extra":{"note":"a field the vendor does not document","list":[1,2.50,null]},"visitor":{"pronouns":"they/them"}}`)
	return accepted(b, "a correctly signed body with undocumented fields", hintUnknown, b.signed(ctx, body))
}

func runDuplicate(ctx context.Context, b *runner) Result {
	body := b.payload(bullseye.EventVisitorIdentified, bullseye.DialectPartner)
	first := b.signed(ctx, body)
	if r := accepted(b, "the first delivery of an event", hintValid, first); r.Status == Fail {
		return r
	}
	second := b.signed(ctx, body)
	r := accepted(b, "the same delivery sent again (same bytes, same session_id)", hintDuplicate, second)
	r.Exchanges = []Exchange{first, second}
	return r
}

// runOutOfOrder sends one visitor's newer session before the older one, as
// a shuffled queue does: a receiver that refuses an event older than what it
// stored (or crashes on it) loses it; it should acknowledge both and keep
// the newer data.
func runOutOfOrder(ctx context.Context, b *runner) Result {
	thread := fixtures.NewThread()
	older := b.payloadOf(fixtures.Event{Type: bullseye.EventVisitorIdentified, Org: fixtures.ExampleOrganization(), At: b.now.Add(-time.Hour), Thread: thread})
	newer := b.payloadOf(fixtures.Event{Type: bullseye.EventVisitorIdentified, Org: fixtures.ExampleOrganization(), At: b.now, Thread: thread})
	first := b.signed(ctx, newer)
	if r := accepted(b, "the newer session of a visitor", hintValid, first); r.Status == Fail {
		return r
	}
	second := b.signed(ctx, older)
	r := accepted(b, "the older session of the same visitor, delivered after the newer one", hintOutOfOrder, second)
	r.Exchanges = []Exchange{first, second}
	return r
}

// runConcurrent releases both requests from one barrier, the way the vendor
// can send a delivery and its retry (or two workers the same event) at once:
// a receiver that checks "seen?" and then "mark seen" without a lock, or
// holds a unique constraint, answers one of them with an error.
func runConcurrent(ctx context.Context, b *runner) Result {
	body := b.payload(bullseye.EventVisitorIdentified, bullseye.DialectPartner)
	sig := bullseye.Sign(b.cfg.Secret, body)
	exs := make([]Exchange, 2)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range exs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			exs[i] = b.send(ctx, sig, true, body)
		}()
	}
	close(start)
	wg.Wait()
	// Judge the worse answer: which copy loses the race varies run to run.
	for _, ex := range exs {
		if r := accepted(b, "one of two copies of a delivery sent at the same instant", hintDuplicate, ex); r.Status == Fail {
			r.Exchanges = exs
			return r
		}
	}
	r := accepted(b, "two concurrent copies of one delivery", hintDuplicate, slowest(exs))
	r.Exchanges = exs
	return r
}

func slowest(exs []Exchange) Exchange {
	s := exs[0]
	for _, ex := range exs[1:] {
		if ex.Latency > s.Latency {
			s = ex
		}
	}
	return s
}

func runUppercase(ctx context.Context, b *runner) Result {
	sig, ok, body := bullseye.ApplyFault(bullseye.FaultUppercase, b.cfg.Secret, b.payload(bullseye.EventVisitorIdentified, bullseye.DialectPartner))
	ex := b.send(ctx, sig, ok, body)
	r := Result{Exchanges: []Exchange{ex}}
	switch {
	case ex.Error != "":
		r.Status, r.Message = Fail, noAnswer("the right signature in uppercase hex", ex)
	case ex.StatusCode >= 400 && ex.StatusCode < 500:
		r.Status = Pass
		r.Message = fmt.Sprintf("rejected with %d: the receiver compares the hex strings exactly, as the vendor's Python example does", ex.StatusCode)
	case ex.StatusCode >= 200 && ex.StatusCode < 300 && bullseye.FaultUppercase.MayBeAccepted():
		r.Status = Note
		r.Message = fmt.Sprintf("accepted with %d: the receiver decodes the hex before comparing (as the vendor's Node.js example does) "+
			"or compares case-insensitively; harmless, since the vendor sends lowercase, as long as the comparison stays constant-time", ex.StatusCode)
	default:
		r.Status = Fail
		r.Message = fmt.Sprintf("answered %d to the right signature in uppercase hex, expected 4xx (or 2xx)%s", ex.StatusCode, why5xx(ex.StatusCode, "case conversion or hex decoding probably fails unhandled"))
	}
	return r
}

// accepted judges an exchange that must get a 2xx well within the timeout.
func accepted(b *runner, what, hint string, ex Exchange) Result {
	r := Result{Exchanges: []Exchange{ex}}
	switch {
	case ex.timedOut:
		r.Status = Fail
		r.Message = fmt.Sprintf("%s: no full response within %s; the vendor counts that as a failure and sends the event again: "+
			"answer 2xx first, process afterwards", what, b.timeout)
	case ex.Error != "":
		r.Status, r.Message = Fail, noAnswer(what, ex)
	case ex.StatusCode < 200 || ex.StatusCode > 299:
		r.Status = Fail
		r.Message = fmt.Sprintf("%s answered %d, expected 2xx: %s", what, ex.StatusCode, hint)
		if ex.StatusCode >= 300 && ex.StatusCode < 400 {
			r.Message += " (the vendor does not follow redirects)"
		}
	case ex.Latency > b.timeout/3:
		r.Status = Note
		r.Message = fmt.Sprintf("accepted with %d, but in %s, over a third of the vendor's %s timeout: answer first, process afterwards",
			ex.StatusCode, roundLatency(ex.Latency), b.timeout)
	default:
		r.Status = Pass
		r.Message = fmt.Sprintf("accepted with %d in %s", ex.StatusCode, roundLatency(ex.Latency))
	}
	return r
}

// rejected judges an exchange that must get a 4xx: a 2xx processes a forgery,
// and a 5xx makes the vendor retry it (and looks like an outage in logs).
func rejected(what, hint5xx string, ex Exchange) Result {
	r := Result{Exchanges: []Exchange{ex}}
	switch {
	case ex.Error != "":
		r.Status, r.Message = Fail, noAnswer(what, ex)
	case ex.StatusCode >= 400 && ex.StatusCode < 500:
		r.Status, r.Message = Pass, fmt.Sprintf("rejected with %d", ex.StatusCode)
	case ex.StatusCode >= 200 && ex.StatusCode < 300:
		r.Status = Fail
		r.Message = fmt.Sprintf("accepted (%d) %s: the receiver must verify the signature over the raw body and answer 401 when it does not match", ex.StatusCode, what)
	default:
		r.Status = Fail
		r.Message = fmt.Sprintf("answered %d to %s, expected 4xx (401)%s", ex.StatusCode, what, why5xx(ex.StatusCode, hint5xx))
	}
	return r
}

func why5xx(code int, hint string) string {
	if code < 500 {
		return ""
	}
	return ": a 5xx makes the vendor retry a forged request and reads as an outage; " + hint
}

func noAnswer(what string, ex Exchange) string {
	return fmt.Sprintf("%s got no answer: %s", what, ex.Error)
}

// roundLatency keeps reports readable: 3.2ms, 1.2s.
func roundLatency(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(100 * time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}
