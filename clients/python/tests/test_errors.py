"""Errors: a 4xx raises BullseyeMockError with the status and the vendor error JSON; waits that run out raise too."""
from __future__ import annotations

import pytest

from bullseye_mock import (
    BullseyeMockConnectionError,
    BullseyeMockError,
    BullseyeMockTimeout,
    Client,
    DeliveryStateError,
    MockProcess,
)


def test_a_bad_event_request_names_its_field(bullseye_mock: Client) -> None:
    with pytest.raises(BullseyeMockError) as e:
        bullseye_mock.trigger("visitor.identified", faults=[{"signature": "bogus"}])
    err = e.value
    assert (err.status, err.code) == (400, "BadRequest")
    assert err.details == {"field": "faults[0].signature"}
    assert err.message.startswith('unknown signature fault "bogus", expected one of wrong_secret')
    assert err.body == {"code": "BadRequest", "message": err.message, "details": {"field": "faults[0].signature"}}
    assert "400 BadRequest" in str(err) and "POST" in str(err)

    with pytest.raises(BullseyeMockError) as e:
        bullseye_mock.trigger("visitor.identified", count=-1)
    assert e.value.details == {"field": "count"} and e.value.message == "count must be from 1 to 100000, got -1"
    with pytest.raises(BullseyeMockError) as e:
        bullseye_mock.trigger("visitor.identified", policy={"timeout": "0s"})
    assert e.value.details == {"field": "policy.timeout"}
    with pytest.raises(BullseyeMockError) as e:
        bullseye_mock.trigger("visitor.left")
    assert e.value.details == {"field": "type"}
    assert bullseye_mock.deliveries()["total"] == 0  # a bad request creates nothing


def test_an_event_for_a_webhook_without_url_is_refused_unless_asked_for(bullseye_mock: Client) -> None:
    # The fixture's mock has no webhook configured.
    with pytest.raises(BullseyeMockError) as e:
        bullseye_mock.trigger("visitor.identified")
    assert (e.value.status, e.value.details) == (400, {"field": "type"})
    assert e.value.message.startswith("the identification webhook has no url: configure it with PUT")
    assert bullseye_mock.deliveries()["total"] == 0
    [delivery_id] = bullseye_mock.trigger("visitor.identified", even_if_disabled=True)
    assert bullseye_mock.wait_for_delivery(delivery_id, "canceled", timeout="5s")["state"] == "canceled"
    # A wait that ends otherwise names the inspector's page of the delivery.
    with pytest.raises(DeliveryStateError) as e:
        bullseye_mock.wait_for_delivery(delivery_id, timeout="5s")
    assert f"see {bullseye_mock.base_url}/_mock/ui#/deliveries/{delivery_id}" in str(e.value)
    assert bullseye_mock.inspector_url("sinks", "a b", 3) == f"{bullseye_mock.base_url}/_mock/ui#/sinks/a%20b/3"


def test_not_found_method_not_allowed_and_bad_bodies(bullseye_mock: Client) -> None:
    with pytest.raises(BullseyeMockError) as e:
        bullseye_mock.delivery("nope")
    assert (e.value.status, e.value.code, e.value.details) == (404, "NotFound", {"id": "nope"})

    with pytest.raises(BullseyeMockError) as e:
        bullseye_mock.partner.request("DELETE", "/partner/webhooks/identification")
    assert (e.value.status, e.value.code) == (405, "MethodNotAllowed")
    assert e.value.header("Allow") == "PUT" and e.value.details == {"allowed": ["PUT"]}

    with pytest.raises(BullseyeMockError) as e:
        bullseye_mock.partner.put_webhook("signup", url="https://example.com")
    assert (e.value.status, e.value.code) == (404, "NotFound")
    assert e.value.details == {"type": "signup"}

    with pytest.raises(BullseyeMockError) as e:
        bullseye_mock.partner.request("PUT", "/partner/webhooks/identification", json_body={"enabled": "yes"})
    assert (e.value.status, e.value.details) == (400, {"field": "enabled"})
    assert e.value.message == 'field "enabled" must be a boolean, got string'

    with pytest.raises(BullseyeMockError) as e:
        bullseye_mock.advance_clock()  # none of by, to, toNextDue
    assert e.value.status == 400 and "exactly one" in e.value.message
    with pytest.raises(BullseyeMockError) as e:
        bullseye_mock.partner.with_key("wrong").webhooks()
    assert (e.value.status, e.value.code) == (401, "Unauthorized")


def test_waits_raise_when_they_time_out_or_the_delivery_ends_otherwise(bullseye_mock: Client) -> None:
    bullseye_mock.route_to_sink("down", statuses=[500])
    [retrying] = bullseye_mock.trigger("visitor.identified")
    with pytest.raises(BullseyeMockTimeout) as t:
        bullseye_mock.wait_for_delivery(retrying, timeout="200ms")  # the manual clock holds its retry
    assert t.value.result["state"] == "retrying" and len(t.value.result["attempts"]) == 1

    [failing] = bullseye_mock.trigger("visitor.identified", policy={"attempts": 1})
    with pytest.raises(DeliveryStateError) as s:
        bullseye_mock.wait_for_delivery(failing, "delivered", timeout=30)  # at once, not after 30 s
    assert s.value.delivery["state"] == "failed" and "failed" in str(s.value)
    assert bullseye_mock.wait_for_delivery(failing, ["delivered", "failed"])["state"] == "failed"
    assert bullseye_mock.wait_for_delivery(failing, "final")["state"] == "failed"
    with pytest.raises(BullseyeMockError) as e:
        bullseye_mock.wait_for_delivery(failing, timeout="10m")  # past the mock's 5m bound
    assert e.value.status == 400 and e.value.details["parameter"] == "timeout"


def test_advancing_a_scaled_clock_is_a_conflict(bullseye_mock_factory) -> None:  # type: ignore[no-untyped-def]
    mock = bullseye_mock_factory(clock="scaled").client()
    assert mock.clock()["manual"] is False
    with pytest.raises(BullseyeMockError) as e:
        mock.advance_clock(by="1m")
    assert (e.value.status, e.value.code) == (409, "Conflict")
    assert "--clock manual" in e.value.message


@pytest.mark.bullseye_mock(admin_token="s3cret")
def test_the_admin_token(bullseye_mock: Client, bullseye_mock_process: MockProcess) -> None:
    assert bullseye_mock.admin_token == "s3cret"
    assert bullseye_mock.clock()["manual"] is True
    anonymous = Client(bullseye_mock_process.url)
    with pytest.raises(BullseyeMockError) as e:
        anonymous.clock()
    assert (e.value.status, e.value.code) == (401, "Unauthorized")
    assert anonymous.openapi()["openapi"].startswith("3.")  # open, as are /healthz and /metrics
    assert anonymous.healthz() == {"status": "ok"} and "bullseye_mock_" in anonymous.metrics()


def test_no_mock_is_a_connection_error(bullseye_mock_process: MockProcess) -> None:
    client = bullseye_mock_process.client()
    assert client.ready() is True
    assert bullseye_mock_process.stop() == 0  # SIGTERM: the mock drains and exits 0
    assert client.ready() is False
    with pytest.raises(BullseyeMockConnectionError) as e:
        client.clock()
    assert e.value.status == 0 and "Connection" in e.value.message
