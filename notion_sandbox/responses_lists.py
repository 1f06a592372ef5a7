"""Handlers of the list routes: data source (and 2022-06-28 database) queries, and search.

Both read pages through the query index (lag.py): with a lag, each page looks as it did that long ago.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from notion_sandbox.access import sees
from notion_sandbox.api_base import ApiBase
from notion_sandbox.errors import UNDEFINED, body_invalid, one_of, validation
from notion_sandbox.ids import normalize_id, path_id
from notion_sandbox.query import compile_filter, sort_pages
from notion_sandbox.render import is_legacy, render_page, render_search_hit
from notion_sandbox.routes import Call, body_page_size, only_keys, trash_flag
from notion_sandbox.search import Hit, list_type, parse_search, search_hits

QUERY_KEYS = ("sorts", "filter", "start_cursor", "page_size", "archived", "in_trash", "result_type")
RESULT_TYPES = ("page", "data_source")


class ListResponses(ApiBase):
    def database_query(self, call: Call) -> dict[str, Any]:
        db = self.database_for(call, path_id(call.params["id"], "database_id"))
        ds = self.store.only_source(db)
        return self.run_query(ds, call, "page")

    def data_source_query(self, call: Call) -> dict[str, Any]:
        ds = self.data_source_for(call, path_id(call.params["id"], "data_source_id"))
        return self.run_query(ds, call, "page_or_data_source")

    def indexed_pages(self, data_source_id: str) -> list[dict[str, Any]]:
        """The data source's pages as the query index shows them now, in creation order."""
        shown = (self.index.view(p) for p in self.store.pages_of(data_source_id, include_trashed=True))
        return [p for p in shown if p is not None]

    def run_query(self, ds: dict[str, Any], call: Call, list_type: str) -> dict[str, Any]:
        body = call.body
        only_keys(body, QUERY_KEYS)
        page_size = body_page_size(body.get("page_size", UNDEFINED))
        cursor = body.get("start_cursor", UNDEFINED)
        if cursor is not UNDEFINED and cursor is not None and normalize_id(cursor) is None:
            raise body_invalid("body.start_cursor", "a valid uuid or `undefined`", cursor)
        result_type = body.get("result_type", "page")
        if result_type not in RESULT_TYPES:
            raise body_invalid("body.result_type", one_of(RESULT_TYPES), result_type)
        trashed = bool(trash_flag(body))
        test = compile_filter(self.store, ds, body["filter"]) if body.get("filter") is not None else None
        only = self.filter_properties(ds, call.query.get("filter_properties"))
        signature = json.dumps([ds["id"], trashed, result_type, body.get("filter"), body.get("sorts")], sort_keys=True)
        start = cursor if isinstance(cursor, str) else None
        ordered, offset, served = self.continued(start, signature) or self.ordered_now(
            ds, start, trashed, result_type, test, body.get("sorts")
        )
        take = max(0, min(page_size, self.query_cap - served))
        chunk = [page for page in (self.store.pages.get(i) for i in ordered[offset : offset + take]) if page]
        chunk = [self.index.view(p) or p for p in chunk] if self.index.lag_ms else chunk
        more = offset + take < len(ordered)
        capped = more and served + take >= self.query_cap
        seen_by = self.page_sees(call)
        out: dict[str, Any] = {
            "object": "list",
            "results": [render_page(self.store, p, call.version, only, sees=seen_by) for p in chunk],
            "next_cursor": None,
            "has_more": more and not capped,
            "type": list_type,
            list_type: {},
        }
        if more and not capped:
            entry = {"scope": ds["id"], "next_id": ordered[offset + take], "served": served + take}
            # Until anything is written, the next page of results continues this ordering as it is.
            entry.update(signature=signature, generation=self.generation, ordered=ordered, offset=offset + take)
            out["next_cursor"] = self.new_cursor(entry)
        if capped:
            out["request_status"] = {"type": "incomplete", "incomplete_reason": "query_result_limit_reached"}
        return out

    def ordered_now(
        self,
        ds: dict[str, Any],
        cursor: str | None,
        trashed: bool,
        result_type: str,
        test: Callable[[dict[str, Any]], bool] | None,
        sorts: Any,
    ) -> tuple[list[str], int, int]:
        """The ids of the query's results in order, worked out from the pages now; the cursor's (offset, served)."""
        # A regular (non-wiki) data source holds pages only: asking for data sources finds none.
        candidates = [p for p in self.indexed_pages(ds["id"]) if p["in_trash"] == trashed and result_type == "page"]
        matched = [p for p in candidates if test is None or test(p)]
        ordered = sort_pages(self.store, ds, matched, sorts)
        offset, served = self.resume(cursor, ordered, ds["id"])
        return [p["id"] for p in ordered], offset, served

    def continued(self, cursor: str | None, signature: str) -> tuple[list[str], int, int] | None:
        """The ordering a cursor continues, when nothing was written since it was handed out and the
        index shows every page as it is (no lag): a walk of 100,000 pages is then not sorted 1,000 times."""
        entry = self.cursors.get(normalize_id(cursor) or "") if cursor else None
        if entry is None or self.index.lag_ms or entry.get("signature") != signature:
            return None
        if entry.get("generation") != self.generation:
            return None
        return entry["ordered"], entry["offset"], entry["served"]

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

    # ------------------------------------------------------------ search

    def search(self, call: Call) -> dict[str, Any]:
        legacy = is_legacy(call.version)
        request = parse_search(call.body, legacy)
        hits = [h for h in search_hits(self.store, request, legacy, self.index.view) if self.hit_seen(call, h)]
        offset, served = self.resume(request.cursor, [h.obj for h in hits], "search")
        chunk = hits[offset : offset + request.page_size]
        more = offset + len(chunk) < len(hits)
        cursor = None
        if more:
            cursor = self.new_cursor(
                {"scope": "search", "next_id": hits[offset + len(chunk)].id, "served": served + len(chunk)}
            )
        kind = list_type(legacy)
        seen_by = self.page_sees(call)
        return {
            "object": "list",
            "results": [render_search_hit(self.store, h.kind, h.obj, call.version, seen_by) for h in chunk],
            "next_cursor": cursor,
            "has_more": more,
            "type": kind,
            kind: {},
        }

    def hit_seen(self, call: Call, hit: Hit) -> bool:
        return sees(self.store, call.grant, hit.kind, hit.obj)
