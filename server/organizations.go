package server

import (
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/store"
)

func (s *partnerAPI) registerOrganizationRoutes(api apiRouter) {
	api.handle(http.MethodGet, "/partner/organizations", s.listOrganizations)
	api.handle(http.MethodPost, "/partner/organizations", s.createOrganization)
	api.handle(http.MethodGet, "/partner/organizations/{id}", s.getOrganization)
}

// organizationJSON is the vendor's organization object.
type organizationJSON struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	ExternalID *string           `json:"externalId"`
	Status     string            `json:"status"`
	Tier       string            `json:"tier"`
	Credits    int               `json:"credits"`
	Metadata   map[string]string `json:"metadata"`
	CreatedAt  time.Time         `json:"createdAt"`
}

func toOrganizationJSON(o bullseye.Organization) organizationJSON {
	out := organizationJSON{
		ID: o.ID, Name: o.Name, Status: o.Status, Tier: o.Tier, Credits: o.Credits,
		Metadata: o.Metadata, CreatedAt: o.CreatedAt.UTC().Truncate(time.Second),
	}
	if o.ExternalID != "" {
		out.ExternalID = &o.ExternalID
	}
	if out.Metadata == nil {
		out.Metadata = map[string]string{}
	}
	return out
}

func (s *partnerAPI) listOrganizations(w http.ResponseWriter, r *http.Request, p store.Partner) error {
	q := r.URL.Query()
	page, size, err := paging(q)
	if err != nil {
		return err
	}
	status := q.Get("status")
	if status != "" && !slices.Contains(bullseye.OrgStatuses(), status) {
		return Errorf(CodeBadRequest, "status must be one of %s, got %q", strings.Join(bullseye.OrgStatuses(), ", "), status).
			With("parameter", "status")
	}
	orgs, total, err := s.store.Organizations(p.ID, store.OrgFilter{
		Status: status, Search: q.Get("search"), ExternalID: q.Get("externalId"), Page: page, PageSize: size,
	})
	if err != nil {
		return err
	}
	out := make([]organizationJSON, len(orgs))
	for i, o := range orgs {
		out[i] = toOrganizationJSON(o)
	}
	writeJSON(w, http.StatusOK, map[string]any{"organizations": out, "total": total, "page": page, "pageSize": size})
	return nil
}

func (s *partnerAPI) getOrganization(w http.ResponseWriter, r *http.Request, p store.Partner) error {
	id := mux.Vars(r)["id"]
	o, err := s.store.Organization(p.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return Errorf(CodeNotFound, "organization %q not found", id).With("id", id)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]organizationJSON{"organization": toOrganizationJSON(o)})
	return nil
}

type organizationCreate struct {
	Name       *string           `json:"name"`
	ExternalID *string           `json:"externalId"`
	Status     *string           `json:"status"`
	Tier       *string           `json:"tier"`
	Credits    *int              `json:"credits"`
	Metadata   map[string]string `json:"metadata"`
}

const maxNameLength = 200

func (s *partnerAPI) createOrganization(w http.ResponseWriter, r *http.Request, p store.Partner) error {
	var body organizationCreate
	if err := decodeBody(w, r, s.maxBody, &body); err != nil {
		return err
	}
	if body.Name == nil || strings.TrimSpace(*body.Name) == "" {
		return Errorf(CodeBadRequest, `field "name" is required and must not be blank`).With("field", "name")
	}
	if len(*body.Name) > maxNameLength {
		return Errorf(CodeBadRequest, `field "name" is longer than %d characters`, maxNameLength).With("field", "name")
	}
	// The generator supplies the id and the fake details; the caller's
	// fields win.
	org := s.fixtures.NewOrganization(s.clock.Now())
	// Created now, in mock time: the seeded ones lie weeks back so that a
	// listing has an order, but this one is new and lists first.
	org.CreatedAt = s.clock.Now().UTC().Truncate(time.Second)
	org.Name = strings.TrimSpace(*body.Name)
	org.Domain = domainOf(org.Name, org.Domain)
	org.ExternalID = ""
	org.Status = "active"
	org.Tier = "trial"
	org.Credits = 0
	org.Metadata = map[string]string{}
	if body.ExternalID != nil {
		org.ExternalID = *body.ExternalID
	}
	if body.Status != nil {
		if !slices.Contains(bullseye.OrgStatuses(), *body.Status) {
			return Errorf(CodeBadRequest, "status must be one of %s, got %q", strings.Join(bullseye.OrgStatuses(), ", "), *body.Status).With("field", "status")
		}
		org.Status = *body.Status
	}
	if body.Tier != nil {
		if !slices.Contains(bullseye.Tiers(), *body.Tier) {
			return Errorf(CodeBadRequest, "tier must be one of %s, got %q", strings.Join(bullseye.Tiers(), ", "), *body.Tier).With("field", "tier")
		}
		org.Tier = *body.Tier
	}
	if body.Credits != nil {
		if *body.Credits < 0 {
			return Errorf(CodeBadRequest, "credits must not be negative, got %d", *body.Credits).With("field", "credits")
		}
		org.Credits = *body.Credits
	}
	if body.Metadata != nil {
		org.Metadata = body.Metadata
	}
	created, err := s.store.AddOrganization(p.ID, org)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]organizationJSON{"organization": toOrganizationJSON(created)})
	return nil
}

var nonAlnum = regexp.MustCompile(`[^a-z0-9]+`)

// domainOf derives a website domain from an organization's name, so that
// its visitors' page views land on a site that fits the name.
func domainOf(name, fallback string) string {
	slug := strings.Trim(nonAlnum.ReplaceAllString(strings.ToLower(name), "-"), "-")
	if slug == "" {
		return fallback
	}
	if len(slug) > 40 {
		slug = strings.Trim(slug[:40], "-")
	}
	return slug + ".com"
}
