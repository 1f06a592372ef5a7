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
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from typing import Any, cast
from urllib.parse import unquote, urlsplit
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
        "people",
        "files",
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
# Computed types a match key may be read from (a key Notion assigns, e.g. a unique_id "PRJ-12").
# Not last_edited_time/last_edited_by: they move with every write, so a key in them would too.
KEY_READ_ONLY_TYPES: frozenset[str] = frozenset({"unique_id", "formula", "rollup", "created_time", "created_by"})
HOSTED_FILE = "notion-hosted"  # stands for a Notion-hosted file's URL, which is signed for an hour
MAX_FILE_NAME = 100

MAX_SEGMENT_UNITS = 2000  # Notion counts text.content in UTF-16 code units (JavaScript length)
MAX_ARRAY_ITEMS = 100
MAX_STRING_LENGTH = {"url": 2000, "email": 200, "phone_number": 200}

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_UUID_HEX = re.compile(r"^[0-9a-fA-F]{32}$")
_ZONE_SUFFIX = re.compile(r"^(?P<value>.*)\[(?P<zone>[^\[\]]+)\]$")
_FILE_ITEM = re.compile(r"^(?P<name>.*) <(?P<url>\S+)>$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


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
    """A date, datetime or range: an ISO string ("start/end" for a range, an optional "[Zone]"
    suffix), an object {start, end, time_zone} as Notion writes it, or a date/datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return _format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return _normalise_date_object(value)
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO date or datetime, got {_describe(value)}")
    text, zone = _split_zone(value.strip())
    start, _, end = text.partition("/")
    return _date_value(start, end or None, zone)


def _normalise_date_object(value: dict[str, Any]) -> str | None:
    start, end, zone = value.get("start"), value.get("end"), value.get("time_zone")
    if start in (None, ""):
        if end not in (None, ""):
            raise ValueError("a date range needs its start")
        return None
    for part in (start, end, zone):
        if part is not None and not isinstance(part, str):
            raise ValueError(f"expected an ISO date or datetime, got {_describe(part)}")
    return _date_value(start, end or None, zone or None)


def _split_zone(text: str) -> tuple[str, str | None]:
    found = _ZONE_SUFFIX.match(text)
    return (found["value"], found["zone"]) if found else (text, None)


def _date_value(start: str, end: str | None, zone: str | None) -> str:
    """The canonical date: each part in UTC, or, given a zone, in the zone's wall time + "[Zone]"."""
    if zone is not None:
        _zone(zone)
    parts = [_parse_date(start, zone, keep_zone=True)]
    if end is not None:
        parts.append(_parse_date(end, zone, keep_zone=True))
    zoned = zone is not None and any("T" in p for p in parts)
    return "/".join(parts) + (f"[{zone}]" if zoned else "")


def _parse_date(text: str, time_zone: str | None = None, *, keep_zone: bool = False) -> str:
    stripped = text.strip()
    try:
        if _DATE_ONLY.match(stripped):
            return date.fromisoformat(stripped).isoformat()
        moment = datetime.fromisoformat(stripped)
    except ValueError:
        raise ValueError(f"expected an ISO date or datetime, got {_describe(text)}") from None
    if time_zone:
        zone = _zone(time_zone)
        # Through UTC and back: a wall time the zone skips (the spring-forward hour) becomes the
        # instant it names, shown as the zone shows it, so the canonical form is a fixed point.
        moment = moment.replace(tzinfo=zone) if moment.tzinfo is None else moment
        moment = moment.astimezone(UTC).astimezone(zone)
        if keep_zone:
            return _format_local(moment)
    return _format_datetime(moment)


def _format_local(moment: datetime) -> str:
    """Wall time, milliseconds and numeric offset: 2025-07-01T09:00:00.000+01:00."""
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"
    offset = moment.strftime("%z")
    return f"{stamp}{offset[:3]}:{offset[3:]}"


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


def _normalise_people(value: Any) -> tuple[str, ...]:
    """User ids and email addresses (lower case), sorted; the planner resolves the emails to ids."""
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else _as_list(value, "a list of email addresses")
    return tuple(sorted({_person(item) for item in items if item not in (None, "")}))


def _person(item: Any) -> str:
    if isinstance(item, dict):  # a Notion user object, or {"email": ...}
        item = item.get("id") or (item.get("person") or {}).get("email") or item.get("email")
    if not isinstance(item, str):
        raise ValueError(f"expected an email address, got {_describe(item)}")
    text = item.strip()
    if _EMAIL.match(text):
        return text.lower()
    if _UUID_HEX.match(text.replace("-", "")):
        return normalise_page_id(text)
    raise ValueError(f"expected an email address, got {_describe(item)}")


def is_email(item: str) -> bool:
    return bool(_EMAIL.match(item))


def _normalise_files(value: Any) -> tuple[str, ...]:
    """External files in order, each "name <url>": from a URL, a list of URLs, or {name, url} objects."""
    if value is None or value == "":
        return ()
    items = [value] if isinstance(value, str | dict) else _as_list(value, "a list of file URLs")
    return tuple(_file(item) for item in items if item not in (None, ""))


def _file(item: Any) -> str:
    if isinstance(item, dict):
        url, name = item.get("url"), item.get("name")
        if url is None and isinstance(item.get("external"), dict):  # Notion's own request shape
            url = item["external"].get("url")
    elif isinstance(item, str):
        found = _FILE_ITEM.match(item.strip())
        name, url = (found["name"], found["url"]) if found else (None, item.strip())
    else:
        raise ValueError(f"expected a file URL, got {_describe(item)}")
    if not isinstance(url, str) or not _is_http_url(url):
        raise ValueError(f"expected an http(s) file URL, got {_describe(url)}")
    if name is not None and not isinstance(name, str):
        raise ValueError(f"expected a file name, got {_describe(name)}")
    return f"{_file_name(name, url)} <{url}>"


def _is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not any(c.isspace() for c in url)


def _file_name(name: str | None, url: str) -> str:
    """The name given, else the URL's last path segment (or its host): Notion requires a name."""
    text = (name or "").strip()
    if not text:
        parts = urlsplit(url)
        text = unquote(parts.path.rstrip("/").rpartition("/")[2]) or parts.hostname or url
    return next(split_text(" ".join(text.split()), MAX_FILE_NAME), "")


def file_parts(item: str) -> tuple[str, str]:
    """(name, url) of a canonical file item."""
    found = _FILE_ITEM.match(item)
    if found is None:
        raise ValueError(f"expected a file, got {_describe(item)}")
    return found["name"], found["url"]


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
    "people": _normalise_people,
    "files": _normalise_files,
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
    if prop_type == "people":
        return tuple(sorted({normalise_page_id(person["id"]) for person in raw or []}))
    if prop_type == "files":
        return tuple(_decode_file(item) for item in raw or [])
    return _decode_read_only(str(prop_type), raw)


def _decode_file(item: dict[str, Any]) -> str:
    """ "name <url>" of an external file; a Notion-hosted one without its signed, expiring URL."""
    name = str(item.get("name") or "")
    if item.get("type") == "external":
        return f"{name} <{(item.get('external') or {}).get('url', '')}>"
    return f"{name} <{HOSTED_FILE}>"


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
    # Interned: stamps repeat across thousands of pages (every page a run touched carries its time).
    return sys.intern(f"{start}/{_parse_date(end, zone)}" if end else start)


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
    if prop_type == "rollup" and isinstance(raw, dict):
        return _decode_rollup(raw)
    # Other computed shapes (verification, button, ...) pass through as Notion sent them: reconcile
    # never writes these types and only reads them for lookups' `requires`.
    return cast(Value, raw)


def _decode_rollup(raw: dict[str, Any]) -> Value:
    """A rollup's number or date; an array as the text of its items (each a property value)."""
    kind = raw.get("type")
    if kind == "date":
        return _decode_date(raw.get("date"))
    if kind == "array":
        out: list[str] = []
        for item in raw.get("array") or []:
            value = decode(item) if isinstance(item, dict) else item
            out += [str(v) for v in value] if isinstance(value, tuple) else [] if value is None else [str(value)]
        return tuple(out)
    return cast(Value, raw.get(str(kind)))


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
    if prop_type == "people":
        return {"people": [{"id": user_id} for user_id in _user_ids(value)]}
    if prop_type == "files":
        files = [_encode_file(item) for item in _items(value)]
        _check_items(files, "files")
        return {"files": files}
    raise ValueError(f"property type {prop_type!r} cannot be written by reconcile")


def _user_ids(value: Value) -> list[str]:
    ids = list(_items(value))
    _check_items(ids, "people")
    for item in ids:
        if is_email(item):  # the planner resolves every email; one left here is a bug upstream
            raise ValueError("an email address must be resolved to a user before it is written")
    return ids


def _encode_file(item: str) -> dict[str, Any]:
    name, url = file_parts(item)
    if url == HOSTED_FILE:
        raise ValueError(f"a Notion-hosted file ({name!r}) cannot be written back by URL")
    return {"name": name, "type": "external", "external": {"url": url}}


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
    """Notion's date object; a zoned value is written as wall times with the zone (no offsets,
    which Notion refuses beside a time_zone)."""
    if not value:
        return None
    text, zone = _split_zone(value)
    start, _, end = text.partition("/")
    if zone is None:
        return {"start": start, "end": end or None}
    return {"start": _wall_time(start), "end": _wall_time(end) if end else None, "time_zone": zone}


def _wall_time(part: str) -> str:
    return part[:23] if "T" in part else part  # "YYYY-MM-DDTHH:MM:SS.fff" without its offset


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
    if prop_type in READ_ONLY_TYPES:
        return _key_form(a) == _key_form(b)
    if prop_type not in _NORMALISERS:
        return bool(a == b)
    if prop_type == "date":
        return _same_dates(a, b)
    try:
        return bool(normalise(prop_type, a) == normalise(prop_type, b))
    except ValueError:
        return bool(a == b)


def _key_form(value: Value) -> str:
    """A computed value as a key compares: 12 and "12" alike (Notion computes it, the key is text)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _same_dates(a: Value, b: Value) -> bool:
    """Dates are equal when their parts are the same days or instants, whatever zone shows them:
    Notion echoes a zoned write in offset form with time_zone null."""
    try:
        return _date_instants(a) == _date_instants(b)
    except ValueError:
        return bool(a == b)


def _date_instants(value: Value) -> tuple[date | datetime, ...]:
    canonical = _normalise_date(value)
    if canonical is None:
        return ()
    text, _ = _split_zone(canonical)
    return tuple(_instant(part) for part in text.split("/"))


def _instant(part: str) -> date | datetime:
    if _DATE_ONLY.match(part):
        return date.fromisoformat(part)
    moment = datetime.fromisoformat(part)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
