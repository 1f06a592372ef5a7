"""docs/troubleshooting.md keeps up with the program: every error class raised and every code emitted."""

from __future__ import annotations

import re
from pathlib import Path

import reconcile.errors as errors

REPO = Path(__file__).resolve().parents[2]
PAGE = (REPO / "docs" / "troubleshooting.md").read_text(encoding="utf-8")
SOURCES = {p: p.read_text(encoding="utf-8") for p in (REPO / "reconcile").rglob("*.py")}


def raised_error_classes() -> set[str]:
    names = {name for name in dir(errors) if isinstance(getattr(errors, name), type)}
    used = set()
    for text in SOURCES.values():
        used |= set(re.findall(r"(?:raise|return|error =) (\w+Error)\(", text))
    return (names & used) - {"ReconcileError"}


def emitted_codes() -> set[str]:
    return {code for text in SOURCES.values() for code in re.findall(r'\bcode="([a-z_]+)"', text)}


def test_every_error_class_that_is_raised_has_its_section() -> None:
    classes = raised_error_classes()
    assert {"ConfigError", "SourceError", "NotionError", "GuardError", "LockError"} <= classes
    missing = sorted(c for c in classes if f"`{c}`" not in PAGE)
    assert not missing, f"docs/troubleshooting.md does not explain {missing}"


def test_every_diagnostic_and_error_code_is_explained() -> None:
    codes = emitted_codes()
    assert {"relation_target_missing", "duplicate_page_key", "guard_archive_limit", "timeout"} <= codes
    missing = sorted(c for c in codes if f"`{c}`" not in PAGE)
    assert not missing, f"docs/troubleshooting.md does not explain {missing}"


def test_every_exit_code_has_a_row() -> None:
    table = PAGE.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    assert [int(c) for c in re.findall(r"^\| (\d+) \|", table, re.M)] == [0, 1, 2, 3, 130]
