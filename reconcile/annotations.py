"""GitHub Actions: a run's errors and warnings as workflow annotations, its outcome as the job summary.

    run record ──annotations──▶ ["::error title=...::..."]    (printed on stdout by the caller)
    run record ──job_summary──▶ Markdown                      (appended to $GITHUB_STEP_SUMMARY)

Pure: the caller decides whether it runs under GitHub Actions (GITHUB_ACTIONS=true) and where the
summary file is, both read with the rest of the environment when the config is loaded. Warnings of
one kind become one annotation with a count and the keys, because GitHub shows only the first ten
annotations of each level per step, and twelve near-identical lines would hide the one that matters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from reconcile.grouping import group_diagnostics
from reconcile.redact import scrub

Level = Literal["error", "warning", "notice"]
MAX_KEYS_SHOWN = 10
TITLE = "reconcile"


@dataclass(frozen=True)
class Annotation:
    level: Level
    message: str
    title: str = TITLE
    file: str | None = None
    line: int | None = None
    col: int | None = None

    def command(self) -> str:
        """The workflow command line, e.g. `::error file=mappings.yaml,line=3,title=reconcile::...`."""
        props = [
            ("file", self.file),
            ("line", None if self.line is None else str(self.line)),
            ("col", None if self.col is None else str(self.col)),
            ("title", self.title),
        ]
        rendered = ",".join(f"{name}={escape_property(value)}" for name, value in props if value is not None)
        return f"::{self.level} {rendered}::{escape_data(scrub(self.message))}"


def escape_data(text: str) -> str:
    """GitHub's escaping of a command's message (so a newline cannot end it early)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


# ── a run record as annotations ──────────────────────────────────────────────────────────────────


def run_annotations(record: Mapping[str, Any]) -> list[Annotation]:
    """Errors first (the run's own error, plan errors, failed writes by kind), then warnings by code."""
    out: list[Annotation] = []
    error = record.get("error")
    if isinstance(error, Mapping) and error.get("message"):
        out.append(Annotation("error", f"run {record.get('status', 'failed')}: {error['message']}"))
    for diagnostic in entries(record, "errors"):
        out.append(Annotation("error", str(diagnostic.get("message", "")), title=f"{TITLE}: {diagnostic.get('code')}"))
    out += failed_write_annotations(record)
    out += grouped_warning_annotations(entries(record, "warnings"))
    return out


def failed_write_annotations(record: Mapping[str, Any]) -> list[Annotation]:
    """One error per (action, Notion error code) with the count and the keys."""
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for outcome in record.get("outcomes") or []:
        if isinstance(outcome, Mapping) and outcome.get("status") == "failed":
            group = (str(outcome.get("action")), str(outcome.get("error_code") or "error"))
            groups.setdefault(group, []).append(outcome)
    out = []
    for (action, code), failed in sorted(groups.items()):
        keys = [f"{o.get('resource')} {o.get('key')!r}" for o in failed]
        first = str(failed[0].get("message") or "")
        out.append(
            Annotation(
                "error",
                f"{len(failed)} {action} write(s) failed ({code}): {key_list(keys)}. First: {first}",
                title=f"{TITLE}: {action} failed",
            )
        )
    return out


def grouped_warning_annotations(warnings: Sequence[Mapping[str, Any]]) -> list[Annotation]:
    return [
        Annotation("warning", group.line(), title=f"{TITLE}: {group.code}")
        for group in group_diagnostics(warnings, severity="warning")
    ]


# ── the job summary ──────────────────────────────────────────────────────────────────────────────


def job_summary(record: Mapping[str, Any]) -> str:
    """Markdown for $GITHUB_STEP_SUMMARY: the outcome first, then writes per action, then problems."""
    status = str(record.get("status") or ("failed" if record.get("failed") else "ok"))
    jobs = ", ".join(str(j) for j in record.get("jobs") or []) or "run"
    lines = [f"### {status_icon(status)} reconcile {jobs}: {status}", ""]
    if record.get("run_id"):
        lines += [f"Run `{record['run_id']}`, {float(record.get('duration_s') or 0):.1f}s.", ""]
    lines += counts_table(record)
    problems = [a for a in run_annotations(record) if a.level == "error"]
    warnings = [a for a in run_annotations(record) if a.level == "warning"]
    if problems:
        lines += ["", "**Errors**", ""] + [f"- {md_line(a.message)}" for a in problems]
    if warnings:
        lines += ["", "**Warnings**", ""] + [f"- {md_line(a.message)}" for a in warnings]
    return "\n".join(lines) + "\n"


def counts_table(record: Mapping[str, Any]) -> list[str]:
    counts = {k: v for k, v in (record.get("counts") or {}).items() if isinstance(v, Mapping)}
    if not counts:
        return ["No writes."]
    rows = ["| action | written | failed | skipped |", "|---|---:|---:|---:|"]
    for action, c in sorted(counts.items()):
        rows.append(f"| {action} | {c.get('ok', 0)} | {c.get('failed', 0)} | {c.get('skipped', 0)} |")
    return rows


def status_icon(status: str) -> str:
    return "✅" if status == "ok" else "❌"


def md_line(text: str) -> str:
    return scrub(text).replace("\n", " ").replace("|", "\\|")


# ── emitting ─────────────────────────────────────────────────────────────────────────────────────


def emit(record: Mapping[str, Any], *, echo: Callable[[str], None], summary_path: str | None) -> None:
    """Print the annotations and append the job summary (when GitHub gave a summary file)."""
    for annotation in run_annotations(record):
        echo(annotation.command())
    if summary_path:
        with Path(summary_path).open("a", encoding="utf-8") as fh:
            fh.write(job_summary(record))


def entries(record: Mapping[str, Any], kind: str) -> list[Mapping[str, Any]]:
    return [e for e in record.get(kind) or [] if isinstance(e, Mapping)]


def key_list(keys: Sequence[str]) -> str:
    shown = ", ".join(keys[:MAX_KEYS_SHOWN])
    return shown + (f" (and {len(keys) - MAX_KEYS_SHOWN} more)" if len(keys) > MAX_KEYS_SHOWN else "")
