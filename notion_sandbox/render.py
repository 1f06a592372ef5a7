"""Stored objects → Notion JSON, in the key order of real responses, per API version.

``sees`` (a page id → bool) is the integration's view: a relation to a page it cannot see reads back without that
page, as in Notion, where a relation to a database not shared with the integration reads back as ``[]``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from notion_sandbox.ids import minute_stamp, object_url, offset_stamp, page_url
from notion_sandbox.store import Store
from notion_sandbox.users import BOT_USER_ID, rendered_user
from notion_sandbox.values import COMPUTED_TYPES, stored_or_empty

Sees = Callable[[str], bool]
RELATION_CAP = 25

LEGACY = "2022-06-28"
CURRENT = "2025-09-03"


def is_legacy(version: str) -> bool:
    return version < CURRENT


def shows_archived(version: str) -> bool:
    """2026-03-11 dropped ``archived``; earlier versions show it beside ``in_trash``."""
    return version < "2026-03-11"


def page_parent(store: Store, page: dict[str, Any], version: str) -> dict[str, Any]:
    parent = page["parent"]
    if parent.get("type") != "data_source_id":
        return dict(parent)
    ds = store.data_sources[parent["data_source_id"]]
    if is_legacy(version):
        return {"type": "database_id", "database_id": ds["database_id"]}
    return {"type": "data_source_id", "data_source_id": ds["id"], "database_id": ds["database_id"]}


def render_page(
    store: Store, page: dict[str, Any], version: str, only: set[str] | None = None, sees: Sees | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "object": "page",
        "id": page["id"],
        "created_time": minute_stamp(page["created_time"]),
        "last_edited_time": minute_stamp(page["last_edited_time"]),
        "created_by": user_ref(page.get("created_by", BOT_USER_ID)),
        "last_edited_by": user_ref(page.get("last_edited_by", BOT_USER_ID)),
        "cover": page["cover"],
        "icon": page["icon"],
        "parent": page_parent(store, page, version),
    }
    if shows_archived(version):
        out["archived"] = page["in_trash"]
    out["in_trash"] = page["in_trash"]
    out["is_locked"] = page["is_locked"]
    out["properties"] = {
        prop["name"]: render_value(store, prop, page, sees)
        for prop in store.schema_of(page)
        if only is None or prop["id"] in only or prop["name"] in only
    }
    out["url"] = page_url(store.page_title(page), page["id"])
    out["public_url"] = None
    return out


def render_schema_property(store: Store, prop: dict[str, Any], version: str) -> dict[str, Any]:
    out: dict[str, Any] = {"id": prop["id"], "name": prop["name"]}
    if not is_legacy(version):
        out["description"] = prop["description"]
    out["type"] = prop["type"]
    config = dict(prop["config"])
    if prop["type"] == "relation":
        config = relation_config_view(config)
    out[prop["type"]] = config
    return out


def relation_config_view(config: dict[str, Any]) -> dict[str, Any]:
    view = {"database_id": config["database_id"], "data_source_id": config["data_source_id"], "type": config["type"]}
    view[config["type"]] = dict(config.get(config["type"], {}))
    return view


def render_data_source(store: Store, ds: dict[str, Any], version: str) -> dict[str, Any]:
    db = store.databases[ds["database_id"]]
    out: dict[str, Any] = {
        "object": "data_source",
        "id": ds["id"],
        "cover": ds["cover"],
        "icon": ds["icon"],
        "created_time": minute_stamp(ds["created_time"]),
        "created_by": user_ref(),
        "last_edited_by": user_ref(),
        "last_edited_time": minute_stamp(ds["last_edited_time"]),
        "title": ds["title"],
        "description": ds["description"],
        "is_inline": db["is_inline"],
        "properties": {p["name"]: render_schema_property(store, p, version) for p in ds["properties"]},
        "parent": {"type": "database_id", "database_id": db["id"]},
        "database_parent": dict(db["parent"]),
        "url": object_url(db["id"]),
        "public_url": None,
    }
    if shows_archived(version):
        out["archived"] = ds["in_trash"]
    out["in_trash"] = ds["in_trash"]
    return out


def render_database(store: Store, db: dict[str, Any], version: str) -> dict[str, Any]:
    if is_legacy(version):
        return render_legacy_database(store, db, version)
    return {
        "object": "database",
        "id": db["id"],
        "title": db["title"],
        "description": db["description"],
        "parent": dict(db["parent"]),
        "is_inline": db["is_inline"],
        "in_trash": db["in_trash"],
        "is_locked": db["is_locked"],
        "created_time": offset_stamp(db["created_time"]),
        "last_edited_time": offset_stamp(db["last_edited_time"]),
        "data_sources": [
            {"id": ds_id, "name": store.data_source_title(store.data_sources[ds_id])} for ds_id in db["data_source_ids"]
        ],
        "icon": db["icon"],
        "cover": db["cover"],
        "url": object_url(db["id"]),
        "public_url": None,
    }


def render_legacy_database(store: Store, db: dict[str, Any], version: str) -> dict[str, Any]:
    """The 2022-06-28 database: the (single) data source's schema shown on the database itself."""
    ds = store.only_source(db)
    return {
        "object": "database",
        "id": db["id"],
        "cover": db["cover"],
        "icon": db["icon"],
        "created_time": minute_stamp(db["created_time"]),
        "created_by": user_ref(),
        "last_edited_by": user_ref(),
        "last_edited_time": minute_stamp(db["last_edited_time"]),
        "title": db["title"],
        "description": db["description"],
        "is_inline": db["is_inline"],
        "properties": {p["name"]: render_schema_property(store, p, version) for p in ds["properties"]},
        "parent": dict(db["parent"]),
        "url": object_url(db["id"]),
        "public_url": None,
        "archived": db["in_trash"],
        "in_trash": db["in_trash"],
        "is_locked": db["is_locked"],
    }


def render_block(store: Store, kind: str, obj: dict[str, Any], version: str) -> dict[str, Any]:
    """A block as Notion returns it; a page is a ``child_page`` block and a database a ``child_database`` one."""
    if kind == "block":
        parent, block_type, content = dict(obj["parent"]), obj["type"], obj["content"]
    elif kind == "page":
        parent, block_type, content = page_parent(store, obj, version), "child_page", {"title": store.page_title(obj)}
    else:
        title = "".join(t["plain_text"] for t in obj["title"])
        parent, block_type, content = dict(obj["parent"]), "child_database", {"title": title}
    out: dict[str, Any] = {
        "object": "block",
        "id": obj["id"],
        "parent": parent,
        "created_time": minute_stamp(obj["created_time"]),
        "last_edited_time": minute_stamp(obj["last_edited_time"]),
        "created_by": user_ref(),
        "last_edited_by": user_ref(),
        "has_children": kind != "database" and store.has_children(obj["id"]),
    }
    if shows_archived(version):
        out["archived"] = obj["in_trash"]
    out["in_trash"] = obj["in_trash"]
    out["type"] = block_type
    out[block_type] = content
    return out


def render_block_list(results: list[dict[str, Any]], cursor: str | None) -> dict[str, Any]:
    return {
        "object": "list",
        "results": results,
        "next_cursor": cursor,
        "has_more": cursor is not None,
        "type": "block",
        "block": {},
    }


def render_search_hit(
    store: Store, kind: str, obj: dict[str, Any], version: str, sees: Sees | None = None
) -> dict[str, Any]:
    """A search result: the full object, as its own retrieve endpoint renders it."""
    if kind == "page":
        return render_page(store, obj, version, sees=sees)
    if kind == "data_source":
        return render_data_source(store, obj, version)
    return render_legacy_database(store, obj, version)


# ---------------------------------------------------------------- property values (read path)


def user_ref(user_id: str = BOT_USER_ID) -> dict[str, str]:
    return {"object": "user", "id": user_id}


def visible_refs(refs: list[str], sees: Sees | None) -> list[str]:
    return refs if sees is None else [ref for ref in refs if sees(ref)]


def render_value(store: Store, prop: dict[str, Any], page: dict[str, Any], sees: Sees | None = None) -> dict[str, Any]:
    """A page property value as Notion returns it: ``{"id", "type", "<type>": value}``."""
    kind = prop["type"]
    out: dict[str, Any] = {"id": prop["id"], "type": kind}
    if kind == "relation":
        refs = visible_refs(stored_or_empty(prop, page["props"]), sees)
        out["relation"] = [{"id": ref} for ref in refs[:RELATION_CAP]]
        out["has_more"] = len(refs) > RELATION_CAP
    elif kind == "people":
        out["people"] = [rendered_user(store, u) for u in stored_or_empty(prop, page["props"])]
    elif kind in COMPUTED_TYPES:
        out[kind] = computed_value(prop, page)
    else:
        out[kind] = stored_or_empty(prop, page["props"])
    return out


def computed_value(prop: dict[str, Any], page: dict[str, Any]) -> Any:
    """Computed properties: timestamps and users are real; formula/rollup are not evaluated (null results)."""
    kind = prop["type"]
    if kind in ("created_time", "last_edited_time"):
        return minute_stamp(page[kind])
    if kind in ("created_by", "last_edited_by"):
        return user_ref(page.get(kind, BOT_USER_ID))
    if kind == "formula":
        return {"type": "string", "string": None}
    if kind == "rollup":
        return {"type": "number", "number": None, "function": prop["config"].get("function", "count")}
    if kind == "unique_id":
        return {"prefix": prop["config"].get("prefix"), "number": page.get("number", 1)}
    if kind == "button":
        return {}
    return None


def partial(obj_type: str, obj_id: str) -> dict[str, Any]:
    """What an integration without the read capability gets back from a write: the object's type and id."""
    return {"object": obj_type, "id": obj_id}
