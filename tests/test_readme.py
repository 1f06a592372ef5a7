"""The README is the contract for a new user: its commands must be the ones CI and the CLI have."""

from __future__ import annotations

import re
from pathlib import Path

import click

from reconcile.cli import cli

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")


def fenced_commands() -> list[str]:
    return [line.strip() for block in re.findall(r"```sh\n(.*?)```", README, re.S) for line in block.splitlines()]


FAST_LANE = 'python -m pytest -m "not slow"'
CHECKS = ("ruff check . && ruff format --check .", "mypy", "lint-imports")


def ci_lines() -> list[str]:
    lines = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def test_ci_runs_exactly_the_readme_test_command() -> None:
    full = [c for c in fenced_commands() if "pytest" in c and c != FAST_LANE]
    assert len(full) == 1, full
    steps = full[0].split(" && ")
    ci = ci_lines()
    positions = [ci.index(step) if step in ci else -1 for step in steps]
    assert -1 not in positions, f".ci/run lacks a step of the README's test command: {steps} vs {ci}"
    assert positions == sorted(positions), "`.ci/run` runs the README's steps in another order"
    assert steps[-1] == "python -m pytest", "CI runs the whole suite, not a lane of it"


def test_the_fast_lane_is_documented_beside_the_full_command_and_its_marker_declared() -> None:
    assert FAST_LANE in fenced_commands()
    quickstart = README.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    assert f"`{FAST_LANE}`" in quickstart
    assert "slow:" in (REPO / "setup.cfg").read_text(encoding="utf-8")


def test_ci_runs_every_check_the_readme_lists() -> None:
    commands = fenced_commands()
    ci = ci_lines()
    for check in CHECKS:
        assert check in commands, f"README.md does not show `{check}`"
        assert any(line == check or line.startswith(check + " ") for line in ci), f".ci/run does not run `{check}`"


def test_quickstart_is_two_commands_one_runs_the_demo() -> None:
    quickstart = README.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    commands = [c for block in re.findall(r"```sh\n(.*?)```", quickstart, re.S) for c in block.strip().splitlines()]
    assert len(commands) == 2
    assert commands[0].endswith("reconcile demo")


def all_commands(group: click.Group = cli, prefix: str = "reconcile") -> list[str]:
    out = []
    for name, command in group.commands.items():
        path = f"{prefix} {name}"
        if isinstance(command, click.Group):
            out += all_commands(command, path)
        elif not command.hidden:
            out.append(path)
    return out


def test_every_command_is_documented_in_the_readme() -> None:
    missing = [c for c in all_commands() if f"`{c}" not in README]
    assert not missing, f"README.md does not document: {missing}"


def test_the_new_job_example_is_a_valid_config() -> None:
    from reconcile.config import load_config_text

    [example] = re.findall(r"```yaml\n(.*?)```", README, re.S)
    config = load_config_text(example, {"COUNCILS_DB_ID": "c0c11c00-0000-4000-8000-000000000001"}, path="README.md")
    [job] = config.jobs
    assert job.source.kind == "http" and job.resources[0].mode == "update-only"
