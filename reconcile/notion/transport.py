"""What is particular to Notion in the one HTTP layer: request kinds, unsafe resends, the token's road.

notion-client is given an httpx.Client whose transport is a `NotionTransport`, an `HttpLayer`
(reconcile/http.py) with Notion's `Rules`, so every request of a run (reads and writes, from every
worker thread) passes through one place:

    notion_client.Client ─▶ httpx.Client ─▶ NotionTransport ─▶ inner transport (network)
                                            (HttpLayer + NotionRules: pacing, retries, counting, log)

Requests fall into three kinds. Reads (GET, POST .../query, POST /v1/search) and updates (PATCH:
idempotent) are retried on transient failures: 429, 409, 500, 502, 503, 504, 529, timeouts,
connection errors, and a 2xx whose body is not JSON (a truncated answer). A create (any other POST)
is retried only when Notion cannot have processed it (429, or a connection that never opened);
otherwise its outcome is unknown and it raises `AmbiguousWriteError` so that the caller looks
before creating again. A create answered 2xx with a body that is not JSON did reach Notion but
names no page: it raises a `NotionError` saying so, and the next run's plan, which reads every
page by key, finds the page if it was committed.

When retries stop on a failure, the final response carries the reason in the `x-reconcile-retry`
header ("after 6 attempts", "Retry-After 3600 s exceeds max_retry_seconds 120"): notion-client
keeps response headers on its `HTTPResponseError`, so the message can say what happened.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any, Literal

import httpx

from reconcile.errors import NotionAuthError, NotionError
from reconcile.http import (
    NOT_SENT,
    TRANSIENT_EXCEPTIONS,
    CallCounter,
    HttpLayer,
    Outcome,
    RetryPolicy,
    Rules,
    Stop,
    TokenBucket,
    is_loopback_host,
    parse_retry_after,
    token_may_travel_to,
)

__all__ = [
    "RETRY_HEADER",
    "TRANSIENT_STATUSES",
    "AmbiguousWriteError",
    "CallCounter",
    "NotionRules",
    "NotionTransport",
    "RetryPolicy",
    "TokenBucket",
    "check_token_destination",
    "is_loopback_host",
    "parse_retry_after",
    "request_kind",
    "retry_note",
    "route_template",
]

RequestKind = Literal["read", "update", "create"]

TRANSIENT_STATUSES = frozenset({409, 429, 500, 502, 503, 504, 529})
RETRY_HEADER = "x-reconcile-retry"
_JSON_PROBLEM = "reconcile.json_problem"  # response.extensions key: "" or what is wrong with the body
_ROUTE_WORDS = frozenset(
    {
        "v1",
        "databases",
        "data_sources",
        "pages",
        "query",
        "properties",
        "search",
        "blocks",
        "children",
        "users",
        "me",
        "comments",
        "templates",
        "move",
        "markdown",
        "file_uploads",
    }
)


class AmbiguousWriteError(NotionError):
    """A create was sent and may or may not have been committed; it must not be resent blindly."""

    def __init__(
        self,
        message: str,
        *,
        route: str,
        committed_resource_id: str | None = None,
        status: int | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message, code=code or "ambiguous_write", status=status)
        self.route = route
        self.committed_resource_id = committed_resource_id


# ── classification ───────────────────────────────────────────────────────────────────────────────


def request_kind(method: str, path: str) -> RequestKind:
    """Whether a request only reads, updates idempotently, or creates something."""
    method = method.upper()
    if method == "GET" or (method == "POST" and (path.endswith("/query") or path == "/v1/search")):
        return "read"
    if method in ("PATCH", "PUT", "DELETE"):
        return "update"
    return "create"


def route_template(method: str, path: str) -> str:
    """The request's route with ids replaced, e.g. "PATCH /v1/pages/{id}"."""
    parts = []
    previous = ""
    for segment in path.strip("/").split("/"):
        if segment in _ROUTE_WORDS:
            parts.append(segment)
        else:
            parts.append("{property_id}" if previous == "properties" else "{id}")
        previous = segment
    return f"{method.upper()} /{'/'.join(parts)}"


def check_token_destination(url: str | httpx.URL) -> None:
    """Refuse a destination that would expose the token: plain http beyond loopback."""
    if token_may_travel_to(str(url)):
        return
    parsed = httpx.URL(str(url))
    raise NotionAuthError(
        f"refusing to send the Notion token to {parsed.scheme}://{parsed.host}",
        hint="use an https:// Notion base URL; plain http is allowed only for a loopback sandbox",
    )


def retry_note(headers: httpx.Headers | dict[str, str] | None) -> str | None:
    """Why the transport stopped retrying the request these response headers came with, if it did."""
    if not headers:
        return None
    note = httpx.Headers(headers).get(RETRY_HEADER)
    return note if isinstance(note, str) else None


# ── Notion's rules ───────────────────────────────────────────────────────────────────────────────


class NotionRules(Rules):
    """Which Notion outcomes are retried, which would be unsafe to resend, and what a failure becomes."""

    def check(self, request: httpx.Request) -> None:
        if "authorization" in request.headers:
            check_token_destination(request.url)

    def route(self, request: httpx.Request) -> str:
        return route_template(request.method, request.url.path)

    def retryable(self, request: httpx.Request, outcome: Outcome) -> bool:
        kind = request_kind(request.method, request.url.path)
        route = self.route(request)
        if isinstance(outcome, httpx.TransportError):
            if not isinstance(outcome, TRANSIENT_EXCEPTIONS):
                return False
            if kind == "create" and not isinstance(outcome, NOT_SENT):
                raise _ambiguous_after_exception(route, outcome) from outcome
            return True
        if outcome.status_code in TRANSIENT_STATUSES:
            if kind == "create" and outcome.status_code != 429:
                raise _ambiguous_after_response(route, outcome)
            return True
        if outcome.is_success and json_problem(outcome):
            if kind == "create":
                raise _unknown_create(route, outcome)
            return True
        return False

    def final(self, request: httpx.Request, outcome: Outcome, stop: Stop) -> httpx.Response:
        if isinstance(outcome, httpx.TransportError):
            raise outcome
        if outcome.is_success and json_problem(outcome):
            raise _unreadable(self.route(request), outcome, stop)
        if stop.reason is not None:
            outcome.headers[RETRY_HEADER] = stop.reason
        return outcome


def json_problem(response: httpx.Response) -> str:
    """What is wrong with a response body that should be JSON ("" when nothing is); parsed once."""
    cached = response.extensions.get(_JSON_PROBLEM)
    if isinstance(cached, str):
        return cached
    problem = ""
    try:
        json.loads(response.content)
    except UnicodeDecodeError:
        problem = "not UTF-8"
    except json.JSONDecodeError as exc:
        # JSON that breaks off where the text ends (mid-string included) was cut short.
        cut = exc.pos >= len(exc.doc.rstrip()) or exc.msg.startswith("Unterminated string")
        problem = f"truncated after {len(response.content)} bytes" if cut else f"not JSON at byte {exc.pos}"
    response.extensions[_JSON_PROBLEM] = problem
    return problem


class NotionTransport(HttpLayer):
    """The HTTP layer with Notion's rules; the argument order is the layer's."""

    def __init__(
        self,
        inner: httpx.BaseTransport | None = None,
        policy: RetryPolicy | None = None,
        bucket: TokenBucket | None = None,
        counter: CallCounter | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        logger: logging.Logger | None = None,
    ) -> None:
        super().__init__(inner, policy, bucket, counter, rules=NotionRules(), clock=clock, sleep=sleep, logger=logger)


# ── the errors a request can end in ──────────────────────────────────────────────────────────────


def _ambiguous_after_exception(route: str, exc: httpx.TransportError) -> AmbiguousWriteError:
    return AmbiguousWriteError(
        f"{route}: the request was sent but no answer came back ({type(exc).__name__}); it may have been committed",
        route=route,
    )


def _ambiguous_after_response(route: str, response: httpx.Response) -> AmbiguousWriteError:
    body = _json_body(response)
    extra = body.get("additional_data")
    additional: dict[str, Any] = extra if isinstance(extra, dict) else {}
    committed = additional.get("committed_resource_id")
    code = body.get("code") if isinstance(body.get("code"), str) else None
    return AmbiguousWriteError(
        f"{route}: Notion answered {response.status_code} {code or 'non-JSON'} after the request "
        "was sent; it may have been committed",
        route=route,
        committed_resource_id=committed if isinstance(committed, str) else None,
        status=response.status_code,
        code=code,
    )


def _unknown_create(route: str, response: httpx.Response) -> NotionError:
    return NotionError(
        f"{route}: Notion answered {response.status_code} with a body that is {json_problem(response)}, "
        "so the page may have been created but its outcome is unknown",
        hint="the next run reads every page by key before creating, so it will not create it twice",
        code="invalid_json",
        status=response.status_code,
    )


def _unreadable(route: str, response: httpx.Response, stop: Stop) -> NotionError:
    tries = f" ({stop.reason})" if stop.reason else ""
    return NotionError(
        f"{route}: Notion answered {response.status_code} with a body that is {json_problem(response)}{tries}",
        hint="a proxy or a dropped connection cut the answer short; run again",
        code="invalid_json",
        status=response.status_code,
    )


def _json_body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = json.loads(response.content)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
