"""The Partner API an app calls, and the tools to test those calls: the journal, API faults, keys."""
from __future__ import annotations

import pytest

from bullseye_mock import BullseyeMockConnectionError, BullseyeMockError, Client


def test_webhooks_test_webhook_and_logs(bullseye_mock: Client) -> None:
    api = bullseye_mock.partner
    both = api.webhooks()
    assert set(both) == {"identification", "billing"}
    assert both["identification"] == {"url": "", "enabled": False, "hasSecret": False}

    url = bullseye_mock.sink_url("billing-rx")
    assert api.put_webhook("billing", url=url, secret="whsec_b", enabled=True) == {
        "url": url, "enabled": True, "hasSecret": True,
    }
    assert api.put_webhook("billing", enabled=False)["url"] == url  # partial: the rest keeps its value
    with pytest.raises(BullseyeMockError) as e:
        api.test_webhook("billing")  # disabled
    assert e.value.status == 400 and "disabled" in e.value.message
    api.put_webhook("billing", enabled=True)

    sent = api.test_webhook("billing")
    assert sent["success"] is True and sent["message"] == "Test webhook sent successfully"
    delivery = bullseye_mock.wait_for_delivery(sent["deliveryId"])
    assert delivery["eventType"] == "credits.allocated" and delivery["type"] == "billing"
    [log] = api.logs(type="billing", status="delivered")["logs"]
    assert log["deliveryId"] == sent["deliveryId"] and log["statusCode"] == 200
    assert api.logs(status="failed")["total"] == 0

    assert api.remove_webhook("billing") == {"url": "", "enabled": False, "hasSecret": False}


def test_organizations_credits_and_billing(bullseye_mock: Client) -> None:
    api = bullseye_mock.partner
    seeded = api.organizations()
    assert seeded["total"] == 3 and seeded["page"] == 1 and seeded["pageSize"] == 20

    org = api.create_organization("Globex", external_id="cust_42", tier="paid", metadata={"plan": "pro"})
    assert org["name"] == "Globex" and org["externalId"] == "cust_42" and org["metadata"] == {"plan": "pro"}
    assert api.organization(org["id"]) == org
    assert [o["id"] for o in api.organizations(external_id="cust_42")["organizations"]] == [org["id"]]
    assert api.organizations(search="globex")["total"] == 1

    with pytest.raises(BullseyeMockError) as e:
        api.create_organization("Again", external_id="cust_42")
    assert (e.value.status, e.value.code) == (409, "Conflict")

    allocation = api.set_credits(org["id"], 500, notes="first month")
    assert allocation["creditsAllocated"] == 500 and allocation["organizationId"] == org["id"]
    billing = api.billing()
    assert billing["billingMode"] == "credit_pool" and billing["creditPoolUsed"] >= 500
    with pytest.raises(BullseyeMockError) as e:
        api.set_credits(org["id"], billing["creditPoolTotal"] * 2)
    assert (e.value.status, e.value.code) == (422, "UnprocessableEntity")

    with pytest.raises(BullseyeMockError) as e:
        api.organization("00000000-0000-0000-0000-000000000000")
    assert (e.value.status, e.value.code) == (404, "NotFound")


def test_the_journal_and_its_long_poll(bullseye_mock: Client) -> None:
    api = bullseye_mock.partner
    api.put_webhook("identification", url="https://example.com/hook", secret="whsec_x", enabled=True)
    api.put_webhook("identification", enabled=False)
    api.webhooks()

    waited = bullseye_mock.wait_requests(2, method="PUT", path="/api/v1/partner/webhooks/*", status="2xx")
    assert waited["count"] == 2
    page = bullseye_mock.requests(method="PUT", path="/api/v1/partner/webhooks/identification")
    assert page["total"] == 2 and page["cap"] == 5000 and page["evicted"] == 0
    newest, oldest = page["requests"]
    assert newest["id"] > oldest["id"] and newest["status"] == 200
    assert newest["headers"]["X-Partner-Api-Key"][0].endswith("-key")
    assert newest["headers"]["X-Partner-Api-Key"][0] != bullseye_mock.api_key  # masked

    with_secret = bullseye_mock.requests(method="PUT", has=["secret", "url"], body={"enabled": True})
    assert [r["id"] for r in with_secret["requests"]] == [oldest["id"]]
    assert bullseye_mock.requests(after=newest["id"])["total"] == 1  # the GET after it
    assert bullseye_mock.requests(method="GET", path="/api/v1/**")["total"] == 1

    quiet = bullseye_mock.wait_requests(method="DELETE", timeout="100ms", raise_on_timeout=False)
    assert quiet["timedOut"] is True and quiet["count"] == 0


def test_an_api_fault_then_the_api_behaves(bullseye_mock: Client) -> None:
    fault = bullseye_mock.add_fault("/api/v1/partner/webhooks/*", method="PUT", status=503, times=1, retry_after=2)
    assert fault["id"] == "flt_1" and fault["fired"] == 0 and fault["spent"] is False

    api = bullseye_mock.partner
    with pytest.raises(BullseyeMockError) as e:
        api.put_webhook("identification", url="https://example.com/hook", secret="s", enabled=True)
    assert (e.value.status, e.value.code) == (503, "ServiceUnavailable")
    assert e.value.details == {"fault": "flt_1"}
    assert e.value.header("Retry-After") == "2"
    assert e.value.header("X-RateLimit-Limit") == "1000"
    api.put_webhook("identification", url="https://example.com/hook", secret="s", enabled=True)  # the retry

    assert bullseye_mock.fault("flt_1")["fired"] == 1 and bullseye_mock.fault("flt_1")["spent"] is True
    puts = bullseye_mock.requests(method="PUT")["requests"]
    assert [(r["status"], r.get("fault")) for r in puts] == [(200, None), (503, "flt_1")]

    closer = bullseye_mock.add_fault("/api/v1/partner/billing", close=True, times=1)
    with pytest.raises(BullseyeMockConnectionError) as c:
        api.billing()
    assert c.value.status == 0
    # The journal may record the closed request a moment after the client saw the close: a long-poll.
    assert bullseye_mock.wait_requests(path="/api/v1/partner/billing", timeout=5)["requests"][0]["status"] == 0
    assert api.billing()["billingMode"] == "credit_pool"

    assert [f["id"] for f in bullseye_mock.faults()] == ["flt_1", closer["id"]]
    assert bullseye_mock.delete_fault("flt_1")["id"] == "flt_1"
    bullseye_mock.add_fault("/api/v1/**", status=429, share="10%")
    assert bullseye_mock.clear_faults() == 2
    assert bullseye_mock.faults() == []


def test_scoped_and_revoked_keys(bullseye_mock: Client) -> None:
    [partner] = bullseye_mock.partners()
    assert partner["apiKey"] == bullseye_mock.api_key and len(partner["organizationIds"]) == 3

    key = bullseye_mock.add_key(["read"], api_key="app-readonly")
    assert key == {"apiKey": "app-readonly", "partnerId": partner["id"], "scopes": ["read"], "primary": False}
    assert {k["apiKey"] for k in bullseye_mock.keys()} == {bullseye_mock.api_key, "app-readonly"}

    readonly = bullseye_mock.partner.with_key("app-readonly")
    assert readonly.webhooks()["identification"]["enabled"] is False
    with pytest.raises(BullseyeMockError) as e:
        readonly.put_webhook("identification", enabled=True)
    assert (e.value.status, e.value.code) == (403, "Forbidden")
    assert e.value.details["requiredScope"] == "write"

    assert bullseye_mock.revoke_key("app-readonly")["revoked"] is True
    with pytest.raises(BullseyeMockError) as e:
        readonly.webhooks()
    assert (e.value.status, e.value.code, e.value.message) == (401, "Unauthorized", "invalid API key")
    generated = bullseye_mock.add_key()
    assert generated["apiKey"].startswith("bm_key_") and generated["scopes"] == []
