package server

import (
	"errors"
	"io"
	"net/http"

	"github.com/bullseye-mock/bullseye-mock/ops"
)

// DefaultMaxBody is the documented request body limit; larger bodies get 413.
const DefaultMaxBody = 1 << 20

// decodeBody reads a JSON object into v, strictly: an empty body, bad JSON,
// a wrong type, an unknown field or trailing data is a BadRequest whose
// message names the problem, and a body over the limit is PayloadTooLarge.
func decodeBody(w http.ResponseWriter, r *http.Request, maxBody int64, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return Errorf(CodePayloadTooLarge, "request body is larger than the limit of %d bytes", tooBig.Limit).
				With("limit", tooBig.Limit)
		}
		return Errorf(CodeBadRequest, "could not read the request body: %v", err)
	}
	return ops.Decode(body, v) // the one strict decoder of every JSON body and scenario step
}
