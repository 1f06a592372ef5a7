"""Exit codes CI can trust: 0 ok, 1 any error a person can fix (usage errors too), 2 changes under
--detailed-exitcode only, 3 a crash, 130 interrupted. One test per code, through the real CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.common import run

SandboxServer = pytest.importorskip("notion_sandbox.server").SandboxServer
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def sandbox(planx_workdir: Any) -> Any:
    return planx_workdir


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["plan", "--detailed-exitcodes"],
            "No such option '--detailed-exitcodes'. Did you mean '--detailed-exitcode'?",
        ),
        (["plan", "--job"], "Option '--job' requires an argument."),
        (["aply"], "No such command 'aply'. Did you mean 'apply'?"),
        (["--colour", "plan"], "No such option '--colour'"),
        (["plan", "--format", "yaml"], "'yaml' is not one of 'text', 'markdown', 'json'"),
        (["show"], "Missing argument 'PLANFILE'"),
    ],
)
def test_a_usage_error_exits_1_never_2(args: list[str], message: str) -> None:
    out = run(*args)
    assert out.exit_code == 1, (out.exit_code, out.output)
    assert message in out.stderr


def test_changes_exit_2_only_under_detailed_exitcode_and_no_changes_0(sandbox: Any) -> None:
    assert run("plan", "--detailed-exitcode").exit_code == 2
    assert run("plan").exit_code == 0
    assert run("apply", "--auto-approve").exit_code == 0
    assert run("plan", "--detailed-exitcode").exit_code == 0


def test_an_error_exits_1_with_one_line(sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SERVICES_DB_ID")
    out = run("plan", "--detailed-exitcode")
    assert out.exit_code == 1
    [line] = out.stderr.strip().splitlines()
    assert line.startswith("Error: mappings.yaml: at ") and "SERVICES_DB_ID is not set" in line


def test_a_crash_exits_3_and_an_interrupt_130(sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import reconcile.run as library

    def crash(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(library, "compute_plan", crash)
    out = run("plan")
    assert out.exit_code == 3 and "reconcile crashed (this is a bug)" in out.stderr
    assert "RuntimeError: a bug" in Path(".reconcile/crash.log").read_text(encoding="utf-8")

    def interrupt(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(library, "compute_plan", interrupt)
    out = run("plan")
    assert out.exit_code == 130 and "Interrupted." in out.stderr
