"""Data source query: filter compilation (with Notion's validation messages), sorting."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from notion_sandbox.dates import valid_date
from notion_sandbox.errors import UNDEFINED, body_invalid, too_long, validation
from notion_sandbox.ids import normalize_id, parse_iso
from notion_sandbox.store import Store
from notion_sandbox.text import plain_text
from notion_sandbox.values import EMPTY_VALUES

Predicate = Callable[[dict[str, Any]], bool]

TEXT_OPS = ("equals", "does_not_equal", "contains", "does_not_contain", "starts_with", "ends_with")
NUMBER_OPS = (
    "equals",
    "does_not_equal",
    "greater_than",
    "less_than",
    "greater_than_or_equal_to",
    "less_than_or_equal_to",
)
DATE_OPS = ("equals", "before", "after", "on_or_before", "on_or_after")
EMPTY_OPS = ("is_empty", "is_not_empty")
TEXT_TYPES = ("title", "rich_text", "url", "email", "phone_number")
FILTER_TYPES = (
    *TEXT_TYPES,
    "number",
    "checkbox",
    "date",
    "select",
    "status",
    "multi_select",
    "relation",
    "people",
    "created_time",
    "last_edited_time",
    "files",
    "formula",
    "rollup",
    "unique_id",
    "created_by",
    "last_edited_by",
    "verification",
)
TIMESTAMPS = ("created_time", "last_edited_time")
MAX_DEPTH = 2
MAX_ITEMS = 100


def compile_filter(
    store: Store, ds: dict[str, Any], given: Any, path: str = "body.filter", depth: int = 0
) -> Predicate:
    if not isinstance(given, dict):
        raise body_invalid(path, "an object", given)
    for group in ("and", "or"):
        if group in given:
            return compile_group(store, ds, group, given[group], f"{path}.{group}", depth)
    if "timestamp" in given:
        return compile_timestamp(given, path)
    if "property" in given:
        return compile_property(store, ds, given, path)
    raise body_invalid(f"{path}.property", "defined", UNDEFINED)


def compile_group(store: Store, ds: dict[str, Any], group: str, items: Any, path: str, depth: int) -> Predicate:
    if depth >= MAX_DEPTH:
        raise body_invalid(path, "not present", items)
    if not isinstance(items, list):
        raise body_invalid(path, "an array", items)
    if len(items) > MAX_ITEMS:
        raise too_long(path, MAX_ITEMS, len(items))
    parts = [compile_filter(store, ds, item, f"{path}[{i}]", depth + 1) for i, item in enumerate(items)]
    if group == "and":
        return lambda page: all(p(page) for p in parts)
    return lambda page: any(p(page) for p in parts)


def compile_timestamp(given: dict[str, Any], path: str) -> Predicate:
    stamp = given["timestamp"]
    if stamp not in TIMESTAMPS:
        raise body_invalid(f"{path}.timestamp", '`"created_time"` or `"last_edited_time"`', stamp)
    condition = given.get(stamp, UNDEFINED)
    test = date_condition(condition, f"{path}.{stamp}")
    return lambda page: test(page[stamp])


def compile_property(store: Store, ds: dict[str, Any], given: dict[str, Any], path: str) -> Predicate:
    key = given["property"]
    prop = store.find_property(ds, key) if isinstance(key, str) else None
    if prop is None:
        raise validation(f"Could not find property with name or id: {key}")
    kind = next((k for k in given if k in FILTER_TYPES), None)
    if kind is None:
        raise body_invalid(f"{path}.{prop['type']}", "defined", UNDEFINED)
    if kind != prop["type"]:
        raise validation(
            "The property type in the database does not match the property type of the filter provided: "
            f"database property {prop['type']} does not match filter {kind}"
        )
    condition = given[kind]
    cpath = f"{path}.{kind}"
    if kind in TIMESTAMPS:
        test = date_condition(condition, cpath)
        return lambda page: test(page[kind])
    read = value_reader(prop)
    test = CONDITIONS.get(kind, unsupported)(condition, cpath)
    return lambda page: test(read(page))


def value_reader(prop: dict[str, Any]) -> Callable[[dict[str, Any]], Any]:
    empty = EMPTY_VALUES.get(prop["type"])
    return lambda page: page["props"].get(prop["id"], empty)


def one_operator(condition: Any, path: str, allowed: tuple[str, ...]) -> tuple[str, Any]:
    if not isinstance(condition, dict):
        raise body_invalid(path, "an object", condition)
    if len(condition) != 1:
        raise validation(f"body failed validation: {path} should have exactly one condition.")
    op, value = next(iter(condition.items()))
    if op not in allowed:
        raise body_invalid(f"{path}.{op}", "not present", value)
    if op in EMPTY_OPS and value is not True:
        raise body_invalid(f"{path}.{op}", "`true`", value)
    return op, value


def text_condition(condition: Any, path: str) -> Callable[[Any], bool]:
    op, wanted = one_operator(condition, path, TEXT_OPS + EMPTY_OPS)
    if op not in EMPTY_OPS and not isinstance(wanted, str):
        raise body_invalid(f"{path}.{op}", "a string", wanted)

    def test(value: Any) -> bool:
        text = plain_text(value) if isinstance(value, list) else (value or "")
        return text_matches(op, text, wanted)

    return test


def text_matches(op: str, text: str, wanted: Any) -> bool:
    if op == "is_empty":
        return text == ""
    if op == "is_not_empty":
        return text != ""
    if op == "equals":
        return text == wanted
    if op == "does_not_equal":
        return text != wanted
    folded, needle = text.casefold(), wanted.casefold()
    if op == "contains":
        return needle in folded
    if op == "does_not_contain":
        return needle not in folded
    if op == "starts_with":
        return folded.startswith(needle)
    return folded.endswith(needle)


def number_condition(condition: Any, path: str) -> Callable[[Any], bool]:
    op, wanted = one_operator(condition, path, NUMBER_OPS + EMPTY_OPS)
    if op not in EMPTY_OPS and (isinstance(wanted, bool) or not isinstance(wanted, int | float)):
        raise body_invalid(f"{path}.{op}", "a number", wanted)
    compare = {
        "equals": lambda v: v == wanted,
        "does_not_equal": lambda v: v != wanted,
        "greater_than": lambda v: v > wanted,
        "less_than": lambda v: v < wanted,
        "greater_than_or_equal_to": lambda v: v >= wanted,
        "less_than_or_equal_to": lambda v: v <= wanted,
    }

    def test(value: Any) -> bool:
        if op in EMPTY_OPS:
            return (value is None) == (op == "is_empty")
        if value is None:
            return op == "does_not_equal"
        return compare[op](value)

    return test


def checkbox_condition(condition: Any, path: str) -> Callable[[Any], bool]:
    op, wanted = one_operator(condition, path, ("equals", "does_not_equal"))
    if not isinstance(wanted, bool):
        raise body_invalid(f"{path}.{op}", "a boolean", wanted)
    return lambda value: (bool(value) == wanted) == (op == "equals")


def date_condition(condition: Any, path: str) -> Callable[[Any], bool]:
    """Date and timestamp conditions. A date-only operand compares calendar dates (UTC); else instants."""
    op, wanted = one_operator(condition, path, DATE_OPS + EMPTY_OPS)
    if op in EMPTY_OPS:
        return lambda value: (date_start(value) is None) == (op == "is_empty")
    if not isinstance(wanted, str) or not valid_date(wanted):
        raise body_invalid(f"{path}.{op}", "a valid ISO 8601 date string", wanted)
    date_only = len(wanted) == 10
    operand = as_moment(wanted, date_only)

    def test(value: Any) -> bool:
        start = date_start(value)
        if start is None:
            return False
        moment = as_moment(start, date_only)
        return {
            "equals": moment == operand,
            "before": moment < operand,
            "after": moment > operand,
            "on_or_before": moment <= operand,
            "on_or_after": moment >= operand,
        }[op]

    return test


def date_start(value: Any) -> str | None:
    if isinstance(value, dict):
        return value.get("start")
    return value if isinstance(value, str) else None


def as_moment(text: str, date_only: bool) -> Any:
    if len(text) == 10:
        day = date.fromisoformat(text)
        return day if date_only else datetime(day.year, day.month, day.day, tzinfo=UTC)
    moment = parse_iso(text).astimezone(UTC)
    return moment.date() if date_only else moment


def option_condition(condition: Any, path: str) -> Callable[[Any], bool]:
    op, wanted = one_operator(condition, path, ("equals", "does_not_equal", *EMPTY_OPS))
    if op not in EMPTY_OPS and not isinstance(wanted, str):
        raise body_invalid(f"{path}.{op}", "a string", wanted)

    def test(value: Any) -> bool:
        name = value["name"] if value else None
        if op in EMPTY_OPS:
            return (name is None) == (op == "is_empty")
        return (name == wanted) == (op == "equals")

    return test


def multi_select_condition(condition: Any, path: str) -> Callable[[Any], bool]:
    op, wanted = one_operator(condition, path, ("contains", "does_not_contain", *EMPTY_OPS))
    if op not in EMPTY_OPS and not isinstance(wanted, str):
        raise body_invalid(f"{path}.{op}", "a string", wanted)

    def test(value: Any) -> bool:
        names = [o["name"] for o in value or []]
        if op in EMPTY_OPS:
            return (not names) == (op == "is_empty")
        return (wanted in names) == (op == "contains")

    return test


def reference_condition(condition: Any, path: str) -> Callable[[Any], bool]:
    op, wanted = one_operator(condition, path, ("contains", "does_not_contain", *EMPTY_OPS))
    target = None
    if op not in EMPTY_OPS:
        target = normalize_id(wanted)
        if target is None:
            raise body_invalid(f"{path}.{op}", "a valid uuid", wanted)

    def test(value: Any) -> bool:
        refs = value or []
        if op in EMPTY_OPS:
            return (not refs) == (op == "is_empty")
        return (target in refs) == (op == "contains")

    return test


def unsupported(condition: Any, path: str) -> Callable[[Any], bool]:
    raise validation(f"body failed validation: {path} is not supported by the sandbox.")


CONDITIONS: dict[str, Callable[[Any, str], Callable[[Any], bool]]] = {
    **{t: text_condition for t in TEXT_TYPES},
    "number": number_condition,
    "checkbox": checkbox_condition,
    "date": date_condition,
    "select": option_condition,
    "status": option_condition,
    "multi_select": multi_select_condition,
    "relation": reference_condition,
    "people": reference_condition,
}

# ---------------------------------------------------------------- sorts


def sort_pages(store: Store, ds: dict[str, Any], pages: list[dict[str, Any]], sorts: Any) -> list[dict[str, Any]]:
    """Apply sorts (first sort most significant); empty values go last in both directions."""
    if sorts is None:
        return pages
    if not isinstance(sorts, list):
        raise body_invalid("body.sorts", "an array", sorts)
    if len(sorts) > MAX_ITEMS:
        raise too_long("body.sorts", MAX_ITEMS, len(sorts))
    keys = [sort_key(store, ds, s, f"body.sorts[{i}]") for i, s in enumerate(sorts)]
    ordered = list(pages)
    for key, descending in reversed(keys):
        present = [p for p in ordered if key(p) is not None]
        empty = [p for p in ordered if key(p) is None]
        ordered = sorted(present, key=key, reverse=descending) + empty
    return ordered


def sort_key(store: Store, ds: dict[str, Any], given: Any, path: str) -> tuple[Callable[[Any], Any], bool]:
    if not isinstance(given, dict):
        raise body_invalid(path, "an object", given)
    direction = given.get("direction", UNDEFINED)
    if direction not in ("ascending", "descending"):
        raise body_invalid(f"{path}.direction", '`"ascending"` or `"descending"`', direction)
    descending = direction == "descending"
    if "timestamp" in given:
        stamp = given["timestamp"]
        if stamp not in TIMESTAMPS:
            raise body_invalid(f"{path}.timestamp", '`"created_time"` or `"last_edited_time"`', stamp)
        return (lambda page: (page[stamp], page["seq"])), descending
    key = given.get("property", UNDEFINED)
    prop = store.find_property(ds, key) if isinstance(key, str) else None
    if prop is None:
        raise validation(f"Could not find sort property with name or id: {key if key is not UNDEFINED else ''}")
    return property_sort_value(prop), descending


def property_sort_value(prop: dict[str, Any]) -> Callable[[dict[str, Any]], Any]:
    kind = prop["type"]
    read = value_reader(prop)

    def value(page: dict[str, Any]) -> Any:
        raw = page[kind] if kind in TIMESTAMPS else read(page)
        if kind in ("title", "rich_text"):
            return plain_text(raw).casefold() or None
        if kind in ("select", "status"):
            names = [o["name"] for o in prop["config"].get("options", [])]
            return names.index(raw["name"]) if raw and raw["name"] in names else None
        if kind == "multi_select":
            return raw[0]["name"].casefold() if raw else None
        if kind == "date":
            return as_moment(raw["start"], False) if raw else None
        if kind in ("relation", "people"):
            return len(raw) or None
        if kind in ("url", "email", "phone_number"):
            return raw.casefold() if raw else None
        if kind == "checkbox":
            return bool(raw)
        return raw

    return value
