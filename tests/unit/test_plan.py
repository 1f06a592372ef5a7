"""compute_plan as a table of situations: pure, no HTTP, no clock."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from reconcile.desired import build_desired
from reconcile.model import (
    ActualState,
    Job,
    MatchKey,
    OnMissing,
    PageState,
    PropertyMapping,
    ResourceConfig,
    ResourceState,
    SourceConfig,
    TouchRule,
)
from reconcile.plan import JobInput, compute_plan, iso_time

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 27, 3, 0, 0, tzinfo=UTC)
SERVICES_SCHEMA = {
    "Name": "title",
    "Description": "rich_text",
    "Service Count": "number",
    "ExternalCustomerID": "rich_text",
    "Councils": "relation",
}
COUNCILS_SCHEMA = {
    "Name": "title",
    "ExternalCustomerID": "rich_text",
    "Integration Last Updated": "date",
    "PlanX Live Services": "relation",
}


def planx_job(allowlist: tuple[str, ...] | None = ("barnet", "camden", "lambeth"), **services_kw: Any) -> Job:
    services = ResourceConfig(
        name="services",
        database="db-services",
        data_source=None,
        mode="upsert",
        match=MatchKey(property="ExternalCustomerID", expression="slug"),
        properties=(
            PropertyMapping("Name", "trim(name) || slug"),
            PropertyMapping("Description", "join('\n', flows[].trim(name))"),
            PropertyMapping("Service Count", "length(flows)"),
            PropertyMapping("ExternalCustomerID", "slug"),
            PropertyMapping("Councils", relation="councils"),
        ),
        on_missing=OnMissing("archive"),
    )
    services = replace(services, **services_kw)
    councils = ResourceConfig(
        name="councils",
        database="db-councils",
        data_source=None,
        mode="update-only",
        match=MatchKey(property="ExternalCustomerID", expression="slug"),
        touch=(TouchRule(property="Integration Last Updated", related="services"),),
        on_missing=OnMissing("ignore"),
    )
    source = SourceConfig(kind="graphql", endpoint="http://x", records="data.teams", key="slug", allowlist=allowlist)
    return Job(name="planx", source=source, resources=(services, councils))


def team(slug: str, name: str | None = None, flows: tuple[str, ...] = ("Apply",)) -> dict[str, Any]:
    return {"slug": slug, "name": name if name is not None else slug.title(), "flows": [{"name": f} for f in flows]}


def service_page(
    slug: str, pid: str, *, name: str | None = None, flows: tuple[str, ...] = ("Apply",), councils=(), trash=False
) -> PageState:
    values = {
        "Name": name if name is not None else slug.title(),
        "Description": "\n".join(flows),
        "Service Count": len(flows),
        "ExternalCustomerID": slug,
        "Councils": tuple(sorted(uid(c) for c in councils)),
    }
    return PageState(
        page_id=uid(pid), url=f"https://www.notion.so/{pid}", key=slug, raw_key=slug, values=values, in_trash=trash
    )


def council_page(slug: str | None, pid: str, stamp: str | None = "2026-11-26T03:00:00.000Z") -> PageState:
    values = {"ExternalCustomerID": slug or "", "Integration Last Updated": stamp}
    return PageState(page_id=uid(pid), url=f"https://www.notion.so/{pid}", key=slug, raw_key=slug, values=values)


def actual(services=(), councils=(), trashed=()) -> ActualState:
    return ActualState(
        resources={
            "services": ResourceState(
                "services", "db-services", "ds-services", SERVICES_SCHEMA, tuple(services), tuple(trashed)
            ),
            "councils": ResourceState("councils", "db-councils", "ds-councils", COUNCILS_SCHEMA, tuple(councils)),
        }
    )


def uid(name: str) -> str:
    """A stable UUID for a short test name, so relation values are real page ids."""
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, name))


def make(job: Job, records: list[dict[str, Any]], state: ActualState, **kw: Any):
    desired = build_desired(job, records)
    return compute_plan([JobInput(job, desired, state)], now=NOW, config_digest="d", **kw)


def kinds(plan) -> list[tuple[str, str, str]]:
    return [(a.action, a.resource, a.key) for a in plan.actions]


def test_first_run_creates_one_snapshot_per_allowlisted_council_and_warns_unlinked() -> None:
    records = [team("barnet"), team("camden", flows=("A", "B")), team("templates")]
    plan = make(planx_job(), records, actual())
    assert kinds(plan) == [("create", "services", "barnet"), ("create", "services", "camden")]
    codes = {(d.code, d.key) for d in plan.diagnostics}
    assert codes == {("relation_target_missing", "barnet"), ("relation_target_missing", "camden")}
    camden = plan.actions[1]
    assert {c.name: c.after for c in camden.changes} == {
        "Name": "Camden",
        "Description": "A\nB",
        "Service Count": 2,
        "ExternalCustomerID": "camden",
    }
    assert plan.summary == {"create": 2, "update": 0, "archive": 0, "restore": 0, "touch": 0, "heal": 0}


def test_unchanged_state_gives_an_empty_plan() -> None:
    state = actual(services=[service_page("barnet", "s1", councils=("c1",))], councils=[council_page("barnet", "c1")])
    plan = make(planx_job(), [team("barnet")], state)
    assert plan.actions == ()
    assert not plan.has_changes


def test_number_compares_numerically_and_relations_as_sets() -> None:
    page = service_page("barnet", "s1", flows=("A", "B"), councils=("c2", "c1"))
    page.values["Service Count"] = 2.0
    job = planx_job(
        properties=(
            PropertyMapping("Service Count", "length(flows)"),
            PropertyMapping("Councils", relation="councils", expression="['barnet', 'barnet2']"),
        )
    )
    state = actual(services=[page], councils=[council_page("barnet", "c1"), council_page("barnet2", "c2")])
    assert make(job, [team("barnet", flows=("A", "B"))], state).actions == ()


def test_changed_description_updates_and_touches_the_linked_council() -> None:
    state = actual(services=[service_page("barnet", "s1", councils=("c1",))], councils=[council_page("barnet", "c1")])
    plan = make(planx_job(), [team("barnet", flows=("Apply", "Notify"))], state)
    # The stamp runs after the change it records (and is listed after it), naming it: apply
    # leaves the stamp out when that change fails.
    assert kinds(plan) == [("update", "services", "barnet"), ("touch", "councils", "barnet")]
    update, touch = plan.actions
    assert [c.name for c in update.changes] == ["Description", "Service Count"]
    assert touch.changes[0].after == iso_time(NOW)
    assert touch.changes[0].depends_on == (0,)
    assert "services 'barnet' changed" in touch.reason


def test_filling_in_a_council_key_links_and_stamps_it() -> None:
    state = actual(services=[service_page("camden", "s2")], councils=[council_page("camden", "c9")])
    plan = make(planx_job(), [team("camden")], state)
    assert kinds(plan) == [("update", "services", "camden"), ("touch", "councils", "camden")]
    assert plan.actions[0].changes[0].name == "Councils"
    assert plan.actions[0].changes[0].after == (uid("c9"),)


def test_council_missing_from_source_is_archived_and_its_council_stamped() -> None:
    state = actual(
        services=[service_page("barnet", "s1", councils=("c1",)), service_page("camden", "s2")],
        councils=[council_page("barnet", "c1")],
    )
    plan = make(planx_job(), [team("camden")], state)
    assert kinds(plan) == [("archive", "services", "barnet"), ("touch", "councils", "barnet")]


def test_pages_of_councils_not_on_the_allowlist_are_never_touched() -> None:
    state = actual(services=[service_page("bristol", "s5"), service_page("barnet", "s1")])
    plan = make(planx_job(), [team("barnet"), team("bristol")], state)
    assert all(a.key != "bristol" for a in plan.actions)


def test_pages_without_a_key_are_never_touched() -> None:
    keyless = PageState(page_id=uid("s0"), url="u", key=None, raw_key=None, values={"ExternalCustomerID": ""})
    state = actual(services=[keyless])
    plan = make(planx_job(), [team("barnet")], state)
    assert all(a.page_id != uid("s0") for a in plan.actions)


def test_a_council_that_comes_back_is_restored_not_duplicated() -> None:
    trashed = service_page("barnet", "s1", flows=("Old",), trash=True)
    plan = make(planx_job(), [team("barnet", flows=("New",))], actual(trashed=[trashed]))
    assert kinds(plan) == [("restore", "services", "barnet")]
    assert plan.actions[0].page_id == uid("s1")
    assert {c.name for c in plan.actions[0].changes} == {"Description"}


def test_two_pages_with_one_key_are_reported_and_left_alone() -> None:
    state = actual(services=[service_page("barnet", "s1", flows=("x",)), service_page("barnet", "s2", flows=("y",))])
    plan = make(planx_job(), [team("barnet"), team("camden")], state)
    assert kinds(plan) == [("create", "services", "camden")]
    dup = [d for d in plan.diagnostics if d.code == "duplicate_page_key"]
    assert (
        dup and dup[0].severity == "error" and dup[0].urls == ("https://www.notion.so/s1", "https://www.notion.so/s2")
    )


def test_two_records_with_one_key_are_reported_and_nothing_is_written_for_it() -> None:
    plan = make(planx_job(), [team("barnet"), team("barnet", name="Other"), team("camden")], actual())
    assert kinds(plan) == [("create", "services", "camden")]
    assert [d.code for d in plan.diagnostics if d.severity == "error"] == ["duplicate_source_key"]


def test_update_only_never_creates() -> None:
    job = planx_job()
    councils = replace(job.resources[1], properties=(PropertyMapping("Name", "name"),))
    job = replace(job, resources=(job.resources[0], councils))
    plan = make(job, [team("barnet")], actual(services=[service_page("barnet", "s1")]))
    assert all(a.resource != "councils" for a in plan.actions)


def test_create_only_never_updates() -> None:
    state = actual(services=[service_page("barnet", "s1", flows=("Old",))])
    plan = make(planx_job(mode="create-only"), [team("barnet", flows=("New",))], state)
    assert plan.actions == ()


def test_mark_sets_flags_once_and_never_bumps_the_stamp_again() -> None:
    mark = OnMissing("mark", set=(PropertyMapping("Active", "`false`"), PropertyMapping("Last Seen", "run.date")))
    schema = {**SERVICES_SCHEMA, "Active": "checkbox", "Last Seen": "date"}
    page = service_page("barnet", "s1")
    page.values.update({"Active": True, "Last Seen": None})
    state = actual(services=[page])
    state.resources["services"] = replace(state.resources["services"], schema=schema)
    plan = make(planx_job(on_missing=mark), [team("camden")], state)
    marks = [a for a in plan.actions if a.key == "barnet"]
    assert [(c.name, c.after) for c in marks[0].changes] == [("Active", False), ("Last Seen", "2026-11-27")]
    page.values.update({"Active": False, "Last Seen": "2026-11-20"})
    again = make(planx_job(on_missing=mark), [team("camden")], state)
    assert [a for a in again.actions if a.key == "barnet"] == []


def test_archive_guard_blocks_and_override_is_recorded() -> None:
    slugs = [f"c{i}" for i in range(10)]
    state = actual(services=[service_page(s, f"s{i}") for i, s in enumerate(slugs)])
    job = planx_job(allowlist=tuple(slugs))
    plan = make(job, [team("c0")], state)
    guard = [d for d in plan.diagnostics if d.code == "guard_archive_limit"]
    assert guard and guard[0].severity == "error"
    overridden = make(job, [team("c0")], state, allow_large_changes=True)
    assert [d.code for d in overridden.diagnostics if d.code.startswith("guard")] == ["guard_archive_limit_overridden"]
    assert overridden.guard_overrides


def test_archive_guard_allows_up_to_the_larger_of_ratio_and_count() -> None:
    slugs = [f"c{i}" for i in range(10)]
    state = actual(services=[service_page(s, f"s{i}") for i, s in enumerate(slugs)])
    plan = make(planx_job(allowlist=tuple(slugs)), [team(s) for s in slugs[5:]], state)
    assert plan.summary["archive"] == 5
    assert not [d for d in plan.diagnostics if d.code.startswith("guard")]


def test_zero_records_is_refused_by_the_min_records_guard() -> None:
    state = actual(services=[service_page("barnet", "s1")])
    plan = make(planx_job(), [], state)
    assert "guard_min_records" in [d.code for d in plan.diagnostics if d.severity == "error"]


def test_invalid_value_is_a_per_key_error() -> None:
    job = planx_job(properties=(PropertyMapping("Service Count", "name"),))
    plan = make(job, [team("barnet", name="not a number"), team("camden", name="7")], actual())
    assert kinds(plan) == [("create", "services", "camden")]
    assert [d.key for d in plan.diagnostics if d.code == "invalid_value"] == ["barnet"]


@pytest.mark.parametrize("desired_name,page_name", [("  Barnet ", "Barnet"), ("", "barnet")])
def test_name_is_the_stripped_team_name_else_the_slug(desired_name: str, page_name: str) -> None:
    state = actual(services=[service_page("barnet", "s1", name=page_name)])
    assert make(planx_job(), [team("barnet", name=desired_name)], state).actions == ()


def test_many_missing_pages_of_an_update_only_resource_are_one_warning() -> None:
    job = planx_job(allowlist=None, properties=(PropertyMapping("Name", "name"),))
    councils = replace(job.resources[1], properties=(PropertyMapping("Name", "name"),))
    job = replace(job, resources=(job.resources[0], councils))
    records = [team(f"c{i:02}") for i in range(12)]
    state = actual(services=[service_page(r["slug"], f"s{i}") for i, r in enumerate(records)])
    missing = [d for d in make(job, records, state).diagnostics if d.code == "page_missing"]
    assert len(missing) == 1 and missing[0].message.startswith("12 source keys have no councils page ('c00'")
    few = [d for d in make(job, records[:3], state).diagnostics if d.code == "page_missing"]
    assert [d.key for d in few] == ["c00", "c01", "c02"]


def test_an_ambiguous_relation_target_leaves_the_relation_alone() -> None:
    linked = service_page("barnet", "s1", councils=("c1",))
    state = actual(services=[linked], councils=[council_page("barnet", "c1"), council_page("barnet", "c2")])
    plan = make(planx_job(), [team("barnet")], state)
    assert plan.actions == ()
    dup = [d for d in plan.diagnostics if d.code == "duplicate_page_key"]
    assert dup and dup[0].resource == "councils" and len(dup[0].urls) == 2


def test_an_owed_stamp_is_written_once_and_only_for_a_live_page() -> None:
    state = actual(services=[service_page("barnet", "s1", councils=("c1",))], councils=[council_page("barnet", "c1")])
    owed = frozenset({("councils", uid("c1")), ("councils", uid("gone"))})
    desired = build_desired(planx_job(), [team("barnet")])
    plan = compute_plan([JobInput(planx_job(), desired, state)], now=NOW, config_digest="d", owed_touches=owed)
    assert kinds(plan) == [("touch", "councils", "barnet")]
    assert "failed to be written in an earlier run" in plan.actions[0].reason
    changed = build_desired(planx_job(), [team("barnet", flows=("New",))])
    both = compute_plan([JobInput(planx_job(), changed, state)], now=NOW, config_digest="d", owed_touches=owed)
    assert [a.action for a in both.actions].count("touch") == 1


def test_a_key_stored_with_white_space_matches_and_the_plan_warns_with_the_page() -> None:
    """The read keeps the key as stored (raw_key); the plan matches it stripped and says so."""
    council = replace(council_page("camden", "c9"), raw_key=" camden ")
    state = actual(services=[service_page("camden", "s2", councils=("c9",))], councils=[council])
    plan = make(planx_job(), [team("camden")], state)
    [warning] = [d for d in plan.diagnostics if d.code == "key_needed_strip"]
    assert (warning.severity, warning.resource, warning.key) == ("warning", "councils", "camden")
    assert warning.urls == ("https://www.notion.so/c9",)
    assert "' camden '" in warning.message
    assert plan.actions == ()  # matched: the service is linked to it already


def test_planning_loads_no_http_client_and_no_source() -> None:
    """`import reconcile.plan` (and the planfile and renderers) must stay free of HTTP: checked in a
    fresh interpreter, where nothing else has imported httpx yet."""
    code = (
        "import sys, reconcile.plan, reconcile.planfile, reconcile.render, reconcile.desired, reconcile.values\n"
        "banned = ('httpx', 'requests', 'notion_client', 'reconcile.source', 'reconcile.notion.gateway',"
        " 'reconcile.cli', 'notion_sandbox')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in banned or m.startswith(banned)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "[]"
