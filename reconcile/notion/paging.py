"""Reading past Notion's 10,000-result cap: the capped-query walk, pure but for the query it is given.

Pages stream through the walk: each is handed to the caller's `keep` as it arrives (the gateway
decodes it into the canonical PageState there and then), and the walk itself remembers of a window
only each page's creation time and, while a window may still need dividing, the text it would be
divided on. No raw page of a data source outlives the answer it came in, however large the source.

A capped query (request_status incomplete) is continued with a created_time window starting at the
last page's minute; pages of that minute are read again (the overlap costs ceil(overlap / 100)
extra queries) and kept once, by id. When one minute alone exceeds the cap, that minute is split
on the text property `split_on` (contains / does_not_contain a character that divides the pages
seen), recursively.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from reconcile.errors import NotionError
from reconcile.model import PageState
from reconcile.ports import NotionObject
from reconcile.values import decode

MAX_FILTER_CONDITIONS = 100  # Notion's limit on the items of one compound filter

Filter = dict[str, Any]
OnPage = Callable[[NotionObject], None]
# One query followed through its cursors, each page handed to `on_page` as it arrives:
# (data source id, conditions, in trash, on_page) -> whether it was complete (not capped).
QueryWindow = Callable[[str, list[Filter], bool, OnPage], bool]
Kept = TypeVar("Kept")


@dataclass
class Window:
    """What the walk remembers of one query's pages: their creation times, and (when the walk may
    have to divide this window's minute) their text of the dividing property."""

    created: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)


class QueryWalk(Generic[Kept]):
    """Keeps what `keep` makes of every page under some conditions, splitting windows that hit the result cap."""

    def __init__(
        self,
        query_window: QueryWindow,
        data_source_id: str,
        in_trash: bool,
        split_on: tuple[str, str] | None,
        keep: Callable[[NotionObject], Kept],
    ) -> None:
        self.query_window = query_window
        self.data_source_id = data_source_id
        self.in_trash = in_trash
        self.split_on = split_on
        self.keep = keep
        self.found: dict[str, Kept] = {}

    def collect(self, conditions: list[Filter]) -> dict[str, Kept]:
        """What `keep` made of each page matching `conditions`, by page id, in creation order."""
        # Shown created_time is rounded down to the minute, while the filter may compare the
        # precise time: bounds are whole minutes, half-open [T, T + 1 min), correct either way.
        lower: str | None = None
        while True:
            window = conditions + ([created("on_or_after", lower)] if lower else [])
            seen = self._query(window)
            if seen is None:
                return self.found
            first, last = minute(seen.created[0]), minute(seen.created[-1])
            if first != last:
                lower = last
                continue
            # One minute holds the whole capped window: created_time cannot divide it further.
            following = next_minute(last)
            this_minute = [created("on_or_after", last), created("before", following)]
            self.split(conditions + this_minute, seen, used=frozenset())
            lower = following

    def split(self, conditions: list[Filter], seen: Window, used: frozenset[str]) -> None:
        char = self._dividing_char(seen.texts, used)
        if char is None or len(conditions) + 1 > MAX_FILTER_CONDITIONS:
            raise NotionError(
                f"more than the query cap of pages in data source {self.data_source_id} were "
                f"created in the same minute ({seen.created[0]}) and cannot be "
                "divided further by their match property; reconcile cannot read them all",
                hint="Notion returns at most 10,000 results per query",
                code="query_result_limit_reached",
            )
        name, prop_type = self.split_on or ("", "")
        for operator in ("contains", "does_not_contain"):
            branch = [*conditions, {"property": name, prop_type: {operator: char}}]
            pages = self._query(branch)
            if pages is not None:
                self.split(branch, pages, used | {char})

    def _query(self, conditions: list[Filter]) -> Window | None:
        """What was seen of a capped query's pages, or None when the query was complete."""
        seen = Window()
        split_name = self.split_on[0] if self.split_on else None

        def on_page(page: NotionObject) -> None:
            page_id = str(page["id"])
            if page_id not in self.found:
                self.found[page_id] = self.keep(page)
            seen.created.append(str(page.get("created_time", "")))
            if split_name is not None:
                seen.texts.append(page_text(page, split_name))

        complete = self.query_window(self.data_source_id, conditions, self.in_trash, on_page)
        return None if complete or not seen.created else seen

    def _dividing_char(self, texts: list[str], used: frozenset[str]) -> str | None:
        """The character present in closest to half of the pages' match values."""
        if self.split_on is None:
            return None
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(set(text) - used)
        half = len(texts) / 2
        dividing = [c for c, n in counts.items() if 0 < n < len(texts)]
        return min(dividing, key=lambda c: (abs(counts[c] - half), c), default=None)


@dataclass(frozen=True)
class DecodedRead:
    """A whole-source read as one resource decoded it: the pages, with the values of `managed` (a
    tuple held for the run; the by-id dict is made for each caller and let go with it)."""

    match_property: str
    managed: frozenset[str]
    states: tuple[PageState, ...]

    def serves(self, match_property: str, managed: list[str]) -> bool:
        """Whether a resource matching on `match_property` and managing `managed` can be served from it."""
        return match_property == self.match_property and self.managed >= set(managed)

    def projected(self, managed: list[str]) -> dict[str, PageState]:
        """The pages with the values of `managed` only (the same objects when nothing is left out)."""
        if self.managed == set(managed):
            return {state.page_id: state for state in self.states}
        wanted = set(managed)
        return {
            state.page_id: replace(state, values={k: v for k, v in state.values.items() if k in wanted})
            for state in self.states
        }


def follow_cursors(page_at: Callable[[str | None], NotionObject], what: str, on_page: OnPage) -> bool:
    """One query followed through its cursors (`page_at(cursor)` asks for one page of results),
    each page handed to `on_page` as its answer arrives; whether it was complete (not stopped at
    the result cap). A pagination that does not end is stopped (CursorGuard)."""
    complete = True
    cursor: str | None = None
    guard = CursorGuard(what)
    while True:
        response = page_at(cursor)
        ids = []
        for result in response.get("results", []):
            if result.get("object") == "page":
                ids.append(str(result.get("id")))
                on_page(result)
        complete = complete and is_complete(response)
        cursor = response.get("next_cursor")
        if not response.get("has_more") or not cursor:
            return complete
        guard.advance(cursor, ids)


def plain_title(obj: NotionObject) -> str:
    return "".join(str(t.get("plain_text", "")) for t in obj.get("title") or [])


class CursorGuard:
    """Stops a query whose pagination does not end: Notion handing back a cursor it handed back
    before, or answering `has_more` page after page without a page not seen already."""

    STALLED_PAGES = 3  # continuations in a row that bring nothing new

    def __init__(self, what: str) -> None:
        self.what = what
        self.cursors: set[str] = set()
        self.seen: set[str] = set()
        self.stalled = 0

    def advance(self, cursor: str, page_ids: list[str]) -> None:
        """Record one answer (its next cursor and its pages); NotionError when paging goes nowhere."""
        new = set(page_ids) - self.seen
        self.seen |= new
        self.stalled = 0 if new else self.stalled + 1
        if cursor in self.cursors:
            raise self.error(f"Notion handed back the cursor {cursor} a second time")
        if self.stalled >= self.STALLED_PAGES:
            raise self.error(f"Notion answered has_more {self.stalled} times in a row without a new page")
        self.cursors.add(cursor)

    def error(self, what_happened: str) -> NotionError:
        return NotionError(
            f"Notion's pagination did not end while {self.what}: {what_happened}; stopped after "
            f"{len(self.cursors) + 1} pages of results",
            hint="nothing was written; run again later, and report it to Notion if it persists",
            code="pagination_not_ending",
        )


def conditions_of(filter: Filter | None) -> list[Filter]:
    if filter is None:
        return []
    if set(filter) == {"and"}:
        return list(filter["and"])
    return [filter]


def created(operator: str, moment: str) -> Filter:
    return {"timestamp": "created_time", "created_time": {operator: moment}}


def minute(moment: str) -> str:
    """An ISO timestamp rounded down to its minute, as "YYYY-MM-DDTHH:MM:00.000Z" in UTC."""
    parsed = datetime.fromisoformat(moment).astimezone(UTC)
    return parsed.strftime("%Y-%m-%dT%H:%M:00.000Z")


def next_minute(this_minute: str) -> str:
    return minute((datetime.fromisoformat(this_minute) + timedelta(minutes=1)).isoformat())


def is_complete(response: NotionObject) -> bool:
    status = response.get("request_status") or {}
    return bool(status.get("type") != "incomplete")


def page_text(page: NotionObject, name: str) -> str:
    prop = (page.get("properties") or {}).get(name)
    if not prop:
        return ""
    value = decode(prop)
    return value if isinstance(value, str) else ""
