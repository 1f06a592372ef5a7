"""Page bodies, icons and covers in compute_plan, as a table of situations (pure: no HTTP, no
clock), and in the plan's JSON form and renderings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from reconcile.content.blocks import block_request, body_hash, node_of
from reconcile.content.markdown import parse_markdown
from reconcile.desired import build_desired
from reconcile.model import (
    BODY_TYPE,
    COVER_TYPE,
    ICON_TYPE,
    ActualState,
    ContentMapping,
    Job,
    MatchKey,
    OnMissing,
    PageState,
    PropertyMapping,
    ResourceConfig,
    ResourceState,
    SourceConfig,
)
from reconcile.plan import JobInput, compute_plan
from reconcile.planfile import plan_document, plan_from_dict
from reconcile.render.markdown import render_markdown
from reconcile.render.text import render_text

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
BOT = "b0700000-0000-4000-8000-000000000001"
SCHEMA = {"Name": "title", "Summary": "rich_text", "Content Hash": "rich_text"}


def job(hash_property: str | None = "Content Hash", icon: str | None = "emoji", cover: str | None = None) -> Job:
    notes = ResourceConfig(
        name="notes",
        database="db",
        data_source=None,
        mode="upsert",
        match=MatchKey(property="Name", expression="slug"),
        properties=(PropertyMapping("Summary", "summary"),),
        on_missing=OnMissing("archive"),
        content=ContentMapping(markdown="body", hash_property=hash_property),
        icon=icon,
        cover=cover,
    )
    return Job(
        name="notes", source=SourceConfig(kind="http", endpoint="x", records="@", key="slug"), resources=(notes,)
    )


def read_back(markdown: str) -> tuple[dict[str, Any], ...]:
    def walk(nodes: list[dict[str, Any]], prefix: str) -> list[dict[str, Any]]:
        out = []
        for i, n in enumerate(nodes):
            request = block_request(n, with_children=False)
            for item in request[request["type"]].get("rich_text", []):
                item["plain_text"] = item["text"]["content"]
            node = node_of({"id": f"{prefix}{i}", **request})
            node["children"] = walk(n.get("children") or [], f"{prefix}{i}.")
            out.append(node)
        return out

    return tuple(walk(parse_markdown(markdown), "blk"))


def page(body: str | None, *, hash_of: str | None = None, icon: str | None = "📝", summary: str = "s") -> PageState:
    values: dict[str, Any] = {"Name": "a", "Summary": summary}
    if hash_of is not None:
        values["Content Hash"] = body_hash(parse_markdown(hash_of))
    return PageState(
        page_id="p-a",
        url="https://notion.so/a",
        key="a",
        raw_key="a",
        values=values,
        icon=icon,
        last_edited_by=BOT,
        body=read_back(body) if body is not None else None,
    )


def plan_for(j: Job, pages: tuple[PageState, ...], body: str = "# Hi\n\nText.", **record: Any) -> Any:
    records = [{"slug": "a", "summary": "s", "body": body, "emoji": "📝", **record}]
    state = ResourceState("notes", "db", "ds", SCHEMA, pages)
    actual = ActualState(resources={"notes": state}, bot_user_id=BOT)
    return compute_plan([JobInput(j, build_desired(j, records), actual)], now=NOW, config_digest="d")


def test_a_body_as_desired_with_its_hash_plans_nothing() -> None:
    body = "# Hi\n\nText."
    assert not plan_for(job(), (page(body, hash_of=body),)).actions
    assert not plan_for(job(), (page(None, hash_of=body),)).actions  # not read: its hash said as desired


def test_a_body_edited_by_someone_is_set_back_with_the_fewest_calls_and_its_hash_rewritten() -> None:
    body = "# Hi\n\nText."
    (action,) = plan_for(job(), (page("# Hi\n\nText edited.\n\nAdded.", hash_of=body),)).actions
    change = {c.type: c for c in action.changes}[BODY_TYPE]
    assert (change.before, change.after) == ("# Hi\n\nText edited.\n\nAdded.", "# Hi\n\nText.")
    assert [op["op"] for op in action.blocks] == ["update", "delete"]
    hashed = next(c for c in action.changes if c.name == "Content Hash")
    assert hashed.before == hashed.after  # written again all the same: the integration edits the page last
    assert action.reason == "differs from the source in Content Hash, body"


def test_a_body_not_read_is_never_written_and_its_hash_never_moved() -> None:
    (action,) = plan_for(job(), (page(None, hash_of="old", summary="old summary"),)).actions
    assert [c.name for c in action.changes] == ["Summary"] and action.blocks == ()


def test_a_body_read_as_desired_with_a_stale_hash_gets_only_its_hash() -> None:
    body = "# Hi\n\nText."
    (action,) = plan_for(job(), (page(body, hash_of="something else"),)).actions
    assert [c.name for c in action.changes] == ["Content Hash"] and action.blocks == ()


@pytest.mark.parametrize(
    ("icon_expr", "live", "wanted", "change"),
    [
        ("emoji", "🔥", "📝", ("🔥", "📝")),
        ("emoji", None, "https://example.org/i.png", (None, "https://example.org/i.png")),
        ("emoji", "📝", None, ("📝", None)),
        (None, "🔥", "📝", None),  # no icon declared: the icon is a person's
    ],
)
def test_icons_are_planned_like_properties(
    icon_expr: str | None, live: str | None, wanted: str | None, change: Any
) -> None:
    body = "# Hi\n\nText."
    plan = plan_for(job(icon=icon_expr), (page(body, hash_of=body, icon=live),), emoji=wanted)
    icons = [(c.before, c.after) for a in plan.actions for c in a.changes if c.type == ICON_TYPE]
    assert icons == ([change] if change else [])


def test_a_cover_that_is_no_url_is_a_per_key_error() -> None:
    body = "# Hi\n\nText."
    plan = plan_for(job(cover="cover"), (page(body, hash_of=body),), cover="not a url")
    assert not plan.actions and [d.code for d in plan.errors] == ["invalid_value"]
    plan = plan_for(job(cover="cover"), (page(body, hash_of=body),), cover="https://example.org/c.png")
    assert [(c.type, c.after) for c in plan.actions[0].changes] == [(COVER_TYPE, "https://example.org/c.png")]


def test_a_create_carries_its_body_hash_icon_and_blocks() -> None:
    (action,) = plan_for(job(), ()).actions
    assert action.action == "create"
    assert [c.type for c in action.changes] == ["title", "rich_text", "rich_text", BODY_TYPE, ICON_TYPE]
    assert [op["op"] for op in action.blocks] == ["with_create"] and action.written_last == ()


def test_the_json_form_round_trips_and_renderers_show_a_line_diff_of_the_body() -> None:
    body = "# Hi\n\nText."
    plan = plan_for(job(), (page("# Hi\n\nText edited.", hash_of=body),))
    document = plan_document(plan)
    assert document["actions"][0]["blocks"] == [dict(op) for op in plan.actions[0].blocks]
    assert plan_from_dict(document) == plan
    text = render_text(document, color=False)
    assert "-Text edited." in text and "+Text." in text
    assert "+Text." in render_markdown(document)
