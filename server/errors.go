package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/bullseye-mock/bullseye-mock/ops"
	"github.com/bullseye-mock/bullseye-mock/store"
)

// Error codes of the vendor's error JSON. The first four and the 422 are the
// vendor's; the others name the statuses the vendor documents without a code.
const (
	CodeBadRequest       = "BadRequest"
	CodeUnauthorized     = "Unauthorized"
	CodeForbidden        = "Forbidden" // the mock's choice: the vendor documents scopes, not the status
	CodeNotFound         = "NotFound"
	CodeMethodNotAllowed = "MethodNotAllowed"
	CodeConflict         = "Conflict"
	CodePayloadTooLarge  = "PayloadTooLarge"
	CodeUnprocessable    = "UnprocessableEntity"
	CodeTooManyRequests  = "TooManyRequests"
	CodeInternalError    = "InternalError"
)

var statusCodes = map[string]int{
	CodeBadRequest:       http.StatusBadRequest,
	CodeUnauthorized:     http.StatusUnauthorized,
	CodeForbidden:        http.StatusForbidden,
	CodeNotFound:         http.StatusNotFound,
	CodeMethodNotAllowed: http.StatusMethodNotAllowed,
	CodeConflict:         http.StatusConflict,
	CodePayloadTooLarge:  http.StatusRequestEntityTooLarge,
	CodeUnprocessable:    http.StatusUnprocessableEntity,
	CodeTooManyRequests:  http.StatusTooManyRequests,
	CodeInternalError:    http.StatusInternalServerError,
}

// codeOf names a status as the error JSON's code: the vendor's code where
// it has one, else the status text without spaces ("ServiceUnavailable").
func codeOf(status int) string {
	for code, st := range statusCodes {
		if st == status {
			return code
		}
	}
	if text := http.StatusText(status); text != "" {
		return strings.ReplaceAll(strings.ReplaceAll(text, " ", ""), "-", "")
	}
	return "Status" + strconv.Itoa(status) // a status without a name, such as 499
}

// Error is the one error type handlers return; its JSON is the vendor's
// {"code", "message", "details"}.
type Error struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Status is the HTTP status of the error's code.
func (e *Error) Status() int {
	if s, ok := statusCodes[e.Code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Errorf builds an Error with a formatted message and no details.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Details: map[string]any{}}
}

// With returns the error with one more detail.
func (e *Error) With(key string, value any) *Error {
	d := make(map[string]any, len(e.Details)+1)
	for k, v := range e.Details {
		d[k] = v
	}
	d[key] = value
	return &Error{Code: e.Code, Message: e.Message, Details: d}
}

// toError maps any error to the vendor's error JSON: this is the one table
// from the layers' errors to statuses. Anything unknown is an internal
// error whose text is not shown to the client.
func toError(err error) *Error {
	var e *Error
	var fe *ops.FieldError
	var be *ops.BudgetError
	switch {
	case errors.As(err, &e):
		return e
	case errors.As(err, &be):
		code := CodeTooManyRequests
		if be.Whole {
			code = CodeBadRequest
		}
		e = Errorf(code, "%v", be).With("budget", be.Budget).With("limit", be.Limit).With("pending", be.Pending).With("need", be.Need)
		if be.Whole {
			e = e.With("field", "count")
		}
		return e
	case errors.As(err, &fe):
		e = Errorf(CodeBadRequest, "%s", fe.Msg)
		if fe.Field != "" {
			e = e.With("field", fe.Field)
		}
		return e
	case errors.Is(err, ops.ErrNotFound), errors.Is(err, store.ErrNotFound):
		return Errorf(CodeNotFound, "%v", trimSentinel(err))
	case errors.Is(err, ops.ErrConflict), errors.Is(err, store.ErrConflict):
		return Errorf(CodeConflict, "%v", trimSentinel(err))
	case errors.Is(err, ops.ErrBusy):
		return Errorf(CodeTooManyRequests, "%s", strings.TrimSuffix(err.Error(), ": "+ops.ErrBusy.Error()))
	case errors.Is(err, store.ErrOverPool):
		return Errorf(CodeUnprocessable, "%v", err)
	}
	return Errorf(CodeInternalError, "internal error")
}

// trimSentinel drops the ": not found" or ": conflict" that wrapping a
// sentinel adds, which says nothing the status does not.
func trimSentinel(err error) string {
	msg := err.Error()
	for _, s := range []error{ops.ErrNotFound, ops.ErrConflict} {
		msg = strings.TrimSuffix(msg, ": "+s.Error())
	}
	return msg
}

// withDetail is err as the vendor's error JSON with one more detail.
func withDetail(err error, key string, value any) error {
	e := toError(err)
	if e.Code == CodeInternalError {
		return e
	}
	return e.With(key, value)
}

// asParameter renders a FieldError about a query parameter: its detail is
// "parameter", not "field".
func asParameter(err error) error {
	var fe *ops.FieldError
	if errors.As(err, &fe) {
		e := Errorf(CodeBadRequest, "%s", fe.Msg)
		if fe.Field != "" {
			e = e.With("parameter", fe.Field).With("field", fe.Field)
		}
		return e
	}
	return err
}

// writeError writes err as the vendor's error JSON. A 429 says when to
// come back: the rate limit sets its own Retry-After; a full budget drains
// within moments.
func writeError(w http.ResponseWriter, err error) {
	e := toError(err)
	if e.Code == CodeTooManyRequests && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, e.Status(), e)
}

// Header values set on every JSON answer, shared to spare an allocation
// per response; nothing appends to them.
var (
	jsonContentType = []string{"application/json; charset=utf-8"}
	nosniff         = []string{"nosniff"}
)

// writeJSON writes v with its status. http.Error is never used: it would
// turn the content type into text/plain.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"code":"InternalError","message":"internal error","details":{}}` + "\n")
	}
	writeBody(w, status, body)
}

// marshal is v's JSON and a newline, with <, > and & as they are: this is
// an API, not HTML, and a threshold's "<=" should read as written.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	return b.Bytes(), err
}

// writeBody writes a JSON body, which ends in a newline, in one Write.
func writeBody(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["X-Content-Type-Options"] = nosniff
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// memo keeps the JSON of the last value it encoded: for answers that are
// read far more often than they change (an app polling its webhooks), the
// body is encoded once per change, not per request.
type memo[T comparable] struct{ last atomic.Pointer[memoized[T]] }

type memoized[T comparable] struct {
	v    T
	body []byte // shared by every answer: never written to
}

// body is v's JSON with a newline, as writeJSON writes it.
func (m *memo[T]) body(v T) []byte {
	if e := m.last.Load(); e != nil && e.v == v {
		return e.body
	}
	b, err := marshal(v)
	if err != nil { // a comparable value of strings and bools: never
		panic(err)
	}
	m.last.Store(&memoized[T]{v: v, body: b})
	return b
}
