// Package naive is a Bullseye webhook receiver with selectable flaws, each
// a bug real receivers have. The check battery's tests run against it to show
// that every flaw is reported by the case meant to catch it, with a message
// that names the cause. With no flaw selected it is a correct receiver.
//
// Do not copy it: the receivers in the sibling directories are the ones to
// start from.
package naive

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/fixtures"
)

// Flaws selects the bugs the receiver has.
type Flaws struct {
	// Reserialize verifies the signature over the parsed JSON encoded again
	// (order kept, Go's escaping) instead of the raw bytes: it works for
	// every body Go itself would write, and fails on escaped unicode,
	// escaped slashes and unusual whitespace.
	Reserialize bool
	// MissingSignature500 reads the header as if it were always there and
	// crashes (500) when it is not.
	MissingSignature500 bool
	// StrictFields decodes with DisallowUnknownFields and answers 400 to a
	// field the vendor does not document.
	StrictFields bool
	// Conflict answers 409 to a session_id it has already seen.
	Conflict bool
	// Slow processes the event before answering, taking this long.
	Slow time.Duration
	// SkipVerification accepts any request, signed or not.
	SkipVerification bool
	// CaseInsensitive compares signatures with strings.EqualFold, so it
	// accepts uppercase hex (and leaks timing).
	CaseInsensitive bool
}

// Handler returns the receiver for secret with the flaws f.
func Handler(secret string, f Flaws) http.Handler {
	var mu sync.Mutex
	seen := map[string]bool{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "reading body", http.StatusBadRequest)
			return
		}
		sigs := r.Header.Values("X-Bullseye-Signature")
		switch {
		case f.SkipVerification:
		case len(sigs) == 0:
			if f.MissingSignature500 {
				http.Error(w, "KeyError: 'x-bullseye-signature'", http.StatusInternalServerError)
				return
			}
			http.Error(w, "missing signature", http.StatusUnauthorized)
			return
		default:
			if status, msg := verify(secret, f, sigs[0], body); status != 0 {
				http.Error(w, msg, status)
				return
			}
		}
		if f.StrictFields {
			if err := strictDecode(body); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
		}
		key, err := fixtures.SessionID(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		dup := seen[key]
		seen[key] = true
		mu.Unlock()
		if dup && f.Conflict {
			http.Error(w, "duplicate session_id "+key, http.StatusConflict)
			return
		}
		if f.Slow > 0 {
			select {
			case <-time.After(f.Slow):
			case <-r.Context().Done():
				return
			}
		}
		w.Write([]byte(`{"ok":true}`))
	})
}

// verify checks sig the way f says; a zero status means it matches.
func verify(secret string, f Flaws, sig string, body []byte) (status int, msg string) {
	signed := body
	if f.Reserialize {
		var err error
		if signed, err = reencode(body); err != nil {
			return http.StatusBadRequest, "invalid JSON"
		}
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(signed)
	want := hex.EncodeToString(mac.Sum(nil))
	ok := hmac.Equal([]byte(sig), []byte(want))
	if f.CaseInsensitive {
		ok = strings.EqualFold(sig, want)
	}
	if !ok {
		return http.StatusUnauthorized, "bad signature"
	}
	return 0, ""
}

// strictDecode decodes body into the payload type its event names,
// refusing any field the type does not have.
func strictDecode(body []byte) error {
	var head struct {
		EventType string `json:"event_type"`
		Event     string `json:"event"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return err
	}
	var v any
	switch {
	case head.EventType == bullseye.EventVisitorIdentified:
		v = new(fixtures.Identification)
	case head.Event == bullseye.EventVisitorIdentified:
		v = new(fixtures.IdentificationShort)
	default:
		v = new(fixtures.Billing)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// reencode parses body and writes it back compact, keys in their order,
// numbers as written and strings as Go's encoder writes them.
func reencode(body []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var out bytes.Buffer
	type level struct {
		object bool
		n      int
	}
	var stack []level
	sep := func() {
		if len(stack) == 0 {
			return
		}
		top := &stack[len(stack)-1]
		switch {
		case top.object && top.n%2 == 1:
			out.WriteByte(':')
		case top.n > 0:
			out.WriteByte(',')
		}
		top.n++
	}
	for {
		t, err := dec.Token()
		if err == io.EOF {
			return out.Bytes(), nil
		}
		if err != nil {
			return nil, err
		}
		switch t := t.(type) {
		case json.Delim:
			if t == '{' || t == '[' {
				sep()
				stack = append(stack, level{object: t == '{'})
			} else {
				stack = stack[:len(stack)-1]
			}
			out.WriteRune(rune(t))
		case string:
			sep()
			enc := json.NewEncoder(&out)
			enc.SetEscapeHTML(false)
			enc.Encode(t)
			out.Truncate(out.Len() - 1) // Encode's newline
		case json.Number:
			sep()
			out.WriteString(string(t))
		case nil:
			sep()
			out.WriteString("null")
		default:
			sep()
			fmt.Fprint(&out, t)
		}
	}
}
