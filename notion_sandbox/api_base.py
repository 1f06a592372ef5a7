"""What every group of handlers shares: the store, the grants, cursors, and lookups that honour sharing."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from notion_sandbox.access import Access, sees, sees_page_id
from notion_sandbox.errors import archived_block, not_found, validation
from notion_sandbox.ids import new_id, normalize_id, path_id
from notion_sandbox.lag import QueryIndex
from notion_sandbox.render import partial
from notion_sandbox.routes import Call
from notion_sandbox.store import Store

MAX_CURSORS = 20000


class ApiBase:
    def __init__(
        self,
        store: Store,
        access: Access,
        query_cap: int = 10000,
        base_url: Callable[[], str] = lambda: "http://127.0.0.1",
        index: QueryIndex | None = None,
    ) -> None:
        self.store = store
        self.access = access
        self.query_cap = query_cap
        self.base_url = base_url
        self.index = index or QueryIndex(0)
        self.cursors: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.generation = 0  # requests that may have changed anything a query shows

    # ------------------------------------------------------------ lookups through the integration's eyes

    def page_for(self, call: Call, raw_id: str, name: str = "page_id") -> dict[str, Any]:
        page = self.store.page(path_id(raw_id, name))
        if not sees(self.store, call.grant, "page", page):
            raise not_found("page", page["id"])
        return page

    def data_source_for(self, call: Call, data_source_id: str) -> dict[str, Any]:
        ds = self.store.data_source(data_source_id)
        if not sees(self.store, call.grant, "data_source", ds):
            raise not_found("data_source", ds["id"])
        return ds

    def database_for(self, call: Call, database_id: str) -> dict[str, Any]:
        db = self.store.database(database_id)
        if not sees(self.store, call.grant, "database", db):
            raise not_found("database", db["id"])
        return db

    def page_sees(self, call: Call) -> Callable[[str], bool] | None:
        """Which pages the integration can see (None: all of them)."""
        if call.grant is None or call.grant.shared is None:
            return None
        return lambda page_id: sees_page_id(self.store, call.grant, page_id)

    def open_for_writes(self, kind: str, obj: dict[str, Any]) -> None:
        """Refuse to add to something in the trash (or under something in the trash)."""
        if self.store.trashed(kind, obj):
            raise archived_block()

    # ------------------------------------------------------------ answers

    def written(self, call: Call, created_id: str | None = None) -> None:
        call.wrote = True
        call.created_id = created_id

    def shown(self, call: Call, obj_type: str, obj_id: str, render: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """The object as rendered, or only its type and id for an integration that may not read content."""
        if call.grant is not None and not call.grant.can("read"):
            return partial(obj_type, obj_id)
        return render()

    # ------------------------------------------------------------ cursors

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
