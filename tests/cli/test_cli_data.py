"""The embedded default config is the repository's mappings.yaml."""

from __future__ import annotations

from pathlib import Path

from reconcile.commands.demo import embedded_mappings_text

REPO = Path(__file__).resolve().parents[2]


def test_the_packaged_mappings_are_the_repository_file() -> None:
    assert embedded_mappings_text() == (REPO / "mappings.yaml").read_text(encoding="utf-8")
