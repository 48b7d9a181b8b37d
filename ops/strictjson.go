package ops

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// checkJSON refuses what encoding/json lets through silently: a key given
// twice in one object (it keeps the last) and invalid UTF-8 (it stores
// U+FFFD). Both are the client's mistake, and the mock would store
// something other than what was sent, so they are 400s naming the field.
// Syntax errors are left to the decoder, which words them better.
func checkJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var stack []*frame
	prev := int64(0)
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // the end, or a syntax error the decoder reports
		}
		cur := dec.InputOffset()
		span := data[prev:cur]
		prev = cur
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		key := false
		if s, ok := tok.(string); ok && top != nil && top.object && top.wantKey {
			key = true
			if top.keys[s] {
				return fieldErr(pathOf(stack, s), "field %q is given twice in one object; give it once", s)
			}
			top.keys[s], top.key, top.wantKey = true, s, false
		}
		if !utf8.Valid(span) {
			field := pathOf(stack, "")
			if key {
				field = pathOf(stack[:len(stack)-1], "")
			}
			return fieldErr(field, "%s holds invalid UTF-8 (byte %d); send UTF-8 text", nameOr(field, "the body"), firstInvalid(data))
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{object: true, wantKey: true, keys: map[string]bool{}})
			continue
		case json.Delim('['):
			stack = append(stack, &frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		default:
			if key {
				continue
			}
		}
		if len(stack) > 0 { // a value ended: the parent moves on
			top := stack[len(stack)-1]
			if top.object {
				top.wantKey = true
			} else {
				top.index++
			}
		}
	}
}

// frame is one open object or array while walking a body.
type frame struct {
	object  bool
	wantKey bool
	key     string // the key whose value is being read
	keys    map[string]bool
	index   int
}

// pathOf writes the path to the value being read ("faults[0].share"),
// with last appended as a key when set.
func pathOf(stack []*frame, last string) string {
	var b []byte
	for i, f := range stack {
		switch {
		case f.object && i < len(stack)-1, f.object && last == "" && !f.wantKey:
			if len(b) > 0 {
				b = append(b, '.')
			}
			b = append(b, f.key...)
		case !f.object:
			b = append(b, '[')
			b = strconv.AppendInt(b, int64(f.index), 10)
			b = append(b, ']')
		}
	}
	if last != "" {
		if len(b) > 0 {
			b = append(b, '.')
		}
		b = append(b, last...)
	}
	return string(b)
}

// firstInvalid is the offset of the first byte that is not UTF-8.
func firstInvalid(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}
