"""The issue's acceptance script: notion-client 3.1.0 over HTTP, two related databases, 250 pages, paging."""

from __future__ import annotations

from typing import Any

import pytest
from notion_client import APIResponseError, Client

from notion_sandbox.server import SandboxServer
from tests.support.sandbox import make_pair, plain, row, title


def all_pages(notion: Client, ds: str, **query: Any) -> tuple[list[dict[str, Any]], list[int]]:
    pages: list[dict[str, Any]] = []
    sizes: list[int] = []
    cursor = None
    while True:
        extra = {"start_cursor": cursor} if cursor else {}
        res = notion.data_sources.query(data_source_id=ds, page_size=100, **query, **extra)
        pages += res["results"]
        sizes.append(len(res["results"]))
        if not res["has_more"]:
            return pages, sizes
        cursor = res["next_cursor"]


def test_create_related_databases_insert_250_and_page_through(sb: SandboxServer, notion: Client) -> None:
    ids = make_pair(notion)
    schema = notion.data_sources.retrieve(data_source_id=ids["councils_ds"])["properties"]
    assert schema["Services"]["relation"]["dual_property"]["synced_property_name"] == "Councils"
    council = row(notion, ids["councils_ds"], "Medway Council", ExternalCustomerID={"rich_text": title("medway")})
    for i in range(250):
        row(
            notion,
            ids["services_ds"],
            f"Service {i:03d}",
            **{"Service Count": {"number": i}, "Councils": {"relation": [{"id": council["id"]}] if i < 30 else []}},
        )
    pages, sizes = all_pages(notion, ids["services_ds"])
    assert sizes == [100, 100, 50]
    assert [plain(p, "Name") for p in pages] == [f"Service {i:03d}" for i in range(250)]
    assert len({p["id"] for p in pages}) == 250

    reread = notion.pages.retrieve(page_id=council["id"])["properties"]["Services"]
    assert len(reread["relation"]) == 25 and reread["has_more"] is True

    by_number, _ = all_pages(
        notion, ids["services_ds"], filter={"property": "Service Count", "number": {"greater_than_or_equal_to": 240}}
    )
    assert [p["properties"]["Service Count"]["number"] for p in by_number] == list(range(240, 250))

    with pytest.raises(APIResponseError) as err:
        row(notion, ids["services_ds"], "x", Description={"number": 3})
    assert str(err.value) == "Description is expected to be rich_text."
    assert sb.admin.requests()["by_route"]["POST /v1/pages"] == 252


def test_429s_past_the_configured_rate() -> None:
    with SandboxServer(port=0, seed="empty", rate_limit=3, burst=3) as server:
        notion = Client(auth="ntn_sandbox", base_url=server.url, retry=False)
        outcomes = []
        for _ in range(8):
            try:
                notion.users.me()
                outcomes.append("ok")
            except APIResponseError as exc:
                outcomes.append(exc.code)
                assert exc.status == 429
                assert int(exc.headers["retry-after"]) >= 1
                assert exc.additional_data == {
                    "rate_limit_reason": "public_api_request_rate_limit",
                    "retry_after": exc.headers["retry-after"],
                }
                assert str(exc) == "You have been rate limited. Please try again in a few minutes."
        assert outcomes[:3] == ["ok", "ok", "ok"]
        assert outcomes.count("rate_limited") >= 4
        assert server.admin.requests()["by_status"]["429"] == outcomes.count("rate_limited")
