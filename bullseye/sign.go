package bullseye

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Sign returns the vendor's signature of body: lowercase hex HMAC-SHA256,
// keyed with the secret's bytes as given (the seed docs' examples use the
// secret string as is, "whsec_" prefix included).
func Sign(secret string, body []byte) string {
	return hex.EncodeToString(mac(secret, body))
}

// Verify checks signature against body as a strict receiver does (the
// vendor's Python example: the exact lowercase hex, compared in constant
// time) and says what is wrong with it.
func Verify(secret string, body []byte, signature string) error {
	want := Sign(secret, body)
	switch {
	case signature == "":
		return errors.New("empty signature header")
	case len(signature) != len(want):
		return fmt.Errorf("signature has %d characters, want %d", len(signature), len(want))
	}
	if _, err := hex.DecodeString(signature); err != nil {
		return errors.New("signature is not hex")
	}
	if hmac.Equal([]byte(signature), []byte(want)) {
		return nil
	}
	if hmac.Equal([]byte(strings.ToLower(signature)), []byte(want)) {
		return errors.New("signature is uppercase hex; the vendor sends lowercase (a receiver that decodes the hex accepts it)")
	}
	return errors.New("signature does not match the body and secret")
}

func mac(secret string, body []byte) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write(body)
	return h.Sum(nil)
}

// Signer signs string bodies for one worker. It keeps the keyed HMAC of the
// last secret (synthetic traffic signs thousands of bodies with one secret)
// and feeds the body through a small reused buffer, so that signing a
// delivery allocates nothing and never copies the whole payload.
type Signer struct {
	secret string
	h      hash.Hash
	buf    [512]byte
	sum    [sha256.Size]byte
}

func (g *Signer) sign(secret, body string) string {
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
