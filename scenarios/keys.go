package scenarios

import (
	"github.com/bullseye-mock/bullseye-mock/bullseye"
	"github.com/bullseye-mock/bullseye-mock/ops"
)

// objectKeys lists the keys each object of the format accepts, by the
// object's name in schema.json's $defs. The parser rejects any other key,
// and a test keeps schema.json in step with this table. A send step and
// its faults and policy are the control API's objects (ops.Send, ops.Fault,
// ops.Policy): their keys are read off those types, not written again.
var objectKeys = map[string][]string{
	"scenario": {"name", "description", "seed", "clock", "partner", "webhooks", "organizations", "retry", "receiver", "steps"},
	// The built-in sink's settings (server.SinkConfig's keys, which a test
	// compares), for the receiver a file stands for; its secret is the
	// webhook's, so it has none of its own here.
	"receiver":           {"statuses", "delay", "delayMax", "failureRate", "failureStatus", "retryAfter", "rejectInvalidSignatures", "seed"},
	"clock":              {"scaled"},
	"partner":            {"apiKey", "keys"},
	"key":                {"apiKey", "scopes"},
	"webhooks":           bullseye.Kinds(),
	"webhook":            {"url", "secret", "enabled", "dialect"},
	"organization":       {"name", "externalId", "status", "tier", "credits"},
	"retry":              ops.JSONKeys(ops.Policy{}),
	"policy":             ops.JSONKeys(ops.Policy{}),
	"step":               {"send", "webhook", "wait", "every", "expect", "apiFault", "revokeKey"},
	"apiFault":           ops.JSONKeys(ops.APIFault{}),
	"waitRequests":       {"requests", "count", "timeout"},
	"requestMatch":       ops.JSONKeys(ops.RequestMatch{}),
	"requestExpectation": ops.JSONKeys(ops.RequestExpectation{}),
	"send":               ops.JSONKeys(ops.Send{}),
	"fault":              ops.JSONKeys(ops.Fault{}),
	"webhook_step":       {"kind", "url", "secret", "enabled", "dialect"},
	"every":              {"schedule", "count", "for", "steps"},
	"expect":             {"deliveries", "state", "states", "attempts", "offsets", "statuses", "faults", "duplicates", "arrival", "requests", "traffic"},
	"traffic":            ops.JSONKeys(ops.Thresholds{}),
}

// deprecatedKeys are the snake_case spellings of earlier versions: still
// read, as the camelCase key they stand for (the control API's case).
var deprecatedKeys = map[string]map[string]string{
	"partner":      {"api_key": "apiKey"},
	"organization": {"external_id": "externalId"},
}
