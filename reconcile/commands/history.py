"""`reconcile history [RUN_ID]`: the recorded runs, newest last; or one run's per-page outcomes.

With several `--run-log` (one per CI matrix job or workspace), their runs are merged into one
history ordered by start time, each labelled with its log (runlog.merged_runs)."""

from __future__ import annotations

import json
from collections.abc import Sequence

import click

from reconcile.commands.common import CONFIG_OPTION, EXIT_ERROR, RUN_LOGS_OPTION, Abort, run_log_paths
from reconcile.grouping import group_diagnostics
from reconcile.runlog import (
    HistoryRow,
    OutcomeJSON,
    RunRecordJSON,
    SchemaChangeJSON,
    history_row,
    merged_runs,
    run_status,
)

__all__ = ["history", "history_table", "run_detail"]


def written_text(written: dict[str, int]) -> str:
    return ", ".join(f"{n} {action}" for action, n in sorted(written.items())) or "no changes"


def table(rows: Sequence[tuple[str, ...]]) -> str:
    """Columns padded to their widest cell, a rule under the header."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def history_table(rows: list[HistoryRow]) -> str:
    header = ("Run", "Started (UTC)", "Status", "Jobs", "Written", "Failed", "Warnings", "API calls", "Duration")
    logs = any("log" in row for row in rows)
    body = [
        (
            *((row.get("log", "-"),) if logs else ()),
            row["run_id"] or "-",
            row["started_at"],
            row["status"],
            ", ".join(row["jobs"]),
            written_text(row["written"]),
            str(row["failed"]),
            str(row["warnings"]),
            str(row["api_calls"]),
            f"{row['duration_s']:.1f}s",
        )
        for row in rows
    ]
    return table([("Log", *header) if logs else header, *body])


def run_detail(record: RunRecordJSON) -> str:
    """One run: what it was, why it stopped, each page's outcome (failures first), grouped warnings."""
    row = history_row(record)
    lines = [
        f"Run {row['run_id'] or '-'}: {run_status(record)}",
        f"  started {row['started_at']}, {row['duration_s']:.1f}s, jobs {', '.join(row['jobs']) or '-'}, "
        f"{row['api_calls']} API call(s){', from a saved plan' if row['from_saved_plan'] else ''}"
        f"{', run log ' + row['log'] if 'log' in row else ''}",
    ]
    error = record.get("error")
    if error:
        lines.append(f"  stopped: {error.get('message', '')}")
    for job, read in (record.get("source_reads") or {}).items():
        since = f" since {read.get('since')}" if read.get("since") else ""
        lines.append(
            f"  source of {job}: {read.get('mode', '?')}{since}, {read.get('records', 0)} record(s) "
            f"({read.get('reason', '')}); cursor {read.get('cursor') or '-'}"
        )
    lines += [f"  schema: {schema_change_text(c)}" for c in record.get("schema_changes") or []]
    outcomes = sorted(record.get("outcomes") or [], key=outcome_order)
    lines.append("")
    if outcomes:
        rows: list[tuple[str, ...]] = [("Action", "Resource", "Key", "Status", "Page", "Error")]
        rows += [outcome_row(o) for o in outcomes]
        lines.append(table(rows))
    else:
        lines.append("No writes.")
    groups = group_diagnostics(list(record.get("warnings") or []))
    if groups:
        lines += ["", "Warnings:"] + [f"  {g.line()}" for g in groups]
    for delivery in record.get("deliveries") or []:
        state = "sent" if delivery.get("ok") else f"not sent ({delivery.get('error', '?')})"
        lines.append(f"Alert to {delivery.get('webhook', '?')}: {state}")
    return "\n".join(lines)


def schema_change_text(c: SchemaChangeJSON) -> str:
    """ "retype 'Status' (rich_text → select) of services: ok" """
    before = c.get("before")
    was = f"{before} → " if before and c.get("change") == "retype" else ""
    prop = f"{before!r} → {c.get('property', '')!r}" if c.get("change") == "rename" else repr(c.get("property", ""))
    kind = "" if c.get("change") == "rename" else f" ({was}{c.get('type', '')})"
    error = f" ({c['error_code']})" if c.get("error_code") else ""
    return f"{c.get('change', '?')} {prop}{kind} of {c.get('resource', '?')}: {c.get('status', '?')}{error}"


def outcome_order(o: OutcomeJSON) -> tuple[bool, str, str]:
    return o.get("status") != "failed", o.get("action", ""), o.get("key", "")


def outcome_row(o: OutcomeJSON) -> tuple[str, ...]:
    error = " ".join(x for x in (o.get("error_code"), o.get("message")) if x)
    return (
        o.get("action", ""),
        o.get("resource", ""),
        o.get("key", ""),
        o.get("status", ""),
        o.get("page_id", "") or "-",
        error,
    )


def find_run(runs: list[RunRecordJSON], wanted: str, path: str) -> RunRecordJSON:
    """The run whose id is `wanted` or starts with it; one line and exit 1 otherwise."""
    found = [r for r in runs if r.get("run_id", "") == wanted] or [
        r for r in runs if r.get("run_id", "").startswith(wanted)
    ]
    if len(found) == 1:
        return found[0]
    if not found:
        click.echo(f"Error: no run {wanted!r} in {path} (`reconcile history` lists the run ids)", err=True)
    else:
        click.echo(f"Error: {len(found)} runs start with {wanted!r}: give more of the id", err=True)
    raise Abort(EXIT_ERROR)


@click.command()
@click.argument("run_id", required=False)
@CONFIG_OPTION
@RUN_LOGS_OPTION
@click.option("-n", "--limit", type=click.IntRange(min=1), default=20, show_default=True, help="Most recent N runs.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per run (a list), for scripts.")
def history(run_id: str | None, config_path: str, run_logs: tuple[str, ...], limit: int, as_json: bool) -> None:
    """List recorded runs: id, status, what was written, failures, API calls, duration.

    With RUN_ID (or the start of one), show that run's outcome for every page it wrote.

    \b
    Example:
      reconcile history --limit 5
      reconcile history 20261130T021700Z-1a2b
      reconcile history --json | jq '.[-1].status'
      reconcile history --run-log logs/planx.jsonl --run-log logs/pd.jsonl   # a CI matrix's logs, merged
    """
    paths = run_log_paths(config_path, run_logs)
    path = ", ".join(paths)
    runs = merged_runs(paths)
    if run_id:
        record = find_run(runs, run_id, path)
        click.echo(json.dumps(record, indent=2, sort_keys=True) if as_json else run_detail(record))
        return
    rows = [history_row(r) for r in runs][-limit:]
    if as_json:
        click.echo(json.dumps(rows, indent=2, sort_keys=True))
    elif not rows:
        click.echo(f"No runs recorded in {path} yet.")
    else:
        click.echo(history_table(rows))
