"""Command-line interface: the command group, the one error boundary, and the command table.

Each command is a small module in reconcile/commands/ that parses its options and calls the library
(reconcile.run); it is imported only when it runs, so `reconcile history` never loads httpx,
notion-client or the sandbox.

Exit codes (public contract):
    0   success; for `plan --detailed-exitcode`: no changes
    1   an error: a mistyped command or option, bad config, source or Notion failure, refused or stale
        plan, failed writes (click's own exit code for usage errors, 2, is replaced: 2 means "changes")
    2   `plan --detailed-exitcode` only: the plan has changes
    3   reconcile itself crashed (a bug); the traceback is in .reconcile/crash.log
    130 interrupted (Ctrl-C)
"""

from __future__ import annotations

import importlib
import os
import traceback
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from reconcile import __version__
from reconcile.commands.common import EXIT_CRASH, EXIT_ERROR, EXIT_INTERRUPTED, Abort, group_verbose, verbose_option
from reconcile.errors import ReconcileError
from reconcile.redact import scrub

__all__ = ["COMMANDS", "cli", "main"]

CRASH_LOG = Path(".reconcile") / "crash.log"


@dataclass(frozen=True)
class CommandEntry:
    """Where a command lives, and the first line of its help (so `reconcile --help` imports no command)."""

    module: str
    attribute: str
    short_help: str

    def short_help_str(self, name: str, limit: int) -> str:
        """The help line click would show for the command, cut to `limit` the way click cuts it."""
        return click.Command(name, help=self.short_help).get_short_help_str(limit)


COMMANDS: dict[str, CommandEntry] = {
    "validate": CommandEntry(
        "reconcile.commands.validate",
        "validate",
        "Check the config, its environment and (with NOTION_TOKEN set) the live Notion schemas.",
    ),
    "plan": CommandEntry(
        "reconcile.commands.plan", "plan", "Read the source and Notion, and show what apply would change."
    ),
    "apply": CommandEntry(
        "reconcile.commands.apply",
        "apply",
        "Apply the changes: plan now and ask for `yes`, or apply a saved PLANFILE exactly.",
    ),
    "show": CommandEntry("reconcile.commands.show", "show", "Show a saved plan."),
    "history": CommandEntry(
        "reconcile.commands.history",
        "history",
        "List recorded runs: id, status, what was written, failures, API calls, duration.",
    ),
    "report": CommandEntry(
        "reconcile.commands.report",
        "report",
        "Write the HTML dashboard: the last run's status, recent runs, writes per action, what is unlinked.",
    ),
    "split-markdown": CommandEntry(
        "reconcile.commands.split_markdown",
        "split_markdown_command",
        "Split a Markdown plan into parts that each fit one GitHub comment; print their paths.",
    ),
    "bootstrap": CommandEntry(
        "reconcile.commands.bootstrap",
        "bootstrap",
        "Create the Notion databases the config needs, and print the ids to export.",
    ),
    "suggest-links": CommandEntry(
        "reconcile.commands.suggest_links",
        "suggest_links",
        "Propose match keys for pages that have none (e.g. a council's ExternalCustomerID).",
    ),
    "demo": CommandEntry(
        "reconcile.commands.demo",
        "demo",
        "Run the PlanX job against a local sandbox: plan, apply, set back an edit, plan again. No account needed.",
    ),
    "sandbox": CommandEntry(
        "reconcile.commands.sandbox", "sandbox", "Run the local Notion-compatible sandbox and PlanX stand-in."
    ),
}


class LazyCommands(MutableMapping[str, click.Command]):
    """The group's commands by name, each module imported on first use (click looks commands up
    here; iterating it, as `--help` would, is the only thing that imports them all)."""

    def __init__(self, table: dict[str, CommandEntry]) -> None:
        self._table = table
        self._loaded: dict[str, click.Command] = {}

    def __getitem__(self, name: str) -> click.Command:
        if name not in self._loaded:
            entry = self._table[name]
            command = getattr(importlib.import_module(entry.module), entry.attribute)
            if not isinstance(command, click.Command):
                raise TypeError(f"{entry.module}.{entry.attribute} is not a click command")
            self._loaded[name] = command
        return self._loaded[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        self._loaded.pop(name, None)
        self._table = {k: v for k, v in self._table.items() if k != name}

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*self._table, *self._loaded]))

    def __len__(self) -> int:
        return len(set(self._table) | set(self._loaded))

    def __contains__(self, name: object) -> bool:
        return name in self._table or name in self._loaded


class ReconcileGroup(click.Group):
    """Commands loaded from COMMANDS on first use; every command runs inside the one error handler."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = LazyCommands(COMMANDS)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # As click lists commands, but from the table: listing them imports none of them.
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = [(name, COMMANDS[name].short_help_str(name, limit)) for name in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as exc:
            raise as_user_error(exc) from None

    def invoke(self, ctx: click.Context) -> Any:
        return handle_errors(super().invoke, ctx)


def as_user_error(exc: click.UsageError) -> click.UsageError:
    """A usage error exits 1, like every error a person can fix: click's 2 means "changes" to CI."""
    exc.exit_code = EXIT_ERROR  # type: ignore[misc]  # click declares it on the class; instances may differ
    return exc


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


# ── the one top-level error handler ──────────────────────────────────────────────────────────────


def handle_errors(invoke: Callable[[click.Context], Any], ctx: click.Context) -> Any:
    """Known errors: one line and their exit code; Ctrl-C: 130; anything else is a bug: 3 and a log."""
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
    except click.UsageError as exc:
        raise as_user_error(exc) from None
    except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
        raise
    except Exception:
        if os.environ.get("RECONCILE_DEBUG"):
            raise
        CRASH_LOG.parent.mkdir(parents=True, exist_ok=True)
        CRASH_LOG.write_text(scrub(traceback.format_exc()), encoding="utf-8")
        click.echo(f"reconcile crashed (this is a bug); the traceback is in {CRASH_LOG}", err=True)
        ctx.exit(EXIT_CRASH)


main = cli
