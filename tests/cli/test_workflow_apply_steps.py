"""The apply workflow's shell steps, run with bash against the sandbox and a local git `origin`.

The run log survives between runs on its own branch (not in a cache that can be evicted); a
missing branch is said out loud and apply starts a new log; a branch that cannot be read stops
the run before anything is written.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.actions import JobResult, Runner, checkout, git
from tests.support.common import writes

SandboxServer = pytest.importorskip("notion_sandbox.server").SandboxServer

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / ".github" / "workflows" / "apply.yml"
BRANCH = "reconcile-run-log"

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


@pytest.fixture
def sandbox() -> Iterator[Any]:
    with SandboxServer(port=0, seed="planx", rate_limit=None) as sb:
        yield sb


def runner(workspace: Path, sandbox: Any) -> Runner:
    env = sandbox.seed_info["env"]
    bin_dir = workspace.parent / "bin"
    bin_dir.mkdir(exist_ok=True)
    return Runner(
        workflow=WORKFLOW,
        workspace=workspace,
        bin_dir=bin_dir,
        secrets={"NOTION_TOKEN": env["NOTION_TOKEN"]},
        vars={"COUNCILS_DB_ID": env["COUNCILS_DB_ID"], "SERVICES_DB_ID": env["SERVICES_DB_ID"]},
        github={"repository": "council-ops/reconcile", "run_id": "1001"},
        base_env={
            "NOTION_BASE_URL": env["NOTION_BASE_URL"],
            "PLANX_GRAPHQL_URL": env["PLANX_GRAPHQL_URL"],
            "NOTION_RATE_LIMIT": "0",
        },
    )


def fresh_clone(origin: Path, into: Path) -> Path:
    """A new runner's checkout: main only, as actions/checkout leaves it."""
    git(origin.parent, "clone", "-q", "--branch", "main", str(origin), str(into))
    return into


def kept_log(origin: Path) -> list[dict[str, Any]]:
    text = git(origin, "show", f"{BRANCH}:runs.jsonl")
    return [json.loads(line) for line in text.splitlines()]


def branch_commits(origin: Path) -> list[str]:
    return git(origin, "rev-list", BRANCH).split()


@pytest.mark.slow
def test_the_run_log_is_kept_on_its_branch_and_restored_by_the_next_run(tmp_path: Path, sandbox: Any) -> None:
    origin, workspace = checkout(tmp_path, {"mappings.yaml": (REPO / "mappings.yaml").read_text(encoding="utf-8")})

    first = runner(workspace, sandbox).run()
    assert not first.failed, failure_text(first)
    restore = first.step("Restore the run log")
    assert "::warning title=reconcile run log::No run log: branch reconcile-run-log does not exist." in restore.stdout
    assert "Starting a new log" in first.summary
    assert len(kept_log(origin)) == 1 and kept_log(origin)[0]["failed"] == 0
    [root] = branch_commits(origin)
    # only the log and the Notion read cache, no source
    assert git(origin, "ls-tree", "--name-only", root).split() == ["notion-reads.json", "runs.jsonl"]
    written = writes(sandbox)
    assert written > 0

    second = runner(fresh_clone(origin, tmp_path / "second-runner"), sandbox).run()
    assert not second.failed, failure_text(second)
    assert "Run log: 1 run(s) restored from branch reconcile-run-log." in second.step("Restore").stdout
    assert writes(sandbox) == written  # the second apply had nothing to do
    assert "Notion read: services incremental (" in second.step("Apply").stdout  # the read cache came back too
    assert len(kept_log(origin)) == 2
    assert branch_commits(origin)[1:] == [root]  # one commit per run, on top of the last
    assert "reconcile runs" in second.summary


def test_a_run_log_branch_that_cannot_be_read_stops_the_run_before_apply(tmp_path: Path, sandbox: Any) -> None:
    _, workspace = checkout(tmp_path, {"mappings.yaml": (REPO / "mappings.yaml").read_text(encoding="utf-8")})
    git(workspace, "remote", "set-url", "origin", str(tmp_path / "no-such-origin.git"))
    result = runner(workspace, sandbox).run()
    assert result.failed
    assert "::error title=reconcile run log::cannot read branch reconcile-run-log" in result.step("Restore").stdout
    assert not result.step("Apply").ran
    assert writes(sandbox) == 0


def failure_text(result: JobResult) -> str:
    return "\n".join(f"--- {s.name} (exit {s.code})\n{s.stdout}\n{s.stderr}" for s in result.steps if s.ran)
