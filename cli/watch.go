package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/bullseye-mock/bullseye-mock/feed"
)

// watch prints a serving mock's changes as they happen: GET /_mock/stream
// read as Server-Sent Events, one line per event. The mock checks the
// filters (a bad one is its 400, printed as one line, exit 2); with
// --limit, watch is how a shell script waits for the next matching change.
type watchCmd struct {
	URL          string        `name:"url" default:"http://127.0.0.1:8080" env:"BULLSEYE_MOCK_WATCH_URL" help:"The serving mock to watch."`
	AdminToken   string        `name:"admin-token" env:"BULLSEYE_MOCK_ADMIN_TOKEN" help:"The mock's admin token, when it has one."`
	Events       []string      `name:"events" sep:"," help:"Kinds to print: delivery, attempt, sink, request, clock, reset (default all)."`
	APIKey       string        `name:"api-key" help:"Only this partner's deliveries, attempts and requests (by key)."`
	PartnerID    string        `name:"partner-id" help:"Only this partner's deliveries, attempts and requests (by id)."`
	Type         string        `name:"type" help:"Only deliveries and attempts of this webhook kind (identification, billing)."`
	EventType    string        `name:"event-type" help:"Only deliveries and attempts of this event type."`
	Organization string        `name:"organization-id" help:"Only deliveries and attempts of this organization."`
	State        string        `name:"state" help:"Only deliveries in this state, and attempts with this status."`
	DeliveryID   string        `name:"delivery-id" help:"Only the deliveries, attempts and sink requests of this delivery."`
	Sink         string        `name:"sink" help:"Only this sink's requests."`
	Limit        int           `name:"limit" help:"Exit 0 after this many change events (0: no limit)."`
	Timeout      time.Duration `name:"timeout" help:"Stop after this long; with --limit, reaching it first is a failure (exit 1)."`
	LastEventID  string        `name:"last-event-id" help:"Resume after this event id (the mock keeps changes from the first stream on)."`
	JSON         bool          `name:"json" help:"Print each event as one JSON object {id, event, data} per line."`
}

func (c *watchCmd) Run(e *env) error {
	u, err := url.Parse(strings.TrimRight(c.URL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usagef("--url must be the mock's http or https URL, got %q", c.URL)
	}
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("events", strings.Join(c.Events, ","))
	set("apiKey", c.APIKey)
	set("partnerId", c.PartnerID)
	set("type", c.Type)
	set("eventType", c.EventType)
	set("organizationId", c.Organization)
	set("state", c.State)
	set("deliveryId", c.DeliveryID)
	set("sink", c.Sink)
	set("lastEventId", c.LastEventID)
	if c.Limit != 0 {
		q.Set("limit", strconv.Itoa(c.Limit))
	}
	if c.Timeout != 0 {
		q.Set("timeout", c.Timeout.String())
	}
	u.Path += "/_mock/stream"
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(e.ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return usageError{err}
	}
	if c.AdminToken != "" {
		req.Header.Set("Authorization", "Bearer "+c.AdminToken)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		if e.ctx.Err() != nil {
			return nil // interrupted: a watch ends that way
		}
		return exitError{code: ExitFailed, msg: fmt.Sprintf("watch %s: %v", c.URL, err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var v struct{ Message string }
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if json.Unmarshal(body, &v) != nil || v.Message == "" {
			v.Message = strings.TrimSpace(string(body))
		}
		err := fmt.Errorf("GET /_mock/stream answered %d: %s", resp.StatusCode, v.Message)
		if resp.StatusCode == http.StatusBadRequest {
			return usageError{err}
		}
		return exitError{code: ExitFailed, msg: err.Error()}
	}
	return c.print(e, resp.Body)
}

// print reads the stream's events and prints them until it ends.
func (c *watchCmd) print(e *env, body io.Reader) error {
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	var id, name, data string
	changes := 0
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "id: "):
			id = line[4:]
		case strings.HasPrefix(line, "event: "):
			name = line[7:]
		case strings.HasPrefix(line, "data: "):
			data = line[6:]
		case line == "" && name != "":
			var v map[string]any
			_ = json.Unmarshal([]byte(data), &v)
			switch name {
			case feed.Hello:
				if clk, ok := v["clock"].(map[string]any); ok && !c.JSON {
					fmt.Fprintf(e.stderr, "watching %s (mock time %v)\n", c.URL, clk["now"])
				}
			case feed.End:
				if v["reason"] == "timeout" && c.Limit > 0 {
					return exitError{code: ExitFailed, msg: fmt.Sprintf("timeout: %d of %d events in %s", changes, c.Limit, c.Timeout)}
				}
				return nil
			case feed.Stopping:
				fmt.Fprintln(e.stderr, "the mock is shutting down")
				return nil
			default:
				if name != feed.Lost {
					changes++
				}
				c.line(e.stdout, id, name, data, v)
			}
			id, name, data = "", "", ""
		}
	}
	if err := sc.Err(); err != nil && !errors.Is(err, io.EOF) && e.ctx.Err() == nil {
		return exitError{code: ExitFailed, msg: fmt.Sprintf("watch %s: %v", c.URL, err)}
	}
	return nil
}

// line prints one event: as JSON, or as words for people.
func (c *watchCmd) line(w io.Writer, id, name, data string, v map[string]any) {
	if c.JSON {
		n, _ := strconv.ParseUint(id, 10, 64)
		fmt.Fprintf(w, `{"id":%d,"event":%q,"data":%s}`+"\n", n, name, data)
		return
	}
	s := func(k string) string {
		if x, ok := v[k]; ok && x != nil {
			return fmt.Sprint(x)
		}
		return ""
	}
	short := func(id string) string { return id[:min(8, len(id))] }
	var text string
	switch name {
	case "delivery":
		text = fmt.Sprintf("%s %s %s, %s attempts", short(s("id")), s("eventType"), s("state"), s("attemptCount"))
		if next := s("nextAttemptAt"); next != "" {
			text += ", next " + next
		}
	case "attempt":
		text = fmt.Sprintf("%s #%s %s %s in %sms to %s", short(s("deliveryId")), s("attempt"), s("status"), s("statusCode"), s("responseTimeMs"), s("url"))
		if err := s("error"); err != "" {
			text += ": " + err
		}
	case "sink":
		text = fmt.Sprintf("%s #%s from %s attempt %s: signature %s, answered %s", s("sink"), s("seq"), short(s("deliveryId")), s("attempt"), s("signature"), s("status"))
	case "request":
		text = fmt.Sprintf("#%s %s %s %s in %sms", s("id"), s("method"), s("path"), s("status"), s("latencyMs"))
	case "clock":
		text = "now " + s("now")
	case "lost":
		text = fmt.Sprintf("%s events missed (%s)", s("missed"), s("reason"))
	default:
		text = data
	}
	fmt.Fprintf(w, "%-6s %-8s %s\n", id, name, text)
}
