"""Issue 10, point 1: duplicates this integration made heal themselves; a person's never do.

Two pages for one key happen without any bug on our side: Notion has no idempotency keys, so two
runs at once, or a create that commits after the client gave up, each leave a second page. When
every page of a key was created by this integration, the plan keeps one (the oldest, then the
lowest id: concurrent runs pick the same one) and moves the others to the trash as `heal`
actions. A duplicate a person made is reported with its URLs and the key is left alone.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from tests.reliability.worst_day_support import (
    actions_of,
    duplicate_of,
    made_by_a_person,
    outcomes,
    pages_by_key,
    plan_document,
    run_records,
    services_ds,
    stamps,
    survivor,
    trashed,
)
from tests.support.common import notion, plain, run, writes
from tests.support.reliability import assert_converged, one_line, write_config

HEALED = ("barnet", "camden", "kingston")  # linked to a council, council without key, no council


def applied(sandbox: Any, config: Path) -> None:
    result = run("apply", "-c", str(config), "--auto-approve")
    assert result.exit_code == 0, result.output


def test_duplicates_this_integration_made_are_healed_to_the_oldest_page(sandbox: Any, tmp_path: Path) -> None:
    config = write_config(tmp_path)
    applied(sandbox, config)
    before_stamps = stamps(sandbox)
    for key in HEALED:
        duplicate_of(sandbox, pages_by_key(sandbox, services_ds(sandbox))[key][0])
    pages = pages_by_key(sandbox, services_ds(sandbox))
    keep = {key: survivor(pages[key]) for key in HEALED}
    losers = {key: next(p for p in pages[key] if p["id"] != keep[key]["id"]) for key in HEALED}

    document = plan_document(config)

    heals = actions_of(document, "heal")
    assert {(a["resource"], a["key"], a["page_id"]) for a in heals} == {
        ("services", key, losers[key]["id"]) for key in HEALED
    }
    for a in heals:
        assert keep[a["key"]]["id"] in a["reason"], a["reason"]
    assert document["summary"]["heal"] == len(HEALED)
    assert not [d for d in document["diagnostics"] if d["code"] == "duplicate_page_key"]
    assert not actions_of(document, "create")
    # Heals record no change of a snapshot: they stamp no council.
    assert not actions_of(document, "touch")
    shown = run("plan", "-c", str(config))
    assert shown.stdout.rstrip().splitlines()[-1] == (
        "Plan: 0 to create, 0 to update, 0 to archive, 0 to restore, 0 to touch, 3 to heal."
    )

    result = run("apply", "-c", str(config), "--auto-approve", "--csv", "run.csv")

    assert result.exit_code == 0, result.output
    after = pages_by_key(sandbox, services_ds(sandbox))
    assert {key: [p["id"] for p in after[key]] for key in HEALED} == {key: [keep[key]["id"]] for key in HEALED}
    for key in HEALED:
        assert trashed(sandbox, losers[key]["id"])  # in the trash, never deleted
    assert stamps(sandbox) == before_stamps
    healed = outcomes(run_records(tmp_path), "heal")
    assert sorted(o["key"] for o in healed) == sorted(HEALED)
    assert run_records(tmp_path)[-1]["counts"]["heal"]["ok"] == len(HEALED)
    with open(tmp_path / "run.csv", encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["action"] == "heal"]
    assert sorted(r["key"] for r in rows) == sorted(HEALED)
    assert_converged(sandbox)
    assert run("plan", "-c", str(config), "--detailed-exitcode").exit_code == 0


def test_a_duplicate_a_person_made_is_reported_and_the_key_left_alone(sandbox: Any, tmp_path: Path) -> None:
    config = write_config(tmp_path)
    applied(sandbox, config)
    original = pages_by_key(sandbox, services_ds(sandbox))["barnet"][0]
    copy = duplicate_of(sandbox, original)
    made_by_a_person(sandbox, copy["id"])
    snapshot = sandbox.admin.planx()
    for team in snapshot["teams"]:
        if team["slug"] == "barnet":
            team["name"] = "Barnet (renamed)"
    sandbox.admin.put_planx(snapshot)
    before_stamps = stamps(sandbox)

    document = plan_document(config)

    assert not actions_of(document, "heal")
    assert not [a for a in document["actions"] if a["key"] == "barnet"]
    errors = [d for d in document["diagnostics"] if d["code"] == "duplicate_page_key"]
    assert [(d["resource"], d["key"]) for d in errors] == [("services", "barnet")]
    assert sorted(errors[0]["urls"]) == sorted([original["url"], copy["url"]])

    sandbox.admin.clear_requests()
    result = run("apply", "-c", str(config), "--auto-approve")

    assert result.exit_code == 1
    assert "1 key(s) were left alone because of errors shown in the plan." in result.stderr
    assert writes(sandbox) == 0
    left = pages_by_key(sandbox, services_ds(sandbox))["barnet"]
    assert sorted(p["id"] for p in left) == sorted([original["id"], copy["id"]])
    assert {plain(p, "Name") for p in left} == {plain(original, "Name")}
    assert stamps(sandbox) == before_stamps  # nothing was written for barnet, so nothing is stamped

    # Once a person trashes their copy, the key proceeds as usual.
    notion(sandbox).pages.update(page_id=copy["id"], in_trash=True)
    fixed = run("apply", "-c", str(config), "--auto-approve")
    assert fixed.exit_code == 0, fixed.output
    assert plain(pages_by_key(sandbox, services_ds(sandbox))["barnet"][0], "Name") == "Barnet (renamed)"
    assert stamps(sandbox)["barnet"] != before_stamps["barnet"]


def test_a_duplicate_in_an_update_only_resource_is_never_healed(sandbox: Any, tmp_path: Path) -> None:
    # Councils are people's pages (the integration never creates there): a second page with a
    # council's key is an error to fix by hand, whoever made it.
    config = write_config(tmp_path)
    applied(sandbox, config)
    councils = pages_by_key(sandbox, "c0c11c00-0000-4000-8000-000000000002")
    notion(sandbox).pages.create(
        parent={"type": "data_source_id", "data_source_id": "c0c11c00-0000-4000-8000-000000000002"},
        properties={
            "Name": {"title": [{"text": {"content": "Lambeth again"}}]},
            "ExternalCustomerID": {"rich_text": [{"text": {"content": "lambeth"}}]},
        },
    )

    document = plan_document(config)

    assert not actions_of(document, "heal")
    errors = [d for d in document["diagnostics"] if d["code"] == "duplicate_page_key"]
    assert [(d["resource"], d["key"]) for d in errors] == [("councils", "lambeth")]
    refused = run("apply", "-c", str(config), "--auto-approve")
    assert refused.exit_code == 1
    assert not trashed(sandbox, councils["lambeth"][0]["id"])
    assert "Traceback" not in refused.output
    assert one_line(refused.stderr) == "1 key(s) were left alone because of errors shown in the plan."
