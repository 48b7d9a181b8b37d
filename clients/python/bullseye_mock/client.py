"""A client of bullseye-mock: the control API under ``/_mock`` and the Partner API under ``/api/v1``.

Standard library only. Every method is one operation of the mock's served
OpenAPI document (``GET /_mock/openapi.json``); :data:`bullseye_mock.operations.OPERATIONS`
lists which method calls which operation, and the package's tests compare that
table with the document both ways.

Example::

    mock = Client("http://127.0.0.1:8080")
    mock.partner.put_webhook("identification", url=mock.sink_url("demo"), secret="whsec_test", enabled=True)
    [delivery_id] = mock.trigger("visitor.identified")
    assert mock.wait_for_delivery(delivery_id)["state"] == "delivered"
"""
from __future__ import annotations

import datetime as _dt
import http.client
import json
import os
import socket
import ssl
from typing import (
    Any,
    Dict,
    Iterable,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Union,
    cast,
)
from urllib.parse import quote, urlencode, urlsplit

from .errors import (
    BullseyeMockConnectionError,
    BullseyeMockError,
    BullseyeMockTimeout,
    DeliveryStateError,
    ScenarioFailed,
)
from .stream import EventStream
from .types import (
    FINAL_STATES,
    Advanced,
    Allocation,
    APIFault,
    Billing,
    Clock,
    Delivery,
    DeliveryPage,
    JournalPage,
    JournalWait,
    Key,
    LogPage,
    Organization,
    OrganizationPage,
    Partner,
    Redelivered,
    Revoked,
    ScenarioRun,
    Sink,
    SinkAnswer,
    SinkRequests,
    TrafficReport,
    WaitAll,
    Webhook,
    Webhooks,
    WebhookTestResult,
)
from .util import Duration, Instant, comma, format_time, go_duration, seconds, sign

#: The mock's default partner key (``--api-key``'s default).
DEFAULT_API_KEY = "bullseye-mock-key"

#: Extra real time a long-poll's socket waits beyond the wait's own timeout,
#: so the mock's ``"timedOut": true`` answer arrives before the socket gives up.
_LONG_POLL_MARGIN = 15.0



def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, _dt.datetime):
        return format_time(value)
    if isinstance(value, _dt.timedelta):
        return go_duration(value)
    if isinstance(value, Mapping):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def _compact(obj: Mapping[str, Any]) -> Dict[str, Any]:
    """The mapping without its None values (absent keys keep the mock's defaults)."""
    return {k: v for k, v in obj.items() if v is not None}


class _Response:
    __slots__ = ("status", "headers", "body", "method", "url")

    def __init__(self, status: int, headers: Dict[str, str], body: bytes, method: str, url: str) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.method = method
        self.url = url

    def header(self, name: str) -> Optional[str]:
        for k, v in self.headers.items():
            if k.lower() == name.lower():
                return v
        return None

    def json(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8")) if self.body else None
        except ValueError as e:
            raise BullseyeMockError(
                self.status,
                f"the answer is not JSON: {self.body[:200]!r}",
                text=self.body.decode("utf-8", "replace"),
                headers=self.headers,
                method=self.method,
                url=self.url,
            ) from e

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class _Transport:
    """One HTTP/1.1 connection per request, straight to the mock.

    ``http.client`` rather than ``urllib.request``: no proxy from the
    environment gets between a test and a mock on loopback, redirects are not
    followed, and every method (``HEAD``, ``DELETE``) is plain.
    """

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str],
        timeout: float,
        ssl_context: Optional[ssl.SSLContext],
    ) -> None:
        parts = urlsplit(base_url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"base_url must be an http:// or https:// URL with a host, got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port
        self.prefix = parts.path.rstrip("/")
        self.headers = dict(headers)
        self.timeout = timeout
        self.ssl_context = ssl_context

    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        if self.scheme == "https":
            return http.client.HTTPSConnection(
                self.host, self.port, timeout=timeout, context=self.ssl_context or ssl.create_default_context()
            )
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Optional[Mapping[str, Any]] = None,
        json_body: Any = None,
        data: Optional[bytes] = None,
        content_type: Optional[str] = None,
        headers: Optional[Mapping[str, str]] = None,
        timeout: Optional[float] = None,
        check: bool = True,
    ) -> _Response:
        target = self.prefix + path
        if query:
            pairs = [(k, _query_value(v)) for k, v in query.items() if v is not None]
            if pairs:
                target += "?" + urlencode(pairs)
        send_headers = dict(self.headers)
        if json_body is not None:
            data = json.dumps(json_body).encode("utf-8")
            content_type = content_type or "application/json"
        if content_type:
            send_headers["Content-Type"] = content_type
        if headers:
            send_headers.update(headers)
        url = self.base_url + path
        conn = self._connection(timeout if timeout is not None else self.timeout)
        try:
            conn.request(method, target, body=data, headers=send_headers)
            resp = conn.getresponse()
            body = resp.read()
            got = _Response(resp.status, {k: v for k, v in resp.getheaders()}, body, method, url)
        except (OSError, http.client.HTTPException) as e:
            raise self._no_answer(e, conn, method, url) from e
        finally:
            conn.close()
        if check and not 200 <= got.status < 300:
            raise BullseyeMockError.from_response(got.status, got.body, got.headers, method, url)
        return got

    @staticmethod
    def _no_answer(
        e: BaseException, conn: http.client.HTTPConnection, method: str, url: str
    ) -> BullseyeMockConnectionError:
        if isinstance(e, socket.timeout):
            what = f"no answer within {conn.timeout}s"
        else:
            what = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
        return BullseyeMockConnectionError(0, what, code="ConnectionError", method=method, url=url)

    def open_stream(
        self,
        path: str,
        *,
        query: Optional[Mapping[str, Any]] = None,
        idle_timeout: float,
        wait_timeout: float,
        heartbeats: bool = False,
    ) -> EventStream:
        """``GET path`` answered with Server-Sent Events: the open stream (a non-2xx raises, as :meth:`request`)."""
        target = self.prefix + path
        url = self.base_url + path
        if query:
            pairs = [(k, _query_value(v)) for k, v in query.items() if v is not None]
            if pairs:
                target += "?" + urlencode(pairs)
                url += "?" + urlencode(pairs)
        send_headers = dict(self.headers)
        send_headers["Accept"] = "text/event-stream"
        send_headers["Cache-Control"] = "no-cache"
        # The timeout bounds the connection and the answer's head; the
        # stream then waits up to idle_timeout for each line.
        conn = self._connection(self.timeout)
        try:
            conn.request("GET", target, headers=send_headers)
            sock = conn.sock  # before getresponse, which may hand it to the response
            resp = conn.getresponse()
        except (OSError, http.client.HTTPException) as e:
            conn.close()
            raise self._no_answer(e, conn, "GET", url) from e
        if not 200 <= resp.status < 300:
            try:
                body = resp.read()
            except (OSError, http.client.HTTPException):
                body = b""
            finally:
                conn.close()
            raise BullseyeMockError.from_response(resp.status, body, dict(resp.getheaders()), "GET", url)
        return EventStream(
            conn, resp, sock, url=url, idle_timeout=idle_timeout, wait_timeout=wait_timeout, heartbeats=heartbeats
        )


def _seg(value: str) -> str:
    """A path segment, escaped."""
    return quote(str(value), safe="")


class PartnerAPI:
    """The Partner API under ``/api/v1``, called the way an app calls the real one.

    Authenticated with ``X-Partner-API-Key``; every call is journaled by the mock
    (:meth:`Client.requests`). Errors raise :class:`BullseyeMockError` with the
    vendor's error JSON and the response headers (``Retry-After``,
    ``X-RateLimit-*``). ``last_headers`` holds the headers of the last answer.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str = DEFAULT_API_KEY,
        *,
        timeout: float = 30.0,
        ssl_context: Optional[ssl.SSLContext] = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self._timeout = timeout
        self._ssl_context = ssl_context
        self._http = _Transport(
            self.base_url, {"X-Partner-API-Key": api_key, "Accept": "application/json"}, timeout, ssl_context
        )
        self.last_headers: Dict[str, str] = {}

    def with_key(self, api_key: str) -> "PartnerAPI":
        """The same API with another key (a scoped, revoked or unknown one)."""
        return PartnerAPI(self.base_url, api_key, timeout=self._timeout, ssl_context=self._ssl_context)

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        query: Optional[Mapping[str, Any]] = None,
        data: Optional[bytes] = None,
        content_type: Optional[str] = None,
    ) -> Any:
        """Any Partner API call, by path under ``/api/v1`` (``"/partner/webhooks"``); the parsed JSON."""
        if not path.startswith("/api/"):
            path = "/api/v1" + path
        try:
            r = self._http.request(
                method, path, query=query, json_body=json_body, data=data, content_type=content_type
            )
        except BullseyeMockError as e:
            self.last_headers = e.headers
            raise
        self.last_headers = r.headers
        return r.json()

    # --- webhooks ---

    def webhooks(self) -> Webhooks:
        """``GET /api/v1/partner/webhooks``: both webhook configurations."""
        return cast(Webhooks, self.request("GET", "/partner/webhooks"))

    def webhook(self, kind: str = "identification") -> Webhook:
        """One webhook's configuration (from :meth:`webhooks`)."""
        return cast(Webhook, self.webhooks()[kind])  # type: ignore[literal-required]

    def put_webhook(
        self,
        kind: str = "identification",
        *,
        url: Optional[str] = None,
        secret: Optional[str] = None,
        enabled: Optional[bool] = None,
    ) -> Webhook:
        """``PUT /api/v1/partner/webhooks/{identification|billing}``: a partial update.

        A field left ``None`` keeps its value; ``secret=""`` removes the secret
        (deliveries then carry no signature), ``url=""`` the URL. Returns the
        webhook as configured (``url``, ``enabled``, ``hasSecret``).
        """
        body = _compact({"url": url, "secret": secret, "enabled": enabled})
        answer = self.request("PUT", f"/partner/webhooks/{_seg(kind)}", json_body=body)
        return cast(Webhook, answer.get(kind, answer) if isinstance(answer, dict) else answer)

    def remove_webhook(self, kind: str = "identification") -> Webhook:
        """Disable a webhook and clear its URL and secret (the API has no DELETE: this is a PUT)."""
        return self.put_webhook(kind, url="", secret="", enabled=False)

    def test_webhook(self, kind: str = "identification") -> WebhookTestResult:
        """``POST /api/v1/partner/webhooks/test``: a signed test webhook; ``deliveryId`` names its delivery."""
        return cast(WebhookTestResult, self.request("POST", "/partner/webhooks/test", json_body={"type": kind}))

    def logs(
        self,
        *,
        type: Optional[str] = None,
        status: Optional[str] = None,
        organization_id: Optional[str] = None,
        page: Optional[int] = None,
        page_size: Optional[int] = None,
    ) -> LogPage:
        """``GET /api/v1/partner/webhooks/logs``: the attempt log, newest first."""
        q = {"type": type, "status": status, "organizationId": organization_id, "page": page, "pageSize": page_size}
        return cast(LogPage, self.request("GET", "/partner/webhooks/logs", query=q))

    # --- organizations and billing ---

    def organizations(
        self,
        *,
        status: Optional[str] = None,
        search: Optional[str] = None,
        external_id: Optional[str] = None,
        page: Optional[int] = None,
        page_size: Optional[int] = None,
    ) -> OrganizationPage:
        """``GET /api/v1/partner/organizations``: the partner's organizations, newest first."""
        q = {"status": status, "search": search, "externalId": external_id, "page": page, "pageSize": page_size}
        return cast(OrganizationPage, self.request("GET", "/partner/organizations", query=q))

    def create_organization(
        self,
        name: str,
        *,
        external_id: Optional[str] = None,
        status: Optional[str] = None,
        tier: Optional[str] = None,
        credits: Optional[int] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> Organization:
        """``POST /api/v1/partner/organizations``: 201 with the organization (returned unwrapped)."""
        body = _compact(
            {
                "name": name,
                "externalId": external_id,
                "status": status,
                "tier": tier,
                "credits": credits,
                "metadata": dict(metadata) if metadata is not None else None,
            }
        )
        return cast(Organization, self.request("POST", "/partner/organizations", json_body=body)["organization"])

    def organization(self, organization_id: str) -> Organization:
        """``GET /api/v1/partner/organizations/{id}``."""
        answer = self.request("GET", f"/partner/organizations/{_seg(organization_id)}")
        return cast(Organization, answer["organization"])

    def set_credits(self, organization_id: str, credits: int, *, notes: Optional[str] = None) -> Allocation:
        """``PUT /api/v1/partner/organizations/{id}/credits``: the organization's allocation."""
        body = _compact({"credits": credits, "notes": notes})
        answer = self.request("PUT", f"/partner/organizations/{_seg(organization_id)}/credits", json_body=body)
        return cast(Allocation, answer["allocation"])

    def billing(self) -> Billing:
        """``GET /api/v1/partner/billing``: billing mode, period, credit pool, pricing tiers."""
        return cast(Billing, self.request("GET", "/partner/billing"))


class _DefaultState(str):
    """The default ``state`` of :meth:`Client.wait_for_delivery`, told apart from an explicit one."""


_DELIVERED = _DefaultState("delivered")


def _states(state: Union[str, Sequence[str], None]) -> List[str]:
    if state is None:
        return []
    if isinstance(state, str):
        return [s.strip() for s in state.split(",") if s.strip()]
    return list(state)


class Client:
    """The mock's control API (``/_mock``), with the Partner API as :attr:`partner`.

    Args:
        base_url: where the mock listens (``http://127.0.0.1:PORT``; the first
            line the mock prints says it).
        admin_token: with ``--admin-token T``, the token sent as
            ``Authorization: Bearer T`` on control calls.
        api_key: the partner key :attr:`partner` sends (the mock's default key
            unless you started it with ``--api-key``).
        timeout: real-time bound of an ordinary request, in seconds.
        wait_timeout: the default ``timeout`` of every long-poll (``wait_*``,
            ``sink_requests(at_least=...)``); the mock allows at most 5m.
        ssl_context: for a mock serving HTTPS (``--tls-self-signed --tls-ca-out ca.pem``:
            ``ssl.create_default_context(cafile="ca.pem")``).
        internal_url: the mock's URL as the mock itself reaches it, for the
            webhook URLs of its sinks (:meth:`sink_url`); default ``base_url``.
            A container published on another host port differs
            (``http://127.0.0.1:8080``); :meth:`MockProcess.client` sets it.
    """

    def __init__(
        self,
        base_url: str,
        admin_token: Optional[str] = None,
        api_key: str = DEFAULT_API_KEY,
        *,
        timeout: float = 30.0,
        wait_timeout: Duration = 10.0,
        ssl_context: Optional[ssl.SSLContext] = None,
        internal_url: Optional[str] = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.internal_url = (internal_url or base_url).rstrip("/")
        self.admin_token = admin_token
        self.api_key = api_key
        self.wait_timeout = wait_timeout
        headers = {"Accept": "application/json"}
        if admin_token:
            headers["Authorization"] = f"Bearer {admin_token}"
        self._http = _Transport(self.base_url, headers, timeout, ssl_context)
        #: The Partner API, authenticated with ``api_key``.
        self.partner = PartnerAPI(self.base_url, api_key, timeout=timeout, ssl_context=ssl_context)

    def __repr__(self) -> str:
        return f"Client({self.base_url!r})"

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Nothing to release (one connection per request); for ``with`` blocks."""

    # --- plumbing ---

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        query: Optional[Mapping[str, Any]] = None,
        data: Optional[bytes] = None,
        content_type: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> Any:
        """Any control-API call by path (``"/_mock/clock"``); the parsed JSON (``None`` for an empty body)."""
        r = self._http.request(
            method, path, query=query, json_body=json_body, data=data, content_type=content_type, timeout=timeout
        )
        return r.json()

    def _wait_args(self, timeout: Optional[Duration]) -> Tuple[str, float]:
        t = self.wait_timeout if timeout is None else timeout
        return go_duration(t), seconds(t) + _LONG_POLL_MARGIN

    def sink_url(self, name: str) -> str:
        """The URL of the built-in receiver ``name``, to configure as a webhook URL (the mock posts to it)."""
        return f"{self.internal_url}/_mock/sink/{_seg(name)}"

    # --- operations: health, metrics, the document, the inspector ---

    def healthz(self) -> Dict[str, Any]:
        """``GET /healthz``: ``{"status": "ok"}`` once the mock serves."""
        return cast(Dict[str, Any], self.request("GET", "/healthz"))

    def ready(self) -> bool:
        """``HEAD /healthz``: whether the mock answers 200 now (False when nothing listens)."""
        try:
            return self._http.request("HEAD", "/healthz", timeout=2.0, check=False).status == 200
        except BullseyeMockError:
            return False

    def metrics(self) -> str:
        """``GET /metrics``: Prometheus text exposition."""
        return self._http.request("GET", "/metrics", headers={"Accept": "text/plain"}).text

    def openapi(self) -> Dict[str, Any]:
        """``GET /_mock/openapi.json``: the OpenAPI 3.0 document of both APIs."""
        return cast(Dict[str, Any], self.request("GET", "/_mock/openapi.json"))

    def ui(self) -> str:
        """``GET /_mock/ui``: the delivery inspector's page (HTML)."""
        return self._http.request("GET", "/_mock/ui", headers={"Accept": "text/html"}).text

    def inspector_url(self, view: str = "deliveries", *items: Union[str, int]) -> str:
        """The inspector's page at a view and item (docs/inspector.md): ``inspector_url("deliveries", id)``
        opens one delivery, ``inspector_url("sinks", "demo", 3)`` one request a sink got. A failing test
        can print it to show exactly what went wrong."""
        return f"{self.base_url}/_mock/ui#/" + "/".join([view, *(quote(str(i), safe="") for i in items)])

    def ui_file(self, file: str) -> str:
        """``GET /_mock/ui/{file}``: one of the inspector's files (``app.js``, ``style.css``, ``index.html``)."""
        return self._http.request("GET", f"/_mock/ui/{_seg(file)}", headers={"Accept": "*/*"}).text

    # --- partners, events ---

    def partners(self) -> List[Partner]:
        """``GET /_mock/partners``: partners with their keys and organization ids."""
        return cast(List[Partner], self.request("GET", "/_mock/partners")["partners"])

    def trigger(
        self,
        event_type: str = "visitor.identified",
        count: Optional[int] = None,
        *,
        faults: Optional[Iterable[Mapping[str, Any]]] = None,  # see types.Fault
        rate: Optional[str] = None,
        organization: Optional[str] = None,
        dialect: Optional[str] = None,
        overrides: Optional[Mapping[str, Any]] = None,
        at: Optional[Instant] = None,
        delay: Optional[Duration] = None,
        policy: Optional[Mapping[str, Any]] = None,  # see types.Policy
        order: Optional[str] = None,
        same_visitor: Optional[bool] = None,
        jitter: Optional[Duration] = None,
        burst: Optional[int] = None,
        api_key: Optional[str] = None,
        partner_id: Optional[str] = None,
        even_if_disabled: Optional[bool] = None,
        **extra: Any,
    ) -> List[str]:
        """``POST /_mock/events``: build payloads and hand them to the sender; the delivery ids, in order.

        The body is the one grammar of every surface (a scenario's ``send`` step
        key for key). Faults are dicts: ``{"signature": "wrong_secret", "events": [2]}``,
        ``{"duplicate": "concurrent"}``, ``{"duplicate": "10s", "share": 0.5}``,
        ``{"replay": "1h"}``. ``policy`` is ``{"delays": ["1m"], "attempts": 2, "timeout": "5s"}``.
        Keys not named here pass through ``extra`` as the mock spells them.
        A duplicate adds a delivery id right after its original's.
        An event for a disabled or URL-less webhook is a 400 unless
        ``even_if_disabled`` asks for deliveries the mock then cancels.
        """
        body: Dict[str, Any] = _compact(
            {
                "type": event_type,
                "count": count,
                "faults": [dict(f) for f in faults] if faults is not None else None,
                "rate": rate,
                "organization": organization,
                "dialect": dialect,
                "overrides": dict(overrides) if overrides is not None else None,
                "at": format_time(at) if at is not None else None,
                "delay": go_duration(delay) if delay is not None else None,
                "policy": dict(policy) if policy is not None else None,
                "order": order,
                "sameVisitor": same_visitor,
                "jitter": go_duration(jitter) if jitter is not None else None,
                "burst": burst,
                "apiKey": api_key,
                "partnerId": partner_id,
                "evenIfDisabled": even_if_disabled,
            }
        )
        body.update(extra)
        return list(self.request("POST", "/_mock/events", json_body=body)["deliveryIds"])

    # --- deliveries ---

    @staticmethod
    def _delivery_filters(
        api_key: Optional[str],
        partner_id: Optional[str],
        type: Optional[str],
        event_type: Optional[str],
        organization_id: Optional[str],
    ) -> Dict[str, Any]:
        return {
            "apiKey": api_key,
            "partnerId": partner_id,
            "type": type,
            "eventType": event_type,
            "organizationId": organization_id,
        }

    def deliveries(
        self,
        *,
        state: Optional[str] = None,
        type: Optional[str] = None,
        event_type: Optional[str] = None,
        organization_id: Optional[str] = None,
        api_key: Optional[str] = None,
        partner_id: Optional[str] = None,
        url: Optional[str] = None,
        page: Optional[int] = None,
        page_size: Optional[int] = None,
    ) -> DeliveryPage:
        """``GET /_mock/deliveries``: pending and retained deliveries, newest first (attempts without headers).

        ``url`` keeps those with an attempt sent to a URL containing it."""
        q = self._delivery_filters(api_key, partner_id, type, event_type, organization_id)
        q.update({"state": state, "url": url, "page": page, "pageSize": page_size})
        return cast(DeliveryPage, self.request("GET", "/_mock/deliveries", query=q))

    def delivery(self, delivery_id: str) -> Delivery:
        """``GET /_mock/deliveries/{id}``: payload, policy and every attempt with headers and response excerpt."""
        return cast(Delivery, self.request("GET", f"/_mock/deliveries/{_seg(delivery_id)}"))

    def wait_for_delivery(
        self,
        delivery_id: str,
        state: Union[str, Sequence[str], None] = _DELIVERED,
        *,
        attempts: Optional[int] = None,
        timeout: Optional[Duration] = None,
    ) -> Delivery:
        """``GET /_mock/deliveries/{id}/wait``: long-poll until the delivery is in ``state`` (or has ``attempts``).

        ``state`` is a state, several (a list or ``"delivered,failed"``), ``"final"``,
        or ``None`` with ``attempts=N`` alone. When only ``attempts`` is given, no
        state is required. Returns the delivery with every attempt.

        Raises :class:`BullseyeMockTimeout` when ``timeout`` (real time; default
        ``wait_timeout``) runs out, and :class:`DeliveryStateError` at once when
        the delivery ends in a final state other than the one(s) asked for: a
        wait for ``delivered`` on a delivery that failed does not wait out its
        timeout.
        """
        if isinstance(state, _DefaultState) and attempts is not None:
            state = None
        wanted = _states(state)
        ask = list(wanted)
        # Only final states asked for: wait for "final" and compare, so a
        # delivery that ends otherwise fails fast instead of timing out.
        fast_fail = bool(wanted) and attempts is None and all(s in FINAL_STATES for s in wanted)
        if fast_fail:
            ask = ["final"]
        wait, sock = self._wait_args(timeout)
        q = {"state": ",".join(ask) if ask else None, "attempts": attempts, "timeout": wait}
        path = f"/_mock/deliveries/{_seg(delivery_id)}/wait"
        answer = self.request("GET", path, query=q, timeout=sock)
        delivery = cast(Delivery, answer.get("delivery") or {})
        want = (" in " + ",".join(wanted) if wanted else "") + (f" with {attempts} attempts" if attempts else "")
        if answer.get("timedOut"):
            why = "the mock is stopping" if answer.get("stopping") else f"after {wait}"
            raise BullseyeMockTimeout(
                f"delivery {delivery_id} is {delivery.get('state')} with {len(delivery.get('attempts') or [])} "
                f"attempts {why}; waited for it{want or ' to be final'}; see {self.inspector_url('deliveries', delivery_id)}",
                delivery,
                method="GET",
                url=self.base_url + path,
            )
        if fast_fail and delivery.get("state") not in wanted:
            codes = [a.get("statusCode") for a in delivery.get("attempts") or []]
            raise DeliveryStateError(
                f"delivery {delivery_id} ended {delivery.get('state')}, waited for it{want}; "
                f"receiver answered {codes}; see {self.inspector_url('deliveries', delivery_id)}",
                delivery,
                method="GET",
                url=self.base_url + path,
            )
        return delivery

    def wait_all(
        self,
        timeout: Optional[Duration] = None,
        *,
        type: Optional[str] = None,
        event_type: Optional[str] = None,
        organization_id: Optional[str] = None,
        api_key: Optional[str] = None,
        partner_id: Optional[str] = None,
        raise_on_timeout: bool = True,
    ) -> WaitAll:
        """``GET /_mock/deliveries/wait``: long-poll until every matching delivery pending now is final.

        On a manual clock retries need the clock to move, so this times out
        while one is scheduled (advance the clock first). Raises
        :class:`BullseyeMockTimeout` then, unless ``raise_on_timeout=False``.
        """
        wait, sock = self._wait_args(timeout)
        q = self._delivery_filters(api_key, partner_id, type, event_type, organization_id)
        q["timeout"] = wait
        answer = cast(WaitAll, self.request("GET", "/_mock/deliveries/wait", query=q, timeout=sock))
        if answer.get("timedOut") and raise_on_timeout:
            raise BullseyeMockTimeout(
                f"{answer.get('pendingCount')} deliveries still pending after {wait}: {answer.get('pending')}",
                answer,
                method="GET",
                url=self.base_url + "/_mock/deliveries/wait",
            )
        return answer

    def redeliver(self, delivery_id: str) -> Redelivered:
        """``POST /_mock/deliveries/{id}/redeliver``: the payload again, as a new delivery due now."""
        return cast(Redelivered, self.request("POST", f"/_mock/deliveries/{_seg(delivery_id)}/redeliver"))

    def reset(self) -> Dict[str, Any]:
        """``POST /_mock/reset``: forget deliveries, logs, sink recordings, the journal and API faults.

        Partners, keys, webhooks, organizations, sink settings and the clock stay.
        """
        return cast(Dict[str, Any], self.request("POST", "/_mock/reset"))

    # --- the change stream ---

    def stream(
        self,
        events: Union[str, Sequence[str], None] = None,
        *,
        api_key: Optional[str] = None,
        partner_id: Optional[str] = None,
        type: Optional[str] = None,
        event_type: Optional[str] = None,
        organization_id: Optional[str] = None,
        state: Optional[str] = None,
        delivery_id: Optional[str] = None,
        sink: Optional[str] = None,
        heartbeat: Optional[Duration] = None,
        coalesce: Optional[Duration] = None,
        limit: Optional[int] = None,
        timeout: Optional[Duration] = None,
        last_event_id: Optional[int] = None,
        heartbeats: bool = False,
        idle_timeout: Optional[Duration] = None,
    ) -> EventStream:
        """``GET /_mock/stream``: the mock's changes as they happen (Server-Sent Events).

        Returns an open :class:`~bullseye_mock.EventStream`, to iterate (``with``
        it, so that it is closed) for :class:`~bullseye_mock.StreamEvent`\\ s
        ``(id, name, data)``: ``hello``, then ``delivery``, ``attempt``,
        ``sink``, ``request``, ``clock``, ``reset`` changes, ``lost`` (events
        were missed: reload), and the last: ``stopping`` (the mock shuts
        down) or ``end`` (``limit`` or ``timeout`` reached). The mock has
        subscribed it when this returns, so every change after the call is on it.

        ``events`` chooses kinds (``"delivery,attempt"`` or a list; default
        all). A filter (``api_key``/``partner_id``, ``type``, ``event_type``,
        ``organization_id``, ``state``, ``delivery_id``, ``sink``) sends only
        the events that carry its field with its value (resets always come). ``coalesce`` (default 100ms, at most 10s; ``0`` sends each
        change at once) is how long the mock gathers changes, a delivery's
        merged into its latest; ``heartbeat`` (50ms to 5m, default 15s) how
        long a quiet stream waits before a heartbeat (skipped unless
        ``heartbeats=True``). ``limit`` ends the stream (an ``end`` event)
        after that many change events, ``timeout`` (a duration, at most 24h)
        after that long. ``last_event_id`` resumes after that event (a
        previous stream's ``last_event_id``). ``idle_timeout`` is how long
        the stream may send nothing, not even a heartbeat, before it is taken
        for dead (default: the heartbeat interval plus 15 s).

        A bad parameter raises :class:`BullseyeMockError` 400 whose
        ``details["parameter"]`` names it; 64 open streams, 429 with ``Retry-After``.
        """
        q: Dict[str, Any] = {
            "events": comma(events) if events is not None else None,
            "apiKey": api_key,
            "partnerId": partner_id,
            "type": type,
            "eventType": event_type,
            "organizationId": organization_id,
            "state": state,
            "deliveryId": delivery_id,
            "sink": sink,
            "heartbeat": go_duration(heartbeat) if heartbeat is not None else None,
            "coalesce": go_duration(coalesce) if coalesce is not None else None,
            "limit": limit,
            "timeout": go_duration(timeout) if timeout is not None else None,
            "lastEventId": last_event_id,
        }
        if idle_timeout is not None:
            idle = seconds(idle_timeout)
        else:
            try:
                idle = seconds(heartbeat if heartbeat is not None else "15s") + _LONG_POLL_MARGIN
            except ValueError:
                idle = 15.0 + _LONG_POLL_MARGIN  # the mock refuses the heartbeat anyway
        return self._http.open_stream(
            "/_mock/stream",
            query=q,
            idle_timeout=idle,
            wait_timeout=seconds(self.wait_timeout),
            heartbeats=heartbeats,
        )

    # --- the clock ---

    def clock(self) -> Clock:
        """``GET /_mock/clock``: ``now``, ``manual``, ``nextDue`` (the next scheduled attempt, or None)."""
        return cast(Clock, self.request("GET", "/_mock/clock"))

    def advance_clock(
        self,
        by: Optional[Duration] = None,
        *,
        to: Optional[Instant] = None,
        to_next_due: bool = False,
    ) -> Advanced:
        """``POST /_mock/clock/advance`` (``--clock manual`` only; 409 otherwise): exactly one of
        ``by`` (a duration), ``to`` (an instant, never back) or ``to_next_due=True``.

        Every attempt due on the way is made, in order, before the answer, so the
        next call sees every outcome. ``moved`` is False when ``to_next_due`` found
        nothing scheduled; ``idle`` False when a receiver still holds an attempt.
        """
        body: Dict[str, Any] = {}
        if by is not None:
            body["by"] = go_duration(by)
        if to is not None:
            body["to"] = format_time(to)
        if to_next_due:
            body["toNextDue"] = True
        # The mock waits up to 10 s of real time (plus a 5 s grace for a hanging
        # receiver) before it answers a move.
        return cast(Advanced, self.request("POST", "/_mock/clock/advance", json_body=body, timeout=60.0))

    def set_clock(self, to: Instant) -> Advanced:
        """Move the manual clock to ``to`` (forward only), making every attempt due on the way."""
        return self.advance_clock(to=to)

    # --- scenario runs ---

    def start_scenario(
        self,
        content: Union[str, bytes, Mapping[str, Any]],
        *,
        file: Optional[str] = None,
        leave_clock: Optional[bool] = None,
    ) -> ScenarioRun:
        """``POST /_mock/scenarios/runs``: upload a scenario (YAML or JSON text, or a dict) and start it.

        ``file`` names it in the report and in error positions (a bad file is a
        400 whose ``details.file`` and message give ``file:line:col``).
        ``leave_clock=True``: the run never moves a manual clock itself.
        """
        if isinstance(content, Mapping):
            data, ctype = json.dumps(content).encode(), "application/json"
        else:
            data = content.encode() if isinstance(content, str) else content
            ctype = "application/yaml"
        q = {"file": file, "leaveClock": leave_clock}
        return cast(
            ScenarioRun, self.request("POST", "/_mock/scenarios/runs", query=q, data=data, content_type=ctype)
        )

    def start_scenario_file(
        self,
        path: Union[str, "os.PathLike[str]"],
        *,
        file: Optional[str] = None,
        leave_clock: Optional[bool] = None,
    ) -> ScenarioRun:
        """Upload a scenario file from disk (named by its base name unless ``file`` says otherwise)."""
        with open(path, "rb") as f:
            data = f.read()
        return self.start_scenario(data, file=file or os.path.basename(os.fspath(path)), leave_clock=leave_clock)

    def scenario_runs(self) -> List[ScenarioRun]:
        """``GET /_mock/scenarios/runs``: the runs, newest first, without reports."""
        return cast(List[ScenarioRun], self.request("GET", "/_mock/scenarios/runs")["runs"])

    def scenario_run(self, run_id: str) -> ScenarioRun:
        """``GET /_mock/scenarios/runs/{id}``: one run, with its ``report`` once finished."""
        return cast(ScenarioRun, self.request("GET", f"/_mock/scenarios/runs/{_seg(run_id)}"))

    def wait_scenario_run(self, run_id: str, timeout: Optional[Duration] = None) -> ScenarioRun:
        """``GET /_mock/scenarios/runs/{id}/wait``: long-poll until the run ends; the run with its report.

        Raises :class:`BullseyeMockTimeout` when it is still running at ``timeout``.
        """
        wait, sock = self._wait_args(timeout)
        path = f"/_mock/scenarios/runs/{_seg(run_id)}/wait"
        answer = self.request("GET", path, query={"timeout": wait}, timeout=sock)
        run = cast(ScenarioRun, answer.get("run") or {})
        if answer.get("timedOut"):
            raise BullseyeMockTimeout(
                f"scenario run {run_id} is still {run.get('state')} after {wait}",
                run,
                method="GET",
                url=self.base_url + path,
            )
        return run

    def scenario_report(self, run_id: str) -> Dict[str, Any]:
        """A finished run's report (the same as ``bullseye-mock run --report json``)."""
        run = self.scenario_run(run_id)
        if "report" not in run:
            raise BullseyeMockError(
                200,
                f"scenario run {run_id} has no report ({run.get('state')}: {run.get('error', 'not finished')})",
                code="NoReport",
                body=run,
            )
        return run["report"]

    def run_scenario(
        self,
        content: Union[str, bytes, Mapping[str, Any]],
        *,
        file: Optional[str] = None,
        leave_clock: Optional[bool] = None,
        timeout: Optional[Duration] = None,
        check: bool = True,
    ) -> ScenarioRun:
        """Start a scenario and wait for it to end; with ``check``, raise :class:`ScenarioFailed` unless it passed."""
        started = self.start_scenario(content, file=file, leave_clock=leave_clock)
        run = self.wait_scenario_run(started["id"], timeout=timeout)
        if check and run.get("state") != "passed":
            failed = [
                f"{e.get('line')}:{e.get('column')} {e.get('message')}"
                for e in (run.get("report") or {}).get("expectations", [])
                if not e.get("held")
            ]
            raise ScenarioFailed(
                f"scenario run {run.get('id')} ({run.get('file')}) {run.get('state')}: "
                + ("; ".join(failed) or run.get("error", "")),
                run,
            )
        return run

    # --- the built-in sink ---

    def sinks(self) -> List[Sink]:
        """``GET /_mock/sink``: every sink's settings and counts."""
        return cast(List[Sink], self.request("GET", "/_mock/sink")["sinks"])

    def configure_sink(
        self,
        name: str,
        *,
        statuses: Optional[Sequence[int]] = None,
        secret: Optional[str] = None,
        delay: Optional[Duration] = None,
        delay_max: Optional[Duration] = None,
        capacity: Optional[int] = None,
        failure_rate: Optional[float] = None,
        failure_status: Optional[int] = None,
        retry_after: Optional[int] = None,
        reject_invalid_signatures: Optional[bool] = None,
        seed: Optional[int] = None,
        **extra: Any,
    ) -> Sink:
        """``PUT /_mock/sink/{name}``: create or replace a sink's settings (clears what it recorded).

        ``statuses=[500, 500, 200]``: the n-th request gets the n-th status, the
        last repeats. ``delay`` is real time. Without ``secret`` the sink checks
        the mock's deliveries with their webhook's current secret.
        """
        body = _compact(
            {
                "statuses": list(statuses) if statuses is not None else None,
                "secret": secret,
                "delay": go_duration(delay) if delay is not None else None,
                "delayMax": go_duration(delay_max) if delay_max is not None else None,
                "capacity": capacity,
                "failureRate": failure_rate,
                "failureStatus": failure_status,
                "retryAfter": retry_after,
                "rejectInvalidSignatures": reject_invalid_signatures,
                "seed": seed,
            }
        )
        body.update(extra)
        return cast(Sink, self.request("PUT", f"/_mock/sink/{_seg(name)}", json_body=body))

    def sink(self, name: str) -> Sink:
        """``GET /_mock/sink/{name}``: the sink's settings and counts (404 until it exists)."""
        return cast(Sink, self.request("GET", f"/_mock/sink/{_seg(name)}"))

    def delete_sink(self, name: str) -> None:
        """``DELETE /_mock/sink/{name}``: the sink and what it recorded."""
        self._http.request("DELETE", f"/_mock/sink/{_seg(name)}")

    def sink_requests(
        self,
        name: str,
        at_least: Optional[int] = None,
        *,
        timeout: Optional[Duration] = None,
        page: Optional[int] = None,
        page_size: Optional[int] = None,
        raise_on_timeout: bool = True,
    ) -> SinkRequests:
        """``GET /_mock/sink/{name}/requests``: what the sink recorded, oldest first.

        With ``at_least=N`` a long-poll until the sink has received N requests
        (the sink need not exist yet); raises :class:`BullseyeMockTimeout` when
        ``timeout`` runs out first, unless ``raise_on_timeout=False``. Each
        request has ``signature`` (``valid``, ``invalid``, ``missing``,
        ``unchecked``), ``status``, ``deliveryId``, ``attempt``, ``headers``, ``body``.
        """
        q: Dict[str, Any] = {"page": page, "pageSize": page_size}
        sock: Optional[float] = None
        if at_least is not None:
            wait, sock = self._wait_args(timeout)
            q.update({"atLeast": at_least, "timeout": wait})
        path = f"/_mock/sink/{_seg(name)}/requests"
        answer = cast(SinkRequests, self.request("GET", path, query=q, timeout=sock))
        if answer.get("timedOut") and raise_on_timeout:
            raise BullseyeMockTimeout(
                f"sink {name} received {answer.get('received')} requests, waited for {at_least}",
                answer,
                method="GET",
                url=self.base_url + path,
            )
        return answer

    def send_to_sink(
        self,
        name: str,
        body: Union[bytes, str, Mapping[str, Any]],
        *,
        headers: Optional[Mapping[str, str]] = None,
        signature_secret: Optional[str] = None,
    ) -> Tuple[int, SinkAnswer]:
        """``POST /_mock/sink/{name}``: post to the sink's receiving end as a sender would.

        Returns ``(status, answer)``: the status is the one the sink is
        configured to answer (not raised), the answer ``{"received", "seq",
        "signature"}``. ``signature_secret`` signs the exact bytes sent.
        """
        if isinstance(body, Mapping):
            data = json.dumps(body).encode()
        else:
            data = body.encode() if isinstance(body, str) else body
        send = {"Content-Type": "application/json"}
        if signature_secret is not None:
            send["X-Bullseye-Signature"] = sign(signature_secret, data)
        send.update(headers or {})
        r = self._http.request("POST", f"/_mock/sink/{_seg(name)}", data=data, headers=send, check=False)
        try:
            answer = r.json()
        except BullseyeMockError:
            answer = None
        if not isinstance(answer, dict) or "received" not in answer:
            # Not the sink's answer but the mock's error JSON (a bad name, too many sinks, ...).
            raise BullseyeMockError.from_response(r.status, r.body, r.headers, "POST", r.url)
        return r.status, cast(SinkAnswer, answer)

    # --- the journal of Partner API requests ---

    @staticmethod
    def _match(
        method: Optional[str],
        path: Optional[str],
        status: Union[str, int, None],
        api_key: Optional[str],
        partner_id: Optional[str],
        since: Optional[Instant],
        after: Optional[int],
        has: Union[str, Sequence[str], None],
        body: Any,
    ) -> Dict[str, Any]:
        return {
            "method": method,
            "path": path,
            "status": status,
            "apiKey": api_key,
            "partnerId": partner_id,
            "since": format_time(since) if since is not None else None,
            "after": after,
            "has": comma(has) if has is not None else None,
            "body": (body if isinstance(body, str) else json.dumps(body, separators=(",", ":")))
            if body is not None
            else None,
        }

    def attempt_log(
        self,
        *,
        api_key: Optional[str] = None,
        partner_id: Optional[str] = None,
        type: Optional[str] = None,
        status: Optional[str] = None,
        organization_id: Optional[str] = None,
        page: Optional[int] = None,
        page_size: Optional[int] = None,
    ) -> LogPage:
        """``GET /_mock/logs``: the attempt log exactly as the vendor's ``GET /partner/webhooks/logs``
        answers it, for one partner (``api_key`` or ``partner_id``) or all, without a Partner API call
        (nothing is journaled or rate limited)."""
        q = {
            "apiKey": api_key, "partnerId": partner_id, "type": type, "status": status,
            "organizationId": organization_id, "page": page, "pageSize": page_size,
        }
        return cast(LogPage, self.request("GET", "/_mock/logs", query=q))

    def requests(
        self,
        *,
        method: Optional[str] = None,
        path: Optional[str] = None,
        status: Union[str, int, None] = None,
        api_key: Optional[str] = None,
        partner_id: Optional[str] = None,
        since: Optional[Instant] = None,
        after: Optional[int] = None,
        has: Union[str, Sequence[str], None] = None,
        body: Any = None,
        page: Optional[int] = None,
        page_size: Optional[int] = None,
    ) -> JournalPage:
        """``GET /_mock/requests``: the journal of Partner API requests, newest first.

        ``path`` is a pattern (``*`` within a segment, ``**`` any segments),
        ``status`` a code or a class (``"2xx"``), ``has`` body fields that must be
        set, ``body`` JSON (a dict, or its text) the request body must contain.
        """
        q = self._match(method, path, status, api_key, partner_id, since, after, has, body)
        q.update({"page": page, "pageSize": page_size})
        return cast(JournalPage, self.request("GET", "/_mock/requests", query=q))

    def wait_requests(
        self,
        count: int = 1,
        *,
        method: Optional[str] = None,
        path: Optional[str] = None,
        status: Union[str, int, None] = None,
        api_key: Optional[str] = None,
        partner_id: Optional[str] = None,
        since: Optional[Instant] = None,
        after: Optional[int] = None,
        has: Union[str, Sequence[str], None] = None,
        body: Any = None,
        page_size: Optional[int] = None,
        timeout: Optional[Duration] = None,
        raise_on_timeout: bool = True,
    ) -> JournalWait:
        """``GET /_mock/requests/wait``: long-poll until at least ``count`` journaled requests match.

        Returns ``{"count", "requests"}`` (newest first). Raises
        :class:`BullseyeMockTimeout` when ``timeout`` runs out first, unless
        ``raise_on_timeout=False``.
        """
        wait, sock = self._wait_args(timeout)
        q = self._match(method, path, status, api_key, partner_id, since, after, has, body)
        q.update({"count": count, "pageSize": page_size, "timeout": wait})
        answer = cast(JournalWait, self.request("GET", "/_mock/requests/wait", query=q, timeout=sock))
        if answer.get("timedOut") and raise_on_timeout:
            seen = [f"{r.get('method')} {r.get('path')} {r.get('status')}" for r in answer.get("requests", [])]
            raise BullseyeMockTimeout(
                f"{answer.get('count')} matching Partner API requests after {wait}, waited for {count}: {seen}",
                answer,
                method="GET",
                url=self.base_url + "/_mock/requests/wait",
            )
        return answer

    # --- faults on the Partner API ---

    def add_fault(
        self,
        path: str,
        *,
        method: Optional[str] = None,
        status: Optional[int] = None,
        retry_after: Optional[int] = None,
        message: Optional[str] = None,
        latency: Optional[Duration] = None,
        close: Optional[bool] = None,
        times: Optional[int] = None,
        share: Union[float, str, None] = None,
        api_key: Optional[str] = None,
        partner_id: Optional[str] = None,
        **extra: Any,
    ) -> APIFault:
        """``POST /_mock/faults``: answer matching Partner API requests with a fault; 201 with its ``id``.

        Needs ``status`` (400-599, with the vendor's error JSON), ``close`` or
        ``latency``; fires ``times`` times or on a ``share`` of the requests.
        """
        body = _compact(
            {
                "path": path,
                "method": method,
                "status": status,
                "retryAfter": retry_after,
                "message": message,
                "latency": go_duration(latency) if latency is not None else None,
                "close": close,
                "times": times,
                "share": share,
                "apiKey": api_key,
                "partnerId": partner_id,
            }
        )
        body.update(extra)
        return cast(APIFault, self.request("POST", "/_mock/faults", json_body=body))

    def faults(self) -> List[APIFault]:
        """``GET /_mock/faults``: faults in the order added, with ``fired``, ``matched``, ``spent``."""
        return cast(List[APIFault], self.request("GET", "/_mock/faults")["faults"])

    def fault(self, fault_id: str) -> APIFault:
        """``GET /_mock/faults/{id}``."""
        return cast(APIFault, self.request("GET", f"/_mock/faults/{_seg(fault_id)}"))

    def delete_fault(self, fault_id: str) -> APIFault:
        """``DELETE /_mock/faults/{id}``: remove one fault; the fault as it was."""
        return cast(APIFault, self.request("DELETE", f"/_mock/faults/{_seg(fault_id)}"))

    def clear_faults(self) -> int:
        """``DELETE /_mock/faults``: remove every fault; how many were removed."""
        return int(self.request("DELETE", "/_mock/faults")["removed"])

    # --- API keys ---

    def add_key(
        self,
        scopes: Optional[Sequence[str]] = None,
        *,
        partner_id: Optional[str] = None,
        api_key: Optional[str] = None,
    ) -> Key:
        """``POST /_mock/keys``: another key for a partner (default the first), with scopes.

        ``scopes``: ``read`` (GET), ``write`` (PUT, POST, DELETE), ``admin``; none:
        full access. A key without the scope a request needs gets 403.
        """
        body = _compact({"scopes": list(scopes) if scopes is not None else None, "partnerId": partner_id, "apiKey": api_key})
        return cast(Key, self.request("POST", "/_mock/keys", json_body=body))

    def keys(self) -> List[Key]:
        """``GET /_mock/keys``: the keys in force."""
        return cast(List[Key], self.request("GET", "/_mock/keys")["keys"])

    def revoke_key(self, api_key: str) -> Revoked:
        """``DELETE /_mock/keys/{apiKey}``: the key gets 401 from then on, like an unknown one."""
        return cast(Revoked, self.request("DELETE", f"/_mock/keys/{_seg(api_key)}"))

    # --- traffic reports ---

    @staticmethod
    def _thresholds(
        max_p50: Optional[Duration],
        max_p90: Optional[Duration],
        max_p95: Optional[Duration],
        max_p99: Optional[Duration],
        max_latency: Optional[Duration],
        min_success: Optional[float],
        max_late: Optional[int],
        min_rate: Optional[float],
        extra: Mapping[str, Any],
    ) -> Dict[str, Any]:
        def d(v: Optional[Duration]) -> Optional[str]:
            return go_duration(v) if v is not None else None

        q: Dict[str, Any] = {
            "maxP50": d(max_p50),
            "maxP90": d(max_p90),
            "maxP95": d(max_p95),
            "maxP99": d(max_p99),
            "maxLatency": d(max_latency),
            "minSuccess": min_success,
            "maxLate": max_late,
            "minRate": min_rate,
        }
        for k, v in extra.items():
            q[k] = go_duration(v) if isinstance(v, _dt.timedelta) else v
        return q

    def traffic(
        self,
        *,
        max_p50: Optional[Duration] = None,
        max_p90: Optional[Duration] = None,
        max_p95: Optional[Duration] = None,
        max_p99: Optional[Duration] = None,
        max_latency: Optional[Duration] = None,
        min_success: Optional[float] = None,
        max_late: Optional[int] = None,
        min_rate: Optional[float] = None,
        check: bool = False,
        **thresholds: Any,
    ) -> TrafficReport:
        """``GET /_mock/traffic``: the load report of every attempt since start or the last reset
        (requests, rate, throughput, success, statusCodes, errors, latencyMs {min, mean, p50, p90,
        p95, p99, max}, late starts, firstAttempts, retries, histogram, series).

        Thresholds, in Python's spelling or the mock's: ``traffic(max_p99="200ms", min_success=0.99)``
        is ``traffic(maxP99="200ms", minSuccess=0.99)`` (durations may be seconds or timedeltas).
        The report then has ``thresholds`` (each with ``metric``, ``limit``, ``actual``, ``pass``)
        and ``pass``; a threshold that fails is still a 200, unless ``check=True``, which raises
        :class:`BullseyeMockError` (code ``ThresholdsFailed``, ``body`` the report) when one fails.
        """
        q = self._thresholds(
            max_p50, max_p90, max_p95, max_p99, max_latency, min_success, max_late, min_rate, thresholds
        )
        report = cast(TrafficReport, self.request("GET", "/_mock/traffic", query=q))
        if check and report.get("pass") is False:
            failed = [
                f"{t.get('metric')} {t.get('actual')} (want {t.get('op')} {t.get('limit')})"
                for t in report.get("thresholds", [])
                if not t.get("pass")
            ]
            raise BullseyeMockError(
                200,
                "traffic thresholds failed: " + "; ".join(failed),
                code="ThresholdsFailed",
                body=report,
                method="GET",
                url=self.base_url + "/_mock/traffic",
            )
        return report

    def traffic_svg(
        self,
        *,
        max_p50: Optional[Duration] = None,
        max_p90: Optional[Duration] = None,
        max_p95: Optional[Duration] = None,
        max_p99: Optional[Duration] = None,
        max_latency: Optional[Duration] = None,
        min_success: Optional[float] = None,
        max_late: Optional[int] = None,
        min_rate: Optional[float] = None,
        **thresholds: Any,
    ) -> str:
        """``GET /_mock/traffic.svg``: the same report drawn as SVG (text): attempts per second and
        latency over time, and the latency distribution. Takes the thresholds of :meth:`traffic`."""
        q = self._thresholds(
            max_p50, max_p90, max_p95, max_p99, max_latency, min_success, max_late, min_rate, thresholds
        )
        return self._http.request("GET", "/_mock/traffic.svg", query=q, headers={"Accept": "image/svg+xml"}).text

    # --- shortcuts ---

    def route_to_sink(
        self,
        name: str,
        *,
        secret: Optional[str] = "whsec_test",
        kind: str = "identification",
        **sink: Any,
    ) -> Sink:
        """Configure sink ``name`` (``statuses=...`` and the rest of :meth:`configure_sink`)
        and point the partner's ``kind`` webhook at it, enabled, with ``secret``."""
        configured = self.configure_sink(name, **sink)
        self.partner.put_webhook(kind, url=self.sink_url(name), secret=secret, enabled=True)
        return configured
