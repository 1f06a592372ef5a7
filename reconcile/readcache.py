"""The Notion read cache: each resource's pages as the last read left them, so that a run asks Notion
only for the pages created, edited, trashed or restored since (reconcile/state.py merges the two).

    load_session(config, now, refresh)  -> ReadSession   what the last read left, and the rules
    session.decide(resource, key)       -> Decision      read in full, or only what changed (and why)
    session.keep(resource, entry, read)                  what this read saw, kept for the next one
    session.save()                                       written once every resource read succeeded

The cache is a JSON Lines file beside the run log (`cache/notion-reads.json`, or `read_cache.path`). An
entry is used only by the same integration (a fingerprint of the token, never the token), for the
same database, data source, config and managed-property schema; otherwise, when it is older than
`read_cache.max_age`, after `read_cache.full_every` incremental reads, or on `--refresh full`, the
resource is read in full. A file that cannot be read is a warning and a full read, never a crash.

The cursor is Notion's own time when the read began (the Date header of its answer just before
the queries; without one, the latest `last_edited_time` the read saw). Every later edit carries that
minute or a later one, whatever the clocks of the machines running reconcile say; the next
changed-pages query starts `safety_window` before it, for the minute rounding and for edits the
query index showed late. A page deleted from the trash for good (or moved to another database)
shows in no query of changes: only a full read sees it gone, so `max_age` and `full_every` bound
how long it can go unnoticed (docs/reliability.md#incremental-reads).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, TextIO

from reconcile.gcpause import without_cycle_collection
from reconcile.model import Config, Diagnostic, NotionRead, PageState, ReadCacheSettings, ResourceConfig, Value

__all__ = [
    "CACHE_FORMAT",
    "CacheEntry",
    "CacheKey",
    "Decision",
    "ReadSession",
    "Refresh",
    "cache_path",
    "integration_fingerprint",
    "load_session",
    "managed_schema_digest",
]

CACHE_FORMAT = 2  # 2: JSON lines, read a line at a time (1: one JSON document)
Refresh = Literal["auto", "full", "incremental"]
_log = logging.getLogger("reconcile.readcache")


def cache_path(config: Config) -> Path:
    """Where the cache lives: `read_cache.path`, or `cache/notion-reads.json` beside the run log."""
    if config.read_cache.path:
        return Path(config.read_cache.path)
    return Path(config.run_log).parent / "cache" / "notion-reads.json"


def integration_fingerprint(token: str) -> str:
    """Which integration read the pages, without the token: 16 hex digits of a salted sha256 (a
    token is a long random secret, so the digits reveal nothing of it)."""
    return hashlib.sha256(b"reconcile read cache\0" + token.encode()).hexdigest()[:16]


def managed_schema_digest(resource: ResourceConfig, schema: Mapping[str, Mapping[str, Any]]) -> str:
    """The live schema of the properties the cache holds values of: a change there (a type, a
    renamed select option) changes pages' values without touching their `last_edited_time`."""
    names = sorted({*resource.managed_properties, resource.match.property})
    shown = {name: value_shape(schema.get(name)) for name in names}
    canonical = json.dumps(shown, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:24]


def value_shape(prop: Mapping[str, Any] | None) -> list[Any] | None:
    """What of a property's schema decides its pages' values: its type, its option names (a renamed
    option renames every value) and a relation's target. Not its id, colours or description, so a
    property the plan adds compares equal to the one Notion then shows."""
    if prop is None:
        return None
    kind = str(prop.get("type", ""))
    found = prop.get(kind)
    config: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    options = sorted(str(o.get("name", "")) for o in config.get("options") or () if isinstance(o, Mapping))
    return [kind, options, config.get("data_source_id")]


@dataclass(frozen=True)
class CacheKey:
    """What must match for an entry to stand for a resource's pages."""

    integration: str
    database_id: str
    data_source_id: str
    config_digest: str
    schema_digest: str


@dataclass(frozen=True)
class CacheEntry:
    """A resource's pages as a read left them: live ones, and trashed ones carrying a key (None
    when that read did not look in the trash)."""

    key: CacheKey
    cursor: str  # Notion's time when the read began, else the latest edit it saw ("" when neither)
    full_read_at: str  # when the last full read happened (this machine's clock, ISO)
    incremental_reads: int  # incremental reads since that full read
    read_at: str  # when this entry was read (this machine's clock, ISO)
    pages: tuple[PageState, ...]
    trashed: tuple[PageState, ...] | None


@dataclass(frozen=True)
class Decision:
    """How to read one resource: in full, or what changed since `since` on top of `entry`."""

    mode: Literal["full", "incremental"]
    reason: str
    entry: CacheEntry | None = None
    since: str = ""


@dataclass
class ReadSession:
    """One run's use of the cache: the entries loaded, each resource's decision, the entries kept."""

    settings: ReadCacheSettings
    path: Path
    refresh: Refresh
    integration: str
    config_digest: str
    now: datetime
    entries: dict[str, CacheEntry] = field(default_factory=dict)
    problem: str | None = None  # why the file could not be used (a warning), None when it could
    loaded: bool = False  # the file was read into `entries` (or found unusable)
    kept: dict[str, CacheEntry] = field(default_factory=dict)
    reads: dict[str, NotionRead] = field(default_factory=dict)
    resources: frozenset[str] = frozenset()  # every resource of the config
    # The head line of each entry whose pages are still in the file (load_session reads heads only).
    unloaded: dict[str, str] = field(default_factory=dict)

    def pages_of(self, resource: str) -> tuple[tuple[PageState, ...], tuple[PageState, ...] | None] | None:
        """The entry's live and trashed pages, read from the file now when only its head was loaded
        (so a run holds them only once its source's answer is let go); None when the file no
        longer holds that entry (another run wrote it meanwhile)."""
        entry = self.entries.get(resource)
        if entry is None:
            return None
        head = self.unloaded.pop(resource, None)
        if head is None:
            return entry.pages, entry.trashed
        loaded = read_entry_pages(self.path, head)
        if loaded is None:
            self.entries.pop(resource, None)
            return None
        self.entries[resource] = replace(entry, pages=loaded[0], trashed=loaded[1])
        return loaded

    def key(self, resource: ResourceConfig, data_source_id: str, schema: Mapping[str, Mapping[str, Any]]) -> CacheKey:
        return CacheKey(
            integration=self.integration,
            database_id=resource.database,
            data_source_id=data_source_id,
            config_digest=self.config_digest,
            schema_digest=managed_schema_digest(resource, schema),
        )

    def decide(self, resource: str, key: CacheKey) -> Decision:
        """Full or incremental, and why, for this resource now."""
        if not self.settings.enabled:
            return Decision("full", "the read cache is off (read_cache.enabled: false)")
        if self.refresh == "full":
            return Decision("full", "--refresh full")
        entry = self.entries.get(resource)
        unusable = self.problem or unusable_reason(entry, key)
        if unusable or entry is None:
            return Decision("full", unusable or "no read cache yet")
        due = None if self.refresh == "incremental" else self.due_reason(entry)
        if due:
            return Decision("full", due)
        since = minus_seconds(entry.cursor, self.settings.safety_window_s) if entry.cursor else ""
        window = f"{self.settings.safety_window_s:g} s"
        reason = (
            f"changes since {since}: the last read, less the {window} safety window"
            if since
            else "every page: the cache saw none"
        )
        return Decision("incremental", reason, entry, since)

    def due_reason(self, entry: CacheEntry) -> str | None:
        """Why a usable entry is read in full all the same: too old, or too many reads since."""
        full_at = parsed(entry.full_read_at)
        if full_at is None or (self.now - full_at).total_seconds() > self.settings.max_age_s:
            return f"the last full read ({entry.full_read_at or 'unknown'}) is older than read_cache.max_age"
        if entry.incremental_reads >= self.settings.full_every:
            return f"{entry.incremental_reads} incremental reads since the last full one (read_cache.full_every)"
        return None

    def keep(self, resource: str, entry: CacheEntry, read: NotionRead) -> None:
        self.kept[resource] = entry
        self.reads[resource] = read

    def diagnostics(self) -> list[Diagnostic]:
        if not self.problem or not self.settings.enabled:
            return []
        return [
            Diagnostic(
                severity="warning",
                code="read_cache_unreadable",
                message=f"the Notion read cache {self.path} could not be used ({self.problem}): every "
                "resource was read in full, and the cache is written again",
            )
        ]

    @without_cycle_collection
    def save(self) -> None:
        """Write the entries this run kept over the file's others (never when the cache is off)."""
        if not self.settings.enabled or not self.kept:
            return
        # The entries this run loaded stand for the file (no second parse of thousands of pages);
        # a run that did not load it keeps the file's other resources, unless it kept every resource
        # of the config: any other entry was made with another config and cannot be used (and
        # parsing it would hold a second workspace beside this run's pages).
        if self.loaded:
            for name in [n for n in self.unloaded if n not in self.kept]:
                self.pages_of(name)
            current, problem = {n: e for n, e in self.entries.items() if n not in self.unloaded}, self.problem
        elif self.resources <= self.kept.keys():
            current, problem = {}, None
        else:
            current, problem = read_entries(self.path)
        entries = {**(current if problem is None else {}), **self.kept}
        try:
            write_atomically(self.path, entries, self.now)
        except OSError as exc:
            _log.warning("could not write the Notion read cache %s: %s", self.path, exc)


def unusable_reason(entry: CacheEntry | None, key: CacheKey) -> str | None:
    if entry is None:
        return None
    old = entry.key
    if old.integration != key.integration:
        return "the read cache was made by another integration"
    if (old.database_id, old.data_source_id) != (key.database_id, key.data_source_id):
        return "the read cache was made for another database or data source"
    if old.config_digest != key.config_digest:
        return "the read cache was made with another config"
    if old.schema_digest != key.schema_digest:
        return "the schema of a managed property changed since the read cache was made"
    return None


def load_session(config: Config, *, now: datetime, refresh: Refresh = "auto") -> ReadSession:
    """The session for one run: the cache file's entries, or why it cannot be used."""
    path = cache_path(config)
    session = ReadSession(
        settings=config.read_cache,
        path=path,
        refresh=refresh,
        integration=integration_fingerprint(config.notion.token),
        config_digest=config.digest,
        now=now,
        resources=frozenset(r.name for job in config.jobs for r in job.resources),
    )
    if config.read_cache.enabled and refresh != "full":
        session.entries, session.unloaded, session.problem = read_heads(path)
        session.loaded = True
    return session


# ── the file ─────────────────────────────────────────────────────────────────────────────────────


@without_cycle_collection
def read_entries(path: Path) -> tuple[dict[str, CacheEntry], str | None]:
    """The file's entries by resource, pages included; {} and why, when it is absent ({} and None)
    or unusable. The heads first, then each entry's pages a line at a time (read_heads)."""
    entries, heads, problem = read_heads(path)
    for name, head in heads.items():
        loaded = read_entry_pages(path, head)
        if loaded is None:
            return {}, "it is damaged: a line of cached pages cannot be read"
        entries[name] = replace(entries[name], pages=loaded[0], trashed=loaded[1])
    return entries, problem


def read_heads(path: Path) -> tuple[dict[str, CacheEntry], dict[str, str], str | None]:
    """The file's entries without their pages (read later by ReadSession.pages_of), each one's head
    line, and why the file cannot be used ({}, {} and None when it is absent)."""
    try:
        with path.open(encoding="utf-8") as lines:
            return heads_from_lines(lines)
    except FileNotFoundError:
        return {}, {}, None
    except (OSError, UnicodeDecodeError) as exc:
        return {}, {}, f"cannot read it: {exc}"
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        return {}, {}, f"it is damaged: {type(exc).__name__}"


def heads_from_lines(lines: Iterator[str] | TextIO) -> tuple[dict[str, CacheEntry], dict[str, str], str | None]:
    head = json.loads(next(lines, "null"))
    problem = format_problem(head)
    if problem:
        return {}, {}, problem
    entries, heads = {}, {}
    for _ in range(int(head["resources"])):
        line = next(lines)
        raw = json.loads(line)
        for _ in range(row_lines(raw["pages"]) + row_lines(raw["trashed"] or 0)):
            if not next(lines).startswith("["):
                raise ValueError("a line of cached pages has the wrong shape")
        name = str(raw["resource"])
        entries[name] = entry_from_json({**raw, "pages": (), "trashed": None}, (), None)
        heads[name] = line
    if next(lines, None) is not None:
        raise ValueError("lines after the last resource")
    return entries, heads, None


def row_lines(count: int) -> int:
    return -(-int(count) // ROWS_PER_LINE)


def read_entry_pages(path: Path, head: str) -> tuple[tuple[PageState, ...], tuple[PageState, ...] | None] | None:
    """The pages that follow this head line in the file; None when the file no longer has it."""
    try:
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                if line == head:
                    raw = json.loads(line)
                    pages = tuple(page_rows(lines, int(raw["pages"])))
                    trashed = None if raw["trashed"] is None else tuple(page_rows(lines, int(raw["trashed"])))
                    return pages, trashed
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError, StopIteration):
        return None
    return None


def format_problem(head: Any) -> str | None:
    if not isinstance(head, dict) or head.get("format") != CACHE_FORMAT:
        found = head.get("format") if isinstance(head, dict) else None
        return f"not a read cache of format {CACHE_FORMAT}" + (f" (format {found})" if found else "")
    return None


def page_rows(lines: Iterator[str] | TextIO, count: int) -> Iterator[PageState]:
    """`count` pages from the lines that follow, each line a JSON list of up to ROWS_PER_LINE rows."""
    left = count
    while left > 0:
        rows = json.loads(next(lines))
        if not isinstance(rows, list) or not rows or len(rows) > left:
            raise ValueError("a line of cached pages has the wrong shape")
        left -= len(rows)
        yield from (page_from_json(row) for row in rows)


def write_atomically(path: Path, entries: Mapping[str, CacheEntry], now: datetime) -> None:
    """A reader never sees half a cache; an interrupted write leaves the old one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".notion-reads-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            write_lines(f, entries, now)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


ROWS_PER_LINE = 500


def write_lines(f: TextIO, entries: Mapping[str, CacheEntry], now: datetime) -> None:
    """The cache as JSON lines: a head, then per resource its entry and its pages, a few hundred
    rows a line (json.dumps a line at a time: json.dump encodes in pure Python, ten times slower;
    and never one string of the whole workspace).

        {"format": 2, "written_at": ..., "resources": N}
        {"resource": NAME, "key": ..., "cursor": ..., ..., "pages": P, "trashed": T or null}
        [[page row], ...]            (P rows in all, then T trashed rows)
    """
    f.write(_dumps({"format": CACHE_FORMAT, "written_at": iso(now), "resources": len(entries)}) + "\n")
    for name, entry in sorted(entries.items()):
        head = entry_to_json(replace(entry, pages=(), trashed=None))
        f.write(_dumps({"resource": name, **head, "pages": len(entry.pages), "trashed": _count(entry.trashed)}) + "\n")
        for rows in (entry.pages, entry.trashed or ()):
            for start in range(0, len(rows), ROWS_PER_LINE):
                f.write(_dumps([page_to_json(p) for p in rows[start : start + ROWS_PER_LINE]]) + "\n")


def _count(pages: tuple[PageState, ...] | None) -> int | None:
    return None if pages is None else len(pages)


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def entry_to_json(e: CacheEntry) -> dict[str, Any]:
    return {
        "key": vars(e.key),
        "cursor": e.cursor,
        "full_read_at": e.full_read_at,
        "incremental_reads": e.incremental_reads,
        "read_at": e.read_at,
        "pages": [page_to_json(p) for p in e.pages],
        "trashed": None if e.trashed is None else [page_to_json(p) for p in e.trashed],
    }


def entry_from_json(
    raw: dict[str, Any], pages: tuple[PageState, ...] | None = None, trashed: tuple[PageState, ...] | None = None
) -> CacheEntry:
    """An entry from its JSON form; its pages from `raw` unless given (read line by line)."""
    if pages is None:
        pages = tuple(page_from_json(p) for p in raw["pages"])
        trashed = None if raw["trashed"] is None else tuple(page_from_json(p) for p in raw["trashed"])
    return CacheEntry(
        key=CacheKey(**{k: str(v) for k, v in raw["key"].items()}),
        cursor=str(raw["cursor"]),
        full_read_at=str(raw["full_read_at"]),
        incremental_reads=int(raw["incremental_reads"]),
        read_at=str(raw["read_at"]),
        pages=pages,
        trashed=trashed,
    )


_PAGE_FIELDS = (
    "url",
    "raw_key",
    "last_edited_time",
    "created_time",
    "created_by",
    "last_edited_by",
    "title",
    "icon",
    "cover",
)

_SHARED_FIELDS = ("last_edited_time", "created_time", "created_by", "last_edited_by", "icon")


def page_to_json(p: PageState) -> list[Any]:
    """A page as a compact list (the file holds thousands): id, key, values, trash flag, the rest."""
    values = {k: value_to_json(v) for k, v in p.values.items()}
    return [p.page_id, p.key, values, p.in_trash, *(getattr(p, f) for f in _PAGE_FIELDS)]


def page_from_json(raw: list[Any]) -> PageState:
    page_id, key, values, in_trash, *rest = raw
    if len(rest) != len(_PAGE_FIELDS) or not isinstance(values, dict):
        raise ValueError("a cached page has the wrong shape")
    fields = dict(zip(_PAGE_FIELDS, rest, strict=True))
    for name in _SHARED_FIELDS:  # one string each for thousands of pages, as a read from Notion has
        if isinstance(fields[name], str):
            fields[name] = sys.intern(fields[name])
    return PageState(
        page_id=str(page_id),
        key=None if key is None else str(key),
        values={str(k): value_from_json(v) for k, v in values.items()},
        in_trash=bool(in_trash),
        **fields,
    )


def value_to_json(value: Value) -> Any:
    return list(value) if isinstance(value, tuple) else value


def value_from_json(value: Any) -> Value:
    """Canonical values are scalars or tuples of strings: a list in the file was a tuple."""
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise ValueError("a cached value has the wrong shape")


# ── times ────────────────────────────────────────────────────────────────────────────────────────


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def parsed(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def minus_seconds(moment: str, seconds: float) -> str:
    """An ISO time `seconds` earlier, in Notion's form (UTC, milliseconds, Z)."""
    start = parsed(moment)
    if start is None:
        return ""
    earlier = start - timedelta(seconds=seconds)
    return earlier.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{earlier.microsecond // 1000:03d}Z"


def latest_edit(pages: Iterable[PageState], since: str = "") -> str:
    """The latest last_edited_time among these pages and `since` (ISO strings of one form compare
    as times; Notion's are all "YYYY-MM-DDTHH:MM:00.000Z")."""
    stamps = [t for t in (p.last_edited_time for p in pages) if t]
    best = since
    for stamp in stamps:
        moment, current = parsed(stamp), parsed(best) if best else None
        if moment is not None and (current is None or moment > current):
            best = stamp
    return best
