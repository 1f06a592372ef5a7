"""The sandbox is the client's referee: it must not import anything from `reconcile`."""

from __future__ import annotations

import ast
from pathlib import Path

import notion_sandbox

SANDBOX = Path(notion_sandbox.__file__).parent


def imported_modules(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
    return names


def test_sandbox_imports_nothing_from_reconcile() -> None:
    offending = {
        f"{path.name}: {name}"
        for path in SANDBOX.rglob("*.py")
        for name in imported_modules(path)
        if name.split(".")[0] == "reconcile"
    }
    assert offending == set()
