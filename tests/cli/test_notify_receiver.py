"""Alerts over real HTTP: a local webhook receiver gets exactly one message for a guard trip, none
for a clean run, and a failing or hanging receiver is recorded, never raised."""

from __future__ import annotations

from typing import Any

from reconcile.notify import NotifySettings, Webhook, deliver, message_for
from tests.support.webhook import WebhookReceiver
from tests.unit.test_notify import guard_trip, record


def settings_for(*hooks: tuple[str, WebhookReceiver, Any], timeout_s: float = 5.0) -> NotifySettings:
    return NotifySettings(
        webhooks=tuple(Webhook(name, receiver.url, fmt) for name, receiver, fmt in hooks), timeout_s=timeout_s
    )


def send(rec: dict[str, Any], previous: dict[str, Any] | None, settings: NotifySettings) -> list[Any]:
    return deliver(message_for(rec, previous, settings), settings)


def test_a_guard_trip_sends_exactly_one_message_to_each_webhook_in_its_format() -> None:
    with WebhookReceiver() as slack, WebhookReceiver() as generic:
        settings = settings_for(("SLACK_HOOK", slack, "slack"), ("OPS_HOOK", generic, "json"))
        deliveries = send(guard_trip(), record(), settings)
        assert [(d.webhook, d.ok, d.status) for d in deliveries] == [("SLACK_HOOK", True, 204), ("OPS_HOOK", True, 204)]
        [slack_body] = slack.bodies()
        [generic_body] = generic.bodies()
    assert "guard tripped: services: the plan removes 30 of 40" in slack_body["text"]
    assert slack.received[0]["content_type"] == "application/json"
    assert [e["event"] for e in generic_body["events"]] == ["run_failed", "guard_tripped"]


def test_a_clean_run_sends_nothing() -> None:
    with WebhookReceiver() as receiver:
        assert send(record(), record(), settings_for(("HOOK", receiver, "json"))) == []
        assert receiver.received == []


def test_a_failing_webhook_is_recorded_and_the_next_one_still_gets_the_message() -> None:
    with WebhookReceiver(mode="fail") as broken, WebhookReceiver() as working:
        settings = settings_for(("BROKEN", broken, "json"), ("WORKING", working, "json"))
        deliveries = send(guard_trip(), None, settings)
        assert [(d.webhook, d.ok, d.error) for d in deliveries] == [
            ("BROKEN", False, "HTTP 500"),
            ("WORKING", True, None),
        ]
        assert len(broken.received) == 1 and len(working.bodies()) == 1


def test_a_hanging_webhook_is_abandoned_after_the_timeout_and_recorded() -> None:
    with WebhookReceiver(mode="hang") as hanging:
        [delivery] = send(guard_trip(), None, settings_for(("SLOW", hanging, "slack"), timeout_s=0.3))
        assert delivery.ok is False
        assert delivery.webhook == "SLOW"
        assert delivery.error is not None and ("0.3s" in delivery.error or "timed out" in delivery.error)
        assert len(hanging.received) == 1  # it was sent once, and not retried


def test_an_unreachable_webhook_is_recorded_without_its_url() -> None:
    with WebhookReceiver() as receiver:
        url = receiver.url
    # the server is closed now: nothing listens on that port
    settings = NotifySettings(webhooks=(Webhook("GONE", url, "json"),), timeout_s=2.0)
    [delivery] = deliver(message_for(guard_trip(), None, settings), settings)
    assert delivery.ok is False and delivery.error is not None
    assert url not in delivery.error
