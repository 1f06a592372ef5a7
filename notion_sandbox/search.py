"""POST /v1/search: body validation, which objects are visible and match, and their order.

Search sees pages and data sources (2022-06-28: single-source databases) whose title contains the query, ignoring
case; anything in the trash, or under something in the trash, is left out. Rendering and cursors stay in api.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from notion_sandbox.errors import UNDEFINED, body_invalid
from notion_sandbox.ids import normalize_id
from notion_sandbox.store import Store
from notion_sandbox.text import plain_text

SEARCH_KEYS = ("query", "filter", "sort", "start_cursor", "page_size")


@dataclass(frozen=True)
class SearchRequest:
    """A validated search body; ``kind`` is "page", "data_source" (2022-06-28: "database") or None for both."""

    query: str
    kind: str | None
    descending: bool
    page_size: int
    cursor: str | None


@dataclass(frozen=True)
class Hit:
    """One search result before rendering: a page, a data source, or (2022-06-28) a database."""

    kind: str
    obj: dict[str, Any]

    @property
    def id(self) -> str:
        return self.obj["id"]


def source_kind(legacy: bool) -> str:
    """The filter value naming databases' sources in this API version (FACTS §2.2)."""
    return "database" if legacy else "data_source"


def list_type(legacy: bool) -> str:
    return "page_or_database" if legacy else "page_or_data_source"


def parse_search(body: dict[str, Any], legacy: bool) -> SearchRequest:
    for key, value in body.items():
        if key not in SEARCH_KEYS:
            raise body_invalid(f"body.{key}", "not present", value)
    query = body.get("query", UNDEFINED)
    if query is not UNDEFINED and not isinstance(query, str):
        raise body_invalid("body.query", "a string or `undefined`", query)
    return SearchRequest(
        query="" if query is UNDEFINED else query,
        kind=search_filter(body.get("filter", UNDEFINED), legacy),
        descending=search_sort(body.get("sort", UNDEFINED)),
        page_size=search_page_size(body.get("page_size", UNDEFINED)),
        cursor=search_cursor(body.get("start_cursor", UNDEFINED)),
    )


def search_filter(given: Any, legacy: bool) -> str | None:
    if given is UNDEFINED:
        return None
    if not isinstance(given, dict):
        raise body_invalid("body.filter", "an object or `undefined`", given)
    for key, value in given.items():
        if key not in ("property", "value"):
            raise body_invalid(f"body.filter.{key}", "not present", value)
    prop = given.get("property", UNDEFINED)
    if prop != "object":
        raise body_invalid("body.filter.property", '`"object"`', prop)
    value = given.get("value", UNDEFINED)
    allowed = ("page", source_kind(legacy))
    if value not in allowed:
        raise body_invalid("body.filter.value", f'`"{allowed[0]}"` or `"{allowed[1]}"`', value)
    return value


def search_sort(given: Any) -> bool:
    """Whether results run newest first: the default, and ``direction: descending``."""
    if given is UNDEFINED:
        return True
    if not isinstance(given, dict):
        raise body_invalid("body.sort", "an object or `undefined`", given)
    for key, value in given.items():
        if key not in ("direction", "timestamp"):
            raise body_invalid(f"body.sort.{key}", "not present", value)
    stamp = given.get("timestamp", UNDEFINED)
    if stamp != "last_edited_time":
        raise body_invalid("body.sort.timestamp", '`"last_edited_time"`', stamp)
    direction = given.get("direction", UNDEFINED)
    if direction not in ("ascending", "descending"):
        raise body_invalid("body.sort.direction", '`"ascending"` or `"descending"`', direction)
    return direction == "descending"


def search_page_size(value: Any) -> int:
    # Search answers `page_size: 0` with a default page (FACTS §3.3), unlike the query endpoints.
    if value is UNDEFINED or value is None or value == 0:
        return 100
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise body_invalid("body.page_size", "a number or `undefined`", value)
    if value > 100:
        raise body_invalid("body.page_size", "≤ `100` or `undefined`", value)
    if value < 1:
        raise body_invalid("body.page_size", "≥ `1` or `undefined`", value)
    return int(value)


def search_cursor(value: Any) -> str | None:
    if value is UNDEFINED or value is None:
        return None
    if not isinstance(value, str) or normalize_id(value) is None:
        raise body_invalid("body.start_cursor", "a valid uuid or `undefined`", value)
    return value


# ---------------------------------------------------------------- selection


def search_hits(
    store: Store, request: SearchRequest, legacy: bool, indexed: Callable[[dict[str, Any]], dict[str, Any] | None]
) -> list[Hit]:
    """Visible, matching objects, ordered by last edit (ties: creation order, sources before pages).

    ``indexed`` gives each page as the search index shows it now (None: not indexed yet).
    """
    candidates: list[Hit] = []
    if request.kind in (None, source_kind(legacy)):
        candidates.extend(source_hits(store, legacy))
    if request.kind in (None, "page"):
        pages = (indexed(p) for p in sorted(store.pages.values(), key=lambda p: (p["seq"], p["id"])))
        candidates.extend(Hit("page", p) for p in pages if p is not None)
    needle = request.query.casefold()
    found = [h for h in candidates if visible(store, h) and any(needle in t.casefold() for t in titles(store, h))]
    # `reverse` keeps ties in their original (creation) order, as the ascending sort does.
    return sorted(found, key=edit_key, reverse=request.descending)


def source_hits(store: Store, legacy: bool) -> list[Hit]:
    if not legacy:
        return [Hit("data_source", ds) for ds in store.data_sources.values()]
    # Under 2022-06-28 a database with several data sources cannot be shown, so search leaves it out (FACTS §2.3).
    return [Hit("database", db) for db in store.databases.values() if len(db["data_source_ids"]) == 1]


def edit_key(hit: Hit) -> tuple[str, str]:
    return hit.obj["last_edited_time"], hit.obj["created_time"]


def titles(store: Store, hit: Hit) -> list[str]:
    if hit.kind == "page":
        return [store.page_title(hit.obj)]
    if hit.kind == "database":
        return [plain_text(hit.obj["title"])]
    # A data source answers to its own title and to its database's (a database rename leaves the source's title).
    db = store.databases.get(hit.obj["database_id"])
    return [store.data_source_title(hit.obj)] + ([plain_text(db["title"])] if db else [])


def visible(store: Store, hit: Hit) -> bool:
    """Not in the trash, and nothing above it in the trash either, up to the workspace."""
    chain = store.lineage(hit.kind, hit.obj)
    top_kind, top = store.parent_of(*chain[-1])
    return top_kind == "workspace" and top is None and not any(item["in_trash"] for _, item in chain)
