"""The sandbox's request log keeps query strings: a paginated source's pages can be told apart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.common import run
from tests.support.jobs import prepare_example_workspace

SandboxServer = pytest.importorskip("notion_sandbox.server").SandboxServer
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with SandboxServer(port=0, seed="planx", rate_limit=None) as sb:
        for name, value in sb.seed_info["env"].items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("NOTION_RATE_LIMIT", "0")
        monkeypatch.chdir(tmp_path)
        yield sb


def test_each_page_of_an_http_source_is_logged_with_its_query(sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in prepare_example_workspace(sandbox).items():
        monkeypatch.setenv(name, value)
    text = (REPO / "examples" / "planning-data-entities.yaml").read_text(encoding="utf-8")
    assert "limit: 500" in text
    Path("entities.yaml").write_text(text.replace("limit: 500", "limit: 100"), encoding="utf-8")  # several pages
    out = run("plan", "-c", "entities.yaml")
    assert out.exit_code in (0, 2), out.output
    paths = [e["path"] for e in sandbox.admin.requests()["entries"] if e["path"].startswith("/entity.json")]
    assert len(paths) > 1, paths
    assert all("?" in p and "dataset=local-authority" in p for p in paths)
    assert len(set(paths)) == len(paths)  # every page its own offset: no request repeated
    assert any("offset=0" in p for p in paths) and any("offset=100" in p for p in paths)
