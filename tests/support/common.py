"""The helpers every suite needs: a Notion client on a sandbox, the CLI in-process, plain values."""

from __future__ import annotations

from typing import Any

from click.testing import CliRunner, Result
from notion_client import Client

from reconcile.cli import cli

WRITE_ROUTES = ("POST /v1/pages", "PATCH /v1/pages/{id}")


def notion(sb: Any) -> Client:
    """notion-client 3.1 on a running sandbox, with the token its seed made."""
    return Client(auth=sb.seed_info["env"]["NOTION_TOKEN"], base_url=sb.url)


def run(*args: str, input: str | None = None) -> Result:
    """The CLI in this process; stderr is kept apart from stdout."""
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def writes(sb: Any) -> int:
    """Page writes (creates and PATCHes) the sandbox has answered so far."""
    by_route = sb.admin.requests()["by_route"]
    return sum(by_route.get(route, 0) for route in WRITE_ROUTES)


def all_pages(sb: Any, data_source_id: str) -> list[dict[str, Any]]:
    """Every live page of a data source, followed through its cursors."""
    out: list[dict[str, Any]] = []
    cursor = None
    client = notion(sb)
    while True:
        body: dict[str, Any] = {"data_source_id": data_source_id, "page_size": 100}
        if cursor:
            body["start_cursor"] = cursor
        res = client.data_sources.query(**body)
        out += res["results"]
        if not res["has_more"]:
            return out
        cursor = res["next_cursor"]


def plain(page: dict[str, Any], prop: str) -> Any:
    """A property's plain value: text joined, date start, relation ids sorted, else the raw value."""
    value = page["properties"][prop]
    kind = value["type"]
    if kind in ("title", "rich_text"):
        return "".join(t["plain_text"] for t in value[kind])
    if kind == "date":
        return (value["date"] or {}).get("start")
    if kind == "relation":
        return sorted(r["id"] for r in value["relation"])
    return value[kind]
