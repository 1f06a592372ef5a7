"""Alerts: at most one webhook message per run, about the events the operator asked for.

    run record (+ the run before it) ──alerts_for──▶ [Alert] ──compose──▶ Message | None
    Message ──deliver──▶ one POST per webhook, each bounded by a short timeout ──▶ [Delivery]

Deciding is pure (the run record is plain data); sending goes through a `Post` function the caller
hands in, so a test or another HTTP layer can stand in for urllib. A webhook that fails or hangs
yields a failed Delivery and never an exception: alerts must not fail, or noticeably slow, a run
whose writes are already done. Webhook URLs are secrets (a Slack URL carries its token): they are
never put in a message, a Delivery or a log line; a webhook is named by the variable it came from.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from reconcile.redact import remember_secret, scrub

Event = Literal["run_failed", "guard_tripped", "duplicates_found", "drift_reverted", "record_count_changed"]
EVENTS: tuple[Event, ...] = (
    "run_failed",
    "guard_tripped",
    "duplicates_found",
    "drift_reverted",
    "record_count_changed",
)
WebhookFormat = Literal["slack", "json"]

DEFAULT_TIMEOUT_S = 5.0
DEFAULT_RECORD_CHANGE_THRESHOLD = 0.2  # a fifth more or fewer source records than the run before
FAILED_STATUSES = frozenset({"failed", "crashed", "interrupted", "refused"})
GUARD_CODES = frozenset({"guard_min_records", "guard_archive_limit"})
DUPLICATE_CODES = frozenset({"duplicate_page_key", "duplicate_source_key"})
MAX_KEYS_SHOWN = 10

# (url, body, timeout seconds) -> HTTP status; raising means the delivery failed.
Post = Callable[[str, bytes, float], int]


@dataclass(frozen=True)
class Webhook:
    """One destination. `name` is the environment variable its URL came from (safe to show)."""

    name: str
    url: str = field(repr=False)
    format: WebhookFormat = "json"


@dataclass(frozen=True)
class NotifySettings:
    webhooks: tuple[Webhook, ...] = ()
    events: frozenset[Event] = frozenset(EVENTS)
    record_change_threshold: float = DEFAULT_RECORD_CHANGE_THRESHOLD
    timeout_s: float = DEFAULT_TIMEOUT_S


@dataclass(frozen=True)
class Alert:
    event: Event
    text: str
    keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class Message:
    """The one message of a run: a headline and one line per alert."""

    run_id: str
    status: str
    jobs: tuple[str, ...]
    headline: str
    alerts: tuple[Alert, ...]

    @property
    def text(self) -> str:
        return "\n".join([self.headline, *(f"• {a.text}" for a in self.alerts)])


@dataclass(frozen=True)
class Delivery:
    """What happened to the message at one webhook: recorded beside the run, never raised."""

    webhook: str
    ok: bool
    status: int | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


# ── settings, from the config's `notify:` section and the environment ─────────────────────────────


def settings_from(raw: Mapping[str, Any] | None, env: Mapping[str, str]) -> NotifySettings:
    """NotifySettings for a schema-valid `notify:` section; each URL read from its variable now.

    A variable that is not set gives a webhook with no URL: planning and validating must not need
    the alert secrets, so it is reported when a message would be sent, not when the config loads.
    """
    if not raw:
        return NotifySettings()
    webhooks = []
    for spec in raw.get("webhooks") or []:
        name = str(spec["url_env"])
        url = (env.get(name) or "").strip()
        remember_secret(url)
        webhooks.append(Webhook(name=name, url=url, format=spec.get("format", "json")))
    events = raw.get("events")
    return NotifySettings(
        webhooks=tuple(webhooks),
        events=frozenset(events) if events is not None else frozenset(EVENTS),
        record_change_threshold=float(raw.get("record_count_change", DEFAULT_RECORD_CHANGE_THRESHOLD)),
        timeout_s=float(raw.get("timeout_seconds", DEFAULT_TIMEOUT_S)),
    )


# ── deciding (pure) ──────────────────────────────────────────────────────────────────────────────


def alerts_for(record: Mapping[str, Any], previous: Mapping[str, Any] | None, settings: NotifySettings) -> list[Alert]:
    """The alerts this run raises, limited to the events the settings ask for, in EVENTS order."""
    found = [
        run_failed_alert(record),
        guard_alert(record),
        duplicates_alert(record),
        drift_alert(record),
        *record_count_alerts(record, previous, settings.record_change_threshold),
    ]
    return [a for a in found if a is not None and a.event in settings.events]


def run_failed_alert(record: Mapping[str, Any]) -> Alert | None:
    status = str(record.get("status") or "")
    failed = int(record.get("failed") or 0)
    if status not in FAILED_STATUSES and not failed:
        return None
    error = record.get("error") or {}
    why = f": {error.get('message')}" if isinstance(error, Mapping) and error.get("message") else ""
    label = status if status in FAILED_STATUSES else "failed"
    return Alert("run_failed", f"run {label}{why}; {failed} write(s) failed, {written_total(record)} written")


def guard_alert(record: Mapping[str, Any]) -> Alert | None:
    trips = [e for e in diagnostics(record, "errors") if e.get("code") in GUARD_CODES]
    if not trips:
        return None
    return Alert("guard_tripped", f"guard tripped: {trips[0].get('message', '')}" + more(len(trips) - 1))


def duplicates_alert(record: Mapping[str, Any]) -> Alert | None:
    found = [d for d in (*diagnostics(record, "errors"), *diagnostics(record, "warnings")) if is_duplicate(d)]
    if not found:
        return None
    keys = sorted({str(d.get("key")) for d in found if d.get("key")})
    return Alert(
        "duplicates_found", f"{len(keys)} key(s) on more than one page or record: {key_list(keys)}", tuple(keys)
    )


def is_duplicate(diagnostic: Mapping[str, Any]) -> bool:
    return str(diagnostic.get("code", "")).startswith(tuple(DUPLICATE_CODES))


def drift_alert(record: Mapping[str, Any]) -> Alert | None:
    """Pages someone edited in Notion that this run set back: ok updates the record marks as drift."""
    keys = sorted(
        {
            str(o.get("key"))
            for o in record.get("outcomes") or []
            if o.get("drift") and o.get("status") == "ok" and o.get("action") == "update"
        }
    )
    if not keys:
        return None
    return Alert("drift_reverted", f"{len(keys)} page(s) edited in Notion were set back: {key_list(keys)}", tuple(keys))


def record_count_alerts(
    record: Mapping[str, Any], previous: Mapping[str, Any] | None, threshold: float
) -> list[Alert | None]:
    """Per job, a source whose record count moved by more than `threshold` of the last run's count."""
    if previous is None:
        return []
    before = previous.get("record_counts") or {}
    out: list[Alert | None] = []
    for job, count in sorted((record.get("record_counts") or {}).items()):
        old = before.get(job)
        if old is None or int(old) == int(count):
            continue
        change = abs(int(count) - int(old)) / max(int(old), 1)
        if change > threshold:
            out.append(
                Alert(
                    "record_count_changed",
                    f"job {job}: the source returned {count} records, {int(old)} last run "
                    f"({change:.0%} change, threshold {threshold:.0%})",
                )
            )
    return out


def compose(record: Mapping[str, Any], alerts: Sequence[Alert]) -> Message | None:
    """The run's one message, or None when nothing is worth saying (a clean run says nothing)."""
    if not alerts:
        return None
    jobs = tuple(str(j) for j in record.get("jobs") or ())
    status = str(record.get("status") or ("failed" if record.get("failed") else "ok"))
    run_id = str(record.get("run_id") or record.get("started_at") or "")
    headline = f"reconcile {', '.join(jobs) or 'run'}: {status}" + (f" (run {run_id})" if run_id else "")
    return Message(run_id=run_id, status=status, jobs=jobs, headline=headline, alerts=tuple(alerts))


def message_for(
    record: Mapping[str, Any], previous: Mapping[str, Any] | None, settings: NotifySettings
) -> Message | None:
    return compose(record, alerts_for(record, previous, settings))


# ── bodies ───────────────────────────────────────────────────────────────────────────────────────


def slack_body(message: Message) -> dict[str, Any]:
    """A Slack incoming-webhook payload (Mattermost, Rocket.Chat and Teams' Slack mode accept it too)."""
    lines = "\n".join(f"• {slack_escape(a.text)}" for a in message.alerts)
    return {
        "text": message.text,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{slack_escape(message.headline)}*"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": lines}},
        ],
    }


def slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def json_body(message: Message) -> dict[str, Any]:
    return {
        "source": "reconcile",
        "run_id": message.run_id,
        "status": message.status,
        "jobs": list(message.jobs),
        "text": message.text,
        "events": [{"event": a.event, "text": a.text, "keys": list(a.keys)} for a in message.alerts],
    }


def body_for(webhook: Webhook, message: Message) -> bytes:
    body = slack_body(message) if webhook.format == "slack" else json_body(message)
    return json.dumps(body, sort_keys=True).encode("utf-8")


# ── sending (bounded, never raising) ─────────────────────────────────────────────────────────────


def deliver(message: Message | None, settings: NotifySettings, post: Post | None = None) -> list[Delivery]:
    """Send the message to every webhook, one after another, each within settings.timeout_s."""
    if message is None:
        return []
    send = post or post_json
    return [deliver_one(w, body_for(w, message), settings.timeout_s, send) for w in settings.webhooks]


def deliver_one(webhook: Webhook, body: bytes, timeout_s: float, post: Post) -> Delivery:
    """One POST in a daemon thread, waited for at most `timeout_s` (a trickling server cannot stall us)."""
    if not webhook.url:
        return Delivery(webhook.name, ok=False, error=f"{webhook.name} is not set; not sent")
    outcome: dict[str, Any] = {}

    def attempt() -> None:
        try:
            outcome["status"] = post(webhook.url, body, timeout_s)
        except Exception as exc:  # any failure of a webhook is recorded, never raised
            outcome["error"] = exc

    worker = threading.Thread(target=attempt, name=f"notify-{webhook.name}", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive():
        return Delivery(webhook.name, ok=False, error=f"no answer within {timeout_s:g}s")
    if "error" in outcome:
        return Delivery(webhook.name, ok=False, error=safe_error(outcome["error"], webhook.url))
    status = int(outcome["status"])
    if not 200 <= status < 300:
        return Delivery(webhook.name, ok=False, status=status, error=f"HTTP {status}")
    return Delivery(webhook.name, ok=True, status=status)


def safe_error(exc: BaseException, url: str) -> str:
    """The error in one line, with the webhook URL (a secret) and remembered secrets blanked."""
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code}"
    text = f"{type(exc).__name__}: {exc}".replace(url, "[webhook url]")
    return scrub(text).splitlines()[0] if text else type(exc).__name__


def post_json(url: str, body: bytes, timeout_s: float) -> int:
    """POST a JSON body with the standard library; the status, or an exception."""
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json", "User-Agent": "reconcile"}
    )
    with urllib.request.urlopen(request, timeout=timeout_s) as response:
        return int(response.status)


# ── small helpers ────────────────────────────────────────────────────────────────────────────────


def diagnostics(record: Mapping[str, Any], kind: str) -> list[Mapping[str, Any]]:
    return [d for d in record.get(kind) or [] if isinstance(d, Mapping)]


def written_total(record: Mapping[str, Any]) -> int:
    return sum(int(c.get("ok", 0)) for c in (record.get("counts") or {}).values() if isinstance(c, Mapping))


def key_list(keys: Sequence[str]) -> str:
    shown = ", ".join(keys[:MAX_KEYS_SHOWN])
    return shown + more(len(keys) - MAX_KEYS_SHOWN)


def more(n: int) -> str:
    return f" (and {n} more)" if n > 0 else ""
