package server

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/bullseye-mock/bullseye-mock/feed"
	"github.com/bullseye-mock/bullseye-mock/ops"
)

// GET /_mock/stream: the change feed as Server-Sent Events. ops decides
// what a stream carries and when (filters, coalescing, lost notices,
// heartbeats); this is the wire format.

// StreamPath is the stream's path, a fixed contract.
const StreamPath = ControlPrefix + "/stream"

// streamRetryMs is what the stream tells EventSource to wait before it
// reconnects.
const streamRetryMs = 2000

// watchOf reads a stream's query parameters and Last-Event-ID.
func watchOf(r *http.Request) (ops.Watch, error) {
	q := r.URL.Query()
	w := ops.Watch{
		APIKey: q.Get("apiKey"), PartnerID: q.Get("partnerId"), Type: q.Get("type"), EventType: q.Get("eventType"),
		Organization: q.Get("organizationId"), State: q.Get("state"), DeliveryID: q.Get("deliveryId"), Sink: q.Get("sink"),
	}
	if raw := q.Get("events"); raw != "" {
		for _, n := range strings.Split(raw, ",") {
			if n = strings.TrimSpace(n); n != "" {
				w.Events = append(w.Events, n)
			}
		}
	}
	var err error
	if raw := q.Get("heartbeat"); raw != "" {
		if w.Heartbeat, err = ops.ParseStreamDuration("heartbeat", raw); err != nil {
			return w, err
		}
	}
	if raw := q.Get("coalesce"); raw != "" {
		d, err := ops.ParseStreamDuration("coalesce", raw)
		if err != nil {
			return w, err
		}
		w.Coalesce = &d
	}
	if _, ok := q["limit"]; ok {
		if w.Limit, err = intParam(q, "limit", 0, 1, ops.MaxStreamLimit); err != nil {
			return w, err
		}
	}
	if raw := q.Get("timeout"); raw != "" {
		if w.Timeout, err = ops.ParseStreamDuration("timeout", raw); err != nil {
			return w, err
		}
	}
	// EventSource sends Last-Event-ID when it reconnects; lastEventId lets
	// a first connection resume too (EventSource cannot set headers).
	field, raw := "lastEventId", q.Get("lastEventId")
	if h := r.Header.Get("Last-Event-ID"); h != "" {
		field, raw = "Last-Event-ID", h
	}
	if raw != "" {
		id, err := ops.ParseEventID(field, raw)
		if err != nil {
			return w, err
		}
		w.After = &id
	}
	return w, nil
}

func (s *controlAPI) controlStream(w http.ResponseWriter, r *http.Request) error {
	watch, err := watchOf(r)
	if err != nil {
		return asParameter(err)
	}
	st, err := s.ops.OpenStream(watch)
	if err != nil {
		return asParameter(err)
	}
	defer st.Close()

	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // a proxy in front must not hold events back
	w.WriteHeader(http.StatusOK)
	out := bufio.NewWriterSize(w, 32<<10)
	// Each batch gets its own write deadline, past the server's general
	// write timeout: a stream lives as long as its reader.
	_ = rc.SetWriteDeadline(time.Now().Add(st.Heartbeat() + writeSlack))
	send := func() bool { return out.Flush() == nil && rc.Flush() == nil }
	fmt.Fprintf(out, "retry: %d\n\n", streamRetryMs)
	event(out, 0, feed.Hello, map[string]any{"lastEventId": st.LastEventID(), "clock": s.ops.ClockState()})
	if !send() {
		return nil
	}
	for {
		b, err := st.Next(r.Context())
		if err != nil {
			return nil // the reader left
		}
		// Before anything is written: a batch larger than the buffer
		// reaches the connection while it is being written.
		_ = rc.SetWriteDeadline(time.Now().Add(st.Heartbeat() + writeSlack))
		switch {
		case b.Stopping:
			event(out, 0, feed.Stopping, map[string]any{"lastEventId": st.LastEventID()})
			send()
			return nil
		case b.End != "":
			event(out, 0, feed.End, map[string]any{"reason": b.End, "lastEventId": st.LastEventID()})
			send()
			return nil
		case b.Heartbeat:
			fmt.Fprintf(out, ": heartbeat %s\n\n", time.Now().UTC().Format(time.RFC3339))
		}
		if b.Lost != nil {
			event(out, b.Lost.LastEventID, feed.Lost, b.Lost)
		}
		for _, e := range b.Events {
			event(out, e.ID, e.Name, e.Data)
		}
		if !send() {
			return nil
		}
	}
}

// event writes one SSE event: its id (when it has one), name and JSON
// data on one line (JSON never holds a raw newline).
func event(out *bufio.Writer, id uint64, name string, data any) {
	body, err := json.Marshal(data)
	if err != nil {
		body = []byte(`{}`)
	}
	if id != 0 {
		fmt.Fprintf(out, "id: %d\n", id)
	}
	fmt.Fprintf(out, "event: %s\ndata: %s\n\n", name, body)
}
