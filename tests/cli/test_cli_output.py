"""Output that respects people: colour, help examples, verbose logs without the token."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from reconcile import cli as app
from reconcile.commands import common
from reconcile.commands.common import apply_progress
from reconcile.redact import remember_secret


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def all_commands(group: click.Group = app.cli, prefix: str = "reconcile") -> Iterator[tuple[str, click.Command]]:
    for name, command in sorted(group.commands.items()):
        yield f"{prefix} {name}", command
        if isinstance(command, click.Group):
            yield from all_commands(command, f"{prefix} {name}")


def test_colour_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    assert common.use_color(Terminal()) is True
    assert common.use_color(io.StringIO()) is False


def test_never_colour_with_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    assert common.use_color(Terminal()) is False


@pytest.mark.parametrize("path", [p for p, _ in all_commands()])
def test_every_command_help_has_an_example(path: str) -> None:
    args = path.split()[1:]
    out = CliRunner().invoke(app.cli, [*args, "--help"])
    assert out.exit_code == 0, out.output
    assert "Example" in out.output, f"`{path} --help` shows no example"
    assert "reconcile " in out.output.split("Example", 1)[1], f"`{path} --help`: the example runs nothing"


def test_the_group_help_documents_shell_completion() -> None:
    out = CliRunner().invoke(app.cli, ["--help"])
    assert "_RECONCILE_COMPLETE=bash_source reconcile" in out.output


def test_verbose_logs_http_lines_with_the_token_scrubbed() -> None:
    token = "ntn_supersecret_1234567890"
    remember_secret(token)  # as loading a config with NOTION_TOKEN set does

    @click.command()
    @common.verbose_option(common.command_verbose)
    def probe() -> None:
        common.http_logger().info("GET %s 200 0.010s (auth %s)", "http://127.0.0.1/v1/users/me", token)

    out = CliRunner().invoke(probe, ["-v"])
    assert "http: GET http://127.0.0.1/v1/users/me 200" in out.output
    assert token not in out.output and "[redacted]" in out.output
    common.set_verbose(False)
    quiet = CliRunner().invoke(probe, [])
    assert quiet.output == ""


def test_the_group_flag_resets_each_run() -> None:
    CliRunner().invoke(app.cli, ["-v", "history", "--run-log", "/nonexistent/x.jsonl"])
    assert common.http_logger().level == logging.INFO
    CliRunner().invoke(app.cli, ["history", "--run-log", "/nonexistent/x.jsonl"])
    assert common.http_logger().level == logging.WARNING


def test_progress_bar_only_on_a_terminal_for_many_writes_and_not_quiet() -> None:
    with apply_progress(50, stream=io.StringIO()) as progress:
        assert progress is None
    with apply_progress(3, stream=Terminal()) as progress:
        assert progress is None
    with apply_progress(50, quiet=True, stream=Terminal()) as progress:
        assert progress is None
    screen = Terminal()
    with apply_progress(50, stream=screen) as progress:
        assert progress is not None
        for _ in range(50):
            progress(1)
    assert "Applying" in screen.getvalue() and "100%" in screen.getvalue()
