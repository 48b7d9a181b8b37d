package bullseye

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
)

// pythonVerify mirrors the seed docs' Python verification:
//
//	expected = hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()
//	return hmac.compare_digest(expected, signature)
//
// It is written against crypto/hmac directly, not through Sign, so that it
// is an independent oracle.
func pythonVerify(payload []byte, signature, secret string) bool {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write(payload)
	expected := hex.EncodeToString(h.Sum(nil))
	return hmac.Equal([]byte(expected), []byte(signature))
}

// nodeVerify mirrors the seed docs' Node verification:
//
//	crypto.timingSafeEqual(Buffer.from(signature, 'hex'), Buffer.from(expected, 'hex'))
//
// Buffer.from(s, 'hex') decodes pairs of hex digits up to the first pair
// that is not hex; timingSafeEqual throws on a length mismatch, which a
// receiver turns into a rejection.
func nodeVerify(payload []byte, signature, secret string) bool {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write(payload)
	var got []byte
	for i := 0; i+1 < len(signature); i += 2 {
		b, err := hex.DecodeString(signature[i : i+2])
		if err != nil {
			break
		}
		got = append(got, b...)
	}
	want := h.Sum(nil)
	return len(got) == len(want) && hmac.Equal(got, want)
}

// Known answers computed outside Go, with the seed docs' own snippets
// (Python hmac/hashlib; the first also with Node's crypto), plus RFC 4231
// test case 2.
func TestSignKnownAnswers(t *testing.T) {
	for _, tc := range []struct {
		secret, body, want string
	}{
		{"whsec_your_webhook_secret", `{"event_type":"visitor.identified","timestamp":"2025-01-15T10:30:00Z","organization_id":"uuid"}`,
			"5e6ab9bb038e8586682803485d950b49b3802860b7ef61aae5cbce9b5c5d8761"},
		{"Jefe", "what do ya want for nothing?", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
		{"", "{}", "22f8eea909400af98adf3681a9f31923ef6b7fcba4abb553d92823a3e9d5c25e"},
		{"sécrêt 🔑", `{"a":"é"}`, "ebb1becdb2b9c554e73c5cf785db792aa18fdbb6e79a43af156065e6bace2095"},
	} {
		got := Sign(tc.secret, []byte(tc.body))
		if got != tc.want {
			t.Errorf("Sign(%q, %q) = %s, want %s", tc.secret, tc.body, got, tc.want)
		}
		if !pythonVerify([]byte(tc.body), got, tc.secret) || !nodeVerify([]byte(tc.body), got, tc.secret) {
			t.Errorf("oracles reject Sign(%q, %q)", tc.secret, tc.body)
		}
	}
}

func TestSignTampered(t *testing.T) {
	body := []byte(`{"session_id":"s1","visitor":{"email":"john@acme.com"}}`)
	sig := Sign("whsec_k", body)
	for name, tc := range map[string]struct {
		body   []byte
		sig    string
		secret string
	}{
		"body byte flipped": {bytes.Replace(body, []byte("john"), []byte("jane"), 1), sig, "whsec_k"},
		"trailing newline":  {append(append([]byte(nil), body...), '\n'), sig, "whsec_k"},
		"other secret":      {body, sig, "whsec_K"},
		"secret prefix off": {body, sig, "k"},
		"sig digit flipped": {body, flip(sig), "whsec_k"},
		"sig uppercase":     {body, strings.ToUpper(sig), "whsec_k"},
		"sig truncated":     {body, sig[:63], "whsec_k"},
	} {
		if pythonVerify(tc.body, tc.sig, tc.secret) {
			t.Errorf("%s: python oracle accepts a tampered delivery", name)
		}
	}
	if !pythonVerify(body, sig, "whsec_k") {
		t.Fatal("oracle rejects the untampered delivery")
	}
}

func flip(sig string) string {
	b := []byte(sig)
	if b[0] == '0' {
		b[0] = '1'
	} else {
		b[0] = '0'
	}
	return string(b)
}

func TestParseFault(t *testing.T) {
	for _, f := range Faults() {
		got, err := ParseFault(string(f))
		if err != nil || got != f {
			t.Errorf("ParseFault(%q) = %q, %v", f, got, err)
		}
		alt := strings.ToUpper(strings.ReplaceAll(string(f), "_", "-"))
		if got, err := ParseFault(" " + alt + " "); err != nil || got != f {
			t.Errorf("ParseFault(%q) = %q, %v", alt, got, err)
		}
	}
	for _, s := range []string{"", "none", "NONE"} {
		if got, err := ParseFault(s); err != nil || got != FaultNone {
			t.Errorf("ParseFault(%q) = %q, %v", s, got, err)
		}
	}
	for _, s := range []string{"bogus", "wrong secret", "missing!", "\x00"} {
		if _, err := ParseFault(s); err == nil || !strings.Contains(err.Error(), "wrong_secret") {
			t.Errorf("ParseFault(%q): error %v should list the valid names", s, err)
		}
	}
}

// TestApplyFault checks every fault by what a receiver verifying with the
// seed docs' logic sees: all are rejected, each in its own way.
func TestApplyFault(t *testing.T) {
	const secret = "whsec_your_webhook_secret"
	body := []byte(`{"event_type":"visitor.identified","session_id":"s1","visitor":{"name":"Zoë"}}`)
	right := Sign(secret, body)

	sig, ok, sent := ApplyFault(FaultNone, secret, body)
	if !ok || sig != right || !bytes.Equal(sent, body) || !pythonVerify(sent, sig, secret) {
		t.Fatalf("no fault: got %q %v %q", sig, ok, sent)
	}
	if sig, ok, sent := ApplyFault(FaultNone, "", body); ok || sig != "" || !bytes.Equal(sent, body) {
		t.Fatalf("no secret: want no header, got %q %v", sig, ok)
	}

	for _, f := range Faults() {
		sig, ok, sent := ApplyFault(f, secret, body)
		if ok && pythonVerify(sent, sig, secret) {
			t.Errorf("%s: the Python verifier accepts it", f)
		}
		// Node's example decodes the hex before comparing, so it accepts
		// uppercase hex; every other fault fails there too. That difference
		// is what the uppercase fault exists to show.
		if ok && nodeVerify(sent, sig, secret) != (f == FaultUppercase) {
			t.Errorf("%s: the Node verifier's verdict is %v", f, !(f == FaultUppercase))
		}
		hexOnly := strings.Trim(sig, "0123456789abcdef") == ""
		switch f {
		case FaultWrongSecret:
			if !ok || sig != Sign(WrongSecretPrefix+secret, body) || !hexOnly || len(sig) != 64 {
				t.Errorf("%s: %q", f, sig)
			}
		case FaultMissing:
			if ok {
				t.Errorf("%s: header sent", f)
			}
		case FaultEmpty:
			if !ok || sig != "" {
				t.Errorf("%s: %q %v", f, sig, ok)
			}
		case FaultNonHex:
			if !ok || len(sig) != 64 || strings.ContainsAny(sig, "0123456789abcdefABCDEF") {
				t.Errorf("%s: %q", f, sig)
			}
		case FaultTruncated:
			if !ok || sig != right[:32] {
				t.Errorf("%s: %q", f, sig)
			}
		case FaultUppercase:
			if !ok || sig != strings.ToUpper(right) || sig == right {
				t.Errorf("%s: %q", f, sig)
			}
		case FaultOtherBytes:
			var v map[string]any
			if !ok || sig != right || bytes.Equal(sent, body) || json.Unmarshal(sent, &v) != nil || v["bullseye_mock_tampered"] != true {
				t.Errorf("%s: %q %s", f, sig, sent)
			}
		case FaultReserialized:
			want := `{"event_type": "visitor.identified", "session_id": "s1", "visitor": {"name": "Zo\u00eb"}}`
			if !ok || !bytes.Equal(sent, body) || !pythonVerify([]byte(want), sig, secret) {
				t.Errorf("%s: %q does not sign the re-serialised body", f, sig)
			}
		}
		if f != FaultOtherBytes && !bytes.Equal(sent, body) {
			t.Errorf("%s: body changed", f)
		}
	}
}

// TestApplyFaultString holds the workers' allocation-free signer to
// ApplyFault, with the secret changing between calls so its cache is hit
// and missed.
func TestApplyFaultString(t *testing.T) {
	var g Signer
	body := `{"a":"` + strings.Repeat("x", 1500) + `"}`
	for _, secret := range []string{"s1", "s1", "", "s2", "s1"} {
		for _, f := range append(Faults(), FaultNone) {
			wantSig, wantOK, wantSent := ApplyFault(f, secret, []byte(body))
			sig, ok, sent := g.Apply(f, secret, body)
			if sig != wantSig || ok != wantOK || sent != string(wantSent) {
				t.Errorf("%q/%s: got %q %v, want %q %v", secret, f, sig, ok, wantSig, wantOK)
			}
		}
	}
}

func TestReserializeMatchesPython(t *testing.T) {
	for in, want := range map[string]string{
		// Output of Python 3: json.dumps(json.loads(in)).
		`{"b":[1,2.5,{"x":null}],"a":"é\u2028<>&\ud83d\ude00","t":true}`: `{"b": [1, 2.5, {"x": null}], "a": "\u00e9\u2028<>&\ud83d\ude00", "t": true}`,
		"{\n  \"a\" : [ ] ,\"b\":{}}\n":                                  `{"a": [], "b": {}}`,
		`"tab\tquote\"sl\/ash é"`:                                        `"tab\tquote\"sl/ash \u00e9"`,
	} {
		if got := string(Reserialize([]byte(in))); got != want {
			t.Errorf("Reserialize(%q) = %q, want %q", in, got, want)
		}
	}
	for _, in := range []string{`{"a":1}x`, `not json`, `{}`, `1`, `{"a":`} {
		if got := string(Reserialize([]byte(in))); got != in+"\n" {
			t.Errorf("Reserialize(%q) = %q, want the body plus a newline", in, got)
		}
	}
}

func TestTamper(t *testing.T) {
	for in, want := range map[string]string{
		`{"a":1}`:  `{"bullseye_mock_tampered":true,"a":1}`,
		` { } `:    ` {"bullseye_mock_tampered":true } `,
		`[1]`:      "[1]\n",
		``:         "\n",
		"  {\n}\n": "  {\"bullseye_mock_tampered\":true\n}\n",
	} {
		if got := string(tamper([]byte(in))); got != want {
			t.Errorf("tamper(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParseFault(f *testing.F) {
	for _, x := range Faults() {
		f.Add(string(x))
	}
	f.Add("none")
	f.Add("Wrong-Secret")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseFault(s)
		if err != nil {
			return
		}
		// Whatever parses is a known fault and parses back to itself.
		back, err := ParseFault(string(got))
		if err != nil || back != got {
			t.Fatalf("ParseFault(%q) = %q, which parses to %q, %v", s, got, back, err)
		}
	})
}

// FuzzApplyFault feeds arbitrary bodies (the fault functions parse them as
// JSON) and checks the invariants of every fault.
func FuzzApplyFault(f *testing.F) {
	f.Add("whsec_x", []byte(`{"a":[1,{"b":"\u00e9"}]}`))
	f.Add("", []byte(`{}`))
	f.Add("k", []byte("\xff\xfe not json"))
	f.Add("k", []byte(strings.Repeat("[", 2000)+strings.Repeat("]", 2000)))
	f.Fuzz(func(t *testing.T, secret string, body []byte) {
		right := Sign(secret, body)
		for _, fault := range append(Faults(), FaultNone) {
			sig, ok, sent := ApplyFault(fault, secret, body)
			if fault == FaultOtherBytes || fault == FaultReserialized {
				if fault == FaultOtherBytes && bytes.Equal(sent, body) {
					t.Fatalf("%s: body unchanged", fault)
				}
				if bytes.Equal(Reserialize(body), body) {
					t.Fatalf("Reserialize returned the body unchanged")
				}
			}
			if ok && fault != FaultNone && fault != FaultEmpty && fault != FaultTruncated && len(sig) != 64 {
				t.Fatalf("%s: signature length %d", fault, len(sig))
			}
			if fault != FaultNone && ok && pythonVerify(sent, sig, secret) {
				t.Fatalf("%s: verifies", fault)
			}
			if fault == FaultNone && secret != "" && sig != right {
				t.Fatalf("no fault: wrong signature")
			}
		}
	})
}

// Verify accepts the right signature only, and says why it refuses each
// fault's.
func TestVerify(t *testing.T) {
	body := []byte(`{"event_type":"visitor.identified","n":1}`)
	const secret = "whsec_test"
	if err := Verify(secret, body, Sign(secret, body)); err != nil {
		t.Fatalf("the right signature: %v", err)
	}
	for _, f := range Faults() {
		sig, ok, sent := ApplyFault(f, secret, body)
		if !ok {
			continue // no header: nothing to verify
		}
		err := Verify(secret, sent, sig)
		if err == nil {
			t.Errorf("%s: accepted", f)
			continue
		}
		if f == FaultUppercase && !strings.Contains(err.Error(), "uppercase") {
			t.Errorf("%s: %v, want it to say uppercase", f, err)
		}
	}
}
