"""A CLI start loads only what the command needs, on any platform; the command table tells the truth."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import click
import pytest

from reconcile.cli import COMMANDS, cli

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("httpx", "notion_client", "notion_sandbox", "requests")


def loaded_after(code: str) -> list[str]:
    """The heavy packages a fresh interpreter has imported after running `code`."""
    probe = f"import sys\n{code}\nprint(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r}))\n"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, check=True)
    return eval(out.stdout.strip().splitlines()[-1])  # a printed list of names


def invoke_in_process(*args: str) -> str:
    return (
        "from click.testing import CliRunner\n"
        "from reconcile.cli import cli\n"
        f"result = CliRunner().invoke(cli, {list(args)!r})\n"
        "assert result.exit_code == 0, result.output\n"
    )


def test_importing_the_cli_and_its_help_load_no_http_client_and_no_sandbox() -> None:
    assert loaded_after("import reconcile.cli") == []
    assert loaded_after(invoke_in_process("--help")) == []


def test_history_loads_no_http_client_and_no_sandbox(tmp_path: Path) -> None:
    assert loaded_after(invoke_in_process("history", "--run-log", str(tmp_path / "runs.jsonl"))) == []


def test_plan_loads_the_notion_client_but_not_the_sandbox() -> None:
    loaded = loaded_after("import reconcile.commands.plan")
    assert {"httpx", "notion_client"} <= set(loaded) and "notion_sandbox" not in loaded


@pytest.mark.slow
def test_only_the_sandbox_and_demo_commands_load_the_sandbox() -> None:
    for name, entry in COMMANDS.items():
        loaded = loaded_after(f"import {entry.module}")
        assert ("notion_sandbox" in loaded) == (name in ("sandbox", "demo")), name


def test_the_cli_starts_where_fcntl_does_not_exist(tmp_path: Path) -> None:
    """As on Windows: importing fcntl fails, and the CLI still starts and reads its history."""
    code = "import sys\nsys.modules['fcntl'] = None  # importing it now raises ImportError\n" + invoke_in_process(
        "history", "--run-log", str(tmp_path / "runs.jsonl")
    )
    subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)


def test_the_apply_lock_imports_on_windows_without_fcntl() -> None:
    """reconcile.lock, read as on win32: msvcrt (a stand-in with the names it uses), never fcntl."""
    code = (
        "import importlib, sys, types\n"
        "import reconcile.errors, contextlib, pathlib\n"
        "sys.modules['fcntl'] = None\n"
        "msvcrt = types.ModuleType('msvcrt'); msvcrt.LK_NBLCK, msvcrt.LK_UNLCK = 2, 0\n"
        "msvcrt.locking = lambda fd, mode, n: None\n"
        "sys.modules['msvcrt'] = msvcrt\n"
        "sys.platform = 'win32'\n"
        "lock = importlib.import_module('reconcile.lock')\n"
        "print(lock._try_lock.__code__.co_names)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert "msvcrt" in out.stdout and "fcntl" not in out.stdout


def test_only_the_lock_module_names_a_platform_locking_module() -> None:
    users = [
        p.relative_to(REPO).as_posix()
        for p in sorted((REPO / "reconcile").rglob("*.py"))
        if "import fcntl" in p.read_text(encoding="utf-8") or "import msvcrt" in p.read_text(encoding="utf-8")
    ]
    assert users == ["reconcile/lock.py"]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_command_table_shows_each_commands_own_help(name: str) -> None:
    command = cli.commands[name]
    assert command.name == name
    for limit in (45, 60, 200):
        assert command.get_short_help_str(limit) == COMMANDS[name].short_help_str(name, limit)


def test_the_group_help_lists_every_command() -> None:
    listed = cli.get_help(click.Context(cli)).split("Commands:", 1)[1].splitlines()
    assert [line.split()[0] for line in listed if line.startswith("  ") and line[2] != " "] == sorted(COMMANDS)


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth of its code (function-level imports included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            if node.module in ("reconcile", "reconcile.commands"):  # `from reconcile import cli`
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize("path", sorted((REPO / "reconcile" / "commands").glob("*.py")), ids=lambda p: p.name)
def test_a_command_imports_neither_the_cli_nor_another_command(path: Path) -> None:
    own = f"reconcile.commands.{path.stem}"
    allowed = {"reconcile.commands", "reconcile.commands.common", own}
    wrong = sorted(
        m
        for m in imported_modules(path)
        if m == "reconcile.cli"
        or m.startswith("reconcile.cli.")
        or (m.startswith("reconcile.commands") and m not in allowed)
    )
    assert wrong == []
