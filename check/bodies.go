package check

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/bullseye-mock/bullseye-mock/fixtures"
)

// The bodies below are valid JSON meaning what a plain payload means, but
// their bytes are not what any JSON library would write back after parsing.
// A receiver that verifies the signature over the raw bytes accepts them; one
// that verifies a re-serialisation rejects them.

// patched merges patch over body, keeping body's bytes elsewhere and the
// patch's string escapes as written (MergePatch copies values verbatim).
func patched(body []byte, patch string) []byte {
	out, err := fixtures.MergePatch(body, []byte(patch))
	if err != nil {
		panic(fmt.Sprintf("check: patch %s: %v", patch, err)) // the patches are constants
	}
	return out
}

// escapedSlashes writes every "/" as "\/": legal JSON (PHP's json_encode
// writes it so), which no mainstream encoder re-emits. Every "/" of a compact
// payload is inside a string, so the swap is safe byte by byte.
func escapedSlashes(body []byte) []byte {
	return bytes.ReplaceAll(body, []byte("/"), []byte(`\/`))
}

// spaced puts unusual but legal whitespace (tabs, CRLF, spaces before
// colons) between every token, outside strings.
func spaced(body []byte) []byte {
	out := make([]byte, 0, len(body)*2)
	out = append(out, " \r\n"...)
	inString, escaped := false, false
	for _, c := range body {
		if inString {
			out = append(out, c)
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
			out = append(out, c)
		case '{', '[', ',':
			out = append(out, c, '\r', '\n', '\t', ' ')
		case ':':
			out = append(out, ' ', ':', '\t')
		case '}', ']':
			out = append(out, '\r', '\n', c)
		default:
			out = append(out, c)
		}
	}
	return append(out, "\r\n"...)
}

// reversedKeys writes the top-level members in reverse order, each value's
// bytes unchanged: what a receiver that decodes into a struct or a sorted map
// and encodes again cannot reproduce.
func reversedKeys(body []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		panic("check: payload is not a JSON object")
	}
	type member struct {
		key []byte
		val json.RawMessage
	}
	var ms []member
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			panic(fmt.Sprintf("check: payload key: %v", err))
		}
		k, _ := json.Marshal(t.(string))
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			panic(fmt.Sprintf("check: payload value: %v", err))
		}
		ms = append(ms, member{k, v})
	}
	out := []byte{'{'}
	for i := len(ms) - 1; i >= 0; i-- {
		out = append(out, ms[i].key...)
		out = append(out, ':')
		out = append(out, ms[i].val...)
		if i > 0 {
			out = append(out, ',')
		}
	}
	return append(out, '}')
}
