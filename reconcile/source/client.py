"""How every source kind talks HTTP: the one layer (reconcile/http.py) with the sources' rules.

    SourceClient ─▶ httpx.Client (redirects followed) ─▶ HttpLayer + SourceRules ─▶ network

A source's transient failures (429 after its Retry-After, 500, 502, 503, 504, 529, timeouts,
dropped connections) are retried within the source's `max_attempts` and `max_retry_seconds`; any
other failure, or one left when the bound is reached, is a `SourceError` saying what happened.

Secrets: a request may carry a remembered secret (reconcile.redact) only when the source declares
it (`secrets: [NAME]`), only in a header, and only to a host its config names. The Notion token, a
secret in a URL, or a redirect or link to another host with a secret header is refused before
anything is sent.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from reconcile.errors import SourceError
from reconcile.http import (
    TRANSIENT_EXCEPTIONS,
    AcyclicClient,
    HttpLayer,
    Outcome,
    RetryPolicy,
    Rules,
    Stop,
    TokenBucket,
    shown_url,
    timeout,
)
from reconcile.model import SourceConfig
from reconcile.redact import secrets_in
from reconcile.source.common import short_body

__all__ = [
    "DEFAULT_MAX_ATTEMPTS",
    "DEFAULT_MAX_RETRY_SECONDS",
    "TRANSIENT_STATUSES",
    "USER_AGENT",
    "SourceClient",
    "SourceRules",
    "source_hosts",
    "source_policy",
]

USER_AGENT = "reconcile (+https://github.com/; declarative Notion sync)"
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504, 529})
DEFAULT_MAX_ATTEMPTS = 4
DEFAULT_MAX_RETRY_SECONDS = 60.0
NOTHING_WRITTEN = "nothing was written"


def source_policy(source: SourceConfig) -> RetryPolicy:
    """The retry policy a source's config asks for (max_attempts, max_retry_seconds)."""
    return RetryPolicy(
        max_attempts=int(source.options.get("max_attempts", DEFAULT_MAX_ATTEMPTS)),
        max_total_s=float(source.options.get("max_retry_seconds", DEFAULT_MAX_RETRY_SECONDS)),
    )


def source_hosts(source: SourceConfig) -> frozenset[str]:
    """The hosts the source's config names: the only ones its configured headers are sent to."""
    urls = [source.endpoint, *dict(source.options.get("urls") or {}).values()]
    return frozenset((urlsplit(u).hostname or "").lower() for u in urls)


class SourceRules(Rules):
    """Retry transient failures; turn the rest into one SourceError; keep secrets on their host."""

    def __init__(
        self, what: str, hosts: Iterable[str], secrets: Iterable[str] = (), *, timeout_s: float = 30.0
    ) -> None:
        self.what = what
        self.hosts = frozenset(h.lower() for h in hosts)
        self.secrets = frozenset(secrets)  # the names of the secrets this source declares
        self.timeout_s = timeout_s

    def check(self, request: httpx.Request) -> None:
        """Refuse a request that would carry a secret anywhere but its own headers to its own host."""
        if secrets_in(str(request.url)):
            raise SourceError(
                f"{self.what}: refusing to send a secret in the URL {shown_url(str(request.url))}",
                hint=f"{NOTHING_WRITTEN}; secrets go in headers only",
            )
        for header, value in request.headers.items():
            names = secrets_in(value)
            foreign = sorted(names - self.secrets)
            if foreign:
                raise SourceError(
                    f"{self.what}: refusing to send {foreign[0]} in header {header}: it is not this source's secret",
                    hint=f"{NOTHING_WRITTEN}; NOTION_TOKEN goes only to Notion, a declared secret only to its source",
                )
            if names and request.url.host.lower() not in self.hosts:
                raise SourceError(
                    f"{self.what}: refusing to send header {header}, which holds {sorted(names)[0]}, to "
                    f"{request.url.host} (a redirect or link away from {', '.join(sorted(self.hosts))})",
                    hint=f"{NOTHING_WRITTEN}; a source's secrets go only to the host its config names",
                )

    def retryable(self, request: httpx.Request, outcome: Outcome) -> bool:
        if isinstance(outcome, httpx.TransportError):
            return isinstance(outcome, TRANSIENT_EXCEPTIONS)
        return outcome.status_code in TRANSIENT_STATUSES

    def final(self, request: httpx.Request, outcome: Outcome, stop: Stop) -> httpx.Response:
        if isinstance(outcome, httpx.Response) and outcome.status_code < 400:
            return outcome  # a success, or a redirect for httpx to follow
        tries = f" ({stop.reason})" if stop.reason else ""
        error = SourceError(
            f"{self.what} {shown_url(str(request.url))} {self.problem(outcome)}{tries}", hint=NOTHING_WRITTEN
        )
        if isinstance(outcome, httpx.TransportError):
            raise error from outcome
        raise error

    def problem(self, outcome: Outcome) -> str:
        """What went wrong, in words that fit after the source's URL."""
        if isinstance(outcome, httpx.TimeoutException):
            return f"did not answer within {self.timeout_s:g} s"
        if isinstance(outcome, httpx.TransportError):
            return f"could not be reached ({type(outcome).__name__})"
        return f"answered HTTP {outcome.status_code}: {short_body(outcome.text)}"


class SourceClient:
    """GETs and POSTs JSON for one source, through the HTTP layer with the source's rules."""

    def __init__(
        self,
        source: SourceConfig,
        *,
        what: str,
        transport: httpx.BaseTransport | None = None,
        policy: RetryPolicy | None = None,
        bucket: TokenBucket | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        logger: logging.Logger | None = None,
    ) -> None:
        self.what = what
        secrets = tuple(source.options.get("secrets") or ())
        rules = SourceRules(what, source_hosts(source), secrets, timeout_s=source.timeout_s)
        self.layer = HttpLayer(
            transport,
            policy or source_policy(source),
            bucket,
            rules=rules,
            clock=clock,
            sleep=sleep,
            logger=logger,
        )
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT, **source.headers}
        self.http = AcyclicClient(
            transport=self.layer, timeout=timeout(source.timeout_s), follow_redirects=True, headers=headers
        )

    def get_json(self, url: str) -> Any:
        """The JSON document at `url`, or a SourceError saying why there is none."""
        return self.document(url, self.http.get(url))

    def post_json(self, url: str, payload: Mapping[str, Any]) -> Any:
        """The JSON document answered to POSTing `payload` to `url`."""
        return self.document(url, self.http.post(url, json=dict(payload)))

    def document(self, url: str, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            problem = "not UTF-8" if isinstance(exc, UnicodeDecodeError) else "not JSON"
            raise SourceError(
                f"{self.what} {shown_url(url)} answered with a body that is {problem}: {short_body(response.text)}",
                hint=NOTHING_WRITTEN,
            ) from exc

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> SourceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
