"""Alerts, decided from run records: which events a run raises and the one message it makes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from reconcile.notify import (
    EVENTS,
    Delivery,
    NotifySettings,
    Webhook,
    alerts_for,
    body_for,
    deliver,
    message_for,
    settings_from,
)
from reconcile.redact import remember_secret, scrub

ALL = NotifySettings()


def record(**extra: Any) -> dict[str, Any]:
    """A clean run of the PlanX job, shaped like the run log's records; `extra` overrides fields."""
    base: dict[str, Any] = {
        "run_id": "20260101T021700Z-1a2b",
        "status": "ok",
        "started_at": "2026-01-01T02:17:00.000Z",
        "duration_s": 4.2,
        "jobs": ["planx-live-services"],
        "counts": {"update": {"ok": 2, "failed": 0, "skipped": 0}},
        "failed": 0,
        "outcomes": [
            {"action": "update", "resource": "services", "key": "barnet", "status": "ok"},
            {"action": "update", "resource": "services", "key": "camden", "status": "ok"},
        ],
        "warnings": [],
        "errors": [],
        "record_counts": {"planx-live-services": 40},
    }
    return {**base, **extra}


def guard_trip() -> dict[str, Any]:
    return record(
        status="refused",
        counts={},
        outcomes=[],
        error={"code": "guard", "message": "a blast-radius guard refused the plan"},
        errors=[
            {
                "code": "guard_archive_limit",
                "resource": "services",
                "key": None,
                "message": "services: the plan removes 30 of 40 managed pages, more than the limit of 8",
            }
        ],
    )


def events(rec: dict[str, Any], previous: dict[str, Any] | None = None, settings: NotifySettings = ALL) -> list[str]:
    return [a.event for a in alerts_for(rec, previous, settings)]


def test_a_clean_run_raises_nothing_and_makes_no_message() -> None:
    assert events(record(), previous=record()) == []
    assert message_for(record(), record(), ALL) is None


def test_each_event_is_raised_by_the_run_that_shows_it() -> None:
    failed = record(
        status="failed",
        failed=1,
        outcomes=[{"action": "update", "resource": "services", "key": "barnet", "status": "failed"}],
    )
    assert events(failed) == ["run_failed"]
    assert events(record(status="interrupted")) == ["run_failed"]
    assert events(record(status="crashed")) == ["run_failed"]
    assert "guard_tripped" in events(guard_trip())
    duplicates = record(
        errors=[{"code": "duplicate_page_key", "resource": "services", "key": "barnet", "message": "two pages"}]
    )
    assert events(duplicates) == ["duplicates_found"]
    drift = record(
        outcomes=[{"action": "update", "resource": "services", "key": "hounslow", "status": "ok", "drift": True}]
    )
    assert events(drift) == ["drift_reverted"]
    shrunk = record(record_counts={"planx-live-services": 12})
    assert events(shrunk, previous=record()) == ["record_count_changed"]


def test_record_count_change_needs_more_than_the_threshold_and_a_previous_run() -> None:
    previous = record(record_counts={"planx-live-services": 40})
    at_threshold = record(record_counts={"planx-live-services": 48})  # +20%: not more than 20%
    assert events(at_threshold, previous) == []
    assert events(record(record_counts={"planx-live-services": 49}), previous) == ["record_count_changed"]
    assert events(record(record_counts={"planx-live-services": 49}), None) == []
    strict = NotifySettings(record_change_threshold=0.1)
    assert events(at_threshold, previous, strict) == ["record_count_changed"]
    [alert] = alerts_for(record(record_counts={"planx-live-services": 0}), previous, ALL)
    assert alert.text == (
        "job planx-live-services: the source returned 0 records, 40 last run (100% change, threshold 20%)"
    )


def test_only_the_events_asked_for_are_sent() -> None:
    only_failures = NotifySettings(events=frozenset({"run_failed"}))
    assert events(guard_trip(), settings=only_failures) == ["run_failed"]
    assert events(guard_trip(), settings=NotifySettings(events=frozenset({"drift_reverted"}))) == []


def test_a_guard_trip_makes_one_message_naming_every_alert() -> None:
    message = message_for(guard_trip(), record(), ALL)
    assert message is not None
    assert [a.event for a in message.alerts] == ["run_failed", "guard_tripped"]
    assert message.headline == "reconcile planx-live-services: refused (run 20260101T021700Z-1a2b)"
    assert "the plan removes 30 of 40 managed pages" in message.text
    assert message.text.count("\n") == 2  # the headline and one line per alert


def test_the_slack_body_is_an_incoming_webhook_payload_and_the_json_body_lists_events() -> None:
    message = message_for(guard_trip(), None, ALL)
    assert message is not None
    slack = json.loads(body_for(Webhook("SLACK_URL", "https://hooks.example/x", "slack"), message))
    assert slack["text"] == message.text
    assert slack["blocks"][0]["text"]["type"] == "mrkdwn"
    generic = json.loads(body_for(Webhook("OPS_URL", "https://ops.example/y", "json"), message))
    assert generic["source"] == "reconcile" and generic["status"] == "refused"
    assert [e["event"] for e in generic["events"]] == ["run_failed", "guard_tripped"]


def test_many_keys_are_cut_to_ten_with_a_count() -> None:
    dupes = [
        {"code": "duplicate_source_key", "resource": "services", "key": f"k{i:02d}", "message": ""} for i in range(14)
    ]
    [alert] = alerts_for(record(warnings=dupes), None, ALL)
    assert alert.text.endswith("k09 (and 4 more)") and alert.text.startswith("14 key(s)")
    assert len(alert.keys) == 14


def test_no_message_means_no_delivery() -> None:
    calls: list[str] = []

    def post(url: str, body: bytes, timeout: float) -> int:
        calls.append(url)
        return 200

    settings = NotifySettings(webhooks=(Webhook("HOOK", "https://hooks.example/a"),))
    assert deliver(None, settings, post) == []
    assert calls == []


def test_a_webhook_that_raises_is_recorded_without_its_url_or_a_secret() -> None:
    remember_secret("ntn_notify_secret_123")
    url = "https://hooks.slack.example/services/T000/B000/XXXXSECRET"

    def post(u: str, body: bytes, timeout: float) -> int:
        raise OSError(f"cannot reach {u} (token ntn_notify_secret_123)")

    settings = NotifySettings(webhooks=(Webhook("SLACK_WEBHOOK_URL", url, "slack"),))
    [delivery] = deliver(message_for(guard_trip(), None, ALL), settings, post)
    assert delivery == Delivery(
        "SLACK_WEBHOOK_URL", ok=False, error="OSError: cannot reach [webhook url] (token [redacted])"
    )
    assert "XXXXSECRET" not in json.dumps(delivery.as_dict())
    assert "XXXXSECRET" not in repr(settings)


@pytest.mark.parametrize("status, ok", [(200, True), (204, True), (404, False), (500, False)])
def test_a_non_2xx_answer_is_a_failed_delivery(status: int, ok: bool) -> None:
    settings = NotifySettings(webhooks=(Webhook("HOOK", "https://hooks.example/a"),))
    [delivery] = deliver(message_for(guard_trip(), None, ALL), settings, lambda u, b, t: status)
    assert delivery.ok is ok and delivery.status == status


def test_the_events_are_the_five_the_operator_can_name() -> None:
    assert EVENTS == ("run_failed", "guard_tripped", "duplicates_found", "drift_reverted", "record_count_changed")


def test_settings_read_each_url_from_its_variable_and_remember_it_as_a_secret() -> None:
    raw = {
        "webhooks": [{"url_env": "SLACK_HOOK", "format": "slack"}, {"url_env": "OPS_HOOK"}],
        "events": ["run_failed", "guard_tripped"],
        "record_count_change": 0.5,
        "timeout_seconds": 2,
    }
    settings = settings_from(raw, {"SLACK_HOOK": "https://hooks.example/T1/B2/s3cr3tpath"})
    assert [(w.name, w.format, bool(w.url)) for w in settings.webhooks] == [
        ("SLACK_HOOK", "slack", True),
        ("OPS_HOOK", "json", False),
    ]
    assert settings.events == {"run_failed", "guard_tripped"}
    assert (settings.record_change_threshold, settings.timeout_s) == (0.5, 2.0)
    assert scrub("posting to https://hooks.example/T1/B2/s3cr3tpath") == "posting to [redacted]"
    assert settings_from(None, {}) == NotifySettings()


def test_a_webhook_whose_variable_is_unset_is_recorded_and_never_called() -> None:
    calls: list[str] = []
    settings = settings_from({"webhooks": [{"url_env": "MISSING_HOOK"}]}, {})
    [delivery] = deliver(message_for(guard_trip(), None, ALL), settings, lambda u, b, t: calls.append(u) or 200)
    assert delivery == Delivery("MISSING_HOOK", ok=False, error="MISSING_HOOK is not set; not sent")
    assert calls == []
