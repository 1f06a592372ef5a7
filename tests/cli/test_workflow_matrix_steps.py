"""The matrix example's shell steps, run with bash against the sandbox and a local git `origin`:
two disjoint jobs applied side by side, each with its own Notion budget, run log and branch, then
their logs merged into one history and one HTML report (runs ordered by time, labelled by log)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cli.test_cli_workflows import check_invocation, reconcile_invocations
from tests.support.actions import JobResult, Runner, checkout, git
from tests.support.common import run
from tests.support.jobs import prepare_example_workspace

SandboxServer = pytest.importorskip("notion_sandbox.server").SandboxServer

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / ".github" / "workflows" / "apply-matrix.yml"

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


@pytest.fixture
def sandbox() -> Iterator[Any]:
    with SandboxServer(port=0, seed="planx", rate_limit=None) as sb:
        yield sb


def one_job(tmp: Path, job: str, matrix: dict[str, str] | None = None) -> Path:
    """The workflow with only `job`, its `matrix.*` written in: what one runner of the matrix runs."""
    text = WORKFLOW.read_text(encoding="utf-8")
    for key, value in (matrix or {}).items():
        text = text.replace(f"matrix.{key}", repr(value))
    document = yaml.safe_load(text)
    document["jobs"] = {job: document["jobs"][job]}
    path = tmp / f"{job}-{(matrix or {}).get('job', 'all')}.yml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def runner(workflow: Path, workspace: Path, sandbox: Any, env: dict[str, str]) -> Runner:
    bin_dir = workspace.parent / "bin"
    bin_dir.mkdir(exist_ok=True)
    return Runner(
        workflow=workflow,
        workspace=workspace,
        bin_dir=bin_dir,
        secrets={"NOTION_TOKEN": env["NOTION_TOKEN"]},
        vars={k: env[k] for k in ("COUNCILS_DB_ID", "SERVICES_DB_ID", "SERVICES_DETAILED_DB_ID")},
        github={"repository": "council-ops/reconcile", "run_id": "2002"},
        base_env={
            "NOTION_BASE_URL": env["NOTION_BASE_URL"],
            "PLANX_GRAPHQL_URL": env["PLANX_GRAPHQL_URL"],
            "PLANNING_DATA_URL": env["PLANNING_DATA_URL"],
        },
    )


def matrix_entries() -> list[dict[str, str]]:
    document = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    return list(document["jobs"]["apply"]["strategy"]["matrix"]["include"])


def failure_text(result: JobResult) -> str:
    return "\n".join(f"--- {s.name} (exit {s.code})\n{s.stdout}\n{s.stderr}" for s in result.steps if s.ran)


def test_the_matrix_names_disjoint_jobs_of_the_config_and_real_commands() -> None:
    document = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    scripts = [s["run"] for job in document["jobs"].values() for s in job["steps"] if "run" in s]
    invocations = [i for script in scripts for i in reconcile_invocations(script)]
    assert len(invocations) == 3
    for args in invocations:
        check_invocation(args)
    jobs = [entry["job"] for entry in matrix_entries()]
    config = yaml.safe_load((REPO / "examples" / "all-jobs.yaml").read_text(encoding="utf-8"))
    assert len(set(jobs)) == len(jobs) and set(jobs) <= set(config["jobs"])
    # Jobs sharing a token share its integration's limit: their rates add up to at most Notion's 3/s.
    by_token: dict[str, float] = {}
    for entry in matrix_entries():
        by_token[entry["token"]] = by_token.get(entry["token"], 0.0) + float(entry["rate_limit"])
    assert all(total <= 3 for total in by_token.values()), by_token


@pytest.mark.slow
def test_each_job_keeps_its_own_log_and_the_merge_step_makes_one_history_and_report(
    tmp_path: Path, sandbox: Any
) -> None:
    env = prepare_example_workspace(sandbox)
    config = (REPO / "examples" / "all-jobs.yaml").read_text(encoding="utf-8")
    origin, _ = checkout(tmp_path, {"mappings.yaml": config})
    artifacts = tmp_path / "artifacts"
    budgets = {}
    for entry in matrix_entries():
        workspace = tmp_path / f"runner-{entry['job']}"
        git(tmp_path, "clone", "-q", "--branch", "main", str(origin), str(workspace))
        # The sandbox runs unlimited here (NOTION_RATE_LIMIT 0; the rates are checked above, speed is
        # benchmarked): each runner still gets its entry's budget through the same variable.
        unlimited = {**entry, "rate_limit": "0"}
        result = runner(one_job(tmp_path, "apply", unlimited), workspace, sandbox, env).run()
        assert not result.failed, failure_text(result)
        assert f"Run log of {entry['job']} kept on branch reconcile-run-log-{entry['job']}" in result.stdout
        log = workspace / ".reconcile" / "runs.jsonl"
        [record] = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
        assert record["jobs"] == [entry["job"]] and record["status"] == "ok"
        budgets[entry["job"]] = record["api_calls"]["total"]
        # what actions/upload-artifact and download-artifact leave: run-logs/run-log-<job>/runs.jsonl
        target = artifacts / "run-logs" / f"run-log-{entry['job']}"
        target.mkdir(parents=True)
        shutil.copy(log, target / "runs.jsonl")
    assert all(calls > 0 for calls in budgets.values()), budgets
    branches = git(origin, "branch", "--list", "reconcile-run-log-*").split()
    assert sorted(branches) == sorted(f"reconcile-run-log-{e['job']}" for e in matrix_entries())

    git(tmp_path, "clone", "-q", "--branch", "main", str(origin), str(tmp_path / "report-runner"))
    shutil.copytree(artifacts / "run-logs", tmp_path / "report-runner" / "run-logs")
    merged = runner(one_job(tmp_path, "report"), tmp_path / "report-runner", sandbox, env).run()
    assert not merged.failed, failure_text(merged)
    summary = merged.summary
    for entry in matrix_entries():
        assert f"run-log-{entry['job']}" in summary
    lines = [line for line in summary.splitlines() if line.startswith("run-log-")]
    assert [line.split()[0] for line in lines] == [f"run-log-{e['job']}" for e in matrix_entries()]  # by time
    html = (tmp_path / "report-runner" / "run-report.html").read_text(encoding="utf-8")
    assert "2 run(s) in" in html
    for entry in matrix_entries():
        assert f"log run-log-{entry['job']}" in html and entry["job"] in html


def test_history_and_report_merge_several_run_logs_ordered_by_time(tmp_path: Path) -> None:
    def line(run_id: str, started: str, job: str, status: str = "ok") -> str:
        record = {"record_type": "run", "run_id": run_id, "started_at": started, "jobs": [job], "status": status}
        return json.dumps(record) + "\n"

    planx, pd = tmp_path / "logs" / "planx.jsonl", tmp_path / "logs" / "pd.jsonl"
    planx.parent.mkdir()
    planx.write_text(line("p1", "2026-03-01T02:00:00.000Z", "planx") + line("p2", "2026-03-02T02:00:00.000Z", "planx"))
    pd.write_text(line("d1", "2026-03-01T03:00:00.000Z", "pd", "failed"))
    shown = run("history", "--run-log", str(planx), "--run-log", str(pd))
    assert shown.exit_code == 0, shown.output
    rows = [line.split()[:4] for line in shown.output.splitlines()[2:]]
    assert rows == [
        ["planx", "p1", "2026-03-01T02:00:00.000Z", "ok"],
        ["pd", "d1", "2026-03-01T03:00:00.000Z", "failed"],
        ["planx", "p2", "2026-03-02T02:00:00.000Z", "ok"],
    ]
    as_json = json.loads(run("history", "--run-log", str(planx), "--run-log", str(pd), "--json").output)
    assert [(r["log"], r["run_id"]) for r in as_json] == [("planx", "p1"), ("pd", "d1"), ("planx", "p2")]
    detail = run("history", "d1", "--run-log", str(planx), "--run-log", str(pd))
    assert "run log pd" in detail.output
    one = json.loads(run("history", "--run-log", str(planx), "--json").output)
    assert "log" not in one[0]  # one log reads as before
    report = tmp_path / "report.html"
    made = run("report", "--run-log", str(planx), "--run-log", str(pd), "--html", str(report))
    assert made.exit_code == 0 and "3 run(s)" in made.output
    html = report.read_text(encoding="utf-8")
    assert html.index('id="p2"') < html.index('id="d1"') < html.index('id="p1"')  # newest first
    assert "log pd" in html and "log planx" in html
