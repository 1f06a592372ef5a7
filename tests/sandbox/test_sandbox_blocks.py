"""Page content: the block routes through notion-client 3.1.0, with Notion's limits, errors, lifecycle and realism.

Each rule is listed with its source in docs/sandbox.md ("Blocks").
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from notion_client import Client
from notion_client.errors import APIResponseError

from notion_sandbox.ids import Clock
from notion_sandbox.server import SandboxServer
from tests.support.sandbox import PARENT_PAGE, TOKEN, Raw, title

NEW_VERSION = "2026-03-11"


def text(content: str, **annotations: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"type": "text", "text": {"content": content}}
    if annotations:
        item["annotations"] = annotations
    return item


def para(content: str, **extra: Any) -> dict[str, Any]:
    return {"paragraph": {"rich_text": [text(content)], **extra}}


def bullet(content: str, children: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    inner: dict[str, Any] = {"rich_text": [text(content)]}
    if children is not None:
        inner["children"] = children
    return {"type": "bulleted_list_item", "bulleted_list_item": inner}


def plain(block: dict[str, Any]) -> str:
    return "".join(item["plain_text"] for item in block[block["type"]].get("rich_text", []))


def new_page(notion: Client, name: str = "Body", **extra: Any) -> dict[str, Any]:
    return notion.pages.create(parent={"page_id": PARENT_PAGE}, properties={"title": title(name)}, **extra)


def listed(notion: Client, block_id: str) -> list[dict[str, Any]]:
    return notion.blocks.children.list(block_id=block_id)["results"]


def refusal(call: Callable[[], Any]) -> tuple[int, str, str]:
    with pytest.raises(APIResponseError) as raised:
        call()
    return raised.value.status, str(raised.value.code.value), str(raised.value)


# ---------------------------------------------------------------- shapes


def test_a_page_created_with_children_returns_them_as_notion_does(notion: Client) -> None:
    page = new_page(
        notion,
        children=[
            {"object": "block", "type": "heading_2", "heading_2": {"rich_text": [text("Plan", bold=True)]}},
            bullet("first", [para("under first")]),
            {"to_do": {"rich_text": [text("call")], "checked": True}},
            {"code": {"rich_text": [text("ls -l")], "language": "shell"}},
            {"divider": {}},
            {"quote": {"rich_text": [{"text": {"content": "docs", "link": {"url": "https://example.org"}}}]}},
        ],
    )
    blocks = listed(notion, page["id"])
    assert [b["type"] for b in blocks] == ["heading_2", "bulleted_list_item", "to_do", "code", "divider", "quote"]
    heading = blocks[0]
    assert list(heading) == [
        "object", "id", "parent", "created_time", "last_edited_time", "created_by", "last_edited_by",
        "has_children", "archived", "in_trash", "type", "heading_2",
    ]  # fmt: skip
    assert heading["parent"] == {"type": "page_id", "page_id": page["id"]}
    assert heading["created_time"].endswith(":00.000Z") and heading["in_trash"] is heading["archived"] is False
    assert list(heading["heading_2"]) == ["rich_text", "is_toggleable", "color"]
    assert heading["heading_2"]["rich_text"][0]["annotations"]["bold"] is True
    assert blocks[1]["has_children"] is True and blocks[0]["has_children"] is False
    nested = listed(notion, blocks[1]["id"])
    assert (
        nested[0]["parent"] == {"type": "block_id", "block_id": blocks[1]["id"]} and plain(nested[0]) == "under first"
    )
    assert blocks[2]["to_do"] == {"rich_text": blocks[2]["to_do"]["rich_text"], "checked": True, "color": "default"}
    assert list(blocks[3]["code"]) == ["caption", "rich_text", "language"] and blocks[3]["code"]["language"] == "shell"
    assert blocks[4]["divider"] == {}
    assert blocks[5]["quote"]["rich_text"][0]["href"] == "https://example.org"
    assert notion.blocks.retrieve(block_id=blocks[3]["id"]) | {"request_id": None} == blocks[3] | {"request_id": None}


def test_under_the_new_version_blocks_carry_no_archived(sb: SandboxServer) -> None:
    notion = Client(auth=TOKEN, base_url=sb.url, notion_version=NEW_VERSION, retry=False)
    page = new_page(notion, children=[para("x")])
    block = listed(notion, page["id"])[0]
    assert "archived" not in block and block["in_trash"] is False


def test_pages_and_databases_under_a_page_are_listed_as_child_blocks(notion: Client) -> None:
    page = new_page(notion, "Holder", children=[para("before")])
    child = new_page(notion, "Child")
    sub = notion.pages.create(parent={"page_id": page["id"]}, properties={"title": title("Sub")})
    database = notion.databases.create(parent={"page_id": page["id"]}, title=title("Table"))
    blocks = listed(notion, page["id"])
    assert [b["type"] for b in blocks] == ["paragraph", "child_page", "child_database"]
    assert blocks[1]["child_page"] == {"title": "Sub"} and blocks[1]["id"] == sub["id"]
    assert blocks[2]["child_database"] == {"title": "Table"} and blocks[2]["id"] == database["id"]
    assert child["id"] in [b["id"] for b in listed(notion, PARENT_PAGE)]
    assert notion.blocks.retrieve(block_id=sub["id"])["type"] == "child_page"
    notion.pages.update(page_id=sub["id"], in_trash=True)
    assert [b["type"] for b in listed(notion, page["id"])] == ["paragraph", "child_database"]


# ---------------------------------------------------------------- listing


def test_children_are_paged_with_cursors(notion: Client, raw: Raw) -> None:
    page = new_page(notion, children=[para(f"p{n}") for n in range(100)])
    notion.blocks.children.append(block_id=page["id"], children=[para(f"p{n}") for n in range(100, 150)])
    first = notion.blocks.children.list(block_id=page["id"])
    assert len(first["results"]) == 100 and first["has_more"] is True and first["type"] == "block"
    second = notion.blocks.children.list(block_id=page["id"], start_cursor=first["next_cursor"], page_size=100)
    assert [plain(b) for b in second["results"]] == [f"p{n}" for n in range(100, 150)]
    assert second["has_more"] is False and second["next_cursor"] is None
    small = notion.blocks.children.list(block_id=page["id"], page_size=7)
    assert len(small["results"]) == 7
    bad = raw.call("GET", f"/v1/blocks/{page['id']}/children", params={"start_cursor": "bogus"}).json()
    assert bad["message"] == (
        'query failed validation: query.start_cursor should be a valid uuid or `undefined`, instead was `"bogus"`.'
    )
    stranger = "0badc0de-0000-4000-8000-000000000000"
    unknown = raw.call("GET", f"/v1/blocks/{page['id']}/children", params={"start_cursor": stranger}).json()
    assert unknown["message"] == f"The start_cursor provided is invalid: {stranger}"
    over = raw.call("GET", f"/v1/blocks/{page['id']}/children", params={"page_size": 101}).json()
    assert (
        over["message"]
        == "query failed validation: query.page_size should be ≤ `100` or `undefined`, instead was `101`."
    )


def test_a_block_that_is_not_there_or_not_a_uuid(notion: Client) -> None:
    missing = "0badc0de-0000-4000-8000-000000000000"
    assert refusal(lambda: notion.blocks.children.list(block_id=missing)) == (
        404,
        "object_not_found",
        f"Could not find block with ID: {missing}. Make sure the relevant pages and databases are shared with your "
        "integration.",
    )
    assert refusal(lambda: notion.blocks.retrieve(block_id="AAA")) == (
        400,
        "validation_error",
        'path failed validation: path.block_id should be a valid uuid, instead was `"AAA"`.',
    )


# ---------------------------------------------------------------- appending


def test_append_answers_the_new_blocks_and_the_siblings_after_them(notion: Client) -> None:
    page = new_page(notion, children=[para("first"), para("last")])
    first, last = listed(notion, page["id"])
    end = notion.blocks.children.append(block_id=page["id"], children=[para("end")])
    assert [plain(b) for b in end["results"]] == ["end"]
    middle = notion.blocks.children.append(block_id=page["id"], children=[para("middle")], after=first["id"])
    assert [plain(b) for b in middle["results"]] == ["middle", "last", "end"]
    start = notion.blocks.children.append(block_id=page["id"], children=[para("start")], position={"type": "start"})
    assert [plain(b) for b in start["results"]] == ["start", "first", "middle", "last", "end"]
    placed = notion.blocks.children.append(
        block_id=page["id"],
        children=[para("after last")],
        position={"type": "after_block", "after_block": {"id": last["id"]}},
    )
    assert [plain(b) for b in placed["results"]] == ["after last", "end"]
    assert [plain(b) for b in listed(notion, page["id"])] == ["start", "first", "middle", "last", "after last", "end"]


def test_append_position_is_checked(notion: Client, raw: Raw) -> None:
    page = new_page(notion, children=[para("only")])
    other = new_page(notion, "Other", children=[para("elsewhere")])
    elsewhere = listed(notion, other["id"])[0]["id"]
    status, code, message = refusal(
        lambda: notion.blocks.children.append(block_id=page["id"], children=[para("x")], after=elsewhere)
    )
    assert (status, code) == (400, "validation_error") and elsewhere in message
    status, code, message = refusal(
        lambda: notion.blocks.children.append(block_id=page["id"], children=[para("x")], position={"type": "middle"})
    )
    assert message == (
        'body failed validation: body.position.type should be `"after_block"`, `"start"`, or `"end"`, instead was '
        '`"middle"`.'
    )
    body = {"children": [para("x")], "after": listed(notion, page["id"])[0]["id"]}
    newer = raw.call("PATCH", f"/v1/blocks/{page['id']}/children", body, version=NEW_VERSION).json()
    assert newer["message"].startswith("body failed validation: body.after should be not present")


def test_append_limits_are_notions(notion: Client) -> None:
    page = new_page(notion)
    assert refusal(lambda: notion.blocks.children.append(block_id=page["id"], children=[para("x")] * 101)) == (
        400,
        "validation_error",
        "body failed validation: body.children.length should be ≤ `100`, instead was `101`.",
    )
    third = [bullet("1", [bullet("2", [bullet("3", [])])])]
    _, _, message = refusal(lambda: notion.blocks.children.append(block_id=page["id"], children=third))
    assert message == (
        "body failed validation: body.children[0].bulleted_list_item.children[0].bulleted_list_item.children[0]"
        ".bulleted_list_item.children should be not present, instead was `[]`."
    )
    two_levels = [bullet("1", [bullet("2", [bullet("3")])])]
    notion.blocks.children.append(block_id=page["id"], children=two_levels)
    assert listed(notion, page["id"])[0]["has_children"] is True
    long_text = [{"paragraph": {"rich_text": [text("😀" * 1001)]}}]
    assert refusal(lambda: notion.blocks.children.append(block_id=page["id"], children=long_text))[2] == (
        "body failed validation: body.children[0].paragraph.rich_text[0].text.content.length should be ≤ `2000`, "
        "instead was `2002`."
    )
    many_items = [{"paragraph": {"rich_text": [text("x")] * 101}}]
    assert refusal(lambda: notion.blocks.children.append(block_id=page["id"], children=many_items))[2] == (
        "body failed validation: body.children[0].paragraph.rich_text.length should be ≤ `100`, instead was `101`."
    )
    assert notion.blocks.children.append(block_id=page["id"], children=[])["results"] == []
    assert refusal(lambda: notion.request(path=f"blocks/{page['id']}/children", method="PATCH", body={})) == (
        400,
        "validation_error",
        "body failed validation: body.children should be defined, instead was `undefined`.",
    )


def test_block_shapes_are_checked_like_notions_union(notion: Client) -> None:
    page = new_page(notion)

    def appended(*children: Any) -> str:
        return refusal(lambda: notion.blocks.children.append(block_id=page["id"], children=list(children)))[2]

    assert appended({"type": "toggle", "toggle": {"rich_text": []}, "children": []}) == (
        "body failed validation: body.children[0].children should be not present, instead was `[]`."
    )
    assert appended({"paragraph": {}}) == (
        "body failed validation: body.children[0].paragraph.rich_text should be defined, instead was `undefined`."
    )
    assert appended({"paragraph": {"rich_text": [], "colour": "red"}}) == (
        'body failed validation: body.children[0].paragraph.colour should be not present, instead was `"red"`.'
    )
    nothing = appended({"words": "hello"})
    assert nothing.startswith("body failed validation. Fix one:\nbody.children[0].embed should be defined")
    assert "\nbody.children[0].paragraph should be defined, instead was `undefined`.\n" in nothing
    assert appended({"code": {"rich_text": []}}) == (
        "body failed validation: body.children[0].code.language should be defined, instead was `undefined`."
    )
    assert appended({"code": {"rich_text": [], "language": "klingon"}}).startswith(
        'body failed validation: body.children[0].code.language should be `"abap"`, `"abc"`'
    )
    assert appended({"paragraph": {"rich_text": [], "color": "teal"}}).startswith(
        'body failed validation: body.children[0].paragraph.color should be `"default"`, `"gray"`'
    )
    assert appended({"divider": {"rich_text": []}}) == (
        "body failed validation: body.children[0].divider.rich_text should be not present, instead was `[]`."
    )
    assert appended({"to_do": {"rich_text": [], "checked": "yes"}}) == (
        "body failed validation: body.children[0].to_do.checked should be a boolean or `undefined`, "
        'instead was `"yes"`.'
    )
    assert appended({"type": "paragraph", "heading_1": {"rich_text": []}}) == (
        "body failed validation: body.children[0].paragraph should be defined, instead was `undefined`."
    )
    assert appended({"image": {"external": {"url": "https://example.org/a.png"}}}).startswith(
        "body.children[0]: notion_sandbox does not store image blocks"
    )
    assert listed(notion, page["id"]) == []


def test_only_blocks_that_hold_children_take_them(notion: Client) -> None:
    page = new_page(notion, children=[{"divider": {}}, {"heading_1": {"rich_text": [text("H")]}}])
    divider, heading = listed(notion, page["id"])
    assert refusal(lambda: notion.blocks.children.append(block_id=divider["id"], children=[para("x")]))[2] == (
        "Block type divider does not support children."
    )
    assert refusal(lambda: notion.blocks.children.append(block_id=heading["id"], children=[para("x")]))[0] == 400
    toggled = notion.blocks.update(block_id=heading["id"], heading_1={"rich_text": [text("H")], "is_toggleable": True})
    assert toggled["heading_1"]["is_toggleable"] is True
    notion.blocks.children.append(block_id=heading["id"], children=[para("inside")])
    assert notion.blocks.retrieve(block_id=heading["id"])["has_children"] is True


# ---------------------------------------------------------------- updating and deleting


def test_update_replaces_the_fields_given_and_keeps_the_rest(notion: Client) -> None:
    page = new_page(notion, children=[para("old", color="orange_background"), {"to_do": {"rich_text": [text("t")]}}])
    paragraph, todo = listed(notion, page["id"])
    updated = notion.blocks.update(block_id=paragraph["id"], paragraph={"rich_text": [text("new")]})
    assert plain(updated) == "new" and updated["paragraph"]["color"] == "orange_background"
    checked = notion.blocks.update(block_id=todo["id"], to_do={"checked": True})
    assert checked["to_do"]["checked"] is True and plain(checked) == "t"
    status, code, message = refusal(lambda: notion.blocks.update(block_id=todo["id"], paragraph={"rich_text": []}))
    assert (status, code) == (400, "validation_error") and "to_do" in message
    assert refusal(lambda: notion.blocks.update(block_id=paragraph["id"], paragraph={"children": []}))[2] == (
        "body failed validation: body.paragraph.children should be not present, instead was `[]`."
    )
    assert refusal(lambda: notion.blocks.update(block_id=paragraph["id"], paragraph={}))[2] == (
        "body failed validation: body.paragraph.rich_text should be defined, instead was `undefined`."
    )
    wrapped = refusal(
        lambda: notion.request(path=f"blocks/{paragraph['id']}", method="PATCH", body={"type": {"paragraph": {}}})
    )[2]
    assert wrapped.startswith("body failed validation. Fix one:\nbody.type should be not present")
    assert plain(listed(notion, page["id"])[0]) == "new"


def test_delete_trashes_a_block_and_a_trashed_block_is_read_only(notion: Client) -> None:
    page = new_page(notion, children=[bullet("gone", [para("inside")]), para("stays")])
    gone, stays = listed(notion, page["id"])
    deleted = notion.blocks.delete(block_id=gone["id"])
    assert deleted["in_trash"] is deleted["archived"] is True and deleted["type"] == "bulleted_list_item"
    assert [b["id"] for b in listed(notion, page["id"])] == [stays["id"]]
    assert notion.blocks.retrieve(block_id=gone["id"])["in_trash"] is True
    archived = "Can't edit block that is archived. You must unarchive the block before editing."
    assert refusal(lambda: notion.blocks.delete(block_id=gone["id"]))[2] == archived
    assert refusal(lambda: notion.blocks.update(block_id=gone["id"], bulleted_list_item={"rich_text": []}))[2] == (
        archived
    )
    assert refusal(lambda: notion.blocks.children.append(block_id=gone["id"], children=[para("x")]))[2] == archived
    restored = notion.blocks.update(block_id=gone["id"], in_trash=False)
    assert restored["in_trash"] is False
    assert [b["id"] for b in listed(notion, page["id"])] == [gone["id"], stays["id"]]


def test_a_trashed_page_takes_no_content(notion: Client) -> None:
    page = new_page(notion, children=[para("x")])
    notion.pages.update(page_id=page["id"], in_trash=True)
    assert refusal(lambda: notion.blocks.children.append(block_id=page["id"], children=[para("y")]))[2] == (
        "Can't edit block that is archived. You must unarchive the block before editing."
    )
    block = listed(notion, page["id"])[0]
    assert refusal(lambda: notion.blocks.update(block_id=block["id"], paragraph={"rich_text": []}))[2] == (
        "Can't edit block that is archived. You must unarchive the block before editing."
    )
    assert refusal(lambda: notion.blocks.delete(block_id=block["id"]))[1] == "validation_error"


def test_erase_content_trashes_the_body(notion: Client) -> None:
    page = new_page(notion, children=[para("a"), para("b")])
    sub = notion.pages.create(parent={"page_id": page["id"]}, properties={"title": title("kept")})
    notion.pages.update(page_id=page["id"], erase_content=True)
    assert [b["id"] for b in listed(notion, page["id"])] == [sub["id"]]


# ---------------------------------------------------------------- the page's edit time


@pytest.fixture
def timed() -> Iterator[tuple[SandboxServer, list[datetime]]]:
    now = [datetime(2026, 3, 2, 9, 0, 5, tzinfo=UTC)]
    with SandboxServer(port=0, seed="empty", rate_limit=None, clock=Clock(wall=lambda: now[0])) as server:
        yield server, now


def test_editing_the_body_through_the_api_leaves_the_page_last_edited_time(
    timed: tuple[SandboxServer, list[datetime]],
) -> None:
    server, now = timed
    notion = Client(auth=TOKEN, base_url=server.url, retry=False)
    page = new_page(notion, children=[para("a")])
    assert page["last_edited_time"] == "2026-03-02T09:00:00.000Z"
    block = listed(notion, page["id"])[0]
    steps = [
        lambda: notion.blocks.children.append(block_id=page["id"], children=[para("b")]),
        lambda: notion.blocks.update(block_id=block["id"], paragraph={"rich_text": [text("c")]}),
        lambda: notion.blocks.children.append(block_id=block["id"], children=[para("nested")]),
        lambda: notion.blocks.delete(block_id=block["id"]),
    ]
    for step in steps:
        now[0] += timedelta(minutes=1)
        step()
        assert notion.pages.retrieve(page_id=page["id"])["last_edited_time"] == "2026-03-02T09:00:00.000Z"
    assert [plain(b) for b in listed(notion, page["id"])] == ["b"]
    source = notion.databases.create(
        parent={"page_id": PARENT_PAGE},
        title=title("Rows"),
        initial_data_source={"properties": {"Name": {"title": {}}}},
    )["data_sources"][0]["id"]
    row = notion.pages.create(parent={"data_source_id": source}, properties={"Name": {"title": title("r")}})
    now[0] += timedelta(minutes=5)
    notion.blocks.children.append(block_id=row["id"], children=[para("body")])
    edited = notion.data_sources.query(
        data_source_id=source,
        filter={"timestamp": "last_edited_time", "last_edited_time": {"on_or_after": "2026-03-02T09:09:00Z"}},
    )["results"]
    assert edited == []


# ---------------------------------------------------------------- access and realism


def test_block_routes_need_their_capability_and_sharing() -> None:
    grants = ("ntn_all", "ntn_reader:read", "ntn_writer:update,insert", f"ntn_one:read,update,insert:{PARENT_PAGE}")
    with SandboxServer(port=0, seed="empty", rate_limit=None, tokens=grants) as server:
        raw = Raw(server.url)
        made = raw.call("POST", "/v1/pages", {"parent": {"workspace": True}, "properties": {}}, token="ntn_all")
        secret = made.json()["id"]
        page = raw.call(
            "POST", "/v1/pages", {"parent": {"page_id": PARENT_PAGE}, "children": [para("x")]}, token="ntn_all"
        ).json()["id"]
        append = {"children": [para("y")]}
        assert raw.call("GET", f"/v1/blocks/{page}/children", token="ntn_reader").status_code == 200
        denied = raw.call("PATCH", f"/v1/blocks/{page}/children", append, token="ntn_reader").json()
        assert (denied["status"], denied["code"]) == (403, "restricted_resource")
        blind = raw.call("PATCH", f"/v1/blocks/{page}/children", append, token="ntn_writer").json()
        assert [set(b) for b in blind["results"]] == [{"object", "id"}]
        assert (
            raw.call("GET", f"/v1/blocks/{page}/children", token="ntn_writer").json()["code"] == "restricted_resource"
        )
        block = blind["results"][0]["id"]
        assert raw.call("DELETE", f"/v1/blocks/{block}", token="ntn_reader").json()["code"] == "restricted_resource"
        hidden = raw.call("GET", f"/v1/blocks/{secret}/children", token="ntn_one").json()
        assert (hidden["status"], hidden["message"].split(".")[0]) == (404, f"Could not find block with ID: {secret}")
        assert raw.call("GET", f"/v1/blocks/{block}", token="ntn_one").status_code == 200


def test_an_append_that_commits_then_fails_names_the_committed_children(sb: SandboxServer, raw: Raw) -> None:
    page = raw.call("POST", "/v1/pages", {"parent": {"page_id": PARENT_PAGE}, "properties": {}}).json()["id"]
    sb.admin.add_faults([{"method": "PATCH", "route": "/v1/blocks/{id}/children", "faults": [{"commit_then": 503}]}])
    answer = raw.call("PATCH", f"/v1/blocks/{page}/children", {"children": [para("a"), para("b")]}).json()
    assert answer["status"] == 503
    stored = [b["id"] for b in raw.call("GET", f"/v1/blocks/{page}/children").json()["results"]]
    assert answer["additional_data"]["committed_child_ids"] == stored and len(stored) == 2


def test_overlapping_appends_to_one_page_conflict_with_chaos_on(sb: SandboxServer, raw: Raw) -> None:
    page = raw.call("POST", "/v1/pages", {"parent": {"page_id": PARENT_PAGE}, "properties": {}}).json()["id"]
    sb.admin.settings(chaos=0.000001)
    late = {"commit_then": 504, "commit_delay_ms": 60000}
    sb.admin.add_faults([{"method": "PATCH", "route": "/v1/blocks/{id}/children", "faults": [late]}])
    body = {"children": [para("a")]}
    assert raw.call("PATCH", f"/v1/blocks/{page}/children", body).status_code == 504
    assert raw.call("PATCH", f"/v1/blocks/{page}/children", body).json()["code"] == "conflict_error"
    sb.admin.settle()
    assert len(raw.call("GET", f"/v1/blocks/{page}/children").json()["results"]) == 1


def test_block_routes_are_rate_limited() -> None:
    with SandboxServer(port=0, seed="empty", rate_limit=1, burst=2) as server:
        raw = Raw(server.url)
        statuses = [raw.call("GET", f"/v1/blocks/{PARENT_PAGE}/children").status_code for _ in range(4)]
        assert statuses[:2] == [200, 200] and 429 in statuses[2:]


def test_block_requests_are_logged_under_their_templates(sb: SandboxServer, notion: Client) -> None:
    page = new_page(notion, children=[para("x")])
    block = listed(notion, page["id"])[0]["id"]
    notion.blocks.update(block_id=block, paragraph={"rich_text": []})
    notion.blocks.retrieve(block_id=block)
    notion.blocks.delete(block_id=block)
    routes = sb.admin.requests()["by_route"]
    for route in (
        "GET /v1/blocks/{id}/children",
        "PATCH /v1/blocks/{id}",
        "GET /v1/blocks/{id}",
        "DELETE /v1/blocks/{id}",
    ):
        assert routes[route] == 1, route


# ---------------------------------------------------------------- state and help


def test_the_state_keeps_the_content_and_the_people(sb: SandboxServer, notion: Client) -> None:
    page = new_page(notion, children=[bullet("kept", [para("nested")])])
    dump = sb.admin.state()
    sb.admin.reset("empty")
    assert refusal(lambda: listed(notion, page["id"]))[0] == 404
    sb.admin.put_state(dump)
    top = listed(notion, page["id"])
    assert [plain(b) for b in top] == ["kept"] and [plain(b) for b in listed(notion, top[0]["id"])] == ["nested"]
    assert len(dump["users"]) == 3 and page["id"] in dump["children"][PARENT_PAGE]


def test_serve_help_names_the_content_and_user_routes() -> None:
    from click.testing import CliRunner

    from notion_sandbox.cli import sandbox as sandbox_cli

    shown = CliRunner().invoke(sandbox_cli, ["serve", "--help"]).output
    for route in ("GET/PATCH/DELETE /v1/blocks/{id}", "PATCH /v1/blocks/{id}/children", "GET /v1/users/{id}"):
        assert route in shown, route


def test_markdown_content_is_refused_rather_than_dropped(raw: Raw) -> None:
    body = {"parent": {"page_id": PARENT_PAGE}, "properties": {}, "markdown": "# Title"}
    refused = raw.call("POST", "/v1/pages", body).json()
    assert (refused["status"], refused["code"]) == (400, "validation_error")
    assert refused["message"].startswith("body.markdown: notion_sandbox does not model Markdown page content")
