"""docs/mappings-reference.md and schemas/mappings.schema.json describe the same keys."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "schemas" / "mappings.schema.json"
REFERENCE = ROOT / "docs" / "mappings-reference.md"


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        name = node["$ref"].removeprefix("#/$defs/")
        node = {**schema["$defs"][name], **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def schema_paths(schema: dict[str, Any], node: dict[str, Any], prefix: str = "") -> Iterator[str]:
    """Every key path a config may hold, with <placeholders> for names the user chooses."""
    node = resolve(schema, node)
    for branch in ("then", "else"):
        if isinstance(node.get(branch), dict):
            yield from schema_paths(schema, node[branch], prefix)
    for name, child in node.get("properties", {}).items():
        path = f"{prefix}.{name}" if prefix else name
        yield path
        yield from schema_paths(schema, child, path)
    extra = node.get("additionalProperties")
    if isinstance(extra, dict) and "x-key" in node:
        path = f"{prefix}.{node['x-key']}"
        yield path
        yield from schema_paths(schema, extra, path)


def documented_paths(text: str) -> set[str]:
    """The key paths in the first column of the reference's tables (not the function table's)."""
    return set(re.findall(r"^\|\s*`([A-Za-z_<][A-Za-z0-9_<>.-]*)`\s*\|", text, flags=re.MULTILINE))


def test_every_schema_key_is_documented_and_every_documented_key_exists() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    in_schema = set(schema_paths(schema, schema))
    in_docs = documented_paths(REFERENCE.read_text(encoding="utf-8"))
    assert sorted(in_schema - in_docs) == [], "keys missing from docs/mappings-reference.md"
    assert sorted(in_docs - in_schema) == [], "documented keys that the schema does not have"


def test_the_walker_sees_nested_and_placeholder_keys() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    paths = set(schema_paths(schema, schema))
    assert "jobs.<job>.resources.<resource>.properties.<property>.relation" in paths
    assert "jobs.<job>.resources.<resource>.on_missing.mark.<property>" in paths
    assert "jobs.<job>.source.computed.<name>.rank.group_by" in paths
    assert "notion.rate_limit" in paths
