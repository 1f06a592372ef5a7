"""Issue 10, point 7: a stamp means the change landed.

`Integration Last Updated` on a council records that its snapshot was created, changed, relinked
or archived. It is written after that change and only if the change succeeded; never for a
council whose key is duplicated; never, run after run, for a snapshot that cannot be created.
A stamp a failed run owed is written by the next run, also on a fresh machine without the run log:
then Notion itself says what is owed (the snapshot was last edited by this integration in a later
minute than the council).
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

from tests.reliability.worst_day_support import (
    actions_of,
    councils_ds,
    outcomes,
    pages_by_key,
    plan_document,
    run_records,
    stamps,
)
from tests.support.common import notion, run, writes
from tests.support.reliability import assert_converged, requests_log, write_config

PATCH = "PATCH /v1/pages/{id}"
ONE_AT_A_TIME = {"workers": 1, "max_attempts": 3}  # writes in plan order, three attempts each


def rename(sandbox: Any, slugs: set[str]) -> None:
    snapshot = sandbox.admin.planx()
    for team in snapshot["teams"]:
        if team["slug"] in slugs:
            team["name"] = f"{team['name']} (renamed)"
    sandbox.admin.put_planx(snapshot)


def patches(sandbox: Any) -> int:
    return sum(1 for e in requests_log(sandbox)["entries"] if e["route"] == PATCH)


def test_the_plan_lists_each_stamp_after_the_change_it_records(sandbox: Any, tmp_path: Path) -> None:
    config = write_config(tmp_path)
    document = plan_document(config)
    positions = {(a["resource"], a["key"]): i for i, a in enumerate(document["actions"])}
    touches = actions_of(document, "touch", "councils")
    assert sorted(a["key"] for a in touches) == ["barnet", "buckinghamshire", "lambeth", "medway", "newcastle"]
    for touch in touches:
        assert positions[("councils", touch["key"])] > positions[("services", touch["key"])]


def test_a_snapshot_update_that_fails_leaves_its_council_unstamped(sandbox: Any, tmp_path: Path) -> None:
    config = write_config(tmp_path, notion=ONE_AT_A_TIME)
    assert run("apply", "-c", str(config), "--auto-approve").exit_code == 0
    before = stamps(sandbox)
    rename(sandbox, {"barnet", "lambeth"})
    # The first write of the run is the barnet snapshot's update (plan order): it fails for good.
    failing = [{"status": 503}] * 3
    sandbox.admin.add_faults([{"method": "PATCH", "route": "/v1/pages/{id}", "faults": failing}])

    failed = run("apply", "-c", str(config), "--auto-approve")

    assert failed.exit_code == 1
    assert "error: update services 'barnet' failed" in failed.stderr
    after = stamps(sandbox)
    assert after["barnet"] == before["barnet"]  # its change did not land: no stamp
    assert after["lambeth"] != before["lambeth"]  # its change landed: stamped
    skipped = outcomes(run_records(tmp_path)[-1:], "touch", "skipped")
    assert [(o["resource"], o["key"]) for o in skipped] == [("councils", "barnet")]

    sandbox.admin.clear_faults()
    again = run("apply", "-c", str(config), "--auto-approve")
    assert again.exit_code == 0, again.output
    assert stamps(sandbox)["barnet"] != before["barnet"]
    assert_converged(sandbox)


def test_a_council_whose_key_is_duplicated_is_never_stamped(sandbox: Any, tmp_path: Path) -> None:
    config = write_config(tmp_path)
    assert run("apply", "-c", str(config), "--auto-approve").exit_code == 0
    second = notion(sandbox).pages.create(
        parent={"type": "data_source_id", "data_source_id": councils_ds(sandbox)},
        properties={
            "Name": {"title": [{"text": {"content": "Lambeth (copy)"}}]},
            "ExternalCustomerID": {"rich_text": [{"text": {"content": "lambeth"}}]},
        },
    )
    before = stamps(sandbox)
    rename(sandbox, {"lambeth"})

    document = plan_document(config)
    assert not actions_of(document, "touch")
    result = run("apply", "-c", str(config), "--auto-approve")

    assert result.exit_code == 1  # the duplicate is an error shown in the plan
    councils = pages_by_key(sandbox, councils_ds(sandbox))["lambeth"]
    assert {p["id"]: p["properties"]["Integration Last Updated"]["date"] for p in councils}[second["id"]] is None
    assert stamps(sandbox) == before


def test_a_snapshot_that_can_never_be_created_never_stamps_its_council(sandbox: Any, tmp_path: Path) -> None:
    # Barnet's description needs more than the 100 rich-text segments Notion accepts: its create
    # fails on every run, and its council must not be re-stamped on every run either.
    snapshot = sandbox.admin.planx()
    for team in snapshot["teams"]:
        if team["slug"] == "barnet":
            base = team["flows"][0]
            team["flows"] = [
                {
                    **base,
                    "id": str(uuid.uuid4()),
                    "slug": f"s-{i}",
                    "status": "online",
                    "name": f"{i:03d} " + "x" * 1995,
                }
                for i in range(120)
            ]
    sandbox.admin.put_planx(snapshot)
    config = write_config(tmp_path)

    first = run("apply", "-c", str(config), "--auto-approve")

    assert first.exit_code == 1
    assert "error: create services 'barnet' failed" in first.stderr
    stamped = stamps(sandbox)
    assert stamped["barnet"] is None
    assert stamped["lambeth"] is not None  # the others landed and were stamped
    sandbox.admin.clear_requests()

    second = run("apply", "-c", str(config), "--auto-approve")

    assert second.exit_code == 1
    assert patches(sandbox) == 0  # nothing re-stamped: the only change still cannot land
    assert stamps(sandbox)["barnet"] is None


def test_a_stamp_owed_by_a_failed_run_is_written_on_a_fresh_machine(sandbox: Any, tmp_path: Path) -> None:
    # Every write moves the sandbox's clock on by a minute: Notion's minute-rounded times then
    # order the writes as they happened (in real time, a run spans minutes the same way).
    sandbox.admin.settings(clock_step_ms=60_000)
    config = write_config(tmp_path, notion=ONE_AT_A_TIME)
    assert run("apply", "-c", str(config), "--auto-approve").exit_code == 0
    before = stamps(sandbox)
    rename(sandbox, {"barnet", "lambeth"})
    # The two snapshot updates land; both stamps then fail on every attempt.
    sequence = [{"pass": True}] * 2 + [{"status": 503}] * 6
    sandbox.admin.add_faults([{"method": "PATCH", "route": "/v1/pages/{id}", "faults": sequence}])
    failed = run("apply", "-c", str(config), "--auto-approve")
    assert failed.exit_code == 1
    assert stamps(sandbox) == before
    sandbox.admin.clear_faults()
    shutil.rmtree(tmp_path / ".reconcile")  # a fresh CI runner: the run log is gone

    document = plan_document(config)

    owed = actions_of(document, "touch", "councils")
    assert sorted(a["key"] for a in owed) == ["barnet", "lambeth"]
    assert len(document["actions"]) == 2
    result = run("apply", "-c", str(config), "--auto-approve")
    assert result.exit_code == 0, result.output
    after = stamps(sandbox)
    assert after["barnet"] != before["barnet"] and after["lambeth"] != before["lambeth"]
    assert after["medway"] == before["medway"]
    assert_converged(sandbox)
    # Settled: the rule owes nothing once the stamps are written.
    assert run("plan", "-c", str(config), "--detailed-exitcode").exit_code == 0
    sandbox.admin.clear_requests()
    assert run("apply", "-c", str(config), "--auto-approve").exit_code == 0
    assert writes(sandbox) == 0
