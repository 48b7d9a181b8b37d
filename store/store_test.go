package store

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
)

func TestAuthenticate(t *testing.T) {
	s := New()
	a, _ := s.AddPartner("key-a")
	b, _ := s.AddPartner("key-b")
	again, _ := s.AddPartner("key-a")
	if again != a || a.ID == b.ID || a.ID == "" {
		t.Fatalf("partners a=%v b=%v again=%v", a, b, again)
	}
	if _, err := s.AddPartner(""); err == nil {
		t.Fatal("an empty key was accepted")
	}
	cases := []struct {
		key  string
		want Partner
		ok   bool
	}{
		{"key-a", a, true},
		{"key-b", b, true},
		{"", Partner{}, false},
		{"key-", Partner{}, false},
		{"key-a ", Partner{}, false},
		{"KEY-A", Partner{}, false},
	}
	for _, c := range cases {
		got, _, ok := s.Authenticate(c.key)
		if got != c.want || ok != c.ok {
			t.Errorf("Authenticate(%q) = %v, %v; want %v, %v", c.key, got, ok, c.want, c.ok)
		}
	}
	if got := len(s.Partners()); got != 2 {
		t.Fatalf("%d partners", got)
	}
	// Ids are stable for a key across stores.
	if p, _ := New().AddPartner("key-a"); p.ID != a.ID {
		t.Fatal("partner id differs between runs")
	}
}

func TestWebhookPatches(t *testing.T) {
	s := New()
	p, _ := s.AddPartner("k")
	u, sec, on, off := "https://x/h", "s", true, false
	steps := []struct {
		patch WebhookPatch
		want  Webhook
	}{
		{WebhookPatch{}, Webhook{}},
		{WebhookPatch{URL: &u, Secret: &sec, Enabled: &on}, Webhook{URL: u, Secret: sec, Enabled: true}},
		{WebhookPatch{Enabled: &off}, Webhook{URL: u, Secret: sec}},
		{WebhookPatch{Dialect: ptr(bullseye.DialectIntegration)}, Webhook{URL: u, Secret: sec, Dialect: bullseye.DialectIntegration}},
	}
	for i, st := range steps {
		got, err := s.UpdateWebhook(p.ID, bullseye.KindIdentification, st.patch)
		if err != nil || got != st.want {
			t.Fatalf("step %d: %+v, %v; want %+v", i, got, err, st.want)
		}
	}
	if w, _ := s.Webhook(p.ID, bullseye.KindBilling); w != (Webhook{}) {
		t.Fatalf("billing changed with identification: %+v", w)
	}
	if tg, ok := s.Target(p.ID, bullseye.KindIdentification); !ok || tg != (bullseye.Target{URL: u, Secret: sec}) {
		t.Fatalf("target %+v %v", tg, ok)
	}
	for _, err := range []error{
		func() error { _, err := s.UpdateWebhook(p.ID, "sms", WebhookPatch{}); return err }(),
		func() error { _, err := s.UpdateWebhook("nobody", bullseye.KindBilling, WebhookPatch{}); return err }(),
		func() error { _, err := s.Webhook(p.ID, "sms"); return err }(),
	} {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("err %v, want ErrNotFound", err)
		}
	}
	if _, ok := s.Target("nobody", bullseye.KindBilling); ok {
		t.Fatal("target of an unknown partner")
	}
}

func TestOrganizationsFilterAndPage(t *testing.T) {
	s := New()
	p, _ := s.AddPartner("k")
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, st := range []string{"active", "suspended", "active", "canceled"} {
		o := bullseye.Organization{ID: fmt.Sprint("o", i), Name: fmt.Sprint("Org ", i), ExternalID: fmt.Sprint("ext-", i), Status: st, CreatedAt: base.Add(time.Duration(i) * time.Hour)}
		if _, err := s.AddOrganization(p.ID, o); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.AddOrganization(p.ID, bullseye.Organization{ID: "o0"}); !errors.Is(err, ErrConflict) {
		t.Fatalf("duplicate id: %v", err)
	}
	if _, err := s.AddOrganization(p.ID, bullseye.Organization{ID: "o9", ExternalID: "ext-1"}); !errors.Is(err, ErrConflict) {
		t.Fatalf("duplicate externalId: %v", err)
	}
	cases := []struct {
		f     OrgFilter
		ids   string
		total int
	}{
		{OrgFilter{Page: 1, PageSize: 20}, "[o3 o2 o1 o0]", 4},
		{OrgFilter{Status: "active", Page: 1, PageSize: 20}, "[o2 o0]", 2},
		{OrgFilter{Search: "org 1", Page: 1, PageSize: 20}, "[o1]", 1},
		{OrgFilter{Search: "EXT-3", Page: 1, PageSize: 20}, "[o3]", 1},
		{OrgFilter{ExternalID: "ext-2", Page: 1, PageSize: 20}, "[o2]", 1},
		{OrgFilter{Page: 2, PageSize: 3}, "[o0]", 4},
		{OrgFilter{Page: 3, PageSize: 3}, "[]", 4},
	}
	for _, c := range cases {
		got, total, err := s.Organizations(p.ID, c.f)
		var ids []string
		for _, o := range got {
			ids = append(ids, o.ID)
		}
		if err != nil || fmt.Sprint(ids) != c.ids && !(len(ids) == 0 && c.ids == "[]") || total != c.total {
			t.Errorf("%+v: %v %d %v; want %s %d", c.f, ids, total, err, c.ids, c.total)
		}
	}
	if _, err := s.Organization(p.ID, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown org: %v", err)
	}
}

func TestPage(t *testing.T) {
	items := []int{1, 2, 3, 4, 5}
	cases := []struct {
		page, size int
		want       string
	}{
		{1, 2, "[1 2]"}, {3, 2, "[5]"}, {4, 2, "[]"}, {0, 2, "[]"}, {1, 0, "[]"}, {1, 10, "[1 2 3 4 5]"}, {1 << 40, 1 << 40, "[]"},
	}
	for _, c := range cases {
		if got := fmt.Sprint(Page(items, c.page, c.size)); got != c.want {
			t.Errorf("Page(%d, %d) = %s, want %s", c.page, c.size, got, c.want)
		}
	}
}

// TestConcurrentUse runs readers and writers released together, for -race.
func TestConcurrentUse(t *testing.T) {
	s := New()
	p, _ := s.AddPartner("k")
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			u := fmt.Sprint("https://x/", i)
			_, _ = s.UpdateWebhook(p.ID, bullseye.KindIdentification, WebhookPatch{URL: &u})
			_, _ = s.AddOrganization(p.ID, bullseye.Organization{ID: fmt.Sprint(i)})
			s.Authenticate("k")
			s.Target(p.ID, bullseye.KindIdentification)
			_, _, _ = s.Organizations(p.ID, OrgFilter{Page: 1, PageSize: 5})
		}(i)
	}
	close(start)
	wg.Wait()
	if _, total, _ := s.Organizations(p.ID, OrgFilter{Page: 1, PageSize: 1}); total != 8 {
		t.Fatalf("%d organizations after 8 concurrent adds", total)
	}
}

func ptr[T any](v T) *T { return &v }

func TestKeys(t *testing.T) {
	s := New()
	a, _ := s.AddPartner("key-a")
	b, _ := s.AddPartner("key-b")
	if _, err := s.AddKey(Key{Key: "ro", PartnerID: a.ID, Scopes: []string{"read"}}); err != nil {
		t.Fatal(err)
	}
	p, k, ok := s.Authenticate("ro")
	if !ok || p.ID != a.ID || len(k.Scopes) != 1 || k.Scopes[0] != "read" || k.Primary {
		t.Fatalf("Authenticate(ro) = %v %v %v", p, k, ok)
	}
	// Adding it again sets its scopes; another partner cannot take it, and
	// a primary key keeps full access.
	if k, err := s.AddKey(Key{Key: "ro", PartnerID: a.ID, Scopes: []string{"write"}}); err != nil || k.Scopes[0] != "write" {
		t.Errorf("re-adding = %v, %v", k, err)
	}
	for _, bad := range []Key{
		{Key: "ro", PartnerID: b.ID},
		{Key: "key-a", PartnerID: a.ID, Scopes: []string{"read"}},
	} {
		if _, err := s.AddKey(bad); !errors.Is(err, ErrConflict) {
			t.Errorf("AddKey(%v) = %v, want a conflict", bad, err)
		}
	}
	for _, bad := range []Key{{Key: "", PartnerID: a.ID}, {Key: "x", PartnerID: "nobody"}, {Key: "y", PartnerID: a.ID, Scopes: []string{"root"}}} {
		if _, err := s.AddKey(bad); err == nil {
			t.Errorf("AddKey(%v) accepted", bad)
		}
	}
	if _, err := s.RevokeKey("key-a"); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := s.Authenticate("key-a"); ok {
		t.Error("a revoked key authenticates")
	}
	if _, err := s.RevokeKey("key-a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("revoking twice = %v", err)
	}
	// Registering the partner again gives its key back.
	if again, err := s.AddPartner("key-a"); err != nil || again.ID != a.ID {
		t.Fatalf("AddPartner again = %v, %v", again, err)
	}
	if _, k, ok := s.Authenticate("key-a"); !ok || !k.Primary || len(k.Scopes) != 0 {
		t.Errorf("restored key = %v %v", k, ok)
	}
	if got := len(s.Keys()); got != 3 {
		t.Errorf("%d keys, want 3", got)
	}
}
