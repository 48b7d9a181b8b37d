package server

import (
	_ "embed"
	"net/http"
)

// OpenAPIPath is where the OpenAPI document of the Partner API fake and
// the control API is served.
const OpenAPIPath = ControlPrefix + "/openapi.json"

// openAPI is written by hand, not generated: it documents the contract
// (including the vendor's conventions) rather than the code's accidents.
// TestOpenAPIMatchesRoutes keeps it in step with the routes served.
//
//go:embed openapi.json
var openAPI []byte

// serveOpenAPI is open even with an admin token: it holds no state.
func serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["X-Content-Type-Options"] = nosniff
	_, _ = w.Write(openAPI)
}
