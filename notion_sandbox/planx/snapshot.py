"""The PlanX snapshot: validation, column defaults, and the per-snapshot database Hasura's public role sees."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}
DEFAULT_TIMESTAMP = "2022-01-01T00:00:00+00:00"
FLOW_STATUSES = ("offline", "online")
EMAIL_TEMPLATES = ("application", "general")
_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")

Row = dict[str, Any]
Truth = bool | None  # SQL three-valued logic: None is NULL
Predicate = Callable[[Row], Truth]


class HasuraError(Exception):
    """An error Hasura reports in its envelope: a message, a JSON path and a code."""

    def __init__(self, message: str, path: str = "$", code: str = "validation-failed") -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.code = code

    def envelope(self) -> dict[str, Any]:
        return {"errors": [{"message": self.message, "extensions": {"path": self.path, "code": self.code}}]}


# --------------------------------------------------------------------------------------------
# Snapshot validation and defaults
# --------------------------------------------------------------------------------------------

# column -> (kind, nullable, default); kinds: str int bool uuid timestamp json enum:<values>
_TEAM_COLUMNS: dict[str, tuple[str, bool, Any]] = {
    "id": ("int", False, None),
    "slug": ("str", False, None),
    "name": ("str", False, None),
    "domain": ("str", True, None),
    "created_at": ("timestamp", False, DEFAULT_TIMESTAMP),
    "updated_at": ("timestamp", False, DEFAULT_TIMESTAMP),
}
_SETTINGS_COLUMNS: dict[str, tuple[str, bool, Any]] = {
    "id": ("int", False, None),
    "reference_code": ("str", True, None),
    "is_trial": ("bool", True, False),
    "homepage": ("str", True, None),
    "boundary_url": ("str", True, None),
    "boundary_bbox": ("json", False, {}),
    "email_reply_to_id": ("str", False, ""),
    "has_article4_schema": ("bool", False, False),
    "help_email": ("str", False, ""),
    "help_opening_hours": ("str", False, ""),
    "help_phone": ("str", False, ""),
}
_FLOW_COLUMNS: dict[str, tuple[str, bool, Any]] = {
    "id": ("uuid", False, None),
    "slug": ("str", False, None),
    "name": ("str", False, None),
    "status": ("enum:" + ",".join(FLOW_STATUSES), False, None),
    "category": ("str", True, None),
    "is_service": ("bool", False, False),
    "first_online_at": ("timestamp", True, None),
    "production_url": ("str", True, None),
    "summary": ("str", True, None),
    "description": ("str", True, None),
    "limitations": ("str", True, None),
    "can_create_from_copy": ("bool", False, False),
    "is_listed_on_lps": ("bool", False, False),
    "is_pattern": ("bool", False, False),
    "is_template": ("bool", False, False),
    "email_template": ("enum:" + ",".join(EMAIL_TEMPLATES), False, "general"),
    "creator_id": ("int", True, None),
    "templated_from": ("uuid", True, None),
    "version": ("int", True, None),
    "data": ("json", True, None),
    "settings": ("json", True, None),
    "created_at": ("timestamp", False, DEFAULT_TIMESTAMP),
    "updated_at": ("timestamp", False, DEFAULT_TIMESTAMP),
    "deleted_at": ("timestamp", True, None),
}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_uuid(value: Any) -> bool:
    return isinstance(value, str) and _UUID_RE.match(value) is not None


_KIND_CHECKS: dict[str, Callable[[Any], bool]] = {
    "str": lambda value: isinstance(value, str),
    "timestamp": lambda value: isinstance(value, str),
    "int": _is_int,
    "bool": lambda value: isinstance(value, bool),
    "uuid": _is_uuid,
    "json": lambda value: True,
}


def _kind_matches(kind: str, value: Any) -> bool:
    check = _KIND_CHECKS.get(kind)
    if check is not None:
        return check(value)
    return value in kind.removeprefix("enum:").split(",")


def _kind_description(kind: str) -> str:
    if kind.startswith("enum:"):
        return "one of " + ", ".join(repr(v) for v in kind.removeprefix("enum:").split(","))
    return {"str": "a string", "timestamp": "an ISO 8601 timestamp string", "int": "an integer",
            "bool": "a boolean", "uuid": "a UUID string", "json": "JSON"}[kind]  # fmt: skip


@lru_cache(maxsize=8)
def _defaults(columns_id: int) -> tuple[dict[str, Any], frozenset[str]]:
    columns = _COLUMN_SETS[columns_id]
    defaults = {key: default for key, (_, nullable, default) in columns.items()
                if nullable or default is not None}  # fmt: skip
    return defaults, frozenset(columns) - frozenset(defaults)


_COLUMN_SETS = {id(c): c for c in (_TEAM_COLUMNS, _SETTINGS_COLUMNS, _FLOW_COLUMNS)}


def _normalized_row(raw: Any, columns: dict[str, tuple[str, bool, Any]], where: str, extra: Iterable[str] = ()) -> Row:
    """Check one snapshot object against its columns and return it with defaults filled in."""
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where} must be an object, got {type(raw).__name__}")
    defaults, required = _defaults(id(columns))
    row: Row = dict(defaults)
    for key, value in raw.items():
        spec = columns.get(key)
        if spec is None:
            if key in extra:
                continue
            known = ", ".join(sorted([*columns, *extra]))
            raise ValueError(f"{where} has unknown key {key!r} (known keys: {known})")
        kind = spec[0]
        if value is None and spec[1]:
            row[key] = None
        elif value is None or not _kind_matches(kind, value):
            raise ValueError(f"{where}.{key} must be {_kind_description(kind)}, got {value!r}")
        else:
            row[key] = str(uuid.UUID(value)) if kind == "uuid" else value
    missing = [key for key in required if key not in raw]
    if missing:
        raise ValueError(f"{where} is missing the required key {sorted(missing)[0]!r}")
    return row


def normalized_snapshot(snapshot: Any) -> dict[str, Any]:
    """Validate a snapshot and return a copy with every default column filled in."""
    if not isinstance(snapshot, Mapping) or not isinstance(snapshot.get("teams"), list):
        raise ValueError('a PlanX snapshot must be an object with a "teams" list')
    unknown = set(snapshot) - {"teams"}
    if unknown:
        raise ValueError(f"a PlanX snapshot has only the key 'teams'; unknown: {sorted(unknown)}")
    teams: list[Row] = []
    seen_ids: set[int] = set()
    seen_slugs: set[str] = set()
    seen_flows: set[str] = set()
    for index, raw_team in enumerate(snapshot["teams"]):
        where = f"teams[{index}]"
        team = _normalized_row(raw_team, _TEAM_COLUMNS, where, extra=("flows", "team_settings"))
        _claim(seen_ids, team["id"], f"{where}.id")
        _claim(seen_slugs, team["slug"], f"{where}.slug")
        team["team_settings"] = _normalized_settings(raw_team.get("team_settings"), team, where)
        team["flows"] = _normalized_flows(raw_team.get("flows", []), where, seen_flows)
        teams.append(team)
    return {"teams": teams}


def _claim(seen: set[Any], value: Any, where: str) -> None:
    if value in seen:
        raise ValueError(f"{where} {value!r} is used twice; it must be unique")
    seen.add(value)


def _normalized_settings(raw: Any, team: Row, where: str) -> Row | None:
    if raw is None:
        return None
    settings = dict(raw) if isinstance(raw, Mapping) else raw
    if isinstance(settings, dict):
        settings.setdefault("id", team["id"])
        settings.pop("team_id", None)
    return _normalized_row(settings, _SETTINGS_COLUMNS, f"{where}.team_settings")


def _normalized_flows(raw_flows: Any, where: str, seen: set[str]) -> list[Row]:
    if not isinstance(raw_flows, list):
        raise ValueError(f"{where}.flows must be a list")
    flows = []
    for index, raw_flow in enumerate(raw_flows):
        flow_where = f"{where}.flows[{index}]"
        flow = _normalized_row(raw_flow, _FLOW_COLUMNS, flow_where, extra=("team_id",))
        _claim(seen, flow["id"], f"{flow_where}.id")
        flows.append(flow)
    return flows


# --------------------------------------------------------------------------------------------
# Tables, relationships and the per-snapshot database
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Relationship:
    target: str
    source_column: str
    target_column: str
    is_array: bool


RELATIONSHIPS: dict[tuple[str, str], Relationship] = {
    ("teams", "flows"): Relationship("flows", "id", "team_id", True),
    ("teams", "flows_aggregate"): Relationship("flows", "id", "team_id", True),
    ("teams", "team_settings"): Relationship("team_settings", "id", "team_id", False),
    ("teams", "theme"): Relationship("team_themes", "id", "team_id", False),
    ("teams", "integrations"): Relationship("team_integrations", "id", "team_id", False),
    ("flows", "team"): Relationship("teams", "team_id", "id", False),
    ("flows", "template"): Relationship("flows", "templated_from", "id", False),
    ("flows", "templated_flows"): Relationship("flows", "id", "templated_from", True),
    ("flows", "published_flows"): Relationship("published_flows", "id", "flow_id", True),
    ("team_settings", "team"): Relationship("teams", "team_id", "id", False),
    ("team_themes", "team"): Relationship("teams", "team_id", "id", False),
    ("team_integrations", "team"): Relationship("teams", "team_id", "id", False),
    ("published_flows", "flow"): Relationship("flows", "flow_id", "id", False),
}
TABLES = ("teams", "flows", "team_settings", "team_themes", "team_integrations", "published_flows")


@dataclass(frozen=True)
class Database:
    """The snapshot as Hasura's public role sees it: visible rows per table, indexed for joins."""

    tables: dict[str, list[Row]]
    indexes: dict[tuple[str, str], dict[Any, list[Row]]]

    def rows(self, table: str) -> list[Row]:
        return self.tables.get(table, [])

    def related(self, relationship: Relationship, row: Row) -> list[Row]:
        key = row.get(relationship.source_column)
        if key is None:
            return []
        return self.indexes[(relationship.target, relationship.target_column)].get(key, [])


def database_from_snapshot(snapshot: dict[str, Any]) -> Database:
    tables: dict[str, list[Row]] = {name: [] for name in TABLES}
    for team in snapshot["teams"]:
        tables["teams"].append({k: v for k, v in team.items() if k not in ("flows", "team_settings")})
        if team["team_settings"] is not None:
            tables["team_settings"].append({**team["team_settings"], "team_id": team["id"]})
        for flow in team["flows"]:
            if flow["deleted_at"] is None:
                tables["flows"].append({**flow, "team_id": team["id"]})
    keys = {(rel.target, rel.target_column) for rel in RELATIONSHIPS.values()}
    indexes = {(table, column): _index(tables[table], column) for table, column in keys}
    return Database(tables, indexes)


def _index(rows: list[Row], column: str) -> dict[Any, list[Row]]:
    index: dict[Any, list[Row]] = {}
    for row in rows:
        if row.get(column) is not None:
            index.setdefault(row[column], []).append(row)
    return index
