"""Command-line interface. Each command parses options, calls the library, and maps errors to exit codes.

Exit codes (public contract):
    0   success; for `plan --detailed-exitcode`: no changes
    1   an error: bad config, source or Notion failure, refused or stale plan, failed writes
    2   `plan --detailed-exitcode` only: the plan has changes
    3   reconcile itself crashed (a bug); the traceback is in .reconcile/crash.log
    130 interrupted (Ctrl-C)
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import sys
import traceback
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from notion_sandbox.cli import sandbox
from reconcile import __version__
from reconcile.commands.bootstrap import bootstrap
from reconcile.commands.common import CONFIG_OPTION, apply_progress
from reconcile.commands.demo import demo
from reconcile.commands.history import history
from reconcile.commands.report import report
from reconcile.commands.split_markdown import split_markdown_command
from reconcile.commands.suggest_links import suggest_links
from reconcile.config import load_config
from reconcile.csvout import plan_rows, write_csv
from reconcile.errors import ConfigError, LockError, ReconcileError
from reconcile.model import Config, Plan
from reconcile.pipeline import (
    PlanRun,
    assert_fresh,
    check_saved_plan,
    execute,
    make_plan,
    saved_plan_states,
    selected_jobs,
)
from reconcile.plan import check_guards
from reconcile.planfile import plan_to_dict, read_plan, write_plan
from reconcile.redact import scrub
from reconcile.render import render_json, render_markdown, render_text
from reconcile.runlog import applied_plan_ids, owed_touches, record_run, resource_jobs

EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_CRASH = 3
EXIT_INTERRUPTED = 130

JOB_OPTION = click.option("--job", "jobs", multiple=True, metavar="NAME", help="Only this job (repeatable).")
FORMAT_OPTION = click.option(
    "--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True
)


class Abort(Exception):
    """A clean stop with an exit code (after the message was printed)."""

    def __init__(self, code: int) -> None:
        self.code = code


# ── helpers ──────────────────────────────────────────────────────────────────────────────────────


def now_utc() -> datetime:
    return datetime.now(UTC)


def use_color(stream: Any = None) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    stream = stream or sys.stdout
    return bool(getattr(stream, "isatty", lambda: False)())


def notion_token(config: Config) -> str:
    if not config.notion.token:
        raise ConfigError(
            "NOTION_TOKEN is not set",
            hint="create an internal integration in Notion, share both databases with it, and export its secret",
        )
    return config.notion.token


def open_gateway(config: Config) -> Any:
    from reconcile.notion.gateway import NotionGateway

    return NotionGateway(notion_token(config), config.notion, logger=http_logger())


# ── verbosity: -v logs every HTTP call (never the token) ─────────────────────────────────────────

HTTP_LOGGER = "reconcile.http"


class RedactingEchoHandler(logging.Handler):
    """Log lines to the current stderr (click's, under a test runner), the token scrubbed."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(scrub(f"http: {self.format(record)}"), err=True)


def http_logger() -> logging.Logger:
    logger = logging.getLogger(HTTP_LOGGER)
    if not any(isinstance(h, RedactingEchoHandler) for h in logger.handlers):
        logger.addHandler(RedactingEchoHandler())
        logger.propagate = False
    return logger


def set_verbose(enabled: bool) -> None:
    http_logger().setLevel(logging.INFO if enabled else logging.WARNING)


def group_verbose(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    set_verbose(value)  # reset on every run, so one -v never leaks into the next


def command_verbose(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        set_verbose(True)


def verbose_option(callback: Any) -> Any:
    return click.option(
        "-v",
        "--verbose",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=callback,
        help="Log every HTTP call to Notion (method, URL, status, time; never the token).",
    )


CSV_OPTION = click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False),
    help="Also write the per-page summary (job, resource, key, action, page, properties, status) as CSV.",
)


def plan_now(
    config: Config, gateway: Any, now: datetime, job_names: Sequence[str], allow_large_changes: bool
) -> PlanRun:
    """The plan of these jobs now, including the stamps earlier runs failed to write."""
    return make_plan(
        config,
        gateway,
        now=now,
        job_names=job_names,
        allow_large_changes=allow_large_changes,
        owed_touches=owed_touches(config.run_log),
    )


def render(plan: Plan, fmt: str, *, redact: bool = False, color: bool = False) -> str:
    data = plan_to_dict(plan)
    if fmt == "json":
        return render_json(data)
    if fmt == "markdown":
        return render_markdown(data, redact=redact)
    return render_text(data, color=color, redact=redact)


def lock_path(config: Config) -> Path:
    return Path(config.run_log).parent / "apply.lock"


@contextlib.contextmanager
def apply_lock(config: Config) -> Iterator[None]:
    """One apply at a time on this machine (CI serialises across machines with a concurrency group)."""
    path = lock_path(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise LockError(
                f"another reconcile apply is running (lock {path})", hint="wait for it to finish, then plan again"
            ) from exc
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# ── the command group ────────────────────────────────────────────────────────────────────────────


class ReconcileGroup(click.Group):
    """A click group whose commands share one error handler: one line per known error."""

    def invoke(self, ctx: click.Context) -> Any:
        return handle_errors(super().invoke, ctx)


@click.group(cls=ReconcileGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reconcile")
@verbose_option(group_verbose)
def cli() -> None:
    """Keep Notion databases in sync with GraphQL and HTTP sources: plan, then apply.

    \b
    Example:
      reconcile plan            # preview what would change
      reconcile apply           # show the plan again and apply it after you type yes

    \b
    Shell completion (bash; zsh and fish likewise):
      eval "$(_RECONCILE_COMPLETE=bash_source reconcile)"
    """


@cli.command()
@CONFIG_OPTION
@verbose_option(command_verbose)
def validate(config_path: str) -> None:
    """Check the config, its environment and (with NOTION_TOKEN set) the live Notion schemas.

    \b
    Example:
      reconcile validate -c mappings.yaml
    """
    config = load_config(config_path, os.environ)
    resources = sum(len(j.resources) for j in config.jobs)
    click.echo(f"{config_path}: valid ({len(config.jobs)} job(s), {resources} resource(s)).")
    if not config.notion.token:
        click.echo("Notion not checked: NOTION_TOKEN is not set.")
        return
    from reconcile.notion.schema import check_schema

    gateway = open_gateway(config)
    warnings = 0
    for job in config.jobs:
        related = {r.name: gateway.resolve(r.database, r.data_source)[0] for r in job.resources}
        for r in job.resources:
            data_source_id, schema = gateway.resolve(r.database, r.data_source)
            name = gateway.data_source_name(data_source_id)
            for diag in check_schema(r, schema, data_source_name=name, related_data_sources=related):
                warnings += 1
                click.echo(f"warning: {diag.message}")
    click.echo(f"Notion: every mapped property exists with a compatible type ({warnings} warning(s)).")


@cli.command()
@CONFIG_OPTION
@click.option("-o", "--out", "out_path", type=click.Path(dir_okay=False), help="Save the plan to apply it later.")
@FORMAT_OPTION
@click.option("--detailed-exitcode", is_flag=True, help="Exit 0 for no changes, 2 for changes, 1 for an error.")
@JOB_OPTION
@click.option("--allow-large-changes", is_flag=True, help="Override the blast-radius guards (the plan says so).")
@click.option("--redact", is_flag=True, help="Hide property values (for public CI logs).")
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
    csv_path: str | None,
) -> None:
    """Read the source and Notion, and show what apply would change.

    \b
    Example:
      reconcile plan --detailed-exitcode -o planx.plan.json
    """
    config = load_config(config_path, os.environ)
    gateway = open_gateway(config)
    run = plan_now(config, gateway, now_utc(), jobs, allow_large_changes)
    if out_path:
        write_plan(run.plan, out_path)
    if csv_path:
        write_csv(csv_path, plan_rows(run.plan, resource_jobs(config.jobs)))
    click.echo(render(run.plan, fmt, redact=redact, color=use_color()), nl=False)
    if out_path and fmt == "text":
        click.echo(f"\nSaved the plan to {out_path}. Apply exactly this plan with: reconcile apply {out_path}")
    if detailed_exitcode and run.plan.has_changes:
        raise Abort(EXIT_CHANGES)


@cli.command()
@click.argument("planfile", required=False, type=click.Path(dir_okay=False))
@CONFIG_OPTION
@click.option("--auto-approve", is_flag=True, help="Apply without asking (for CI).")
@JOB_OPTION
@click.option("--allow-large-changes", is_flag=True, help="Override the blast-radius guards.")
@click.option("--redact", is_flag=True, help="Hide property values in the plan shown.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the summary and errors (and no progress bar).")
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
    csv_path: str | None,
) -> None:
    """Apply the changes: plan now and ask for `yes`, or apply a saved PLANFILE exactly.

    \b
    Example:
      reconcile apply --auto-approve          # nightly in CI
      reconcile apply planx.plan.json         # exactly the plan you reviewed
    """
    config = load_config(config_path, os.environ)
    gateway = open_gateway(config)
    csv_rows: list[dict[str, Any]] = []
    with apply_lock(config):
        if planfile:
            started = now_utc()
            plan_obj = load_saved_plan(config, planfile, gateway, started)
            check_guards(plan_obj, allow_large_changes=allow_large_changes)
            ok = execute_and_record(config, gateway, plan_obj, started, saved=True, quiet=quiet, rows=csv_rows)
        else:
            ok = apply_jobs(config, gateway, jobs, auto_approve, allow_large_changes, redact, quiet, csv_rows)
    if csv_path:
        write_csv(csv_path, csv_rows)
    if not ok:
        raise Abort(EXIT_ERROR)


def apply_jobs(
    config: Config,
    gateway: Any,
    jobs: tuple[str, ...],
    auto_approve: bool,
    allow_large_changes: bool,
    redact: bool,
    quiet: bool,
    csv_rows: list[dict[str, Any]],
) -> bool:
    """Plan and apply each job in turn, so a job sees what the jobs before it wrote.

    One job's refusal or failure is reported and the others still run; the exit code says so.
    With one job, its errors propagate as they are.
    """
    names = [j.name for j in selected_jobs(config, jobs)]
    groups = [[n] for n in names] if len(names) > 1 else [names]
    ok = True
    for group in groups:
        try:
            ok = apply_now(config, gateway, group, auto_approve, allow_large_changes, redact, quiet, csv_rows) and ok
        except ReconcileError as exc:
            if len(groups) == 1:
                raise
            click.echo(f"Error: job {group[0]}: {scrub(str(exc))}", err=True)
            ok = False
    return ok


def apply_now(
    config: Config,
    gateway: Any,
    job_names: list[str],
    auto_approve: bool,
    allow_large_changes: bool,
    redact: bool,
    quiet: bool,
    csv_rows: list[dict[str, Any]],
) -> bool:
    started = now_utc()
    run = plan_now(config, gateway, started, job_names, allow_large_changes)
    plan_obj = run.plan
    if not quiet or plan_obj.has_changes:
        click.echo(render(plan_obj, "text", redact=redact, color=use_color()), nl=False)
    check_guards(plan_obj, allow_large_changes=allow_large_changes)
    if plan_obj.has_changes and not auto_approve:
        confirm_or_abort()
    return execute_and_record(config, gateway, plan_obj, started, saved=False, quiet=quiet, rows=csv_rows)


def execute_and_record(
    config: Config,
    gateway: Any,
    plan_obj: Plan,
    started: datetime,
    *,
    saved: bool,
    quiet: bool,
    rows: list[dict[str, Any]],
) -> bool:
    result = None
    if plan_obj.has_changes:
        with apply_progress(len(plan_obj.actions), quiet=quiet) as progress:
            result = execute(plan_obj, gateway, workers=config.notion.workers, progress=progress)
    return record_and_report(config, plan_obj, result, gateway, started, saved=saved, quiet=quiet, rows=rows)


def load_saved_plan(config: Config, planfile: str, gateway: Any, now: datetime) -> Plan:
    plan_obj = read_plan(planfile)
    check_saved_plan(plan_obj, config, now=now, applied_ids=applied_plan_ids(config.run_log))
    assert_fresh(plan_obj, saved_plan_states(config, plan_obj, gateway), gateway)
    return plan_obj


def stdin_is_terminal() -> bool:
    return bool(getattr(sys.stdin, "isatty", lambda: False)())


def confirm_or_abort() -> None:
    if not stdin_is_terminal():
        raise ReconcileError(
            "refusing to apply without confirmation: standard input is not a terminal",
            hint="review the plan and pass --auto-approve, or apply a saved plan file",
        )
    answer = click.prompt(
        "\nDo you want to apply these changes? Only 'yes' will be accepted", default="", show_default=False
    )
    if answer.strip() != "yes":
        click.echo("Apply cancelled; nothing was written.")
        raise Abort(EXIT_ERROR)


def record_and_report(
    config: Config,
    plan_obj: Plan,
    result: Any,
    gateway: Any,
    started: datetime,
    *,
    saved: bool,
    quiet: bool,
    rows: list[dict[str, Any]],
) -> bool:
    """Record the run, print its outcome; False when a write failed or a key was left alone."""
    from reconcile.apply import ApplyResult

    result = result or ApplyResult()
    record = record_run(
        config, plan_obj, result, api_calls=gateway.counter.snapshot(), started=started, finished=now_utc(), saved=saved
    )
    rows += plan_rows(plan_obj, record["resource_jobs"], result)
    ok = sum(c["ok"] for c in result.counts().values())
    failed = len(result.failed)
    for o in result.failed:
        click.echo(f"error: {o.action} {o.resource} {o.key!r} failed: {o.message}", err=True)
    errors = [d for d in plan_obj.diagnostics if d.severity == "error"]
    jobs = ", ".join(plan_obj.jobs)
    click.echo(f"Apply complete ({jobs}): {ok} written, {failed} failed. Run recorded in {config.run_log}.")
    if errors:
        click.echo(f"{len(errors)} key(s) were left alone because of errors shown in the plan.", err=True)
    return not failed and not errors


@cli.command()
@click.argument("planfile", type=click.Path(dir_okay=False))
@FORMAT_OPTION
@click.option("--redact", is_flag=True, help="Hide property values.")
def show(planfile: str, fmt: str, redact: bool) -> None:
    """Show a saved plan.

    \b
    Example:
      reconcile show planx.plan.json --format markdown
    """
    click.echo(render(read_plan(planfile), fmt, redact=redact, color=use_color()), nl=False)


cli.add_command(sandbox)
cli.add_command(demo)
cli.add_command(bootstrap)
cli.add_command(suggest_links)
cli.add_command(history)
cli.add_command(report)
cli.add_command(split_markdown_command)


# ── entry point with the one top-level error handler ─────────────────────────────────────────────


def handle_errors(invoke: Any, ctx: click.Context) -> Any:
    try:
        return invoke(ctx)
    except Abort as stop:
        ctx.exit(stop.code)
    except ReconcileError as exc:
        click.echo(f"Error: {scrub(str(exc))}", err=True)
        ctx.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("\nInterrupted.", err=True)
        ctx.exit(EXIT_INTERRUPTED)
    except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
        raise
    except Exception:
        if os.environ.get("RECONCILE_DEBUG"):
            raise
        log = Path(".reconcile") / "crash.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(scrub(traceback.format_exc()), encoding="utf-8")
        click.echo(f"reconcile crashed (this is a bug); the traceback is in {log}", err=True)
        ctx.exit(EXIT_CRASH)


main = cli
