"""`reconcile history`: the recorded runs, newest last."""

from __future__ import annotations

import json

import click

from reconcile.commands.common import CONFIG_OPTION, RUN_LOG_OPTION, run_log_path
from reconcile.runlog import HistoryRow, history_row, read_runs

__all__ = ["history", "history_table"]


def written_text(written: dict[str, int]) -> str:
    return ", ".join(f"{n} {action}" for action, n in sorted(written.items())) or "no changes"


def history_table(rows: list[HistoryRow]) -> str:
    table = [("Started (UTC)", "Jobs", "Written", "Failed", "Warnings", "API calls", "Duration")]
    for row in rows:
        table.append(
            (
                row["started_at"],
                ", ".join(row["jobs"]),
                written_text(row["written"]),
                str(row["failed"]),
                str(row["warnings"]),
                str(row["api_calls"]),
                f"{row['duration_s']:.1f}s",
            )
        )
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


@click.command()
@CONFIG_OPTION
@RUN_LOG_OPTION
@click.option("-n", "--limit", type=click.IntRange(min=1), default=20, show_default=True, help="Most recent N runs.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per run (a list), for scripts.")
def history(config_path: str, run_log: str | None, limit: int, as_json: bool) -> None:
    """List recorded runs: when, which jobs, what was written, failures, API calls, duration.

    \b
    Example:
      reconcile history --limit 5
      reconcile history --json | jq '.[-1].failed'
    """
    path = run_log_path(config_path, run_log)
    rows = [history_row(r) for r in read_runs(path)][-limit:]
    if as_json:
        click.echo(json.dumps(rows, indent=2, sort_keys=True))
    elif not rows:
        click.echo(f"No runs recorded in {path} yet.")
    else:
        click.echo(history_table(rows))
