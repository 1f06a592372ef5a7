"""Fetch records from an HTTP JSON API: GET, page by page, with bounded retries.

    url + params ─GET─▶ JSON ─records─▶ [Record]      (one page)
                         └─ next link, or offset/limit up to a count ─▶ the next page

Failure rules are the GraphQL source's: any HTTP error left after the retries, a body that is not
JSON, a missing records path, a record without its key, a pagination loop or too many pages is a
SourceError naming the problem, raised before anything is planned, so the run writes nothing.

Transient failures (429 with Retry-After, 5xx, timeouts, dropped connections) are retried with
exponential backoff and jitter, bounded in attempts and in total time. `JsonGetter` is shared with
the lookup source.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import requests

from reconcile.errors import SourceError
from reconcile.expressions import ExpressionError, compile_expression
from reconcile.model import Record, SourceConfig
from reconcile.notion.transport import parse_retry_after
from reconcile.source.common import records_at, require_keys, short_body
from reconcile.source.graphql import USER_AGENT

__all__ = ["DEFAULT_MAX_PAGES", "HttpPolicy", "JsonGetter", "fetch_http", "shown_url"]

DEFAULT_MAX_PAGES = 1000
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504, 529})
SECRET_PARAM_WORDS = ("key", "token", "secret", "password", "signature", "auth")


@dataclass(frozen=True)
class HttpPolicy:
    """How hard one GET tries before its failure stops the job."""

    max_attempts: int = 4
    max_retry_s: float = 60.0  # total time one request may spend waiting to retry
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0


def source_policy(source: SourceConfig) -> HttpPolicy:
    """The retry policy a source's config asks for (max_attempts, max_retry_seconds)."""
    defaults = HttpPolicy()
    return HttpPolicy(
        max_attempts=int(source.options.get("max_attempts", defaults.max_attempts)),
        max_retry_s=float(source.options.get("max_retry_seconds", defaults.max_retry_s)),
        base_delay_s=defaults.base_delay_s,
        max_delay_s=defaults.max_delay_s,
    )


class JsonGetter:
    """GETs JSON documents with the run's headers, timeout and retry policy."""

    def __init__(
        self,
        *,
        headers: Mapping[str, str],
        timeout_s: float,
        session: requests.Session | None = None,
        policy: HttpPolicy = HttpPolicy(),
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
        what: str = "HTTP source",
    ) -> None:
        self.headers = {"Accept": "application/json", "User-Agent": USER_AGENT, **headers}
        self.timeout_s = timeout_s
        self.session = session or requests.Session()
        self.policy = policy
        self.sleep = sleep
        self.clock = clock
        self.jitter = jitter
        self.what = what
        self.requests_sent = 0

    def get(self, url: str, params: Mapping[str, Any] | None = None) -> Any:
        """The JSON document at `url`, or a SourceError saying why there is none."""
        started = self.clock()
        attempt = 0
        while True:
            attempt += 1
            response, failure = self.attempt(url, params)
            if response is not None and failure is None:
                return self.document(url, response)
            delay = self.retry_delay(response, attempt, started)
            if delay is None:
                raise self.final_error(url, response, failure, attempt)
            self.sleep(delay)

    def attempt(self, url: str, params: Mapping[str, Any] | None) -> tuple[requests.Response | None, str | None]:
        """(response, None) on a usable status; otherwise what went wrong, for retry or report."""
        self.requests_sent += 1
        try:
            response = self.session.get(url, params=params, headers=self.headers, timeout=self.timeout_s)
        except requests.Timeout:
            return None, f"did not answer within {self.timeout_s:g} s"
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            return None, f"could not be reached ({type(exc).__name__})"
        except requests.RequestException as exc:
            raise SourceError(
                f"{self.what} {shown_url(url)} could not be requested: {type(exc).__name__}",
                hint="nothing was written; check the URL",
            ) from exc
        if 200 <= response.status_code < 300:
            return response, None
        return response, f"answered HTTP {response.status_code}: {short_body(response.text)}"

    def retry_delay(self, response: requests.Response | None, attempt: int, started: float) -> float | None:
        """Seconds to wait before the next attempt; None when the failure is final."""
        if response is not None and response.status_code not in TRANSIENT_STATUSES:
            return None
        if attempt >= self.policy.max_attempts:
            return None
        backoff = min(self.policy.max_delay_s, self.policy.base_delay_s * 2 ** (attempt - 1))
        delay = backoff * (0.5 + self.jitter() / 2)
        asked = retry_after_seconds(response) if response is not None else None
        if asked is not None:
            delay = max(delay, asked)
        if self.clock() - started + delay > self.policy.max_retry_s:
            return None
        return delay

    def final_error(
        self, url: str, response: requests.Response | None, failure: str | None, attempts: int
    ) -> SourceError:
        tries = f" (after {attempts} attempts)" if attempts > 1 else ""
        return SourceError(f"{self.what} {shown_url(url)} {failure}{tries}", hint="nothing was written")

    def document(self, url: str, response: requests.Response) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            raise SourceError(
                f"{self.what} {shown_url(url)} answered with a body that is not JSON: {short_body(response.text)}",
                hint="nothing was written",
            ) from exc


def retry_after_seconds(response: requests.Response) -> float | None:
    """Retry-After as seconds (a number or an HTTP date); None when absent or unreadable."""
    return parse_retry_after(response.headers.get("Retry-After"), time.time())


def shown_url(url: str) -> str:
    """The URL for messages, with the values of secret-looking query parameters hidden."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = [
        (k, "***" if any(w in k.lower() for w in SECRET_PARAM_WORDS) else v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(query=urlencode(pairs, safe="*")))


def refuse_notion_token(source: SourceConfig, token: str | None) -> None:
    """The Notion token goes to Notion only: never in a source's URL, parameters or headers."""
    if not token or len(token) < 4:
        return
    urls = [source.endpoint, *(source.options.get("urls") or {}).values()]
    values = [*urls, *map(str, source.headers.values()), *map(str, flatten(source.params))]
    if any(token in v for v in values):
        raise SourceError(
            f"the source of {shown_url(source.endpoint)} would send the Notion token",
            hint="NOTION_TOKEN is only ever sent to Notion; give the source its own credential",
        )


def flatten(params: Mapping[str, Any]) -> list[Any]:
    return [v for value in params.values() for v in (value if isinstance(value, list) else [value])]


# ── the http source ──────────────────────────────────────────────────────────────────────────────


def fetch_http(
    source: SourceConfig,
    *,
    session: requests.Session | None = None,
    policy: HttpPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    notion_token: str | None = None,
) -> list[Record]:
    """Every record of every page, or a SourceError; nothing partial ever reaches the planner."""
    refuse_notion_token(source, notion_token if notion_token is not None else os.environ.get("NOTION_TOKEN"))
    getter = JsonGetter(
        headers=source.headers,
        timeout_s=source.timeout_s,
        session=session,
        policy=policy or source_policy(source),
        sleep=sleep,
        clock=clock,
    )
    max_pages = int(source.options.get("max_pages", DEFAULT_MAX_PAGES))
    pagination = source.pagination
    if "offset_param" in pagination:
        pages = offset_pages(getter, source, max_pages)
    else:
        pages = linked_pages(getter, source, max_pages)
    records: list[Record] = []
    for number, (url, document) in enumerate(pages, start=1):
        found = records_at(document, source.records, f"{shown_url(url)} (page {number})")
        require_keys(found, source.key, f"{shown_url(source.endpoint)} (page {number})", first_index=len(records))
        records += found
    return records


def linked_pages(getter: JsonGetter, source: SourceConfig, max_pages: int) -> list[tuple[str, Any]]:
    """(url, document) of the first page and each page its `next` link leads to."""
    next_expression = source.pagination.get("next")
    url = prepared_url(source.endpoint, source.params)
    seen: set[str] = set()
    pages: list[tuple[str, Any]] = []
    while url:
        if url in seen:
            raise SourceError(
                f"HTTP source {shown_url(source.endpoint)}: the next link of page {len(pages)} leads back to "
                f"{shown_url(url)}, a page already read (a pagination loop)",
                hint="nothing was written; check pagination.next",
            )
        check_page_count(source, len(pages) + 1, max_pages)
        seen.add(url)
        document = getter.get(url)
        pages.append((url, document))
        url = next_url(source, url, document, next_expression) if next_expression else ""
    return pages


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


def offset_pages(getter: JsonGetter, source: SourceConfig, max_pages: int) -> list[tuple[str, Any]]:
    """(url, document) of each page, asking offset 0, limit, 2·limit, … until the count is reached."""
    spec = source.pagination
    limit = int(spec["limit"])
    offset = 0
    pages: list[tuple[str, Any]] = []
    while True:
        check_page_count(source, len(pages) + 1, max_pages)
        params = {**source.params, spec["limit_param"]: limit, spec["offset_param"]: offset}
        url = prepared_url(source.endpoint, params)
        document = getter.get(url)
        pages.append((url, document))
        size = len(records_at(document, source.records, f"{shown_url(url)} (page {len(pages)})"))
        offset += limit
        total = page_count_total(source, document, url)
        if size == 0 or (offset >= total if total is not None else size < limit):
            return pages


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


def check_page_count(source: SourceConfig, number: int, max_pages: int) -> None:
    if number > max_pages:
        raise SourceError(
            f"HTTP source {shown_url(source.endpoint)} has more than max_pages ({max_pages}) pages",
            hint="nothing was written; a pagination that never ends, or raise max_pages",
        )


def prepared_url(url: str, params: Mapping[str, Any]) -> str:
    """`url` with `params` added to its query (lists repeat the parameter), as requests sends it."""
    prepared = requests.Request("GET", url, params={k: param_text(v) for k, v in params.items()}).prepare()
    return prepared.url or url


def param_text(value: Any) -> Any:
    """JSON-ish parameter values as text: booleans as `true`/`false`, lists item by item."""
    if isinstance(value, list):
        return [param_text(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    return value
