package server

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/bullseye-mock/bullseye-mock/feed"
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
	// feed is told of every request a sink records.
	feed *feed.Feed
}

// SinkEvent is a request a sink recorded, as the stream tells it: without
// headers and body (GET /_mock/sinks/{name}/requests has them).
type SinkEvent struct {
	Sink           string    `json:"sink"`
	Seq            int       `json:"seq"`
	ReceivedAt     time.Time `json:"receivedAt"`
	Method         string    `json:"method"`
	DeliveryID     string    `json:"deliveryId,omitempty"`
	Attempt        int       `json:"attempt,omitempty"`
	Signature      string    `json:"signature"`
	SignatureError string    `json:"signatureError,omitempty"`
	Status         int       `json:"status"`
}

// tell publishes a recorded request; the caller holds the sinks' lock, so
// a sink's events come in its seq order.
func (s *sinkAPI) tell(name string, rec SinkRequest) {
	if !s.feed.Watching() {
		return
	}
	s.feed.Publish(feed.Sink, feed.Attrs{Sink: name, Delivery: rec.DeliveryID}, SinkEvent{
		Sink: name, Seq: rec.Seq, ReceivedAt: rec.ReceivedAt, Method: rec.Method, DeliveryID: rec.DeliveryID,
		Attempt: rec.Attempt, Signature: rec.Signature, SignatureError: rec.SignatureError, Status: rec.Status,
	})
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
