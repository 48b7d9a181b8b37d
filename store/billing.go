package store

import (
	"errors"
	"fmt"
	"time"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/google/uuid"
)

// ErrOverPool is an allocation beyond the partner's credit pool: the
// vendor's 422.
var ErrOverPool = errors.New("allocation beyond the credit pool")

// CreditPool is each partner's pool of credits per billing period.
const CreditPool = 100_000

// Allocation is the credits one organization holds in the current period.
// Each identification it receives uses one.
type Allocation struct {
	ID               string
	PartnerID        string
	OrganizationID   string
	CreditsAllocated int
	CreditsUsed      int
	Notes            string
	AllocatedAt      time.Time
}

// Billing is a partner's billing summary.
type Billing struct {
	Mode        string
	PeriodStart time.Time
	PeriodEnd   time.Time
	PoolTotal   int
	PoolUsed    int // allocated to organizations
}

// Period is the calendar month (UTC) that holds t: the billing period.
func Period(t time.Time) (start, end time.Time) {
	t = t.UTC()
	start = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	return start, start.AddDate(0, 1, 0)
}

var allocationNamespace = uuid.MustParse("0d5a3c1e-7b2f-4e8a-9c61-5f3e2d1a0b9c")

// allocation returns an organization's allocation, making an empty one;
// its id is stable for a partner and an organization.
func (p *partner) allocation(orgID string) *Allocation {
	if a, ok := p.allocations[orgID]; ok {
		return a
	}
	a := &Allocation{
		ID:             uuid.NewSHA1(allocationNamespace, []byte(p.ID+"|"+orgID)).String(),
		PartnerID:      p.ID,
		OrganizationID: orgID,
	}
	if p.allocations == nil {
		p.allocations = map[string]*Allocation{}
	}
	p.allocations[orgID] = a
	return a
}

func (p *partner) org(orgID string) (int, error) {
	for i, o := range p.orgs {
		if o.ID == orgID {
			return i, nil
		}
	}
	return 0, fmt.Errorf("organization %q: %w", orgID, ErrNotFound)
}

// allocated sums the allocations of every organization but skip.
func (p *partner) allocated(skip string) int {
	sum := 0
	for id, a := range p.allocations {
		if id != skip {
			sum += a.CreditsAllocated
		}
	}
	return sum
}

// checkPool reports whether credits for orgID fit in the pool beside the
// other organizations' allocations.
func (p *partner) checkPool(orgID string, credits int) error {
	if others := p.allocated(orgID); others+credits > CreditPool {
		return fmt.Errorf("%w: %d credits asked, %d of the pool's %d are left", ErrOverPool, credits, max(CreditPool-others, 0), CreditPool)
	}
	return nil
}

// Allocate sets an organization's credits and returns its allocation
// before and after. The organizations' allocations together may not exceed
// the partner's credit pool (the vendor's credit_pool billing mode).
func (s *Store) Allocate(partnerID, orgID string, credits int, notes string, at time.Time) (before, after Allocation, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.partner(partnerID)
	if err != nil {
		return before, after, err
	}
	i, err := p.org(orgID)
	if err != nil {
		return before, after, err
	}
	if credits < 0 {
		return before, after, fmt.Errorf("credits must not be negative, got %d", credits)
	}
	if err := p.checkPool(orgID, credits); err != nil {
		return before, after, err
	}
	a := p.allocation(orgID)
	before = *a
	a.CreditsAllocated, a.Notes, a.AllocatedAt = credits, notes, at.UTC()
	p.orgs[i].Credits = credits
	return before, *a, nil
}

// UseCredit counts one identification against an organization's
// allocation. Unknown partners and organizations are ignored: the delivery
// is what matters, the count is bookkeeping.
func (s *Store) UseCredit(partnerID, orgID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, err := s.partner(partnerID); err == nil {
		if _, err := p.org(orgID); err == nil {
			p.allocation(orgID).CreditsUsed++
		}
	}
}

// Billing summarises a partner's billing in the period holding at.
func (s *Store) Billing(partnerID string, at time.Time) (Billing, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, err := s.partner(partnerID)
	if err != nil {
		return Billing{}, err
	}
	start, end := Period(at)
	return Billing{Mode: bullseye.BillingCreditPool, PeriodStart: start, PeriodEnd: end, PoolTotal: CreditPool, PoolUsed: p.allocated("")}, nil
}

// Allocation returns an organization's allocation.
func (s *Store) Allocation(partnerID, orgID string) (Allocation, error) {
	s.mu.Lock() // allocation may create the record
	defer s.mu.Unlock()
	p, err := s.partner(partnerID)
	if err != nil {
		return Allocation{}, err
	}
	if _, err := p.org(orgID); err != nil {
		return Allocation{}, err
	}
	return *p.allocation(orgID), nil
}
