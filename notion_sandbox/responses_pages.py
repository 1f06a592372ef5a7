"""Handlers of the page routes: create (with content blocks, icon and cover), retrieve, update, property items."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote

from notion_sandbox.api_base import ApiBase
from notion_sandbox.blocks import parse_children
from notion_sandbox.errors import UNDEFINED, NotionError, archived_block, body_invalid, undefined, validation
from notion_sandbox.icons import cover_value, icon_value
from notion_sandbox.ids import normalize_id
from notion_sandbox.render import render_page, visible_refs
from notion_sandbox.routes import Call, only_keys, query_page_size, trash_flag
from notion_sandbox.store import PAGE_SCHEMA, Store
from notion_sandbox.users import rendered_user
from notion_sandbox.values import Alternative, one_shape

PAGE_KEYS = ("parent", "properties", "icon", "cover", "content", "children", "markdown", "template", "position")
UPDATE_KEYS = ("properties", "icon", "cover", "is_locked", "template", "erase_content", "archived", "in_trash")
LISTED_TYPES = ("title", "rich_text", "relation", "people")


def refuse_markdown(body: dict[str, Any]) -> None:
    """Markdown page content is a Notion feature the sandbox does not model: it answers so rather than drop it."""
    for key in ("markdown", "content"):
        if key in body:
            raise validation(f"body.{key}: notion_sandbox does not model Markdown page content; send children blocks.")


def page_images(body: dict[str, Any]) -> dict[str, Any]:
    """The page's new icon and cover, checked (null clears them)."""
    images: dict[str, Any] = {}
    if "icon" in body:
        images["icon"] = icon_value(body["icon"], "body.icon")
    if "cover" in body:
        images["cover"] = cover_value(body["cover"], "body.cover")
    return images


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
        refuse_markdown(call.body)
        nodes = parse_children(call.body["children"], "body.children") if "children" in call.body else []
        images = page_images(call.body)
        parent = self.new_page_parent(call, call.body.get("parent", UNDEFINED))
        page = self.store.new_page(parent, self.store.now())
        decoded, ctx = self.store.decode_properties(page, call.body.get("properties", {}), self.page_sees(call))
        self.store.touch(page)
        self.store.pages[page["id"]] = page
        self.store.apply_properties(page, decoded, ctx, page["created_time"])
        page.update(images)
        self.store.insert_blocks(("page", page), nodes, None, page["created_time"])
        if parent.get("type") == "page_id":
            self.store.register_child(parent["page_id"], page["id"])
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
        images = page_images(call.body)
        erase = call.body.get("erase_content", False)
        if not isinstance(erase, bool):
            raise body_invalid("body.erase_content", "a boolean or `undefined`", erase)
        now = self.store.now()
        self.store.touch(page)
        if trash is not None:
            page["in_trash"] = trash
        self.store.apply_properties(page, decoded, ctx, now)
        page.update(images)
        if erase:
            self.store.trash_content(page["id"], now)
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
            "results": [property_item(self.store, prop, kind, item) for item in chunk],
            "next_cursor": cursor,
            "has_more": more,
            "type": "property_item",
            "property_item": {"id": prop["id"], "next_url": next_url, "type": kind, kind: {}},
        }


def property_item(store: Store, prop: dict[str, Any], kind: str, item: Any) -> dict[str, Any]:
    if kind == "relation":
        value: Any = {"id": item}
    elif kind == "people":
        value = rendered_user(store, item)
    else:
        value = item
    return {"object": "property_item", "type": kind, "id": prop["id"], kind: value}
