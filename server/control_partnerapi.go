package server

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/bullseye-mock/bullseye-mock/apifault"
	"github.com/bullseye-mock/bullseye-mock/ops"
	"github.com/bullseye-mock/bullseye-mock/store"
)

// registerPartnerAPIRoutes declares the control routes that test the app's
// side of the integration: the journal of its Partner API requests, faults
// on the Partner API, and scoped or revoked API keys.
func (s *controlAPI) registerPartnerAPIRoutes(c registerFunc) {
	c(http.MethodGet, "/requests", s.controlRequests)
	c(http.MethodGet, "/requests/wait", s.controlWaitRequests)
	c(http.MethodPost, "/faults", s.controlAddFault)
	c(http.MethodGet, "/faults", s.controlFaults)
	c(http.MethodDelete, "/faults", s.controlClearFaults)
	c(http.MethodGet, "/faults/{id}", s.controlFault)
	c(http.MethodDelete, "/faults/{id}", s.controlRemoveFault)
	c(http.MethodPost, "/keys", s.controlAddKey)
	c(http.MethodGet, "/keys", s.controlKeys)
	c(http.MethodDelete, "/keys/{apiKey}", s.controlRevokeKey)
}

// requestMatch reads the journal's filters from a query: the keys of
// ops.RequestMatch, with has comma-separated and body as JSON text.
func requestMatch(q url.Values) (ops.RequestMatch, error) {
	m := ops.RequestMatch{
		Method: q.Get("method"), Path: q.Get("path"), Status: ops.Status(q.Get("status")),
		APIKey: q.Get("apiKey"), PartnerID: q.Get("partnerId"),
	}
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return m, Errorf(CodeBadRequest, "since must be an RFC 3339 instant such as 2025-01-15T10:30:00Z, got %q", v).
				With("parameter", "since").With("field", "since")
		}
		m.Since = &t
	}
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return m, Errorf(CodeBadRequest, "after must be a request id (0 or more), got %q", v).
				With("parameter", "after").With("field", "after")
		}
		m.After = n
	}
	if v := q.Get("has"); v != "" {
		m.Has = strings.Split(v, ",")
	}
	if v := q.Get("body"); v != "" {
		m.Body = []byte(v)
	}
	return m, nil
}

func (s *controlAPI) controlRequests(w http.ResponseWriter, r *http.Request) error {
	m, err := requestMatch(r.URL.Query())
	if err != nil {
		return err
	}
	page, size, err := paging(r.URL.Query())
	if err != nil {
		return err
	}
	list, total, err := s.ops.Requests(m, page, size)
	if err != nil {
		return asParameter(err)
	}
	st := s.ops.JournalStats()
	writeJSON(w, http.StatusOK, map[string]any{
		"requests": list, "total": total, "page": page, "pageSize": size, "cap": st.Cap, "evicted": st.Evicted,
	})
	return nil
}

// controlWaitRequests long-polls until at least count requests match; on
// timeout it answers 200 with "timedOut": true and what matched, like the
// deliveries' waits.
func (s *controlAPI) controlWaitRequests(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	m, err := requestMatch(q)
	if err != nil {
		return err
	}
	count, err := intParam(q, "count", 1, 1, ops.MaxRequestCount)
	if err != nil {
		return err
	}
	size, err := intParam(q, "pageSize", DefaultPageSize, 1, MaxPageSize)
	if err != nil {
		return err
	}
	ctx, cancel, err := longPoll(w, r, s.ops.Stopped())
	if err != nil {
		return err
	}
	defer cancel()
	res, err := s.ops.WaitRequests(ctx, m, count, size)
	if err != nil {
		return asParameter(err)
	}
	if r.Context().Err() != nil {
		return nil // the client went away
	}
	writeJSON(w, http.StatusOK, map[string]any{"timedOut": !res.Satisfied, "stopping": s.ops.Stopping(), "count": res.Count, "requests": res.Requests})
	return nil
}

// faultJSON is a Partner API fault as the control API shows it: what was
// asked, and what it did so far.
type faultJSON struct {
	ID         string   `json:"id"`
	Method     string   `json:"method,omitempty"`
	Path       string   `json:"path"`
	PartnerID  string   `json:"partnerId,omitempty"`
	Status     int      `json:"status,omitempty"`
	RetryAfter int      `json:"retryAfter,omitempty"`
	Message    string   `json:"message,omitempty"`
	Latency    string   `json:"latency,omitempty"`
	Close      bool     `json:"close,omitempty"`
	Times      int      `json:"times,omitempty"`
	Share      *float64 `json:"share,omitempty"`
	Fired      int      `json:"fired"`
	Matched    int      `json:"matched"`
	Spent      bool     `json:"spent"`
}

func toFaultJSON(f apifault.Fault) faultJSON {
	out := faultJSON{
		ID: f.ID, Method: f.Method, Path: f.Path.String(), PartnerID: f.PartnerID, Status: f.Status,
		RetryAfter: f.RetryAfter, Message: f.Message, Close: f.Close, Times: f.Times,
		Fired: f.Fired, Matched: f.Matched, Spent: f.Spent(),
	}
	if f.Latency > 0 {
		out.Latency = f.Latency.String()
	}
	if f.Share > 0 && f.Share < 1 {
		out.Share = &f.Share
	}
	return out
}

func (s *controlAPI) controlAddFault(w http.ResponseWriter, r *http.Request) error {
	var body ops.APIFault
	if err := decodeBody(w, r, s.maxBody, &body); err != nil {
		return err
	}
	f, err := s.ops.AddAPIFault(body)
	if err != nil {
		return err
	}
	w.Header().Set("Location", ControlPrefix+"/faults/"+f.ID)
	writeJSON(w, http.StatusCreated, toFaultJSON(f))
	return nil
}

func (s *controlAPI) controlFaults(w http.ResponseWriter, r *http.Request) error {
	out := []faultJSON{}
	for _, f := range s.ops.APIFaults() {
		out = append(out, toFaultJSON(f))
	}
	writeJSON(w, http.StatusOK, map[string]any{"faults": out})
	return nil
}

func (s *controlAPI) controlFault(w http.ResponseWriter, r *http.Request) error {
	id := mux.Vars(r)["id"]
	f, err := s.ops.APIFault(id)
	if err != nil {
		return withDetail(err, "id", id)
	}
	writeJSON(w, http.StatusOK, toFaultJSON(f))
	return nil
}

func (s *controlAPI) controlRemoveFault(w http.ResponseWriter, r *http.Request) error {
	id := mux.Vars(r)["id"]
	f, err := s.ops.RemoveAPIFault(id)
	if err != nil {
		return withDetail(err, "id", id)
	}
	writeJSON(w, http.StatusOK, toFaultJSON(f))
	return nil
}

func (s *controlAPI) controlClearFaults(w http.ResponseWriter, r *http.Request) error {
	n := s.ops.ClearAPIFaults()
	writeJSON(w, http.StatusOK, map[string]any{"removed": n})
	return nil
}

type keyJSON struct {
	APIKey    string   `json:"apiKey"`
	PartnerID string   `json:"partnerId"`
	Scopes    []string `json:"scopes"`
	Primary   bool     `json:"primary"`
}

func toKeyJSON(k store.Key) keyJSON {
	scopes := k.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	return keyJSON{APIKey: k.Key, PartnerID: k.PartnerID, Scopes: scopes, Primary: k.Primary}
}

func (s *controlAPI) controlAddKey(w http.ResponseWriter, r *http.Request) error {
	var body ops.Key
	if err := decodeBody(w, r, s.maxBody, &body); err != nil {
		return err
	}
	k, err := s.ops.AddKey(body)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toKeyJSON(k))
	return nil
}

func (s *controlAPI) controlKeys(w http.ResponseWriter, r *http.Request) error {
	out := []keyJSON{}
	for _, k := range s.ops.Keys() {
		out = append(out, toKeyJSON(k))
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": out})
	return nil
}

func (s *controlAPI) controlRevokeKey(w http.ResponseWriter, r *http.Request) error {
	key := mux.Vars(r)["apiKey"]
	k, err := s.ops.RevokeKey(key)
	if err != nil {
		return err
	}
	out := toKeyJSON(k)
	writeJSON(w, http.StatusOK, map[string]any{"revoked": true, "apiKey": out.APIKey, "partnerId": out.PartnerID})
	return nil
}
