"""What every renderer shows the same way: symbols, values, the summary line, long-text diffs.

Renderers read the plan's JSON form (reconcile.planfile.plan_to_dict) and present it; they decide
nothing. The summary line is public API: scripts and people grep for it.
"""

from __future__ import annotations

import difflib
import json
from typing import Any

SYMBOLS = {"create": "+", "update": "~", "archive": "-", "restore": "^", "touch": "*", "heal": "x"}
ACTION_KINDS = tuple(SYMBOLS)
# Kinds the legend and the summary line always name; `heal` only when the plan has some.
USUAL_KINDS = ("create", "update", "archive", "restore", "touch")
REDACTED = "(redacted)"
NONE = "(none)"
LONG_TEXT = 80  # longer than this, or several lines: shown as a line diff


def summary_line(plan: dict[str, Any]) -> str:
    counts = plan["summary"]
    schema = len(plan.get("schema_changes") or ())
    if not schema and not any(counts.get(kind, 0) for kind in ACTION_KINDS):
        return f"No changes. Notion is up to date ({pages_checked(plan)} pages checked)."
    heal = f", {counts['heal']} to heal" if counts.get("heal") else ""
    schema_part = f"{schema} schema change{'s' if schema != 1 else ''}, " if schema else ""
    return (
        f"Plan: {schema_part}{counts['create']} to create, {counts['update']} to update, "
        f"{counts['archive']} to archive, {counts['restore']} to restore, {counts['touch']} to touch{heal}."
    )


def pages_checked(plan: dict[str, Any]) -> int:
    return sum(r["managed"] for r in plan["resources"])


def legend(plan: dict[str, Any] | None = None) -> str:
    kinds = [k for k in ACTION_KINDS if k in USUAL_KINDS or (plan and plan["summary"].get(k))]
    return ", ".join(f"{SYMBOLS[kind]} {kind}" for kind in kinds)


def quoted(text: str) -> str:
    """A string on one line, quoted and escaped the way JSON does it."""
    return json.dumps(text, ensure_ascii=False)


def subject(resource: str | None, key: str | None) -> str:
    """`services "barnet"`: what a line is about."""
    parts = [resource] if resource else []
    if key is not None:
        parts.append(quoted(key))
    return " ".join(parts)


def format_value(value: Any) -> str:
    if value is None:
        return NONE
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return quoted(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return json.dumps(value)


def is_long_text(change: dict[str, Any]) -> bool:
    """Text too long or too many lines to read as `before → after`."""
    values = (change["before"], change["after"])
    if not all(v is None or isinstance(v, str) for v in values):
        return False
    return any(v is not None and (len(v) > LONG_TEXT or "\n" in v) for v in values)


def text_diff(change: dict[str, Any]) -> list[str]:
    """Unified line diff of a long text change; empty when only line endings differ."""
    before = (change["before"] or "").splitlines()
    after = (change["after"] or "").splitlines()
    return list(difflib.unified_diff(before, after, fromfile="before", tofile="after", lineterm="", n=2))


def diagnostics_of(plan: dict[str, Any], severity: str) -> list[dict[str, Any]]:
    return [d for d in plan["diagnostics"] if d["severity"] == severity]


def actions_of(plan: dict[str, Any], resource: str) -> list[dict[str, Any]]:
    return [a for a in plan["actions"] if a["resource"] == resource]


def shows_before(action: dict[str, Any]) -> bool:
    # A page being created has no before; "(none) →" on every line would only be noise.
    return str(action["action"]) != "create"


NEW_PAGE = "new:"


def shown_value(change: dict[str, Any], side: str, labels: dict[str, str]) -> str:
    """A change's value for people: relation page ids shown by their page's title (a page this run
    creates by its key); the JSON form keeps the ids."""
    value = change[side]
    if change.get("type") == "relation" and isinstance(value, list | tuple):
        return format_value([page_label(str(v), labels) for v in value])
    return format_value(value)


def page_label(item: str, labels: dict[str, str]) -> str:
    if item.startswith(NEW_PAGE):
        return f"{item.split(':', 2)[-1]} (new)"
    return labels.get(item, item)


SCHEMA_SYMBOLS = {"add": "+", "add_options": "~", "rename": "~", "retype": "!", "remove": "-"}


def schema_change_line(change: dict[str, Any]) -> str:
    """One schema change, e.g. `+ add property services "Stage" (select: Alpha, Beta)`."""
    kind, where = change["change"], f"{change['resource']} {quoted(change['property'])}"
    options = ", ".join(change.get("options") or ())
    if kind == "add":
        relation = change.get("relation")
        if relation:
            side = relation.get("synced_property")
            two_way = f", two-way: {quoted(side)} on the other side" if relation.get("two_way") and side else ""
            detail = (
                f"relation → {relation['resource']}{two_way}"
                if relation.get("two_way")
                else f"relation → {relation['resource']}, one-way"
            )
        else:
            detail = f"{change['type']}: {options}" if options else change["type"]
        text = f"add property {where} ({detail})"
    elif kind == "add_options":
        text = f"add options to {where} ({change['type']}): {options}"
    elif kind == "rename":
        old = quoted(change["before"] or "")
        text = f"rename {change['resource']} {old} → {quoted(change['property'])} ({change['type']})"
    elif kind == "retype":
        text = f"change the type of {where}: {change['before']} → {change['type']}"
    else:
        text = f"remove property {where} ({change['before']}) and its values"
    return f"{SCHEMA_SYMBOLS[kind]} {text}"
