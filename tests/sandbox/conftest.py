"""Fixtures for the sandbox tests: a running server per test, notion-client 3.1.0 and raw HTTP against it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from notion_client import Client

from notion_sandbox.server import SandboxServer
from tests.support.sandbox import TOKEN, Raw


@pytest.fixture
def sb() -> Iterator[SandboxServer]:
    with SandboxServer(port=0, seed="empty", rate_limit=None) as server:
        yield server


@pytest.fixture
def planx_sb() -> Iterator[SandboxServer]:
    with SandboxServer(port=0, seed="planx", rate_limit=None) as server:
        yield server


@pytest.fixture
def notion(sb: SandboxServer) -> Client:
    # Never `with Client(...)`: it swaps in a fresh httpx client (FACTS §0.10).
    return Client(auth=TOKEN, base_url=sb.url, retry=False)


@pytest.fixture
def raw(sb: SandboxServer) -> Iterator[Raw]:
    client = Raw(sb.url)
    yield client
    client.http.close()
