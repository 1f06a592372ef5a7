"""Helpers shared by the operator's commands."""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
import yaml

DEFAULT_RUN_LOG = ".reconcile/runs.jsonl"

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
            return document["run_log"]
    return DEFAULT_RUN_LOG


# Fewer writes than this finish in a moment at Notion's 3 requests/s: no bar for them.
PROGRESS_MIN_WRITES = 10


@contextlib.contextmanager
def apply_progress(total: int, *, quiet: bool = False, stream: Any = None) -> Iterator[Callable[[int], None] | None]:
    """A progress callback for `pipeline.execute`, or None when a bar would only be noise.

    A bar is drawn only on a terminal, for more than a handful of writes, and never with --quiet.
    The executor reports from its worker threads, so updates are serialised here.
    """
    stream = stream or sys.stdout
    if quiet or total <= PROGRESS_MIN_WRITES or not getattr(stream, "isatty", lambda: False)():
        yield None
        return
    lock = threading.Lock()
    with click.progressbar(length=total, label="Applying", file=stream) as bar:

        def advance(n: int) -> None:
            with lock:
                bar.update(n)

        yield advance
