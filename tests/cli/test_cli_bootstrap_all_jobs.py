"""`reconcile bootstrap -c examples/all-jobs.yaml` on an empty sandbox, then `reconcile apply`: all
four jobs run without a manual step, and a second apply writes nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.common import run, writes

pytestmark = pytest.mark.slow

SandboxServer = pytest.importorskip("notion_sandbox.server").SandboxServer
REPO = Path(__file__).resolve().parents[2]
SCHEMA_UPDATES = "PATCH /v1/data_sources/{id}"
JOBS = ("planx-live-services", "planx-services-detailed", "planning-data-entities", "planning-data-presence")


@pytest.fixture
def empty_sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with SandboxServer(port=0, seed="empty", rate_limit=None) as sb:
        for name, value in sb.seed_info["env"].items():
            monkeypatch.setenv(name, value)
        for name in ("SERVICES_DB_ID", "SERVICES_DETAILED_DB_ID", "COUNCILS_DB_ID"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.chdir(tmp_path)
        yield sb


def fast_copy(tmp_path: Path) -> str:
    text = (REPO / "examples" / "all-jobs.yaml").read_text(encoding="utf-8")
    path = tmp_path / "all-jobs.yaml"
    path.write_text(text.replace("rate_limit: 3 ", "rate_limit: 100 ").replace("burst: 3", "burst: 20"))
    return str(path)


def data_source(sb: Any, database_id: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {sb.seed_info['token']}", "Notion-Version": "2025-09-03"}
    database = httpx.get(f"{sb.url}/v1/databases/{database_id}", headers=headers).json()
    return dict(httpx.get(f"{sb.url}/v1/data_sources/{database['data_sources'][0]['id']}", headers=headers).json())


def test_bootstrap_then_apply_runs_all_four_jobs_and_a_second_apply_writes_nothing(
    empty_sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = fast_copy(tmp_path)
    out = run("bootstrap", "--parent-page", empty_sandbox.seed_info["parent_page_id"], "-c", config)
    assert out.exit_code == 0, out.output
    ids = dict(re.findall(r"^export ([A-Z_]+)=(\S+)$", out.output, flags=re.M))
    assert set(ids) == {"SERVICES_DB_ID", "SERVICES_DETAILED_DB_ID", "COUNCILS_DB_ID"}
    councils = data_source(empty_sandbox, ids["COUNCILS_DB_ID"])["properties"]
    detailed = data_source(empty_sandbox, ids["SERVICES_DETAILED_DB_ID"])["properties"]
    services = data_source(empty_sandbox, ids["SERVICES_DB_ID"])["properties"]
    # Every property any job maps on Councils, update-only resources included.
    for name, kind in {
        "ExternalCustomerID": "rich_text",
        "Integration Last Updated": "date",
        "Reference Code": "rich_text",
        "PD Entity": "number",
        "PD-Article4": "checkbox",
        "PD-TreePreservationZone": "checkbox",
    }.items():
        assert councils[name]["type"] == kind, name
    # Both relations into Councils exist, and their other sides have distinct names.
    assert services["Councils"]["type"] == detailed["Councils"]["type"] == "relation"
    sides = {services["Councils"]["relation"]["dual_property"]["synced_property_name"]}
    sides.add(detailed["Councils"]["relation"]["dual_property"]["synced_property_name"])
    assert len(sides) == 2 and sides <= set(councils)
    # The report is what Notion read back: every "Created" line names only properties that exist.
    created = [line for line in out.output.splitlines() if line.startswith("Created ")]
    assert len(created) == 3
    for line in created:
        if not line.startswith("Created 'Councils'"):
            assert "Councils (relation to 'Councils', synced with" in line, line

    for name, value in ids.items():
        monkeypatch.setenv(name, value)
    checked = run("validate", "-c", config)
    assert checked.exit_code == 0, checked.output
    assert len([line for line in checked.output.splitlines() if "valid" in line]) == 1

    empty_sandbox.admin.clear_requests()
    applied = run("apply", "-c", config, "--auto-approve")
    assert applied.exit_code == 0, applied.output
    for job in JOBS:
        assert f"({job})" in applied.output, job
    assert writes(empty_sandbox) > 0

    empty_sandbox.admin.clear_requests()
    again = run("apply", "-c", config, "--auto-approve")
    assert again.exit_code == 0, again.output
    by_route = empty_sandbox.admin.requests()["by_route"]
    assert writes(empty_sandbox) == 0 and by_route.get(SCHEMA_UPDATES, 0) == 0
