package store

import (
	"errors"
	"testing"
	"time"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
)

func TestCreditPool(t *testing.T) {
	s := New()
	p, _ := s.AddPartner("k")
	at := time.Date(2025, 3, 31, 23, 59, 0, 0, time.UTC)
	if _, err := s.AddOrganization(p.ID, bullseye.Organization{ID: "a", Credits: 60_000}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddOrganization(p.ID, bullseye.Organization{ID: "b", Credits: 40_001}); !errors.Is(err, ErrOverPool) {
		t.Fatalf("an organization past the pool: %v", err)
	}
	if _, err := s.AddOrganization(p.ID, bullseye.Organization{ID: "b", Credits: 40_000}); err != nil {
		t.Fatalf("an organization filling the pool exactly: %v", err)
	}
	if _, _, err := s.Allocate(p.ID, "b", 40_001, "", at); !errors.Is(err, ErrOverPool) {
		t.Fatalf("allocation past the pool: %v", err)
	}
	before, after, err := s.Allocate(p.ID, "a", 10_000, "down", at)
	if err != nil || before.CreditsAllocated != 60_000 || after.CreditsAllocated != 10_000 || after.Notes != "down" || before.ID != after.ID {
		t.Fatalf("allocate: %+v -> %+v, %v", before, after, err)
	}
	s.UseCredit(p.ID, "a")
	s.UseCredit(p.ID, "a")
	s.UseCredit(p.ID, "nope") // ignored
	s.UseCredit("nobody", "a")
	if a, _ := s.Allocation(p.ID, "a"); a.CreditsUsed != 2 {
		t.Fatalf("credits used %d", a.CreditsUsed)
	}
	b, err := s.Billing(p.ID, at)
	if err != nil || b.PoolTotal != CreditPool || b.PoolUsed != 50_000 || b.Mode != bullseye.BillingCreditPool ||
		!b.PeriodStart.Equal(time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)) || !b.PeriodEnd.Equal(time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("billing %+v, %v", b, err)
	}
	if _, _, err := s.Allocate(p.ID, "nope", 1, "", at); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown organization: %v", err)
	}
	if org, _ := s.Organization(p.ID, "a"); org.Credits != 10_000 {
		t.Fatalf("organization credits %d", org.Credits)
	}
}
