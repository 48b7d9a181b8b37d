package bullseye

import (
	"fmt"
	"strings"
)

// Fault is a deliberate signature fault, for testing a receiver's verification.
type Fault string

// The signature faults of the design. Each still sends the delivery; only the
// X-Bullseye-Signature header (or, for FaultOtherBytes, the body) is wrong.
const (
	FaultNone         Fault = ""
	FaultWrongSecret  Fault = "wrong_secret" // signed with another secret
	FaultMissing      Fault = "missing"      // no header at all
	FaultEmpty        Fault = "empty"        // header present, empty value
	FaultNonHex       Fault = "non_hex"      // right length, not hex
	FaultTruncated    Fault = "truncated"    // a prefix of the right signature
	FaultUppercase    Fault = "uppercase"    // right signature in uppercase hex
	FaultOtherBytes   Fault = "other_bytes"  // body changed after signing
	FaultReserialized Fault = "reserialized" // signature of a re-serialised body (whitespace/escaping differ)
)

// Apply is ApplyFault for a string body, through g. It returns body itself
// (no copy) as sent unless the fault changes the bytes; TestApplyFaultString
// holds it to ApplyFault's results.
func (g *Signer) Apply(f Fault, secret, body string) (sig string, ok bool, sent string) {
	switch f {
	case FaultNone:
		if secret == "" {
			return "", false, body
		}
		return g.sign(secret, body), true, body
	case FaultMissing:
		return "", false, body
	case FaultEmpty:
		return "", true, body
	case FaultOtherBytes:
		return g.sign(secret, body), true, string(tamper([]byte(body)))
	}
	sig, ok, _ = ApplyFault(f, secret, []byte(body)) // the remaining faults keep the body
	return sig, ok, body
}

// Faults lists the signature faults, FaultNone excluded, in a stable order.
func Faults() []Fault {
	return []Fault{FaultWrongSecret, FaultMissing, FaultEmpty, FaultNonHex, FaultTruncated,
		FaultUppercase, FaultOtherBytes, FaultReserialized}
}

// MayBeAccepted reports whether a receiver that verifies signatures as the
// vendor documents may accept a delivery with fault f. Every fault must be
// rejected but FaultUppercase: its signature has the right bytes, and the
// vendor's own Node.js example (Buffer.from(sig, 'hex')) decodes hex and
// so accepts it, while the Python example (compare_digest on the hex
// strings) rejects it. Both conform, so every surface (check, scenario
// expectations) calls an accepted uppercase signature a note, never a
// failure.
func (f Fault) MayBeAccepted() bool { return f == FaultUppercase }

// FaultNames lists the faults' names, in the order of Faults.
func FaultNames() []string {
	var out []string
	for _, f := range Faults() {
		out = append(out, string(f))
	}
	return out
}

// ParseFault reads a fault name as written in flags, scenario files and the
// control API. "" and "none" are FaultNone; names are case-insensitive and
// accept '-' for '_' ("wrong-secret").
func ParseFault(s string) (Fault, error) {
	norm := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "-", "_")
	if norm == "" || norm == "none" {
		return FaultNone, nil
	}
	for _, f := range Faults() {
		if string(f) == norm {
			return f, nil
		}
	}
	return FaultNone, fmt.Errorf("unknown signature fault %q, expected one of none, %s", s, strings.Join(FaultNames(), ", "))
}

// WrongSecretPrefix is prepended to the real secret to sign FaultWrongSecret
// deliveries, so the wrong key is always different from the right one.
const WrongSecretPrefix = "bullseye-mock-wrong-secret:"

// tamperField is inserted into a JSON object body by FaultOtherBytes.
const tamperField = `"bullseye_mock_tampered":true`

// ApplyFault returns what a delivery of body with fault f sends: the
// signature header value (ok=false: no header at all) and the body bytes.
//
// Without a fault, a delivery with no secret carries no header (the vendor's
// behaviour). A fault is a deliberate request, so faults other than
// FaultMissing always send a header, computed with the secret as given even
// when it is empty. sent aliases body unless the fault changes the body.
func ApplyFault(f Fault, secret string, body []byte) (sig string, ok bool, sent []byte) {
	switch f {
	case FaultMissing:
		return "", false, body
	case FaultEmpty:
		return "", true, body
	case FaultWrongSecret:
		return Sign(WrongSecretPrefix+secret, body), true, body
	case FaultNonHex:
		return nonHex(Sign(secret, body)), true, body
	case FaultTruncated:
		return Sign(secret, body)[:32], true, body
	case FaultUppercase:
		return strings.ToUpper(Sign(secret, body)), true, body
	case FaultOtherBytes:
		return Sign(secret, body), true, tamper(body)
	case FaultReserialized:
		return Sign(secret, Reserialize(body)), true, body
	}
	if secret == "" {
		return "", false, body
	}
	return Sign(secret, body), true, body
}

// nonHex maps each hex digit to a letter past 'f', one to one, so the value
// keeps the right length and shape but no character of it is hex.
func nonHex(sig string) string {
	b := []byte(sig)
	for i, c := range b {
		switch {
		case c >= '0' && c <= '9':
			b[i] = 'g' + (c - '0') // g..p
		case c >= 'a' && c <= 'f':
			b[i] = 'q' + (c - 'a') // q..v
		}
	}
	return string(b)
}

// tamper returns body changed after signing, in a way a JSON parser still
// accepts, so a receiver that skips verification processes it happily: a
// field is added at the front of a JSON object; any other body gets a
// trailing newline.
func tamper(body []byte) []byte {
	i := 0
	for i < len(body) && isJSONSpace(body[i]) {
		i++
	}
	if i == len(body) || body[i] != '{' {
		out := make([]byte, len(body)+1)
		copy(out, body)
		out[len(body)] = '\n'
		return out
	}
	j := i + 1
	for j < len(body) && isJSONSpace(body[j]) {
		j++
	}
	sep := ","
	if j < len(body) && body[j] == '}' {
		sep = ""
	}
	out := make([]byte, 0, len(body)+len(tamperField)+1)
	out = append(out, body[:i+1]...)
	out = append(out, tamperField...)
	out = append(out, sep...)
	out = append(out, body[i+1:]...)
	return out
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
