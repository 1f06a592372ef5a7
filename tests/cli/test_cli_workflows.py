"""The GitHub Actions examples: every `reconcile` command they run exists with those options."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from reconcile.cli import cli

WORKFLOWS = Path(__file__).resolve().parents[2] / ".github" / "workflows"
SHELL_STOPS = {">", ">>", "<", "|", "||", "&&", ";", "2>", "2>&1", "&"}


def load(name: str) -> dict[Any, Any]:
    return yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))


def run_scripts(workflow: dict[Any, Any]) -> list[str]:
    return [step["run"] for job in workflow["jobs"].values() for step in job["steps"] if "run" in step]


def reconcile_invocations(script: str) -> list[list[str]]:
    """The argument lists of every `reconcile ...` command in a shell script."""
    joined = script.replace("\\\n", " ")
    found = []
    for line in joined.splitlines():
        words = shlex.split(line, comments=True)
        for i, word in enumerate(words):
            if word == "reconcile" and (i == 0 or words[i - 1] in SHELL_STOPS | {"then", "do", "$("}):
                args = []
                for w in words[i + 1 :]:
                    if w in SHELL_STOPS or w.startswith(">"):
                        break
                    args.append(w)
                found.append(args)
    return found


def check_invocation(args: list[str]) -> None:
    """Walk the click tree: each word names a subcommand or an option of the command reached."""
    command: click.Command = cli
    ctx = click.Context(cli)
    rest = list(args)
    while rest and isinstance(command, click.Group) and not rest[0].startswith("-"):
        name = rest.pop(0)
        assert name in command.commands, f"`reconcile {' '.join(args)}`: no command {name!r}"
        command = command.commands[name]
    options = {o: p for p in command.get_params(ctx) for o in (*p.opts, *p.secondary_opts) if o.startswith("-")}
    while rest:
        word = rest.pop(0)
        if not word.startswith("-"):
            continue  # an argument or an option's value
        flag = word.split("=", 1)[0]
        assert flag in options, f"`reconcile {' '.join(args)}`: {command.name} has no option {flag}"
        param = options[flag]
        if isinstance(param, click.Option) and not param.is_flag and "=" not in word:
            assert rest, f"`reconcile {' '.join(args)}`: {flag} needs a value"
            rest.pop(0)


@pytest.mark.parametrize("name", ["plan.yml", "apply.yml"])
def test_every_reconcile_command_in_the_workflows_exists_with_its_options(name: str) -> None:
    invocations = [i for script in run_scripts(load(name)) for i in reconcile_invocations(script)]
    assert invocations, f"{name} runs no reconcile command"
    for args in invocations:
        check_invocation(args)


def test_the_checker_itself_catches_a_wrong_option_and_a_wrong_command() -> None:
    with pytest.raises(AssertionError, match="no option --colour"):
        check_invocation(["plan", "--colour"])
    with pytest.raises(AssertionError, match="no command 'deploy'"):
        check_invocation(["deploy"])
    assert reconcile_invocations("set +e\nreconcile plan --format markdown > plan.md\n") == [
        ["plan", "--format", "markdown"]
    ]


def test_the_plan_workflow_runs_on_mappings_changes_and_publishes_the_plan() -> None:
    workflow = load("plan.yml")
    assert workflow[True]["pull_request"]["paths"] == ["mappings.yaml"]  # YAML 1.1 reads `on:` as True
    scripts = "\n".join(run_scripts(workflow))
    assert "--format markdown" in scripts and "$GITHUB_STEP_SUMMARY" in scripts
    assert "reconcile split-markdown" in scripts and "gh api" in scripts and "<!-- reconcile-plan -->" in str(workflow)


def test_the_apply_workflow_is_nightly_serialised_and_keeps_its_record() -> None:
    workflow = load("apply.yml")
    assert "schedule" in workflow[True] and "workflow_dispatch" in workflow[True]
    assert workflow["concurrency"]["cancel-in-progress"] is False
    [job] = workflow["jobs"].values()
    assert job["env"]["NOTION_TOKEN"] == "${{ secrets.NOTION_TOKEN }}"
    assert any("--auto-approve" in s for s in run_scripts(workflow))
    uploads = [s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact")]
    assert uploads and ".reconcile/runs.jsonl" in uploads[0]["with"]["path"]
