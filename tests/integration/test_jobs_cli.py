"""examples/all-jobs.yaml through the real CLI: validate, plan, apply, converge, per-job run records."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reconcile.cli import cli
from reconcile.runlog import job_split
from tests.support.common import run, writes
from tests.support.jobs import EXAMPLES, prepare_example_workspace

pytestmark = pytest.mark.slow

SandboxServer = pytest.importorskip("notion_sandbox.server").SandboxServer
JOBS = ("planx-live-services", "planx-services-detailed", "planning-data-entities", "planning-data-presence")


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with SandboxServer(port=0, seed="planx", rate_limit=None) as sb:
        for name, value in prepare_example_workspace(sb).items():
            monkeypatch.setenv(name, value)
        sb.admin.clear_requests()  # count only the runs' own writes
        monkeypatch.chdir(tmp_path)
        yield sb


def fast_copy(tmp_path: Path) -> str:
    """all-jobs.yaml as shipped, but paced for a local sandbox instead of Notion's 3 requests/s."""
    text = (EXAMPLES / "all-jobs.yaml").read_text(encoding="utf-8")
    assert "rate_limit: 3 " in text
    path = tmp_path / "all-jobs.yaml"
    path.write_text(text.replace("rate_limit: 3 ", "rate_limit: 50 ").replace("burst: 3", "burst: 10"))
    return str(path)


def test_validate_refuses_two_jobs_writing_one_property(tmp_path: Path) -> None:
    text = (EXAMPLES / "all-jobs.yaml").read_text(encoding="utf-8")
    clash = text.replace('PD-Trees: "response.tree.count > `0`"', 'PD Entity: "response.tree.count"')
    assert clash != text
    path = tmp_path / "clash.yaml"
    path.write_text(clash)
    env = {
        "SERVICES_DB_ID": "5e541ce5-0000-4000-8000-000000000001",
        "COUNCILS_DB_ID": "c0c11c00-0000-4000-8000-000000000001",
        "SERVICES_DETAILED_DB_ID": "de7a11ed-0000-4000-8000-000000000001",
    }
    result = CliRunner().invoke(cli, ["validate", "-c", str(path)], env=env)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert "property 'PD Entity' of database c0c11c00-0000-4000-8000-000000000001 is also written by" in lines[0]
    ok = CliRunner().invoke(cli, ["validate", "-c", str(EXAMPLES / "all-jobs.yaml")], env=env)
    assert ok.exit_code == 0 and "(4 job(s), 6 resource(s))" in ok.output


def test_all_jobs_plan_apply_converge_with_per_job_run_records(sandbox: Any, tmp_path: Path) -> None:
    config = fast_copy(tmp_path)
    first = run("plan", "-c", config, "--detailed-exitcode")
    assert first.exit_code == 2, first.output
    assert writes(sandbox) == 0
    applied = run("apply", "-c", config, "--auto-approve")
    assert applied.exit_code == 0, applied.output
    # Jobs are applied in turn, so the presence lookups already see the PD Entity values that the
    # entities job wrote in the same apply: one apply converges.
    before = writes(sandbox)
    last = run("plan", "-c", config, "--detailed-exitcode")
    assert last.exit_code == 0, last.output
    assert run("apply", "-c", config, "--auto-approve").exit_code == 0
    assert writes(sandbox) == before
    records = [json.loads(line) for line in Path(".reconcile/runs.jsonl").read_text().splitlines()]
    assert [r["jobs"] for r in records[: len(JOBS)]] == [[job] for job in JOBS]
    split = {job: job_split(r)[job] for r, job in zip(records, JOBS, strict=False)}
    assert split["planx-services-detailed"]["counts"] == {"create": 24}
    assert split["planning-data-entities"]["counts"] == {"update": 5}
    assert sum(split["planning-data-presence"]["counts"].values()) > 0


def test_a_failing_planning_data_source_stops_the_run_with_one_line(sandbox: Any, tmp_path: Path) -> None:
    sandbox.admin.add_faults([{"method": "GET", "route": "/entity.json", "fault": {"status": 409}, "every": 1}])
    config = fast_copy(tmp_path)
    result = run("apply", "-c", config, "--auto-approve", "--job", "planning-data-entities")
    assert result.exit_code == 1
    assert "Error: HTTP source" in result.output and "answered HTTP 409" in result.output
    assert writes(sandbox) == 0
    # With every job selected, the failing jobs are reported and the others still apply.
    everything = run("apply", "-c", config, "--auto-approve")
    assert everything.exit_code == 1
    assert "Error: job planning-data-entities: HTTP source" in everything.output
    assert "Apply complete (planx-live-services)" in everything.output
    assert writes(sandbox) > 0
