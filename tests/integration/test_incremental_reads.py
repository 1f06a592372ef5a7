"""Incremental Notion reads through the CLI, against the sandbox: what a run reads, what it says, what it keeps.

Calls are counted from the sandbox's request log. A plan made after an apply reads only the pages
edited since the last read (one query of live pages and one of the trash per resource) and says so;
`--refresh full`, a damaged cache, or a cache made otherwise reads every page; a read that fails
leaves the cache as it was.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.common import notion, run
from tests.support.reliability import write_config

SandboxServer = pytest.importorskip("notion_sandbox.server").SandboxServer

pytestmark = pytest.mark.slow  # end-to-end runs of the CLI against the sandbox

ALLOWLIST = ["barnet", "buckinghamshire", "camden", "lambeth", "medway", "southwark"]
QUERY = "POST /v1/data_sources/{id}/query"
CACHE = Path(".reconcile/cache/notion-reads.json")


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with SandboxServer(port=0, seed="planx", rate_limit=None) as sb:
        for name, value in sb.seed_info["env"].items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("NOTION_RATE_LIMIT", "0")
        monkeypatch.chdir(tmp_path)
        yield sb


@pytest.fixture
def config(tmp_path: Path) -> str:
    def fewer(document: dict[str, Any]) -> None:
        document["jobs"]["planx-live-services"]["source"]["allowlist"] = ALLOWLIST

    return str(write_config(tmp_path, edit=fewer))


def plan_json(sb: Any, config: str, *args: str) -> tuple[dict[str, Any], dict[str, int]]:
    """The plan's JSON form and the Notion calls it took, by route."""
    sb.admin.clear_requests()
    result = run("plan", "-c", config, "--format", "json", *args)
    assert result.exit_code == 0, result.output
    calls = {k: v for k, v in sb.admin.requests()["by_route"].items() if not k.startswith("POST /v1/graphql")}
    return json.loads(result.output), calls


def modes(plan: dict[str, Any]) -> dict[str, str]:
    return {r["resource"]: r["mode"] for r in plan["reads"]}


def applied(sb: Any, config: str) -> None:
    assert run("apply", "-c", config, "--auto-approve", "-q").exit_code == 0
    sb.admin.advance_clock(3_600_000)  # an hour passes (the virtual clock only; nothing else waits)


def test_after_an_apply_a_plan_reads_only_what_changed_and_says_so(sandbox: Any, config: str) -> None:
    sandbox.admin.settings(clock_step_ms=1000)
    applied(sandbox, config)
    plan_json(sandbox, config)  # reads back once what the apply wrote
    sandbox.admin.advance_clock(3_600_000)

    plan, calls = plan_json(sandbox, config)

    assert modes(plan) == {"services": "incremental", "councils": "incremental"}
    assert all(r["pages_read"] == 0 for r in plan["reads"]), plan["reads"]
    assert not plan["actions"]
    # Per resource: its database, its data source, the edited pages and the trashed ones; no page by
    # id, no page body: who the integration is, once, tells that the snapshots' bodies are as written.
    assert calls == {"GET /v1/databases/{id}": 2, "GET /v1/data_sources/{id}": 2, QUERY: 4, "GET /v1/users/me": 1}


def test_a_persons_edit_in_the_same_minute_as_the_run_is_read_and_planned(sandbox: Any, config: str) -> None:
    applied(sandbox, config)
    plan_json(sandbox, config)
    services = notion(sandbox).data_sources.query(
        data_source_id=sandbox.seed_info["databases"]["services"]["data_source_id"]
    )
    page = services["results"][0]
    notion(sandbox).pages.update(page_id=page["id"], properties={"Description": {"rich_text": []}})

    plan, _ = plan_json(sandbox, config)

    assert modes(plan)["services"] == "incremental"
    assert [a["action"] for a in plan["actions"] if a["page_id"] == page["id"]] == ["update"]


def test_refresh_full_reads_every_page_and_the_text_plan_says_why(sandbox: Any, config: str) -> None:
    applied(sandbox, config)
    sandbox.admin.clear_requests()
    result = run("plan", "-c", config, "--refresh", "full")
    assert result.exit_code == 0, result.output
    assert "Notion read: services full (6 pages read; --refresh full)." in result.output
    assert "Notion read: councils full (" in result.output
    # One query per resource and no trash query: the full read of today's floor.
    assert sandbox.admin.requests()["by_route"][QUERY] == 2
    markdown = run("plan", "-c", config, "--format", "markdown").output
    assert "Notion read: `services` incremental" in markdown


def test_a_damaged_cache_is_a_warning_and_a_full_read_then_the_cache_is_whole_again(sandbox: Any, config: str) -> None:
    applied(sandbox, config)
    CACHE.write_text('{"format": 1, "resources": {"services": {"key": 3}}}', encoding="utf-8")

    result = run("plan", "-c", config)

    assert result.exit_code == 0, result.output
    assert "read_cache_unreadable" in result.output and "every resource was read in full" in result.output
    assert "Notion read: services full (" in result.output
    plan, _ = plan_json(sandbox, config)
    assert modes(plan) == {"services": "incremental", "councils": "incremental"}
    assert not [d for d in plan["diagnostics"] if d["code"] == "read_cache_unreadable"]


def test_a_cache_made_by_another_integration_or_config_is_not_used(sandbox: Any, config: str, tmp_path: Path) -> None:
    applied(sandbox, config)
    lines = [json.loads(line) for line in CACHE.read_text(encoding="utf-8").splitlines()]
    [services] = [line for line in lines if isinstance(line, dict) and line.get("resource") == "services"]
    services["key"]["integration"] = "0123456789abcdef"
    CACHE.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")

    plan, _ = plan_json(sandbox, config)
    assert modes(plan) == {"services": "full", "councils": "incremental"}
    assert "another integration" in plan["reads"][0]["reason"]

    edited = Path(config).read_text(encoding="utf-8").replace("max_plan_age: 24h", "max_plan_age: 12h")
    other = tmp_path / "other.yaml"
    other.write_text(edited, encoding="utf-8")
    plan, _ = plan_json(sandbox, str(other))
    assert modes(plan) == {"services": "full", "councils": "full"}
    assert all("another config" in r["reason"] for r in plan["reads"])


def test_a_read_that_fails_leaves_the_cache_as_it_was(sandbox: Any, config: str) -> None:
    applied(sandbox, config)
    before = CACHE.read_bytes()
    rule = {"method": "POST", "route": "/v1/data_sources/{id}/query", "fault": {"status": 503}, "every": 1}
    sandbox.admin.add_faults([rule])  # every query fails, retries too

    result = run("plan", "-c", config)

    assert result.exit_code == 1
    assert CACHE.read_bytes() == before
