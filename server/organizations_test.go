package server

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestOrganizations(t *testing.T) {
	f := newFixture(t, nil)
	list := f.do(t, "GET", "/api/v1/partner/organizations", keyA, "").json(t)
	if list["total"] != 3.0 || list["page"] != 1.0 || list["pageSize"] != 20.0 {
		t.Fatalf("seeded list: %v", list)
	}
	orgs := list["organizations"].([]any)
	first := orgs[0].(map[string]any)
	for _, k := range []string{"id", "name", "externalId", "status", "tier", "credits", "metadata", "createdAt"} {
		if _, ok := first[k]; !ok {
			t.Errorf("organization lacks %q: %v", k, first)
		}
	}

	r := f.do(t, "POST", "/api/v1/partner/organizations", keyA,
		`{"name": "Globex Corporation", "externalId": "cust_42", "tier": "paid", "credits": 500, "metadata": {"plan": "scale"}}`)
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	created := r.json(t)["organization"].(map[string]any)
	if created["name"] != "Globex Corporation" || created["externalId"] != "cust_42" || created["status"] != "active" ||
		created["tier"] != "paid" || created["credits"] != 500.0 || created["metadata"].(map[string]any)["plan"] != "scale" {
		t.Fatalf("created %v", created)
	}
	id := created["id"].(string)
	// Created now in mock time, so it lists first (newest first).
	if created["createdAt"] != epoch.Format(time.RFC3339) {
		t.Errorf("createdAt %v, want the mock's now %s", created["createdAt"], epoch.Format(time.RFC3339))
	}
	if newest := f.do(t, "GET", "/api/v1/partner/organizations", keyA, "").json(t)["organizations"].([]any)[0].(map[string]any); newest["id"] != id {
		t.Errorf("newest first lists %v first, not the one just created", newest["name"])
	}

	got := f.do(t, "GET", "/api/v1/partner/organizations/"+id, keyA, "").json(t)["organization"].(map[string]any)
	if fmt.Sprint(got) != fmt.Sprint(created) {
		t.Fatalf("get %v, want %v", got, created)
	}
	assertError(t, f.do(t, "POST", "/api/v1/partner/organizations", keyA, `{"name": "Other", "externalId": "cust_42"}`), 409, CodeConflict, "externalId \"cust_42\" exists")

	seeded := map[string]float64{}
	for _, o := range orgs {
		seeded[o.(map[string]any)["status"].(string)]++
	}
	filters := []struct {
		query string
		total float64
	}{
		{"externalId=cust_42", 1},
		{"externalId=nope", 0},
		{"search=globex", 1},
		{"search=GLOBEX", 1},
		{"search=cust_4", 1},
		{"status=active", seeded["active"] + 1},
		{"status=suspended", seeded["suspended"]},
		{"status=canceled", seeded["canceled"]},
		{"status=active&search=globex", 1},
		{"pageSize=2", 4},
	}
	for _, c := range filters {
		v := f.do(t, "GET", "/api/v1/partner/organizations?"+c.query, keyA, "").json(t)
		if v["total"] != c.total {
			t.Errorf("%s: total %v, want %v", c.query, v["total"], c.total)
		}
	}
	page2 := f.do(t, "GET", "/api/v1/partner/organizations?page=2&pageSize=3", keyA, "").json(t)
	if n := len(page2["organizations"].([]any)); n != 1 {
		t.Errorf("page 2 of 3 has %d organizations, want 1", n)
	}
	// Newest first.
	all := f.do(t, "GET", "/api/v1/partner/organizations", keyA, "").json(t)["organizations"].([]any)
	for i := 1; i < len(all); i++ {
		if all[i-1].(map[string]any)["createdAt"].(string) < all[i].(map[string]any)["createdAt"].(string) {
			t.Fatalf("not newest first: %v", all)
		}
	}

	// Tenant isolation: B sees neither A's organization nor its count.
	assertError(t, f.do(t, "GET", "/api/v1/partner/organizations/"+id, keyB, ""), 404, CodeNotFound, "not found")
	if v := f.do(t, "GET", "/api/v1/partner/organizations?search=globex", keyB, "").json(t); v["total"] != 0.0 {
		t.Fatalf("B sees A's organization: %v", v)
	}
	if strings.Contains(string(f.do(t, "GET", "/api/v1/partner/organizations", keyB, "").body), id) {
		t.Fatal("B's listing names A's organization")
	}
}
