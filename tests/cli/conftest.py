"""Fixtures shared by the CLI tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def planx_workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The PlanX-seeded sandbox, its environment set, in a folder holding the repository's mappings.yaml."""
    server = pytest.importorskip("notion_sandbox.server").SandboxServer
    with server(port=0, seed="planx", rate_limit=None) as sb:
        for name, value in sb.seed_info["env"].items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("NOTION_RATE_LIMIT", "0")
        monkeypatch.chdir(tmp_path)
        Path("mappings.yaml").write_text((REPO / "mappings.yaml").read_text(encoding="utf-8"), encoding="utf-8")
        yield sb
