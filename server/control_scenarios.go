package server

import (
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"github.com/bullseye-mock/bullseye-mock/scenarios"
)

func (s *controlAPI) registerScenarioRoutes(c registerFunc) {
	c(http.MethodPost, "/scenarios/runs", s.scenarioStart)
	c(http.MethodGet, "/scenarios/runs", s.scenarioList)
	c(http.MethodGet, "/scenarios/runs/{id}", s.scenarioShow)
	c(http.MethodGet, "/scenarios/runs/{id}/wait", s.scenarioWait)
}

// scenarioStart checks the uploaded file at once (a bad file is a 400 that
// names the line and column) and runs it in the background (scenarios.Runs).
func (s *controlAPI) scenarioStart(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	file := q.Get("file")
	if file == "" {
		file = "scenario.yaml"
	}
	leave := false
	if raw := q.Get("leaveClock"); raw != "" {
		v, err := strconv.ParseBool(raw)
		if err != nil {
			return Errorf(CodeBadRequest, "leaveClock must be true or false, got %q", raw).With("parameter", "leaveClock")
		}
		leave = v
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return Errorf(CodePayloadTooLarge, "request body is larger than the limit of %d bytes", tooBig.Limit).With("limit", tooBig.Limit)
		}
		return Errorf(CodeBadRequest, "could not read the request body: %v", err)
	}
	if len(data) == 0 {
		return Errorf(CodeBadRequest, "request body is empty: send a scenario file (YAML or JSON)")
	}
	run, err := s.runs.Start(file, data, leave)
	var pe *scenarios.Error
	switch {
	case errors.As(err, &pe):
		return Errorf(CodeBadRequest, "%v", err).With("file", file)
	case errors.Is(err, scenarios.ErrBusy):
		return toError(err).With("limit", scenarios.MaxRunning).With("running", scenarios.MaxRunning)
	case err != nil:
		return withDetail(err, "file", file)
	}
	writeJSON(w, http.StatusAccepted, run)
	return nil
}

func (s *controlAPI) scenarioList(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"runs": s.runs.List()})
	return nil
}

func (s *controlAPI) scenarioShow(w http.ResponseWriter, r *http.Request) error {
	id := mux.Vars(r)["id"]
	run, _, err := s.runs.Get(id)
	if err != nil {
		return withDetail(err, "id", id)
	}
	writeJSON(w, http.StatusOK, run)
	return nil
}

// scenarioWait long-polls until the run ends; on timeout it answers 200
// with "timedOut": true and the run as it is, like the other waits.
func (s *controlAPI) scenarioWait(w http.ResponseWriter, r *http.Request) error {
	id := mux.Vars(r)["id"]
	_, done, err := s.runs.Get(id)
	if err != nil {
		return withDetail(err, "id", id)
	}
	ctx, cancel, err := longPoll(w, r, s.ops.Stopped())
	if err != nil {
		return err
	}
	defer cancel()
	timedOut := false
	select {
	case <-done:
	case <-ctx.Done():
		if r.Context().Err() != nil {
			return nil // the client went away
		}
		timedOut = true
	}
	run, _, err := s.runs.Get(id)
	if err != nil {
		return withDetail(err, "id", id)
	}
	writeJSON(w, http.StatusOK, map[string]any{"timedOut": timedOut, "stopping": s.ops.Stopping(), "run": run})
	return nil
}
