"""What the commands share: options, exit codes, the -v request log, colour, progress, rendering.

Commands import this module and reconcile.run, never each other and never reconcile.cli.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO, TypeVar

import click
import yaml

from reconcile.model import Plan
from reconcile.planfile import plan_document, plan_to_dict
from reconcile.redact import scrub
from reconcile.render import render_json, render_markdown, render_text

__all__ = [
    "CONFIG_OPTION",
    "CSV_OPTION",
    "DEFAULT_RUN_LOG",
    "EXIT_CHANGES",
    "EXIT_CRASH",
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "FORMAT_OPTION",
    "HTTP_LOGGER",
    "JOB_OPTION",
    "REFRESH_OPTION",
    "RUN_LOGS_OPTION",
    "RUN_LOG_OPTION",
    "Abort",
    "apply_progress",
    "command_verbose",
    "group_verbose",
    "http_logger",
    "render",
    "run_log_path",
    "run_log_paths",
    "set_verbose",
    "use_color",
    "verbose_option",
]

EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_CRASH = 3
EXIT_INTERRUPTED = 130
DEFAULT_RUN_LOG = ".reconcile/runs.jsonl"

F = TypeVar("F", bound=Callable[..., Any])


class Abort(Exception):
    """A clean stop with an exit code (after the message was printed); reconcile.cli exits with it."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


# ── options ──────────────────────────────────────────────────────────────────────────────────────

CONFIG_OPTION = click.option(
    "-c",
    "--config",
    "config_path",
    default="mappings.yaml",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="The mappings file.",
)
RUN_LOG_OPTION = click.option(
    "--run-log",
    type=click.Path(dir_okay=False),
    help="The run log to read (default: run_log in the config, else .reconcile/runs.jsonl).",
)
JOB_OPTION = click.option("--job", "jobs", multiple=True, metavar="NAME", help="Only this job (repeatable).")
# Incremental sources (reconcile/source/incremental.py): plan and apply read them the same way.
REFRESH_OPTION = click.option(
    "--refresh",
    type=click.Choice(["auto", "full", "incremental"]),
    default="auto",
    show_default=True,
    help="How to read incremental sources: only the records changed since the last successful apply when "
    "their policy allows (auto), every record (full), or the changes even when a full read is due (incremental).",
)
FORMAT_OPTION = click.option(
    "--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True
)
CSV_OPTION = click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False),
    help="Also write the per-page summary (job, resource, key, action, page, properties, status) as CSV.",
)


RUN_LOGS_OPTION = click.option(
    "--run-log",
    "run_logs",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="The run log to read (default: run_log in the config, else .reconcile/runs.jsonl). Repeat it to "
    "merge the logs of several jobs or workspaces into one history, ordered by time.",
)


def run_log_paths(config_path: str, given: Sequence[str]) -> list[str]:
    """The run logs named, else the config's one."""
    return list(dict.fromkeys(given)) if given else [run_log_path(config_path, None)]


def run_log_path(config_path: str, override: str | None) -> str:
    """The run log: the option, else the config's run_log, else the default.

    Read from the raw YAML: reading history must not need the Notion environment that a full
    config load interpolates.
    """
    if override:
        return override
    path = Path(config_path)
    if path.is_file():
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError):
            return DEFAULT_RUN_LOG
        if isinstance(document, dict) and isinstance(document.get("run_log"), str):
            return str(document["run_log"])
    return DEFAULT_RUN_LOG


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


def verbose_option(callback: Callable[[click.Context, click.Parameter, bool], None]) -> Callable[[F], F]:
    return click.option(
        "-v",
        "--verbose",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=callback,
        help="Log every HTTP call to Notion (method, URL, status, time; never the token).",
    )


# ── output ───────────────────────────────────────────────────────────────────────────────────────


def is_terminal(stream: TextIO | None) -> bool:
    return bool(getattr(stream, "isatty", lambda: False)())


def use_color(stream: TextIO | None = None) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    return is_terminal(stream or sys.stdout)


def render(plan: Plan, fmt: str, *, redact: bool = False, color: bool = False) -> str:
    """The plan as text, Markdown or JSON; every format is rendered from the plan's JSON form."""
    if fmt == "json":
        return render_json(plan_document(plan))  # exactly what a plan file holds, digest included
    data = plan_to_dict(plan)
    if fmt == "markdown":
        return render_markdown(data, redact=redact)
    return render_text(data, color=color, redact=redact)


# Fewer writes than this finish in a moment at Notion's 3 requests/s: no bar for them.
PROGRESS_MIN_WRITES = 10


@contextlib.contextmanager
def apply_progress(
    total: int, *, quiet: bool = False, stream: TextIO | None = None
) -> Iterator[Callable[[int], None] | None]:
    """A progress callback for the executor, or None when a bar would only be noise.

    A bar is drawn only on a terminal, for more than a handful of writes, and never with --quiet.
    The executor reports from its worker threads, so updates are serialised here.
    """
    stream = stream or sys.stdout
    if quiet or total <= PROGRESS_MIN_WRITES or not is_terminal(stream):
        yield None
        return
    lock = threading.Lock()
    with click.progressbar(length=total, label="Applying", file=stream) as bar:

        def advance(n: int) -> None:
            with lock:
                bar.update(n)

        yield advance
