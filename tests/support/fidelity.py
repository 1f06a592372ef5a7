"""Helpers shared by the fidelity tests: seeded ids, recording HTTP clients, raw headers and fault injection."""

from __future__ import annotations

import contextlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from notion_client import Client
from notion_client.errors import HTTPResponseError

REPO = Path(__file__).resolve().parents[2]
# The reference material sits beside the checkout; a git worktree elsewhere names it in RECONCILE_SHARED_DIR
# (read at import, before the hermetic-environment fixture scrubs RECONCILE_* for each test).
SHARED = Path(os.environ.get("RECONCILE_SHARED_DIR") or REPO.parent / "shared")
TOKEN = "ntn_sandbox"
VERSION = "2025-09-03"

COUNCILS_DB = "c0c11c00-0000-4000-8000-000000000001"
COUNCILS_DS = "c0c11c00-0000-4000-8000-000000000002"
SERVICES_DB = "5e541ce5-0000-4000-8000-000000000001"
SERVICES_DS = "5e541ce5-0000-4000-8000-000000000002"

# notion-client adds a stream handler per Client to the logger it is given; one silent logger keeps output readable
# (the recorder, not the log, is what the tests read).
QUIET_LOGGER = logging.getLogger("tests.fidelity.notion_client")
QUIET_LOGGER.addHandler(logging.NullHandler())
QUIET_LOGGER.propagate = False

# A well-formed id that names nothing in any sandbox.
MISSING = "0badc0de-0000-4000-8000-000000000000"
SHARING_HINT = "Make sure the relevant pages and databases are shared with your integration."


@dataclass(frozen=True)
class Exchange:
    """One HTTP exchange with the sandbox as seen on the wire."""

    method: str
    path: str
    status: int
    headers: httpx.Headers
    text: str

    @property
    def body(self) -> Any:
        return json.loads(self.text)

    @property
    def label(self) -> str:
        return f"{self.method} {self.path} -> {self.status}"


@dataclass
class Recorder:
    """Collects every response of the httpx clients it is hooked into."""

    exchanges: list[Exchange] = field(default_factory=list)

    def __call__(self, response: httpx.Response) -> None:
        response.read()
        request = response.request
        # raw_path keeps percent-encoding: property ids such as `%3Fa%239` decode to characters that end a path.
        path = request.url.raw_path.decode("ascii").partition("?")[0]
        exchange = Exchange(request.method, path, response.status_code, response.headers, response.text)
        self.exchanges.append(exchange)

    def last(self) -> Exchange:
        return self.exchanges[-1]


def start_sandbox(**options: Any) -> Any:
    """A SandboxServer on a free loopback port (a context manager)."""
    from notion_sandbox.server import SandboxServer

    return SandboxServer(host="127.0.0.1", port=0, **options)


def notion_for(server: Any, recorder: Recorder, **options: Any) -> Client:
    """notion-client 3.1.0 on the sandbox, every response recorded.

    retry=False: the SDK's own retries would hide the first response and wait on Retry-After. Never use
    ``with Client(...)``: it swaps in a fresh httpx client and the recorder would be bypassed.
    """
    http = httpx.Client(event_hooks={"response": [recorder]})
    return Client(
        auth=TOKEN,
        base_url=server.url,
        client=http,
        retry=False,
        logger=QUIET_LOGGER,
        log_level=logging.CRITICAL,
        **options,
    )


def request_quietly(
    notion: Client, method: str, path: str, body: Any = None, query: Any = None, auth: str | None = None
) -> None:
    """Send through notion-client and leave the answer, success or error, to the recorder."""
    with contextlib.suppress(HTTPResponseError):
        notion.request(path=path.removeprefix("/v1/"), method=method, body=body, query=query, auth=auth)


def raw_for(server: Any, recorder: Recorder) -> httpx.Client:
    """A plain httpx client for the requests notion-client cannot make (no token, bad JSON, no version...)."""
    return httpx.Client(base_url=server.url, event_hooks={"response": [recorder]}, timeout=10)


def headers(version: str | None = VERSION, token: str | None = TOKEN) -> dict[str, str]:
    chosen = {"Content-Type": "application/json"}
    if version is not None:
        chosen["Notion-Version"] = version
    if token is not None:
        chosen["Authorization"] = f"Bearer {token}"
    return chosen


def inject_faults(server: Any, rules: list[dict[str, Any]]) -> None:
    response = httpx.post(f"{server.url}/_sandbox/faults", json={"rules": rules}, timeout=10)
    assert response.status_code < 300, f"fault injection refused: {response.status_code} {response.text}"


def assert_no_findings(findings: list[str]) -> None:
    """Fail with one finding per line (route, JSON path, expected vs actual), readable in a CI log."""
    if findings:
        pytest.fail("\n".join(findings), pytrace=False)


def title_value(text: str) -> list[dict[str, Any]]:
    return [{"text": {"content": text}}]


JSON_CONTENT_TYPE = "application/json; charset=utf-8"


def wire_problems(openapi: Any, exchanges: list[Exchange]) -> list[str]:
    """Everything on the wire Notion would not send: schema errors against the official document (``openapi`` is a
    ``tests.support.notion_openapi.NotionOpenApi``), missing request ids, non-JSON bodies, statuses that disagree."""
    found = []
    for exchange in exchanges:
        content_type = exchange.headers.get("content-type", "")
        if content_type != JSON_CONTENT_TYPE:
            found.append(f"{exchange.label}: content-type {content_type!r}, Notion sends {JSON_CONTENT_TYPE!r}")
            continue
        body = exchange.body
        if not isinstance(body, dict) or not isinstance(body.get("request_id"), str):
            found.append(f"{exchange.label}: no request_id in the body")
        if isinstance(body, dict) and body.get("object") == "error" and body.get("status") != exchange.status:
            found.append(f"{exchange.label}: body status {body.get('status')!r}")
        if not exchange.headers.get("x-notion-request-id"):
            found.append(f"{exchange.label}: no x-notion-request-id header")
        errors = openapi.errors(exchange.method, exchange.path, exchange.status, body)
        found.extend(f"{exchange.label} {error}" for error in errors)
    return found


def operations_seen(openapi: Any, exchanges: list[Exchange]) -> set[tuple[str, str, int]]:
    """(method, the document's path template, status) of every exchange."""
    out = set()
    for exchange in exchanges:
        operation = openapi.operation(exchange.method, exchange.path)
        out.add((exchange.method, operation.template if operation else exchange.path, exchange.status))
    return out
