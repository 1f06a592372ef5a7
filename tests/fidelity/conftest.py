"""Fixtures for the fidelity tests: the relaxed OpenAPI validator, a sandbox, and clients that record every exchange.

The reference material lives in ``../shared`` beside the checkout; when it is absent the tests that read it are skipped
with the reason, and nothing of it is ever copied into the repository.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from notion_client import Client

from tests.support.fidelity import SHARED, Recorder, notion_for, start_sandbox
from tests.support.notion_openapi import NotionOpenApi, RecordedExchange, recorded_exchanges


@pytest.fixture(scope="session")
def shared() -> Path:
    if not (SHARED / "notion").is_dir():
        pytest.skip(f"Notion reference material not found beside the checkout ({SHARED / 'notion'})")
    return SHARED


@pytest.fixture(scope="session")
def openapi(shared: Path) -> NotionOpenApi:
    return NotionOpenApi.load(shared)


@pytest.fixture(scope="session")
def recorded(shared: Path) -> list[RecordedExchange]:
    return recorded_exchanges(shared)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Any]:
    """One seeded sandbox per module; tests create their own objects and never rely on each other's."""
    with start_sandbox(seed="planx", rate_limit=None) as server:
        yield server


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def notion(sandbox: Any, recorder: Recorder) -> Client:
    return notion_for(sandbox, recorder)
