"""PlanX public GraphQL stand-in: Hasura's `POST /v1/graphql` for the role `public`, from a snapshot.

Queries are parsed, validated and executed by graphql-core against the PlanX public schema
(`data/planx_schema.graphql`); the resolvers implement Hasura's argument semantics (`where`,
`order_by`, `limit`, `offset`, `distinct_on`, aggregates) over the snapshot's rows, and every error is
answered in Hasura's envelope: HTTP 200, `{"errors": [{"message", "extensions": {"path", "code"}}]}`,
no `data` key. See docs/sandbox-sources.md for the snapshot's JSON shape and the known differences.

The snapshot (what `set_snapshot` takes and `get_snapshot` returns) nests flows and settings in teams::

    {"teams": [{"id": 7, "slug": "barnet", "name": "Barnet", "domain": null,
                "created_at": "2021-03-02T10:11:12.345678+00:00", "updated_at": "...",
                "team_settings": {"reference_code": "BNE", "is_trial": false, ...} | null,
                "flows": [{"id": "<uuid>", "slug": "...", "name": "...", "status": "online",
                           "category": "apply", "is_service": true, "first_online_at": "...",
                           "production_url": "...", "deleted_at": null, ...}]}]}

Only `id`, `slug` and `name` (teams) and `id`, `slug`, `name`, `status` (flows) are required; every
other column defaults (see `_TEAM_COLUMNS`, `_FLOW_COLUMNS`, `_SETTINGS_COLUMNS`). Flows with a
`deleted_at` are hidden, as Hasura's public select permission hides them.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLResolveInfo,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    VariableNode,
    build_schema,
    execute_sync,
    get_named_type,
    parse,
    specified_rules,
    validate,
)
from graphql.error import GraphQLSyntaxError
from graphql.language import DocumentNode, SelectionSetNode, ValueNode
from graphql.validation import NoUnusedVariablesRule

__all__ = ["PlanxGraphQL", "bundled_snapshot", "synthetic_snapshot"]

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


# --------------------------------------------------------------------------------------------
# Values: Postgres-like comparison keys
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=200_000)
def collation_key(text: str) -> tuple[str, str]:
    """Approximate en_US.UTF-8 ordering: case-insensitive first, then lowercase before uppercase."""
    return (text.casefold(), text.swapcase())


@lru_cache(maxsize=200_000)
def parse_timestamp(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _column_kind(schema: GraphQLSchema, table: str, column: str) -> str:
    return get_named_type(schema.get_type(table).fields[column].type).name  # type: ignore[union-attr]


def _equality_key(kind: str, value: Any, path: str) -> Any:
    if kind in ("timestamptz", "timestamp"):
        parsed = parse_timestamp(value) if isinstance(value, str) else None
        if parsed is None:
            type_name = "timestamp with time zone" if kind == "timestamptz" else "timestamp"
            raise HasuraError(f'invalid input syntax for type {type_name}: "{value}"', "$", "data-exception")
        return parsed
    if kind == "uuid":
        if not isinstance(value, str) or not _UUID_RE.match(value):
            raise HasuraError(f'invalid input syntax for type uuid: "{value}"', "$", "data-exception")
        return str(uuid.UUID(value))
    return value


def _order_key(kind: str, value: Any) -> Any:
    if isinstance(value, datetime):
        return value
    if kind in ("timestamptz", "timestamp"):
        return parse_timestamp(value) or value
    if isinstance(value, str):
        return collation_key(value)
    return value


# --------------------------------------------------------------------------------------------
# `where`: boolean expressions compiled to predicates
# --------------------------------------------------------------------------------------------


def _sql_and(values: Iterable[Truth]) -> Truth:
    result: Truth = True
    for value in values:
        if value is False:
            return False
        if value is None:
            result = None
    return result


def _sql_or(values: Iterable[Truth]) -> Truth:
    result: Truth = False
    for value in values:
        if value is True:
            return True
        if value is None:
            result = None
    return result


@dataclass
class Compiler:
    """Compiles Hasura arguments for one request's database."""

    schema: GraphQLSchema
    db: Database

    def where(self, table: str, exp: Mapping[str, Any], path: str) -> Predicate:
        parts = [self._condition(table, key, value, f"{path}.{key}") for key, value in exp.items()]
        parts = [part for part in parts if part is not None]
        return lambda row: _sql_and(part(row) for part in parts)

    def _condition(self, table: str, key: str, value: Any, path: str) -> Predicate | None:
        if value is None:
            return None
        if key == "_and":
            parts = [self.where(table, item, f"{path}[{i}]") for i, item in enumerate(value)]
            return lambda row: _sql_and(part(row) for part in parts)
        if key == "_or":
            parts = [self.where(table, item, f"{path}[{i}]") for i, item in enumerate(value)]
            return lambda row: _sql_or(part(row) for part in parts)
        if key == "_not":
            inner = self.where(table, value, path)
            return lambda row: _sql_not(inner(row))
        relationship = RELATIONSHIPS.get((table, key))
        if relationship is not None and key.endswith("_aggregate"):
            return self._aggregate_condition(relationship, value, path)
        if relationship is not None:
            return self._exists(relationship, self.where(relationship.target, value, path))
        return self._comparison(_column_kind(self.schema, table, key), key, value, path)

    def _exists(self, relationship: Relationship, predicate: Predicate) -> Predicate:
        related = self.db.related
        return lambda row: any(predicate(other) is True for other in related(relationship, row))

    def _aggregate_condition(self, relationship: Relationship, exp: Mapping[str, Any], path: str) -> Predicate | None:
        count_exp = exp.get("count")
        if count_exp is None:
            return None
        count_path = f"{path}.count"
        filter_exp = count_exp.get("filter") or {}
        keep = self.where(relationship.target, filter_exp, f"{count_path}.filter")
        columns = count_exp.get("arguments") or []
        distinct = bool(count_exp.get("distinct"))
        check = self._comparison("Int", "count", count_exp["predicate"], f"{count_path}.predicate")
        related = self.db.related

        def predicate(row: Row) -> Truth:
            rows = [other for other in related(relationship, row) if keep(other) is True]
            return check({"count": _count(rows, columns, distinct)})

        return predicate

    def _comparison(self, kind: str, column: str, ops: Mapping[str, Any], path: str) -> Predicate:
        tests = [_operator(kind, op, operand, f"{path}.{op}") for op, operand in ops.items()]

        def predicate(row: Row) -> Truth:
            value = row.get(column)
            return _sql_and(test(value) for test in tests)

        return predicate


def _sql_not(value: Truth) -> Truth:
    return None if value is None else not value


def _operator(kind: str, op: str, operand: Any, path: str) -> Callable[[Any], Truth]:
    if operand is None:
        raise HasuraError(f'unexpected null value for type "{_operand_type(kind, op)}"', path)
    if op == "_is_null":
        return lambda value: (value is None) is operand
    if op in ("_in", "_nin"):
        return _membership(kind, op, operand, path)
    if op in _PATTERN_OPERATORS:
        return _pattern(op, operand)
    if op in ("_eq", "_neq"):
        expected = _equality_key(kind, operand, path)
        equal = op == "_eq"
        return _null_or(lambda value: (_equality_key(kind, value, path) == expected) is equal)
    bound = _order_key(kind, _equality_key(kind, operand, path))
    compare = _ORDER_OPERATORS[op]
    return _null_or(lambda value: compare(_order_key(kind, value), bound))


def _operand_type(kind: str, op: str) -> str:
    if op == "_is_null":
        return "Boolean"
    return f"[{kind}!]" if op in ("_in", "_nin") else kind


def _null_or(test: Callable[[Any], bool]) -> Callable[[Any], Truth]:
    return lambda value: None if value is None else test(value)


def _membership(kind: str, op: str, operand: list[Any], path: str) -> Callable[[Any], Truth]:
    keys = {_equality_key(kind, item, f"{path}[{i}]") for i, item in enumerate(operand)}
    if not keys:
        # `= ANY('{}')` is false and `<> ALL('{}')` is true, even for NULL
        return lambda value: op == "_nin"
    inside = op == "_in"
    return _null_or(lambda value: (_equality_key(kind, value, path) in keys) is inside)


_ORDER_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "_gt": lambda a, b: a > b,
    "_gte": lambda a, b: a >= b,
    "_lt": lambda a, b: a < b,
    "_lte": lambda a, b: a <= b,
}
_PATTERN_OPERATORS = {
    "_like", "_nlike", "_ilike", "_nilike", "_similar", "_nsimilar",
    "_regex", "_nregex", "_iregex", "_niregex",
}  # fmt: skip


def _pattern(op: str, pattern: str) -> Callable[[Any], Truth]:
    negate = op.startswith("_n")
    base = op.removeprefix("_n").removeprefix("_")
    ignore_case = base.startswith("i")
    flags = re.IGNORECASE if ignore_case else 0
    if base in ("like", "ilike"):
        regex = re.compile(like_to_regex(pattern), re.DOTALL | flags)
        matches = regex.fullmatch
    elif base == "similar":
        matches = re.compile(similar_to_regex(pattern), re.DOTALL).fullmatch
    else:
        matches = re.compile(pattern, flags).search
    return _null_or(lambda value: (matches(value) is not None) is not negate)


def like_to_regex(pattern: str) -> str:
    """Translate a SQL LIKE pattern (`%`, `_`, backslash escapes) to a Python regex."""
    out: list[str] = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            out.append(re.escape(next(chars, "\\")))
        elif char == "%":
            out.append(".*")
        elif char == "_":
            out.append(".")
        else:
            out.append(re.escape(char))
    return "".join(out)


def similar_to_regex(pattern: str) -> str:
    """Translate SQL SIMILAR TO: LIKE wildcards plus regex alternation and grouping."""
    return "".join({"%": ".*", "_": ".", ".": r"\."}.get(char, char) for char in pattern)


def _count(rows: list[Row], columns: list[str], distinct: bool) -> int:
    if not columns:
        return len({id(row) for row in rows}) if distinct else len(rows)
    values = [tuple(row.get(c) for c in columns) for row in rows]
    values = [v for v in values if any(item is not None for item in v)]
    return len(set(map(_hashable, values))) if distinct else len(values)


def _hashable(value: Any) -> Any:
    return json.dumps(value, sort_keys=True, default=str)


# --------------------------------------------------------------------------------------------
# `order_by`, `distinct_on`, `limit`, `offset`
# --------------------------------------------------------------------------------------------

SortKey = tuple[Callable[[Row], Any], bool, bool]  # key, descending, nulls first
_DIRECTIONS = {
    "asc": (False, False),
    "asc_nulls_first": (False, True),
    "asc_nulls_last": (False, False),
    "desc": (True, True),
    "desc_nulls_first": (True, True),
    "desc_nulls_last": (True, False),
}


def sort_keys(compiler: Compiler, table: str, order_by: list[Mapping[str, Any]]) -> list[SortKey]:
    keys: list[SortKey] = []
    for item in order_by:
        for column, direction in item.items():
            if direction is not None:
                keys.extend(_column_sort_keys(compiler, table, column, direction))
    return keys


def _column_sort_keys(compiler: Compiler, table: str, column: str, direction: Any) -> list[SortKey]:
    relationship = RELATIONSHIPS.get((table, column))
    if relationship is None:
        kind = _column_kind(compiler.schema, table, column)
        return [(lambda row: _order_key_or_none(kind, row.get(column)), *_DIRECTIONS[direction])]
    related = compiler.db.related
    if column.endswith("_aggregate"):
        return [
            (lambda row: len(related(relationship, row)), *_DIRECTIONS[aggregate_direction])
            for name, aggregate_direction in direction.items()
            if name == "count" and aggregate_direction is not None
        ]
    nested = sort_keys(compiler, relationship.target, [direction])
    return [(_through(relationship, related, key), desc, first) for key, desc, first in nested]


def _through(
    relationship: Relationship, related: Callable[[Relationship, Row], list[Row]], key: Callable
) -> Callable[[Row], Any]:
    def through(row: Row) -> Any:
        others = related(relationship, row)
        return key(others[0]) if others else None

    return through


def _order_key_or_none(kind: str, value: Any) -> Any:
    return None if value is None else _order_key(kind, value)


def sorted_rows(rows: list[Row], keys: list[SortKey]) -> list[Row]:
    """Postgres ORDER BY: asc puts NULLs last, desc puts them first, unless told otherwise."""
    result = list(rows)
    for key, descending, nulls_first in reversed(keys):
        null_rank = int(nulls_first) if descending else int(not nulls_first)

        def ranked(row: Row, key: Callable = key, null_rank: int = null_rank) -> tuple:
            value = key(row)
            return (null_rank,) if value is None else (1 - null_rank, value)

        result.sort(key=ranked, reverse=descending)
    return result


@dataclass(frozen=True)
class Selection:
    """The compiled arguments of one list field."""

    predicate: Predicate | None
    keys: list[SortKey]
    distinct_on: list[str]
    offset: int
    limit: int | None

    def apply(self, rows: list[Row]) -> list[Row]:
        if self.predicate is not None:
            predicate = self.predicate
            rows = [row for row in rows if predicate(row) is True]
        if self.keys:
            rows = sorted_rows(rows, self.keys)
        if self.distinct_on:
            rows = _distinct(rows, self.distinct_on)
        end = None if self.limit is None else self.offset + self.limit
        return rows[self.offset : end]


def _distinct(rows: list[Row], columns: list[str]) -> list[Row]:
    seen: set[Any] = set()
    kept = []
    for row in rows:
        marker = _hashable([row.get(c) for c in columns])
        if marker not in seen:
            seen.add(marker)
            kept.append(row)
    return kept


def compile_selection(compiler: Compiler, table: str, args: Mapping[str, Any], path: str) -> Selection:
    where = args.get("where")
    predicate = compiler.where(table, where, f"{path}.args.where") if where else None
    order_by = args.get("order_by") or []
    keys = sort_keys(compiler, table, order_by)
    distinct_on = list(args.get("distinct_on") or [])
    if distinct_on and order_by:
        _check_distinct_matches_order(distinct_on, order_by, f"{path}.args")
    return Selection(
        predicate,
        keys,
        distinct_on,
        _non_negative(args.get("offset"), f"{path}.args.offset") or 0,
        _non_negative(args.get("limit"), f"{path}.args.limit"),
    )


def _check_distinct_matches_order(distinct_on: list[str], order_by: list[Mapping[str, Any]], path: str) -> None:
    ordered = [column for item in order_by for column, value in item.items() if value is not None]
    if set(ordered[: len(distinct_on)]) != set(distinct_on):
        raise HasuraError('"distinct_on" columns must match initial "order_by" columns', path)


def _non_negative(value: int | None, path: str) -> int | None:
    if value is not None and value < 0:
        raise HasuraError("unexpected negative value", path)
    return value


# --------------------------------------------------------------------------------------------
# Resolvers
# --------------------------------------------------------------------------------------------


@dataclass
class RequestContext:
    """What the resolvers of one request share: the database, AST paths and compiled arguments."""

    compiler: Compiler
    paths: dict[Any, str]
    selections: dict[int, Selection] = field(default_factory=dict)

    def selection(self, table: str, info: GraphQLResolveInfo, args: Mapping[str, Any]) -> Selection:
        # arguments depend only on the AST node and the request's variables, so compile once per node
        node = info.field_nodes[0]
        cached = self.selections.get(id(node))
        if cached is None:
            path = self.paths.get(id(node), "$")
            cached = compile_selection(self.compiler, table, args, path)
            self.selections[id(node)] = cached
        return cached


def _root_list(table: str) -> Callable[..., list[Row]]:
    def resolve(_source: Any, info: GraphQLResolveInfo, **args: Any) -> list[Row]:
        context: RequestContext = info.context
        return context.selection(table, info, args).apply(context.compiler.db.rows(table))

    return resolve


def _root_aggregate(table: str) -> Callable[..., dict[str, Any]]:
    rows = _root_list(table)
    return lambda source, info, **args: {"__rows": rows(source, info, **args)}


def _root_by_pk(table: str, kind: str) -> Callable[..., Row | None]:
    def resolve(_source: Any, info: GraphQLResolveInfo, **args: Any) -> Row | None:
        context: RequestContext = info.context
        path = context.paths.get(id(info.field_nodes[0]), "$") + ".args.id"
        key = _equality_key(kind, args["id"], path)
        matches = context.compiler.db.indexes[(table, "id")].get(key, [])
        return matches[0] if matches else None

    return resolve


def _relationship_resolver(relationship: Relationship, aggregate: bool) -> Callable[..., Any]:
    def resolve(source: Row, info: GraphQLResolveInfo, **args: Any) -> Any:
        context: RequestContext = info.context
        rows = context.compiler.db.related(relationship, source)
        if not relationship.is_array:
            return rows[0] if rows else None
        selected = context.selection(relationship.target, info, args).apply(rows)
        return {"__rows": selected} if aggregate else selected

    return resolve


def _aggregate_count(source: dict[str, Any], _info: Any, **args: Any) -> int:
    return _count(source["__rows"], list(args.get("columns") or []), bool(args.get("distinct")))


@lru_cache(maxsize=1)
def planx_schema() -> GraphQLSchema:
    """The PlanX public schema with this module's resolvers attached."""
    sdl = resources.files("notion_sandbox").joinpath("data/planx_schema.graphql").read_text()
    schema = build_schema(sdl)
    root = schema.query_type
    assert root is not None
    for table in TABLES:
        root.fields[table].resolve = _root_list(table)
    root.fields["flows_aggregate"].resolve = _root_aggregate("flows")
    root.fields["teams_by_pk"].resolve = _root_by_pk("teams", "Int")
    root.fields["flows_by_pk"].resolve = _root_by_pk("flows", "uuid")
    for (table, name), relationship in RELATIONSHIPS.items():
        fields = schema.get_type(table).fields  # type: ignore[union-attr]
        fields[name].resolve = _relationship_resolver(relationship, name.endswith("_aggregate"))
    aggregate = schema.get_type("flows_aggregate").fields  # type: ignore[union-attr]
    aggregate["nodes"].resolve = lambda source, _info: source["__rows"]
    aggregate["aggregate"].resolve = lambda source, _info: source
    schema.get_type("flows_aggregate_fields").fields["count"].resolve = _aggregate_count  # type: ignore[union-attr]
    return schema


# --------------------------------------------------------------------------------------------
# Hasura-style error paths and messages
# --------------------------------------------------------------------------------------------


def node_paths(document: DocumentNode) -> dict[Any, str]:
    """Hasura's JSON path (`$.selectionSet.teams.args.where...`) of every field, argument and value."""
    paths: dict[Any, str] = {}
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode | FragmentDefinitionNode):
            _walk_selections(definition.selection_set, "$", paths)
    return paths


def _walk_selections(selection_set: SelectionSetNode | None, prefix: str, paths: dict) -> None:
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FieldNode):
            path = f"{prefix}.selectionSet.{selection.name.value}"
            paths[id(selection)] = path
            for argument in selection.arguments or ():
                paths[id(argument)] = path
                _walk_value(argument.value, f"{path}.args.{argument.name.value}", paths)
            _walk_selections(selection.selection_set, path, paths)
        elif isinstance(selection, InlineFragmentNode):
            _walk_selections(selection.selection_set, prefix, paths)


def _walk_value(node: ValueNode, path: str, paths: dict) -> None:
    paths[id(node)] = path
    if isinstance(node, ObjectValueNode):
        for object_field in node.fields:
            child = f"{path}.{object_field.name.value}"
            paths[id(object_field)] = child
            _walk_value(object_field.value, child, paths)
    elif isinstance(node, ListValueNode):
        for index, item in enumerate(node.values):
            _walk_value(item, f"{path}[{index}]", paths)
    elif isinstance(node, VariableNode):
        paths.setdefault(f"${node.name.value}", path)


_SCALAR_WORDS = {"Int": "32-bit integer", "Float": "float", "String": "string", "Boolean": "boolean"}


def _enum_values(schema: GraphQLSchema, enum_name: str) -> str:
    values = list(schema.get_type(enum_name).values)  # type: ignore[union-attr]
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


def _found(node: Any) -> str:
    return {
        "string_value": "a string",
        "int_value": "a number",
        "float_value": "a number",
        "boolean_value": "a boolean",
        "object_value": "an object",
        "list_value": "a list",
        "enum_value": "an enum value",
    }.get(getattr(node, "kind", ""), "a value")


def _validation_rewrites(schema: GraphQLSchema) -> list[tuple[re.Pattern[str], Callable]]:
    """graphql-core's validation messages, rewritten into Hasura's wording."""
    return [
        (re.compile(r"^Cannot query field '(\w+)' on type '(\w+)'\."),
         lambda m, node: f"field '{m[1]}' not found in type: '{m[2]}'"),
        (re.compile(r"^Field '(\w+)' is not defined by type '(\w+)'\."),
         lambda m, node: f"field '{m[1]}' not found in type: '{m[2]}'"),
        (re.compile(r"^Expected value of type '(\w+)' not to include unknown field '(\w+)'"),
         lambda m, node: f"field '{m[2]}' not found in type: '{m[1]}'"),
        (re.compile(r"^Unknown argument '(\w+)' on field '\w+\.(\w+)'\."),
         lambda m, node: f"'{m[2]}' has no argument named '{m[1]}'"),
        (re.compile(r"^Enum '(\w+)' cannot represent non-enum value"),
         lambda m, node: f'expected an enum value for type "{m[1]}", but found {_found(node)}'),
        (re.compile(r"^Value '(\w+)' does not exist in '(\w+)' enum\."),
         lambda m, node: f"expected one of the values {_enum_values(schema, m[2])} for type "
                         f"'{m[2]}', but found '{m[1]}'"),
        (re.compile(r"^(Int|Float|String|Boolean) cannot represent"),
         lambda m, node: f'expected a {_SCALAR_WORDS[m[1]]} for type "{m[1]}", but found {_found(node)}'),
        (re.compile(r"^Field '\w+' of type '\W*(\w+)\W*' must have a selection of subfields"),
         lambda m, node: f'missing selection set for "{m[1]}"'),
        (re.compile(r"^Argument '[\w.]+\((\w+):\)' of type '.+' is required"),
         lambda m, node: f"missing required field '{m[1]}'"),
        (re.compile(r"^Field '\w+\.(\w+)' of required type '.+' was not provided"),
         lambda m, node: f"missing required field '{m[1]}'"),
        (re.compile(r"^Variable '\$(\w+)' is not defined"),
         lambda m, node: f"unbound variable \"{m[1]}\""),
        (re.compile(r"^(Schema is not configured to execute mutation|The mutation operation)"),
         lambda m, node: "no mutations exist"),
    ]  # fmt: skip


def hasura_error_from_validation(error: GraphQLError, schema: GraphQLSchema, paths: dict[Any, str]) -> HasuraError:
    node = error.nodes[0] if error.nodes else None
    path = paths.get(id(node), "$") if node is not None else "$"
    for pattern, rewrite in _validation_rewrites(schema):
        match = pattern.match(error.message)
        if match:
            return HasuraError(rewrite(match, node), path)
    return HasuraError(error.message, path)


def hasura_error_from_variable(error: GraphQLError, schema: GraphQLSchema, paths: dict[Any, str]) -> HasuraError:
    match = re.match(r"^Variable '\$(\w+)' (?:got|has) invalid value(?:.*?)[;:] (.*)$", error.message, re.S)
    if not match:
        return HasuraError(error.message, "$")
    name, detail = match[1], match[2]
    path = paths.get(f"${name}", "$")
    enum = re.match(r"^Value '?(.*?)'? does not exist in '(\w+)' enum", detail)
    if enum:
        values = _enum_values(schema, enum[2])
        return HasuraError(
            f"expected one of the values {values} for type '{enum[2]}', but found '{enum[1]}'",
            path,
        )
    return HasuraError(detail.rstrip("."), path)


# --------------------------------------------------------------------------------------------
# The request: JSON body -> Hasura answer
# --------------------------------------------------------------------------------------------

_JSON_KINDS = {dict: "Object", list: "Array", str: "String", bool: "Boolean", type(None): "Null"}


def _json_kind(value: Any) -> str:
    return _JSON_KINDS.get(type(value), "Number")


@dataclass(frozen=True)
class GraphQLRequest:
    query: str
    variables: dict[str, Any]
    operation_name: str | None


def parse_request(body: bytes) -> GraphQLRequest:
    """Decode the POST body the way Hasura does, raising its `invalid-json`/`parse-failed` errors."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise HasuraError("Error in $: Failed reading: not a valid json value", "$", "invalid-json") from None
    if not isinstance(payload, dict):
        raise HasuraError(
            f"Error in $: expected Object, but encountered {_json_kind(payload)}",
            "$",
            "parse-failed",
        )
    if "query" not in payload:
        raise HasuraError('Error in $: key "query" not found', "$", "parse-failed")
    query, variables, name = payload["query"], payload.get("variables"), payload.get("operationName")
    for key, value, wanted in (
        ("query", query, str),
        ("variables", variables, dict | None),
        ("operationName", name, str | None),
    ):
        if not isinstance(value, wanted):
            expected = "String" if key != "variables" else "Object"
            raise HasuraError(
                f"Error in $.{key}: expected {expected}, but encountered {_json_kind(value)}",
                "$",
                "parse-failed",
            )
    return GraphQLRequest(query, variables or {}, name)


def _selected_operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        if len(operations) != 1:
            raise HasuraError(
                "exactly one operation has to be present in the document when operationName is not specified"
            )
        return operations[0]
    for operation in operations:
        if operation.name is not None and operation.name.value == name:
            return operation
    raise HasuraError(f'no such operation found in the document: "{name}"')


def _check_variables(operation: OperationDefinitionNode, variables: Mapping[str, Any]) -> None:
    declared = {d.variable.name.value for d in operation.variable_definitions or ()}
    unexpected = sorted(set(variables) - declared)
    if unexpected:
        raise HasuraError(f"unexpected variables in variableValues: {', '.join(unexpected)}")


_RULES = tuple(rule for rule in specified_rules if rule is not NoUnusedVariablesRule)


def execute_request(schema: GraphQLSchema, db: Database, request: GraphQLRequest) -> dict[str, Any]:
    """Run one GraphQL request; Hasura answers either `data` or a single error, never both."""
    try:
        document = parse(request.query)
    except GraphQLSyntaxError:
        raise HasuraError("not a valid graphql query", "$.query") from None
    paths = node_paths(document)
    errors = validate(schema, document, _RULES)
    if errors:
        raise hasura_error_from_validation(errors[0], schema, paths)
    operation = _selected_operation(document, request.operation_name)
    _check_variables(operation, request.variables)
    context = RequestContext(Compiler(schema, db), paths)
    result = execute_sync(
        schema,
        document,
        variable_values=request.variables,
        operation_name=request.operation_name,
        context_value=context,
    )
    if result.errors:
        raise _hasura_error_from_execution(result.errors[0], schema, paths)
    return {"data": result.data}


def _hasura_error_from_execution(error: GraphQLError, schema: GraphQLSchema, paths: dict[Any, str]) -> HasuraError:
    if isinstance(error.original_error, HasuraError):
        return error.original_error
    if error.message.startswith("Variable '$"):
        return hasura_error_from_variable(error, schema, paths)
    return HasuraError(error.message, "$", "unexpected")


# --------------------------------------------------------------------------------------------
# Public interface
# --------------------------------------------------------------------------------------------


def bundled_snapshot() -> dict[str, Any]:
    """A fresh copy of the realistic snapshot shipped with the package."""
    path = resources.files("notion_sandbox").joinpath("data/planx_snapshot.json")
    return json.loads(path.read_text(encoding="utf-8"))


class PlanxGraphQL:
    """The PlanX GraphQL endpoint: `handle(body)` answers one `POST /v1/graphql`. Thread-safe."""

    def __init__(self, snapshot: dict | None = None) -> None:
        self._lock = threading.Lock()
        self._schema = planx_schema()
        self.set_snapshot(bundled_snapshot() if snapshot is None else snapshot)

    def handle(self, body: bytes) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            db = self._db
        try:
            status, payload = 200, execute_request(self._schema, db, parse_request(body))
        except HasuraError as error:
            status = 400 if error.code in ("invalid-json", "parse-failed") else 200
            payload = error.envelope()
        text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        return status, dict(JSON_HEADERS), text.encode("utf-8")

    def get_snapshot(self) -> dict:
        with self._lock:
            snapshot = self._snapshot
        # the stored snapshot is never mutated; a JSON round trip is the cheapest deep copy
        return json.loads(json.dumps(snapshot))

    def set_snapshot(self, snapshot: dict) -> None:
        normalized = normalized_snapshot(snapshot)
        db = database_from_snapshot(normalized)
        with self._lock:
            self._db = db
            self._snapshot = normalized


def synthetic_snapshot(team_count: int, flows_per_team: int = 5) -> dict[str, Any]:
    """A large deterministic snapshot for benchmarks: teams `council-00001`... with mixed flows."""
    teams = []
    for number in range(1, team_count + 1):
        slug = f"council-{number:05d}"
        flows = [_synthetic_flow(number, index, slug) for index in range(flows_per_team)]
        teams.append(
            {
                "id": number,
                "slug": slug,
                "name": f"Council {number}",
                "team_settings": {"reference_code": f"C{number:05d}", "is_trial": number % 7 == 0},
                "flows": flows,
            }
        )
    return {"teams": teams}


def _synthetic_flow(team_number: int, index: int, team_slug: str) -> dict[str, Any]:
    online = (team_number + index) % 3 != 0
    slug = f"service-{index + 1}"
    return {
        "id": f"{team_number:08x}-0000-4000-8000-{index:012x}",
        "slug": slug,
        "name": f"Service {index + 1}",
        "status": "online" if online else "offline",
        "category": ("apply", "guidance", "notify")[index % 3],
        "is_service": True,
        "first_online_at": "2024-01-02T03:04:05.678901" if online else None,
        "production_url": f"https://editor.planx.uk/{team_slug}/{slug}/published" if online else None,
    }
