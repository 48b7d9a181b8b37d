package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
)

// DefaultMaxBody is the documented request body limit; larger bodies get 413.
const DefaultMaxBody = 1 << 20

// decodeBody reads a JSON object into v, strictly: an empty body, bad JSON,
// a wrong type, an unknown field or trailing data is a BadRequest whose
// message names the problem, and a body over the limit is PayloadTooLarge.
func (s *Server) decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return Errorf(CodePayloadTooLarge, "request body is larger than the limit of %d bytes", tooBig.Limit).
				With("limit", tooBig.Limit)
		}
		return Errorf(CodeBadRequest, "could not read the request body: %v", err)
	}
	return decodeJSON(body, v)
}

func decodeJSON(body []byte, v any) error {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return Errorf(CodeBadRequest, "request body is empty: send a JSON object")
	}
	if trimmed[0] != '{' {
		return Errorf(CodeBadRequest, "request body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Errorf(CodeBadRequest, "request body has data after the JSON object")
	}
	return nil
}

// jsonError turns encoding/json's errors into messages a client can act on.
func jsonError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return Errorf(CodeBadRequest, "malformed JSON at byte %d: %v", syntax.Offset, syntax).With("offset", syntax.Offset)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "(body)"
		}
		return Errorf(CodeBadRequest, "field %q must be %s, got %s", field, jsonTypeName(typ.Type.Kind().String()), typ.Value).
			With("field", field)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return Errorf(CodeBadRequest, "malformed JSON: the body ends early")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return Errorf(CodeBadRequest, "unknown field %q", field).With("field", field)
	}
	return Errorf(CodeBadRequest, "malformed JSON: %v", err)
}

func jsonTypeName(kind string) string {
	switch kind {
	case "bool":
		return "a boolean"
	case "string":
		return "a string"
	case "int", "int64", "int32", "float64", "uint", "uint64":
		return "a number"
	case "map", "struct":
		return "an object"
	case "slice", "array":
		return "an array"
	}
	return kind
}
