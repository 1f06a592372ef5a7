"""Every sandbox response validates against Notion's official OpenAPI document (relaxed, see notion_openapi.py).

Requests go through notion-client 3.1.0 over HTTP where it can make them and through httpx otherwise; an httpx
event hook records every response on the wire. Each test also asserts which (route, status) pairs it produced, so a
sandbox that answered everything with one error could not pass by validating as an error.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from notion_client import Client
from notion_client.errors import HTTPResponseError, UnknownHTTPResponseError

from tests.support.fidelity import (
    COUNCILS_DB,
    COUNCILS_DS,
    MISSING,
    SERVICES_DB,
    SERVICES_DS,
    Exchange,
    Recorder,
    assert_no_findings,
    headers,
    inject_faults,
    notion_for,
    raw_for,
    request_quietly,
    start_sandbox,
    title_value,
)
from tests.support.notion_openapi import NotionOpenApi

pytestmark = pytest.mark.slow

JSON_CONTENT_TYPE = "application/json; charset=utf-8"

ALL_TYPES: dict[str, Any] = {
    "Name": {"title": {}},
    "Notes": {"rich_text": {}},
    "Count": {"number": {"format": "number"}},
    "Due": {"date": {}},
    "Done": {"checkbox": {}},
    "Stage": {"select": {"options": [{"name": "Alpha", "color": "red"}]}},
    "Tags": {"multi_select": {"options": [{"name": "x", "color": "blue"}]}},
    "State": {"status": {}},
    "Link": {"url": {}},
    "Mail": {"email": {}},
    "Phone": {"phone_number": {}},
    "Council": {"relation": {"data_source_id": COUNCILS_DS, "type": "dual_property", "dual_property": {}}},
    "Service": {"relation": {"data_source_id": SERVICES_DS, "type": "single_property", "single_property": {}}},
}


def all_values(council: str, service: str) -> dict[str, Any]:
    return {
        "Name": {"title": title_value("Every type")},
        "Notes": {"rich_text": title_value("some notes")},
        "Count": {"number": 4.5},
        "Due": {"date": {"start": "2025-01-31", "end": None, "time_zone": None}},
        "Done": {"checkbox": True},
        "Stage": {"select": {"name": "Alpha"}},
        "Tags": {"multi_select": [{"name": "x"}, {"name": "y"}]},
        "Link": {"url": "https://example.org/a"},
        "Mail": {"email": "a@example.org"},
        "Phone": {"phone_number": "+44 20 7946 0000"},
        "Council": {"relation": [{"id": council}]},
        "Service": {"relation": [{"id": service}]},
    }


def problems(openapi: NotionOpenApi, exchanges: list[Exchange]) -> list[str]:
    """Everything on the wire that Notion would not send: schema errors, missing request ids, non-JSON bodies."""
    found = []
    for exchange in exchanges:
        content_type = exchange.headers.get("content-type", "")
        if content_type != JSON_CONTENT_TYPE:
            found.append(
                f"{exchange.label}: content-type {content_type!r}, Notion sends 'application/json; charset=utf-8'"
            )
        if not content_type.startswith("application/json"):
            continue
        body = exchange.body
        if not isinstance(body, dict) or not isinstance(body.get("request_id"), str):
            found.append(f"{exchange.label}: no request_id in the body")
        if isinstance(body, dict) and body.get("object") == "error" and body.get("status") != exchange.status:
            found.append(f"{exchange.label}: body status {body.get('status')!r}")
        if not exchange.headers.get("x-notion-request-id"):
            found.append(f"{exchange.label}: no x-notion-request-id header")
        found.extend(f"{exchange.label} {error}" for error in openapi.errors(*route_key(exchange), body))
    return found


def route_key(exchange: Exchange) -> tuple[str, str, int]:
    return exchange.method, exchange.path, exchange.status


def seen(openapi: NotionOpenApi, exchanges: list[Exchange]) -> set[tuple[str, str, int]]:
    out = set()
    for exchange in exchanges:
        operation = openapi.operation(exchange.method, exchange.path)
        out.add((exchange.method, operation.template if operation else exchange.path, exchange.status))
    return out


def assert_conforms(openapi: NotionOpenApi, recorder: Recorder, expected: set[tuple[str, str, int]]) -> None:
    assert expected <= seen(openapi, recorder.exchanges)
    assert_no_findings(problems(openapi, recorder.exchanges))


@pytest.fixture(scope="module")
def root(sandbox: Any) -> str:
    parent = notion_for(sandbox, Recorder()).databases.retrieve(database_id=COUNCILS_DB)["parent"]
    assert parent["type"] == "page_id", parent
    return parent["page_id"]


@pytest.fixture(scope="module")
def rows(sandbox: Any) -> dict[str, str]:
    """A seeded council and two new service pages linked to it (the seed has councils only)."""
    notion = notion_for(sandbox, Recorder())
    council = notion.data_sources.query(data_source_id=COUNCILS_DS, page_size=1)["results"][0]["id"]
    services = [
        notion.pages.create(
            parent={"type": "data_source_id", "data_source_id": SERVICES_DS},
            properties={
                "Name": {"title": title_value(f"Service {n}")},
                "Description": {"rich_text": title_value("Apply for planning permission")},
                "Service Count": {"number": 1},
                "ExternalCustomerID": {"rich_text": title_value(f"team-{n}")},
                "Councils": {"relation": [{"id": council}]},
            },
        )["id"]
        for n in range(3)
    ]
    return {"council": council, "service": services[0]}


def new_database(notion: Client, root: str, title: str = "Every type") -> dict[str, Any]:
    return notion.databases.create(
        parent={"type": "page_id", "page_id": root},
        title=title_value(title),
        initial_data_source={"properties": ALL_TYPES},
    )


def test_database_routes(openapi: NotionOpenApi, notion: Client, recorder: Recorder, root: str) -> None:
    notion.databases.retrieve(database_id=COUNCILS_DB)
    created = new_database(notion, root)
    notion.databases.retrieve(database_id=created["id"].replace("-", ""))
    notion.databases.create(parent={"type": "page_id", "page_id": root}, title=title_value("Title only"))
    assert_conforms(
        openapi,
        recorder,
        {("GET", "/v1/databases/{database_id}", 200), ("POST", "/v1/databases", 200)},
    )


def test_data_source_routes(openapi: NotionOpenApi, notion: Client, recorder: Recorder, root: str) -> None:
    notion.data_sources.retrieve(data_source_id=COUNCILS_DS)
    notion.data_sources.retrieve(data_source_id=SERVICES_DS)
    database = new_database(notion, root, "Sources")
    second = notion.data_sources.create(
        parent={"type": "database_id", "database_id": database["id"]},
        properties={"Name": {"title": {}}, "Score": {"number": {}}},
        title=title_value("Second source"),
        icon={"type": "emoji", "emoji": "⚙️"},
    )
    notion.data_sources.update(
        data_source_id=second["id"],
        title=title_value("Renamed source"),
        properties={"Score": {"name": "Points"}, "Note": {"rich_text": {}}},
    )
    notion.data_sources.update(data_source_id=second["id"], archived=True)
    notion.data_sources.update(data_source_id=second["id"], in_trash=False)
    notion.data_sources.retrieve(data_source_id=database["data_sources"][0]["id"])
    assert_conforms(
        openapi,
        recorder,
        {
            ("GET", "/v1/data_sources/{data_source_id}", 200),
            ("POST", "/v1/data_sources", 200),
            ("PATCH", "/v1/data_sources/{data_source_id}", 200),
        },
    )


def test_query_route(openapi: NotionOpenApi, notion: Client, recorder: Recorder, rows: dict[str, str]) -> None:
    first = notion.data_sources.query(data_source_id=SERVICES_DS, page_size=2)
    assert first["has_more"], "three service pages were created"
    notion.data_sources.query(data_source_id=SERVICES_DS, page_size=2, start_cursor=first["next_cursor"])
    notion.data_sources.query(
        data_source_id=COUNCILS_DS,
        filter={
            "or": [
                {"property": "ExternalCustomerID", "rich_text": {"is_not_empty": True}},
                {"and": [{"property": "Name", "title": {"starts_with": "B"}}]},
            ]
        },
        sorts=[
            {"property": "Name", "direction": "ascending"},
            {"timestamp": "created_time", "direction": "descending"},
        ],
    )
    notion.data_sources.query(data_source_id=COUNCILS_DS, in_trash=True)
    notion.data_sources.query(data_source_id=COUNCILS_DS, filter_properties=["title"])
    assert_conforms(openapi, recorder, {("POST", "/v1/data_sources/{data_source_id}/query", 200)})


def test_search_route(
    openapi: NotionOpenApi, notion: Client, recorder: Recorder, root: str, rows: dict[str, str]
) -> None:
    new_database(notion, root, "Searched")  # a data source with every property type among the results
    everything = notion.search(page_size=2)
    assert everything["has_more"], "the seed alone has more than two pages and data sources"
    notion.search(page_size=2, start_cursor=everything["next_cursor"])
    sources = notion.search(query="searched", filter={"property": "object", "value": "data_source"})
    assert [s["object"] for s in sources["results"]] == ["data_source"]
    pages = notion.search(
        query="Service",
        filter={"property": "object", "value": "page"},
        sort={"direction": "ascending", "timestamp": "last_edited_time"},
    )
    assert pages["results"] and {p["object"] for p in pages["results"]} == {"page"}
    assert_conforms(openapi, recorder, {("POST", "/v1/search", 200)})


def test_page_routes(
    openapi: NotionOpenApi, notion: Client, recorder: Recorder, root: str, rows: dict[str, str]
) -> None:
    database = new_database(notion, root, "Pages")
    source = database["data_sources"][0]["id"]
    parent = {"type": "data_source_id", "data_source_id": source}
    page = notion.pages.create(parent=parent, properties=all_values(rows["council"], rows["service"]))
    notion.pages.create(parent=parent, properties={})
    notion.pages.create(parent={"page_id": root}, properties={"title": title_value("Under a page")}, children=[])
    notion.pages.retrieve(page_id=page["id"])
    notion.pages.retrieve(page_id=rows["council"])
    notion.pages.update(page_id=page["id"], properties={"Count": {"number": None}, "Due": {"date": None}})
    notion.pages.update(page_id=page["id"], icon={"type": "emoji", "emoji": "🛴"})
    notion.pages.update(page_id=page["id"], in_trash=True)
    notion.pages.update(page_id=page["id"], archived=False)
    assert_conforms(
        openapi,
        recorder,
        {("POST", "/v1/pages", 200), ("GET", "/v1/pages/{page_id}", 200), ("PATCH", "/v1/pages/{page_id}", 200)},
    )


def test_property_item_route(
    openapi: NotionOpenApi, notion: Client, recorder: Recorder, root: str, rows: dict[str, str]
) -> None:
    database = new_database(notion, root, "Items")
    parent = {"type": "data_source_id", "data_source_id": database["data_sources"][0]["id"]}
    page = notion.pages.create(parent=parent, properties=all_values(rows["council"], rows["service"]))
    for value in page["properties"].values():
        notion.pages.properties.retrieve(page_id=page["id"], property_id=value["id"])
    assert len(page["properties"]) >= len(ALL_TYPES)
    assert_conforms(openapi, recorder, {("GET", "/v1/pages/{page_id}/properties/{property_id}", 200)})


def test_relations_past_25_references(openapi: NotionOpenApi, notion: Client, recorder: Recorder, root: str) -> None:
    database = new_database(notion, root, "Many")
    parent = {"type": "data_source_id", "data_source_id": database["data_sources"][0]["id"]}
    councils = [
        notion.pages.create(
            parent={"type": "data_source_id", "data_source_id": COUNCILS_DS},
            properties={"Name": {"title": title_value(f"Council {n}")}},
        )["id"]
        for n in range(30)
    ]
    page = notion.pages.create(parent=parent, properties={"Council": {"relation": [{"id": c} for c in councils]}})
    assert page["properties"]["Council"].get("has_more") is True
    relation_id = page["properties"]["Council"]["id"]
    first = notion.pages.properties.retrieve(page_id=page["id"], property_id=relation_id, page_size=10)
    assert first["has_more"] is True
    notion.pages.properties.retrieve(
        page_id=page["id"], property_id=relation_id, page_size=10, start_cursor=first["next_cursor"]
    )
    assert_conforms(openapi, recorder, {("GET", "/v1/pages/{page_id}/properties/{property_id}", 200)})


def test_block_delete_and_users_me(openapi: NotionOpenApi, notion: Client, recorder: Recorder, root: str) -> None:
    page = notion.pages.create(parent={"page_id": root}, properties={"title": title_value("Doomed")})
    notion.blocks.delete(block_id=page["id"])
    database = notion.databases.create(parent={"type": "page_id", "page_id": root}, title=title_value("Doomed DB"))
    notion.blocks.delete(block_id=database["id"])
    notion.users.me()
    assert_conforms(openapi, recorder, {("DELETE", "/v1/blocks/{block_id}", 200), ("GET", "/v1/users/me", 200)})


def test_error_classes(openapi: NotionOpenApi, sandbox: Any, notion: Client, recorder: Recorder) -> None:
    pages = {"type": "data_source_id", "data_source_id": SERVICES_DS}
    request_quietly(notion, "POST", "/v1/pages", {"parent": pages, "properties": {"Colour": {"number": 1}}})
    request_quietly(notion, "GET", "/v1/pages/not-an-id")
    request_quietly(notion, "GET", "/v1/nothing/here")
    request_quietly(notion, "GET", f"/v1/pages/{MISSING}")
    request_quietly(notion, "GET", f"/v1/databases/{MISSING}")
    request_quietly(notion, "GET", f"/v1/data_sources/{MISSING}")
    request_quietly(notion, "POST", f"/v1/data_sources/{MISSING}/query", {})
    request_quietly(notion, "PATCH", f"/v1/pages/{MISSING}", {"properties": {}})
    with raw_for(sandbox, recorder) as client:
        client.post("/v1/pages", headers=headers(), content="{nope")
        client.get(f"/v1/databases/{SERVICES_DB}", headers=headers(version=None))
        client.get(f"/v1/databases/{SERVICES_DB}", headers=headers(token=None))
        client.get(f"/v1/databases/{SERVICES_DB}", headers=headers(token="ntn_wrong"))
        client.get(f"/v1/data_sources/{SERVICES_DS}", headers=headers(version="2022-06-28"))
    codes = {(e.status, e.body.get("code")) for e in recorder.exchanges}
    assert codes == {
        (400, "validation_error"),
        (400, "invalid_request_url"),
        (400, "invalid_json"),
        (400, "missing_version"),
        (401, "unauthorized"),
        (404, "object_not_found"),
    }
    assert_no_findings(problems(openapi, recorder.exchanges))


# Sandbox route templates (as its fault rules name them) and a call that reaches each through notion-client.
ROUTE_CALLS: dict[tuple[str, str], Any] = {
    ("GET", "/v1/databases/{id}"): lambda n, ids: n.databases.retrieve(database_id=SERVICES_DB),
    ("POST", "/v1/databases"): lambda n, ids: n.databases.create(
        parent={"type": "page_id", "page_id": ids["root"]}, title=title_value("Faulted")
    ),
    ("GET", "/v1/data_sources/{id}"): lambda n, ids: n.data_sources.retrieve(data_source_id=SERVICES_DS),
    ("PATCH", "/v1/data_sources/{id}"): lambda n, ids: n.data_sources.update(data_source_id=SERVICES_DS, properties={}),
    ("POST", "/v1/data_sources"): lambda n, ids: n.data_sources.create(
        parent={"type": "database_id", "database_id": SERVICES_DB}, properties={"Name": {"title": {}}}
    ),
    ("POST", "/v1/data_sources/{id}/query"): lambda n, ids: n.data_sources.query(data_source_id=SERVICES_DS),
    ("POST", "/v1/pages"): lambda n, ids: n.pages.create(
        parent={"page_id": ids["root"]}, properties={"title": title_value("Faulted")}
    ),
    ("GET", "/v1/pages/{id}"): lambda n, ids: n.pages.retrieve(page_id=ids["council"]),
    ("PATCH", "/v1/pages/{id}"): lambda n, ids: n.pages.update(page_id=ids["council"], properties={}),
    ("GET", "/v1/pages/{id}/properties/{property_id}"): lambda n, ids: n.pages.properties.retrieve(
        page_id=ids["council"], property_id="title"
    ),
    ("DELETE", "/v1/blocks/{id}"): lambda n, ids: n.blocks.delete(block_id=ids["council"]),
    ("GET", "/v1/users/me"): lambda n, ids: n.users.me(),
    ("POST", "/v1/search"): lambda n, ids: n.search(query="Council"),
}
FAULT_STATUSES = (409, 429, 500, 502, 503, 504, 529)


@pytest.mark.parametrize("status", FAULT_STATUSES)
@pytest.mark.parametrize("route", list(ROUTE_CALLS), ids=[f"{m} {t}" for m, t in ROUTE_CALLS])
def test_injected_faults_on_every_route(
    openapi: NotionOpenApi,
    sandbox: Any,
    notion: Client,
    recorder: Recorder,
    root: str,
    rows: dict[str, str],
    route: tuple[str, str],
    status: int,
) -> None:
    method, template = route
    inject_faults(sandbox, [{"method": method, "route": template, "faults": [{"status": status}]}])
    with pytest.raises(HTTPResponseError):
        ROUTE_CALLS[route](notion, {"root": root, **rows})
    assert recorder.last().status == status
    assert_no_findings(problems(openapi, recorder.exchanges))


def test_commit_then_503_body_conforms(
    openapi: NotionOpenApi, sandbox: Any, notion: Client, recorder: Recorder, root: str
) -> None:
    inject_faults(sandbox, [{"method": "POST", "route": "/v1/pages", "faults": [{"commit_then": 503}]}])
    with pytest.raises(HTTPResponseError):
        notion.pages.create(parent={"page_id": root}, properties={"title": title_value("Committed")})
    answer = recorder.last()
    assert answer.status == 503
    committed = answer.body["additional_data"]["committed_resource_id"]
    assert notion.pages.retrieve(page_id=committed)["id"] == committed
    assert_no_findings(problems(openapi, recorder.exchanges))


def test_rate_limited_answer_of_the_limiter_conforms(openapi: NotionOpenApi) -> None:
    recorder = Recorder()
    with start_sandbox(seed="planx", rate_limit=1) as server:
        notion = notion_for(server, recorder)
        for _ in range(20):
            request_quietly(notion, "GET", f"/v1/data_sources/{SERVICES_DS}")
            if recorder.last().status == 429:
                break
    assert recorder.last().status == 429
    assert_no_findings(problems(openapi, recorder.exchanges))


def test_html_502_is_not_json_like_cloudflares(sandbox: Any, notion: Client, recorder: Recorder) -> None:
    inject_faults(sandbox, [{"method": "GET", "route": "/v1/users/me", "faults": [{"status": 502, "body": "html"}]}])
    with pytest.raises(UnknownHTTPResponseError) as raised:
        notion.users.me()
    assert raised.value.code == "notionhq_client_response_error"
    assert recorder.last().status == 502
    assert recorder.last().headers["content-type"].startswith("text/html")
    assert recorder.last().text.lstrip().startswith("<html>")


# Every served route with a valid request: (method, path with `{id}` where an object id goes, id kind, JSON body).
ROUTE_REQUESTS: list[tuple[str, str, str | None, Any]] = [
    ("GET", "/v1/databases/{id}", SERVICES_DB, None),
    ("POST", "/v1/databases", None, {"parent": {"type": "page_id", "page_id": "{root}"}, "title": []}),
    ("GET", "/v1/data_sources/{id}", SERVICES_DS, None),
    ("PATCH", "/v1/data_sources/{id}", SERVICES_DS, {"properties": {}}),
    ("POST", "/v1/data_sources", None, {"parent": {"database_id": SERVICES_DB}, "properties": {"N": {"title": {}}}}),
    ("POST", "/v1/data_sources/{id}/query", SERVICES_DS, {}),
    ("POST", "/v1/pages", None, {"parent": {"page_id": "{root}"}, "properties": {}}),
    ("GET", "/v1/pages/{id}", "{council}", None),
    ("PATCH", "/v1/pages/{id}", "{council}", {"properties": {}}),
    ("GET", "/v1/pages/{id}/properties/title", "{council}", None),
    ("DELETE", "/v1/blocks/{id}", "{council}", None),
    ("GET", "/v1/users/me", None, None),
    ("POST", "/v1/search", None, {"query": "Council"}),
]


def expected_errors(method: str, with_id: bool) -> set[tuple[int, str]]:
    found = {(400, "missing_version"), (401, "unauthorized"), (400, "invalid_request_url"), (400, "validation_error")}
    if method in ("POST", "PATCH"):
        found.add((400, "invalid_json"))
    if with_id:
        found.add((404, "object_not_found"))
    return found


@pytest.mark.parametrize(
    ("method", "template", "object_id", "body"), ROUTE_REQUESTS, ids=[r[1] for r in ROUTE_REQUESTS]
)
def test_error_responses_on_every_route(
    openapi: NotionOpenApi,
    sandbox: Any,
    recorder: Recorder,
    root: str,
    rows: dict[str, str],
    method: str,
    template: str,
    object_id: str | None,
    body: Any,
) -> None:
    def path(with_id: str | None) -> str:
        filled = template.replace("{id}", with_id or "")
        return filled.replace("{council}", rows["council"])

    live = path((object_id or "").replace("{council}", rows["council"]))
    content = None if body is None else json.dumps(body).replace("{root}", root)
    with raw_for(sandbox, recorder) as client:
        client.request(method, live, headers=headers(version=None), content=content)
        client.request(method, live, headers=headers(token=None), content=content)
        client.request(method, live, headers=headers(token="ntn_wrong"), content=content)
        client.request("PUT", live, headers=headers(), content=content)
        if method in ("POST", "PATCH"):
            client.request(method, live, headers=headers(), content="{broken")
        if object_id is not None:
            client.request(method, path(MISSING), headers=headers(), content=content)
            client.request(method, path("not-an-id"), headers=headers(), content=content)
        elif body is not None:
            client.request(method, live, headers=headers(), content=json.dumps({**body, "colour": "red"}))
    codes = {(e.status, e.body.get("code")) for e in recorder.exchanges}
    expected = expected_errors(method, object_id is not None)
    if object_id is None and body is None:
        expected.discard((400, "validation_error"))  # users/me: no id and no body to get wrong
    assert codes == expected
    assert_no_findings(problems(openapi, recorder.exchanges))


# The answers that strictness, sharing, capabilities and realism add, each produced once and validated like the rest.
GRANTS = (
    "ntn_sandbox",
    "ntn_reader:read",
    "ntn_writer:update,insert",
    f"ntn_councils:read,update,insert:{COUNCILS_DS}",
)
BARNET = "c0c11c00-0000-4000-8001-000000000001"


def test_strict_access_and_realism_answers_conform(openapi: NotionOpenApi) -> None:
    recorder = Recorder()
    with start_sandbox(seed="planx", rate_limit=None, tokens=GRANTS, chaos=0.000001) as server:
        server.admin.add_faults(
            [{"method": "PATCH", "route": "/v1/pages/{id}", "faults": [{"commit_then": 504, "commit_delay_ms": 60000}]}]
        )
        with raw_for(server, recorder) as client:
            council = {"parent": {"data_source_id": COUNCILS_DS}}
            page = client.post(
                "/v1/pages",
                headers=headers(),
                json={
                    **council,
                    "properties": {
                        "Name": {"title": title_value("😀" * 1000)},
                        "Integration Last Updated": {
                            "date": {"start": "2025-07-01T10:00", "end": None, "time_zone": "Europe/London"}
                        },
                    },
                },
            ).json()
            client.post(
                "/v1/pages",
                headers=headers(),
                json={**council, "properties": {"Name": {"title": title_value("😀" * 1001)}}},
            )
            client.post(
                "/v1/pages", headers=headers(), json={**council, "properties": {"Name": {"title": [], "foo": 1}}}
            )
            client.post("/v1/pages", headers=headers(token="ntn_reader"), json=council)
            client.post("/v1/pages", headers=headers(token="ntn_writer"), json=council)
            client.get(f"/v1/data_sources/{SERVICES_DS}", headers=headers(token="ntn_councils"))
            client.get(f"/v1/pages/{page['id']}", headers=headers(token="ntn_councils"))
            client.get(f"/v1/pages/{page['id']}/properties/Name", headers=headers())
            client.get("/v1/users/me", headers=headers(version="2024-01-01"))
            patch = {"properties": {"Name": {"title": title_value("Again")}}}
            client.patch(f"/v1/pages/{BARNET}", headers=headers(), json=patch)
            client.patch(f"/v1/pages/{BARNET}", headers=headers(), json=patch)
            server.admin.settle()
            server.admin.settings(workspace_rpm=1)
            client.get("/v1/users/me", headers=headers())
            client.get("/v1/users/me", headers=headers())
    assert {(e.status, e.body.get("code")) for e in recorder.exchanges if e.status != 200} == {
        (400, "validation_error"),
        (400, "missing_version"),
        (403, "restricted_resource"),
        (404, "object_not_found"),
        (409, "conflict_error"),
        (429, "rate_limited"),
        (504, "gateway_timeout"),
    }
    partial = [e for e in recorder.exchanges if e.status == 200 and set(e.body) == {"object", "id", "request_id"}]
    assert partial, "the token without read gets a partial page"
    assert_no_findings(problems(openapi, recorder.exchanges))
