"""Drift: an update that set back a value someone changed in Notion since reconcile last wrote it.

Each successful write records, per property it wrote, a keyed fingerprint of the value: an
HMAC-SHA256 keyed by the Notion token, so the run log holds no property value and nothing that
can be turned back into one without the token (a page's body, icon and cover are recorded the
same way, the body as its Markdown). The next update of that page compares each
change's `before` with the fingerprint reconcile left: the same means the value is still
reconcile's and the source moved; another means someone edited it in Notion, and this update is
drift set back (the `drift_reverted` alert). A property reconcile never wrote, or wrote with a
token since rotated, has no matching fingerprint and is not called drift.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Sequence

from reconcile.model import NEW_PAGE_PREFIX, PAGE_LEVEL_TYPES, Action, Plan, PropertyChange, Value
from reconcile.runlog import OutcomeJSON, RunRecordJSON

__all__ = ["mark_drift", "written_fingerprints"]

FINGERPRINT_HEX = 16
Written = dict[tuple[str, str, str], str]  # (resource, page id, property) -> fingerprint


def fingerprint(key: bytes, page_id: str, prop: str, value: Value) -> str:
    body = json.dumps([page_id, prop, value], sort_keys=True, default=list, ensure_ascii=False)
    return hmac.new(key, body.encode("utf-8"), hashlib.sha256).hexdigest()[:FINGERPRINT_HEX]


def secret_key(token: str) -> bytes:
    return hashlib.sha256(f"reconcile-drift:{token}".encode()).digest()


def written_fingerprints(runs: Iterable[RunRecordJSON]) -> Written:
    """The last fingerprint reconcile left on each (resource, page, property), oldest run first."""
    out: Written = {}
    for run in runs:
        for outcome in run.get("outcomes") or []:
            page_id = outcome.get("page_id")
            if outcome.get("status") != "ok" or not page_id:
                continue
            for prop, value in (outcome.get("written") or {}).items():
                out[(outcome.get("resource", ""), page_id, prop)] = value
    return out


def mark_drift(record: RunRecordJSON, plan: Plan, token: str, previous: Sequence[RunRecordJSON]) -> None:
    """Add `written` fingerprints to each successful outcome and `drift` to updates that set back an edit."""
    if not token:
        return
    key = secret_key(token)
    last = written_fingerprints(previous)
    actions: dict[tuple[str, str, str], Action] = {(a.action, a.resource, a.key): a for a in plan.actions}
    for outcome in record.get("outcomes") or []:
        action = actions.get((outcome.get("action", ""), outcome.get("resource", ""), outcome.get("key", "")))
        page_id = outcome.get("page_id")
        if action is None or outcome.get("status") != "ok" or not page_id:
            continue
        outcome["written"] = {
            written_name(c): fingerprint(key, page_id, written_name(c), c.after) for c in settled(action.changes)
        }
        if action.action == "update" and edited_since(action, page_id, key, last):
            outcome["drift"] = True


def settled(changes: Iterable[PropertyChange]) -> list[PropertyChange]:
    """Changes whose value is known before apply (not a relation to a page this run creates)."""
    return [c for c in changes if not (c.type == "relation" and any_new_page(c.after))]


def any_new_page(value: Value) -> bool:
    return isinstance(value, tuple | list) and any(str(v).startswith(NEW_PAGE_PREFIX) for v in value)


def edited_since(action: Action, page_id: str, key: bytes, last: Written) -> bool:
    """Whether a value this update replaces is not the one reconcile last wrote there."""
    for change in action.changes:
        name = written_name(change)
        left = last.get((action.resource, page_id, name))
        if left is not None and left != fingerprint(key, page_id, name, change.before):
            return True
    return False


def written_name(change: PropertyChange) -> str:
    """What a written value is recorded under: the property's name, or the page part ("@page_body")
    for the body, icon and cover, which no property name can be mistaken for."""
    return f"@{change.type}" if change.type in PAGE_LEVEL_TYPES else change.name


def drift_keys(outcomes: Iterable[OutcomeJSON]) -> list[str]:
    return sorted({o.get("key", "") for o in outcomes if o.get("drift")})
