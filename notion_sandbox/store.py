"""The sandbox's in-memory workspace: databases → data sources → pages, plus the schema and write rules.

Callers hold ``Store.lock`` around every call (the API layer does); nothing here sleeps or does I/O except
``save``/``load_file``. Every change to a page goes through ``touch`` first, so that a watcher (the query index of
realism.py) can keep showing the page as it was for a while; ``touched`` lists the pages a request changed.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
import threading
from collections.abc import Callable
from typing import Any, Protocol

from notion_sandbox.errors import body_invalid, multiple_sources, not_found, validation
from notion_sandbox.ids import Clock, iso_ms, new_id
from notion_sandbox.schema import SchemaRules
from notion_sandbox.text import plain_text
from notion_sandbox.tree import BlockTree
from notion_sandbox.users import check_people
from notion_sandbox.values import WriteContext, decode_value

PAGE_SCHEMA = [{"id": "title", "name": "title", "type": "title", "description": None, "config": {}}]
STATE_VERSION = 1
MAX_DEPTH = 64  # parent chains longer than this are cycles in a hand-edited state, not real nesting


class PageWatcher(Protocol):
    """Told about a page just before it changes (``before`` is None for a page being created)."""

    def before_change(self, page_id: str, before: dict[str, Any] | None) -> None: ...

    def after_change(self, page: dict[str, Any]) -> None: ...


def empty_state() -> dict[str, Any]:
    return {
        "version": STATE_VERSION,
        "pages": {},
        "databases": {},
        "data_sources": {},
        "blocks": {},
        "children": {},
        "users": [],
        "seq": 0,
    }


class Store(SchemaRules, BlockTree):
    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or Clock()
        self.lock = threading.RLock()
        self.data = empty_state()
        self.watcher: PageWatcher | None = None
        self.touched: dict[str, dict[str, Any]] = {}

    # ------------------------------------------------------------ persistence

    def dump(self) -> dict[str, Any]:
        return copy.deepcopy(self.data)

    def load(self, data: dict[str, Any]) -> None:
        fresh = empty_state()
        for key in ("pages", "databases", "data_sources", "blocks", "children", "users", "seq"):
            if key in data:
                fresh[key] = copy.deepcopy(data[key])
        self.data = fresh

    def save(self, path: str) -> None:
        """Atomically replace the state file (write a temp file beside it, then rename)."""
        folder = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(prefix=".sandbox-state-", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(self.data, out, ensure_ascii=False)
        os.replace(tmp, path)

    def load_file(self, path: str) -> bool:
        if not os.path.exists(path):
            return False
        with open(path, encoding="utf-8") as src:
            self.load(json.load(src))
        return True

    # ------------------------------------------------------------ lookups

    @property
    def pages(self) -> dict[str, Any]:
        return self.data["pages"]

    @property
    def databases(self) -> dict[str, Any]:
        return self.data["databases"]

    @property
    def data_sources(self) -> dict[str, Any]:
        return self.data["data_sources"]

    def page(self, page_id: str) -> dict[str, Any]:
        found = self.pages.get(page_id)
        if found is None:
            raise not_found("page", page_id)
        return found

    def database(self, database_id: str) -> dict[str, Any]:
        found = self.databases.get(database_id)
        if found is None:
            raise not_found("database", database_id)
        return found

    def data_source(self, data_source_id: str) -> dict[str, Any]:
        found = self.data_sources.get(data_source_id)
        if found is None:
            raise not_found("data_source", data_source_id)
        return found

    def next_seq(self) -> int:
        self.data["seq"] += 1
        return self.data["seq"]

    def schema_of(self, page: dict[str, Any]) -> list[dict[str, Any]]:
        parent = page["parent"]
        if parent.get("type") == "data_source_id":
            return self.data_sources[parent["data_source_id"]]["properties"]
        return PAGE_SCHEMA

    def page_title(self, page: dict[str, Any]) -> str:
        title = next(p for p in self.schema_of(page) if p["type"] == "title")
        return plain_text(page["props"].get(title["id"], []))

    def data_source_title(self, ds: dict[str, Any]) -> str:
        return plain_text(ds["title"])

    # ------------------------------------------------------------ creation

    def new_page(self, parent: dict[str, Any], now: str) -> dict[str, Any]:
        page = {
            "id": new_id(),
            "parent": parent,
            "created_time": now,
            "last_edited_time": now,
            "in_trash": False,
            "is_locked": False,
            "icon": None,
            "cover": None,
            "props": {},
            "seq": self.next_seq(),
        }
        if parent.get("type") == "data_source_id":
            ds = self.data_sources[parent["data_source_id"]]
            ds["page_count"] = ds.get("page_count", 0) + 1
            page["number"] = ds["page_count"]
        return page

    def new_database(self, parent: dict[str, Any], title: list[dict[str, Any]], now: str) -> dict[str, Any]:
        db = {
            "id": new_id(),
            "title": title,
            "description": [],
            "parent": parent,
            "is_inline": False,
            "in_trash": False,
            "is_locked": False,
            "icon": None,
            "cover": None,
            "created_time": now,
            "last_edited_time": now,
            "data_source_ids": [],
        }
        self.databases[db["id"]] = db
        return db

    def new_data_source(self, db: dict[str, Any], title: list[dict[str, Any]], now: str) -> dict[str, Any]:
        ds = {
            "id": new_id(),
            "database_id": db["id"],
            "title": title,
            "description": [],
            "icon": None,
            "cover": None,
            "in_trash": False,
            "created_time": now,
            "last_edited_time": now,
            "properties": [],
            "page_count": 0,
        }
        self.data_sources[ds["id"]] = ds
        db["data_source_ids"].append(ds["id"])
        return ds

    # ------------------------------------------------------------ structure

    def only_source(self, db: dict[str, Any]) -> dict[str, Any]:
        if len(db["data_source_ids"]) != 1:
            raise multiple_sources(db["id"], list(db["data_source_ids"]))
        return self.data_sources[db["data_source_ids"][0]]

    def pages_of(self, data_source_id: str, include_trashed: bool = False) -> list[dict[str, Any]]:
        """Pages of a data source in creation order."""
        found = [
            p
            for p in self.pages.values()
            if p["parent"].get("data_source_id") == data_source_id and (include_trashed or not p["in_trash"])
        ]
        return sorted(found, key=lambda p: (p["seq"], p["id"]))

    def parent_of(self, kind: str, obj: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
        """The object one level up (kind "workspace" and None at the top)."""
        if kind == "data_source":
            return "database", self.databases.get(obj["database_id"])
        parent = obj["parent"]
        if parent.get("type") == "block_id":
            return "block", self.blocks.get(parent["block_id"])
        if parent.get("type") == "data_source_id":
            return "data_source", self.data_sources.get(parent["data_source_id"])
        if parent.get("type") == "page_id":
            return "page", self.pages.get(parent["page_id"])
        if parent.get("type") == "database_id":
            return "database", self.databases.get(parent["database_id"])
        return "workspace", None

    def lineage(self, kind: str, obj: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        """The object and everything above it, nearest first (a cycle in a hand-edited state stops the walk)."""
        chain: list[tuple[str, dict[str, Any]]] = []
        current: dict[str, Any] | None = obj
        seen: set[str] = set()
        while current is not None and current["id"] not in seen and len(chain) < MAX_DEPTH:
            seen.add(current["id"])
            chain.append((kind, current))
            kind, current = self.parent_of(kind, current)
        return chain

    def trashed(self, kind: str, obj: dict[str, Any]) -> bool:
        """In the trash, or under something in the trash."""
        return any(item["in_trash"] for _, item in self.lineage(kind, obj))

    # ------------------------------------------------------------ page writes

    def touch(self, page: dict[str, Any]) -> None:
        """Note that ``page`` is about to change (or to be created, when it is not stored yet)."""
        page.pop("last_edited_by", None)  # the API's one user edits it now (a person only via admin state)
        if page["id"] in self.touched:
            return
        self.touched[page["id"]] = page
        if self.watcher is not None:
            self.watcher.before_change(page["id"], page if page["id"] in self.pages else None)

    def end_request(self) -> None:
        """The request is over: every page it touched is final (the watcher sees each once more)."""
        touched, self.touched = self.touched, {}
        if self.watcher is not None:
            for page in touched.values():
                self.watcher.after_change(page)

    def decode_properties(
        self, page: dict[str, Any], given: Any, sees: Callable[[str], bool] | None = None
    ) -> tuple[dict[str, Any], WriteContext]:
        """Validate a request ``properties`` object into {property id: stored value} (nothing is changed yet).

        ``sees`` tells which pages the integration can see: a relation to any other page names nothing it knows.
        """
        if not isinstance(given, dict):
            raise body_invalid("body.properties", "an object", given)
        schema = self.schema_of(page)
        ctx = WriteContext()
        out: dict[str, Any] = {}
        for key, value in given.items():
            prop = self.find_property(schema, key)
            if prop is None:
                raise validation(f"{key} is not a property that exists.")
            out[prop["id"]] = decode_value(prop, key, value, ctx)
            if prop["type"] == "relation":
                self.check_relation_targets(prop, out[prop["id"]], sees)
            elif prop["type"] == "people":
                check_people(self, out[prop["id"]])
        return out, ctx

    def check_relation_targets(
        self, prop: dict[str, Any], ids: list[str], sees: Callable[[str], bool] | None = None
    ) -> None:
        wanted = prop["config"]["data_source_id"]
        for target_id in ids:
            if sees is not None and not sees(target_id):
                raise not_found("page", target_id)
            target = self.pages.get(target_id)
            if target is None or target["parent"].get("data_source_id") != wanted:
                raise validation(f"Relation target {target_id} is not a page of the related data source {wanted}.")

    def apply_properties(self, page: dict[str, Any], decoded: dict[str, Any], ctx: WriteContext, now: str) -> None:
        """Store decoded values; created select options join the schema; dual relations update the other side."""
        self.touch(page)
        schema = self.schema_of(page)
        for prop_id, option in ctx.new_options:
            prop = self.find_property(schema, prop_id)
            if prop is not None and option["name"] not in {o["name"] for o in prop["config"]["options"]}:
                prop["config"]["options"].append(option)
        for prop_id, value in decoded.items():
            prop = self.find_property(schema, prop_id)
            if prop is not None and prop["type"] == "relation":
                old = list(page["props"].get(prop_id, []))
                self.mirror_relation(page, prop, old, value, now)
            page["props"][prop_id] = value
        page["last_edited_time"] = now

    def mirror_relation(
        self, page: dict[str, Any], prop: dict[str, Any], old: list[str], new: list[str], now: str
    ) -> None:
        config = prop["config"]
        if config.get("type") != "dual_property" or not config["dual_property"].get("synced_property_id"):
            return
        synced = config["dual_property"]["synced_property_id"]
        for added in [i for i in new if i not in old]:
            other = self.pages[added]
            refs = other["props"].setdefault(synced, [])
            if page["id"] not in refs:
                self.touch(other)
                refs.append(page["id"])
                other["last_edited_time"] = now
        for removed in [i for i in old if i not in new]:
            other = self.pages.get(removed)
            if other is not None and page["id"] in other["props"].get(synced, []):
                self.touch(other)
                other["props"][synced].remove(page["id"])
                other["last_edited_time"] = now

    def now(self) -> str:
        return iso_ms(self.clock.tick())
