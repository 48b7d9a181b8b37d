"""The client covers the served OpenAPI document, and names nothing it lacks.

The table is bullseye_mock.operations.OPERATIONS: (METHOD, path) -> client
method. Compared both ways with GET /_mock/openapi.json of the real binary,
and down to the parameters: every documented query parameter and body key
has a keyword argument of the method that calls the operation.
"""
from __future__ import annotations

import inspect
import re
from typing import Any, Callable, Dict, Set, Tuple

import pytest

from bullseye_mock import HELPERS, OPERATIONS, Client, PartnerAPI

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}

# Body keys or query parameters spelled otherwise in Python.
ALIASES: Dict[Tuple[str, str], Dict[str, str]] = {
    ("POST", "/_mock/events"): {"type": "event_type"},
    ("POST", "/api/v1/partner/webhooks/test"): {"type": "kind"},
}


def documented(doc: Dict[str, Any]) -> Set[Tuple[str, str]]:
    return {(m.upper(), path) for path, item in doc["paths"].items() for m in item if m in HTTP_METHODS}


def resolve(name: str) -> Callable[..., Any]:
    """``"trigger"`` is Client.trigger, ``"partner.logs"`` PartnerAPI.logs (Client.partner's class)."""
    owner, _, method = name.rpartition(".")
    assert owner in ("", "partner"), name
    return getattr(PartnerAPI if owner == "partner" else Client, method)


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def deref(doc: Dict[str, Any], schema: Dict[str, Any]) -> Dict[str, Any]:
    while "$ref" in schema:
        target: Any = doc
        for part in schema["$ref"].lstrip("#/").split("/"):
            target = target[part]
        schema = target
    return schema


@pytest.fixture
def document(bullseye_mock: Client) -> Dict[str, Any]:
    return bullseye_mock.openapi()


def test_every_documented_operation_has_a_client_method(document: Dict[str, Any]) -> None:
    missing = sorted(documented(document) - set(OPERATIONS))
    assert not missing, (
        "operations in the served OpenAPI document with no client method: add a method to "
        f"bullseye_mock/client.py and a row to bullseye_mock/operations.py OPERATIONS: {missing}"
    )


def test_every_client_method_names_a_documented_operation(document: Dict[str, Any]) -> None:
    ops = documented(document)
    unknown = sorted(set(OPERATIONS) - ops)
    assert not unknown, f"the client calls operations the served document lacks: {unknown}"


def test_the_table_names_methods_the_client_has() -> None:
    for op, name in OPERATIONS.items():
        assert callable(resolve(name)), f"{op} -> {name}: no such method"
    for name in HELPERS:
        assert callable(resolve(name)), f"helper {name}: no such method"
    assert not set(OPERATIONS.values()) & HELPERS, "a method is either an operation or a helper"


def test_every_public_method_is_an_operation_or_a_helper() -> None:
    classified = set(OPERATIONS.values()) | HELPERS
    public = {n for n, v in vars(Client).items() if callable(v) and not n.startswith("_")}
    public |= {f"partner.{n}" for n, v in vars(PartnerAPI).items() if callable(v) and not n.startswith("_")}
    unclassified = sorted(public - classified)
    assert not unclassified, (
        f"public methods in neither OPERATIONS nor HELPERS of bullseye_mock/operations.py: {unclassified}"
    )


def test_every_documented_parameter_has_a_keyword(document: Dict[str, Any]) -> None:
    problems = []
    for path, item in document["paths"].items():
        for method, op in item.items():
            key = (method.upper(), path)
            if method not in HTTP_METHODS or key not in OPERATIONS:
                continue
            sig = inspect.signature(resolve(OPERATIONS[key]))
            aliases = ALIASES.get(key, {})
            names = []
            for p in op.get("parameters", []):
                p = deref(document, p)
                if p.get("in") == "query":
                    names.append((p["name"], p.get("deprecated", False)))
            content = (op.get("requestBody") or {}).get("content", {})
            schema = deref(document, (content.get("application/json") or {}).get("schema") or {})
            for prop, spec in (schema.get("properties") or {}).items():
                names.append((prop, deref(document, spec).get("deprecated", False)))
            for name, deprecated in names:
                if deprecated:
                    continue
                want = aliases.get(name, snake(name))
                if want not in sig.parameters:
                    problems.append(f"{method.upper()} {path}: {name!r} has no keyword {want!r} in {OPERATIONS[key]}")
    assert not problems, "\n".join(problems)
