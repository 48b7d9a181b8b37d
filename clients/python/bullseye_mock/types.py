"""Typed shapes of the mock's JSON, after the served OpenAPI document's schemas.

They are ``TypedDict``s with ``total=False``: the client returns the parsed
JSON as it is (plain dicts), and these only tell a type checker (and a
reader) which keys to expect. Keys are the mock's camelCase.
"""
from __future__ import annotations

from typing import Any, Dict, List, Literal, Optional, TypedDict, Union

WebhookKind = Literal["identification", "billing"]
EventType = Literal[
    "visitor.identified", "credits.allocated", "credits.low", "credits.exhausted", "billing.period_closed"
]
DeliveryState = Literal["scheduled", "retrying", "ready", "in_flight", "delivered", "failed", "canceled"]
SignatureFault = Literal[
    "wrong_secret", "missing", "empty", "non_hex", "truncated", "uppercase", "other_bytes", "reserialized"
]

#: The states a delivery ends in.
FINAL_STATES = ("delivered", "failed", "canceled")

#: Every signature fault the mock can make, for "each one is rejected" tests.
SIGNATURE_FAULTS = (
    "wrong_secret", "missing", "empty", "non_hex", "truncated", "uppercase", "other_bytes", "reserialized",
)


class ErrorBody(TypedDict, total=False):
    code: str
    message: str
    details: Dict[str, Any]


# --- the control API -------------------------------------------------------


class Fault(TypedDict, total=False):
    """One fault of ``POST /_mock/events`` (the one grammar of every surface)."""

    signature: SignatureFault
    duplicate: Union[str, bool]  # "concurrent" or a Go duration
    replay: str  # a Go duration after the delivery was delivered
    events: List[int]  # 1-based
    share: Union[float, str]  # 0.25 or "25%"


class Policy(TypedDict, total=False):
    delays: List[str]
    attempts: int
    timeout: str


class Triggered(TypedDict, total=False):
    deliveryIds: List[str]
    partnerId: str


class Attempt(TypedDict, total=False):
    id: str
    type: str
    organizationId: str
    status: str  # delivered, retrying, failed, canceled
    statusCode: int
    attemptedAt: str
    responseTimeMs: int
    deliveryId: str
    attempt: int
    eventType: str
    url: str
    error: str
    nextAttemptAt: str
    # only on one delivery (GET /_mock/deliveries/{id} and its wait)
    requestHeaders: Dict[str, List[str]]
    responseExcerpt: str
    scheduledAt: str


class Delivery(TypedDict, total=False):
    id: str
    partnerId: str
    type: WebhookKind
    eventType: str
    organizationId: str
    duplicateOf: str
    fault: str
    state: DeliveryState
    nextAttemptAt: str
    attempts: List[Attempt]
    payload: Any
    payloadRaw: str
    sentRaw: str
    policy: Policy


class DeliveryPage(TypedDict, total=False):
    deliveries: List[Delivery]
    total: int
    page: int
    pageSize: int


class DeliveryWait(TypedDict, total=False):
    timedOut: bool
    stopping: bool
    delivery: Delivery


class WaitAll(TypedDict, total=False):
    timedOut: bool
    stopping: bool
    waitedFor: int
    pendingCount: int
    pending: List[str]


class Redelivered(TypedDict, total=False):
    deliveryId: str
    redeliveryOf: str


class Clock(TypedDict, total=False):
    now: str
    manual: bool
    nextDue: Optional[str]


class DeliveryChange(TypedDict, total=False):
    """The data of a stream's ``delivery`` event: a delivery created or changed state, as a row of the list."""

    id: str
    partnerId: str
    type: WebhookKind
    eventType: str
    organizationId: str
    duplicateOf: str
    fault: str
    state: DeliveryState
    nextAttemptAt: str  # while an attempt is scheduled
    attemptCount: int
    created: bool  # the delivery's first event (also when merged into a later change)


class SinkEvent(TypedDict, total=False):
    """The data of a stream's ``sink`` event: a request a sink recorded, without headers and body."""

    sink: str
    seq: int
    receivedAt: str
    method: str
    deliveryId: str
    attempt: int
    signature: Literal["valid", "invalid", "missing", "unchecked"]
    signatureError: str
    status: int


class RequestEvent(TypedDict, total=False):
    """The data of a stream's ``request`` event: a journaled Partner API request, without headers and bodies."""

    id: int
    time: str
    realTime: str
    method: str
    path: str
    query: str
    partnerId: str
    status: int  # 0: a fault closed the connection
    latencyMs: float
    fault: str


class StreamHello(TypedDict, total=False):
    """The data of a stream's first event, ``hello``."""

    lastEventId: int  # the newest event's id when the stream opened: where it resumes
    clock: Clock


class StreamLost(TypedDict, total=False):
    """The data of a stream's ``lost`` event: events were missed, reload what you show."""

    missed: int  # 0 when unknown
    reason: Literal["behind", "flood", "unknown"]
    lastEventId: int  # the id the stream goes on after


class StreamStopping(TypedDict, total=False):
    """The data of a stream's ``stopping`` event: the mock shuts down, the stream ends."""

    lastEventId: int


class StreamEnd(TypedDict, total=False):
    """The data of a stream's ``end`` event: its ``limit`` or ``timeout`` was reached, the stream ends."""

    reason: Literal["limit", "timeout"]
    lastEventId: int  # the last event id sent: resume after it


class Advanced(Clock, total=False):
    moved: bool
    advancedBy: str
    idle: bool


class Partner(TypedDict, total=False):
    id: str
    apiKey: str
    organizationIds: List[str]


class ScenarioRun(TypedDict, total=False):
    id: str
    file: str
    state: Literal["running", "passed", "failed", "error"]
    startedAt: str
    finishedAt: str
    report: Dict[str, Any]
    error: str


class ScenarioWait(TypedDict, total=False):
    timedOut: bool
    stopping: bool
    run: ScenarioRun


class SinkConfig(TypedDict, total=False):
    secret: str
    statuses: List[int]
    delay: str
    delayMax: str
    capacity: int
    failureRate: float
    failureStatus: int
    retryAfter: int
    rejectInvalidSignatures: bool
    seed: int


class Sink(TypedDict, total=False):
    name: str
    hasSecret: bool
    statuses: List[int]
    delay: str
    delayMax: str
    capacity: int
    received: int
    kept: int
    evicted: int
    failureRate: float
    failureStatus: int
    retryAfter: int
    rejectInvalidSignatures: bool
    seed: int


class SinkRequest(TypedDict, total=False):
    seq: int
    receivedAt: str
    method: str
    headers: Dict[str, List[str]]
    body: Any
    bodyRaw: str
    deliveryId: str
    attempt: int
    signature: Literal["valid", "invalid", "missing", "unchecked"]
    signatureError: str
    secretFrom: Literal["sink", "webhook"]
    status: int


class SinkRequests(TypedDict, total=False):
    requests: List[SinkRequest]
    total: int
    received: int
    evicted: int
    timedOut: bool
    stopping: bool
    page: int
    pageSize: int


class SinkAnswer(TypedDict, total=False):
    received: bool
    seq: int
    signature: str


class JournalEntry(TypedDict, total=False):
    id: int
    time: str
    realTime: str
    method: str
    path: str
    query: str
    headers: Dict[str, List[str]]
    partnerId: str
    body: str
    bodyEncoding: str
    bodyBytes: int
    bodyTruncated: bool
    status: int
    response: str
    responseBytes: int
    responseTruncated: bool
    latencyMs: float
    fault: str


class JournalPage(TypedDict, total=False):
    requests: List[JournalEntry]
    total: int
    page: int
    pageSize: int
    cap: int
    evicted: int


class JournalWait(TypedDict, total=False):
    timedOut: bool
    stopping: bool
    count: int
    requests: List[JournalEntry]


class APIFault(TypedDict, total=False):
    id: str
    method: str
    path: str
    partnerId: str
    status: int
    retryAfter: int
    message: str
    latency: str
    close: bool
    times: int
    share: float
    fired: int
    matched: int
    spent: bool


class Key(TypedDict, total=False):
    apiKey: str
    partnerId: str
    scopes: List[str]
    primary: bool


class Revoked(TypedDict, total=False):
    revoked: bool
    apiKey: str
    partnerId: str


class LatencyMs(TypedDict, total=False):
    min: float
    mean: float
    p50: float
    p90: float
    p95: float
    p99: float
    max: float


class TrafficSlice(TypedDict, total=False):
    """The numbers of a set of attempts (all of them, first attempts, retries)."""

    requests: int
    rate: float
    success: float
    statusCodes: Dict[str, int]
    errors: Dict[str, int]
    latencyMs: LatencyMs


class Threshold(TypedDict, total=False):
    metric: str
    op: str
    limit: str
    actual: str


# Functional syntax: "pass" is a Python keyword.
TrafficReport = TypedDict(
    "TrafficReport",
    {
        "requests": int,
        "rate": float,
        "success": float,
        "statusCodes": Dict[str, int],
        "errors": Dict[str, int],
        "latencyMs": LatencyMs,
        "throughput": float,
        "durationMs": float,
        "waitMs": float,
        "late": Dict[str, Any],
        "canceled": int,
        "deliveries": Dict[str, int],
        "firstAttempts": TrafficSlice,
        "retries": TrafficSlice,
        "histogram": List[Any],
        "series": Dict[str, Any],
        "thresholds": List[Dict[str, Any]],  # Threshold, with "pass"
        "pass": bool,
    },
    total=False,
)
"""``GET /_mock/traffic``; ``thresholds`` and ``pass`` only with threshold parameters."""


# --- the Partner API -------------------------------------------------------


class Webhook(TypedDict, total=False):
    url: str
    enabled: bool
    hasSecret: bool


class Webhooks(TypedDict, total=False):
    identification: Webhook
    billing: Webhook


class WebhookTestResult(TypedDict, total=False):
    success: bool
    message: str
    deliveryId: str


class LogPage(TypedDict, total=False):
    logs: List[Attempt]
    total: int
    page: int
    pageSize: int


class Organization(TypedDict, total=False):
    id: str
    name: str
    externalId: Optional[str]
    status: Literal["active", "canceled", "suspended"]
    tier: Literal["trial", "paid"]
    credits: int
    metadata: Dict[str, str]
    createdAt: str


class OrganizationPage(TypedDict, total=False):
    organizations: List[Organization]
    total: int
    page: int
    pageSize: int


class Allocation(TypedDict, total=False):
    id: str
    partnerId: str
    organizationId: str
    creditsAllocated: int
    creditsUsed: int
    creditsAvailable: int
    allocatedAt: str


class Billing(TypedDict, total=False):
    billingMode: str
    period: Dict[str, str]
    creditPoolTotal: int
    creditPoolUsed: int
    creditPoolAvailable: int
    pricingTiers: List[Dict[str, Any]]
