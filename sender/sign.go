package sender

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// SignatureHeader is the vendor's signature header.
const SignatureHeader = "X-Bullseye-Signature"

// Sign returns the vendor's signature of body: lowercase hex HMAC-SHA256,
// keyed with the secret's bytes as given (the seed docs' examples use the
// secret string as is, "whsec_" prefix included).
func Sign(secret string, body []byte) string {
	return hex.EncodeToString(mac(secret, body))
}

func mac(secret string, body []byte) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write(body)
	return h.Sum(nil)
}

// signer signs string bodies for one worker. It keeps the keyed HMAC of the
// last secret (synthetic traffic signs thousands of bodies with one secret)
// and feeds the body through a small reused buffer, so that signing a
// delivery allocates nothing and never copies the whole payload.
type signer struct {
	secret string
	h      hash.Hash
	buf    [512]byte
	sum    [sha256.Size]byte
}

func (g *signer) sign(secret, body string) string {
	if g.h == nil || secret != g.secret {
		g.h, g.secret = hmac.New(sha256.New, []byte(secret)), secret
	} else {
		g.h.Reset()
	}
	for len(body) > 0 {
		n := copy(g.buf[:], body)
		g.h.Write(g.buf[:n])
		body = body[n:]
	}
	return hex.EncodeToString(g.h.Sum(g.sum[:0]))
}

// apply is ApplyFault for a string body, through g. It returns body itself
// (no copy) as sent unless the fault changes the bytes; TestApplyFaultString
// holds it to ApplyFault's results.
func (g *signer) apply(f Fault, secret, body string) (sig string, ok bool, sent string) {
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
	names := make([]string, 0, 9)
	names = append(names, "none")
	for _, f := range Faults() {
		names = append(names, string(f))
	}
	return FaultNone, fmt.Errorf("unknown signature fault %q (want one of %s)", s, strings.Join(names, ", "))
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

// Reserialize returns body as a receiver that parses the JSON and dumps it
// again would see it: the output of Python's json.dumps with its defaults
// (", " and ": " separators, non-ASCII escaped as \uXXXX, key order kept;
// numbers are kept as written, where Python would print 2.50 as 2.5).
// This is the classic verification bug (signing the re-serialised object,
// not the raw bytes) that FaultReserialized exposes. A body that is not JSON,
// or that re-serialises to itself, gets a trailing newline instead, so the
// result always differs from body.
func Reserialize(body []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var out bytes.Buffer
	if err := reencode(dec, &out, 0); err != nil || dec.More() || !trailingSpaceOnly(dec) || bytes.Equal(out.Bytes(), body) {
		r := make([]byte, len(body)+1)
		copy(r, body)
		r[len(body)] = '\n'
		return r
	}
	return out.Bytes()
}

func trailingSpaceOnly(dec *json.Decoder) bool {
	_, err := dec.Token()
	return err != nil // io.EOF when nothing but whitespace follows
}

// maxDepth bounds nesting so that hostile input cannot exhaust the stack.
const maxDepth = 1000

func reencode(dec *json.Decoder, out *bytes.Buffer, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("json nested deeper than %d", maxDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		closing := byte(']')
		if t == '{' {
			closing = '}'
		}
		out.WriteByte(byte(t))
		for first := true; dec.More(); first = false {
			if !first {
				out.WriteString(", ")
			}
			if t == '{' {
				key, err := dec.Token()
				if err != nil {
					return err
				}
				k, isString := key.(string)
				if !isString {
					return fmt.Errorf("json object key is %T", key)
				}
				pyString(out, k)
				out.WriteString(": ")
			}
			if err := reencode(dec, out, depth+1); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return err
		}
		out.WriteByte(closing)
	case string:
		pyString(out, t)
	case json.Number:
		out.WriteString(t.String())
	case bool:
		out.WriteString(strconv.FormatBool(t))
	case nil:
		out.WriteString("null")
	}
	return nil
}

// pyString writes s the way Python's json.dumps (ensure_ascii=True) does.
func pyString(out *bytes.Buffer, s string) {
	const hexDigits = "0123456789abcdef"
	u := func(r rune) {
		out.WriteString(`\u`)
		out.WriteByte(hexDigits[r>>12&0xf])
		out.WriteByte(hexDigits[r>>8&0xf])
		out.WriteByte(hexDigits[r>>4&0xf])
		out.WriteByte(hexDigits[r&0xf])
	}
	out.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			out.WriteString(`\"`)
		case r == '\\':
			out.WriteString(`\\`)
		case r == '\n':
			out.WriteString(`\n`)
		case r == '\r':
			out.WriteString(`\r`)
		case r == '\t':
			out.WriteString(`\t`)
		case r == '\b':
			out.WriteString(`\b`)
		case r == '\f':
			out.WriteString(`\f`)
		case r < 0x20 || (r >= 0x7f && r < 0x10000):
			u(r)
		case r >= 0x10000 && r <= utf8.MaxRune:
			r1, r2 := utf16.EncodeRune(r)
			u(r1)
			u(r2)
		default:
			out.WriteRune(r)
		}
	}
	out.WriteByte('"')
}
