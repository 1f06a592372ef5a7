"""Planning for the worst day, pure: heals, the heal-only follow-up, stamps after their changes,
stamps Notion says are owed, value types before any write, and a pagination that does not end."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from reconcile.desired import build_desired
from reconcile.errors import NotionError, SchemaMismatchError
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
from reconcile.notion.paging import CursorGuard
from reconcile.plan import JobInput, compute_plan
from reconcile.plan.followup import heal_followup
from reconcile.plan.heal import survivor
from reconcile.plan.types import check_value_types

NOW = datetime(2026, 11, 27, 3, 0, 0, tzinfo=UTC)
BOT = "bot-user"
PERSON = "a-person"
EARLY, LATE = "2026-11-26T03:00:00.000Z", "2026-11-26T03:05:00.000Z"
SERVICES = {"Name": "title", "ExternalCustomerID": "rich_text", "Councils": "relation", "Service Count": "number"}
COUNCILS = {"ExternalCustomerID": "rich_text", "Integration Last Updated": "date"}


def uid(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, name))


def job(**services_kw: Any) -> Job:
    services = ResourceConfig(
        name="services",
        database="db-s",
        data_source=None,
        mode="upsert",
        match=MatchKey("ExternalCustomerID", "slug"),
        properties=(
            PropertyMapping("Name", "name"),
            PropertyMapping("ExternalCustomerID", "slug"),
            PropertyMapping("Councils", relation="councils"),
        ),
        on_missing=OnMissing("archive"),
    )
    councils = ResourceConfig(
        name="councils",
        database="db-c",
        data_source=None,
        mode="update-only",
        match=MatchKey("ExternalCustomerID", "slug"),
        touch=(TouchRule("Integration Last Updated", "services"),),
        on_missing=OnMissing("ignore"),
    )
    source = SourceConfig(kind="graphql", endpoint="http://x", records="teams", key="slug")
    return Job("planx", source, (replace(services, **services_kw), councils))


def service(
    key: str, pid: str, *, by: str = BOT, created: str = EARLY, edited: str = EARLY, **values: Any
) -> PageState:
    base = {"Name": key.title(), "ExternalCustomerID": key, "Councils": (uid(f"c-{key}"),)}
    return PageState(
        page_id=uid(pid),
        url=f"https://www.notion.so/{pid}",
        key=key,
        raw_key=key,
        values={**base, **values},
        created_time=created,
        created_by=by,
        last_edited_time=edited,
        last_edited_by=by,
    )


def council(key: str, *, stamp: str | None = EARLY, edited: str = EARLY) -> PageState:
    values = {"ExternalCustomerID": key, "Integration Last Updated": stamp}
    return PageState(uid(f"c-{key}"), f"https://www.notion.so/c-{key}", key, key, values, last_edited_time=edited)


def state(services: list[PageState], councils: list[PageState], bot: str | None = BOT) -> ActualState:
    return ActualState(
        resources={
            "services": ResourceState("services", "db-s", "ds-s", SERVICES, tuple(services)),
            "councils": ResourceState("councils", "db-c", "ds-c", COUNCILS, tuple(councils)),
        },
        bot_user_id=bot,
    )


def plan_for(actual: ActualState, keys: list[str], the_job: Job | None = None) -> Any:
    the_job = the_job or job()
    desired = build_desired(the_job, [{"slug": k, "name": k.title()} for k in keys])
    return compute_plan([JobInput(the_job, desired, actual)], now=NOW, config_digest="d")


def kinds(plan: Any) -> list[tuple[str, str, str]]:
    return [(a.action, a.resource, a.key) for a in plan.actions]


# ── heal ─────────────────────────────────────────────────────────────────────────────────────────


def test_the_survivor_is_the_oldest_page_then_the_lowest_id() -> None:
    a, b, c = service("x", "a", created=LATE), service("x", "b", created=EARLY), service("x", "c", created=EARLY)
    assert survivor([a, b, c]).page_id == min(b.page_id, c.page_id)
    assert survivor([a, service("x", "d", created="")]).page_id == a.page_id  # an unknown time sorts last


def test_duplicates_the_integration_made_are_healed_and_the_key_lives_on_the_survivor() -> None:
    keep, extra = service("barnet", "s-old", created=EARLY), service("barnet", "s-new", created=LATE, Name="Old")
    plan = plan_for(state([keep, extra], [council("barnet")]), ["barnet"])
    assert kinds(plan) == [("heal", "services", "barnet")]
    assert plan.actions[0].page_id == extra.page_id
    assert keep.page_id in plan.actions[0].reason
    assert not plan.errors
    # The survivor is updated as usual; a heal stamps nothing, the update does.
    changed = replace(keep, values={**keep.values, "Name": "Stale"})
    plan = plan_for(state([changed, extra], [council("barnet")]), ["barnet"])
    assert kinds(plan) == [
        ("update", "services", "barnet"),
        ("heal", "services", "barnet"),
        ("touch", "councils", "barnet"),
    ]
    assert plan.actions[2].changes[0].depends_on == (0,)


@pytest.mark.parametrize(
    ("pages", "bot"),
    [
        ([service("barnet", "s1"), service("barnet", "s2", by=PERSON)], BOT),  # a person made one
        ([service("barnet", "s1"), service("barnet", "s2")], None),  # who the integration is: unknown
    ],
    ids=["a-person-made-one", "bot-unknown"],
)
def test_a_duplicate_not_all_made_by_the_integration_is_blocked(pages: list[PageState], bot: str | None) -> None:
    plan = plan_for(state(pages, [council("barnet", stamp=None)], bot), ["barnet"])
    assert plan.actions == ()  # nothing written for the key, and its council not stamped either
    assert [d.code for d in plan.errors] == ["duplicate_page_key"]


def test_an_update_only_resource_is_never_healed() -> None:
    two = [council("lambeth"), replace(council("lambeth"), page_id=uid("c-lambeth-2"))]
    pages = [replace(p, created_by=BOT) for p in two]
    plan = plan_for(state([service("lambeth", "s1")], pages), ["lambeth"])
    assert [a.action for a in plan.actions] == []
    assert [(d.code, d.resource) for d in plan.errors] == [("duplicate_page_key", "councils")]


def test_the_follow_up_heals_and_points_relations_at_the_survivor_and_nothing_else() -> None:
    # A resource whose relation points at services: its page linked to the extra copy moves.
    watcher = ResourceConfig(
        name="watchers",
        database="db-w",
        data_source=None,
        mode="upsert",
        match=MatchKey("Key", "slug"),
        properties=(PropertyMapping("Service", relation="services"),),
    )
    the_job = replace(job(), resources=(*job().resources, watcher))
    keep, extra = service("barnet", "s-old", created=EARLY), service("barnet", "s-new", created=LATE, Name="Other")
    linked = PageState(uid("w1"), "u", "w1", "w1", {"Key": "w1", "Service": (extra.page_id,)})
    states = {
        "services": ResourceState("services", "db-s", "ds-s", SERVICES, (keep, extra)),
        "watchers": ResourceState("watchers", "db-w", "ds-w", {"Key": "title", "Service": "relation"}, (linked,)),
    }
    actions, diags = heal_followup(the_job, states, BOT, {"services"})
    assert [(a.action, a.resource, a.page_id) for a in actions] == [
        ("update", "watchers", linked.page_id),
        ("heal", "services", extra.page_id),
    ]
    assert actions[0].changes[0].after == (keep.page_id,)
    assert diags == []
    person = replace(extra, created_by=PERSON)
    states["services"] = replace(states["services"], pages=(keep, person))
    actions, diags = heal_followup(the_job, states, BOT, {"services"})
    assert actions == [] and [d.code for d in diags] == ["duplicate_page_key"]


# ── stamps ───────────────────────────────────────────────────────────────────────────────────────


def test_a_council_whose_key_is_blocked_is_never_stamped() -> None:
    councils = [council("barnet"), replace(council("barnet"), page_id=uid("c-barnet-2"))]
    plan = plan_for(state([service("barnet", "s1", Name="Old")], councils), ["barnet"])
    assert kinds(plan) == [("update", "services", "barnet")]


def test_notion_owes_a_stamp_when_the_integration_edited_the_related_page_in_a_later_minute() -> None:
    snapshot = service("barnet", "s1", edited=LATE)
    plan = plan_for(state([snapshot], [council("barnet", edited=EARLY)]), ["barnet"])
    assert kinds(plan) == [("touch", "councils", "barnet")]
    assert "last changed by this integration after this page's stamp" in plan.actions[0].reason
    assert plan.actions[0].changes[0].depends_on == ()
    # The same minute, a person's edit, or an unknown bot: nothing owed.
    for page, bot in (
        (service("barnet", "s1", edited=EARLY), BOT),
        (service("barnet", "s1", edited=LATE, by=PERSON), BOT),
        (service("barnet", "s1", edited=LATE), None),
    ):
        assert plan_for(state([page], [council("barnet", edited=EARLY)], bot), ["barnet"]).actions == ()


def test_notion_owes_a_stamp_to_a_linked_page_that_was_never_stamped() -> None:
    plan = plan_for(state([service("barnet", "s1")], [council("barnet", stamp=None)], None), ["barnet"])
    assert kinds(plan) == [("touch", "councils", "barnet")]
    assert "never stamped" in plan.actions[0].reason


def test_stamps_come_after_every_write_they_record_across_jobs() -> None:
    first = plan_for(state([], [council("barnet"), council("camden")]), ["barnet", "camden"])
    assert kinds(first) == [
        ("create", "services", "barnet"),
        ("create", "services", "camden"),
        ("touch", "councils", "barnet"),
        ("touch", "councils", "camden"),
    ]
    assert [a.changes[0].depends_on for a in first.actions[2:]] == [(0,), (1,)]


# ── types before any write ───────────────────────────────────────────────────────────────────────


def test_a_property_that_cannot_take_its_values_is_one_line_for_the_whole_property() -> None:
    the_job = job(properties=(PropertyMapping("Name", "name"), PropertyMapping("Service Count", "name")))
    desired = build_desired(the_job, [{"slug": "a", "name": "7"}, {"slug": "b", "name": "many"}])
    live = {"services": {"Name": "title", "Service Count": "number"}, "councils": COUNCILS}
    with pytest.raises(SchemaMismatchError) as info:
        check_value_types(the_job, desired, live, {"services": "PlanX Live Services"})
    assert str(info.value) == (
        "services: property 'Service Count' of data source 'PlanX Live Services' is a number in Notion, but the "
        "mapping needs rich_text (for 'b': expected a number) (change the property's type back in Notion, or the "
        "mapping; nothing was written)"
    )
    declared = {"services": {"Service Count": "select"}}
    with pytest.raises(SchemaMismatchError, match="needs select"):
        check_value_types(the_job, desired, live, {}, declared)
    check_value_types(the_job, desired, {**live, "services": {"Name": "title", "Service Count": "rich_text"}}, {})


# ── pagination ───────────────────────────────────────────────────────────────────────────────────


def test_a_cursor_handed_back_twice_or_pages_with_nothing_new_stop_the_query() -> None:
    guard = CursorGuard("querying data source ds")
    guard.advance("c1", ["p1", "p2"])
    with pytest.raises(NotionError, match="handed back the cursor c1 a second time"):
        guard.advance("c1", ["p3"])
    stalled = CursorGuard("querying data source ds")
    stalled.advance("c1", ["p1"])
    stalled.advance("c2", ["p1"])
    stalled.advance("c3", [])
    with pytest.raises(NotionError, match="has_more 3 times in a row without a new page"):
        stalled.advance("c4", ["p1"])
