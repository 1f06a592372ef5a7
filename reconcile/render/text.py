"""The plan for a terminal, Terraform-style; the last line is the summary line (public API).

    Symbols: + create, ~ update, - archive, ^ restore, * touch (and x heal, when the plan heals)

    + create services "barnet": ExternalCustomerID 'barnet' is in the source and has no page
        Name: "Barnet"
    ~ update services "camden": differs from the source in Name
        page: https://www.notion.so/...
        Name: "Camden" → "London Borough of Camden"

    Plan: 1 to create, 1 to update, 0 to archive, 0 to restore, 0 to touch.

With redact=True every property value and page URL is replaced or left out, for public CI logs;
keys, property names, actions and counts remain.
"""

from __future__ import annotations

from typing import Any

from reconcile.grouping import DiagnosticGroup, group_diagnostics
from reconcile.render.common import (
    REDACTED,
    SYMBOLS,
    diagnostics_of,
    is_long_text,
    legend,
    schema_change_line,
    shown_value,
    shows_before,
    subject,
    summary_line,
    text_diff,
)

ANSI = {
    "create": "32",
    "update": "33",
    "archive": "31",
    "restore": "36",
    "touch": "34",
    "heal": "35",
    "warning": "33",
    "error": "31",
    "guard": "1;31",
    "bold": "1",
    "diff+": "32",
    "diff-": "31",
    "diff@": "36",
}
INDENT = "    "

__all__ = ["render_text"]


class _Style:
    """Wraps text in ANSI colour, or leaves it alone when colour is off."""

    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, name: str, text: str) -> str:
        if not self.color or not text:
            return text
        return f"\x1b[{ANSI[name]}m{text}\x1b[0m"


def render_text(plan: dict[str, Any], *, color: bool, redact: bool = False) -> str:
    style = _Style(color)
    blocks = [header(plan)]
    if plan["guard_overrides"]:
        blocks.append(guard_block(plan, style))
    if plan.get("schema_changes"):
        blocks.append(schema_block(plan, style))
    if plan["actions"]:
        blocks.append(f"Symbols: {legend(plan)}")
        labels = plan.get("labels") or {}
        blocks += [action_block(a, style, redact, labels) for a in plan["actions"]]
    for severity, title in (("error", "Errors"), ("warning", "Warnings")):
        diags = diagnostics_of(plan, severity)
        if diags:
            blocks.append(diagnostic_block(title, diags, style, redact))
    blocks.append(final_line(plan, style))
    return "\n\n".join(blocks) + "\n"


def header(plan: dict[str, Any]) -> str:
    jobs = ", ".join(plan["jobs"]) or "(none)"
    counts = ", ".join(f"{job} {n}" for job, n in plan["record_counts"].items())
    made = f"Reconcile plan for {jobs}, made {plan['created_at']} (config {plan['config_digest'][:12]})."
    # A plan made without reading a source (suggest-links) claims no record count at all.
    return f"{made}\nSource records: {counts}." if counts else made


def schema_block(plan: dict[str, Any], style: _Style) -> str:
    """The schema changes, made before the page changes (keys and names only: nothing to redact)."""
    lines = [style("bold", "Schema changes (made first, one request per data source):")]
    lines += [f"{INDENT}{schema_change_line(c)}" for c in plan["schema_changes"]]
    return "\n".join(lines)


def guard_block(plan: dict[str, Any], style: _Style) -> str:
    lines = [style("guard", "!! Blast-radius guards are OVERRIDDEN for this plan; apply will go past them:")]
    lines += [f"!!   {message}" for message in plan["guard_overrides"]]
    return "\n".join(lines)


def action_block(action: dict[str, Any], style: _Style, redact: bool, labels: dict[str, str]) -> str:
    kind = action["action"]
    head = style(kind, f"{SYMBOLS[kind]} {kind}")
    lines = [f"{head} {subject(action['resource'], action['key'])}: {action['reason']}"]
    if action["url"] and not redact:
        lines.append(f"{INDENT}page: {action['url']}")
    for change in action["changes"]:
        lines += change_lines(change, shows_before(action), style, redact, labels)
    return "\n".join(lines)


def change_lines(
    change: dict[str, Any], with_before: bool, style: _Style, redact: bool, labels: dict[str, str]
) -> list[str]:
    name = change["name"]
    if redact:
        return [f"{INDENT}{name}: " + (f"{REDACTED} → {REDACTED}" if with_before else REDACTED)]
    if is_long_text(change) and not with_before:
        # A new page's text has nothing to differ from: shown as the text itself, line by line.
        return [f"{INDENT}{name}:"] + [f"{INDENT * 2}{line}" for line in str(change["after"]).splitlines()]
    if is_long_text(change):
        diff = text_diff(change)
        if diff:
            return [f"{INDENT}{name}:"] + [INDENT * 2 + diff_line(line, style) for line in diff]
    after = shown_value(change, "after", labels)
    if not with_before:
        return [f"{INDENT}{name}: {after}"]
    return [f"{INDENT}{name}: {shown_value(change, 'before', labels)} → {after}"]


def diff_line(line: str, style: _Style) -> str:
    if line.startswith(("+++", "---")):
        return style("bold", line)
    if line.startswith("@@"):
        return style("diff@", line)
    if line.startswith("+"):
        return style("diff+", line)
    if line.startswith("-"):
        return style("diff-", line)
    return line


def diagnostic_block(title: str, diags: list[dict[str, Any]], style: _Style, redact: bool) -> str:
    """Errors one per line (each needs its own fix); warnings of one kind grouped on one line."""
    lines = [f"{title}:"]
    if diags and diags[0]["severity"] == "warning":
        lines += [f"  {group_line(g, diags, style, redact)}" for g in group_diagnostics(diags)]
    else:
        lines += [f"  {diagnostic_line(d, style, redact)}" for d in diags]
    return "\n".join(lines)


def group_line(group: DiagnosticGroup, diags: list[dict[str, Any]], style: _Style, redact: bool) -> str:
    if group.count == 1:
        [only] = [d for d in diags if d["code"] == group.code and d["resource"] == group.resource]
        return diagnostic_line(only, style, redact)
    return f"{style('warning', 'warning:')} {' '.join(group.line().split())}"


def diagnostic_line(d: dict[str, Any], style: _Style, redact: bool) -> str:
    about = subject(d["resource"], d["key"])
    text = f"{style(d['severity'], d['severity'] + ':')} "
    text += f"{about}: " if about else ""
    text += f"{' '.join(d['message'].split())} [{d['code']}]"
    if d["urls"] and not redact:
        text += " " + " ".join(d["urls"])
    return text


def final_line(plan: dict[str, Any], style: _Style) -> str:
    line = summary_line(plan)
    head, sep, rest = line.partition(" ")
    return style("bold", head) + sep + rest
