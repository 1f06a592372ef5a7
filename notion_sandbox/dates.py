"""Date values: ISO 8601 (extended format) only, stored and returned in the form Notion returns.

Accepted: ``2025-01-31`` and ``2025-01-31T10:00[:00[.000]]`` with ``Z``, ``±HH:MM`` or no offset. Refused: the basic
format (``20250131``), week and ordinal dates (``2025-W05``, ``2025-031``), a space instead of ``T``. Returned: a date
as written; a date-time as ``2025-01-31T10:00:00.000+00:00`` (milliseconds and an offset; no offset means UTC); with
a ``time_zone``, the wall time given in that zone shown with the zone's offset, and ``time_zone`` itself as null
(Notion's changelog "Time zone support"). Sources and the choices made are in docs/sandbox.md.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from notion_sandbox.errors import body_invalid, not_present, undefined, validation

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(
    r"^(?P<day>\d{4}-\d{2}-\d{2})T(?P<h>\d{2}):(?P<m>\d{2})(?::(?P<s>\d{2})(?:\.(?P<frac>\d{1,9}))?)?"
    r"(?P<zone>Z|[+-]\d{2}:\d{2})?$"
)
DATE_KEYS = ("start", "end", "time_zone")
ISO_EXPECTATION = "a valid ISO 8601 date string"


def parse_iso(text: str) -> date | datetime | None:
    """A date, or a datetime (aware when an offset was written, naive otherwise); None when not ISO 8601."""
    if _DATE.match(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            return None
    found = _DATETIME.match(text)
    if found is None:
        return None
    frac = (found["frac"] or "0")[:6].ljust(6, "0")
    try:
        day = date.fromisoformat(found["day"])
        moment = datetime(day.year, day.month, day.day, int(found["h"]), int(found["m"]), int(found["s"] or 0))
    except ValueError:
        return None
    moment = moment.replace(microsecond=int(frac))
    return moment.replace(tzinfo=offset_zone(found["zone"])) if found["zone"] else moment


def offset_zone(text: str) -> timezone:
    if text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    hours, minutes = int(text[1:3]), int(text[4:6])
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def valid_date(text: Any) -> bool:
    return isinstance(text, str) and parse_iso(text) is not None


def notion_form(moment: datetime) -> str:
    """``2025-01-31T10:00:00.000+00:00``: milliseconds and a numeric offset."""
    offset = moment.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"
    return f"{stamp}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def date_value(raw: Any, path: str) -> dict[str, Any] | None:
    """A request date object (or null) in its stored form ``{start, end, time_zone}``."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise body_invalid(path, "an object or `null`", raw)
    for key, given in raw.items():
        if key not in DATE_KEYS:
            raise not_present(f"{path}.{key}", given)
    if "start" not in raw:
        raise undefined(f"{path}.start")
    zone = time_zone(raw.get("time_zone"), f"{path}.time_zone")
    start = one_date(raw["start"], f"{path}.start", zone, required=True)
    end = one_date(raw.get("end"), f"{path}.end", zone, required=False)
    return {"start": start, "end": end, "time_zone": None}


def time_zone(raw: Any, path: str) -> ZoneInfo | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise body_invalid(path, "a string or `null`", raw)
    try:
        return ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise body_invalid(path, "a valid IANA time zone", raw) from None


def one_date(raw: Any, path: str, zone: ZoneInfo | None, required: bool) -> str | None:
    if raw is None and not required:
        return None
    parsed = parse_iso(raw) if isinstance(raw, str) else None
    if parsed is None:
        expectation = ISO_EXPECTATION if required else f"{ISO_EXPECTATION} or `null`"
        raise body_invalid(path, expectation, raw)
    if not isinstance(parsed, datetime):
        if zone is not None:
            raise validation(f"{path} cannot be a date without a time when a time_zone is given.")
        return parsed.isoformat()
    if zone is not None:
        if parsed.tzinfo is not None:
            raise validation(f"{path} cannot carry a UTC offset when a time_zone is given.")
        return notion_form(parsed.replace(tzinfo=zone))
    return notion_form(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC))


def as_instant(text: str) -> datetime:
    """A stored date or date-time as an aware datetime (a date is its midnight, UTC)."""
    parsed = parse_iso(text)
    if isinstance(parsed, datetime):
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if isinstance(parsed, date):
        return datetime(parsed.year, parsed.month, parsed.day, tzinfo=UTC)
    raise ValueError(f"not an ISO 8601 date: {text!r}")
