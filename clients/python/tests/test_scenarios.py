"""Scenario runs uploaded to the running mock: start, list, get, wait, report."""
from __future__ import annotations

import os
import pathlib
import textwrap

import pytest

from bullseye_mock import BullseyeMockError, Client, ScenarioFailed


def flaky(sink_url: str) -> dict:
    return {
        "name": "flaky sink",
        "webhooks": {"identification": {"url": sink_url, "secret": "whsec_example"}},
        "steps": [
            {"send": {"type": "visitor.identified"}},
            {"wait": "settled"},
            {"expect": {"state": "delivered", "statuses": [500, 500, 200], "offsets": ["0s", "1m", "6m"]}},
        ],
    }


def test_a_scenario_run_passes_and_reports(bullseye_mock: Client) -> None:
    # Uploaded runs send to the file's webhook URL (its `receiver` key is for `bullseye-mock run`),
    # so the test configures the sink the file points at.
    bullseye_mock.configure_sink("flaky", statuses=[500, 500, 200])
    started = bullseye_mock.start_scenario(flaky(bullseye_mock.sink_url("flaky")), file="flaky.json")
    assert started["state"] == "running" and started["file"] == "flaky.json"

    run = bullseye_mock.wait_scenario_run(started["id"], timeout=10)
    assert run["state"] == "passed", run
    assert [r["id"] for r in bullseye_mock.scenario_runs()] == [started["id"]]
    assert bullseye_mock.scenario_run(started["id"])["state"] == "passed"
    report = bullseye_mock.scenario_report(started["id"])
    assert report["passed"] is True and report["deliveries"] == 1 and report["mockTime"] == "6m0s"
    assert [e["held"] for e in report["expectations"]] == [True]
    assert bullseye_mock.sink("flaky")["received"] == 3


def test_a_yaml_file_that_fails_says_why(bullseye_mock: Client, tmp_path: pathlib.Path) -> None:
    bullseye_mock.configure_sink("ok")
    path = tmp_path / "wants-retries.yaml"
    path.write_text(
        textwrap.dedent(
            f"""\
            name: wants retries
            webhooks:
              identification: {{url: "{bullseye_mock.sink_url('ok')}", secret: whsec_example}}
            steps:
              - send: {{type: visitor.identified}}
              - wait: settled
              - expect: {{attempts: 3}}
            """
        )
    )
    started = bullseye_mock.start_scenario_file(path)
    assert started["file"] == "wants-retries.yaml"
    run = bullseye_mock.wait_scenario_run(started["id"])
    assert run["state"] == "failed"
    [expectation] = run["report"]["expectations"]
    assert expectation["held"] is False and expectation["line"] == 7

    with pytest.raises(ScenarioFailed) as e:
        bullseye_mock.run_scenario(path.read_text(), file=os.path.basename(path))
    assert e.value.run["state"] == "failed" and "7:" in str(e.value)


def test_a_scenario_expects_the_apps_partner_api_calls(bullseye_mock: Client) -> None:
    # The fault goes in through the control API before the run starts: an apiFault step
    # would race the app below, the run being in the background.
    bullseye_mock.add_fault("/api/v1/partner/webhooks/*", method="PUT", status=503, times=1)
    put = {"method": "PUT", "path": "/api/v1/partner/webhooks/identification"}
    scenario = {
        "name": "the app registers its webhook and survives a 503",
        "steps": [
            {"wait": {"requests": dict(put, status="2xx"), "timeout": "10s"}},
            {"expect": {"requests": [
                dict(put, status=503, count=1),
                dict(put, status="2xx", body={"enabled": True}, has=["secret"], count=1),
            ]}},
        ],
    }
    started = bullseye_mock.start_scenario(scenario, file="app.json")
    app = bullseye_mock.partner
    for attempt in range(2):  # the app under test: register, retrying a 503 once
        try:
            app.put_webhook("identification", url="https://app.example/hook", secret="whsec_app", enabled=True)
            break
        except BullseyeMockError as e:
            assert e.status == 503 and attempt == 0
    run = bullseye_mock.wait_scenario_run(started["id"])
    assert run["state"] == "passed", run["report"]


def test_a_bad_file_is_refused_at_its_line(bullseye_mock: Client) -> None:
    bad = "name: bad\nsteps:\n  - send: {type: visitor.identified, faults: [{signature: bogus}]}\n"
    with pytest.raises(BullseyeMockError) as e:
        bullseye_mock.start_scenario(bad, file="bad.yaml")
    assert (e.value.status, e.value.code) == (400, "BadRequest")
    assert e.value.message.startswith("bad.yaml:3:") and "unknown signature fault" in e.value.message
    assert e.value.details["file"] == "bad.yaml"
    assert bullseye_mock.scenario_runs() == []
