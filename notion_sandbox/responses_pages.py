"""Handlers of the page routes (create, retrieve, update, property items), block delete and users/me."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote

from notion_sandbox.access import sees
from notion_sandbox.api_base import ApiBase
from notion_sandbox.errors import (
    UNDEFINED,
    NotionError,
    archived_block,
    body_invalid,
    not_found,
    too_long,
    undefined,
    validation,
)
from notion_sandbox.ids import normalize_id, path_id
from notion_sandbox.render import render_block, render_page, user_ref, visible_refs
from notion_sandbox.routes import Call, only_keys, query_page_size, trash_flag
from notion_sandbox.store import PAGE_SCHEMA
from notion_sandbox.text import MAX_ARRAY
from notion_sandbox.values import BOT_USER_ID, Alternative, one_shape

PAGE_KEYS = ("parent", "properties", "icon", "cover", "content", "children", "markdown", "template", "position")
UPDATE_KEYS = ("properties", "icon", "cover", "is_locked", "template", "erase_content", "archived", "in_trash")
LISTED_TYPES = ("title", "rich_text", "relation", "people")


def uuid_at(key: str) -> Any:
    def check(value: dict[str, Any], path: str) -> str:
        found = normalize_id(value[key])
        if found is None:
            raise body_invalid(f"{path}.{key}", "a valid uuid", value[key])
        return found

    return check


def workspace_true(value: dict[str, Any], path: str) -> bool:
    if value["workspace"] is not True:
        raise body_invalid(f"{path}.workspace", "`true`", value["workspace"])
    return True


# The parent union of a page create, in the official document's order.
PAGE_PARENT = (
    Alternative("page_id", uuid_at("page_id")),
    Alternative("database_id", uuid_at("database_id")),
    Alternative("data_source_id", uuid_at("data_source_id")),
    Alternative("workspace", workspace_true),
)


class PageResponses(ApiBase):
    def page_create(self, call: Call) -> dict[str, Any]:
        only_keys(call.body, PAGE_KEYS)
        children = call.body.get("children", [])
        if not isinstance(children, list):
            raise body_invalid("body.children", "an array", children)
        if len(children) > MAX_ARRAY:
            raise too_long("body.children", MAX_ARRAY, len(children))
        parent = self.new_page_parent(call, call.body.get("parent", UNDEFINED))
        page = self.store.new_page(parent, self.store.now())
        decoded, ctx = self.store.decode_properties(page, call.body.get("properties", {}), self.page_sees(call))
        self.store.touch(page)
        self.store.pages[page["id"]] = page
        self.store.apply_properties(page, decoded, ctx, page["created_time"])
        for key in ("icon", "cover"):
            if key in call.body:
                page[key] = call.body[key]
        self.written(call, page["id"])
        return self.shown(call, "page", page["id"], lambda: self.rendered(call, page))

    def new_page_parent(self, call: Call, given: Any) -> dict[str, Any]:
        """The stored parent of a new page, which must be visible to the integration and not in the trash."""
        if given is UNDEFINED:
            raise undefined("body.parent")
        kind, target = one_shape(given, "body.parent", PAGE_PARENT)
        if kind == "workspace":
            return {"type": "workspace", "workspace": True}
        if kind == "page_id":
            page = self.page_for(call, target)
            self.open_for_writes("page", page)
            return {"type": "page_id", "page_id": page["id"]}
        if kind == "data_source_id":
            ds = self.data_source_for(call, target)
        else:
            ds = self.store.only_source(self.database_for(call, target))
        self.open_for_writes("data_source", ds)
        return {"type": "data_source_id", "data_source_id": ds["id"]}

    def rendered(self, call: Call, page: dict[str, Any], only: set[str] | None = None) -> dict[str, Any]:
        return render_page(self.store, page, call.version, only, sees=self.page_sees(call))

    def page_retrieve(self, call: Call) -> dict[str, Any]:
        page = self.page_for(call, call.params["id"])
        wanted = call.query.get("filter_properties")
        only = None
        if wanted:
            schema = self.store.schema_of(page)
            only = {p["id"] for p in schema if {p["id"], unquote(p["id"]), p["name"]} & set(wanted)}
        return self.rendered(call, page, only)

    def page_update(self, call: Call) -> dict[str, Any]:
        only_keys(call.body, UPDATE_KEYS)
        page = self.page_for(call, call.params["id"])
        trash = trash_flag(call.body)
        if page["in_trash"] and trash is not False:
            raise archived_block()
        decoded, ctx = self.store.decode_properties(page, call.body.get("properties", {}), self.page_sees(call))
        now = self.store.now()
        self.store.touch(page)
        if trash is not None:
            page["in_trash"] = trash
        self.store.apply_properties(page, decoded, ctx, now)
        for key in ("icon", "cover"):
            if key in call.body:
                page[key] = call.body[key]
        if isinstance(call.body.get("is_locked"), bool):
            page["is_locked"] = call.body["is_locked"]
        self.written(call)
        return self.shown(call, "page", page["id"], lambda: self.rendered(call, page))

    # ------------------------------------------------------------ property items

    def page_property(self, call: Call) -> dict[str, Any]:
        page = self.page_for(call, call.params["id"])
        key = call.params["property_id"]
        schema = self.store.schema_of(page) if page["parent"].get("type") == "data_source_id" else PAGE_SCHEMA
        # Notion takes the property's id here, never its name (docs: "Retrieve a page property item").
        prop = next((p for p in schema if key in (p["id"], unquote(p["id"]))), None)
        if prop is None:
            raise NotionError(404, "object_not_found", f"Could not find property with ID: {key}.")
        if prop["type"] not in LISTED_TYPES:
            rendered = self.rendered(call, page, {prop["id"]})["properties"][prop["name"]]
            value = {k: v for k, v in rendered.items() if k != "id"}
            return {"object": "property_item", "id": prop["id"], **value}
        items = list(page["props"].get(prop["id"], []))
        if prop["type"] == "relation":
            items = visible_refs(items, self.page_sees(call))
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

    # ------------------------------------------------------------ blocks, users

    def block_delete(self, call: Call) -> dict[str, Any]:
        block_id = path_id(call.params["id"], "block_id")
        now = self.store.now()
        if block_id in self.store.pages:
            page = self.store.pages[block_id]
            if not sees(self.store, call.grant, "page", page):
                raise not_found("block", block_id)
            if page["in_trash"]:
                raise archived_block()
            self.store.touch(page)
            page["in_trash"], page["last_edited_time"] = True, now
            self.written(call)
            return self.shown(
                call, "block", page["id"], lambda: render_block(self.store, page, "child_page", call.version)
            )
        if block_id in self.store.databases:
            db = self.store.databases[block_id]
            if not sees(self.store, call.grant, "database", db):
                raise not_found("block", block_id)
            db["in_trash"], db["last_edited_time"] = True, now
            self.written(call)
            return self.shown(
                call, "block", db["id"], lambda: render_block(self.store, db, "child_database", call.version)
            )
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


def property_item(prop: dict[str, Any], kind: str, item: Any) -> dict[str, Any]:
    if kind == "relation":
        value: Any = {"id": item}
    elif kind == "people":
        value = user_ref(item)
    else:
        value = item
    return {"object": "property_item", "type": kind, "id": prop["id"], kind: value}
