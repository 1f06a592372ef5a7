"""NotionGateway + NotionTransport + notion-client against a small in-process fake of Notion.

The fake (an httpx.MockTransport handler) knows just enough of the 2025-09-03 API for the
gateway's paths: databases/data sources, filtered and capped queries, property items and page
writes. The sandbox-backed tests in test_gateway_sandbox.py cover the same ground over HTTP.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from typing import Any

import httpx
import pytest

from reconcile.errors import NotionAuthError, NotionError
from reconcile.model import MatchKey, NotionSettings, PropertyMapping, ResourceConfig
from reconcile.notion.gateway import NotionGateway
from reconcile.ports import CreatedPage
from reconcile.values import encode

TOKEN = "ntn_fake_secret_0123456789"
DB = "5e541ce5-0000-4000-8000-000000000001"
DS = "5e541ce5-0000-4000-8000-000000000002"
OTHER_DS = "5e541ce5-0000-4000-8000-000000000003"
SCHEMA = {
    "Name": {"id": "title", "name": "Name", "type": "title", "title": {}},
    "ExternalCustomerID": {"id": "ext", "name": "ExternalCustomerID", "type": "rich_text"},
    "Service Count": {"id": "cnt", "name": "Service Count", "type": "number", "number": {}},
    "Councils": {"id": "rel", "name": "Councils", "type": "relation", "relation": {}},
}


def text_value(prop_type: str, text: str) -> dict[str, Any]:
    items = encode(prop_type, text)[prop_type]
    return [{**i, "plain_text": i["text"]["content"]} for i in items]


class FakeNotion:
    def __init__(self, *, cap: int = 10_000) -> None:
        self.cap = cap
        self.sources = [{"id": DS, "name": "PlanX Live Services"}]
        self.pages: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str]] = []
        self.faults: list[httpx.Response | Exception] = []
        self.fault_route: str | None = None
        self.commit_faulted_creates = False
        self._relations: dict[str, list[str]] = {}

    # ── state ──
    def add_page(
        self, key: str, *, minute: int = 0, relation: list[str] | None = None, trashed: bool = False
    ) -> dict[str, Any]:
        page_id = str(uuid.uuid4())
        rel = relation or []
        page = {
            "object": "page",
            "id": page_id,
            "created_time": f"2026-01-01T10:{minute:02d}:00.000Z",
            # Shown rounded down to the minute; filters compare the precise time, like the sandbox.
            "_precise": f"2026-01-01T10:{minute:02d}:{len(self.pages) % 60:02d}.000Z",
            "last_edited_time": f"2026-01-01T10:{minute:02d}:00.000Z",
            "in_trash": trashed,
            "archived": trashed,
            "url": f"https://www.notion.so/{page_id.replace('-', '')}",
            "properties": {
                "Name": {"id": "title", "type": "title", "title": text_value("title", key.title())},
                "ExternalCustomerID": {
                    "id": "ext",
                    "type": "rich_text",
                    "rich_text": text_value("rich_text", key),
                },
                "Service Count": {"id": "cnt", "type": "number", "number": 2.0},
                "Councils": {
                    "id": "rel",
                    "type": "relation",
                    "relation": [{"id": i} for i in rel[:25]],
                    "has_more": len(rel) > 25,
                },
            },
        }
        self._relations[page_id] = rel
        self.pages.append(page)
        return page

    # ── HTTP ──
    def handler(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.requests.append((request.method, path))
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return error(401, "unauthorized", "API token is invalid.")
        if self.faults and (self.fault_route is None or self.fault_route == f"{request.method} {path}"):
            fault = self.faults.pop(0)
            if request.method == "POST" and path == "/v1/pages" and self.commit_faulted_creates:
                self._create(json.loads(request.content))
            if isinstance(fault, Exception):
                raise fault
            return fault
        body = json.loads(request.content) if request.content else {}
        parts = path.strip("/").split("/")[1:]
        if parts == ["databases", DB]:
            return ok({"object": "database", "id": DB, "data_sources": self.sources})
        if parts[0] == "databases":
            return error(404, "object_not_found", f"Could not find database with ID: {parts[1]}.")
        if parts[:2] == ["data_sources", DS] and len(parts) == 2:
            return ok({"object": "data_source", "id": DS, "properties": SCHEMA})
        if parts[:2] == ["data_sources", OTHER_DS] and len(parts) == 2:
            return ok({"object": "data_source", "id": OTHER_DS, "properties": {}})
        if parts[-1] == "query":
            return ok(self._query(body))
        if parts == ["pages"] and request.method == "POST":
            return ok(self._create(body))
        if parts[0] == "pages" and len(parts) == 4:
            return ok(self._property_items(parts[1], request.url.params))
        if parts[0] == "pages" and request.method == "GET":
            return ok(self._page(parts[1]))
        if parts[0] == "pages" and request.method == "PATCH":
            page = self._page(parts[1])
            page["in_trash"] = body.get("in_trash", page["in_trash"])
            return ok(page)
        return error(400, "invalid_request_url", "Invalid request URL.")

    def _page(self, page_id: str) -> dict[str, Any]:
        return next(p for p in self.pages if p["id"] == page_id)

    def _create(self, body: dict[str, Any]) -> dict[str, Any]:
        key = body["properties"]["ExternalCustomerID"]["rich_text"][0]["text"]["content"]
        return self.add_page(key, minute=59)

    def _query(self, body: dict[str, Any]) -> dict[str, Any]:
        matching = [
            p for p in self.pages if p["in_trash"] == bool(body.get("in_trash")) and matches(p, body.get("filter"))
        ]
        matching.sort(key=lambda p: p["_precise"])
        start = int(body.get("start_cursor") or 0)
        end = min(start + body["page_size"], len(matching), self.cap)
        has_more = end < min(len(matching), self.cap)
        response = {
            "object": "list",
            "results": [{k: v for k, v in p.items() if k != "_precise"} for p in matching[start:end]],
            "has_more": has_more,
            "next_cursor": str(end) if has_more else None,
        }
        if not has_more and len(matching) > self.cap:
            response["request_status"] = {
                "type": "incomplete",
                "incomplete_reason": "query_result_limit_reached",
            }
        return response

    def _property_items(self, page_id: str, params: httpx.QueryParams) -> dict[str, Any]:
        ids = self._relations[page_id]
        start = int(params.get("start_cursor") or 0)
        size = int(params.get("page_size", 100))
        chunk = ids[start : start + size]
        more = start + size < len(ids)
        return {
            "object": "list",
            "results": [{"object": "property_item", "type": "relation", "relation": {"id": i}} for i in chunk],
            "has_more": more,
            "next_cursor": str(start + size) if more else None,
        }


def matches(page: dict[str, Any], condition: dict[str, Any] | None) -> bool:
    if condition is None:
        return True
    if "and" in condition:
        return all(matches(page, c) for c in condition["and"])
    if condition.get("timestamp") == "created_time":
        [(op, moment)] = condition["created_time"].items()
        value = page["_precise"]
        return {
            "on_or_after": value >= moment,
            "on_or_before": value <= moment,
            "after": value > moment,
            "before": value < moment,
        }[op]
    prop = page["properties"][condition["property"]]
    text = "".join(i["plain_text"] for i in prop[prop["type"]])
    [(op, operand)] = condition[prop["type"]].items()
    return {
        "equals": text == operand,
        "contains": operand in text,
        "does_not_contain": operand not in text,
    }[op]


def ok(body: dict[str, Any]) -> httpx.Response:
    return httpx.Response(200, json=body)


def error(status: int, code: str, message: str, **extra: Any) -> httpx.Response:
    body = {"object": "error", "status": status, "code": code, "message": message, **extra}
    return httpx.Response(status, json=body)


@pytest.fixture
def fake() -> FakeNotion:
    return FakeNotion()


def gateway(fake: FakeNotion, token: str = TOKEN, **settings: Any) -> NotionGateway:
    options = {"rate_limit": 0, "max_attempts": 3, **settings}
    return NotionGateway(
        token,
        NotionSettings(**options),
        transport=httpx.MockTransport(fake.handler),
        sleep=lambda _: None,
    )


RESOURCE = ResourceConfig(
    name="services",
    database=DB,
    data_source=None,
    mode="upsert",
    match=MatchKey("ExternalCustomerID", "slug"),
    properties=(
        PropertyMapping("Name", "name"),
        PropertyMapping("Service Count", "n"),
        PropertyMapping("Councils", "slug", relation="councils"),
    ),
)


# ── resolve ──────────────────────────────────────────────────────────────────────────────────────


def test_resolve_reads_the_schema_once_per_run(fake: FakeNotion) -> None:
    g = gateway(fake)
    assert g.resolve(DB, None) == (DS, SCHEMA)
    assert g.resolve(DB, None) == (DS, SCHEMA)
    assert g.counter.snapshot()["by_route"] == {
        "GET /v1/data_sources/{id}": 1,
        "GET /v1/databases/{id}": 1,
    }
    assert g.data_source_name(DS) == "PlanX Live Services"


def test_a_multi_source_database_needs_a_name(fake: FakeNotion) -> None:
    fake.sources.append({"id": OTHER_DS, "name": "Archive"})
    g = gateway(fake)
    with pytest.raises(
        NotionError,
        match=r"has 2 data sources \('PlanX Live Services', "
        r"'Archive'\): set data_source:",
    ):
        g.resolve(DB, None)
    assert g.resolve(DB, "Archive")[0] == OTHER_DS
    with pytest.raises(NotionError, match="no data source named 'Nope'; it has: 'PlanX"):
        g.resolve(DB, "Nope")


def test_unshared_database_and_wrong_token(fake: FakeNotion) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    with pytest.raises(NotionAuthError, match=f"database {missing} not found: share it"):
        gateway(fake).resolve(missing, None)
    wrong = "ntn_wrong_token_987654"
    with pytest.raises(NotionAuthError) as caught:
        gateway(fake, token=wrong).resolve(DB, None)
    assert str(caught.value).startswith("Notion rejected the token (NOTION_TOKEN): API token")
    assert wrong not in str(caught.value)


# ── queries ──────────────────────────────────────────────────────────────────────────────────────


def test_query_follows_cursors_at_100_per_page(fake: FakeNotion) -> None:
    for i in range(250):
        fake.add_page(f"k{i}", minute=i % 60)
    g = gateway(fake)
    assert len(g.query_pages(DS)) == 250
    assert g.counter.snapshot()["by_route"] == {"POST /v1/data_sources/{id}/query": 3}


def test_query_past_the_cap_windows_by_created_time(fake: FakeNotion) -> None:
    fake.cap = 100
    for i in range(350):
        fake.add_page(f"k{i}", minute=i // 10)  # 10 pages a minute
    pages = gateway(fake).query_pages(DS)
    assert sorted(p["id"] for p in pages) == sorted(p["id"] for p in fake.pages)


def test_a_minute_beyond_the_cap_is_split_on_the_match_property(fake: FakeNotion) -> None:
    fake.cap = 50
    for i in range(180):
        fake.add_page(f"council-{i}", minute=3)
    fake.add_page("later", minute=4)
    g = gateway(fake)
    pages = g.query_pages(DS, split_on=("ExternalCustomerID", "rich_text"))
    assert len(pages) == 181
    assert len({p["id"] for p in pages}) == 181


def test_an_indivisible_minute_is_an_error_not_a_silent_truncation(fake: FakeNotion) -> None:
    fake.cap = 50
    for _ in range(60):
        fake.add_page("same", minute=3)
    with pytest.raises(NotionError, match="created in the same minute"):
        gateway(fake).query_pages(DS, split_on=("ExternalCustomerID", "rich_text"))
    with pytest.raises(NotionError, match="created in the same minute"):
        gateway(fake).query_pages(DS)


# ── read_resource ────────────────────────────────────────────────────────────────────────────────


def test_read_resource_decodes_keys_values_and_long_relations(fake: FakeNotion) -> None:
    councils = [str(uuid.UUID(int=i)) for i in range(1, 131)]
    fake.add_page("barnet", relation=councils)
    fake.add_page(" camden ")
    fake.add_page("", minute=1)
    fake.add_page("lambeth", trashed=True)
    g = gateway(fake)
    state = g.read_resource(RESOURCE, data_source_id=DS, schema=SCHEMA, include_trash=True)
    by_key = {p.key: p for p in state.pages}
    assert set(by_key) == {"barnet", "camden", None}
    assert by_key["barnet"].values["Councils"] == tuple(sorted(councils))
    assert by_key["barnet"].values["Service Count"] == 2
    assert by_key["barnet"].values["Name"] == "Barnet"
    assert by_key["camden"].raw_key == " camden "  # the plan warns from it (key_needed_strip)
    assert [p.key for p in state.trashed] == ["lambeth"]
    assert state.schema["Councils"] == "relation"
    assert [p.key for p in g.read_trashed(RESOURCE, data_source_id=DS, schema=SCHEMA)] == ["lambeth"]
    assert g.counter.snapshot()["by_route"] == {
        "POST /v1/data_sources/{id}/query": 2,  # the second trash read is served from the run's cache
        "GET /v1/pages/{id}/properties/{property_id}": 2,  # only the page with has_more
    }


# ── writes ───────────────────────────────────────────────────────────────────────────────────────

NEW_PROPS = {"ExternalCustomerID": encode("rich_text", "barnet")}


def create(g: NotionGateway) -> CreatedPage:
    return g.create_page(DS, NEW_PROPS, match_property="ExternalCustomerID", match_type="rich_text", key="barnet")


def test_a_committed_503_returns_the_committed_page(fake: FakeNotion) -> None:
    existing = fake.add_page("barnet")
    fake.fault_route = "POST /v1/pages"
    fake.faults = [
        error(503, "service_unavailable", "saved", additional_data={"committed_resource_id": existing["id"]})
    ]
    g = gateway(fake)
    created = create(g)
    assert created.page_id == existing["id"]
    assert created.resolution == "committed"
    assert g.create_resolutions == {"committed": 1}
    assert len(fake.pages) == 1


@pytest.mark.parametrize(
    "fault",
    [error(502, "bad_gateway", "Bad Gateway"), httpx.ReadTimeout("slow")],
    ids=["502", "timeout"],
)
def test_an_ambiguous_create_that_was_committed_is_found_not_duplicated(
    fake: FakeNotion, fault: httpx.Response | Exception
) -> None:
    fake.fault_route = "POST /v1/pages"
    fake.faults = [fault]
    fake.commit_faulted_creates = True
    g = gateway(fake)
    created = create(g)
    assert [p["id"] for p in fake.pages] == [created.page_id]
    assert created.resolution == "found"
    assert g.create_resolutions == {"found": 1}


def test_an_ambiguous_create_that_was_not_committed_is_created_once(fake: FakeNotion) -> None:
    fake.fault_route = "POST /v1/pages"
    fake.faults = [error(504, "gateway_timeout", "Gateway Timeout")]
    g = gateway(fake)
    created = create(g)
    assert [p["id"] for p in fake.pages] == [created.page_id]
    assert created.resolution == "recreated"
    assert g.create_resolutions == {"recreated": 1}
    routes = g.counter.snapshot()["by_route"]
    assert routes["POST /v1/pages"] == 2
    assert routes["POST /v1/data_sources/{id}/query"] == 3  # the re-check loop


def test_update_sends_only_what_is_given(fake: FakeNotion) -> None:
    page = fake.add_page("barnet")
    g = gateway(fake)
    assert g.update_page(page["id"], in_trash=True)["in_trash"] is True


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (
            error(400, "validation_error", "Colour is not a property that exists."),
            "Notion answered 400 validation_error while updating page",
        ),
        (
            httpx.Response(502, text="<html>Bad Gateway</html>"),
            "Notion answered 502 non_json_response while updating page",
        ),
        (httpx.ReadTimeout("slow"), "Notion did not answer in time while updating page"),
        (httpx.ConnectError("refused"), "could not reach Notion at https://api.notion.com"),
        (error(403, "restricted_resource", "no"), "Notion refused access while updating page"),
    ],
)
def test_errors_are_mapped_to_one_line_without_the_token(
    fake: FakeNotion, fault: httpx.Response | Exception, message: str
) -> None:
    page = fake.add_page("barnet")
    fake.faults = [fault] * 5
    with pytest.raises(NotionError) as caught:
        gateway(fake).update_page(page["id"], properties={})
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_plain_http_to_a_remote_host_is_refused_at_construction(fake: FakeNotion) -> None:
    with pytest.raises(NotionAuthError, match="refusing to send the Notion token"):
        gateway(fake, base_url="http://notion.example.org")


def test_whole_source_reads_are_served_once_until_a_write(fake: FakeNotion) -> None:
    fake.add_page("barnet")
    g = gateway(fake)
    first = g.read_resource(RESOURCE, data_source_id=DS, schema=SCHEMA)
    assert g.read_resource(RESOURCE, data_source_id=DS, schema=SCHEMA) == first
    assert g.counter.snapshot()["by_route"] == {"POST /v1/data_sources/{id}/query": 1}
    g.update_page(first.pages[0].page_id, properties={})
    g.read_resource(RESOURCE, data_source_id=DS, schema=SCHEMA)
    assert g.counter.snapshot()["by_route"]["POST /v1/data_sources/{id}/query"] == 2


def test_a_read_managing_more_serves_one_managing_less(fake: FakeNotion) -> None:
    # A lookup reads the resource widened by the properties it requires; the plan's read of the
    # same resource is then served from it, with only its own managed values.
    fake.add_page("barnet")
    g = gateway(fake)
    narrow = replace(RESOURCE, properties=RESOURCE.properties[:1])
    wide = g.read_resource(RESOURCE, data_source_id=DS, schema=SCHEMA)
    served = g.read_resource(narrow, data_source_id=DS, schema=SCHEMA)
    assert g.counter.snapshot()["by_route"] == {"POST /v1/data_sources/{id}/query": 1}
    assert set(served.pages[0].values) == {"Name", "ExternalCustomerID"} < set(wide.pages[0].values)
    g.read_resource(RESOURCE, data_source_id=DS, schema=SCHEMA)
    assert g.counter.snapshot()["by_route"] == {"POST /v1/data_sources/{id}/query": 1}


def test_raw_whole_source_reads_are_not_kept(fake: FakeNotion) -> None:
    # Only decoded pages are kept for the run: raw page objects of a whole data source would hold
    # the workspace in memory twice over.
    fake.add_page("barnet")
    g = gateway(fake)
    assert g.query_pages(DS) == g.query_pages(DS)
    assert g.counter.snapshot()["by_route"] == {"POST /v1/data_sources/{id}/query": 2}
