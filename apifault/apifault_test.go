package apifault

import (
	"errors"
	"testing"

	"github.com/bullseye-mock/bullseye-mock/journal"
)

func pattern(t *testing.T, s string) journal.Pattern {
	t.Helper()
	p, err := journal.ParsePattern(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFireOrderTimesAndPartner(t *testing.T) {
	s := NewSet(1)
	a, _ := s.Add(Fault{Method: "get", Path: pattern(t, "/api/v1/partner/webhooks"), Status: 503, Times: 2})
	b, _ := s.Add(Fault{Path: pattern(t, "/api/v1/**"), Status: 500, PartnerID: "p2"})
	if a.ID != "flt_1" || b.ID != "flt_2" || a.Method != "GET" {
		t.Fatalf("ids %s %s method %s", a.ID, b.ID, a.Method)
	}
	fire := func(method, path, partner string) string {
		f, ok := s.Fire(method, path, partner)
		if !ok {
			return "-"
		}
		return f.ID
	}
	seq := []string{
		fire("GET", "/api/v1/partner/webhooks", "p1"),
		fire("GET", "/api/v1/partner/webhooks", "p2"),
		fire("GET", "/api/v1/partner/webhooks", "p1"), // flt_1 is spent
		fire("GET", "/api/v1/partner/webhooks", "p2"),
		fire("PUT", "/api/v1/partner/webhooks", ""),
	}
	want := []string{"flt_1", "flt_1", "-", "flt_2", "-"}
	for i := range want {
		if seq[i] != want[i] {
			t.Errorf("fire %d = %s, want %s (%v)", i, seq[i], want[i], seq)
		}
	}
	got, _ := s.Get("flt_1")
	if got.Fired != 2 || !got.Spent() || got.Matched != 2 {
		t.Errorf("flt_1 = %+v", got)
	}
	if _, err := s.Remove("flt_9"); !errors.Is(err, ErrNotFound) {
		t.Errorf("remove unknown = %v", err)
	}
	if n := s.Clear(); n != 2 {
		t.Errorf("cleared %d", n)
	}
	if c, _ := s.Add(Fault{Path: pattern(t, "/api/v1/x"), Status: 500}); c.ID != "flt_3" {
		t.Errorf("ids go on after Clear: %s", c.ID)
	}
	s.Reset()
	if c, _ := s.Add(Fault{Path: pattern(t, "/api/v1/x"), Status: 500}); c.ID != "flt_1" {
		t.Errorf("ids restart after Reset: %s", c.ID)
	}
}

func TestShareIsSeededAndBounded(t *testing.T) {
	run := func(seed int64) (string, int) {
		s := NewSet(seed)
		_, _ = s.Add(Fault{Path: pattern(t, "/api/v1/**"), Status: 500, Share: 0.3, Times: 10})
		var b []byte
		n := 0
		for range 200 {
			if _, ok := s.Fire("GET", "/api/v1/partner/billing", ""); ok {
				b, n = append(b, '5'), n+1
			} else {
				b = append(b, '.')
			}
		}
		return string(b), n
	}
	a, n := run(7)
	if b, _ := run(7); a != b {
		t.Error("one seed gave two sequences")
	}
	if c, _ := run(8); a == c {
		t.Error("two seeds gave one sequence")
	}
	if n != 10 {
		t.Errorf("fired %d, want times=10", n)
	}
}

func TestCap(t *testing.T) {
	s := NewSet(0)
	for range MaxFaults {
		if _, err := s.Add(Fault{Path: pattern(t, "/api/v1/x"), Status: 500}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Add(Fault{Path: pattern(t, "/api/v1/x"), Status: 500}); !errors.Is(err, ErrFull) {
		t.Errorf("over the cap = %v", err)
	}
}
