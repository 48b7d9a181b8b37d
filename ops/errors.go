package ops

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"
)

// FieldError is a request the mock refuses, tagged with the field at fault
// ("faults[0].signature", "policy.timeout", "count"). Each surface renders
// it its own way: the control API as a 400 with details.field, a scenario
// file as file:line:col, the CLI under its flag's name. The message is the
// same on every surface.
type FieldError struct {
	Field string // a path into the request; "" for the request as a whole
	Msg   string
}

func (e *FieldError) Error() string { return e.Msg }

func fieldErr(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Errors callers map to statuses (server/errors.go holds the one table).
var (
	// ErrNotFound: no such delivery, partner or organization.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the request cannot be done in the mock's current state
	// (a clock that is not manual, a mock shutting down).
	ErrConflict = errors.New("conflict")
)

// Decode reads a JSON object strictly into v: an empty body, bad JSON, a
// value of the wrong type, an unknown field or trailing data is a
// FieldError that names the problem (and the field), so that a typo is
// loud. Every JSON body of the mock and every scenario step is read by it.
func Decode(data []byte, v any) error {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return fieldErr("", "request body is empty: send a JSON object")
	}
	if trimmed[0] != '{' {
		return fieldErr("", "request body must be a JSON object")
	}
	if err := checkJSON(data); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonFieldError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fieldErr("", "request body has data after the JSON object")
	}
	return nil
}

// jsonFieldError turns encoding/json's errors into messages a client can
// act on.
func jsonFieldError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var fe *FieldError
	switch {
	case errors.As(err, &syntax):
		return fieldErr("", "malformed JSON at byte %d: %v", syntax.Offset, syntax)
	case errors.As(err, &typ):
		field := jsonPath(typ.Field)
		return fieldErr(field, "field %q must be %s, got %s", nameOr(field, "(body)"), jsonTypeName(typ.Type), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fieldErr("", "malformed JSON: the body ends early")
	case errors.As(err, &fe):
		return fe
	}
	if m := unknownFieldRE.FindStringSubmatch(err.Error()); m != nil {
		return fieldErr(jsonPath(m[1]), "unknown field %q", m[1])
	}
	// A custom UnmarshalJSON's message (a duration, a share, a duplicate).
	return fieldErr("", "%s", strings.TrimPrefix(err.Error(), "json: "))
}

var unknownFieldRE = regexp.MustCompile(`^json: unknown field "(.*)"$`)

func nameOr(field, alt string) string {
	if field == "" {
		return alt
	}
	return field
}

// jsonPath turns encoding/json's "faults.0.share" into "faults[0].share".
func jsonPath(p string) string {
	var b strings.Builder
	for _, part := range strings.Split(p, ".") {
		if part == "" {
			continue
		}
		if _, err := strconv.Atoi(part); err == nil {
			fmt.Fprintf(&b, "[%s]", part)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(part)
	}
	return b.String()
}

func jsonTypeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean"
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Float64, reflect.Uint, reflect.Uint64:
		return "a number"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return t.Kind().String()
}

// Nearest suggests the word of known closest to a typo, when it is close
// enough to be what was meant; "" otherwise.
func Nearest(s string, known []string) string {
	best, bestD := "", len(s)+100
	for _, k := range known {
		if d := levenshtein(strings.ToLower(s), k); d < bestD {
			best, bestD = k, d
		}
	}
	if bestD <= max(2, len(s)/2) {
		return best
	}
	return ""
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
