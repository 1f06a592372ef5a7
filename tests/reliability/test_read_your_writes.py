"""Read your own writes: back-to-back runs against a Notion whose query index lags behind writes.

The sandbox here shows every write to queries only a minute later (retrieving a page by id is
immediate, as in Notion), so every run below meets an index that has not seen the run before it.
The run log tells the next plan which pages this machine wrote; the plan reads by id those a query
shows otherwise, and those it would write again, and nothing else. Calls are counted from the
sandbox's request log.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from notion_sandbox.server import SandboxServer
from tests.support.common import run, writes
from tests.support.reliability import assert_converged, notion_state, write_config
from tests.support.sandbox import settled

pytestmark = pytest.mark.slow  # end-to-end runs of the CLI against the sandbox

LAG_MS = 60_000  # longer than any test here: the index never catches up by itself
PAGE_READ = "GET /v1/pages/{id}"
ALLOWLIST = ["barnet", "buckinghamshire", "camden", "lambeth", "medway", "southwark"]
LINKED = 4  # barnet, buckinghamshire, lambeth, medway have a Councils page carrying their key


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with SandboxServer(port=0, seed="planx", rate_limit=None, query_lag_ms=LAG_MS) as sb:
        for name, value in sb.seed_info["env"].items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("NOTION_RATE_LIMIT", "0")
        monkeypatch.chdir(tmp_path)
        yield sb


def config_for(directory: Path, **notion: Any) -> Path:
    def fewer(document: dict[str, Any]) -> None:
        document["jobs"]["planx-live-services"]["source"]["allowlist"] = ALLOWLIST

    return write_config(directory, notion=notion, edit=fewer)


def calls(sb: Any, route: str) -> int:
    return int(sb.admin.requests()["by_route"].get(route, 0))


def page_reads_of_next_plan(sb: Any, config: Path) -> tuple[Any, int]:
    sb.admin.clear_requests()
    plan = run("plan", "-c", str(config), "--detailed-exitcode")
    return plan, calls(sb, PAGE_READ)


def with_new_flow(snapshot: dict[str, Any], slugs: set[str]) -> dict[str, Any]:
    for team in snapshot["teams"]:
        if team["slug"] in slugs:
            new = {**team["flows"][0], "id": f"{team['id']:08x}-0000-4000-8000-ffffffffffff", "slug": "new"}
            team["flows"] = [*team["flows"], {**new, "name": "A new service"}]
    return snapshot


def test_a_plan_right_after_apply_reads_the_pages_it_created_by_id_and_plans_nothing(
    sandbox: Any, tmp_path: Path
) -> None:
    config = config_for(tmp_path)
    assert run("apply", "-c", str(config), "--auto-approve").exit_code == 0

    plan, page_reads = page_reads_of_next_plan(sandbox, config)

    assert plan.exit_code == 0, plan.output
    # One read per page the apply created (the query does not list them yet); and one per council
    # it stamped: the lagging query shows them unstamped while their snapshots (read by id) relate
    # to them, so Notion's own evidence says a stamp is owed, and the plan reads them by id before
    # it would write them again (then it writes none).
    assert page_reads == len(ALLOWLIST) + LINKED
    sandbox.admin.clear_requests()
    assert run("apply", "-c", str(config), "--auto-approve").exit_code == 0
    assert writes(sandbox) == 0
    with settled(sandbox):
        assert_converged(sandbox, config=config)


def test_without_the_window_the_lagging_index_would_make_duplicates(sandbox: Any, tmp_path: Path) -> None:
    config = config_for(tmp_path, index_lag_seconds=0)  # trust the queries
    assert run("apply", "-c", str(config), "--auto-approve").exit_code == 0

    plan, page_reads = page_reads_of_next_plan(sandbox, config)

    assert plan.exit_code == 2 and f"Plan: {len(ALLOWLIST)} to create" in plan.output
    assert page_reads == 0


def test_once_the_index_caught_up_or_the_last_run_is_old_no_page_is_read(sandbox: Any, tmp_path: Path) -> None:
    config = config_for(tmp_path)
    assert run("apply", "-c", str(config), "--auto-approve").exit_code == 0
    sandbox.admin.settle()  # Notion's index caught up with the run

    plan, page_reads = page_reads_of_next_plan(sandbox, config)
    assert plan.exit_code == 0, plan.output
    assert page_reads == 0

    # The nightly case: the last run finished hours ago.
    log = Path(".reconcile/runs.jsonl")
    records = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    hours_ago = (datetime.now(UTC) - timedelta(hours=20)).isoformat().replace("+00:00", "Z")
    log.write_text("".join(json.dumps({**r, "finished_at": hours_ago}) + "\n" for r in records), encoding="utf-8")
    plan, page_reads = page_reads_of_next_plan(sandbox, config)
    assert plan.exit_code == 0, plan.output
    assert page_reads == 0


def test_a_page_archived_moments_ago_is_restored_not_created_again(sandbox: Any, tmp_path: Path) -> None:
    config = config_for(tmp_path)
    assert run("apply", "-c", str(config), "--auto-approve").exit_code == 0
    sandbox.admin.settle()
    medway = notion_state(sandbox).page_ids["medway"]
    snapshot = sandbox.admin.planx()
    sandbox.admin.put_planx({**snapshot, "teams": [t for t in snapshot["teams"] if t["slug"] != "medway"]})
    assert run("apply", "-c", str(config), "--auto-approve").exit_code == 0

    # Medway comes back at once: the query still lists its page as live and the trash as empty.
    sandbox.admin.put_planx(snapshot)
    plan, page_reads = page_reads_of_next_plan(sandbox, config)
    assert plan.exit_code == 2 and "Plan: 0 to create, 0 to update, 0 to archive, 1 to restore" in plan.output
    # Medway's page (trashed by the last run, live in the query), then Medway's council (stamped by
    # the last run, stamped again by this plan: read before planning once more).
    assert page_reads == 2
    assert run("apply", "-c", str(config), "--auto-approve").exit_code == 0
    with settled(sandbox):
        state = assert_converged(sandbox, config=config)
    assert state.page_ids["medway"] == medway


def test_updates_made_moments_ago_are_not_sent_again(sandbox: Any, tmp_path: Path) -> None:
    config = config_for(tmp_path)
    assert run("apply", "-c", str(config), "--auto-approve").exit_code == 0
    sandbox.admin.settle()
    changed = {"barnet", "camden"}  # one linked to a council, one not
    sandbox.admin.put_planx(with_new_flow(sandbox.admin.planx(), changed))
    updated = run("apply", "-c", str(config), "--auto-approve")
    assert updated.exit_code == 0 and "2 to update" in updated.output

    plan, page_reads = page_reads_of_next_plan(sandbox, config)

    # The query still shows the two pages as they were, so the first plan would update them again
    # (and stamp Barnet's council): those three are read by id, and the plan made again is empty.
    assert plan.exit_code == 0, plan.output
    assert page_reads == 3
    sandbox.admin.clear_requests()
    assert run("apply", "-c", str(config), "--auto-approve").exit_code == 0
    assert writes(sandbox) == 0
    with settled(sandbox):
        assert_converged(sandbox, config=config)
