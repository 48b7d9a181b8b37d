"""Errors raised by the client.

Every non-2xx answer of the mock (the Partner API and the control API alike)
is the vendor's error JSON, ``{"code", "message", "details"}``; the client
raises it as a :class:`BullseyeMockError` carrying the status and that JSON.
"""
from __future__ import annotations

import json
from typing import Any, Dict, Mapping, Optional


class BullseyeMockError(Exception):
    """A request to the mock failed.

    Attributes:
        status: the HTTP status (0 when there was no answer: the connection
            was refused or closed, e.g. by a ``{"close": true}`` API fault).
        code: the vendor error JSON's ``code`` (``BadRequest``, ``NotFound``,
            ...), or ``""`` when the body was not that JSON.
        message: its ``message`` (or the raw body, or the connection error).
        details: its ``details`` object (``{"field": "count"}``, ...).
        body: the whole parsed JSON body, or ``None`` when it was not JSON.
        text: the raw body as text.
        headers: the response headers (``Retry-After``, ``X-RateLimit-*``, ...).
        method, url: the request that failed.
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str = "",
        details: Optional[Dict[str, Any]] = None,
        body: Any = None,
        text: str = "",
        headers: Optional[Mapping[str, str]] = None,
        method: str = "",
        url: str = "",
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.details: Dict[str, Any] = dict(details or {})
        self.body = body
        self.text = text
        self.headers: Dict[str, str] = dict(headers or {})
        self.method = method
        self.url = url
        super().__init__(str(self))

    @classmethod
    def from_response(
        cls,
        status: int,
        raw: bytes,
        headers: Mapping[str, str],
        method: str,
        url: str,
    ) -> "BullseyeMockError":
        text = raw.decode("utf-8", "replace")
        body: Any = None
        try:
            body = json.loads(text) if text else None
        except ValueError:
            body = None
        code, message, details = "", text.strip(), {}
        if isinstance(body, dict) and "code" in body:
            code = str(body.get("code", ""))
            message = str(body.get("message", ""))
            if isinstance(body.get("details"), dict):
                details = body["details"]
        return cls(
            status,
            message,
            code=code,
            details=details,
            body=body,
            text=text,
            headers=headers,
            method=method,
            url=url,
        )

    def header(self, name: str) -> Optional[str]:
        """A response header, by case-insensitive name."""
        for k, v in self.headers.items():
            if k.lower() == name.lower():
                return v
        return None

    def __str__(self) -> str:
        where = f"{self.method} {self.url}: " if self.method else ""
        code = f" {self.code}" if self.code else ""
        detail = f" {json.dumps(self.details, sort_keys=True)}" if self.details else ""
        return f"{where}{self.status}{code}: {self.message}{detail}"


class BullseyeMockConnectionError(BullseyeMockError):
    """No HTTP answer: connection refused, reset, or closed without a response.

    ``status`` is 0, as in the journal of a request a ``close`` fault answered.
    """


class BullseyeMockTimeout(BullseyeMockError):
    """A long-poll ended with ``"timedOut": true``.

    The mock answers a wait that runs out with 200 and the state at the
    deadline; ``result`` (and ``body``) hold that answer, so a test can say
    what it saw instead. ``status`` is that 200.
    """

    def __init__(self, message: str, result: Any, *, method: str = "", url: str = "") -> None:
        super().__init__(200, message, code="TimedOut", body=result, method=method, url=url)
        self.result = result


class DeliveryStateError(BullseyeMockError):
    """A delivery reached a final state other than the one waited for.

    ``delivery`` is the delivery as it ended (``state``, ``attempts``, ...).
    """

    def __init__(self, message: str, delivery: Any, *, method: str = "", url: str = "") -> None:
        super().__init__(200, message, code="UnexpectedState", body=delivery, method=method, url=url)
        self.delivery = delivery


class ScenarioFailed(BullseyeMockError):
    """A scenario run ended ``failed`` or ``error``; ``run`` is the run with its report."""

    def __init__(self, message: str, run: Any, *, method: str = "", url: str = "") -> None:
        super().__init__(200, message, code="ScenarioFailed", body=run, method=method, url=url)
        self.run = run
