"""`reconcile report --html FILE`: the run log as one self-contained HTML page; with several
`--run-log`, their runs merged into one page, ordered by time and labelled by log."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from reconcile.commands.common import CONFIG_OPTION, RUN_LOGS_OPTION, run_log_paths
from reconcile.dashboard import render_dashboard
from reconcile.runlog import merged_runs

__all__ = ["report"]


@click.command()
@CONFIG_OPTION
@RUN_LOGS_OPTION
@click.option("--html", "html_path", required=True, type=click.Path(dir_okay=False), help="Where to write the page.")
def report(config_path: str, run_logs: tuple[str, ...], html_path: str) -> None:
    """Write the HTML dashboard: the last run's status, recent runs, writes per action, what is unlinked.

    \b
    Example:
      reconcile report --html report.html && open report.html
      reconcile report --run-log logs/planx.jsonl --run-log logs/pd.jsonl --html report.html
    """
    path = ", ".join(run_log_paths(config_path, run_logs))
    runs = merged_runs(run_log_paths(config_path, run_logs))
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    target = Path(html_path)
    if target.parent != Path():
        target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_dashboard(runs, run_log=path, generated_at=generated), encoding="utf-8")
    click.echo(f"Wrote {html_path} ({len(runs)} run(s) from {path}).")
