package journal

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestPattern(t *testing.T) {
	for _, c := range []struct {
		pattern, path string
		want          bool
	}{
		{"/api/v1/partner/webhooks", "/api/v1/partner/webhooks", true},
		{"/api/v1/partner/webhooks", "/api/v1/partner/webhooks/logs", false},
		{"/api/v1/partner/webhooks/*", "/api/v1/partner/webhooks/logs", true},
		{"/api/v1/partner/webhooks/*", "/api/v1/partner/webhooks", false},
		{"/api/v1/partner/webhooks/*", "/api/v1/partner/webhooks/a/b", false},
		{"/api/v1/**", "/api/v1", true},
		{"/api/v1/**", "/api/v1/partner/organizations/x/credits", true},
		{"/api/v1/**/credits", "/api/v1/partner/organizations/x/credits", true},
		{"/api/v1/**/credits", "/api/v1/partner/billing", false},
		{"/api/v1/partner/organizations/*/credits", "/api/v1/partner/organizations/abc/credits", true},
		{"/api/v1/partner/web*", "/api/v1/partner/webhooks", true},
		{"/api/v1/partner/webhooks/[bi]*", "/api/v1/partner/webhooks/billing", true},
		{"/api/v1/partner/webhooks/[bi]*", "/api/v1/partner/webhooks/test", false},
		{"/api/v1/x", "api/v1/x", false},
	} {
		p, err := ParsePattern(c.pattern)
		if err != nil {
			t.Fatalf("%s: %v", c.pattern, err)
		}
		if got := p.Match(c.path); got != c.want {
			t.Errorf("%s matches %s = %v, want %v", c.pattern, c.path, got, c.want)
		}
	}
	for _, bad := range []string{"", "api/v1", "/api/v1/[", "/api/\\", "/" + strings.Repeat("a", MaxPattern)} {
		if _, err := ParsePattern(bad); err == nil {
			t.Errorf("ParsePattern(%q) accepted", bad)
		}
	}
	if !(Pattern{}).Match("/anything") || !(Pattern{}).IsZero() {
		t.Error("the zero pattern must match everything")
	}
}

func FuzzPattern(f *testing.F) {
	for _, s := range []string{"/api/v1/**", "/a/*/b", "/[a-", "/**/**/x", "/a\\*"} {
		f.Add(s, "/api/v1/partner/webhooks")
	}
	f.Fuzz(func(t *testing.T, pattern, path string) {
		p, err := ParsePattern(pattern)
		if err != nil {
			return
		}
		_ = p.Match(path) // never panics
		if !strings.ContainsAny(pattern, `*?[\`) && p.Match(path) != (pattern == path) {
			t.Errorf("literal %q matches %q = %v", pattern, path, p.Match(path))
		}
	})
}

func TestJournalCapAndFilters(t *testing.T) {
	j := New(3)
	at := time.Date(2025, 1, 15, 10, 0, 0, 0, time.UTC)
	for i, c := range []struct{ method, path, body string }{
		{"PUT", "/api/v1/partner/webhooks/identification", `{"enabled":true,"secret":"s","url":"u"}`},
		{"PUT", "/api/v1/partner/webhooks/identification", `{"enabled":false,"secret":""}`},
		{"GET", "/api/v1/partner/webhooks", ""},
		{"POST", "/api/v1/partner/organizations", `{"name":"A","metadata":{"plan":"pro"}}`},
	} {
		e := Entry{Time: at.Add(time.Duration(i) * time.Minute), Method: c.method, Path: c.path, Body: c.body, Status: 200 + i,
			Headers: map[string][]string{"X-Partner-Api-Key": {"key-" + c.method}}}
		if got := j.Add(e); got.ID != int64(i+1) {
			t.Fatalf("id %d, want %d", got.ID, i+1)
		}
	}
	if st := j.Stats(); st.Held != 3 || st.Evicted != 1 || st.Cap != 3 {
		t.Errorf("stats = %+v", st)
	}
	all, n := j.List(Filter{}, 1, 10)
	if n != 3 || all[0].ID != 4 || all[2].ID != 2 {
		t.Errorf("list = %d %v", n, all)
	}
	webhooks, _ := ParsePattern("/api/v1/partner/webhooks/*")
	for name, c := range map[string]struct {
		f    Filter
		want int
	}{
		"method":       {Filter{Method: "put"}, 1},
		"path":         {Filter{Path: webhooks}, 1},
		"status":       {Filter{Status: 203}, 1},
		"class":        {Filter{Class: 2}, 3},
		"key":          {Filter{APIKey: "key-GET"}, 1},
		"since":        {Filter{Since: at.Add(2 * time.Minute)}, 2},
		"after":        {Filter{After: 3}, 1},
		"body":         {Filter{Body: map[string]any{"enabled": false}}, 1},
		"nested body":  {Filter{Body: map[string]any{"metadata": map[string]any{"plan": "pro"}}}, 1},
		"has":          {Filter{Has: []string{"metadata.plan"}}, 1},
		"has empty":    {Filter{Has: []string{"secret"}}, 0}, // the evicted entry had one; the held one is ""
		"body no json": {Filter{Method: "GET", Body: map[string]any{}}, 0},
	} {
		if got := j.Count(c.f); got != c.want {
			t.Errorf("%s: %d, want %d", name, got, c.want)
		}
	}
	j.Reset()
	if st := j.Stats(); st.Held != 0 || st.Evicted != 0 {
		t.Errorf("after reset %+v", st)
	}
	if e := j.Add(Entry{}); e.ID != 1 {
		t.Errorf("ids restart at 1 after reset, got %d", e.ID)
	}
}

func TestWaitIsWokenByAdd(t *testing.T) {
	j := New(10)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := make(chan bool)
	go func() {
		_, _, ok := j.Wait(ctx, Filter{Method: "PUT"}, 2, 10)
		got <- ok
	}()
	j.Add(Entry{Method: "PUT"})
	j.Add(Entry{Method: "GET"})
	j.Add(Entry{Method: "PUT"})
	if !<-got {
		t.Error("wait not met by two PUTs")
	}
	short, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if entries, n, ok := j.Wait(short, Filter{Method: "DELETE"}, 1, 10); ok || len(entries) != 0 || n != 0 {
		t.Errorf("cancelled wait = %v %d %v", entries, n, ok)
	}
	// A wait sees evictions and resets: with cap 10, ids 1..3 were PUT/GET/PUT.
	for range 10 {
		j.Add(Entry{Method: "GET"})
	}
	if _, n, _ := j.Wait(short, Filter{Method: "PUT"}, 1, 10); n != 0 {
		t.Errorf("evicted PUTs still counted: %d", n)
	}
	j.Reset()
	j.Add(Entry{Method: "PUT"})
	if list, n, ok := j.Wait(short, Filter{Method: "PUT"}, 1, 10); !ok || n != 1 || list[0].ID != 1 {
		t.Errorf("after reset: %v %d %v", list, n, ok)
	}
}

// BenchmarkBodyFilter counts a body filter over a full journal of 7 KB
// bodies, and a page without one: what a wait or a listing holds the lock
// for.
func BenchmarkBodyFilter(b *testing.B) {
	j := New(DefaultCap)
	body := `{"enabled":true,"url":"https://x","pad":"` + strings.Repeat("p", 7<<10) + `"}`
	for range DefaultCap {
		j.Add(Entry{Method: "PUT", Body: body})
	}
	b.Run("count-body", func(b *testing.B) {
		for range b.N {
			if j.Count(Filter{Body: map[string]any{"enabled": true}}) != DefaultCap {
				b.Fatal("count")
			}
		}
	})
	b.Run("page-20", func(b *testing.B) {
		for range b.N {
			if l, _ := j.List(Filter{}, 1, 20); len(l) != 20 {
				b.Fatal("page")
			}
		}
	})
}
