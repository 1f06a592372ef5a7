"""The routes of page content, users, icons/covers, people/files values and schema updates, against the official
OpenAPI document (relaxed as notion_openapi.py explains): every success and every error answer validates.

Requests go through notion-client 3.1.0 where it can make them and through httpx otherwise; each test also asserts
which (route, status) pairs it produced, so a sandbox answering everything with one error could not pass.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from notion_client import Client
from notion_client.errors import HTTPResponseError

from tests.support.fidelity import (
    MISSING,
    Exchange,
    Recorder,
    assert_no_findings,
    headers,
    inject_faults,
    notion_for,
    operations_seen,
    raw_for,
    request_quietly,
    start_sandbox,
    title_value,
    wire_problems,
)
from tests.support.notion_openapi import ORIGINAL_URI, NotionOpenApi

ROOT = "9a9e0000-0000-4000-8000-000000000001"
ALICE = "a11ce000-0000-4000-8000-000000000001"
BOT = "5b8183bd-8984-4417-b2a6-7dc8e439e679"
COVER = {"type": "external", "external": {"url": "https://example.org/cover.png"}}
# Like the other fidelity replays: they need ../shared, so they stay out of the fast lane.
pytestmark = pytest.mark.slow


def rich(content: str) -> list[dict[str, Any]]:
    return [{"type": "text", "text": {"content": content, "link": None}, "annotations": {"italic": True}}]


# One block of each type the sandbox stores, the list ones with a nested child.
EVERY_BLOCK: list[dict[str, Any]] = [
    {"object": "block", "type": "paragraph", "paragraph": {"rich_text": rich("p"), "color": "gray_background"}},
    {"heading_1": {"rich_text": rich("h1")}},
    {"heading_2": {"rich_text": rich("h2"), "is_toggleable": True, "children": [{"paragraph": {"rich_text": []}}]}},
    {"heading_3": {"rich_text": rich("h3"), "color": "red"}},
    {"bulleted_list_item": {"rich_text": rich("b"), "children": [{"numbered_list_item": {"rich_text": rich("n")}}]}},
    {"numbered_list_item": {"rich_text": rich("n")}},
    {"to_do": {"rich_text": rich("t"), "checked": True}},
    {"toggle": {"rich_text": rich("t"), "children": [{"quote": {"rich_text": rich("q")}}]}},
    {"quote": {"rich_text": rich("q")}},
    {"code": {"rich_text": rich("print(1)"), "language": "python", "caption": rich("c")}},
    {"divider": {}},
]


def assert_conforms(openapi: NotionOpenApi, recorder: Recorder, expected: set[tuple[str, str, int]]) -> None:
    assert expected <= operations_seen(openapi, recorder.exchanges)
    assert_no_findings(wire_problems(openapi, recorder.exchanges))


@pytest.fixture(scope="module")
def sandbox() -> Any:
    with start_sandbox(seed="planx", rate_limit=None) as server:
        yield server


@pytest.fixture
def notion(sandbox: Any, recorder: Recorder) -> Client:
    return notion_for(sandbox, recorder)


@pytest.fixture(scope="module")
def body_page(sandbox: Any) -> str:
    """A page with one block of every stored type (made off the record)."""
    notion = notion_for(sandbox, Recorder())
    page = notion.pages.create(
        parent={"page_id": ROOT}, properties={"title": title_value("Body")}, children=EVERY_BLOCK
    )
    return str(page["id"])


# ---------------------------------------------------------------- successes


def test_block_routes(openapi: NotionOpenApi, notion: Client, recorder: Recorder, body_page: str) -> None:
    blocks = notion.blocks.children.list(block_id=body_page, page_size=4)
    rest = notion.blocks.children.list(block_id=body_page, start_cursor=blocks["next_cursor"])
    everything = blocks["results"] + rest["results"]
    assert [b["type"] for b in everything] == [next(k for k in b if k not in ("object", "type")) for b in EVERY_BLOCK]
    for block in everything:
        notion.blocks.retrieve(block_id=block["id"])
        if block["has_children"]:
            notion.blocks.children.list(block_id=block["id"])
    first = everything[0]["id"]
    notion.blocks.children.append(
        block_id=body_page, children=[{"paragraph": {"rich_text": rich("after")}}], after=first
    )
    notion.blocks.children.append(
        block_id=body_page, children=[{"divider": {}}], position={"type": "after_block", "after_block": {"id": first}}
    )
    notion.blocks.children.append(block_id=everything[4]["id"], children=[{"to_do": {"rich_text": []}}])
    notion.blocks.update(block_id=everything[6]["id"], to_do={"checked": False})
    notion.blocks.update(block_id=everything[9]["id"], code={"language": "rust"})
    notion.blocks.update(block_id=everything[0]["id"], paragraph={"rich_text": rich("new"), "color": "blue"})
    notion.blocks.delete(block_id=everything[5]["id"])
    notion.blocks.update(block_id=everything[5]["id"], in_trash=False)
    notion.blocks.update(block_id=everything[5]["id"], archived=True)
    assert_conforms(
        openapi,
        recorder,
        {
            ("GET", "/v1/blocks/{block_id}/children", 200),
            ("PATCH", "/v1/blocks/{block_id}/children", 200),
            ("GET", "/v1/blocks/{block_id}", 200),
            ("PATCH", "/v1/blocks/{block_id}", 200),
            ("DELETE", "/v1/blocks/{block_id}", 200),
        },
    )


def test_child_pages_and_databases_as_blocks(openapi: NotionOpenApi, notion: Client, recorder: Recorder) -> None:
    holder = notion.pages.create(parent={"page_id": ROOT}, properties={"title": title_value("Holder")})
    sub = notion.pages.create(parent={"page_id": holder["id"]}, properties={"title": title_value("Sub")})
    database = notion.databases.create(parent={"type": "page_id", "page_id": holder["id"]}, title=title_value("DB"))
    listed = notion.blocks.children.list(block_id=holder["id"])["results"]
    assert [b["type"] for b in listed] == ["child_page", "child_database"]
    notion.blocks.retrieve(block_id=sub["id"])
    notion.blocks.retrieve(block_id=database["id"])
    notion.blocks.children.list(block_id=ROOT)
    notion.blocks.update(block_id=sub["id"], in_trash=True)
    assert_conforms(
        openapi, recorder, {("GET", "/v1/blocks/{block_id}/children", 200), ("GET", "/v1/blocks/{block_id}", 200)}
    )


def test_user_routes(openapi: NotionOpenApi, notion: Client, recorder: Recorder) -> None:
    first = notion.users.list(page_size=2)
    notion.users.list(page_size=2, start_cursor=first["next_cursor"])
    notion.users.list()
    notion.users.retrieve(user_id=ALICE)
    notion.users.retrieve(user_id=BOT)
    notion.users.me()
    assert_conforms(
        openapi,
        recorder,
        {("GET", "/v1/users", 200), ("GET", "/v1/users/{user_id}", 200), ("GET", "/v1/users/me", 200)},
    )


def test_icons_covers_people_and_files(openapi: NotionOpenApi, notion: Client, recorder: Recorder) -> None:
    database = notion.databases.create(
        parent={"type": "page_id", "page_id": ROOT},
        title=title_value("Values"),
        icon={"type": "emoji", "emoji": "📚"},
        cover=COVER,
        initial_data_source={"properties": {"Name": {"title": {}}, "Owners": {"people": {}}, "Docs": {"files": {}}}},
    )
    source = database["data_sources"][0]["id"]
    notion.databases.update(database_id=database["id"], icon={"external": {"url": "https://example.org/i.png"}})
    notion.data_sources.update(data_source_id=source, icon={"type": "emoji", "emoji": "🗂️"})
    page = notion.pages.create(
        parent={"type": "data_source_id", "data_source_id": source},
        icon={"emoji": "🚀"},
        cover=COVER,
        properties={
            "Name": {"title": title_value("Row")},
            "Owners": {"people": [{"object": "user", "id": ALICE}]},
            "Docs": {"files": [{"name": "Plan", "type": "external", "external": {"url": "https://example.org/p.pdf"}}]},
        },
    )
    notion.pages.retrieve(page_id=page["id"])
    for value in page["properties"].values():
        notion.pages.properties.retrieve(page_id=page["id"], property_id=value["id"])
    notion.pages.update(page_id=page["id"], icon={"type": "external", "external": {"url": "https://e.org/x.png"}})
    notion.pages.update(page_id=page["id"], icon=None, cover=None)
    notion.data_sources.query(data_source_id=source, filter={"property": "Owners", "people": {"contains": ALICE}})
    assert_conforms(
        openapi,
        recorder,
        {
            ("POST", "/v1/databases", 200),
            ("PATCH", "/v1/databases/{database_id}", 200),
            ("POST", "/v1/pages", 200),
            ("PATCH", "/v1/pages/{page_id}", 200),
            ("GET", "/v1/pages/{page_id}/properties/{property_id}", 200),
            ("POST", "/v1/data_sources/{data_source_id}/query", 200),
        },
    )


def test_schema_updates(openapi: NotionOpenApi, notion: Client, recorder: Recorder) -> None:
    database = notion.databases.create(
        parent={"type": "page_id", "page_id": ROOT},
        title=title_value("Schema"),
        initial_data_source={"properties": {"Name": {"title": {}}, "Notes": {"rich_text": {}}}},
    )
    source = database["data_sources"][0]["id"]
    added = {
        "Stage": {"select": {"options": [{"name": "A", "color": "red"}]}},
        "Tags": {"multi_select": {"options": [{"name": "x"}]}},
        "State": {"status": {}},
        "Budget": {"number": {"format": "euro"}, "description": "Money"},
        "Owners": {"people": {}},
        "Docs": {"files": {}},
        "When": {"date": {}},
        "Done": {"checkbox": {}},
        "Site": {"url": {}},
        "Mail": {"email": {}},
        "Phone": {"phone_number": {}},
        "Made": {"created_time": {}},
    }
    notion.data_sources.update(data_source_id=source, properties=added)
    notion.data_sources.update(
        data_source_id=source,
        properties={
            "Notes": {"name": "Remarks"},
            "Stage": {"select": {"options": [{"name": "A"}, {"name": "B", "color": "blue"}]}},
            "Done": None,
            "Site": {"rich_text": {}},
        },
    )
    notion.data_sources.retrieve(data_source_id=source)
    assert_conforms(
        openapi,
        recorder,
        {("PATCH", "/v1/data_sources/{data_source_id}", 200), ("GET", "/v1/data_sources/{data_source_id}", 200)},
    )


# ---------------------------------------------------------------- errors


def test_validation_answers_of_the_new_rules(
    openapi: NotionOpenApi, sandbox: Any, notion: Client, recorder: Recorder, body_page: str
) -> None:
    blocks = f"blocks/{body_page}/children"
    third = {"bulleted_list_item": {"rich_text": [], "children": [{"paragraph": {"rich_text": [], "children": []}}]}}
    for body in (
        {"children": [{"paragraph": {"rich_text": []}}] * 101},
        {"children": [{"bulleted_list_item": {"rich_text": [], "children": [third]}}]},
        {"children": [{"nothing": {}}]},
        {"children": [{"code": {"rich_text": []}}]},
        {"children": [], "position": {"type": "middle"}},
        {},
    ):
        request_quietly(notion, "PATCH", f"/v1/{blocks}", body)
    request_quietly(notion, "PATCH", f"/v1/blocks/{body_page}", {"type": {"paragraph": {}}})
    request_quietly(notion, "GET", f"/v1/{blocks}", query={"start_cursor": "bogus"})
    request_quietly(notion, "GET", "/v1/users", query={"start_cursor": "bogus"})
    request_quietly(notion, "GET", f"/v1/users/{MISSING}")
    request_quietly(notion, "PATCH", f"/v1/pages/{body_page}", {"icon": {"emoji": "rocket"}})
    request_quietly(notion, "PATCH", f"/v1/pages/{body_page}", {"cover": {"emoji": "🚀"}})
    source = "5e541ce5-0000-4000-8000-000000000002"
    request_quietly(notion, "PATCH", f"/v1/data_sources/{source}", {"properties": {"X": {"status": {"options": []}}}})
    request_quietly(notion, "PATCH", f"/v1/data_sources/{source}", {"properties": {"Name": None}})
    messages = [e.body["message"] for e in recorder.exchanges]
    assert all(e.status in (400, 404) for e in recorder.exchanges), messages
    assert any(m.startswith("body failed validation. Fix one:") for m in messages)
    assert_no_findings(wire_problems(openapi, recorder.exchanges))


# The new routes (as the sandbox's fault rules name them) and a call that reaches each through notion-client.
ROUTE_CALLS: dict[tuple[str, str], Any] = {
    ("GET", "/v1/blocks/{id}"): lambda n, page: n.blocks.retrieve(block_id=page),
    ("PATCH", "/v1/blocks/{id}"): lambda n, page: n.blocks.update(block_id=page, in_trash=False),
    ("GET", "/v1/blocks/{id}/children"): lambda n, page: n.blocks.children.list(block_id=page),
    ("PATCH", "/v1/blocks/{id}/children"): lambda n, page: n.blocks.children.append(block_id=page, children=[]),
    ("GET", "/v1/users"): lambda n, page: n.users.list(),
    ("GET", "/v1/users/{id}"): lambda n, page: n.users.retrieve(user_id=ALICE),
}
FAULT_STATUSES = (409, 429, 500, 502, 503, 504, 529)


@pytest.mark.parametrize("status", FAULT_STATUSES)
@pytest.mark.parametrize("route", list(ROUTE_CALLS), ids=[f"{m} {t}" for m, t in ROUTE_CALLS])
def test_injected_faults_on_the_new_routes(
    openapi: NotionOpenApi,
    sandbox: Any,
    notion: Client,
    recorder: Recorder,
    body_page: str,
    route: tuple[str, str],
    status: int,
) -> None:
    method, template = route
    inject_faults(sandbox, [{"method": method, "route": template, "faults": [{"status": status}]}])
    with pytest.raises(HTTPResponseError):
        ROUTE_CALLS[route](notion, body_page)
    assert recorder.last().status == status
    assert_no_findings(wire_problems(openapi, recorder.exchanges))


# Each new route with a valid request: (method, path with `{id}` where an object id goes, the id, JSON body).
ROUTE_REQUESTS: list[tuple[str, str, str | None, Any]] = [
    ("GET", "/v1/blocks/{id}", "{page}", None),
    ("PATCH", "/v1/blocks/{id}", "{page}", {"in_trash": False}),
    ("GET", "/v1/blocks/{id}/children", "{page}", None),
    ("PATCH", "/v1/blocks/{id}/children", "{page}", {"children": []}),
    ("GET", "/v1/users", None, None),
    ("GET", "/v1/users/{id}", ALICE, None),
]


@pytest.mark.parametrize(
    ("method", "template", "object_id", "body"), ROUTE_REQUESTS, ids=[r[1] for r in ROUTE_REQUESTS]
)
def test_error_responses_on_the_new_routes(
    openapi: NotionOpenApi,
    sandbox: Any,
    recorder: Recorder,
    body_page: str,
    method: str,
    template: str,
    object_id: str | None,
    body: Any,
) -> None:
    def path(with_id: str) -> str:
        return template.replace("{id}", with_id)

    live = path((object_id or "").replace("{page}", body_page))
    content = None if body is None else json.dumps(body)
    with raw_for(sandbox, recorder) as client:
        client.request(method, live, headers=headers(version=None), content=content)
        client.request(method, live, headers=headers(token=None), content=content)
        client.request(method, live, headers=headers(token="ntn_wrong"), content=content)
        client.request("PUT", live, headers=headers(), content=content)
        if method == "PATCH":
            client.request(method, live, headers=headers(), content="{broken")
            client.request(method, live, headers=headers(), content=json.dumps({**body, "colour": "red"}))
        if object_id is not None:
            client.request(method, path(MISSING), headers=headers(), content=content)
            client.request(method, path("not-an-id"), headers=headers(), content=content)
        else:
            client.request(method, live, headers=headers(), params={"page_size": 101})
    expected = {
        (400, "missing_version"),
        (401, "unauthorized"),
        (400, "invalid_request_url"),
        (400, "validation_error"),
    }
    if method == "PATCH":
        expected.add((400, "invalid_json"))
    if object_id is not None:
        expected.add((404, "object_not_found"))
    assert {(e.status, e.body.get("code")) for e in recorder.exchanges} == expected
    assert_no_findings(wire_problems(openapi, recorder.exchanges))


def test_access_and_realism_answers_of_the_new_routes(openapi: NotionOpenApi) -> None:
    recorder = Recorder()
    grants = ("ntn_sandbox", "ntn_reader:read", "ntn_writer:update,insert")
    with (
        start_sandbox(seed="empty", rate_limit=None, tokens=grants, chaos=0.000001) as server,
        raw_for(server, recorder) as client,
    ):
        page = client.post("/v1/pages", headers=headers(), json={"parent": {"page_id": ROOT}, "properties": {}})
        children = f"/v1/blocks/{page.json()['id']}/children"
        append = {"children": [{"paragraph": {"rich_text": []}}]}
        client.patch(children, headers=headers(token="ntn_reader"), json=append)
        client.patch(children, headers=headers(token="ntn_writer"), json=append)
        client.get(children, headers=headers(token="ntn_writer"))
        client.get("/v1/users", headers=headers(token="ntn_writer"))
        server.admin.add_faults(
            [
                {"method": "PATCH", "route": "/v1/blocks/{id}/children", "faults": [{"commit_then": 503}]},
                {
                    "method": "PATCH",
                    "route": "/v1/blocks/{id}/children",
                    "faults": [{"commit_then": 504, "commit_delay_ms": 60000}],
                },
            ]
        )
        client.patch(children, headers=headers(), json=append)
        client.patch(children, headers=headers(), json=append)
        client.patch(children, headers=headers(), json=append)
        server.admin.settle()
    codes = {(e.status, e.body.get("code")) for e in recorder.exchanges if e.status != 200}
    assert codes == {
        (403, "restricted_resource"),
        (503, "service_unavailable"),
        (504, "gateway_timeout"),
        (409, "conflict_error"),
    }
    committed = next(e for e in recorder.exchanges if e.status == 503)
    assert len(committed.body["additional_data"]["committed_child_ids"]) == 1
    blind = next(e for e in recorder.exchanges if e.status == 200 and e.method == "PATCH")
    assert [set(r) for r in blind.body["results"]] == [{"object", "id"}]
    others = [e for e in recorder.exchanges if e is not blind]
    assert_no_findings(wire_problems(openapi, others) + partial_list_problems(openapi, blind))


def partial_list_problems(openapi: NotionOpenApi, exchange: Exchange) -> list[str]:
    """A list of partial blocks (the answer to a token without read): the envelope against the document, each
    result against the original partial-block schema (the relaxed document drops partial branches from unions)."""
    envelope = {**exchange.body, "results": []}
    found = openapi.errors(exchange.method, exchange.path, exchange.status, envelope)
    for item in exchange.body["results"]:
        found += openapi.errors_against("/components/schemas/partialBlockObjectResponse", item, ORIGINAL_URI)
    return [f"{exchange.label} {error}" for error in found]
