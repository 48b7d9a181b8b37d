"""Which client method calls which operation of the mock's served OpenAPI document.

``tests/test_coverage.py`` compares this table with ``GET /_mock/openapi.json``
both ways: an operation the document has and the table lacks fails, and so does
an entry naming an operation the document lacks or a method the client lacks.
It also fails on a public method of :class:`~bullseye_mock.Client` or
:class:`~bullseye_mock.PartnerAPI` that is in neither the table nor
:data:`HELPERS`, so a new method is classified when it is added.

Names are attributes of :class:`~bullseye_mock.Client`; ``partner.NAME`` is a
method of its :class:`~bullseye_mock.PartnerAPI`.
"""
from __future__ import annotations

from typing import Dict, FrozenSet, Tuple

Operation = Tuple[str, str]  # (METHOD, path template as the document writes it)

OPERATIONS: Dict[Operation, str] = {
    # Operations: health, metrics, the document, the inspector
    ("GET", "/healthz"): "healthz",
    ("HEAD", "/healthz"): "ready",
    ("GET", "/metrics"): "metrics",
    ("GET", "/_mock/openapi.json"): "openapi",
    ("GET", "/_mock/ui"): "ui",
    ("GET", "/_mock/ui/{file}"): "ui_file",
    # Control API
    ("GET", "/_mock/partners"): "partners",
    ("POST", "/_mock/events"): "trigger",
    ("GET", "/_mock/deliveries"): "deliveries",
    ("GET", "/_mock/deliveries/wait"): "wait_all",
    ("GET", "/_mock/deliveries/{id}"): "delivery",
    ("GET", "/_mock/deliveries/{id}/wait"): "wait_for_delivery",
    ("POST", "/_mock/deliveries/{id}/redeliver"): "redeliver",
    ("POST", "/_mock/reset"): "reset",
    ("GET", "/_mock/clock"): "clock",
    ("POST", "/_mock/clock/advance"): "advance_clock",
    ("POST", "/_mock/scenarios/runs"): "start_scenario",
    ("GET", "/_mock/scenarios/runs"): "scenario_runs",
    ("GET", "/_mock/scenarios/runs/{id}"): "scenario_run",
    ("GET", "/_mock/scenarios/runs/{id}/wait"): "wait_scenario_run",
    ("GET", "/_mock/requests"): "requests",
    ("GET", "/_mock/logs"): "attempt_log",
    ("GET", "/_mock/requests/wait"): "wait_requests",
    ("POST", "/_mock/faults"): "add_fault",
    ("GET", "/_mock/faults"): "faults",
    ("DELETE", "/_mock/faults"): "clear_faults",
    ("GET", "/_mock/faults/{id}"): "fault",
    ("DELETE", "/_mock/faults/{id}"): "delete_fault",
    ("POST", "/_mock/keys"): "add_key",
    ("GET", "/_mock/keys"): "keys",
    ("DELETE", "/_mock/keys/{apiKey}"): "revoke_key",
    ("GET", "/_mock/traffic"): "traffic",
    ("GET", "/_mock/traffic.svg"): "traffic_svg",
    ("GET", "/_mock/stream"): "stream",  # Server-Sent Events: an EventStream
    # Sink
    ("GET", "/_mock/sink"): "sinks",
    ("PUT", "/_mock/sink/{name}"): "configure_sink",
    ("GET", "/_mock/sink/{name}"): "sink",
    ("DELETE", "/_mock/sink/{name}"): "delete_sink",
    ("POST", "/_mock/sink/{name}"): "send_to_sink",
    ("GET", "/_mock/sink/{name}/requests"): "sink_requests",
    # Partner API
    ("GET", "/api/v1/partner/webhooks"): "partner.webhooks",
    ("PUT", "/api/v1/partner/webhooks/identification"): "partner.put_webhook",
    ("PUT", "/api/v1/partner/webhooks/billing"): "partner.put_webhook",
    ("PUT", "/api/v1/partner/webhooks/{type}"): "partner.put_webhook",  # any other type: the 404 path
    ("POST", "/api/v1/partner/webhooks/test"): "partner.test_webhook",
    ("GET", "/api/v1/partner/webhooks/logs"): "partner.logs",
    ("GET", "/api/v1/partner/organizations"): "partner.organizations",
    ("POST", "/api/v1/partner/organizations"): "partner.create_organization",
    ("GET", "/api/v1/partner/organizations/{id}"): "partner.organization",
    ("PUT", "/api/v1/partner/organizations/{id}/credits"): "partner.set_credits",
    ("GET", "/api/v1/partner/billing"): "partner.billing",
}

#: Public methods that are not one operation: shortcuts built on the
#: operations above, and plumbing.
HELPERS: FrozenSet[str] = frozenset(
    {
        "request",  # any call by path
        "close",
        "sink_url",
        "inspector_url",  # a link to the inspector's page of a view or item
        "set_clock",  # advance_clock(to=...)
        "start_scenario_file",  # start_scenario with a file's bytes
        "run_scenario",  # start_scenario + wait_scenario_run
        "scenario_report",  # scenario_run()["report"]
        "route_to_sink",  # configure_sink + partner.put_webhook
        "partner.request",
        "partner.with_key",
        "partner.webhook",  # partner.webhooks()[kind]
        "partner.remove_webhook",  # partner.put_webhook with everything cleared
    }
)
