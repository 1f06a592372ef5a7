"""Fetch records from an HTTP JSON API: GET, page by page, through the one HTTP layer.

    url + params ─GET─▶ JSON ─records─▶ [Record]      (one page)
                         └─ next link, or offset/limit up to a count ─▶ the next page

Failure rules are the GraphQL source's: any HTTP error left after the retries (source/client.py),
a body that is not JSON, a missing records path, a record without its key, text Notion cannot
store, a pagination loop, a page that repeats an earlier one or too many pages is a SourceError
naming the problem, raised before anything is planned, so the run writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from reconcile.errors import SourceError
from reconcile.expressions import ExpressionError, compile_expression
from reconcile.http import RetryPolicy, shown_url
from reconcile.model import Record, SourceConfig
from reconcile.source.client import SourceClient
from reconcile.source.common import records_at, refuse_unstorable_text, require_keys

__all__ = ["DEFAULT_MAX_PAGES", "fetch_http", "same_origin", "shown_url"]

DEFAULT_MAX_PAGES = 1000

Page = tuple[str, Any]  # (url, document)


# ── the http source ──────────────────────────────────────────────────────────────────────────────


def fetch_http(
    source: SourceConfig,
    *,
    transport: httpx.BaseTransport | None = None,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    logger: logging.Logger | None = None,
) -> list[Record]:
    """Every record of every page, or a SourceError; nothing partial ever reaches the planner."""
    with SourceClient(
        source, what="HTTP source", transport=transport, policy=policy, sleep=sleep, clock=clock, logger=logger
    ) as client:
        pager = Pager(client, source)
        pages = pager.offset_pages() if "offset_param" in source.pagination else pager.linked_pages()
    records: list[Record] = []
    for number, (url, document) in enumerate(pages, start=1):
        where = f"{shown_url(source.endpoint)} (page {number})"
        found = records_at(document, source.records, f"{shown_url(url)} (page {number})")
        require_keys(found, source.key, where, first_index=len(records))
        refuse_unstorable_text(found, source.key, where, first_index=len(records))
        records += found
    return records


class Pager:
    """Reads a source page by page, bounded: max_pages, no page read twice, no page repeated."""

    def __init__(self, client: SourceClient, source: SourceConfig) -> None:
        self.client = client
        self.source = source
        self.max_pages = int(source.options.get("max_pages", DEFAULT_MAX_PAGES))
        self.pages: list[Page] = []
        self._contents: dict[str, int] = {}  # digest of a page's records -> its page number

    def read(self, url: str) -> Any:
        """The page's document, once the bounds allow reading one more page."""
        number = len(self.pages) + 1
        if number > self.max_pages:
            raise SourceError(
                f"HTTP source {shown_url(self.source.endpoint)} has more than max_pages ({self.max_pages}) pages",
                hint="nothing was written; a pagination that never ends, or raise max_pages",
            )
        document = self.client.get_json(url)
        self.pages.append((url, document))
        self.refuse_repeat(number, url, document)
        return document

    def refuse_repeat(self, number: int, url: str, document: Any) -> None:
        """A page whose records are those of an earlier page: the server ignores the paging."""
        records = records_at(document, self.source.records, f"{shown_url(url)} (page {number})")
        if not records:
            return
        canonical = json.dumps(records, sort_keys=True, ensure_ascii=True, default=str)
        digest = hashlib.sha256(canonical.encode("ascii")).hexdigest()
        first = self._contents.setdefault(digest, number)
        if first != number:
            raise SourceError(
                f"HTTP source {shown_url(self.source.endpoint)}: page {number} ({shown_url(url)}) repeats the "
                f"records of page {first} (a pagination that never ends)",
                hint="nothing was written; check pagination (the server may ignore the offset or cursor)",
            )

    def linked_pages(self) -> list[Page]:
        """(url, document) of the first page and each page its `next` link leads to."""
        next_expression = self.source.pagination.get("next")
        url = prepared_url(self.source.endpoint, self.source.params)
        seen: set[str] = set()
        while url:
            if url in seen:
                raise SourceError(
                    f"HTTP source {shown_url(self.source.endpoint)}: the next link of page {len(self.pages)} leads "
                    f"back to {shown_url(url)}, a page already read (a pagination loop)",
                    hint="nothing was written; check pagination.next",
                )
            seen.add(url)
            document = self.read(url)
            url = next_url(self.source, url, document, next_expression) if next_expression else ""
        return self.pages

    def offset_pages(self) -> list[Page]:
        """(url, document) of each page, asking offset 0, limit, 2·limit, … until the count is reached."""
        spec = self.source.pagination
        limit = int(spec["limit"])
        offset = 0
        while True:
            params = {**self.source.params, spec["limit_param"]: limit, spec["offset_param"]: offset}
            url = prepared_url(self.source.endpoint, params)
            document = self.read(url)
            size = len(records_at(document, self.source.records, f"{shown_url(url)} (page {len(self.pages)})"))
            offset += limit
            total = page_count_total(self.source, document, url)
            if size == 0 or (offset >= total if total is not None else size < limit):
                return self.pages


def next_url(source: SourceConfig, current: str, document: Any, expression: str) -> str:
    """The absolute URL of the next page ("" at the end), on the configured scheme and host."""
    try:
        found = compile_expression(expression).search(document)
    except ExpressionError as exc:
        raise SourceError(f"pagination.next {expression!r} failed on {shown_url(current)}: {exc}") from exc
    if found is None or found == "":
        return ""
    if not isinstance(found, str):
        raise SourceError(f"pagination.next {expression!r} gave {type(found).__name__}, expected a URL")
    return same_origin(source.endpoint, urljoin(current, found))


def same_origin(configured: str, link: str) -> str:
    """`link` on the configured scheme; a link to another host is refused (headers may hold keys)."""
    want, got = urlsplit(configured), urlsplit(link)
    if (got.hostname or "").lower() != (want.hostname or "").lower():
        raise SourceError(
            f"HTTP source {shown_url(configured)}: the next link {shown_url(link)} points to another host",
            hint="nothing was written; the source's headers are only sent to the configured host",
        )
    # Planning Data, behind a proxy, writes its links as http:// while serving https.
    if got.scheme != want.scheme and want.scheme == "https":
        got = got._replace(scheme=want.scheme)
    return urlunsplit(got)


def page_count_total(source: SourceConfig, document: Any, url: str) -> int | None:
    expression = source.pagination.get("count")
    if not expression:
        return None
    try:
        found = compile_expression(expression).search(document)
    except ExpressionError as exc:
        raise SourceError(f"pagination.count {expression!r} failed on {shown_url(url)}: {exc}") from exc
    if isinstance(found, bool) or not isinstance(found, int | float):
        raise SourceError(
            f"pagination.count {expression!r} gave {found!r} on {shown_url(url)}, expected a number",
            hint="nothing was written",
        )
    return int(found)


def prepared_url(url: str, params: Mapping[str, Any]) -> str:
    """`url` with `params` added to its query (a list repeats the parameter; None leaves it out)."""
    pairs: list[tuple[str, str | int | float | bool | None]] = [
        (k, text) for k, v in params.items() for text in param_texts(v)
    ]
    if not pairs:
        return url
    return str(httpx.URL(url).copy_merge_params(httpx.QueryParams(pairs)))


def param_texts(value: Any) -> list[str]:
    """A JSON-ish parameter value as the texts sent: booleans as `true`/`false`, a list item by item."""
    if isinstance(value, list):
        return [text for v in value for text in param_texts(v)]
    if value is None:
        return []
    if isinstance(value, bool):
        return ["true" if value else "false"]
    return [str(value)]
