"""The JSON Schema editors complete keys from: a stable $id, and the reference's defaults on its keys."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from reconcile.config import load_config_text

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "schemas" / "mappings.schema.json").read_text(encoding="utf-8"))
REFERENCE = (ROOT / "docs" / "mappings-reference.md").read_text(encoding="utf-8")


def node_at(path: str) -> dict[str, Any] | None:
    node: dict[str, Any] = SCHEMA
    for part in path.split("."):
        while "$ref" in node:
            node = SCHEMA["$defs"][node["$ref"].removeprefix("#/$defs/")]
        branches = [node, node.get("then") or {}, node.get("else") or {}]
        found = [b["properties"][part] for b in branches if part in b.get("properties", {})]
        if not found and part.startswith("<") and isinstance(node.get("additionalProperties"), dict):
            found = [node["additionalProperties"]]
        if not found:
            return None
        node = found[0]
    return node


def literal_defaults() -> dict[str, Any]:
    """Key path -> default, for the reference rows whose default is one literal in backticks."""
    rows = re.findall(r"^\|\s*`([A-Za-z_<][A-Za-z0-9_<>.-]*)`\s*\|[^|]*\|\s*`([^`|]+)`\s*\|", REFERENCE, re.M)
    return {path: yaml.safe_load(value) for path, value in rows}


def test_the_schema_id_is_stable_and_not_a_placeholder() -> None:
    assert SCHEMA["$id"] == "https://github.com/reconcile/reconcile/schemas/mappings.schema.json"
    assert (
        (ROOT / "mappings.yaml")
        .read_text(encoding="utf-8")
        .startswith("# yaml-language-server: $schema=schemas/mappings.schema.json")
    )


def test_every_default_of_the_reference_is_in_the_schema() -> None:
    defaults = literal_defaults()
    assert len(defaults) > 25 and defaults["notion.rate_limit"] == 3
    for path, value in defaults.items():
        node = node_at(path)
        assert node is not None, path
        assert node.get("default") == value, f"{path}: schema default {node.get('default')!r}, reference {value!r}"


def test_the_schema_defaults_are_what_the_loader_uses() -> None:
    config = load_config_text(
        "version: 1\njobs:\n  j:\n    source: {http: {url: 'https://example.org/x'}, records: r, key: k}\n"
        "    resources:\n      r:\n        database: c0c11c00-0000-4000-8000-000000000001\n"
        "        match: {property: Key, key: k}\n",
        {},
    )
    notion = SCHEMA["properties"]["notion"]["properties"]
    assert config.notion.burst == notion["burst"]["default"]
    assert config.notion.max_attempts == notion["max_attempts"]["default"]
    assert config.notion.workers == notion["workers"]["default"]
    assert config.run_log == SCHEMA["properties"]["run_log"]["default"]
    guards = node_at("jobs.<job>.guards.max_archive_count")
    assert guards is not None and config.jobs[0].guards.max_archive_count == guards["default"]
