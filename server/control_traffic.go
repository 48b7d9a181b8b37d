package server

import (
	"bytes"
	"net/http"

	"github.com/bullseye-mock/bullseye-mock/ops"
	"github.com/bullseye-mock/bullseye-mock/traffic"
)

func (s *controlAPI) registerTrafficRoutes(c registerFunc) {
	c(http.MethodGet, "/traffic", s.controlTraffic)
	c(http.MethodGet, "/traffic.svg", s.controlTrafficSVG)
}

// trafficReport reads the thresholds of the query (ops.Thresholds' keys)
// and reports the traffic since start or the last reset. A threshold that
// fails is a verdict in the report (pass: false), not an error: the
// request itself was fine.
func (s *controlAPI) trafficReport(r *http.Request) (traffic.Report, error) {
	q := map[string]string{}
	for k, v := range r.URL.Query() {
		if len(v) > 1 {
			return traffic.Report{}, Errorf(CodeBadRequest, "%s is given %d times", k, len(v)).With("parameter", k)
		}
		q[k] = v[0]
	}
	th, err := ops.ParseThresholds(q)
	if err != nil {
		return traffic.Report{}, asParameter(err)
	}
	rep, err := s.ops.Traffic(th)
	return rep, asParameter(err)
}

func (s *controlAPI) controlTraffic(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.trafficReport(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

// controlTrafficSVG draws the same report: the inspector shows it live,
// and a test suite can save it beside its results.
func (s *controlAPI) controlTrafficSVG(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.trafficReport(r)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := traffic.Plot(&b, rep); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "no-store")
	_, err = w.Write(b.Bytes())
	return err
}
