package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/bullseye-mock/bullseye-mock/ops"
	"github.com/bullseye-mock/bullseye-mock/sender"
)

// deliveryJSON is a delivery as the control API shows it: the sender's
// details plus the payload, parsed when it is JSON and always raw.
type deliveryJSON struct {
	sender.DeliveryInfo
	Attempts   []attemptJSON   `json:"attempts"`
	Payload    json.RawMessage `json:"payload,omitempty"`
	PayloadRaw string          `json:"payloadRaw,omitempty"` // absent in lists: a read of one delivery builds it
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

// query reads the filters shared by the list and the wait.
func query(q url.Values) ops.Query {
	return ops.Query{
		APIKey: q.Get("apiKey"), PartnerID: q.Get("partnerId"), Type: q.Get("type"), EventType: q.Get("eventType"),
		OrganizationID: q.Get("organizationId"), State: q.Get("state"), URL: q.Get("url"),
	}
}

func (s *controlAPI) controlDeliveries(w http.ResponseWriter, r *http.Request) error {
	q := query(r.URL.Query())
	var err error
	if q.Page, q.PageSize, err = paging(r.URL.Query()); err != nil {
		return err
	}
	list, total, err := s.ops.Deliveries(q)
	if err != nil {
		return asParameter(err)
	}
	out := make([]deliveryJSON, 0, len(list))
	for _, d := range list {
		out = append(out, toDeliveryJSON(d, false))
	}
	writeJSON(w, http.StatusOK, map[string]any{"deliveries": out, "total": total, "page": q.Page, "pageSize": q.PageSize})
	return nil
}

func (s *controlAPI) controlDelivery(w http.ResponseWriter, r *http.Request) error {
	d, err := s.ops.Delivery(mux.Vars(r)["id"])
	if err != nil {
		return withDetail(err, "id", mux.Vars(r)["id"])
	}
	writeJSON(w, http.StatusOK, toDeliveryJSON(d, true))
	return nil
}

// writeSlack is how long past its timeout a long-poll may take to write
// its answer.
const writeSlack = 10 * time.Second

// longPoll reads ?timeout= (a real-time bound) and prepares a long-poll:
// a context that ends at the timeout, when the client leaves, or when the
// mock begins to shut down (so every open wait answers at once, with
// "stopping": true), and a write deadline past the timeout, so that the
// server's general write timeout cannot cut a wait that the documented
// maximum allows.
func longPoll(w http.ResponseWriter, r *http.Request, stopped context.Context) (context.Context, context.CancelFunc, error) {
	timeout, err := ops.ParseWaitTimeout(r.URL.Query().Get("timeout"))
	if err != nil {
		return nil, nil, asParameter(err)
	}
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(timeout + writeSlack))
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	unhook := context.AfterFunc(stopped, cancel)
	return ctx, func() { unhook(); cancel() }, nil
}

// condition reads what a wait for one delivery waits for: ?state=
// (comma-separated states, or final) and ?attempts=N.
func condition(q url.Values) (ops.Condition, error) {
	var c ops.Condition
	var err error
	if c.States, err = ops.ParseStates(q.Get("state")); err != nil {
		return c, asParameter(err)
	}
	if raw, ok := q["attempts"]; ok {
		n, err := strconv.Atoi(raw[0])
		if err != nil || n < 1 {
			// 0 is "no condition" in ops; in a query it is a mistake.
			n = -1
		}
		c.Attempts = n
	}
	return c, nil
}

// controlWait long-polls one delivery. On timeout it answers 200 with
// "timedOut": true and the delivery as it is: a timeout is an answer to
// the question asked, not a failed request, and 408 would invite clients
// and proxies to repeat the request on their own.
func (s *controlAPI) controlWait(w http.ResponseWriter, r *http.Request) error {
	id := mux.Vars(r)["id"]
	if _, err := s.ops.Info(id); err != nil {
		return withDetail(err, "id", id)
	}
	c, err := condition(r.URL.Query())
	if err != nil {
		return err
	}
	ctx, cancel, err := longPoll(w, r, s.ops.Stopped())
	if err != nil {
		return err
	}
	defer cancel()
	d, timedOut, err := s.ops.Wait(ctx, id, c)
	if r.Context().Err() != nil {
		return nil // the client went away; nobody reads an answer
	}
	if err != nil {
		return withDetail(asParameter(err), "id", id)
	}
	writeJSON(w, http.StatusOK, map[string]any{"timedOut": timedOut, "stopping": s.ops.Stopping(), "delivery": toDeliveryJSON(d, true)})
	return nil
}

// controlWaitAll long-polls until every matching delivery pending when the
// request arrives is final; on timeout it answers 200 with "timedOut": true
// and the ids still pending.
func (s *controlAPI) controlWaitAll(w http.ResponseWriter, r *http.Request) error {
	q := query(r.URL.Query())
	ctx, cancel, err := longPoll(w, r, s.ops.Stopped())
	if err != nil {
		return err
	}
	defer cancel()
	res, err := s.ops.WaitAll(ctx, q)
	if err != nil {
		return asParameter(err)
	}
	if r.Context().Err() != nil {
		return nil
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"timedOut": res.PendingCount > 0, "stopping": s.ops.Stopping(), "waitedFor": res.WaitedFor,
		"pendingCount": res.PendingCount, "pending": res.Pending,
	})
	return nil
}

func (s *controlAPI) controlRedeliver(w http.ResponseWriter, r *http.Request) error {
	id := mux.Vars(r)["id"]
	newID, err := s.ops.Redeliver(id)
	if err != nil {
		return withDetail(err, "id", id)
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"deliveryId": newID, "redeliveryOf": id})
	return nil
}
