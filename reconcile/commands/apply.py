"""`reconcile apply`: plan now and ask for `yes`, or apply a saved plan exactly."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from functools import partial
from pathlib import Path

import click

from reconcile.annotations import emit
from reconcile.commands.common import (
    CONFIG_OPTION,
    CSV_OPTION,
    EXIT_ERROR,
    JOB_OPTION,
    REFRESH_OPTION,
    Abort,
    apply_progress,
    command_verbose,
    http_logger,
    is_terminal,
    render,
    use_color,
    verbose_option,
)
from reconcile.config import load_config
from reconcile.csvout import plan_rows, write_csv
from reconcile.errors import ReconcileError
from reconcile.model import CiSettings, Plan, RunRecord
from reconcile.readcache import Refresh
from reconcile.redact import scrub
from reconcile.run import ApplyHooks, apply_jobs, apply_saved, open_gateway
from reconcile.runlog import RunRecordJSON

__all__ = ["apply"]


@click.command()
@click.argument("planfile", required=False, type=click.Path(dir_okay=False))
@CONFIG_OPTION
@click.option("--auto-approve", is_flag=True, help="Apply without asking (for CI).")
@JOB_OPTION
@click.option("--allow-large-changes", is_flag=True, help="Override the blast-radius guards.")
@click.option("--redact", is_flag=True, help="Hide property values in the plan shown.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the summary line and errors (no plan, no progress bar).")
@REFRESH_OPTION
@CSV_OPTION
@verbose_option(command_verbose)
def apply(
    planfile: str | None,
    config_path: str,
    auto_approve: bool,
    jobs: tuple[str, ...],
    allow_large_changes: bool,
    redact: bool,
    quiet: bool,
    refresh: Refresh,
    csv_path: str | None,
) -> None:
    """Apply the changes: plan now and ask for `yes`, or apply a saved PLANFILE exactly.

    \b
    Example:
      reconcile apply --auto-approve          # nightly in CI
      reconcile apply planx.plan.json         # exactly the plan you reviewed
    """
    config = load_config(config_path, os.environ)
    gateway = open_gateway(config, logger=http_logger())
    if not quiet and not Path(config.run_log).exists():
        click.echo(missing_log_note(config.run_log))
    hooks = ApplyHooks(
        show=partial(show_plan, quiet=quiet, redact=redact),
        confirm=approve if auto_approve else confirm,
        progress=partial(progress_bar, quiet=quiet),
        applied=report_run,
        job_failed=report_job_failure,
        kept=partial(annotate, config.ci) if config.ci.github_actions else ignore,
    )
    if planfile:
        report = apply_saved(config, gateway, planfile, allow_large_changes=allow_large_changes, hooks=hooks)
    else:
        report = apply_jobs(
            config, gateway, jobs=jobs, allow_large_changes=allow_large_changes, hooks=hooks, refresh=refresh
        )
    if report.cancelled:
        click.echo("Apply cancelled; nothing was written.")
        raise Abort(EXIT_ERROR)
    if csv_path:
        write_csv(csv_path, [row for r in report.records for row in csv_rows(r)])
    if not report.ok:
        raise Abort(EXIT_ERROR)


def missing_log_note(path: str) -> str:
    """What apply does without its run log: said once, before it plans."""
    return (
        f"note: no run log at {path}: this apply starts a new one. Saved plans applied before are not known, "
        "and stamps an earlier run failed to write only where Notion shows them; nothing is written twice "
        "(apply is idempotent). In CI, restore the log first (docs/operator.md, CI)."
    )


def show_plan(plan: Plan, *, quiet: bool, redact: bool) -> None:
    """The plan; with --quiet only its errors (the summary line follows the apply)."""
    if not quiet:
        click.echo(render(plan, "text", redact=redact, color=use_color()), nl=False)
        return
    for d in plan.errors:
        about = " ".join(x for x in (d.resource, repr(d.key) if d.key is not None else None) if x)
        click.echo(f"error: {about + ': ' if about else ''}{d.message} [{d.code}]", err=True)


def progress_bar(total: int, *, quiet: bool) -> AbstractContextManager[Callable[[int], None] | None]:
    return apply_progress(total, quiet=quiet)


def approve(plan: Plan) -> bool:
    return True


def stdin_is_terminal() -> bool:
    return is_terminal(sys.stdin)


def confirm(plan: Plan) -> bool:
    """Only `yes`, typed at a terminal, applies the plan shown."""
    if not stdin_is_terminal():
        raise ReconcileError(
            "refusing to apply without confirmation: standard input is not a terminal",
            hint="review the plan and pass --auto-approve, or apply a saved plan file",
        )
    answer = click.prompt(
        "\nDo you want to apply these changes? Only 'yes' will be accepted", default="", show_default=False
    )
    return bool(answer.strip() == "yes")


def report_run(record: RunRecord) -> None:
    """The run's failed writes, then its one-line outcome, then the keys the plan left alone."""
    failed = record.result.failed
    for o in failed:
        click.echo(f"error: {o.action} {o.resource} {o.key!r} failed: {o.message}", err=True)
    jobs = ", ".join(record.plan.jobs)
    schema = record.result.schema_written
    with_schema = f" ({schema} of them schema change{'s' if schema != 1 else ''})" if schema else ""
    click.echo(
        f"Apply complete ({jobs}): {record.result.written} written{with_schema}, {len(failed)} failed. "
        f"Run recorded in {record.run_log}."
    )
    if record.plan.errors:
        click.echo(f"{len(record.plan.errors)} key(s) were left alone because of errors shown in the plan.", err=True)


def annotate(ci: CiSettings, record: RunRecordJSON) -> None:
    """Under GitHub Actions: the run's errors and warnings as annotations, its outcome in the job summary."""
    emit(record, echo=click.echo, summary_path=ci.step_summary)


def ignore(record: RunRecordJSON) -> None:
    return None


def report_job_failure(job: str, error: ReconcileError) -> None:
    click.echo(f"Error: job {job}: {scrub(str(error))}", err=True)


def csv_rows(record: RunRecord) -> list[dict[str, str]]:
    return plan_rows(record.plan, record.resource_jobs, record.result)
