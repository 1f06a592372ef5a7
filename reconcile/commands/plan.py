"""`reconcile plan`: read the source and Notion, and show what apply would change."""

from __future__ import annotations

import os

import click

from reconcile.commands.common import (
    CONFIG_OPTION,
    CSV_OPTION,
    EXIT_CHANGES,
    FORMAT_OPTION,
    JOB_OPTION,
    REFRESH_OPTION,
    Abort,
    command_verbose,
    http_logger,
    render,
    use_color,
    verbose_option,
)
from reconcile.config import load_config
from reconcile.csvout import plan_rows, write_csv
from reconcile.planfile import write_plan
from reconcile.run import now_utc, open_gateway, plan_run
from reconcile.runlog import resource_jobs

__all__ = ["plan"]


@click.command()
@CONFIG_OPTION
@click.option("-o", "--out", "out_path", type=click.Path(dir_okay=False), help="Save the plan to apply it later.")
@FORMAT_OPTION
@click.option("--detailed-exitcode", is_flag=True, help="Exit 0 for no changes, 2 for changes, 1 for an error.")
@JOB_OPTION
@click.option("--allow-large-changes", is_flag=True, help="Override the blast-radius guards (the plan says so).")
@click.option("--redact", is_flag=True, help="Hide property values (for public CI logs).")
@REFRESH_OPTION
@CSV_OPTION
@verbose_option(command_verbose)
def plan(
    config_path: str,
    out_path: str | None,
    fmt: str,
    detailed_exitcode: bool,
    jobs: tuple[str, ...],
    allow_large_changes: bool,
    redact: bool,
    refresh: str,
    csv_path: str | None,
) -> None:
    """Read the source and Notion, and show what apply would change.

    \b
    Example:
      reconcile plan --detailed-exitcode -o planx.plan.json
    """
    config = load_config(config_path, os.environ)
    gateway = open_gateway(config, logger=http_logger())
    made = plan_run(config, gateway, now=now_utc(), jobs=jobs, allow_large_changes=allow_large_changes, refresh=refresh)
    if out_path:
        write_plan(made, out_path)
    if csv_path:
        write_csv(csv_path, plan_rows(made, resource_jobs(config.jobs)))
    click.echo(render(made, fmt, redact=redact, color=use_color()), nl=False)
    if out_path and fmt == "text":
        click.echo(f"\nSaved the plan to {out_path}. Apply exactly this plan with: reconcile apply {out_path}")
    if detailed_exitcode and made.has_changes:
        raise Abort(EXIT_CHANGES)
