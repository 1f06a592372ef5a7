"""Tokens with capabilities and sharing; the admin API behind an admin token when served beyond loopback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from notion_sandbox.access import grant_from_text
from notion_sandbox.cli import sandbox as sandbox_cli
from notion_sandbox.server import SandboxServer
from tests.support.sandbox import Raw, title

COUNCILS_DB = "c0c11c00-0000-4000-8000-000000000001"
COUNCILS_DS = "c0c11c00-0000-4000-8000-000000000002"
SERVICES_DS = "5e541ce5-0000-4000-8000-000000000002"
BARNET = "c0c11c00-0000-4000-8001-000000000001"
GRANTS = (
    "ntn_all",
    "ntn_reader:read",
    "ntn_writer:update,insert",
    f"ntn_councils:read,update,insert:{COUNCILS_DS}",
)
RESTRICTED = (403, "restricted_resource", "Insufficient permissions for this endpoint.")


@pytest.fixture
def shared() -> Iterator[SandboxServer]:
    with SandboxServer(port=0, seed="planx", tokens=GRANTS) as server:
        yield server


def answer(response: httpx.Response) -> tuple[int, str, str]:
    body = response.json()
    return response.status_code, body.get("code", ""), body.get("message", "")


def new_council(name: str) -> dict[str, Any]:
    return {"parent": {"data_source_id": COUNCILS_DS}, "properties": {"Name": {"title": title(name)}}}


def linked_service(raw: Raw) -> str:
    """A service page (made by the all-seeing token) related to Barnet."""
    body = {
        "parent": {"data_source_id": SERVICES_DS},
        "properties": {"Name": {"title": title("Apply")}, "Councils": {"relation": [{"id": BARNET}]}},
    }
    return raw.call("POST", "/v1/pages", body, token="ntn_all").json()["id"]


# ---------------------------------------------------------------- capabilities


def test_a_read_only_token_reads_and_may_not_write(shared: Any) -> None:
    raw = Raw(shared.url)
    assert raw.call("GET", f"/v1/pages/{BARNET}", token="ntn_reader").status_code == 200
    assert raw.call("POST", f"/v1/data_sources/{COUNCILS_DS}/query", {}, token="ntn_reader").status_code == 200
    assert answer(raw.call("POST", "/v1/pages", new_council("x"), token="ntn_reader")) == RESTRICTED
    patch = {"properties": {"Name": {"title": title("y")}}}
    assert answer(raw.call("PATCH", f"/v1/pages/{BARNET}", patch, token="ntn_reader")) == RESTRICTED
    assert answer(raw.call("DELETE", f"/v1/blocks/{BARNET}", token="ntn_reader")) == RESTRICTED
    assert raw.call("GET", "/v1/users/me", token="ntn_reader").status_code == 200


def test_a_token_without_read_gets_partial_objects_and_may_not_read(shared: Any) -> None:
    raw = Raw(shared.url)
    made = raw.call("POST", "/v1/pages", new_council("Blind"), token="ntn_writer")
    assert made.status_code == 200
    assert set(made.json()) == {"object", "id", "request_id"} and made.json()["object"] == "page"
    assert answer(raw.call("GET", f"/v1/pages/{made.json()['id']}", token="ntn_writer")) == RESTRICTED
    assert answer(raw.call("POST", "/v1/search", {}, token="ntn_writer")) == RESTRICTED


def test_capabilities_are_checked_before_the_body(shared: Any) -> None:
    broken = {"parent": {"data_source_id": COUNCILS_DS}, "colour": "red"}
    assert answer(Raw(shared.url).call("POST", "/v1/pages", broken, token="ntn_reader")) == RESTRICTED


# ---------------------------------------------------------------- sharing


def test_an_unshared_data_source_does_not_exist_for_the_token(shared: Any) -> None:
    raw = Raw(shared.url)
    status, code, message = answer(raw.call("GET", f"/v1/data_sources/{SERVICES_DS}", token="ntn_councils"))
    assert (status, code) == (404, "object_not_found")
    assert message.startswith(f"Could not find data_source with ID: {SERVICES_DS}.")
    query = raw.call("POST", f"/v1/data_sources/{SERVICES_DS}/query", {}, token="ntn_councils")
    assert answer(query)[:2] == (404, "object_not_found")
    body = {"parent": {"data_source_id": SERVICES_DS}, "properties": {}}
    assert answer(raw.call("POST", "/v1/pages", body, token="ntn_councils"))[:2] == (404, "object_not_found")
    assert raw.call("GET", f"/v1/data_sources/{COUNCILS_DS}", token="ntn_councils").status_code == 200
    assert raw.call("GET", f"/v1/databases/{COUNCILS_DB}", token="ntn_councils").status_code == 404


def test_relations_to_unshared_pages_read_back_empty(shared: Any) -> None:
    raw = Raw(shared.url)
    service = linked_service(raw)
    seen_by_all = raw.call("GET", f"/v1/pages/{BARNET}", token="ntn_all").json()
    assert seen_by_all["properties"]["PlanX Live Services"]["relation"] == [{"id": service}]
    council = raw.call("GET", f"/v1/pages/{BARNET}", token="ntn_councils").json()
    assert council["properties"]["PlanX Live Services"]["relation"] == []
    assert council["properties"]["PlanX Live Services"]["has_more"] is False
    prop_id = council["properties"]["PlanX Live Services"]["id"]
    items = raw.call("GET", f"/v1/pages/{BARNET}/properties/{prop_id}", token="ntn_councils").json()
    assert items["results"] == [] and items["has_more"] is False
    queried = raw.call("POST", f"/v1/data_sources/{COUNCILS_DS}/query", {}, token="ntn_councils").json()
    barnet = next(p for p in queried["results"] if p["id"] == BARNET)
    assert barnet["properties"]["PlanX Live Services"]["relation"] == []


def test_writing_the_visible_relation_wipes_the_links_the_token_cannot_see(shared: Any) -> None:
    raw = Raw(shared.url)
    service = linked_service(raw)
    patch = {"properties": {"PlanX Live Services": {"relation": []}}}
    assert raw.call("PATCH", f"/v1/pages/{BARNET}", patch, token="ntn_councils").status_code == 200
    after = raw.call("GET", f"/v1/pages/{service}", token="ntn_all").json()
    assert after["properties"]["Councils"]["relation"] == []


def test_a_relation_to_an_unshared_page_names_nothing(shared: Any) -> None:
    raw = Raw(shared.url)
    service = linked_service(raw)
    patch = {"properties": {"PlanX Live Services": {"relation": [{"id": service}]}}}
    status, code, message = answer(raw.call("PATCH", f"/v1/pages/{BARNET}", patch, token="ntn_councils"))
    assert (status, code) == (404, "object_not_found")
    assert message.startswith(f"Could not find page with ID: {service}.")


def test_search_shows_only_what_is_shared(shared: Any) -> None:
    raw = Raw(shared.url)
    linked_service(raw)
    found = raw.call("POST", "/v1/search", {}, token="ntn_councils").json()["results"]
    assert {r["object"] for r in found} == {"page", "data_source"}
    assert {r["id"] for r in found if r["object"] == "data_source"} == {COUNCILS_DS}
    assert all(r["parent"].get("data_source_id") == COUNCILS_DS for r in found if r["object"] == "page")


def test_grants_are_read_and_replaced_through_the_admin_api(shared: Any) -> None:
    assert shared.admin.tokens()[1] == {"token": "ntn_reader", "capabilities": ["read"], "shared": None}
    shared.admin.put_tokens(["ntn_only"])
    raw = Raw(shared.url)
    assert raw.call("GET", "/v1/users/me", token="ntn_all").status_code == 401
    assert raw.call("GET", "/v1/users/me", token="ntn_only").status_code == 200
    with pytest.raises(Exception, match="400"):
        shared.admin.put_tokens([{"token": "x", "capabilities": ["delete"]}])


@pytest.mark.parametrize(
    ("text", "view"),
    [
        ("ntn_a", {"token": "ntn_a", "capabilities": ["read", "update", "insert"], "shared": None}),
        ("ntn_a:read", {"token": "ntn_a", "capabilities": ["read"], "shared": None}),
        (
            f"ntn_a::{COUNCILS_DS.replace('-', '')}",
            {"token": "ntn_a", "capabilities": ["read", "update", "insert"], "shared": [COUNCILS_DS]},
        ),
    ],
)
def test_grant_text(text: str, view: dict[str, Any]) -> None:
    assert grant_from_text(text).view() == view


# ---------------------------------------------------------------- the admin token


def test_beyond_loopback_the_sandbox_needs_an_admin_token() -> None:
    with pytest.raises(ValueError, match="admin token"):
        SandboxServer(host="0.0.0.0", port=0)
    result = CliRunner().invoke(sandbox_cli, ["serve", "--host", "0.0.0.0", "--port", "0", "--print-env-only"])
    assert result.exit_code == 1
    assert "NOTION_SANDBOX_ADMIN_TOKEN" in result.output
    with_env = CliRunner().invoke(
        sandbox_cli,
        ["serve", "--host", "0.0.0.0", "--port", "0", "--print-env-only"],
        env={"NOTION_SANDBOX_ADMIN_TOKEN": "s3cret"},
    )
    assert with_env.exit_code == 0 and "s3cret" not in with_env.output


def test_with_an_admin_token_every_admin_call_needs_it() -> None:
    with SandboxServer(host="0.0.0.0", port=0, admin_token="s3cret") as server:
        base = f"http://127.0.0.1:{server.port}/_sandbox"
        for method, path in (("GET", "health"), ("GET", "state"), ("POST", "reset"), ("PATCH", "settings")):
            refused = httpx.request(method, f"{base}/{path}", json={})
            assert refused.status_code == 401, path
            wrong = httpx.request(method, f"{base}/{path}", json={}, headers={"Authorization": "Bearer nope"})
            assert wrong.status_code == 401, path
        ok = httpx.get(f"{base}/health", headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200
        assert server.admin.health()["ok"] is True  # the in-process client carries the token
        notion = httpx.get(
            f"http://127.0.0.1:{server.port}/v1/users/me",
            headers={"Authorization": "Bearer ntn_sandbox", "Notion-Version": "2025-09-03"},
        )
        assert notion.status_code == 200  # the Notion API itself keeps its own tokens
