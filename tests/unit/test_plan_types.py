"""Planning people, files, zoned dates, option policies and computed keys: pure plan tables."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from reconcile.desired import build_desired
from reconcile.model import (
    Action,
    ActualState,
    Job,
    MatchKey,
    OnMissing,
    PageState,
    PropertyChange,
    PropertyMapping,
    ResourceConfig,
    ResourceState,
    SourceConfig,
    UserDirectory,
)
from reconcile.plan import JobInput, compute_plan
from reconcile.plan.types import option_policy, saved_change_problem
from reconcile.planfile import plan_document, plan_from_dict, plan_to_dict
from reconcile.render.text import render_text
from reconcile.values import encode

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
SCHEMA = {
    "Slug": "title",
    "Contact": "people",
    "Links": "files",
    "Founded": "date",
    "Kind": "select",
    "Stage": "status",
    "Tags": "multi_select",
}
OPTIONS = {"Kind": ("apply", "guidance"), "Stage": ("Not started", "In progress", "Done"), "Tags": ("a", "b")}
ALICE = "a11ce000-0000-4000-8000-000000000001"
BOB = "a11ce000-0000-4000-8000-000000000002"
USERS = UserDirectory(
    ids={"alice@example.org": ALICE, "bob@example.org": BOB},
    labels={ALICE: "Alice Example <alice@example.org>", BOB: "Bob Example <bob@example.org>"},
)


def job(**mapping_kw: dict[str, Any]) -> Job:
    mappings = {
        "Contact": PropertyMapping("Contact", "email"),
        "Links": PropertyMapping("Links", "links"),
        "Founded": PropertyMapping("Founded", "founded", time_zone="Europe/London"),
        "Kind": PropertyMapping("Kind", "kind"),
        "Stage": PropertyMapping("Stage", "stage"),
        "Tags": PropertyMapping("Tags", "tags"),
    }
    for name, kw in mapping_kw.items():
        mappings[name] = PropertyMapping(name, mappings[name].expression, **kw)
    teams = ResourceConfig(
        name="teams",
        database="db-teams",
        data_source=None,
        mode="upsert",
        match=MatchKey("Slug", "slug"),
        properties=tuple(mappings.values()),
        on_missing=OnMissing("ignore"),
    )
    return Job(name="types", source=SourceConfig("graphql", "http://x", "data", "slug"), resources=(teams,))


def record(slug: str, **changes: Any) -> dict[str, Any]:
    base = {
        "slug": slug,
        "email": "Alice@Example.org",
        "links": ["https://example.org/a.pdf", {"name": "Site", "url": "https://example.org/"}],
        "founded": "2025-07-01T09:00:00",
        "kind": "apply",
        "stage": "Done",
        "tags": ["b", "a"],
    }
    return base | changes


def page(slug: str, **changes: Any) -> PageState:
    """A page as Notion returns it after the tool wrote `record(slug)`."""
    values = {
        "Slug": slug,
        "Contact": (ALICE,),
        "Links": ("a.pdf <https://example.org/a.pdf>", "Site <https://example.org/>"),
        "Founded": "2025-07-01T08:00:00.000Z",  # written in London's summer time, echoed in UTC
        "Kind": "apply",
        "Stage": "Done",
        "Tags": ("a", "b"),
    } | changes
    return PageState(page_id=str(uuid.uuid5(uuid.NAMESPACE_URL, slug)), url="u", key=slug, raw_key=slug, values=values)


def state(*pages: PageState, users: UserDirectory | None = USERS) -> ActualState:
    resource = ResourceState("teams", "db-teams", "ds-teams", SCHEMA, pages, options=OPTIONS, users=users)
    return ActualState(resources={"teams": resource})


def plan_for(j: Job, records: list[dict[str, Any]], actual: ActualState) -> Any:
    return compute_plan([JobInput(j, build_desired(j, records), actual)], now=NOW, config_digest="d")


def test_a_page_as_notion_echoes_it_is_unchanged() -> None:
    plan = plan_for(job(), [record("lambeth")], state(page("lambeth")))
    assert plan.actions == () and plan.diagnostics == ()


def test_a_create_writes_user_ids_files_and_the_zoned_date() -> None:
    plan = plan_for(job(), [record("lambeth")], state())
    (create,) = plan.actions
    after = {c.name: c.after for c in create.changes}
    assert after["Contact"] == (ALICE,)
    assert after["Founded"] == "2025-07-01T09:00:00.000+01:00[Europe/London]"
    assert after["Links"] == ("a.pdf <https://example.org/a.pdf>", "Site <https://example.org/>")
    assert after["Tags"] == ("a", "b")


def test_a_person_changed_in_notion_is_put_back_and_shown_by_name() -> None:
    plan = plan_for(job(), [record("lambeth")], state(page("lambeth", Contact=(BOB,))))
    (update,) = plan.actions
    assert [(c.name, c.before, c.after) for c in update.changes] == [("Contact", (BOB,), (ALICE,))]
    text = render_text(plan_to_dict(plan), color=False)
    assert "Bob Example <bob@example.org>" in text and "Alice Example <alice@example.org>" in text


def test_an_unknown_email_is_that_pages_error_and_the_others_go_on() -> None:
    records = [record("lambeth"), record("medway", email=["bob@example.org", "nobody@example.org"])]
    plan = plan_for(job(), records, state())
    assert [a.key for a in plan.actions] == ["lambeth"]
    (error,) = plan.errors
    assert (error.code, error.key) == ("unknown_person", "medway")
    assert (
        error.message
        == "Contact: no person of the workspace has the email 'n…@example.org'; nothing is written for this key"
    )


def test_a_new_select_option_is_created_by_default_and_refused_when_asked() -> None:
    created = plan_for(job(), [record("lambeth", kind="report")], state(page("lambeth")))
    assert [(c.name, c.after) for a in created.actions for c in a.changes] == [("Kind", "report")]
    refused = plan_for(job(Kind={"new_options": "refuse"}), [record("lambeth", kind="report")], state(page("lambeth")))
    assert refused.actions == ()
    (error,) = refused.errors
    assert error.code == "unknown_option"
    assert error.message == (
        "Kind: select option 'report' not in the schema (new_options: refuse); it has 'apply', 'guidance'; "
        "nothing is written for this key"
    )


def test_an_unknown_status_is_refused_by_default_and_multi_select_names_every_missing_option() -> None:
    plan = plan_for(
        job(Tags={"new_options": "refuse"}), [record("a", stage="Live"), record("b", tags=["a", "x", "y"])], state()
    )
    by_key = {d.key: d.message for d in plan.errors}
    assert (
        "status option 'Live' not in the schema" in by_key["a"]
        and "'Not started', 'In progress', 'Done'" in by_key["a"]
    )
    assert "multi_select options 'x', 'y' not in the schema" in by_key["b"]
    assert option_policy(None, "status") == "refuse" and option_policy(None, "select") == "create"


def test_the_same_instant_in_another_zone_is_not_rewritten_but_another_time_is() -> None:
    same = plan_for(job(), [record("lambeth")], state(page("lambeth", Founded="2025-07-01T04:00:00.000-04:00")))
    assert same.actions == ()
    moved = plan_for(job(), [record("lambeth")], state(page("lambeth", Founded="2025-07-01T09:00:00.000Z")))
    assert [c.name for a in moved.actions for c in a.changes] == ["Founded"]


def test_a_hosted_file_a_person_uploaded_is_replaced_and_order_counts() -> None:
    hosted = plan_for(job(), [record("lambeth")], state(page("lambeth", Links=("a.pdf <notion-hosted>",))))
    assert [c.name for a in hosted.actions for c in a.changes] == ["Links"]
    swapped = ("Site <https://example.org/>", "a.pdf <https://example.org/a.pdf>")
    assert [
        c.name
        for a in plan_for(job(), [record("lambeth")], state(page("lambeth", Links=swapped))).actions
        for c in a.changes
    ] == ["Links"]


def test_an_update_only_resource_matches_on_a_unique_id_and_never_writes_it() -> None:
    j = job()
    notes = ResourceConfig(
        name="notes",
        database="db-teams",
        data_source=None,
        mode="update-only",
        match=MatchKey("Code", "join('-', ['PRJ', to_string(n)])"),
        properties=(PropertyMapping("Note", "slug"),),
    )
    j = Job(name="notes", source=j.source, resources=(notes,))
    pages = [
        PageState(
            page_id=str(uuid.uuid5(uuid.NAMESPACE_URL, str(n))),
            url="u",
            key=f"PRJ-{n}",
            raw_key=f"PRJ-{n}",
            values={"Code": f"PRJ-{n}", "Note": "old" if n == 1 else f"t{n}"},
        )
        for n in (1, 2)
    ]
    resource = ResourceState("notes", "db-teams", "ds", {"Code": "unique_id", "Note": "rich_text"}, tuple(pages))
    plan = compute_plan(
        [
            JobInput(
                j, build_desired(j, [{"n": 1, "slug": "t1"}, {"n": 2, "slug": "t2"}]), ActualState({"notes": resource})
            )
        ],
        now=NOW,
        config_digest="d",
    )
    assert [(a.key, [c.name for c in a.changes]) for a in plan.actions] == [("PRJ-1", ["Note"])]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (PropertyChange("Created", "created_time", None, "2025-01-01"), "a created_time Notion computes"),
        (PropertyChange("Stage", "status", "Done", "Live"), "status option 'Live' not in the schema"),
        (PropertyChange("Kind", "select", None, "report"), None),  # select: create is the default
    ],
)
def test_a_saved_plan_cannot_write_a_computed_property_or_an_option_the_config_refuses(
    change: PropertyChange, problem: str | None
) -> None:
    teams = job().resources[0]
    action = Action("update", "teams", "lambeth", "p", "u", (change,), "r")
    found = saved_change_problem(teams, action, state().resources["teams"])
    assert (found is None) if problem is None else (found is not None and problem in found)


def test_a_saved_plan_keeps_every_new_type_writable() -> None:
    plan = plan_for(job(), [record("lambeth")], state())
    loaded = plan_from_dict(json.loads(json.dumps(plan_document(plan))))
    assert loaded.actions == plan.actions
    requests = {c.name: encode(c.type, c.after) for c in loaded.actions[0].changes}
    assert requests["Contact"] == {"people": [{"id": ALICE}]}
    assert requests["Founded"] == {
        "date": {"start": "2025-07-01T09:00:00.000", "end": None, "time_zone": "Europe/London"}
    }
    assert requests["Links"]["files"][1] == {
        "name": "Site",
        "type": "external",
        "external": {"url": "https://example.org/"},
    }
