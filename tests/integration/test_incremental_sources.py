"""Incremental sources end to end against the sandbox (PlanX over GraphQL, Planning Data over HTTP):
a first full read, then only the changed records are fetched and written; a failed apply leaves the
cursor; an incremental run archives nothing; the periodic full read archives what left the source."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.common import run
from tests.support.jobs import prepare_example_workspace
from tests.support.reliability import last_record, planx_sandbox, write_config

pytestmark = pytest.mark.slow

JOB = "planx-live-services"
CHANGED_SINCE = """query GetOnlineServicesPerTeam($since: timestamptz!) {
  teams(where: {_or: [{updated_at: {_gte: $since}}, {flows: {updated_at: {_gte: $since}}}]}, order_by: {slug: asc}) {
    slug
    name
    updated_at
    flows(where: {status: {_eq: online}}, order_by: {name: asc}) { name slug updated_at }
  }
}
"""
CURSOR = "max([updated_at, max(flows[].updated_at) || updated_at])"


def incremental(document: dict[str, Any]) -> None:
    job = document["jobs"][JOB]
    job["source"]["graphql"]["query"] = CHANGED_SINCE
    job["source"]["incremental"] = {
        "cursor": CURSOR,
        "variable": "since",
        "buffer": "1s",
        "full_refresh": {"every": 3},
    }
    job["guards"]["min_records"] = 5  # a full read brings 22; a delta of one must not trip it


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with planx_sandbox(tmp_path, monkeypatch) as sb:
        yield sb


def apply(config: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    result = run("apply", "-c", str(config), "--auto-approve", *extra)
    assert Path(".reconcile/runs.jsonl").exists(), result.output
    return result.exit_code, last_record()


def edit_team(sb: Any, slug: str, change: dict[str, Any] | None) -> None:
    """Change (or, with None, remove) one team in the PlanX stand-in; its updated_at moves as Hasura's
    trigger moves it."""
    snapshot = sb.admin.planx()
    teams = []
    for team in snapshot["teams"]:
        if team["slug"] == slug:
            if change is None:
                continue
            team = {**team, **change}
        teams.append(team)
    sb.admin.put_planx({"teams": teams})


def written(record: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(o["action"], o["resource"], o["key"]) for o in record.get("outcomes") or [] if o["status"] == "ok"}


def test_changes_only_are_fetched_and_written_and_only_a_full_read_archives(sandbox: Any, tmp_path: Path) -> None:
    config = write_config(tmp_path, edit=incremental)

    code, first = apply(config)
    assert code == 0
    read = first["source_reads"][JOB]
    assert read["mode"] == "full" and "no cursor" in read["reason"]
    assert first["planned"]["create"] == 22
    assert first["record_counts"] == {JOB: 22} and read["records"] == 28  # records: before the allowlist

    edit_team(sandbox, "barnet", {"name": "London Borough of Barnet (renamed)"})
    code, second = apply(config)
    assert code == 0
    read = second["source_reads"][JOB]
    # Barnet, and the team the cursor came from: `_gte` the cursor less the buffer reads it again
    # (and plans no write for it).
    assert (read["mode"], read["records"]) == ("incremental", 2)
    assert read["since"] < read["cursor"] and read["cursor"] > first["source_reads"][JOB]["cursor"]
    assert written(second) == {("update", "services", "barnet"), ("touch", "councils", "barnet")}
    assert "record_counts" not in second or JOB not in second["record_counts"]  # a delta is not a source size

    # A failed apply keeps no cursor: the next run asks again from the same one.
    edit_team(sandbox, "camden", {"name": "Camden (renamed)"})
    sandbox.admin.add_faults([{"method": "PATCH", "route": "/v1/pages/{id}", "fault": {"status": 503}, "every": 1}])
    code, failed = apply(config)
    sandbox.admin.clear_faults()
    assert code == 1 and failed["status"] == "failed"
    code, third = apply(config)
    assert code == 0
    assert third["source_reads"][JOB]["since"] == failed["source_reads"][JOB]["since"]
    assert third["source_reads"][JOB]["since"] < read["cursor"]
    assert ("update", "services", "camden") in written(third)
    assert {key for _, _, key in written(third)} == {"camden"}

    # A team that left the source is not missing from a delta: nothing is archived.
    edit_team(sandbox, "bromley", None)
    code, fourth = apply(config)
    assert code == 0
    assert fourth["source_reads"][JOB]["mode"] == "incremental"
    assert fourth["planned"]["archive"] == 0 and written(fourth) == set()

    # Three successful incremental runs since the last full read: full_refresh.every 3 reads in full.
    code, fifth = apply(config)
    assert code == 0
    read = fifth["source_reads"][JOB]
    assert read["mode"] == "full" and "full_every 3" in read["reason"]
    assert ("archive", "services", "bromley") in written(fifth)

    code, sixth = apply(config)
    assert code == 0
    assert sixth["source_reads"][JOB]["mode"] == "incremental" and written(sixth) == set()
    detail = run("history", sixth["run_id"], "-c", str(config)).output
    assert f"source of {JOB}: incremental since {sixth['source_reads'][JOB]['since']}" in detail


def test_refresh_full_and_a_changed_config_read_everything_and_the_plan_says_why(sandbox: Any, tmp_path: Path) -> None:
    config = write_config(tmp_path, edit=incremental)
    assert apply(config)[0] == 0

    shown = run("plan", "-c", str(config))
    assert shown.exit_code == 0, shown.output
    assert "Source read: planx-live-services incremental, 1 record(s) read, changed since" in shown.output

    shown = run("plan", "-c", str(config), "--refresh", "full")
    assert "Source read: planx-live-services full (--refresh full)." in shown.output
    as_json = json.loads(run("plan", "-c", str(config), "--refresh", "full", "--format", "json").output)
    assert as_json["source_reads"][JOB]["mode"] == "full"

    document = yaml.safe_load(config.read_text(encoding="utf-8"))
    document["jobs"][JOB]["source"]["incremental"]["buffer"] = "2s"
    config.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    shown = run("plan", "-c", str(config), "--refresh", "incremental")
    assert "full (the config changed since the cursor was kept" in shown.output


def test_a_saved_plan_applied_later_keeps_the_cursor_it_was_made_from(sandbox: Any, tmp_path: Path) -> None:
    config = write_config(tmp_path, edit=incremental)
    assert apply(config)[0] == 0
    edit_team(sandbox, "barnet", {"name": "Barnet, saved"})
    saved = tmp_path / "planx.plan.json"
    made = run("plan", "-c", str(config), "-o", str(saved))
    assert made.exit_code == 0, made.output
    planned = json.loads(saved.read_text(encoding="utf-8"))["source_reads"][JOB]
    edit_team(sandbox, "camden", {"name": "Camden, after the plan"})  # not in the saved plan
    applied = run("apply", str(saved), "-c", str(config))
    assert applied.exit_code == 0, applied.output
    record = last_record()
    assert record["source_reads"][JOB] == planned
    code, after = apply(config)
    assert code == 0
    assert after["source_reads"][JOB]["since"] < planned["cursor"]
    assert {key for _, _, key in written(after)} == {"camden"}


# ── an http source: Planning Data's entry_date filters ───────────────────────────────────────────


def planning_config(tmp_path: Path) -> Path:
    document = yaml.safe_load((Path(__file__).parents[2] / "examples/planning-data-entities.yaml").read_text())
    job = document["jobs"]["planning-data-entities"]
    job["source"]["http"]["params"]["field"] = ["entity", "reference", "name", "entry_date"]
    job["source"]["incremental"] = {
        "cursor": '"entry-date"',
        "parameters": {
            "entry_date_year": "%Y",
            "entry_date_month": "%m",
            "entry_date_day": "%d",
            "entry_date_match": "since",
        },
        "buffer": "1d",
    }
    document["notion"] = {"rate_limit": 50, "burst": 10, "retry_base_seconds": 0.01}
    path = tmp_path / "planning.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def test_an_http_source_asks_planning_data_for_the_entities_entered_since_the_cursor(
    sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in prepare_example_workspace(sandbox).items():
        monkeypatch.setenv(name, value)
    config = planning_config(tmp_path)
    code, first = apply(config)
    assert code == 0, first
    read = first["source_reads"]["planning-data-entities"]
    assert read["mode"] == "full" and read["records"] > 300
    assert read["cursor"].startswith("2025-01-28")

    data = sandbox.admin.planning_data()
    for entity in data["entities"]:
        if entity["dataset"] == "local-authority" and entity["reference"] == "SWK":
            entity["entity"], entity["entry-date"] = 999329, "2026-02-01"
    sandbox.admin.put_planning_data(data)

    code, second = apply(config)
    assert code == 0, second
    read = second["source_reads"]["planning-data-entities"]
    # since 2025-01-27, strictly after: the 2025-01-28 entries again (a day's buffer) and SWK's new one
    assert read["mode"] == "incremental" and read["since"].startswith("2025-01-27")
    assert read["cursor"].startswith("2026-02-01")
    assert {key for _, _, key in written(second)} == {"SWK"}

    code, third = apply(config)
    assert code == 0
    read = third["source_reads"]["planning-data-entities"]
    assert (read["records"], written(third)) == (1, set())  # only SWK, entered after 2026-01-31


def test_a_saved_plan_cannot_keep_a_cursor_from_the_future_nor_archive_from_a_delta(
    sandbox: Any, tmp_path: Path
) -> None:
    from tests.reliability.worst_day_support import resign

    config = write_config(tmp_path, edit=incremental)
    assert apply(config)[0] == 0
    edit_team(sandbox, "barnet", {"name": "Barnet, saved"})
    saved = tmp_path / "planx.plan.json"
    assert run("plan", "-c", str(config), "-o", str(saved)).exit_code == 0
    original = json.loads(saved.read_text(encoding="utf-8"))

    future = json.loads(json.dumps(original))
    future["source_reads"][JOB]["cursor"] = "2999-01-01T00:00:00.000000+00:00"
    saved.write_text(json.dumps(resign(future)), encoding="utf-8")
    refused = run("apply", str(saved), "-c", str(config))
    assert refused.exit_code == 1
    assert "keeps the cursor '2999-01-01T00:00:00.000000+00:00' for job 'planx-live-services'" in refused.stderr

    archiving = json.loads(json.dumps(original))
    update = next(a for a in archiving["actions"] if a["action"] == "update" and a["resource"] == "services")
    archiving["actions"].append({**update, "action": "archive", "changes": []})
    saved.write_text(json.dumps(resign(archiving)), encoding="utf-8")
    refused = run("apply", str(saved), "-c", str(config))
    assert refused.exit_code == 1
    assert "archives pages of job 'planx-live-services' from an incremental read" in refused.stderr
    assert last_record()["status"] == "refused"
    # Refused runs keep no cursor: the next apply asks from the one the first apply kept.
    code, after = apply(config)
    assert code == 0
    assert after["source_reads"][JOB]["since"] == original["source_reads"][JOB]["since"]
    assert ("update", "services", "barnet") in written(after)
