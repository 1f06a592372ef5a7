"""Hermetic tests: no inherited Notion/PlanX environment, paths relative to the repository."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

SCRUBBED_PREFIXES = ("NOTION_", "PLANX_", "COUNCILS_", "SERVICES_", "DETAILED_", "PLANNING_", "RECONCILE_")


@pytest.fixture(autouse=True)
def hermetic_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(SCRUBBED_PREFIXES) or name == "NO_COLOR":
            monkeypatch.delenv(name, raising=False)


@pytest.fixture
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"the shared reference material is not beside the checkout ({SHARED})")
    return SHARED
