"""Hasura argument semantics over snapshot rows: comparison keys, `where` compilation, `order_by`, selections."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from graphql import (
    GraphQLSchema,
    get_named_type,
)

from notion_sandbox.planx.snapshot import (
    _UUID_RE,
    RELATIONSHIPS,
    Database,
    HasuraError,
    Predicate,
    Relationship,
    Row,
    Truth,
)

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
