"""The plan workflow's shell steps, run with bash against the sandbox and a fake `gh`.

What the pull request sees: one comment, found by its hidden marker and edited in place on every
push; a failed plan (exit 1, 3 or 130) fails the job and replaces the comment's plan with the
error; the read-only NOTION_PLAN_TOKEN is used for planning when it is configured.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.actions import FakeGitHub, JobResult, Runner, checkout

SandboxServer = pytest.importorskip("notion_sandbox.server").SandboxServer

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / ".github" / "workflows" / "plan.yml"
MARKER = "<!-- reconcile-plan -->"
PLAN_TOKEN = "ntn_plan_read_only_0001"
WRITE_TOKEN = "ntn_apply_read_write_0002"

pytestmark = [
    pytest.mark.skipif(shutil.which("jq") is None, reason="jq (preinstalled on GitHub's runners) is not installed"),
    pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed"),
]


@pytest.fixture
def sandbox() -> Iterator[Any]:
    """A PlanX sandbox that knows two integrations: the plan's (read content only) and apply's."""
    with SandboxServer(port=0, seed="planx", rate_limit=None, tokens=(f"{PLAN_TOKEN}:read", WRITE_TOKEN)) as sb:
        yield sb


@pytest.fixture
def gh(tmp_path: Path) -> FakeGitHub:
    state = tmp_path / "github"
    state.mkdir()
    return FakeGitHub(state)


def runner(tmp_path: Path, sandbox: Any, gh: FakeGitHub, *, secrets: dict[str, str] | None = None) -> Runner:
    workspace = tmp_path / "workspace"
    if not workspace.exists():
        checkout(tmp_path, {"mappings.yaml": (REPO / "mappings.yaml").read_text(encoding="utf-8")})
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    gh.install(bin_dir)
    env = sandbox.seed_info["env"]
    return Runner(
        workflow=WORKFLOW,
        workspace=workspace,
        bin_dir=bin_dir,
        secrets=secrets if secrets is not None else {"NOTION_TOKEN": WRITE_TOKEN, "NOTION_PLAN_TOKEN": PLAN_TOKEN},
        vars={"COUNCILS_DB_ID": env["COUNCILS_DB_ID"], "SERVICES_DB_ID": env["SERVICES_DB_ID"]},
        github={"repository": "council-ops/reconcile", "run_id": "42", "event": {"pull_request": {"number": 7}}},
        # Where the runner would reach the real Notion and PlanX, the sandbox answers.
        base_env={
            "NOTION_BASE_URL": env["NOTION_BASE_URL"],
            "PLANX_GRAPHQL_URL": env["PLANX_GRAPHQL_URL"],
            "NOTION_RATE_LIMIT": "0",
        },
    )


def comment_bodies(gh: FakeGitHub) -> list[str]:
    return [c["body"] for c in gh.comments()]


@pytest.mark.slow
def test_a_plan_with_changes_is_commented_once_and_edited_in_place_on_the_next_push(
    tmp_path: Path, sandbox: Any, gh: FakeGitHub
) -> None:
    first = runner(tmp_path, sandbox, gh).run()
    assert not first.failed, failure_text(first)
    assert first.step("Validate and plan").outputs == {"exit_code": "2", "changes": "true"}
    [body] = comment_bodies(gh)
    assert body.startswith(MARKER + "\n")
    plan_md = (tmp_path / "workspace" / "plan.md").read_text(encoding="utf-8")
    assert body == f"{MARKER}\n{plan_md}" and "**Plan: 1 schema change, 22 to create" in plan_md
    assert plan_md in first.summary
    assert gh.methods() == ["GET", "POST"]

    second = runner(tmp_path, sandbox, gh).run()
    assert not second.failed, failure_text(second)
    assert gh.methods() == ["GET", "POST", "GET", "PATCH"]
    assert [c["id"] for c in gh.comments()] == [1001]
    assert comment_bodies(gh)[0].startswith(MARKER)


@pytest.mark.slow
def test_other_comments_are_left_alone_and_surplus_plan_parts_are_deleted(
    tmp_path: Path, sandbox: Any, gh: FakeGitHub
) -> None:
    bot = {"login": "github-actions[bot]", "type": "Bot"}
    person = {"login": "reviewer", "type": "User"}
    gh.set_comments(
        [
            {"id": 1, "body": "Looks good to me", "user": person},
            {"id": 2, "body": f"{MARKER}\nold plan, part 1", "user": bot},
            {"id": 3, "body": f"quoting:\n{MARKER}\nold plan", "user": person},
            {"id": 4, "body": f"{MARKER}\nold plan, part 2", "user": bot},
            {"id": 5, "body": f"{MARKER}\na person pasted the marker", "user": person},
        ]
    )
    result = runner(tmp_path, sandbox, gh).run()
    assert not result.failed, failure_text(result)
    by_id = {c["id"]: c["body"] for c in gh.comments()}
    assert sorted(by_id) == [1, 2, 3, 5]  # part 2 of the old plan is gone, the people's stay
    assert by_id[2].startswith(MARKER) and "old plan" not in by_id[2]
    assert by_id[1] == "Looks good to me" and by_id[5].endswith("a person pasted the marker")
    assert gh.methods() == ["GET", "PATCH", "DELETE"]


@pytest.mark.slow
def test_no_changes_is_exit_0_and_the_comment_says_so(
    tmp_path: Path, sandbox: Any, gh: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the apply below keeps its run log there
    apply_everything(sandbox)  # the planx seed has work to do: done, nothing is left to plan
    result = runner(tmp_path, sandbox, gh).run()
    assert not result.failed, failure_text(result)
    assert result.step("Validate and plan").outputs == {"exit_code": "0", "changes": "false"}
    [body] = comment_bodies(gh)
    assert "No changes" in body


def test_a_plan_error_fails_the_job_and_replaces_the_plan_in_the_comment(
    tmp_path: Path, sandbox: Any, gh: FakeGitHub
) -> None:
    gh.set_comments([{"id": 9, "body": f"{MARKER}\nan older plan", "user": {"type": "Bot"}}])
    run = runner(tmp_path, sandbox, gh)
    run.vars["SERVICES_DB_ID"] = ""  # as when the repository variable was never set
    result = run.run()
    assert result.failed
    assert result.step("Validate and plan").outputs == {"exit_code": "1"}
    assert result.step("Fail when no plan could be made").code == 1
    [body] = comment_bodies(gh)
    assert "reconcile plan failed (exit 1)" in body and "an older plan" not in body
    assert "SERVICES_DB_ID" in body


@pytest.mark.parametrize("code", [3, 130])
def test_a_crash_or_an_interrupt_fails_the_job_instead_of_reading_as_no_changes(
    tmp_path: Path, sandbox: Any, gh: FakeGitHub, code: int
) -> None:
    run = runner(tmp_path, sandbox, gh)
    # `reconcile plan` ends as a crash (3) or a Ctrl-C (130) would; every other command is the real one.
    shim = run.bin_dir / "reconcile"
    real = shutil.which("reconcile")
    assert real is not None
    script = f'if [ "$1" = plan ]; then echo "reconcile stopped" >&2; exit {code}; fi\nexec {real} "$@"\n'
    shim.write_text(f"#!/usr/bin/env bash\n{script}", encoding="utf-8")
    shim.chmod(0o755)
    result = run.run()
    assert result.failed
    assert result.step("Validate and plan").outputs == {"exit_code": str(code)}
    assert f"reconcile plan failed (exit {code})" in comment_bodies(gh)[0]


@pytest.mark.slow
def test_planning_uses_the_read_only_token_when_one_is_configured(tmp_path: Path, sandbox: Any, gh: FakeGitHub) -> None:
    # NOTION_TOKEN is one the sandbox does not know: the plan succeeds only with the read-only token.
    secrets = {"NOTION_TOKEN": "ntn_unknown_to_notion_9", "NOTION_PLAN_TOKEN": PLAN_TOKEN}
    result = runner(tmp_path, sandbox, gh, secrets=secrets).run()
    assert result.step("Validate and plan").outputs["exit_code"] == "2", failure_text(result)
    fallback = runner(tmp_path, sandbox, gh, secrets={"NOTION_TOKEN": WRITE_TOKEN}).run()
    assert fallback.step("Validate and plan").outputs["exit_code"] == "2"  # no plan token: NOTION_TOKEN
    refused = runner(tmp_path, sandbox, gh, secrets={"NOTION_TOKEN": "ntn_unknown_to_notion_9"}).run()
    assert refused.step("Validate and plan").outputs["exit_code"] == "1"


def apply_everything(sandbox: Any) -> None:
    from click.testing import CliRunner

    from reconcile.cli import cli

    env = {**sandbox.seed_info["env"], "NOTION_TOKEN": WRITE_TOKEN, "NOTION_RATE_LIMIT": "0"}
    out = CliRunner(env=env).invoke(cli, ["apply", "-c", str(REPO / "mappings.yaml"), "--auto-approve"])
    assert out.exit_code == 0, out.output


def failure_text(result: JobResult) -> str:
    return "\n".join(f"--- {s.name} (exit {s.code})\n{s.stdout}\n{s.stderr}" for s in result.steps if s.ran)
