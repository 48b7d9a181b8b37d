package server

import (
	"context"
	"crypto/subtle"
	"log/slog"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/bullseye-mock/bullseye-mock/clock"
	"github.com/bullseye-mock/bullseye-mock/ops"
	"github.com/bullseye-mock/bullseye-mock/scenarios"
)

// ControlPrefix is where the mock's own control API lives. It is a fixed
// contract: tests outside the project call these paths.
const ControlPrefix = "/_mock"

// controlAPI serves the mock's own API under ControlPrefix: events,
// deliveries and their waits, redelivery, reset, the clock, scenario runs,
// metrics and the inspector. Every handler is a thin adapter over ops.
type controlAPI struct {
	ops        *ops.Ops
	clock      clock.Clock
	runs       *scenarios.Runs // nil: no scenario routes
	adminToken string
	maxBody    int64
	log        *slog.Logger
}

// registerFunc registers a control route behind the admin token.
type registerFunc func(method, path string, f func(http.ResponseWriter, *http.Request) error)

// router returns the registration of control routes on r.
func (s *controlAPI) router(r *mux.Router) registerFunc {
	admin := func(h http.Handler) http.Handler { return recoverer(s.log, s.adminOnly(h)) }
	return func(method, path string, f func(http.ResponseWriter, *http.Request) error) {
		r.Handle(ControlPrefix+path, admin(handle(f))).Methods(method)
	}
}

// registerRoutes declares the control API. Metrics, the OpenAPI document
// and the inspector's files stay open even with an admin token: a scraper
// rarely has one, and they reveal no payload or secret.
func (s *controlAPI) registerRoutes(r *mux.Router, c registerFunc) {
	c(http.MethodGet, "/partners", s.controlPartners)
	c(http.MethodPost, "/events", s.controlEvents)
	c(http.MethodGet, "/deliveries", s.controlDeliveries)
	// Registered before {id} so that "wait" is not read as an id.
	c(http.MethodGet, "/deliveries/wait", s.controlWaitAll)
	c(http.MethodGet, "/deliveries/{id}", s.controlDelivery)
	c(http.MethodGet, "/deliveries/{id}/wait", s.controlWait)
	c(http.MethodPost, "/deliveries/{id}/redeliver", s.controlRedeliver)
	c(http.MethodPost, "/reset", s.controlReset)
	c(http.MethodGet, "/clock", s.controlClock)
	c(http.MethodPost, "/clock/advance", s.controlAdvance)
	c(http.MethodGet, "/stream", s.controlStream)
	c(http.MethodGet, "/logs", s.controlLogs)
	s.registerTrafficRoutes(c)
	s.registerPartnerAPIRoutes(c)
	if s.runs != nil {
		s.registerScenarioRoutes(c)
	}
	r.Handle(MetricsPath, s.metricsHandler()).Methods(http.MethodGet)
	r.Handle(OpenAPIPath, http.HandlerFunc(serveOpenAPI)).Methods(http.MethodGet)
	s.registerUIRoutes(r)
}

// adminOnly checks the admin token, when one is configured, in constant
// time so the comparison does not leak how much of a guess was right.
func (s *controlAPI) adminOnly(next http.Handler) http.Handler {
	if s.adminToken == "" {
		return next
	}
	want := []byte("Bearer " + s.adminToken)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := r.Header.Get("Authorization")
		if subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			msg := "missing admin token: send Authorization: Bearer <token>"
			if got != "" {
				msg = "invalid admin token"
			}
			writeError(w, Errorf(CodeUnauthorized, "%s", msg))
			return
		}
		next.ServeHTTP(w, r)
	})
}

type partnerJSON struct {
	ID              string   `json:"id"`
	APIKey          string   `json:"apiKey"`
	OrganizationIDs []string `json:"organizationIds"`
}

// controlPartners lists the partners with their keys: the control API is
// the operator's view, and a test needs the key to call the Partner API.
func (s *controlAPI) controlPartners(w http.ResponseWriter, r *http.Request) error {
	out := []partnerJSON{}
	for _, p := range s.ops.Partners() {
		out = append(out, partnerJSON{ID: p.ID, APIKey: p.Key, OrganizationIDs: p.OrganizationIDs})
	}
	writeJSON(w, http.StatusOK, map[string]any{"partners": out})
	return nil
}

// controlEvents is POST /_mock/events: its body is ops.Send, the object a
// scenario's send step is.
func (s *controlAPI) controlEvents(w http.ResponseWriter, r *http.Request) error {
	var body ops.Send
	if err := decodeBody(w, r, s.maxBody, &body); err != nil {
		return err
	}
	out, err := s.ops.Emit(body)
	if err != nil {
		if len(out.DeliveryIDs) > 0 {
			// Only a payload that cannot be built fails after sending; what
			// was sent is reported.
			return withDetail(err, "deliveryIds", out.DeliveryIDs)
		}
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"deliveryIds": nonNil(out.DeliveryIDs), "partnerId": out.PartnerID})
	return nil
}

func nonNil(ids []string) []string {
	if ids == nil {
		return []string{}
	}
	return ids
}

// controlReset forgets deliveries, the attempt log, counters and what the
// sinks recorded (see ops.Reset).
func (s *controlAPI) controlReset(w http.ResponseWriter, r *http.Request) error {
	s.ops.Reset()
	writeJSON(w, http.StatusOK, map[string]any{"success": true})
	return nil
}

// controlLogs is the attempt log as the vendor's GET /partner/webhooks/logs
// answers it, for one partner (apiKey or partnerId) or all of them, without
// a Partner API call the journal would record.
func (s *controlAPI) controlLogs(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	return serveLogs(w, q, ops.LogQuery{APIKey: q.Get("apiKey"), PartnerID: q.Get("partnerId"), AllPartners: true}, s.ops.Logs)
}

func (s *controlAPI) controlClock(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, s.ops.ClockState())
	return nil
}

// controlAdvance moves a manual clock (ops.AdvanceClock): toNextDue with
// nothing scheduled does not move it and says so ("moved": false), so a
// script can loop on it.
func (s *controlAPI) controlAdvance(w http.ResponseWriter, r *http.Request) error {
	var body ops.Advance
	if err := decodeBody(w, r, s.maxBody, &body); err != nil {
		return err
	}
	// Bounded in real time, so a receiver that hangs cannot hold the
	// request forever, and long enough for the hanging-receiver rule's
	// grace to run out twice.
	ctx, cancel := context.WithTimeout(r.Context(), 2*s.ops.Grace())
	defer cancel()
	a, err := s.ops.AdvanceClock(ctx, body)
	if err != nil {
		return err
	}
	out := s.ops.ClockState()
	writeJSON(w, http.StatusOK, map[string]any{
		"now": out.Now, "manual": true, "nextDue": out.NextDue,
		"moved": a.Moved(), "advancedBy": a.Now.Sub(a.Before).String(), "idle": a.Idle,
	})
	return nil
}
