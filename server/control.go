package server

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/clock"
	"github.com/bullseye-mock/bullseye-mock/events"
	"github.com/bullseye-mock/bullseye-mock/sender"
)

// ControlPrefix is where the mock's own control API lives. It is a fixed
// contract: tests outside the project call these paths.
const ControlPrefix = "/_mock"

// Long-poll bounds of the wait endpoints. Waits are bounded in real time,
// not mock time: a manual clock may never move while a request waits.
const (
	DefaultWaitTimeout = 30 * time.Second
	MaxWaitTimeout     = 5 * time.Minute
)

// idleTimeout bounds how long a clock move waits for the attempts it made
// due, so a receiver that hangs cannot hold the control request forever.
const idleTimeout = 10 * time.Second

// Deliveries is what the control API needs of the sender; *sender.Sender
// implements it.
type Deliveries interface {
	Deliveries(sender.DeliveryQuery) ([]sender.DeliveryInfo, int)
	PendingIDs(sender.DeliveryQuery) []string
	SigningSecret(id string) (string, bool)
	Delivery(id string) (sender.DeliveryInfo, bool)
	Wait(ctx context.Context, id string, pred func(sender.DeliveryInfo) bool) (sender.DeliveryInfo, error)
	Redeliver(id string) (string, error)
	Reset()
	NextDue() (time.Time, bool)
	Idle(ctx context.Context) error
	Stats() sender.Stats
}

var deliveryStates = []string{
	bullseye.StateScheduled, bullseye.StateRetrying, bullseye.StateReady, bullseye.StateInFlight,
	bullseye.StateDelivered, bullseye.StateFailed, bullseye.StateCanceled,
}

// registerControlRoutes declares the control API. Every route but the
// sink's receiving end sits behind the admin token when one is set: the
// sender posts to the sink without it, as it would to any receiver.
func (s *Server) registerControlRoutes(r *mux.Router) {
	admin := func(h http.Handler) http.Handler { return recoverer(s.log, s.adminOnly(h)) }
	c := func(method, path string, f func(http.ResponseWriter, *http.Request) error) {
		r.Handle(ControlPrefix+path, admin(handle(f))).Methods(method)
	}
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
	if s.scenarios != nil {
		s.registerScenarioRoutes(c)
	}

	c(http.MethodGet, "/sink", s.sinkList)
	c(http.MethodPut, "/sink/{name}", s.sinkConfigure)
	c(http.MethodGet, "/sink/{name}", s.sinkShow)
	c(http.MethodDelete, "/sink/{name}", s.sinkDelete)
	c(http.MethodGet, "/sink/{name}/requests", s.sinkListRequests)
	r.Handle(ControlPrefix+"/sink/{name}", recoverer(s.log, handle(s.sinkReceive))).Methods(http.MethodPost)

	// Metrics stay open even with an admin token: a scraper rarely has one,
	// and they reveal no payload or secret.
	r.Handle(MetricsPath, s.metricsHandler()).Methods(http.MethodGet)
	r.Handle(OpenAPIPath, http.HandlerFunc(serveOpenAPI)).Methods(http.MethodGet)
	s.registerUIRoutes(r)
}

// adminOnly checks the admin token, when one is configured, in constant
// time so the comparison does not leak how much of a guess was right.
func (s *Server) adminOnly(next http.Handler) http.Handler {
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
func (s *Server) controlPartners(w http.ResponseWriter, r *http.Request) error {
	out := []partnerJSON{}
	for _, p := range s.store.Partners() {
		orgs, _, err := s.store.Organizations(p.ID, storeAllOrgs)
		if err != nil {
			return err
		}
		pj := partnerJSON{ID: p.ID, APIKey: p.Key, OrganizationIDs: []string{}}
		for _, o := range orgs {
			pj.OrganizationIDs = append(pj.OrganizationIDs, o.ID)
		}
		out = append(out, pj)
	}
	writeJSON(w, http.StatusOK, map[string]any{"partners": out})
	return nil
}

// eventRequest is POST /_mock/events. Pointers tell "absent" from zero.
type eventRequest struct {
	Type           string          `json:"type"`
	Count          *int            `json:"count"`
	APIKey         string          `json:"apiKey"`
	PartnerID      string          `json:"partnerId"`
	OrganizationID string          `json:"organizationId"`
	Dialect        string          `json:"dialect"`
	Overrides      json.RawMessage `json:"overrides"`
	Faults         []faultJSON     `json:"faults"`
	At             *time.Time      `json:"at"`
	Delay          string          `json:"delay"`
	Policy         *policyJSON     `json:"policy"`
}

type faultJSON struct {
	Signature      string  `json:"signature"`
	Duplicate      bool    `json:"duplicate"`
	DuplicateAfter string  `json:"duplicateAfter"`
	Events         []int   `json:"events"`
	Share          float64 `json:"share"`
}

type policyJSON struct {
	Delays   []string `json:"delays"`
	Attempts int      `json:"attempts"`
	Timeout  string   `json:"timeout"`
}

func (p policyJSON) policy() (*bullseye.Policy, error) {
	out := &bullseye.Policy{Attempts: p.Attempts}
	for i, d := range p.Delays {
		v, err := parseDuration("policy.delays["+fmt.Sprint(i)+"]", d)
		if err != nil {
			return nil, err
		}
		out.Delays = append(out.Delays, v)
	}
	if p.Timeout != "" {
		v, err := parseDuration("policy.timeout", p.Timeout)
		if err != nil {
			return nil, err
		}
		out.Timeout = v
	}
	return out, nil
}

func parseDuration(field, s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, Errorf(CodeBadRequest, "%s must be a non-negative Go duration such as \"1m30s\", got %q", field, s).With("field", field)
	}
	return d, nil
}

// toRequest validates everything the emitter does not, so a bad request
// is refused before any delivery exists.
func (s *Server) toRequest(body eventRequest) (events.Request, error) {
	var req events.Request
	if body.Type == "" {
		return req, Errorf(CodeBadRequest, `field "type" is required, one of: %s`, strings.Join(bullseye.EventTypes(), ", ")).With("field", "type")
	}
	if !slices.Contains(bullseye.EventTypes(), body.Type) {
		return req, Errorf(CodeBadRequest, "unknown event type %q: use one of %s", body.Type, strings.Join(bullseye.EventTypes(), ", ")).With("field", "type")
	}
	req.Type = body.Type
	req.Count = 1
	if body.Count != nil {
		if *body.Count < 1 || *body.Count > events.MaxCount {
			return req, Errorf(CodeBadRequest, "count must be from 1 to %d, got %d", events.MaxCount, *body.Count).With("field", "count")
		}
		req.Count = *body.Count
	}
	partner, err := s.pickPartner(body.APIKey, body.PartnerID)
	if err != nil {
		return req, err
	}
	req.PartnerID = partner
	if body.OrganizationID != "" {
		if _, err := s.store.Organization(partner, body.OrganizationID); err != nil {
			return req, Errorf(CodeBadRequest, "organization %q is not one of partner %s's organizations", body.OrganizationID, partner).With("field", "organizationId")
		}
		req.OrganizationID = body.OrganizationID
	}
	if body.Dialect != "" {
		d, err := bullseye.ParseDialect(body.Dialect)
		if err != nil {
			return req, Errorf(CodeBadRequest, "%v", err).With("field", "dialect")
		}
		req.Dialect = d
	}
	if len(body.Overrides) > 0 && string(body.Overrides) != "null" {
		if !strings.HasPrefix(strings.TrimSpace(string(body.Overrides)), "{") {
			return req, Errorf(CodeBadRequest, "overrides must be a JSON object (a merge patch of the payload)").With("field", "overrides")
		}
		req.Overrides = body.Overrides
	}
	for i, f := range body.Faults {
		field := fmt.Sprintf("faults[%d]", i)
		sig, err := bullseye.ParseFault(f.Signature)
		if err != nil {
			return req, Errorf(CodeBadRequest, "%s.signature: %v", field, err).With("field", field+".signature")
		}
		if sig == bullseye.FaultNone && !f.Duplicate {
			return req, Errorf(CodeBadRequest, "%s does nothing: set a signature fault or duplicate", field).With("field", field)
		}
		ef := events.Fault{Signature: sig, Duplicate: f.Duplicate, Events: f.Events, Share: f.Share}
		if f.DuplicateAfter != "" {
			if ef.DuplicateAfter, err = parseDuration(field+".duplicateAfter", f.DuplicateAfter); err != nil {
				return req, err
			}
		}
		req.Faults = append(req.Faults, ef)
	}
	switch {
	case body.At != nil && body.Delay != "":
		return req, Errorf(CodeBadRequest, "at and delay exclude each other").With("field", "delay")
	case body.At != nil:
		req.At = body.At.UTC()
	case body.Delay != "":
		d, err := parseDuration("delay", body.Delay)
		if err != nil {
			return req, err
		}
		req.At = s.clock.Now().Add(d)
	}
	if body.Policy != nil {
		if req.Policy, err = body.Policy.policy(); err != nil {
			return req, err
		}
	}
	return req, nil
}

// pickPartner resolves apiKey or partnerId; neither means the first
// partner, which is the only one in most setups.
func (s *Server) pickPartner(key, id string) (string, error) {
	switch {
	case key != "" && id != "":
		return "", Errorf(CodeBadRequest, "apiKey and partnerId exclude each other").With("field", "partnerId")
	case key != "":
		p, ok := s.store.Authenticate(key)
		if !ok {
			return "", Errorf(CodeBadRequest, "no partner has apiKey %q", key).With("field", "apiKey")
		}
		return p.ID, nil
	}
	partners := s.store.Partners()
	if len(partners) == 0 {
		return "", Errorf(CodeConflict, "the mock has no partner")
	}
	if id == "" {
		return partners[0].ID, nil
	}
	for _, p := range partners {
		if p.ID == id {
			return id, nil
		}
	}
	return "", Errorf(CodeBadRequest, "no partner has id %q", id).With("field", "partnerId")
}

func (s *Server) controlEvents(w http.ResponseWriter, r *http.Request) error {
	var body eventRequest
	if err := s.decodeBody(w, r, &body); err != nil {
		return err
	}
	req, err := s.toRequest(body)
	if err != nil {
		return err
	}
	ids, err := s.events.Emit(req)
	if err != nil {
		if errors.Is(err, events.ErrInvalid) {
			// Emit validates before it sends, except a payload that cannot
			// be built; those ids (if any) were sent and are reported.
			return Errorf(CodeBadRequest, "%v", err).With("deliveryIds", nonNil(ids))
		}
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"deliveryIds": nonNil(ids), "partnerId": req.PartnerID})
	return nil
}

func nonNil(ids []string) []string {
	if ids == nil {
		return []string{}
	}
	return ids
}

// deliveryJSON is a delivery as the control API shows it: the sender's
// details plus the payload, parsed when it is JSON and always raw.
type deliveryJSON struct {
	sender.DeliveryInfo
	Attempts   []attemptJSON   `json:"attempts"`
	Payload    json.RawMessage `json:"payload,omitempty"`
	PayloadRaw string          `json:"payloadRaw"`
	// SentRaw is what went on the wire when a fault changed the body.
	SentRaw string        `json:"sentRaw,omitempty"`
	Policy  policyOutJSON `json:"policy"`
}

type attemptJSON struct {
	sender.AttemptInfo
	// ScheduledAt is when the attempt was due: the previous attempt's
	// nextAttemptAt. The sender does not keep the first attempt's due time,
	// so it is absent there (the first attempt is made when it is due).
	ScheduledAt *time.Time `json:"scheduledAt,omitempty"`
}

type policyOutJSON struct {
	Delays   []string `json:"delays"`
	Attempts int      `json:"attempts"`
	Timeout  string   `json:"timeout"`
}

func toDeliveryJSON(d sender.DeliveryInfo, full bool) deliveryJSON {
	out := deliveryJSON{DeliveryInfo: d, Attempts: make([]attemptJSON, 0, len(d.Attempts))}
	for i, a := range d.Attempts {
		aj := attemptJSON{AttemptInfo: a}
		if i > 0 {
			aj.ScheduledAt = d.Attempts[i-1].NextAttemptAt
		}
		if !full {
			aj.RequestHeaders = nil
			aj.ResponseExcerpt = ""
		}
		out.Attempts = append(out.Attempts, aj)
	}
	out.Policy = policyOutJSON{Attempts: d.Policy.Attempts, Timeout: d.Policy.Timeout.String(), Delays: []string{}}
	for _, dl := range d.Policy.Delays {
		out.Policy.Delays = append(out.Policy.Delays, dl.String())
	}
	if full {
		out.PayloadRaw = string(d.Body)
		if json.Valid(d.Body) {
			out.Payload = d.Body
		}
		out.SentRaw = string(d.SentBody)
	}
	return out
}

// deliveryFilter reads the filters shared by the list and the wait.
func (s *Server) deliveryFilter(r *http.Request) (sender.DeliveryQuery, error) {
	q := r.URL.Query()
	var dq sender.DeliveryQuery
	if key, id := q.Get("apiKey"), q.Get("partnerId"); key != "" || id != "" {
		p, err := s.pickPartner(key, id)
		if err != nil {
			var e *Error
			if errors.As(err, &e) {
				return dq, e.With("parameter", e.Details["field"])
			}
			return dq, err
		}
		dq.PartnerID = p
	}
	dq.Type = q.Get("type")
	if dq.Type != "" && dq.Type != bullseye.KindIdentification && dq.Type != bullseye.KindBilling {
		return dq, Errorf(CodeBadRequest, "type must be identification or billing, got %q", dq.Type).With("parameter", "type")
	}
	dq.EventType = q.Get("eventType")
	if dq.EventType != "" && !slices.Contains(bullseye.EventTypes(), dq.EventType) {
		return dq, Errorf(CodeBadRequest, "eventType must be one of %s, got %q", strings.Join(bullseye.EventTypes(), ", "), dq.EventType).With("parameter", "eventType")
	}
	dq.OrganizationID = q.Get("organizationId")
	dq.State = q.Get("state")
	if dq.State != "" && !slices.Contains(deliveryStates, dq.State) {
		return dq, Errorf(CodeBadRequest, "state must be one of %s, got %q", strings.Join(deliveryStates, ", "), dq.State).With("parameter", "state")
	}
	return dq, nil
}

func (s *Server) controlDeliveries(w http.ResponseWriter, r *http.Request) error {
	dq, err := s.deliveryFilter(r)
	if err != nil {
		return err
	}
	if dq.Page, dq.PageSize, err = paging(r.URL.Query()); err != nil {
		return err
	}
	list, total := s.deliveries.Deliveries(dq)
	out := make([]deliveryJSON, 0, len(list))
	for _, d := range list {
		out = append(out, toDeliveryJSON(d, false))
	}
	writeJSON(w, http.StatusOK, map[string]any{"deliveries": out, "total": total, "page": dq.Page, "pageSize": dq.PageSize})
	return nil
}

func (s *Server) delivery(r *http.Request) (sender.DeliveryInfo, error) {
	id := mux.Vars(r)["id"]
	d, ok := s.deliveries.Delivery(id)
	if !ok {
		return d, Errorf(CodeNotFound, "no delivery %q (unknown, reset, or evicted from the retained details)", id).With("id", id)
	}
	return d, nil
}

func (s *Server) controlDelivery(w http.ResponseWriter, r *http.Request) error {
	d, err := s.delivery(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toDeliveryJSON(d, true))
	return nil
}

// waitTimeout reads ?timeout=, a real-time bound on a long-poll.
func waitTimeout(r *http.Request) (time.Duration, error) {
	raw := r.URL.Query().Get("timeout")
	if raw == "" {
		return DefaultWaitTimeout, nil
	}
	d, err := time.ParseDuration(raw)
	if err != nil || d <= 0 || d > MaxWaitTimeout {
		return 0, Errorf(CodeBadRequest, "timeout must be a Go duration from 1ns to %s, such as 5s, got %q", MaxWaitTimeout, raw).With("parameter", "timeout")
	}
	return d, nil
}

// waitPredicate reads what a wait for one delivery waits for: ?state=
// (comma-separated states) and ?attempts=N (at least N attempts), both
// when both are given; neither means a final state.
func waitPredicate(r *http.Request) (func(sender.DeliveryInfo) bool, error) {
	q := r.URL.Query()
	var preds []func(sender.DeliveryInfo) bool
	if raw := q.Get("state"); raw != "" {
		states := strings.Split(raw, ",")
		for _, st := range states {
			if st != "final" && !slices.Contains(deliveryStates, st) {
				return nil, Errorf(CodeBadRequest, "state must be final or one of %s (comma-separated), got %q", strings.Join(deliveryStates, ", "), st).With("parameter", "state")
			}
		}
		preds = append(preds, func(i sender.DeliveryInfo) bool {
			return slices.Contains(states, i.State) || (slices.Contains(states, "final") && i.Final())
		})
	}
	if _, ok := q["attempts"]; ok {
		n, err := intParam(q, "attempts", 1, 1, bullseye.MaxAttempts)
		if err != nil {
			return nil, err
		}
		preds = append(preds, sender.HasAttempts(n))
	}
	if len(preds) == 0 {
		return sender.IsFinal, nil
	}
	return func(i sender.DeliveryInfo) bool {
		for _, p := range preds {
			if !p(i) {
				return false
			}
		}
		return true
	}, nil
}

// controlWait long-polls one delivery. On timeout it answers 200 with
// "timedOut": true and the delivery as it is: a timeout is an answer to
// the question asked, not a failed request, and 408 would invite clients
// and proxies to repeat the request on their own.
func (s *Server) controlWait(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.delivery(r); err != nil {
		return err
	}
	timeout, err := waitTimeout(r)
	if err != nil {
		return err
	}
	pred, err := waitPredicate(r)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	id := mux.Vars(r)["id"]
	d, err := s.deliveries.Wait(ctx, id, pred)
	timedOut := false
	switch {
	case err == nil:
	case errors.Is(err, sender.ErrNotFound):
		return Errorf(CodeNotFound, "delivery %q was forgotten while waiting (reset or evicted)", id).With("id", id)
	case r.Context().Err() != nil:
		return nil // the client went away; nobody reads an answer
	case errors.Is(err, context.DeadlineExceeded):
		timedOut = true
		var ok bool
		if d, ok = s.deliveries.Delivery(id); !ok {
			return Errorf(CodeNotFound, "delivery %q was forgotten while waiting (reset or evicted)", id).With("id", id)
		}
	default:
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"timedOut": timedOut, "delivery": toDeliveryJSON(d, true)})
	return nil
}

// controlWaitAll long-polls until every delivery matching the filters that
// is pending when the request arrives is final (deliveries created later
// are not waited for, so a steady stream cannot keep it waiting forever).
// On timeout it answers 200 with "timedOut": true and the ids still pending.
func (s *Server) controlWaitAll(w http.ResponseWriter, r *http.Request) error {
	dq, err := s.deliveryFilter(r)
	if err != nil {
		return err
	}
	if dq.State != "" {
		return Errorf(CodeBadRequest, "state is not a filter of the wait for all: it waits until every matching delivery is final").With("parameter", "state")
	}
	timeout, err := waitTimeout(r)
	if err != nil {
		return err
	}
	ids := s.deliveries.PendingIDs(dq)
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	for _, id := range ids {
		if _, err := s.deliveries.Wait(ctx, id, sender.IsFinal); err != nil && !errors.Is(err, sender.ErrNotFound) {
			break
		}
	}
	if r.Context().Err() != nil {
		return nil
	}
	pending := []string{}
	for _, id := range ids {
		if d, ok := s.deliveries.Delivery(id); ok && !d.Final() {
			pending = append(pending, id)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"timedOut": len(pending) > 0, "waitedFor": len(ids), "pending": pending})
	return nil
}

func (s *Server) controlRedeliver(w http.ResponseWriter, r *http.Request) error {
	id := mux.Vars(r)["id"]
	newID, err := s.deliveries.Redeliver(id)
	switch {
	case errors.Is(err, sender.ErrNotFound):
		return Errorf(CodeNotFound, "no delivery %q (unknown, reset, or evicted from the retained details)", id).With("id", id)
	case errors.Is(err, sender.ErrClosed):
		return Errorf(CodeConflict, "the mock is shutting down")
	case err != nil:
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"deliveryId": newID, "redeliveryOf": id})
	return nil
}

// controlReset forgets deliveries, the attempt log, counters and what the
// sinks recorded. Partners, webhook configurations, organizations, sink
// settings and the clock are kept: they are the setup a test suite makes
// once, while deliveries are what each test looks at.
func (s *Server) controlReset(w http.ResponseWriter, r *http.Request) error {
	s.deliveries.Reset()
	s.sinks.clearRequests()
	writeJSON(w, http.StatusOK, map[string]any{"success": true})
	return nil
}

type clockJSON struct {
	Now     time.Time  `json:"now"`
	Manual  bool       `json:"manual"`
	NextDue *time.Time `json:"nextDue"`
}

func (s *Server) clockState() clockJSON {
	_, manual := s.clock.(*clock.Manual)
	c := clockJSON{Now: s.clock.Now().UTC(), Manual: manual}
	if t, ok := s.deliveries.NextDue(); ok {
		c.NextDue = &t
	}
	return c
}

func (s *Server) controlClock(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, s.clockState())
	return nil
}

type advanceRequest struct {
	By        string     `json:"by"`
	To        *time.Time `json:"to"`
	ToNextDue bool       `json:"toNextDue"`
}

// controlAdvance moves a manual clock. It stops at every attempt due on
// the way and waits for it, so advancing by 2h replays the whole retry
// schedule (each retry counts from the failed attempt before it) exactly
// as if the time had passed; then the answer, and any request after it,
// sees every outcome. toNextDue with nothing scheduled does not
// move the clock and says so ("moved": false): a script can loop on it.
func (s *Server) controlAdvance(w http.ResponseWriter, r *http.Request) error {
	var body advanceRequest
	if err := s.decodeBody(w, r, &body); err != nil {
		return err
	}
	m, ok := s.clock.(*clock.Manual)
	if !ok {
		return Errorf(CodeConflict, "the clock is not manual, so it cannot be moved: start the mock with --clock manual")
	}
	set := 0
	for _, b := range []bool{body.By != "", body.To != nil, body.ToNextDue} {
		if b {
			set++
		}
	}
	if set != 1 {
		return Errorf(CodeBadRequest, `give exactly one of "by" (a duration such as "1m"), "to" (a time) or "toNextDue": true`)
	}
	before := m.Now()
	var target time.Time
	switch {
	case body.By != "":
		d, err := parseDuration("by", body.By)
		if err != nil {
			return err
		}
		target = before.Add(d)
	case body.To != nil:
		if body.To.Before(before) {
			return Errorf(CodeBadRequest, "to (%s) is before the clock (%s); the clock never goes back", body.To.UTC().Format(time.RFC3339Nano), before.UTC().Format(time.RFC3339Nano)).With("field", "to")
		}
		target = *body.To
	default:
		due, ok := s.deliveries.NextDue()
		if !ok || !due.After(before) {
			target = before
		} else {
			target = due
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), idleTimeout)
	defer cancel()
	idle := AdvanceTo(ctx, m, s.deliveries, target)
	out := s.clockState()
	writeJSON(w, http.StatusOK, map[string]any{
		"now": out.Now, "manual": true, "nextDue": out.NextDue,
		"moved": target.After(before), "advancedBy": target.Sub(before).String(), "idle": idle,
	})
	return nil
}

// AdvanceTo moves a manual clock to target through every attempt d has due
// on the way, waiting after each for the sender to make it (and to schedule
// what follows), so a jump replays the retry schedule as if the time had
// passed. The clock moves first, so an attempt held by a slow receiver
// times out when the move passes its deadline instead of stalling the
// step. It reports false when the sender was not idle within ctx: a
// receiver still holds an attempt whose timeout lies beyond target. The
// control API and the in-process test server share it.
func AdvanceTo(ctx context.Context, m *clock.Manual, d Deliveries, target time.Time) bool {
	for {
		next := target
		if due, ok := d.NextDue(); ok && due.Before(target) {
			next = due
		}
		if next.After(m.Now()) {
			m.Set(next)
		}
		if err := d.Idle(ctx); err != nil {
			if target.After(m.Now()) {
				m.Set(target)
			}
			return false
		}
		if !next.Before(target) {
			return true
		}
	}
}
