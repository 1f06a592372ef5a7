"""The routes served, the request and reply values, and the body checks every handler shares."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from notion_sandbox.access import Grant
from notion_sandbox.errors import UNDEFINED, body_invalid, invalid_json, not_present

# (method, template, handler name, version gate: None | "current" | "legacy", capability needed)
ROUTES: list[tuple[str, str, str, str | None, str | None]] = [
    ("GET", "/v1/databases/{id}", "database_retrieve", None, "read"),
    ("PATCH", "/v1/databases/{id}", "database_update", None, "update"),
    ("POST", "/v1/databases", "database_create", None, "insert"),
    ("POST", "/v1/databases/{id}/query", "database_query", "legacy", "read"),
    ("GET", "/v1/data_sources/{id}", "data_source_retrieve", "current", "read"),
    ("PATCH", "/v1/data_sources/{id}", "data_source_update", "current", "update"),
    ("POST", "/v1/data_sources", "data_source_create", "current", "insert"),
    ("POST", "/v1/data_sources/{id}/query", "data_source_query", "current", "read"),
    ("POST", "/v1/pages", "page_create", None, "insert"),
    ("GET", "/v1/pages/{id}", "page_retrieve", None, "read"),
    ("PATCH", "/v1/pages/{id}", "page_update", None, "update"),
    ("GET", "/v1/pages/{id}/properties/{property_id}", "page_property", None, "read"),
    ("GET", "/v1/blocks/{id}", "block_retrieve", None, "read"),
    ("PATCH", "/v1/blocks/{id}", "block_update", None, "update"),
    ("DELETE", "/v1/blocks/{id}", "block_delete", None, "update"),
    ("GET", "/v1/blocks/{id}/children", "block_children", None, "read"),
    ("PATCH", "/v1/blocks/{id}/children", "block_append", None, "insert"),
    ("GET", "/v1/users/me", "users_me", None, None),
    ("GET", "/v1/users", "users_list", None, "read"),
    ("GET", "/v1/users/{id}", "user_retrieve", None, "read"),
    ("POST", "/v1/search", "search", None, "read"),
]


@dataclass(frozen=True)
class Route:
    template: str
    handler: str
    params: dict[str, str]
    gate: str | None
    capability: str | None


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    raw_query: str = ""


@dataclass
class Call:
    """One routed request while a handler runs."""

    params: dict[str, str]
    body: dict[str, Any]
    version: str
    query: dict[str, list[str]]
    raw_size: int
    grant: Grant | None = None
    wrote: bool = False
    created_id: str | None = None
    child_ids: list[str] | None = None


@dataclass
class Reply:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    wrote: bool = False
    created_id: str | None = None
    child_ids: list[str] | None = None


def match_route(method: str, path: str) -> Route | None:
    """The route a request takes, or None: an unknown path and a wrong method look alike."""
    parts = path.rstrip("/").split("/") if path != "/" else [""]
    for route_method, template, handler, gate, capability in ROUTES:
        if route_method != method:
            continue
        tparts = template.split("/")
        if len(tparts) != len(parts):
            continue
        params: dict[str, str] = {}
        for t, p in zip(tparts, parts, strict=True):
            if t.startswith("{"):
                if not p:
                    break
                params[t[1:-1]] = unquote(p)
            elif t != p:
                break
        else:
            return Route(template, handler, params, gate, capability)
    return None


def only_keys(body: dict[str, Any], allowed: tuple[str, ...]) -> None:
    for key, value in body.items():
        if key not in allowed:
            raise not_present(f"body.{key}", value)


def trash_flag(body: dict[str, Any]) -> bool | None:
    for key in ("in_trash", "archived"):
        if key in body:
            if not isinstance(body[key], bool):
                raise body_invalid(f"body.{key}", "a boolean", body[key])
            return body[key]
    return None


def refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_body(req: Request) -> dict[str, Any]:
    if req.method in ("GET", "DELETE") or not req.body.strip():
        return {}
    try:
        # NaN and Infinity are not JSON: Notion's parser refuses them, Python's would take them.
        body = json.loads(req.body, parse_constant=refuse_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid_json() from exc
    if not isinstance(body, dict):
        raise body_invalid("body", "an object", body)
    return body


def body_page_size(value: Any) -> int:
    if value is UNDEFINED or value is None:
        return 100
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise body_invalid("body.page_size", "a number or `undefined`", value)
    if value > 100:
        raise body_invalid("body.page_size", "≤ `100` or `undefined`", value)
    if value < 1:
        raise body_invalid("body.page_size", "≥ `1` or `undefined`", value)
    return int(value)


def query_page_size(values: list[str] | None) -> int:
    if not values:
        return 100
    raw = values[0]
    try:
        size = int(raw)
    except ValueError:
        raise body_invalid("query.page_size", "a number or `undefined`", raw, where="query") from None
    if size > 100:
        raise body_invalid("query.page_size", "≤ `100` or `undefined`", size, where="query")
    if size < 1:
        raise body_invalid("query.page_size", "≥ `1` or `undefined`", size, where="query")
    return size
