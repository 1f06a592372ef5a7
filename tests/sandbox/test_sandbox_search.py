"""POST /v1/search: title matching, the object filter, trash, order, cursors, validation and the old version."""

from __future__ import annotations

from typing import Any

import pytest
from notion_client import APIResponseError, Client

from notion_sandbox.server import SandboxServer
from tests.support.sandbox import LEGACY, PARENT_PAGE, Raw, row, title

SOURCES = {"property": "object", "value": "data_source"}
PAGES = {"property": "object", "value": "page"}


@pytest.fixture
def workspace(sb: SandboxServer, notion: Client) -> dict[str, str]:
    """Two databases with rows and a plain page, written one simulated second apart (so edit order is known)."""
    sb.admin.settings(clock_step_ms=1000)
    councils = new_database(notion, "Councils")
    services = new_database(notion, "Live Services")
    return {
        "councils_db": councils["id"],
        "councils_ds": councils["data_sources"][0]["id"],
        "services_db": services["id"],
        "services_ds": services["data_sources"][0]["id"],
        "barnet": row(notion, councils["data_sources"][0]["id"], "London Borough of Barnet")["id"],
        "medway": row(notion, councils["data_sources"][0]["id"], "Medway Council")["id"],
        "service": row(notion, services["data_sources"][0]["id"], "Barnet: apply for a permit")["id"],
        "notes": notion.pages.create(parent={"page_id": PARENT_PAGE}, properties={"title": title("Meeting notes")})[
            "id"
        ],
    }


def new_database(notion: Client, name: str) -> dict[str, Any]:
    return notion.databases.create(
        parent={"type": "page_id", "page_id": PARENT_PAGE},
        title=title(name),
        initial_data_source={"properties": {"Name": {"title": {}}}},
    )


def ids(answer: dict[str, Any]) -> list[str]:
    return [item["id"] for item in answer["results"]]


def error_of(raw: Raw, body: Any, version: str = "2025-09-03") -> tuple[int, str, str]:
    answer = raw.call("POST", "/v1/search", body, version=version)
    payload = answer.json()
    return answer.status_code, payload["code"], payload["message"]


def test_the_answer_is_a_page_or_data_source_list_of_full_objects(notion: Client, workspace: dict[str, str]) -> None:
    answer = notion.search(query="Councils", filter=SOURCES)
    assert list(answer) == [
        "object",
        "results",
        "next_cursor",
        "has_more",
        "type",
        "page_or_data_source",
        "request_id",
    ]
    assert (answer["object"], answer["type"], answer["page_or_data_source"]) == ("list", "page_or_data_source", {})
    assert (answer["next_cursor"], answer["has_more"]) == (None, False)
    [source] = answer["results"]
    retrieved = notion.data_sources.retrieve(data_source_id=workspace["councils_ds"])
    retrieved.pop("request_id")
    assert source == retrieved
    assert source["parent"] == {"type": "database_id", "database_id": workspace["councils_db"]}
    assert source["database_parent"] == {"type": "page_id", "page_id": PARENT_PAGE}
    [page] = notion.search(query="Medway", filter=PAGES)["results"]
    fetched = notion.pages.retrieve(page_id=workspace["medway"])
    fetched.pop("request_id")
    assert page == fetched


def test_the_query_matches_titles_ignoring_case(notion: Client, workspace: dict[str, str]) -> None:
    assert set(ids(notion.search(query="bArNeT"))) == {workspace["barnet"], workspace["service"]}
    assert ids(notion.search(query="live serv")) == [workspace["services_ds"]]
    assert ids(notion.search(query="no such title")) == []


def test_no_query_or_an_empty_one_finds_everything(notion: Client, workspace: dict[str, str]) -> None:
    everything = {*workspace.values(), PARENT_PAGE} - {workspace["councils_db"], workspace["services_db"]}
    assert set(ids(notion.search())) == everything
    assert set(ids(notion.search(query=""))) == everything


def test_the_filter_keeps_pages_or_data_sources(notion: Client, workspace: dict[str, str]) -> None:
    sources = notion.search(filter=SOURCES)["results"]
    assert {s["object"] for s in sources} == {"data_source"}
    assert {s["id"] for s in sources} == {workspace["councils_ds"], workspace["services_ds"]}
    pages = notion.search(query="barnet", filter=PAGES)["results"]
    assert {p["object"] for p in pages} == {"page"}
    assert {p["id"] for p in pages} == {workspace["barnet"], workspace["service"]}


def test_a_data_source_also_answers_to_its_database_title(notion: Client, workspace: dict[str, str]) -> None:
    notion.databases.update(database_id=workspace["councils_db"], title=title("Local authorities"))
    assert ids(notion.search(query="authorities", filter=SOURCES)) == [workspace["councils_ds"]]
    assert ids(notion.search(query="councils", filter=SOURCES)) == [workspace["councils_ds"]]


def test_trashed_objects_and_everything_under_them_are_left_out(notion: Client, workspace: dict[str, str]) -> None:
    child = notion.pages.create(parent={"page_id": workspace["notes"]}, properties={"title": title("Minutes")})
    assert ids(notion.search(query="minutes")) == [child["id"]]
    notion.pages.update(page_id=workspace["medway"], in_trash=True)
    notion.pages.update(page_id=workspace["notes"], in_trash=True)
    notion.databases.update(database_id=workspace["services_db"], in_trash=True)
    found = set(ids(notion.search()))
    assert found == {PARENT_PAGE, workspace["councils_ds"], workspace["barnet"]}
    notion.pages.update(page_id=workspace["notes"], in_trash=False)
    assert child["id"] in ids(notion.search(query="minutes"))


def test_a_trashed_data_source_hides_its_rows(notion: Client, workspace: dict[str, str]) -> None:
    notion.data_sources.update(data_source_id=workspace["councils_ds"], in_trash=True)
    assert ids(notion.search(query="council")) == []


def test_results_run_newest_first_unless_sorted_ascending(notion: Client, workspace: dict[str, str]) -> None:
    oldest_first = [
        PARENT_PAGE,
        workspace["councils_ds"],
        workspace["services_ds"],
        workspace["barnet"],
        workspace["medway"],
        workspace["service"],
        workspace["notes"],
    ]
    assert ids(notion.search()) == oldest_first[::-1]
    ascending = notion.search(sort={"direction": "ascending", "timestamp": "last_edited_time"})
    assert ids(ascending) == oldest_first
    descending = notion.search(sort={"direction": "descending", "timestamp": "last_edited_time"})
    assert ids(descending) == oldest_first[::-1]
    notion.pages.update(page_id=workspace["barnet"], properties={"Name": {"title": title("Barnet")}})
    assert ids(notion.search())[0] == workspace["barnet"]


def test_cursors_walk_the_whole_list_once(notion: Client, workspace: dict[str, str]) -> None:
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        answer = notion.search(page_size=3, **({"start_cursor": cursor} if cursor else {}))
        pages += 1
        assert len(answer["results"]) <= 3
        seen.extend(ids(answer))
        if not answer["has_more"]:
            assert answer["next_cursor"] is None
            break
        cursor = answer["next_cursor"]
    assert pages == 3
    assert seen == ids(notion.search())


def test_page_size_zero_gives_the_default_page(notion: Client, workspace: dict[str, str]) -> None:
    # FACTS §3.3: Notion accepts `page_size: 0` on search.
    assert len(notion.search(page_size=0)["results"]) == 7


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"colour": "red"}, 'body failed validation: body.colour should be not present, instead was `"red"`.'),
        ({"query": 5}, "body failed validation: body.query should be a string or `undefined`, instead was `5`."),
        (
            {"filter": {"property": "object", "value": "database"}},
            'body failed validation: body.filter.value should be `"page"` or `"data_source"`, '
            'instead was `"database"`.',
        ),
        (
            {"filter": {"property": "title", "value": "page"}},
            'body failed validation: body.filter.property should be `"object"`, instead was `"title"`.',
        ),
        (
            {"filter": "page"},
            'body failed validation: body.filter should be an object or `undefined`, instead was `"page"`.',
        ),
        (
            {"sort": {"direction": "descending", "timestamp": "created_time"}},
            'body failed validation: body.sort.timestamp should be `"last_edited_time"`, instead was `"created_time"`.',
        ),
        (
            {"sort": {"direction": "down", "timestamp": "last_edited_time"}},
            'body failed validation: body.sort.direction should be `"ascending"` or `"descending"`, '
            'instead was `"down"`.',
        ),
        (
            {"sort": {"timestamp": "last_edited_time"}},
            'body failed validation: body.sort.direction should be `"ascending"` or `"descending"`, '
            "instead was `undefined`.",
        ),
        (
            {"page_size": 101},
            "body failed validation: body.page_size should be ≤ `100` or `undefined`, instead was `101`.",
        ),
        ({"page_size": -1}, "body failed validation: body.page_size should be ≥ `1` or `undefined`, instead was `-1`."),
        (
            {"start_cursor": "bogus"},
            'body failed validation: body.start_cursor should be a valid uuid or `undefined`, instead was `"bogus"`.',
        ),
        (
            {"start_cursor": "3f0e1c2a-0000-4000-8000-000000000000"},
            "The start_cursor provided is invalid: 3f0e1c2a-0000-4000-8000-000000000000",
        ),
    ],
)
def test_bad_bodies_are_validation_errors(raw: Raw, body: dict[str, Any], message: str) -> None:
    assert error_of(raw, body) == (400, "validation_error", message)


def test_a_query_cursor_is_not_a_search_cursor(notion: Client, raw: Raw, workspace: dict[str, str]) -> None:
    cursor = notion.data_sources.query(data_source_id=workspace["councils_ds"], page_size=1)["next_cursor"]
    assert cursor
    status, code, message = error_of(raw, {"start_cursor": cursor})
    assert (status, code, message) == (400, "validation_error", f"The start_cursor provided is invalid: {cursor}")


def test_the_old_version_searches_databases(notion: Client, raw: Raw, workspace: dict[str, str]) -> None:
    notion.data_sources.create(
        parent={"type": "database_id", "database_id": workspace["services_db"]},
        properties={"Name": {"title": {}}},
        title=title("Second source"),
    )
    answer = raw.call("POST", "/v1/search", {"filter": {"property": "object", "value": "database"}}, version=LEGACY)
    assert answer.status_code == 200
    payload = answer.json()
    assert (payload["type"], payload["page_or_database"]) == ("page_or_database", {})
    # The services database now has two data sources, which 2022-06-28 cannot show: search leaves it out.
    [database] = payload["results"]
    assert (database["object"], database["id"]) == ("database", workspace["councils_db"])
    assert database["properties"]["Name"]["type"] == "title"
    legacy_db = raw.call("GET", f"/v1/databases/{workspace['councils_db']}", version=LEGACY).json()
    legacy_db.pop("request_id")
    assert database == legacy_db
    rows = raw.call("POST", "/v1/search", {"query": "medway"}, version=LEGACY).json()["results"]
    assert [r["parent"] for r in rows] == [{"type": "database_id", "database_id": workspace["councils_db"]}]
    assert error_of(raw, {"filter": SOURCES}, version=LEGACY) == (
        400,
        "validation_error",
        'body failed validation: body.filter.value should be `"page"` or `"database"`, instead was `"data_source"`.',
    )


def test_2026_results_have_no_archived_key(raw: Raw, workspace: dict[str, str]) -> None:
    results = raw.call("POST", "/v1/search", {}, version="2026-03-11").json()["results"]
    assert {r["object"] for r in results} == {"page", "data_source"}
    assert all("archived" not in r and r["in_trash"] is False for r in results)


def test_search_is_logged_and_faultable_under_its_route(sb: SandboxServer, raw: Raw) -> None:
    sb.admin.clear_requests()
    sb.admin.add_faults([{"method": "POST", "route": "/v1/search", "faults": [{"status": 503}]}])
    assert raw.call("POST", "/v1/search", {}).status_code == 503
    assert raw.call("POST", "/v1/search", {}).status_code == 200
    assert sb.admin.requests()["by_route"] == {"POST /v1/search": 2}


def test_search_needs_auth_and_a_version(raw: Raw) -> None:
    assert raw.call("POST", "/v1/search", {}, token=None).status_code == 401
    assert raw.call("POST", "/v1/search", {}, version=None).json()["code"] == "missing_version"
    assert raw.call("GET", "/v1/search").json()["code"] == "invalid_request_url"


def test_notion_client_raises_on_a_bad_filter(notion: Client) -> None:
    with pytest.raises(APIResponseError) as raised:
        notion.search(filter={"property": "object", "value": "database"})
    assert raised.value.status == 400
