"""The Notion REST API over the store: routing, the check order, body validation and the handlers.

Check order (as observed on Notion): route/method → JSON parse → auth → rate limit → Notion-Version → route
version gate → body validation → object lookup. One error per response.
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

from notion_sandbox.errors import (
    MISSING_VERSION_MESSAGE,
    UNDEFINED,
    NotionError,
    archived_block,
    body_invalid,
    invalid_json,
    invalid_request_url,
    not_found,
    too_long,
    validation,
)
from notion_sandbox.ids import new_id, normalize_id, path_id
from notion_sandbox.query import compile_filter, sort_pages
from notion_sandbox.render import (
    is_legacy,
    render_block,
    render_data_source,
    render_database,
    render_page,
    render_search_hit,
)
from notion_sandbox.search import list_type, parse_search, search_hits
from notion_sandbox.store import PAGE_SCHEMA, Store
from notion_sandbox.values import BOT_USER_ID, MAX_ARRAY, WriteContext, rich_text_items

MAX_BODY_BYTES = 500 * 1000
VERSION_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_CURSORS = 20000

# (method, template, handler name, version gate: None | "current" | "legacy")
ROUTES: list[tuple[str, str, str, str | None]] = [
    ("GET", "/v1/databases/{id}", "database_retrieve", None),
    ("PATCH", "/v1/databases/{id}", "database_update", None),
    ("POST", "/v1/databases", "database_create", None),
    ("POST", "/v1/databases/{id}/query", "database_query", "legacy"),
    ("GET", "/v1/data_sources/{id}", "data_source_retrieve", "current"),
    ("PATCH", "/v1/data_sources/{id}", "data_source_update", "current"),
    ("POST", "/v1/data_sources", "data_source_create", "current"),
    ("POST", "/v1/data_sources/{id}/query", "data_source_query", "current"),
    ("POST", "/v1/pages", "page_create", None),
    ("GET", "/v1/pages/{id}", "page_retrieve", None),
    ("PATCH", "/v1/pages/{id}", "page_update", None),
    ("GET", "/v1/pages/{id}/properties/{property_id}", "page_property", None),
    ("DELETE", "/v1/blocks/{id}", "block_delete", None),
    ("GET", "/v1/users/me", "users_me", None),
    ("POST", "/v1/search", "search", None),
]


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes


@dataclass
class Call:
    """One routed request while a handler runs."""

    params: dict[str, str]
    body: dict[str, Any]
    version: str
    query: dict[str, list[str]]
    raw_size: int
    wrote: bool = False
    created_id: str | None = None


@dataclass
class Reply:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    wrote: bool = False
    created_id: str | None = None


def match_route(method: str, path: str) -> tuple[str, str, dict[str, str], str | None] | None:
    """(template, handler, params, gate) for a request, or None: unknown path and wrong method look alike."""
    parts = path.rstrip("/").split("/") if path != "/" else [""]
    for route_method, template, handler, gate in ROUTES:
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
            return template, handler, params, gate
    return None


def only_keys(body: dict[str, Any], allowed: tuple[str, ...]) -> None:
    for key, value in body.items():
        if key not in allowed:
            raise body_invalid(f"body.{key}", "not present", value)


def trash_flag(body: dict[str, Any]) -> bool | None:
    for key in ("in_trash", "archived"):
        if key in body:
            if not isinstance(body[key], bool):
                raise body_invalid(f"body.{key}", "a boolean", body[key])
            return body[key]
    return None


class NotionApi:
    def __init__(
        self,
        store: Store,
        tokens: tuple[str, ...] = ("ntn_sandbox",),
        query_cap: int = 10000,
        base_url: Callable[[], str] = lambda: "http://127.0.0.1",
    ) -> None:
        self.store = store
        self.tokens = tuple(tokens)
        self.query_cap = query_cap
        self.base_url = base_url
        self.cursors: OrderedDict[str, dict[str, Any]] = OrderedDict()

    # ------------------------------------------------------------ the pipeline

    def handle(self, req: Request, rate_check: Callable[[str], None] | None = None) -> Reply:
        try:
            return self.dispatch(req, rate_check)
        except NotionError as err:
            return Reply(err.status, err.body(""), dict(err.headers))

    def dispatch(self, req: Request, rate_check: Callable[[str], None] | None) -> Reply:
        found = match_route(req.method, req.path)
        if found is None:
            raise invalid_request_url()
        _, handler, params, gate = found
        body = parse_body(req)
        token = self.authenticate(req.headers.get("authorization"))
        if rate_check is not None:
            rate_check(token)
        version = self.api_version(req.headers.get("notion-version"))
        if (gate == "current" and is_legacy(version)) or (gate == "legacy" and not is_legacy(version)):
            raise invalid_request_url()
        if len(req.body) > MAX_BODY_BYTES:
            raise validation(
                f"body failed validation: body should be at most {MAX_BODY_BYTES} bytes, instead was {len(req.body)}."
            )
        call = Call(params, body, version, req.query, len(req.body))
        with self.store.lock:
            out = getattr(self, handler)(call)
        return Reply(200, out, wrote=call.wrote, created_id=call.created_id)

    def authenticate(self, header: str | None) -> str:
        if not header or not header.startswith("Bearer ") or not header[7:].strip():
            raise NotionError(401, "unauthorized", 'Authorization header must use the format "Bearer <token>".')
        token = header[7:].strip()
        if token not in self.tokens:
            raise NotionError(401, "unauthorized", "API token is invalid.")
        return token

    def api_version(self, header: str | None) -> str:
        if header is None:
            raise NotionError(400, "missing_version", MISSING_VERSION_MESSAGE)
        if not VERSION_PATTERN.match(header.strip()):
            raise NotionError(
                400,
                "missing_version",
                "Notion-Version header failed validation: Notion-Version header should be a valid API version, "
                f"instead was `{json.dumps(header)}`.",
            )
        return header.strip()

    # ------------------------------------------------------------ databases

    def database_retrieve(self, call: Call) -> dict[str, Any]:
        db = self.store.database(path_id(call.params["id"], "database_id"))
        return render_database(self.store, db, call.version)

    def database_create(self, call: Call) -> dict[str, Any]:
        legacy = is_legacy(call.version)
        keys = ("parent", "title", "description", "is_inline", "icon", "cover")
        only_keys(call.body, keys + (("properties",) if legacy else ("initial_data_source",)))
        parent = self.page_parent(call.body.get("parent", UNDEFINED))
        title = rich_text_items(call.body.get("title", []), "body.title")
        source = call.body.get("initial_data_source", {})
        if not isinstance(source, dict):
            raise body_invalid("body.initial_data_source", "an object", source)
        specs = call.body.get("properties", {}) if legacy else source.get("properties", {})
        path = "body.properties" if legacy else "body.initial_data_source.properties"
        now = self.store.now()
        db = self.store.new_database(parent, title, now)
        try:
            self.apply_database_fields(db, call.body)
            ds = self.store.new_data_source(db, [dict(t) for t in title], now)
            self.store.add_properties(ds, specs, path, legacy)
        except NotionError:
            self.drop_database(db)
            raise
        self.written(call, db["id"])
        return render_database(self.store, db, call.version)

    def drop_database(self, db: dict[str, Any]) -> None:
        for ds_id in db["data_source_ids"]:
            self.store.data_sources.pop(ds_id, None)
        self.store.databases.pop(db["id"], None)

    def page_parent(self, parent: Any) -> dict[str, Any]:
        if parent is UNDEFINED:
            raise body_invalid("body.parent", "defined", UNDEFINED)
        if not isinstance(parent, dict):
            raise body_invalid("body.parent", "an object", parent)
        if parent.get("workspace") is True:
            return {"type": "workspace", "workspace": True}
        page_id = normalize_id(parent.get("page_id", UNDEFINED))
        if page_id is None:
            raise body_invalid("body.parent.page_id", "a valid uuid", parent.get("page_id", UNDEFINED))
        self.store.page(page_id)
        return {"type": "page_id", "page_id": page_id}

    def apply_database_fields(self, db: dict[str, Any], body: dict[str, Any]) -> None:
        if "description" in body:
            db["description"] = rich_text_items(body["description"], "body.description")
        if "is_inline" in body:
            db["is_inline"] = bool(body["is_inline"])
        for key in ("icon", "cover"):
            if key in body:
                db[key] = body[key]
        if isinstance(body.get("is_locked"), bool):
            db["is_locked"] = body["is_locked"]

    def database_update(self, call: Call) -> dict[str, Any]:
        legacy = is_legacy(call.version)
        keys = ("title", "description", "is_inline", "icon", "cover", "in_trash", "archived", "is_locked", "parent")
        only_keys(call.body, keys + (("properties",) if legacy else ()))
        db = self.store.database(path_id(call.params["id"], "database_id"))
        ds = self.store.only_source(db) if legacy else None
        trash = trash_flag(call.body)
        if db["in_trash"] and trash is not False and set(call.body) - {"in_trash", "archived"}:
            raise archived_block()
        if "title" in call.body:
            title = rich_text_items(call.body["title"], "body.title")
        if ds is not None and "properties" in call.body:
            self.store.update_properties(ds, call.body["properties"], "body.properties", legacy=True)
        if "parent" in call.body:
            db["parent"] = self.page_parent(call.body["parent"])
        if "title" in call.body:
            db["title"] = title
        self.apply_database_fields(db, call.body)
        if trash is not None:
            db["in_trash"] = trash
        now = self.store.now()
        db["last_edited_time"] = now
        self.written(call)
        return render_database(self.store, db, call.version)

    def database_query(self, call: Call) -> dict[str, Any]:
        db = self.store.database(path_id(call.params["id"], "database_id"))
        ds = self.store.only_source(db)
        return self.run_query(ds, call, "page")

    # ------------------------------------------------------------ data sources

    def data_source_retrieve(self, call: Call) -> dict[str, Any]:
        ds = self.store.data_source(path_id(call.params["id"], "data_source_id"))
        return render_data_source(self.store, ds, call.version)

    def data_source_create(self, call: Call) -> dict[str, Any]:
        only_keys(call.body, ("parent", "properties", "title", "icon"))
        parent = call.body.get("parent", UNDEFINED)
        if not isinstance(parent, dict):
            raise body_invalid("body.parent", "an object" if parent is not UNDEFINED else "defined", parent)
        db_id = normalize_id(parent.get("database_id", UNDEFINED))
        if db_id is None:
            raise body_invalid("body.parent.database_id", "a valid uuid", parent.get("database_id", UNDEFINED))
        if "properties" not in call.body:
            raise body_invalid("body.properties", "defined", UNDEFINED)
        db = self.store.database(db_id)
        title = rich_text_items(call.body.get("title", []), "body.title")
        ds = self.store.new_data_source(db, title, self.store.now())
        if "icon" in call.body:
            ds["icon"] = call.body["icon"]
        try:
            self.store.add_properties(ds, call.body["properties"], "body.properties")
        except NotionError:
            db["data_source_ids"].remove(ds["id"])
            self.store.data_sources.pop(ds["id"])
            raise
        self.written(call, ds["id"])
        return render_data_source(self.store, ds, call.version)

    def data_source_update(self, call: Call) -> dict[str, Any]:
        only_keys(call.body, ("title", "icon", "properties", "in_trash", "archived", "parent"))
        ds = self.store.data_source(path_id(call.params["id"], "data_source_id"))
        trash = trash_flag(call.body)
        if ds["in_trash"] and trash is not False and set(call.body) - {"in_trash", "archived"}:
            raise archived_block()
        if "title" in call.body:
            title = rich_text_items(call.body["title"], "body.title")
        if "properties" in call.body:
            self.store.update_properties(ds, call.body["properties"], "body.properties")
        if "title" in call.body:
            ds["title"] = title
        if "icon" in call.body:
            ds["icon"] = call.body["icon"]
        if trash is not None:
            ds["in_trash"] = trash
        ds["last_edited_time"] = self.store.now()
        self.written(call)
        return render_data_source(self.store, ds, call.version)

    def data_source_query(self, call: Call) -> dict[str, Any]:
        ds = self.store.data_source(path_id(call.params["id"], "data_source_id"))
        return self.run_query(ds, call, "page_or_data_source")

    # ------------------------------------------------------------ query

    def run_query(self, ds: dict[str, Any], call: Call, list_type: str) -> dict[str, Any]:
        body = call.body
        only_keys(body, ("sorts", "filter", "start_cursor", "page_size", "archived", "in_trash", "result_type"))
        page_size = body_page_size(body.get("page_size", UNDEFINED))
        cursor = body.get("start_cursor", UNDEFINED)
        if cursor is not UNDEFINED and cursor is not None and normalize_id(cursor) is None:
            raise body_invalid("body.start_cursor", "a valid uuid or `undefined`", cursor)
        trashed = bool(trash_flag(body))
        test = compile_filter(self.store, ds, body["filter"]) if body.get("filter") is not None else None
        only = self.filter_properties(ds, call.query.get("filter_properties"))
        candidates = [p for p in self.store.pages_of(ds["id"], include_trashed=True) if p["in_trash"] == trashed]
        matched = [p for p in candidates if test is None or test(p)]
        ordered = sort_pages(self.store, ds, matched, body.get("sorts"))
        offset, served = self.resume(cursor if isinstance(cursor, str) else None, ordered, ds["id"])
        take = max(0, min(page_size, self.query_cap - served))
        chunk = ordered[offset : offset + take]
        more = offset + len(chunk) < len(ordered)
        capped = more and served + len(chunk) >= self.query_cap
        out: dict[str, Any] = {
            "object": "list",
            "results": [render_page(self.store, p, call.version, only) for p in chunk],
            "next_cursor": None,
            "has_more": more and not capped,
            "type": list_type,
            list_type: {},
        }
        if more and not capped:
            out["next_cursor"] = self.new_cursor(
                {"scope": ds["id"], "next_id": ordered[offset + len(chunk)]["id"], "served": served + len(chunk)}
            )
        if capped:
            out["request_status"] = {"type": "incomplete", "incomplete_reason": "query_result_limit_reached"}
        return out

    def filter_properties(self, ds: dict[str, Any], wanted: list[str] | None) -> set[str] | None:
        if not wanted:
            return None
        only: set[str] = set()
        for key in wanted:
            prop = self.store.find_property(ds, key)
            if prop is None:
                raise validation(f"Could not find property with name or id: {key}")
            only.add(prop["id"])
        return only

    def new_cursor(self, entry: dict[str, Any]) -> str:
        cursor = new_id()
        self.cursors[cursor] = entry
        while len(self.cursors) > MAX_CURSORS:
            self.cursors.popitem(last=False)
        return cursor

    def resume(self, cursor: str | None, ordered: list[dict[str, Any]], scope: str) -> tuple[int, int]:
        """(offset, results already served) for a cursor; a vanished next item falls back to the count served."""
        if cursor is None:
            return 0, 0
        entry = self.cursors.get(normalize_id(cursor) or "")
        if entry is None or entry["scope"] != scope:
            raise validation(f"The start_cursor provided is invalid: {cursor}")
        ids = [p["id"] for p in ordered]
        offset = ids.index(entry["next_id"]) if entry["next_id"] in ids else min(entry["served"], len(ids))
        return offset, entry["served"]

    # ------------------------------------------------------------ pages

    def page_create(self, call: Call) -> dict[str, Any]:
        keys = ("parent", "properties", "icon", "cover", "content", "children", "markdown", "template", "position")
        only_keys(call.body, keys)
        children = call.body.get("children", [])
        if not isinstance(children, list):
            raise body_invalid("body.children", "an array", children)
        if len(children) > MAX_ARRAY:
            raise too_long("body.children", MAX_ARRAY, len(children))
        parent = self.row_parent(call.body.get("parent", UNDEFINED), call.version)
        page = self.store.new_page(parent, self.store.now())
        decoded, ctx = self.store.decode_properties(page, call.body.get("properties", {}))
        self.store.pages[page["id"]] = page
        self.store.apply_properties(page, decoded, ctx, page["created_time"])
        for key in ("icon", "cover"):
            if key in call.body:
                page[key] = call.body[key]
        self.written(call, page["id"])
        return render_page(self.store, page, call.version)

    def row_parent(self, parent: Any, version: str) -> dict[str, Any]:
        if isinstance(parent, dict) and ("data_source_id" in parent or "database_id" in parent):
            if "data_source_id" in parent:
                ds_id = normalize_id(parent["data_source_id"])
                if ds_id is None:
                    raise body_invalid("body.parent.data_source_id", "a valid uuid", parent["data_source_id"])
                ds = self.store.data_source(ds_id)
            else:
                db_id = normalize_id(parent["database_id"])
                if db_id is None:
                    raise body_invalid("body.parent.database_id", "a valid uuid", parent["database_id"])
                ds = self.store.only_source(self.store.database(db_id))
            return {"type": "data_source_id", "data_source_id": ds["id"]}
        return self.page_parent(parent)

    def page_retrieve(self, call: Call) -> dict[str, Any]:
        page = self.store.page(path_id(call.params["id"], "page_id"))
        wanted = call.query.get("filter_properties")
        only = None
        if wanted:
            schema = self.store.schema_of(page)
            only = {p["id"] for p in schema if {p["id"], unquote(p["id"]), p["name"]} & set(wanted)}
        return render_page(self.store, page, call.version, only)

    def page_update(self, call: Call) -> dict[str, Any]:
        keys = ("properties", "icon", "cover", "is_locked", "template", "erase_content", "archived", "in_trash")
        only_keys(call.body, keys)
        page = self.store.page(path_id(call.params["id"], "page_id"))
        trash = trash_flag(call.body)
        if page["in_trash"] and trash is not False:
            raise archived_block()
        decoded, ctx = self.store.decode_properties(page, call.body.get("properties", {}))
        now = self.store.now()
        if trash is not None:
            page["in_trash"] = trash
        self.store.apply_properties(page, decoded, ctx, now)
        for key in ("icon", "cover"):
            if key in call.body:
                page[key] = call.body[key]
        if isinstance(call.body.get("is_locked"), bool):
            page["is_locked"] = call.body["is_locked"]
        self.written(call)
        return render_page(self.store, page, call.version)

    def page_property(self, call: Call) -> dict[str, Any]:
        page = self.store.page(path_id(call.params["id"], "page_id"))
        key = call.params["property_id"]
        schema = self.store.schema_of(page) if page["parent"].get("type") == "data_source_id" else PAGE_SCHEMA
        prop = next((p for p in schema if unquote(p["id"]) == key), None)
        prop = prop or next((p for p in schema if p["name"] == key), None)
        if prop is None:
            raise NotionError(404, "object_not_found", f"Could not find property with ID: {key}.")
        rendered = render_page(self.store, page, call.version, {prop["id"]})["properties"][prop["name"]]
        if prop["type"] not in ("title", "rich_text", "relation", "people"):
            value = {k: v for k, v in rendered.items() if k != "id"}
            return {"object": "property_item", "id": prop["id"], **value}
        items = page["props"].get(prop["id"], [])
        return self.property_item_list(call, page, prop, items)

    def property_item_list(
        self, call: Call, page: dict[str, Any], prop: dict[str, Any], items: list[Any]
    ) -> dict[str, Any]:
        page_size = query_page_size(call.query.get("page_size"))
        start = (call.query.get("start_cursor") or [None])[0]
        offset = 0
        if start is not None:
            entry = self.cursors.get(normalize_id(start) or "")
            if entry is None or entry["scope"] != f"{page['id']}/{prop['id']}":
                raise validation(f"The start_cursor provided is invalid: {start}")
            offset = entry["offset"]
        chunk = items[offset : offset + page_size]
        more = offset + len(chunk) < len(items)
        cursor = (
            self.new_cursor({"scope": f"{page['id']}/{prop['id']}", "offset": offset + len(chunk)}) if more else None
        )
        kind = prop["type"]
        next_url = None
        if cursor:
            encoded = quote(prop["id"], safe="%")
            next_url = f"{self.base_url()}/v1/pages/{page['id']}/properties/{encoded}?start_cursor={cursor}"
        return {
            "object": "list",
            "results": [property_item(prop, kind, item) for item in chunk],
            "next_cursor": cursor,
            "has_more": more,
            "type": "property_item",
            "property_item": {"id": prop["id"], "next_url": next_url, "type": kind, kind: {}},
        }

    # ------------------------------------------------------------ search

    def search(self, call: Call) -> dict[str, Any]:
        legacy = is_legacy(call.version)
        request = parse_search(call.body, legacy)
        hits = search_hits(self.store, request, legacy)
        offset, served = self.resume(request.cursor, [h.obj for h in hits], "search")
        chunk = hits[offset : offset + request.page_size]
        more = offset + len(chunk) < len(hits)
        cursor = None
        if more:
            cursor = self.new_cursor(
                {"scope": "search", "next_id": hits[offset + len(chunk)].id, "served": served + len(chunk)}
            )
        kind = list_type(legacy)
        return {
            "object": "list",
            "results": [render_search_hit(self.store, h.kind, h.obj, call.version) for h in chunk],
            "next_cursor": cursor,
            "has_more": more,
            "type": kind,
            kind: {},
        }

    # ------------------------------------------------------------ blocks, users

    def block_delete(self, call: Call) -> dict[str, Any]:
        block_id = path_id(call.params["id"], "block_id")
        now = self.store.now()
        if block_id in self.store.pages:
            page = self.store.pages[block_id]
            if page["in_trash"]:
                raise archived_block()
            page["in_trash"], page["last_edited_time"] = True, now
            self.written(call)
            return render_block(self.store, page, "child_page", call.version)
        if block_id in self.store.databases:
            db = self.store.databases[block_id]
            db["in_trash"], db["last_edited_time"] = True, now
            self.written(call)
            return render_block(self.store, db, "child_database", call.version)
        raise not_found("block", block_id)

    def users_me(self, call: Call) -> dict[str, Any]:
        return {
            "object": "user",
            "id": BOT_USER_ID,
            "name": "Sandbox integration",
            "avatar_url": None,
            "type": "bot",
            "bot": {"owner": {"type": "workspace", "workspace": True}, "workspace_name": "Sandbox"},
        }

    def written(self, call: Call, created_id: str | None = None) -> None:
        call.wrote = True
        call.created_id = created_id


def property_item(prop: dict[str, Any], kind: str, item: Any) -> dict[str, Any]:
    if kind == "relation":
        value: Any = {"id": item}
    elif kind == "people":
        value = {"object": "user", "id": item}
    else:
        value = item
    return {"object": "property_item", "type": kind, "id": prop["id"], kind: value}


def parse_body(req: Request) -> dict[str, Any]:
    if req.method in ("GET", "DELETE") or not req.body.strip():
        return {}
    try:
        body = json.loads(req.body)
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


__all__ = ["ROUTES", "NotionApi", "Reply", "Request", "WriteContext", "match_route"]
