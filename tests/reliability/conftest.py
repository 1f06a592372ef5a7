"""Fixtures of the reliability suite: a fresh PlanX sandbox per test, the environment pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

SandboxServer = pytest.importorskip("notion_sandbox.server").SandboxServer


@pytest.fixture
def sandbox(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """An unlimited sandbox (the client limiter off too); tests that measure pacing set their own."""
    with SandboxServer(port=0, seed="planx", rate_limit=None) as sb:
        for name, value in sb.seed_info["env"].items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("NOTION_RATE_LIMIT", "0")
        monkeypatch.chdir(tmp_path)
        yield sb
