"""Helpers for the sandbox tests (a uniquely named module: `conftest` is ambiguous across test folders)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx
from notion_client import Client

TOKEN = "ntn_sandbox"
REALISM_ENV = "RECONCILE_TEST_REALISM"
# Read when this module is imported: the hermetic-environment fixture scrubs RECONCILE_* before each test runs.
REALISM_AT_IMPORT = os.environ.get(REALISM_ENV, "")
# Notion's own unreliability, as a product suite should survive it: queries and search 2 s behind the writes, 5% of
# requests failing as Notion's do (the same ones every run), chaos late commits landing 3 s after their 504.
# Notion's Retry-After can reach 60 s; 2 s keeps a realistic CI run within minutes (the switch is the same).
REALISTIC: dict[str, Any] = {
    "query_lag_ms": 2000,
    "chaos": 0.05,
    "chaos_seed": 20260311,
    "chaos_max_retry_after": 2,
    "chaos_commit_delay_ms": 3000,
}
CURRENT = "2025-09-03"
LEGACY = "2022-06-28"


class Raw:
    """Plain HTTP against the sandbox, for the requests notion-client cannot send (bad JSON, no token...)."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=10)

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = TOKEN,
        version: str | None = CURRENT,
        content: bytes | None = None,
        params: dict[str, Any] | None = None,
    ) -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if version is not None:
            headers["Notion-Version"] = version
        if content is None and body is not None:
            content = json.dumps(body).encode()
        return self.http.request(method, path, content=content, headers=headers, params=params)


def realism_from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """SandboxServer keyword arguments for a realistic sandbox when RECONCILE_TEST_REALISM is set (not 0), else {}.

    Usage in a fixture: ``SandboxServer(port=0, seed="planx", rate_limit=None, **realism_from_env())``.
    """
    value = environ.get(REALISM_ENV, "") if environ is not None else REALISM_AT_IMPORT
    if value.strip().lower() in ("", "0", "false", "no", "off"):
        return {}
    return dict(REALISTIC)


@contextmanager
def settled(sb: Any) -> Iterator[None]:
    """While a test reads Notion to check it: late commits landed, no indexing lag, no chaos; realism resumes after.

    The product under test meets the realistic sandbox; the test's own oracle must see the state it checks.
    """
    saved = sb.admin.settings()
    sb.admin.settings(chaos=0.0, query_lag_ms=0)
    sb.admin.settle()
    try:
        yield
    finally:
        sb.admin.settings(chaos=saved["chaos"], query_lag_ms=saved["query_lag_ms"])


def title(text: str) -> list[dict[str, Any]]:
    return [{"type": "text", "text": {"content": text}}]


def plain(page: dict[str, Any], prop: str) -> str:
    value = page["properties"][prop]
    return "".join(item["plain_text"] for item in value[value["type"]])


PARENT_PAGE = "9a9e0000-0000-4000-8000-000000000001"


def make_pair(notion: Client) -> dict[str, str]:
    """Councils + Services databases with a two-way relation (Services.Councils ⇄ Councils.Services)."""
    councils = notion.databases.create(
        parent={"type": "page_id", "page_id": PARENT_PAGE},
        title=title("Councils"),
        initial_data_source={
            "properties": {
                "Name": {"title": {}},
                "ExternalCustomerID": {"rich_text": {}},
                "Integration Last Updated": {"date": {}},
            }
        },
    )
    councils_ds = councils["data_sources"][0]["id"]
    services = notion.databases.create(
        parent={"type": "page_id", "page_id": PARENT_PAGE},
        title=title("Services"),
        initial_data_source={
            "properties": {
                "Name": {"title": {}},
                "Description": {"rich_text": {}},
                "Service Count": {"number": {"format": "number"}},
                "ExternalCustomerID": {"rich_text": {}},
                "Councils": {
                    "relation": {
                        "data_source_id": councils_ds,
                        "type": "dual_property",
                        "dual_property": {"synced_property_name": "Services"},
                    }
                },
            }
        },
    )
    return {
        "councils_db": councils["id"],
        "councils_ds": councils_ds,
        "services_db": services["id"],
        "services_ds": services["data_sources"][0]["id"],
    }


def row(notion: Client, ds: str, name: str, **props: Any) -> dict[str, Any]:
    return notion.pages.create(
        parent={"type": "data_source_id", "data_source_id": ds}, properties={"Name": {"title": title(name)}, **props}
    )
