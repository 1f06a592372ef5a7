"""Ids, timestamps and URLs the way Notion formats them."""

from __future__ import annotations

import random
import re
import string
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from notion_sandbox.errors import body_invalid

_HEX32 = re.compile(r"^[0-9a-fA-F]{32}$")
_DASHED = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_PROPERTY_ID_CHARS = string.ascii_letters + string.digits + "!#$%&()*+,-.:;<=>?@[]^_`{|}~"


def normalize_id(raw: object) -> str | None:
    """The dashed lower-case form of a dashed or undashed uuid, or None when it is not one."""
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    if _DASHED.match(text):
        return text.lower()
    if _HEX32.match(text):
        h = text.lower()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
    return None


def path_id(raw: str, name: str) -> str:
    """A path parameter as a dashed uuid, or Notion's path validation error."""
    found = normalize_id(raw)
    if found is None:
        raise body_invalid(f"path.{name}", "a valid uuid", raw, where="path")
    return found


def new_id() -> str:
    return str(uuid.uuid4())


def new_property_id(taken: set[str]) -> str:
    """A short random property id, URL-encoded like Notion's (e.g. ``fk%5EY``)."""
    while True:
        raw = "".join(random.choice(_PROPERTY_ID_CHARS) for _ in range(4))
        encoded = quote(raw, safe="")
        if encoded not in taken and encoded != "title":
            return encoded


def undashed(object_id: str) -> str:
    return object_id.replace("-", "")


def page_url(title: str, page_id: str) -> str:
    slug = "-".join(re.findall(r"[A-Za-z0-9]+", title))
    return f"https://www.notion.so/{slug + '-' if slug else ''}{undashed(page_id)}"


def object_url(object_id: str) -> str:
    return f"https://www.notion.so/{undashed(object_id)}"


def iso_ms(moment: datetime) -> str:
    """Storage form: UTC with milliseconds."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def minute_stamp(stored: str) -> str:
    """Pages and data sources show times rounded down to the minute (``…:00.000Z``)."""
    return parse_iso(stored).strftime("%Y-%m-%dT%H:%M:00.000Z")


def offset_stamp(stored: str) -> str:
    """Database objects show millisecond, offset-style stamps (``2025-10-05T10:54:33.710+00:00``)."""
    moment = parse_iso(stored)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+00:00"


class Clock:
    """Wall clock, or (with ``step_ms``) a virtual clock that advances by a fixed step per write."""

    def __init__(self, wall: Callable[[], datetime] | None = None) -> None:
        self._wall = wall or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()
        self.step_ms = 0
        self._virtual: datetime | None = None

    def set_step(self, step_ms: int) -> None:
        with self._lock:
            self.step_ms = max(0, int(step_ms))
            self._virtual = None

    def now(self) -> datetime:
        with self._lock:
            if self.step_ms and self._virtual is not None:
                return self._virtual
            return self._wall()

    def advance(self, ms: int) -> datetime:
        """Time passing with no write (the hours between two runs): with a step, the virtual clock
        moves on by ``ms``; the wall clock moves by itself."""
        with self._lock:
            if self.step_ms:
                self._virtual = (self._virtual or self._wall()) + timedelta(milliseconds=max(0, int(ms)))
                return self._virtual
            return self._wall()

    def tick(self) -> datetime:
        """The time of a new write; with a step, each write is ``step_ms`` after the previous one."""
        with self._lock:
            if not self.step_ms:
                return self._wall()
            if self._virtual is None:
                self._virtual = self._wall()
            else:
                self._virtual += timedelta(milliseconds=self.step_ms)
            return self._virtual


def monotonic() -> float:
    return time.monotonic()
