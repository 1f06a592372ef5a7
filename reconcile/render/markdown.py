"""The plan as GitHub-flavoured Markdown, for a pull-request comment or a job summary.

A heading, the summary line, then per resource a table (action, key, changes, why) followed by
the long-text diffs in <details> blocks, then errors and warnings. reconcile.render.split cuts a
long rendering into comments that fit GitHub's limit.
"""

from __future__ import annotations

import html
import re
from typing import Any

from reconcile.grouping import DiagnosticGroup, group_diagnostics
from reconcile.render.common import (
    REDACTED,
    SYMBOLS,
    actions_of,
    diagnostics_of,
    is_long_text,
    schema_change_line,
    shown_value,
    shows_before,
    summary_line,
    text_diff,
)

MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")

__all__ = ["render_markdown"]


def render_markdown(plan: dict[str, Any], *, redact: bool = False) -> str:
    blocks = ["## Reconcile plan", f"**{summary_line(plan)}**", context_line(plan)]
    if plan["guard_overrides"]:
        blocks.append(guard_alert(plan))
    if plan.get("schema_changes"):
        blocks.append(schema_section(plan))
    if plan["actions"]:
        for resource in plan["resources"]:
            blocks += resource_blocks(plan, resource, redact)
    for severity, title in (("error", "Errors"), ("warning", "Warnings")):
        diags = diagnostics_of(plan, severity)
        if diags:
            blocks.append(diagnostic_section(title, diags, redact))
    return "\n\n".join(blocks) + "\n"


def context_line(plan: dict[str, Any]) -> str:
    jobs = ", ".join(code(j) for j in plan["jobs"]) or "none"
    records = ", ".join(f"{text(job)} {n}" for job, n in plan["record_counts"].items())
    counted = f" · source records: {records}" if records else ""
    return f"Job {jobs}{counted} · made {text(plan['created_at'])} · config {code(plan['config_digest'][:12])}"


def schema_section(plan: dict[str, Any]) -> str:
    lines = ["### Schema changes", "", "Made first, one request per data source:", ""]
    lines += [f"- {text(schema_change_line(c))}" for c in plan["schema_changes"]]
    return "\n".join(lines)


def guard_alert(plan: dict[str, Any]) -> str:
    lines = ["> [!CAUTION]", "> **Blast-radius guards are overridden for this plan; apply will go past them:**"]
    lines += [f"> - {text(message)}" for message in plan["guard_overrides"]]
    return "\n".join(lines)


# ── per resource ─────────────────────────────────────────────────────────────────────────────────


def resource_blocks(plan: dict[str, Any], resource: dict[str, Any], redact: bool) -> list[str]:
    actions = actions_of(plan, resource["name"])
    heading = f"### {text(resource['name'])}"
    if not actions:
        return [heading, f"No changes ({resource['managed']} pages checked)."]
    blocks = [heading, action_table(actions, redact, plan.get("labels") or {})]
    if not redact:
        blocks += [details(a, c) for a in actions for c in a["changes"] if is_long_text(c) and text_diff(c)]
    return blocks


def action_table(actions: list[dict[str, Any]], redact: bool, labels: dict[str, str]) -> str:
    rows = ["| | Action | Key | Changes | Why |", "|:-:|---|---|---|---|"]
    rows += [action_row(a, redact, labels) for a in actions]
    return "\n".join(rows)


def action_row(action: dict[str, Any], redact: bool, labels: dict[str, str]) -> str:
    kind = action["action"]
    key = code(action["key"], cell=True)
    if action["url"] and not redact:
        key = f"[{key}]({url(action['url'])})"
    changes = "<br>".join(change_cell(c, shows_before(action), redact, labels) for c in action["changes"])
    return f"| {code(SYMBOLS[kind], cell=True)} | {kind} | {key} | {changes} | {text(action['reason'])} |"


def change_cell(change: dict[str, Any], with_before: bool, redact: bool, labels: dict[str, str]) -> str:
    name = text(change["name"])
    if redact:
        return f"{name}: " + (f"{REDACTED} → {REDACTED}" if with_before else REDACTED)
    if is_long_text(change) and text_diff(change):
        return f"{name}: (text below)" if not with_before else f"{name}: (diff below)"
    after = code(shown_value(change, "after", labels), cell=True)
    if not with_before:
        return f"{name}: {after}"
    return f"{name}: {code(shown_value(change, 'before', labels), cell=True)} → {after}"


def details(action: dict[str, Any], change: dict[str, Any]) -> str:
    """A long text in a fold: a new page's text as it is, a changed text as a line diff."""
    summary = f"{html.escape(action['resource'])} <code>{html.escape(action['key'])}</code>: "
    summary += html.escape(change["name"])
    created = not shows_before(action)
    body = str(change["after"]) if created else "\n".join(text_diff(change))
    fence = "`" * max(3, longest_backtick_run(body) + 1)
    kind = "text" if created else "diff"
    return f"<details><summary>{summary}</summary>\n\n{fence}{kind}\n{body}\n{fence}\n\n</details>"


# ── diagnostics ──────────────────────────────────────────────────────────────────────────────────


def diagnostic_section(title: str, diags: list[dict[str, Any]], redact: bool) -> str:
    """Errors one per item; warnings of one kind grouped in one item with the count and the keys."""
    if diags[0]["severity"] != "warning":
        return f"### {title} ({len(diags)})\n\n" + "\n".join(diagnostic_item(d, redact) for d in diags)
    items = []
    for group in group_diagnostics(diags):
        if group.count == 1:
            [only] = [d for d in diags if d["code"] == group.code and d["resource"] == group.resource]
            items.append(diagnostic_item(only, redact))
        else:
            items.append(group_item(group))
    return f"### {title} ({len(diags)})\n\n" + "\n".join(items)


def group_item(group: DiagnosticGroup) -> str:
    about = f"**{text(group.resource)}** " if group.resource else ""
    keys = ", ".join(code(k) for k in dict.fromkeys(group.keys))
    common = group.template
    what = text(common) if common is not None else f"e.g. {text(group.messages[0])}"
    return f"- {about}{group.count} × {code(group.code)}: {what}: {keys}"


def diagnostic_item(d: dict[str, Any], redact: bool) -> str:
    about = [f"**{text(d['resource'])}**"] if d["resource"] else []
    about += [code(d["key"])] if d["key"] is not None else []
    line = f"- {' '.join(about)}: " if about else "- "
    line += f"{text(d['message'])} ({code(d['code'])})"
    if d["urls"] and not redact:
        line += " " + " ".join(f"[page {i}]({url(u)})" for i, u in enumerate(d["urls"], 1))
    return line


# ── Markdown escaping ────────────────────────────────────────────────────────────────────────────


def text(value: str) -> str:
    """Plain text that Markdown shows literally, on one line (table cells cannot span lines)."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(value.split()))


def code(value: str, *, cell: bool = False) -> str:
    """A code span; in a table cell pipes are escaped, as GitHub splits cells on them even in code."""
    value = " ".join(value.split("\n"))
    ticks = "`" * (longest_backtick_run(value) + 1)
    pad = " " if value.startswith("`") or value.endswith("`") or not value.strip() else ""
    escaped = value.replace("|", r"\|") if cell else value
    return f"{ticks}{pad}{escaped}{pad}{ticks}"


def url(value: str) -> str:
    return value.replace(" ", "%20").replace("(", "%28").replace(")", "%29")


def longest_backtick_run(value: str) -> int:
    return max((len(m) for m in re.findall(r"`+", value)), default=0)
