package server

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/gorilla/mux"
)

// sinkAPI serves the built-in receivers under ControlPrefix/sink: their
// settings and records behind the admin token, their receiving end open
// (the sender posts to it as to any receiver).
type sinkAPI struct {
	sinks *sinkSet
	// secretOf is the secret a delivery of the mock's own was signed with
	// ("" when the id names none): a sink without a secret of its own
	// verifies with it, so a demo needs no sink setup.
	secretOf func(deliveryID string) string
	// stopped ends when the mock shuts down: open waits answer at once.
	stopped context.Context
}

// registerRoutes declares the sink routes; admin registers one behind the
// admin token.
func (s *sinkAPI) registerRoutes(r *mux.Router, admin registerFunc, log *slog.Logger) {
	admin(http.MethodGet, "/sink", s.sinkList)
	admin(http.MethodPut, "/sink/{name}", s.sinkConfigure)
	admin(http.MethodGet, "/sink/{name}", s.sinkShow)
	admin(http.MethodDelete, "/sink/{name}", s.sinkDelete)
	admin(http.MethodGet, "/sink/{name}/requests", s.sinkListRequests)
	r.Handle(ControlPrefix+"/sink/{name}", recoverer(log, handle(s.sinkReceive))).Methods(http.MethodPost)
}

// SinkRequests returns what the sink name recorded, oldest first, and
// whether it exists.
func (s *sinkAPI) SinkRequests(name string) ([]SinkRequest, bool) {
	ss := s.sinks
	ss.mu.Lock()
	defer ss.mu.Unlock()
	sk, ok := ss.sinks[name]
	if !ok {
		return nil, false
	}
	return append([]SinkRequest(nil), sk.requests...), true
}
