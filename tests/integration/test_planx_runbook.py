"""The PlanX job end to end: the shipped mappings.yaml, the real CLI, the sandbox over HTTP.

The seed's runbook as one test: the first run creates one snapshot per allowlisted council (linking
the councils whose ExternalCustomerID is already filled in, warning about the others); someone fills
in an ExternalCustomerID by hand; the next run links that council and stamps it, and only it.

With RECONCILE_TEST_REALISM=1 the sandbox lags, commits late and fails as Notion does; the tests'
own reads and the people's edits they simulate happen `settled` (tests/support/sandbox.py), and
each test ends in issue 11's end state (`assert_end_state`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reconcile.cli import cli
from tests.support.common import notion, run, writes
from tests.support.reliability import REALISM, assert_end_state, planx_sandbox
from tests.support.sandbox import settled

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]

pytest.importorskip("notion_sandbox.server")

MAPPINGS = str(REPO / "mappings.yaml")
WRITE_ROUTES = ("POST /v1/pages", "PATCH /v1/pages/{id}")


@pytest.fixture
def sandbox(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with planx_sandbox(tmp_path, monkeypatch) as sb:
        yield sb


def pages(sb: Any, data_source_id: str) -> list[dict[str, Any]]:
    out, cursor = [], None
    while True:
        body: dict[str, Any] = {"data_source_id": data_source_id, "page_size": 100}
        if cursor:
            body["start_cursor"] = cursor
        res = notion(sb).data_sources.query(**body)
        out += res["results"]
        if not res["has_more"]:
            return out
        cursor = res["next_cursor"]


def text(page: dict[str, Any], prop: str) -> str:
    value = page["properties"][prop]
    return "".join(t["plain_text"] for t in value[value["type"]])


def by_key(sb: Any, data_source_id: str) -> dict[str, dict[str, Any]]:
    return {text(p, "ExternalCustomerID"): p for p in pages(sb, data_source_id) if text(p, "ExternalCustomerID")}


def last_run() -> dict[str, Any]:
    return json.loads(Path(".reconcile/runs.jsonl").read_text(encoding="utf-8").splitlines()[-1])


def data_sources(sb: Any) -> tuple[str, str]:
    env = sb.seed_info["env"]
    client = notion(sb)
    with settled(sb):
        services = client.databases.retrieve(database_id=env["SERVICES_DB_ID"])["data_sources"][0]["id"]
        councils = client.databases.retrieve(database_id=env["COUNCILS_DB_ID"])["data_sources"][0]["id"]
    return services, councils


def test_plan_apply_plan_converges_with_zero_writes_the_second_time(sandbox: Any) -> None:
    first = run("plan", "-c", MAPPINGS, "--detailed-exitcode")
    assert first.exit_code == 2, first.output
    assert "to create" in first.output

    applied = run("apply", "-c", MAPPINGS, "--auto-approve")
    assert applied.exit_code == 0, applied.output

    again = run("plan", "-c", MAPPINGS, "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert "No changes" in again.output

    sandbox.admin.clear_requests()
    second = run("apply", "-c", MAPPINGS, "--auto-approve")
    assert second.exit_code == 0, second.output
    assert writes(sandbox) == 0
    assert_end_state(sandbox, MAPPINGS)


def test_runbook_first_run_then_manual_key_then_link_and_stamp(sandbox: Any) -> None:
    services_ds, councils_ds = data_sources(sandbox)
    first = run("apply", "-c", MAPPINGS, "--auto-approve")
    assert first.exit_code == 0, first.output
    [unlinked] = [line for line in first.output.splitlines() if "relation_target_missing" in line]
    assert "no councils page carries ExternalCustomerID ‹key›" in unlinked and " camden," in unlinked

    with settled(sandbox):
        snapshots = by_key(sandbox, services_ds)
        councils = by_key(sandbox, councils_ds)
        assert "camden" in snapshots and snapshots["camden"]["properties"]["Councils"]["relation"] == []
        assert "barnet" in councils
        assert snapshots["barnet"]["properties"]["Councils"]["relation"] == [{"id": councils["barnet"]["id"]}]
        assert councils["barnet"]["properties"]["Integration Last Updated"]["date"] is not None

        # The manual step: an operator fills in Camden's ExternalCustomerID in the Councils database.
        # Settled: a person's edit is not an API call that meets Notion's faults, and it is made long
        # before the next nightly run (the test runs seconds later, within the indexing lag).
        camden = next(p for p in pages(sandbox, councils_ds) if "Camden" in text(p, "Name"))
        notion(sandbox).pages.update(
            page_id=camden["id"], properties={"ExternalCustomerID": {"rich_text": [{"text": {"content": "camden"}}]}}
        )
        councils = by_key(sandbox, councils_ds)
        stamped_before = {k: p["properties"]["Integration Last Updated"]["date"] for k, p in councils.items()}

    second = run("apply", "-c", MAPPINGS, "--auto-approve")
    assert second.exit_code == 0, second.output
    with settled(sandbox):
        snapshots = by_key(sandbox, services_ds)
        councils = by_key(sandbox, councils_ds)
        assert snapshots["camden"]["properties"]["Councils"]["relation"] == [{"id": camden["id"]}]
        assert councils["camden"]["properties"]["Integration Last Updated"]["date"] is not None
        for key, stamp in stamped_before.items():
            if key != "camden":
                assert councils[key]["properties"]["Integration Last Updated"]["date"] == stamp, key
    assert_end_state(sandbox, MAPPINGS)


def test_manual_edit_of_a_mapped_property_is_drift_reverted_by_apply(sandbox: Any) -> None:
    services_ds, _ = data_sources(sandbox)
    assert run("apply", "-c", MAPPINGS, "--auto-approve").exit_code == 0
    with settled(sandbox):
        page = by_key(sandbox, services_ds)["lambeth"]
        original = text(page, "Description")
        # Settled: the person edits long before the next run. The test runs that run seconds later;
        # Notion's index would not show an edit that fresh yet (the tool cannot know of it), and
        # a person's edit meets none of the API's faults.
        notion(sandbox).pages.update(
            page_id=page["id"], properties={"Description": {"rich_text": [{"text": {"content": "edited by hand"}}]}}
        )
    drift = run("plan", "-c", MAPPINGS, "--detailed-exitcode")
    assert drift.exit_code == 2 and "edited by hand" in drift.output
    assert run("apply", "-c", MAPPINGS, "--auto-approve").exit_code == 0
    with settled(sandbox):
        assert text(by_key(sandbox, services_ds)["lambeth"], "Description") == original
    assert_end_state(sandbox, MAPPINGS)


def test_council_leaving_the_source_is_archived_and_restored_when_it_returns(sandbox: Any) -> None:
    services_ds, _ = data_sources(sandbox)
    assert run("apply", "-c", MAPPINGS, "--auto-approve").exit_code == 0
    with settled(sandbox):
        original_id = by_key(sandbox, services_ds)["medway"]["id"]
    snapshot = sandbox.admin.planx()
    removed = [t for t in snapshot["teams"] if t["slug"] == "medway"]
    sandbox.admin.put_planx({**snapshot, "teams": [t for t in snapshot["teams"] if t["slug"] != "medway"]})
    gone = run("apply", "-c", MAPPINGS, "--auto-approve")
    assert gone.exit_code == 0, gone.output
    archived = [o for o in last_run()["outcomes"] if o["action"] == "archive"]
    assert [(o["key"], o["page_id"], o["status"]) for o in archived] == [("medway", original_id, "ok")]

    # Back to back (no settling): in realistic mode the query index still lists the page as live;
    # the run log says this machine trashed it, so it is restored, not created again.
    sandbox.admin.put_planx({**snapshot, "teams": snapshot["teams"]})
    assert removed
    back = run("apply", "-c", MAPPINGS, "--auto-approve")
    assert back.exit_code == 0, back.output
    with settled(sandbox):
        restored = by_key(sandbox, services_ds)
        assert restored["medway"]["id"] == original_id
        assert len([p for p in pages(sandbox, services_ds) if text(p, "ExternalCustomerID") == "medway"]) == 1
    assert_end_state(sandbox, MAPPINGS)


def test_a_multi_source_database_needs_and_works_with_a_named_data_source(sandbox: Any, tmp_path: Any) -> None:
    services_ds, _ = data_sources(sandbox)
    client = notion(sandbox)
    database_id = sandbox.seed_info["env"]["SERVICES_DB_ID"]
    with settled(sandbox):  # a person adds the data source, long before the run
        client.data_sources.create(
            parent={"type": "database_id", "database_id": database_id},
            title=[{"type": "text", "text": {"content": "Archive 2025"}}],
            properties={"Name": {"title": {}}},
        )
        name = client.data_sources.retrieve(data_source_id=services_ds)["title"][0]["plain_text"]
    refused = run("plan", "-c", MAPPINGS)
    assert refused.exit_code == 1
    assert "data_source" in refused.output and "Archive 2025" in refused.output

    named = tmp_path / "named.yaml"
    text_in = (REPO / "mappings.yaml").read_text(encoding="utf-8")
    assert "data_source: null" in text_in
    named.write_text(text_in.replace("data_source: null", f"data_source: {name!r}", 1), encoding="utf-8")
    applied = run("apply", "-c", str(named), "--auto-approve")
    assert applied.exit_code == 0, applied.output
    again = run("plan", "-c", str(named), "--detailed-exitcode")  # back to back: reads its own writes
    assert again.exit_code == 0, again.output
    with settled(sandbox):
        assert len(by_key(sandbox, services_ds)) == 22
    assert_end_state(sandbox, named)


def test_descriptions_over_2000_characters_are_split_and_compare_equal(sandbox: Any) -> None:
    services_ds, _ = data_sources(sandbox)
    snapshot = sandbox.admin.planx()
    lambeth = next(t for t in snapshot["teams"] if t["slug"] == "lambeth")
    template = dict(lambeth["flows"][0])
    lambeth["flows"] = [
        {
            **template,
            "id": f"00000000-0000-4000-8000-{i:012d}",
            "slug": f"flow-{i}",
            "status": "online",
            "name": f"Apply for a long-named service number {i:03d} of the London Borough of Lambeth",
        }
        for i in range(60)
    ]
    sandbox.admin.put_planx(snapshot)
    assert run("apply", "-c", MAPPINGS, "--auto-approve").exit_code == 0
    again = run("plan", "-c", MAPPINGS, "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    with settled(sandbox):
        description = text(by_key(sandbox, services_ds)["lambeth"], "Description")
        assert len(description) > 4000 and description.count("\n") == 59
        raw = by_key(sandbox, services_ds)["lambeth"]["properties"]["Description"]["rich_text"]
        assert len(raw) >= 3 and all(len(item["text"]["content"]) <= 2000 for item in raw)
    assert_end_state(sandbox, MAPPINGS)


def test_relations_over_25_pages_are_read_in_full_and_compare_as_sets(sandbox: Any, tmp_path: Any) -> None:
    services_ds, councils_ds = data_sources(sandbox)
    client = notion(sandbox)
    slugs = [f"extra-{i:02d}" for i in range(30)]
    with settled(sandbox):  # people made these councils' pages long before the run
        for slug in slugs:
            client.pages.create(
                parent={"type": "data_source_id", "data_source_id": councils_ds},
                properties={
                    "Name": {"title": [{"text": {"content": slug.title()}}]},
                    "ExternalCustomerID": {"rich_text": [{"text": {"content": slug}}]},
                },
            )
    literal = "`" + str(list(reversed(slugs))).replace("'", '"') + "`"
    wide = tmp_path / "wide.yaml"
    original = (REPO / "mappings.yaml").read_text(encoding="utf-8")
    assert "Councils: {relation: councils}" in original
    wide.write_text(
        original.replace("Councils: {relation: councils}", f"Councils: {{relation: councils, key: '{literal}'}}")
    )
    assert run("apply", "-c", str(wide), "--auto-approve").exit_code == 0
    sandbox.admin.clear_requests()
    again = run("plan", "-c", str(wide), "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert sandbox.admin.requests()["by_route"].get("GET /v1/pages/{id}/properties/{property_id}", 0) >= 22
    with settled(sandbox):
        assert len(by_key(sandbox, services_ds)["barnet"]["properties"]["Councils"]["relation"]) == 25  # capped view

    def converged() -> None:
        snapshots = by_key(sandbox, services_ds)
        assert len(pages(sandbox, services_ds)) == len(snapshots) == 22
        for page in snapshots.values():
            full = client.pages.properties.retrieve(
                page_id=page["id"], property_id=page["properties"]["Councils"]["id"]
            )
            assert len(full["results"]) == 30 and not full["has_more"]

    assert_end_state(sandbox, wide, converged)


def test_apply_without_a_terminal_or_auto_approve_refuses_and_writes_nothing(sandbox: Any) -> None:
    refused = run("apply", "-c", MAPPINGS)
    assert refused.exit_code == 1
    assert "refusing to apply without confirmation: standard input is not a terminal" in refused.output
    assert writes(sandbox) == 0


@pytest.mark.parametrize(("answer", "code", "expected_writes"), [("no\n", 1, 0), ("yes\n", 0, 27)])
def test_apply_asks_and_accepts_only_yes(
    sandbox: Any, monkeypatch: pytest.MonkeyPatch, answer: str, code: int, expected_writes: int
) -> None:
    import reconcile.commands.apply

    monkeypatch.setattr(reconcile.commands.apply, "stdin_is_terminal", lambda: True)
    result = CliRunner().invoke(cli, ["apply", "-c", MAPPINGS], input=answer, catch_exceptions=False)
    assert result.exit_code == code, result.output
    assert "Only 'yes' will be accepted" in result.output
    if REALISM and expected_writes:
        # The sandbox counts attempts: Notion's spontaneous faults make the client send some writes twice.
        assert writes(sandbox) >= expected_writes
    else:
        assert writes(sandbox) == expected_writes
    if expected_writes:
        assert_end_state(sandbox, MAPPINGS)


def test_a_stamp_that_failed_is_owed_and_written_by_the_next_run(sandbox: Any, tmp_path: Any) -> None:
    _, councils_ds = data_sources(sandbox)
    quick = tmp_path / "quick.yaml"
    original = (REPO / "mappings.yaml").read_text(encoding="utf-8")
    assert "  max_attempts: 6" in original
    # Two attempts, so that the stamps fail fast; retried at once except in realistic mode, where a
    # retry 10 ms later would meet the first write still in flight.
    fast = "" if REALISM else "\n  retry_base_seconds: 0.01"
    quick.write_text(original.replace("  max_attempts: 6", f"  max_attempts: 2{fast}"))
    # Every page update fails (creates still land): the councils' stamps cannot be written.
    sandbox.admin.add_faults([{"method": "PATCH", "route": "/v1/pages/{id}", "faults": [{"status": 500}], "every": 1}])
    first = run("apply", "-c", str(quick), "--auto-approve")
    assert first.exit_code == 1, first.output
    sandbox.admin.clear_faults()
    again = run("plan", "-c", str(quick), "--detailed-exitcode")
    assert again.exit_code == 2 and again.output.count("its stamp failed to be written in an earlier run") == 5
    with settled(sandbox):
        councils = by_key(sandbox, councils_ds)
        owed = [k for k, p in councils.items() if p["properties"]["Integration Last Updated"]["date"] is None]
        assert sorted(owed) == ["barnet", "buckinghamshire", "lambeth", "medway", "newcastle"]
    assert run("apply", "-c", str(quick), "--auto-approve").exit_code == 0
    nothing_owed = run("plan", "-c", str(quick), "--detailed-exitcode")
    assert nothing_owed.exit_code == 0, nothing_owed.output
    with settled(sandbox):
        after = by_key(sandbox, councils_ds)
        assert all(after[k]["properties"]["Integration Last Updated"]["date"] for k in owed)
    assert_end_state(sandbox, quick)
