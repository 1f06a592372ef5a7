"""NotionGateway over HTTP against the local Notion sandbox (notion_sandbox.server)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from reconcile.errors import NotionAuthError
from reconcile.model import MatchKey, NotionSettings, PropertyMapping, ResourceConfig
from reconcile.notion.gateway import NotionGateway
from reconcile.values import encode

server = pytest.importorskip("notion_sandbox.server", reason="the Notion sandbox (notion_sandbox.server) is not built")

TOKEN = "ntn_sandbox"
COUNCILS_DB = "c0c11c00-0000-4000-8000-000000000001"
COUNCILS_DS = "c0c11c00-0000-4000-8000-000000000002"
SERVICES_DB = "5e541ce5-0000-4000-8000-000000000001"
SERVICES_DS = "5e541ce5-0000-4000-8000-000000000002"

SERVICES = ResourceConfig(
    name="services",
    database=SERVICES_DB,
    data_source=None,
    mode="upsert",
    match=MatchKey("ExternalCustomerID", "slug"),
    properties=(
        PropertyMapping("Name", "name"),
        PropertyMapping("Description", "d"),
        PropertyMapping("Service Count", "n"),
        PropertyMapping("Councils", "slug", relation="councils"),
    ),
)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Any]:
    with server.SandboxServer(port=0, seed="planx", rate_limit=None) as sb:
        yield sb


@pytest.fixture
def sb(sandbox: Any) -> Any:
    sandbox.admin.reset("planx")
    return sandbox


def gateway(sb: Any, **settings: Any) -> NotionGateway:
    options = {"base_url": sb.url, "rate_limit": 0, "max_attempts": 4, **settings}
    return NotionGateway(TOKEN, NotionSettings(**options), recheck_delays=(0.0, 0.2))


def service_props(key: str, *, name: str | None = None, **extra: Any) -> dict[str, Any]:
    props = {
        "Name": encode("title", name or key.title()),
        "ExternalCustomerID": encode("rich_text", key),
    }
    return props | extra


def create_service(g: NotionGateway, key: str, **extra: Any) -> dict[str, Any]:
    return g.create_page(
        SERVICES_DS,
        service_props(key, **extra),
        match_property="ExternalCustomerID",
        match_type="rich_text",
        key=key,
    ).page


def read(g: NotionGateway, *, include_trash: bool = False) -> Any:
    ds, schema = g.resolve(SERVICES_DB, None)
    return g.read_resource(SERVICES, data_source_id=ds, schema=schema, include_trash=include_trash)


def test_resolve_the_seeded_databases(sb: Any) -> None:
    g = gateway(sb)
    ds, schema = g.resolve(SERVICES_DB, None)
    assert ds == SERVICES_DS
    assert {"Name", "Description", "Service Count", "ExternalCustomerID", "Councils"} <= set(schema)
    assert schema["Councils"]["type"] == "relation"
    ds, schema = g.resolve(COUNCILS_DB, None)
    assert ds == COUNCILS_DS
    assert schema["Integration Last Updated"]["type"] == "date"


def test_wrong_token_and_unshared_database(sb: Any) -> None:
    settings = NotionSettings(base_url=sb.url, rate_limit=0)
    with pytest.raises(NotionAuthError, match="Notion rejected the token") as caught:
        NotionGateway("ntn_wrong_secret", settings).resolve(SERVICES_DB, None)
    assert "ntn_wrong_secret" not in str(caught.value)
    with pytest.raises(NotionAuthError, match="not found: share it with the integration"):
        gateway(sb).resolve("0000aaaa-0000-4000-8000-000000000001", None)


def test_create_read_update_archive_round_trip(sb: Any) -> None:
    g = gateway(sb)
    long_text = "\n".join(f"Service number {i} with a long descriptive name" for i in range(100))
    page = create_service(g, "barnet", Description=encode("rich_text", long_text), **{"Service Count": {"number": 3}})
    [state] = [p for p in read(g).pages if p.key == "barnet"]
    assert state.page_id == page["id"]
    assert state.values["Description"] == long_text  # > 2,000 characters, joined back
    assert state.values["Service Count"] == 3
    g.update_page(page["id"], properties={"Service Count": encode("number", 4)})
    g.update_page(page["id"], in_trash=True)
    after = read(g, include_trash=True)
    assert "barnet" not in {p.key for p in after.pages}
    assert [p.values["Service Count"] for p in after.trashed if p.key == "barnet"] == [4]


def test_relations_beyond_25_are_read_in_full(sb: Any) -> None:
    g = gateway(sb)
    councils = [
        g.create_page(
            COUNCILS_DS,
            {"Name": encode("title", f"C{i}"), "ExternalCustomerID": encode("rich_text", f"c{i}")},
            match_property="ExternalCustomerID",
            match_type="rich_text",
            key=f"c{i}",
        ).page_id
        for i in range(30)
    ]
    create_service(g, "big", Councils=encode("relation", tuple(councils)))
    before = g.counter.snapshot()["by_route"]
    [state] = [p for p in read(g).pages if p.key == "big"]
    assert state.values["Councils"] == tuple(sorted(councils))
    after = g.counter.snapshot()["by_route"]
    item_reads = "GET /v1/pages/{id}/properties/{property_id}"
    assert after.get(item_reads, 0) - before.get(item_reads, 0) >= 1


@pytest.mark.parametrize(
    "fault",
    [{"commit_then": 503}, {"commit_then": "drop"}, {"status": 503}, {"status": 502, "body": "html"}],
    ids=["commit-503", "commit-drop", "503", "502-html"],
)
def test_ambiguous_creates_end_with_exactly_one_page(sb: Any, fault: dict[str, Any]) -> None:
    sb.admin.add_faults([{"method": "POST", "route": "/v1/pages", "faults": [fault]}])
    g = gateway(sb)
    page = create_service(g, "camden")
    keys = [p.key for p in read(g).pages]
    assert keys.count("camden") == 1
    assert [p.page_id for p in read(g).pages if p.key == "camden"] == [page["id"]]


def test_commit_then_timeout_is_resolved_by_key(sb: Any) -> None:
    sb.admin.add_faults([{"method": "POST", "route": "/v1/pages", "faults": [{"commit_then": "timeout"}]}])
    g = gateway(sb, timeout_s=1.0)
    create_service(g, "hackney")
    assert [p.key for p in read(g).pages].count("hackney") == 1


@pytest.mark.slow
def test_transient_read_faults_and_429_are_retried(sb: Any) -> None:
    sb.admin.add_faults(
        [
            {
                "method": "POST",
                "route": "/v1/data_sources/{id}/query",
                "faults": [{"status": 429, "retry_after": 1}, {"status": 529}, {"status": 500}],
            }
        ]
    )
    g = gateway(sb)
    read(g)
    counts = g.counter.snapshot()
    assert counts["rate_limited"] == 1
    assert counts["by_route"]["POST /v1/data_sources/{id}/query"] >= 4


def test_the_query_cap_does_not_truncate(sb: Any) -> None:
    g = gateway(sb)
    for i in range(45):
        create_service(g, f"council-{i:03d}")
    sb.admin.settings(query_cap=20)
    keys = {p.key for p in read(g).pages}
    assert {f"council-{i:03d}" for i in range(45)} <= keys


def test_a_client_at_the_sandbox_rate_sees_no_429(sb: Any) -> None:
    sb.admin.settings(rate_limit=20)
    g = gateway(sb, rate_limit=20, burst=1)
    ds, _ = g.resolve(SERVICES_DB, None)
    for _ in range(30):
        g.query_pages(ds)
    assert g.counter.snapshot()["rate_limited"] == 0
