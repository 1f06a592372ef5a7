"""Notion's error messages, word for word (FACTS.md §3.2, the table in §3.8, §2.3 and §7).

Each case is a request that triggers one error and the exact status, code and message Notion answers with. Requests
with a JSON body go through notion-client 3.1.0 (``Client.request``); those it cannot make (no token, no version,
broken JSON, another API version) go through httpx. Messages marked "pattern" are built from Notion's validator
pattern seen in §3.2 rather than quoted from a recording; every other one is quoted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from notion_client.errors import HTTPResponseError

from tests.support.fidelity import (
    COUNCILS_DS,
    MISSING,
    SERVICES_DB,
    SERVICES_DS,
    SHARING_HINT,
    Exchange,
    Recorder,
    headers,
    inject_faults,
    notion_for,
    raw_for,
    request_quietly,
    start_sandbox,
    title_value,
)

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Case:
    """A request (path and body may name ``{page}``, ``{trashed}``, ``{root}``, ``{tasks_ds}``) and the answer."""

    name: str
    method: str
    path: str
    status: int
    code: str
    message: str
    body: Any = None
    raw: str | None = None
    header_overrides: dict[str, str | None] = field(default_factory=dict)


def services_page(properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"parent": {"type": "data_source_id", "data_source_id": SERVICES_DS}, "properties": properties, **extra}


def paragraphs(count: int) -> list[dict[str, Any]]:
    block = {"object": "block", "type": "paragraph", "paragraph": {"rich_text": title_value("p")}}
    return [block] * count


def validation(name: str, method: str, path: str, message: str, body: Any = None) -> Case:
    return Case(name, method, path, 400, "validation_error", message, body=body)


CASES = [
    validation(
        "text-content-over-2000",
        "POST",
        "/v1/pages",
        "body failed validation: body.properties.Description.rich_text[0].text.content.length should be ≤ `2000`, "
        "instead was `3659`.",
        services_page({"Description": {"rich_text": title_value("x" * 3659)}}),
    ),
    validation(
        "title-content-over-2000 (pattern)",
        "POST",
        "/v1/pages",
        "body failed validation: body.properties.Name.title[0].text.content.length should be ≤ `2000`, "
        "instead was `2001`.",
        services_page({"Name": {"title": title_value("x" * 2001)}}),
    ),
    validation(
        "children-over-100",
        "POST",
        "/v1/pages",
        "body failed validation: body.children.length should be ≤ `100`, instead was `101`.",
        {"parent": {"page_id": "{root}"}, "properties": {"title": title_value("t")}, "children": paragraphs(101)},
    ),
    validation(
        "rich-text-array-over-100 (pattern)",
        "POST",
        "/v1/pages",
        "body failed validation: body.properties.Description.rich_text.length should be ≤ `100`, instead was `101`.",
        services_page({"Description": {"rich_text": title_value("x") * 101}}),
    ),
    validation(
        "relation-array-over-100 (pattern)",
        "PATCH",
        "/v1/pages/{page}",
        "body failed validation: body.properties.Councils.relation.length should be ≤ `100`, instead was `101`.",
        {"properties": {"Councils": {"relation": [{"id": "{page}"}] * 101}}},
    ),
    validation(
        "unknown-body-key",
        "POST",
        "/v1/pages",
        'body failed validation: body.colour should be not present, instead was `"red"`.',
        services_page({}, colour="red"),
    ),
    validation(
        "children-not-an-array",
        "POST",
        "/v1/pages",
        'body failed validation: body.children should be an array, instead was `"x"`.',
        {"parent": {"page_id": "{root}"}, "properties": {"title": title_value("t")}, "children": "x"},
    ),
    validation(
        "invalid-page-uuid-in-path",
        "GET",
        "/v1/pages/not-an-id",
        'path failed validation: path.page_id should be a valid uuid, instead was `"not-an-id"`.',
    ),
    validation(
        "invalid-database-uuid-in-path (pattern)",
        "GET",
        "/v1/databases/not-an-id",
        'path failed validation: path.database_id should be a valid uuid, instead was `"not-an-id"`.',
    ),
    validation(
        "invalid-data-source-uuid-in-path (pattern)",
        "POST",
        "/v1/data_sources/not-an-id/query",
        'path failed validation: path.data_source_id should be a valid uuid, instead was `"not-an-id"`.',
        {},
    ),
    validation(
        "page-size-not-a-number",
        "POST",
        f"/v1/data_sources/{SERVICES_DS}/query",
        'body failed validation: body.page_size should be a number or `undefined`, instead was `"ten"`.',
        {"page_size": "ten"},
    ),
    validation(
        "page-size-over-100-in-query-string",
        "GET",
        "/v1/pages/{page}/properties/title?page_size=101",
        "query failed validation: query.page_size should be ≤ `100` or `undefined`, instead was `101`.",
    ),
    # The official document types start_cursor as a uuid for data source queries (so a non-uuid fails body
    # validation, in the §3.2 pattern) but as a plain string for property items, like the users list, whose bad cursor
    # is answered "The start_cursor provided is invalid: bogus" (§3.3).
    validation(
        "start-cursor-not-a-uuid-in-query-body (pattern)",
        "POST",
        f"/v1/data_sources/{SERVICES_DS}/query",
        'body failed validation: body.start_cursor should be a valid uuid or `undefined`, instead was `"bogus"`.',
        {"start_cursor": "bogus"},
    ),
    validation(
        "start-cursor-unknown-on-property-item",
        "GET",
        "/v1/pages/{page}/properties/title?start_cursor=bogus",
        "The start_cursor provided is invalid: bogus",
    ),
    validation(
        "unknown-property-on-page-write",
        "PATCH",
        "/v1/pages/{page}",
        "Colour is not a property that exists.",
        {"properties": {"Colour": {"rich_text": title_value("red")}}},
    ),
    validation(
        "unknown-property-on-page-create",
        "POST",
        "/v1/pages",
        "Name2 is not a property that exists.",
        services_page({"Name2": {"title": title_value("x")}}),
    ),
    validation(
        "wrong-property-type-on-page-write",
        "PATCH",
        "/v1/pages/{page}",
        "ExternalCustomerID is expected to be rich_text.",
        {"properties": {"ExternalCustomerID": {"number": 3}}},
    ),
    validation(
        "select-option-with-comma",
        "POST",
        "/v1/pages",
        "Invalid select option, commas not allowed: High, really",
        {
            "parent": {"type": "data_source_id", "data_source_id": "{tasks_ds}"},
            "properties": {"Priority": {"select": {"name": "High, really"}}},
        },
    ),
    validation(
        "query-filter-on-unknown-property",
        "POST",
        f"/v1/data_sources/{SERVICES_DS}/query",
        "Could not find property with name or id: Colour",
        {"filter": {"property": "Colour", "rich_text": {"equals": "red"}}},
    ),
    validation(
        "query-sort-on-unknown-property",
        "POST",
        f"/v1/data_sources/{SERVICES_DS}/query",
        "Could not find sort property with name or id: Colour",
        {"sorts": [{"property": "Colour", "direction": "ascending"}]},
    ),
    validation(
        "query-filter-type-mismatch",
        "POST",
        f"/v1/data_sources/{SERVICES_DS}/query",
        "The property type in the database does not match the property type of the filter provided: "
        "database property number does not match filter rich_text",
        {"filter": {"property": "Service Count", "rich_text": {"equals": "3"}}},
    ),
    validation(
        "edit-of-a-trashed-page",
        "PATCH",
        "/v1/pages/{trashed}",
        "Can't edit block that is archived. You must unarchive the block before editing.",
        {"properties": {"Name": {"title": title_value("again")}}},
    ),
    # §3.8 quotes this one as "instead was undefined." from the docs; every recorded body message (§3.2) prints the
    # absent value as `undefined` in backticks, which is what is asked here.
    validation(
        "properties-not-defined-on-data-source-create",
        "POST",
        "/v1/data_sources",
        "body failed validation: body.properties should be defined, instead was `undefined`.",
        {"parent": {"type": "database_id", "database_id": SERVICES_DB}},
    ),
    Case(
        "page-not-found",
        "GET",
        f"/v1/pages/{MISSING}",
        404,
        "object_not_found",
        f"Could not find page with ID: {MISSING}. {SHARING_HINT}",
    ),
    Case(
        "database-not-found",
        "GET",
        f"/v1/databases/{MISSING}",
        404,
        "object_not_found",
        f"Could not find database with ID: {MISSING}. {SHARING_HINT}",
    ),
    # "data_source" with an underscore, as in real logs of notion-client users (not in FACTS.md).
    Case(
        "data-source-not-found",
        "GET",
        f"/v1/data_sources/{MISSING}",
        404,
        "object_not_found",
        f"Could not find data_source with ID: {MISSING}. {SHARING_HINT}",
    ),
    Case(
        "missing-token",
        "GET",
        f"/v1/data_sources/{SERVICES_DS}",
        401,
        "unauthorized",
        'Authorization header must use the format "Bearer <token>".',
        header_overrides={"Authorization": None},
    ),
    Case(
        "invalid-token",
        "GET",
        f"/v1/data_sources/{SERVICES_DS}",
        401,
        "unauthorized",
        "API token is invalid.",
        header_overrides={"Authorization": "Bearer ntn_not_a_real_token"},
    ),
    Case(
        "missing-version",
        "GET",
        f"/v1/data_sources/{SERVICES_DS}",
        400,
        "missing_version",
        "Notion-Version header failed validation: Notion-Version header should be defined, instead was undefined.",
        header_overrides={"Notion-Version": None},
    ),
    Case("invalid-json", "POST", "/v1/pages", 400, "invalid_json", "Error parsing JSON body.", raw='{"parent": '),
    Case("unknown-route", "GET", "/v1/nothing/here", 400, "invalid_request_url", "Invalid request URL."),
    Case("wrong-method", "PUT", "/v1/pages/{page}", 400, "invalid_request_url", "Invalid request URL.", body={}),
    Case(
        "data-sources-under-2022-06-28",
        "GET",
        f"/v1/data_sources/{SERVICES_DS}",
        400,
        "invalid_request_url",
        "Invalid request URL.",
        header_overrides={"Notion-Version": "2022-06-28"},
    ),
    Case(
        "databases-query-under-2025-09-03",
        "POST",
        f"/v1/databases/{SERVICES_DB}/query",
        400,
        "invalid_request_url",
        "Invalid request URL.",
        body={},
    ),
]


@pytest.fixture(scope="module")
def targets(sandbox: Any) -> dict[str, str]:
    """Objects the cases point at: a live and a trashed services page, the root page, a source with a select."""
    notion = notion_for(sandbox, Recorder())
    root = notion.databases.retrieve(database_id=SERVICES_DB)["parent"]["page_id"]
    live = notion.pages.create(**services_page({"Name": {"title": title_value("Message target")}}))["id"]
    trashed = notion.pages.create(**services_page({"Name": {"title": title_value("Trashed target")}}))["id"]
    notion.pages.update(page_id=trashed, in_trash=True)
    tasks = notion.databases.create(
        parent={"type": "page_id", "page_id": root},
        title=title_value("Tasks"),
        initial_data_source={"properties": {"Task": {"title": {}}, "Priority": {"select": {"options": []}}}},
    )
    return {"root": root, "page": live, "trashed": trashed, "tasks_ds": tasks["data_sources"][0]["id"]}


def fill(template: str, targets: dict[str, str]) -> str:
    for name, value in targets.items():
        template = template.replace("{" + name + "}", value)
    return template


def answer_to(case: Case, sandbox: Any, targets: dict[str, str]) -> Exchange:
    recorder = Recorder()
    path = fill(case.path, targets)
    body = None if case.body is None else json.loads(fill(json.dumps(case.body), targets))
    if case.raw is None and not case.header_overrides and case.method != "PUT":
        notion = notion_for(sandbox, recorder)
        path, _, query = path.partition("?")
        request_quietly(notion, case.method, path, body, parse_query(query))
        return recorder.last()
    chosen = {**headers(), **case.header_overrides}
    sent = {name: value for name, value in chosen.items() if value is not None}
    content = case.raw if case.raw is not None else (None if body is None else json.dumps(body))
    with raw_for(sandbox, recorder) as client:
        client.request(case.method, path, headers=sent, content=content)
    return recorder.last()


def parse_query(query: str) -> dict[str, str] | None:
    pairs = [item.partition("=") for item in query.split("&") if item]
    return {name: value for name, _, value in pairs} or None


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_message_word_for_word(case: Case, sandbox: Any, targets: dict[str, str]) -> None:
    exchange = answer_to(case, sandbox, targets)
    body = exchange.body
    expected = {"status": case.status, "code": case.code, "message": fill(case.message, targets)}
    actual = {"status": exchange.status, "code": body.get("code"), "message": body.get("message")}
    assert actual == expected
    assert body["object"] == "error" and body["status"] == exchange.status
    assert isinstance(body.get("request_id"), str) and exchange.headers.get("x-notion-request-id")


def test_multi_source_database_under_2022_06_28(sandbox: Any, targets: dict[str, str]) -> None:
    notion = notion_for(sandbox, Recorder())
    database = notion.databases.create(parent={"type": "page_id", "page_id": targets["root"]}, title=title_value("Two"))
    first = database["data_sources"][0]["id"]
    second = notion.data_sources.create(
        parent={"type": "database_id", "database_id": database["id"]}, properties={"Name": {"title": {}}}
    )["id"]
    recorder = Recorder()
    with raw_for(sandbox, recorder) as client:
        client.get(f"/v1/databases/{database['id']}", headers=headers(version="2022-06-28"))
    body = recorder.last().body
    assert (recorder.last().status, body["code"], body["message"]) == (
        400,
        "validation_error",
        "Databases with multiple data sources are not supported in this API version.",
    )
    assert body["additional_data"] == {
        "error_type": "multiple_data_sources_for_database",
        "database_id": database["id"],
        "child_data_source_ids": [first, second],
        "minimum_api_version": "2025-09-03",
    }


FAULT_MESSAGES = [
    (409, "conflict_error", "Conflict occurred while saving. Please try again."),
    (429, "rate_limited", "You have been rate limited. Please try again in a few minutes."),
    (500, "internal_server_error", "Unexpected error occurred."),
    (502, "bad_gateway", "Bad Gateway"),
    (503, "service_unavailable", "Notion is unavailable, please try again later."),
    (504, "gateway_timeout", "Gateway Timeout"),
]


@pytest.mark.parametrize(("status", "code", "message"), FAULT_MESSAGES, ids=[m[1] for m in FAULT_MESSAGES])
def test_injected_fault_carries_notions_message(sandbox: Any, status: int, code: str, message: str) -> None:
    inject_faults(sandbox, [{"method": "POST", "route": "/v1/pages", "faults": [{"status": status}]}])
    recorder = Recorder()
    with pytest.raises(HTTPResponseError):
        notion_for(sandbox, recorder).pages.create(**services_page({"Name": {"title": title_value("f")}}))
    body = recorder.last().body
    assert (recorder.last().status, body["code"], body["message"]) == (status, code, message)


def test_rate_limiter_answers_rate_limited_with_retry_after() -> None:
    with start_sandbox(seed="planx", rate_limit=1) as server:
        recorder = Recorder()
        notion = notion_for(server, recorder)
        for _ in range(20):
            try:
                notion.data_sources.retrieve(data_source_id=COUNCILS_DS)
            except HTTPResponseError:
                break
    limited = recorder.last()
    assert limited.status == 429, "20 immediate requests at 1 request/s were never limited"
    body = limited.body
    assert (body["code"], body["message"]) == ("rate_limited", FAULT_MESSAGES[1][2])
    retry_after = limited.headers["retry-after"]
    assert retry_after.isdigit() and int(retry_after) >= 1
    assert body.get("additional_data", {}).get("retry_after") == retry_after


def test_oversized_body_is_a_validation_error(sandbox: Any) -> None:
    recorder = Recorder()
    # Every value is within its own limits (100 items of 2000 characters); only the total passes 500 KB.
    full = title_value("x" * 2000) * 100
    huge = services_page(
        {"Name": {"title": full}, "Description": {"rich_text": full}, "ExternalCustomerID": {"rich_text": full}}
    )
    with raw_for(sandbox, recorder) as client:
        client.post("/v1/pages", headers=headers(), content=json.dumps(huge))
    assert (recorder.last().status, recorder.last().body["code"]) == (400, "validation_error")
