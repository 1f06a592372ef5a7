"""Handlers of the database and data source routes."""

from __future__ import annotations

from typing import Any

from notion_sandbox.api_base import ApiBase
from notion_sandbox.errors import UNDEFINED, NotionError, archived_block, body_invalid, undefined
from notion_sandbox.icons import cover_value, icon_value
from notion_sandbox.ids import normalize_id, path_id
from notion_sandbox.render import is_legacy, render_data_source, render_database
from notion_sandbox.routes import Call, only_keys, trash_flag
from notion_sandbox.text import rich_text_items


class DatabaseResponses(ApiBase):
    # ------------------------------------------------------------ databases

    def database_retrieve(self, call: Call) -> dict[str, Any]:
        db = self.database_for(call, path_id(call.params["id"], "database_id"))
        return render_database(self.store, db, call.version)

    def database_create(self, call: Call) -> dict[str, Any]:
        legacy = is_legacy(call.version)
        keys = ("parent", "title", "description", "is_inline", "icon", "cover")
        only_keys(call.body, keys + (("properties",) if legacy else ("initial_data_source",)))
        parent = self.page_parent(call, call.body.get("parent", UNDEFINED))
        title = rich_text_items(call.body.get("title", []), "body.title")
        source = call.body.get("initial_data_source", {})
        if not isinstance(source, dict):
            raise body_invalid("body.initial_data_source", "an object", source)
        specs = call.body.get("properties", {}) if legacy else source.get("properties", {})
        path = "body.properties" if legacy else "body.initial_data_source.properties"
        images = database_images(call.body)
        now = self.store.now()
        db = self.store.new_database(parent, title, now)
        try:
            self.apply_database_fields(db, call.body)
            ds = self.store.new_data_source(db, [dict(t) for t in title], now)
            self.store.add_properties(ds, specs, path, legacy)
        except NotionError:
            self.drop_database(db)
            raise
        db.update(images)
        if parent.get("type") == "page_id":
            self.store.register_child(parent["page_id"], db["id"])
        self.written(call, db["id"])
        return self.shown(call, "database", db["id"], lambda: render_database(self.store, db, call.version))

    def drop_database(self, db: dict[str, Any]) -> None:
        for ds_id in db["data_source_ids"]:
            self.store.data_sources.pop(ds_id, None)
        self.store.databases.pop(db["id"], None)

    def page_parent(self, call: Call, parent: Any) -> dict[str, Any]:
        """A database's parent: a page the integration can see and that is not in the trash, or the workspace."""
        if parent is UNDEFINED:
            raise undefined("body.parent")
        if not isinstance(parent, dict):
            raise body_invalid("body.parent", "an object", parent)
        if parent.get("workspace") is True:
            return {"type": "workspace", "workspace": True}
        page_id = normalize_id(parent.get("page_id", UNDEFINED))
        if page_id is None:
            raise body_invalid("body.parent.page_id", "a valid uuid", parent.get("page_id", UNDEFINED))
        page = self.page_for(call, page_id)
        self.open_for_writes("page", page)
        return {"type": "page_id", "page_id": page_id}

    def apply_database_fields(self, db: dict[str, Any], body: dict[str, Any]) -> None:
        if "description" in body:
            db["description"] = rich_text_items(body["description"], "body.description")
        if "is_inline" in body:
            db["is_inline"] = bool(body["is_inline"])
        if isinstance(body.get("is_locked"), bool):
            db["is_locked"] = body["is_locked"]

    def database_update(self, call: Call) -> dict[str, Any]:
        legacy = is_legacy(call.version)
        keys = ("title", "description", "is_inline", "icon", "cover", "in_trash", "archived", "is_locked", "parent")
        only_keys(call.body, keys + (("properties",) if legacy else ()))
        db = self.database_for(call, path_id(call.params["id"], "database_id"))
        ds = self.store.only_source(db) if legacy else None
        trash = trash_flag(call.body)
        if db["in_trash"] and trash is not False and set(call.body) - {"in_trash", "archived"}:
            raise archived_block()
        if "title" in call.body:
            title = rich_text_items(call.body["title"], "body.title")
        images = database_images(call.body)
        if ds is not None and "properties" in call.body:
            self.store.update_properties(ds, call.body["properties"], "body.properties", legacy=True)
        if "parent" in call.body:
            db["parent"] = self.page_parent(call, call.body["parent"])
        if "title" in call.body:
            db["title"] = title
        self.apply_database_fields(db, call.body)
        db.update(images)
        if trash is not None:
            db["in_trash"] = trash
        db["last_edited_time"] = self.store.now()
        self.written(call)
        return self.shown(call, "database", db["id"], lambda: render_database(self.store, db, call.version))

    # ------------------------------------------------------------ data sources

    def data_source_retrieve(self, call: Call) -> dict[str, Any]:
        ds = self.data_source_for(call, path_id(call.params["id"], "data_source_id"))
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
            raise undefined("body.properties")
        db = self.database_for(call, db_id)
        self.open_for_writes("database", db)
        title = rich_text_items(call.body.get("title", []), "body.title")
        icon = icon_value(call.body.get("icon"), "body.icon")
        ds = self.store.new_data_source(db, title, self.store.now())
        ds["icon"] = icon
        try:
            self.store.add_properties(ds, call.body["properties"], "body.properties")
        except NotionError:
            db["data_source_ids"].remove(ds["id"])
            self.store.data_sources.pop(ds["id"])
            raise
        self.written(call, ds["id"])
        return self.shown(call, "data_source", ds["id"], lambda: render_data_source(self.store, ds, call.version))

    def data_source_update(self, call: Call) -> dict[str, Any]:
        only_keys(call.body, ("title", "icon", "properties", "in_trash", "archived", "parent"))
        ds = self.data_source_for(call, path_id(call.params["id"], "data_source_id"))
        trash = trash_flag(call.body)
        if ds["in_trash"] and trash is not False and set(call.body) - {"in_trash", "archived"}:
            raise archived_block()
        if "title" in call.body:
            title = rich_text_items(call.body["title"], "body.title")
        icon = icon_value(call.body["icon"], "body.icon") if "icon" in call.body else UNDEFINED
        if "properties" in call.body:
            self.store.update_properties(ds, call.body["properties"], "body.properties")
        if "title" in call.body:
            ds["title"] = title
        if icon is not UNDEFINED:
            ds["icon"] = icon
        if trash is not None:
            ds["in_trash"] = trash
        ds["last_edited_time"] = self.store.now()
        self.written(call)
        return self.shown(call, "data_source", ds["id"], lambda: render_data_source(self.store, ds, call.version))


def database_images(body: dict[str, Any]) -> dict[str, Any]:
    """A database's new icon and cover, checked; unlike a page's, they cannot be cleared with null (official
    document: ``icon: pageIconRequest``, not nullable, on database create and update)."""
    images: dict[str, Any] = {}
    if "icon" in body:
        images["icon"] = icon_value(body["icon"], "body.icon", nullable=False)
    if "cover" in body:
        images["cover"] = cover_value(body["cover"], "body.cover", nullable=False)
    return images
