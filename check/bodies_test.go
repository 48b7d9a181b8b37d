package check

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/fixtures"
)

// Each raw_* body must be valid JSON, carry the bytes its case claims, and
// differ from what a Go or Python receiver would write back after parsing:
// otherwise the case could not catch a re-serialising verifier.
func TestRawBodies(t *testing.T) {
	b := newRunner(Config{Seed: 1, Now: func() time.Time { return fixtures.ExampleTime() }}).forCase("t")
	plain := b.payload(bullseye.EventVisitorIdentified, bullseye.DialectPartner)
	var want any
	json.Unmarshal(plain, &want)
	contains := map[string]string{
		"raw_escaped_unicode": `Acme\u2028Caf\u00e9`,
		"raw_emoji":           `🎯 Inc \ud83d\ude80`,
		"raw_escaped_slashes": `https:\/\/`,
		"raw_whitespace":      "\"event_type\" :\t\"visitor.identified\",\r\n\t ",
		"raw_key_order":       `{"page_views":[`,
	}
	for _, c := range battery {
		if c.shape == nil {
			continue
		}
		body := c.shape(plain)
		if s, ok := contains[c.name]; !ok || !bytes.Contains(body, []byte(s)) {
			t.Errorf("%s: body lacks %q: %.200s", c.name, s, body)
		}
		delete(contains, c.name)
		var got any
		if err := json.Unmarshal(body, &got); err != nil {
			t.Errorf("%s: invalid JSON: %v", c.name, err)
			continue
		}
		if c.name == "raw_escaped_slashes" || c.name == "raw_whitespace" || c.name == "raw_key_order" {
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: means something else than the plain payload", c.name)
			}
		}
		goBytes, _ := json.Marshal(got)
		if bytes.Equal(goBytes, body) || bytes.Equal(bullseye.Reserialize(body), body) {
			t.Errorf("%s: a re-serialisation gives the same bytes", c.name)
		}
	}
	if len(contains) > 0 {
		t.Errorf("no raw case for %v", contains)
	}
}
