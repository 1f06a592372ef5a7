"""One codec per Notion property type: source value → canonical, Notion value ↔ canonical.

Pure functions, no I/O and no HTTP client: the planner and the Notion gateway both use them, and
planning must not load httpx or notion-client. The canonical forms are documented in reconcile.model; the plan compares
only canonical values, apply writes only what `encode` returns, so every type has exactly one
place where its quirks live (2,000-character rich-text segments, minute-free dates in UTC, ...).

    normalise(type, source value) ──▶ canonical ──encode──▶ Notion request value
    Notion response value ──decode──▶ canonical
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from reconcile.model import NEW_PAGE_PREFIX, Value

WRITABLE_TYPES: frozenset[str] = frozenset(
    {
        "title",
        "rich_text",
        "number",
        "checkbox",
        "date",
        "select",
        "status",
        "multi_select",
        "url",
        "email",
        "phone_number",
        "relation",
    }
)
READ_ONLY_TYPES: frozenset[str] = frozenset(
    {
        "formula",
        "rollup",
        "created_time",
        "created_by",
        "last_edited_time",
        "last_edited_by",
        "unique_id",
        "verification",
        "button",
    }
)
TEXT_TYPES: frozenset[str] = frozenset({"title", "rich_text"})
STRING_TYPES: frozenset[str] = frozenset({"url", "email", "phone_number"})
OPTION_TYPES: frozenset[str] = frozenset({"select", "status"})

MAX_SEGMENT_UNITS = 2000  # Notion counts text.content in UTF-16 code units (JavaScript length)
MAX_ARRAY_ITEMS = 100
MAX_STRING_LENGTH = {"url": 2000, "email": 200, "phone_number": 200}

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_UUID_HEX = re.compile(r"^[0-9a-fA-F]{32}$")


# ── normalise: a source value (JMESPath result) → canonical ──────────────────────────────────────


def normalise(prop_type: str, value: Any) -> Value:
    """The canonical value of `value` for a property of `prop_type`; ValueError if impossible."""
    try:
        normaliser = _NORMALISERS[prop_type]
    except KeyError:
        raise ValueError(f"property type {prop_type!r} cannot be written by reconcile") from None
    return normaliser(value)


def _normalise_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected text, got {_describe(value)}")
    number = _normalise_number(value)
    return str(number)


def _normalise_number(value: Any) -> int | float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {_describe(value)}")
    if isinstance(value, str):
        return _parse_number(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"expected a finite number, got {value!r}")
        return int(value) if value.is_integer() else value
    raise ValueError(f"expected a number, got {_describe(value)}")


def _parse_number(text: str) -> int | float | None:
    stripped = text.strip()
    if not stripped:
        return None
    try:
        return int(stripped)
    except ValueError:
        pass
    try:
        return _normalise_number(float(stripped))
    except ValueError:
        raise ValueError(f"expected a number, got {_describe(text)}") from None


def _normalise_checkbox(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError(f"expected true or false, got {_describe(value)}")


def _normalise_date(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return _format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO date or datetime, got {_describe(value)}")
    if "/" in value:
        start, end = value.split("/", 1)
        return f"{_parse_date(start)}/{_parse_date(end)}"
    return _parse_date(value)


def _parse_date(text: str, time_zone: str | None = None) -> str:
    stripped = text.strip()
    try:
        if _DATE_ONLY.match(stripped):
            return date.fromisoformat(stripped).isoformat()
        moment = datetime.fromisoformat(stripped)
    except ValueError:
        raise ValueError(f"expected an ISO date or datetime, got {_describe(text)}") from None
    if moment.tzinfo is None and time_zone:
        moment = moment.replace(tzinfo=_zone(time_zone))
    return _format_datetime(moment)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None


def _format_datetime(moment: datetime) -> str:
    # A datetime without zone is UTC: the source and Notion both mean UTC when they omit it.
    utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _normalise_option(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return _option_name(value)


def _option_name(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"expected an option name, got {_describe(value)}")
    name = value if isinstance(value, str) else str(_normalise_number(value))
    if "," in name:
        raise ValueError(f"option names cannot contain commas (Notion refuses them): {name!r}")
    return name


def _normalise_multi_select(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else _as_list(value, "a list of option names")
    return tuple(sorted({_option_name(item) for item in items if item not in (None, "")}))


def _normalise_string(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(_normalise_number(value))
    raise ValueError(f"expected text, got {_describe(value)}")


def _normalise_relation(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else _as_list(value, "a list of page ids")
    return tuple(sorted({normalise_page_id(item) for item in items if item not in (None, "")}))


def normalise_page_id(value: Any) -> str:
    """A page id dashed and lower case; placeholders for pages this run creates are kept."""
    if not isinstance(value, str):
        raise ValueError(f"expected a page id, got {_describe(value)}")
    if value.startswith(NEW_PAGE_PREFIX):
        return value
    compact = value.strip().replace("-", "")
    if not _UUID_HEX.match(compact):
        raise ValueError(f"expected a page id (a UUID), got {value!r}")
    h = compact.lower()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _as_list(value: Any, what: str) -> list[Any]:
    if isinstance(value, list | tuple | set | frozenset):
        return list(value)
    raise ValueError(f"expected {what}, got {_describe(value)}")


def _describe(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


_NORMALISERS = {
    "title": _normalise_text,
    "rich_text": _normalise_text,
    "number": _normalise_number,
    "checkbox": _normalise_checkbox,
    "date": _normalise_date,
    "select": _normalise_option,
    "status": _normalise_option,
    "multi_select": _normalise_multi_select,
    "url": _normalise_string,
    "email": _normalise_string,
    "phone_number": _normalise_string,
    "relation": _normalise_relation,
}


# ── decode: a Notion page property value → canonical ─────────────────────────────────────────────


def decode(prop: dict[str, Any]) -> Value:
    """The canonical value of a page property value object `{"id", "type", "<type>": ...}`."""
    prop_type = prop.get("type")
    raw = prop.get(prop_type) if isinstance(prop_type, str) else None
    if prop_type in TEXT_TYPES:
        return plain_text(raw or [])
    if prop_type == "date":
        return _decode_date(raw)
    if prop_type in OPTION_TYPES:
        return raw.get("name") if raw else None
    if prop_type == "multi_select":
        return tuple(sorted({option["name"] for option in raw or []}))
    if prop_type == "relation":
        return tuple(sorted({normalise_page_id(ref["id"]) for ref in raw or []}))
    if prop_type in STRING_TYPES:
        return raw or None
    if prop_type == "number":
        return _normalise_number(raw)
    if prop_type == "checkbox":
        return bool(raw)
    return _decode_read_only(str(prop_type), raw)


def plain_text(items: Iterable[dict[str, Any]]) -> str:
    """The text of rich-text items joined, so that segmented text compares as one string."""
    return "".join(_item_text(item) for item in items)


def _item_text(item: dict[str, Any]) -> str:
    if "plain_text" in item:
        return str(item["plain_text"] or "")
    return str((item.get("text") or {}).get("content", ""))


def _decode_date(raw: dict[str, Any] | None) -> str | None:
    if not raw or not raw.get("start"):
        return None
    zone = raw.get("time_zone")
    start = _parse_date(raw["start"], zone)
    end = raw.get("end")
    return f"{start}/{_parse_date(end, zone)}" if end else start


def _decode_read_only(prop_type: str, raw: Any) -> Value:
    if prop_type in ("created_time", "last_edited_time"):
        return _normalise_date(raw)
    if prop_type in ("created_by", "last_edited_by"):
        return raw.get("id") if isinstance(raw, dict) else None
    if prop_type == "formula" and isinstance(raw, dict):
        inner = raw.get(raw.get("type", ""))
        return _decode_date(inner) if raw.get("type") == "date" else inner
    if prop_type == "unique_id" and isinstance(raw, dict):
        prefix, number = raw.get("prefix"), raw.get("number")
        return f"{prefix}-{number}" if prefix else number
    if prop_type == "people":
        return tuple(sorted(person["id"] for person in raw or []))
    # Other computed shapes (a rollup's array, ...) pass through as Notion sent them: reconcile
    # never writes these types and only reads them for lookups' `requires`.
    return cast(Value, raw)


# ── encode: canonical → the Notion request value ─────────────────────────────────────────────────


def encode(prop_type: str, value: Value) -> dict[str, Any]:
    """The request value `{"<type>": ...}` writing canonical `value`; ValueError if too big."""
    if prop_type in TEXT_TYPES:
        return {prop_type: rich_text_items(_optional_text(value) or "")}
    if prop_type == "date":
        return {"date": _encode_date(_optional_text(value))}
    if prop_type in OPTION_TYPES:
        return {prop_type: {"name": value} if value is not None else None}
    if prop_type == "multi_select":
        names = list(_items(value))
        _check_items(names, "multi_select options")
        return {"multi_select": [{"name": name} for name in names]}
    if prop_type == "relation":
        ids = list(_items(value))
        if len(ids) > MAX_ARRAY_ITEMS:
            raise ValueError(_relation_limit_message(len(ids)))
        return {"relation": [{"id": page_id} for page_id in ids]}
    if prop_type in STRING_TYPES:
        return {prop_type: _encode_string(prop_type, _optional_text(value))}
    if prop_type == "number":
        return {"number": value}
    if prop_type == "checkbox":
        return {"checkbox": bool(value)}
    raise ValueError(f"property type {prop_type!r} cannot be written by reconcile")


def encode_relation_batches(ids: Iterable[str]) -> list[dict[str, Any]]:
    """The page writes that set a relation to `ids`.

    A write replaces the whole list and carries at most 100 ids, so a relation of more than 100
    pages cannot be reached through updates of this page (only from the other side of a two-way
    relation); that is refused here rather than silently truncated.
    """
    ids = list(ids)
    if len(ids) > MAX_ARRAY_ITEMS:
        raise ValueError(_relation_limit_message(len(ids)))
    return [encode("relation", tuple(ids))]


def _relation_limit_message(count: int) -> str:
    return (
        f"a relation of {count} pages cannot be written through page updates: Notion replaces "
        f"the whole list on each write and accepts at most {MAX_ARRAY_ITEMS} ids per request"
    )


def rich_text_items(text: str) -> list[dict[str, Any]]:
    """`text` as rich-text items of at most 2,000 UTF-16 units each, never splitting a character."""
    segments = list(split_text(text))
    if len(segments) > MAX_ARRAY_ITEMS:
        raise ValueError(
            f"text of {len(text)} characters needs {len(segments)} rich-text segments; Notion "
            f"accepts at most {MAX_ARRAY_ITEMS} segments of {MAX_SEGMENT_UNITS} characters"
        )
    return [{"type": "text", "text": {"content": segment}} for segment in segments]


def split_text(text: str, limit: int = MAX_SEGMENT_UNITS) -> Iterator[str]:
    """Consecutive pieces of `text`, each at most `limit` UTF-16 code units long."""
    start, units = 0, 0
    for index, char in enumerate(text):
        width = 2 if ord(char) > 0xFFFF else 1  # astral characters are a surrogate pair in UTF-16
        if units + width > limit:
            yield text[start:index]
            start, units = index, 0
        units += width
    if start < len(text):
        yield text[start:]


def _optional_text(value: Value) -> str | None:
    """A canonical text, date or string value; anything else was never normalised."""
    if value is None or isinstance(value, str):
        return value
    raise ValueError(f"expected text, got {_describe(value)}")


def _items(value: Value) -> tuple[str, ...]:
    """A canonical multi_select or relation value (None: no items)."""
    if value is None or isinstance(value, tuple):
        return value or ()
    raise ValueError(f"expected a list, got {_describe(value)}")


def _encode_date(value: str | None) -> dict[str, Any] | None:
    if not value:
        return None
    start, _, end = value.partition("/")
    return {"start": start, "end": end or None}


def _encode_string(prop_type: str, value: str | None) -> str | None:
    if not value:
        return None
    limit = MAX_STRING_LENGTH[prop_type]
    if len(value) > limit:
        raise ValueError(f"{prop_type} of {len(value)} characters exceeds Notion's {limit} limit")
    return value


def _check_items(items: list[Any], what: str) -> None:
    if len(items) > MAX_ARRAY_ITEMS:
        raise ValueError(f"{len(items)} {what} exceed Notion's limit of {MAX_ARRAY_ITEMS}")


def items_of(value: Value) -> tuple[str, ...]:
    """The items of a canonical relation or multi_select value; none for an empty or other value."""
    return value if isinstance(value, tuple) else ()


# ── equal: compare canonical values ──────────────────────────────────────────────────────────────


def equal(prop_type: str, a: Value, b: Value) -> bool:
    """Whether two values of a `prop_type` property are the same once normalised.

    Relations and multi-selects compare as sets, numbers by value (3 == 3.0), dates at the
    precision written (a date differs from a datetime at midnight; seconds equal milliseconds .000).
    """
    if prop_type not in _NORMALISERS:
        return bool(a == b)
    try:
        return bool(normalise(prop_type, a) == normalise(prop_type, b))
    except ValueError:
        return bool(a == b)
