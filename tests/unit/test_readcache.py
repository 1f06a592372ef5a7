"""The read cache's rules (reconcile/readcache.py): when an entry may stand for a resource, and its file form."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reconcile.model import Config, NotionRead, PageState, ReadCacheSettings
from reconcile.readcache import (
    CacheEntry,
    CacheKey,
    ReadSession,
    cache_path,
    entry_from_json,
    entry_to_json,
    integration_fingerprint,
    latest_edit,
    load_session,
    minus_seconds,
    read_entries,
)
from reconcile.state import merged

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
KEY = CacheKey("fp", "db", "ds", "config", "schema")


def page(
    page_id: str, key: str | None = "k", *, edited: str = "2026-12-01T01:00:00.000Z", **values: object
) -> PageState:
    return PageState(
        page_id=page_id,
        url=f"https://notion.so/{page_id}",
        key=key,
        raw_key=key,
        values=dict(values) or {"Name": "x", "Tags": ("a", "b"), "Count": 3, "Done": True, "When": None},  # type: ignore[arg-type]
        last_edited_time=edited,
        created_time="2026-11-01T00:00:00.000Z",
        created_by="bot",
    )


def entry(**changes: object) -> CacheEntry:
    base = CacheEntry(
        key=KEY,
        cursor="2026-12-01T01:30:00.000Z",
        full_read_at="2026-11-30T02:00:00Z",
        incremental_reads=3,
        read_at="2026-12-01T01:30:00Z",
        pages=(page("p1"),),
        trashed=(),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def session(tmp_path: Path, entries: dict[str, CacheEntry] | None = None, **settings: object) -> ReadSession:
    return ReadSession(
        settings=replace(ReadCacheSettings(), **settings),  # type: ignore[arg-type]
        path=tmp_path / "cache.json",
        refresh="auto",
        integration="fp",
        config_digest="config",
        now=NOW,
        entries=entries if entries is not None else {"services": entry()},
    )


def test_a_matching_recent_entry_is_read_incrementally_from_the_cursor_less_the_safety_window(tmp_path: Path) -> None:
    d = session(tmp_path).decide("services", KEY)
    assert (d.mode, d.since) == ("incremental", "2026-12-01T01:20:00.000Z")
    assert d.entry is not None and "600 s safety window" in d.reason


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        (replace(KEY, integration="other"), "another integration"),
        (replace(KEY, data_source_id="other"), "another database or data source"),
        (replace(KEY, config_digest="other"), "another config"),
        (replace(KEY, schema_digest="other"), "schema of a managed property changed"),
    ],
)
def test_an_entry_made_otherwise_means_a_full_read(tmp_path: Path, key: CacheKey, reason: str) -> None:
    d = session(tmp_path).decide("services", key)
    assert d.mode == "full" and reason in d.reason and d.entry is None


def test_a_full_read_is_due_by_age_or_by_count_unless_incremental_is_asked_for(tmp_path: Path) -> None:
    old = session(tmp_path, max_age_s=3600.0)
    assert old.decide("services", KEY).mode == "full"
    assert "read_cache.max_age" in old.decide("services", KEY).reason
    counted = session(tmp_path, full_every=3)
    assert counted.decide("services", KEY).mode == "full"
    assert "read_cache.full_every" in counted.decide("services", KEY).reason
    counted.refresh = "incremental"
    assert counted.decide("services", KEY).mode == "incremental"
    assert session(tmp_path, full_every=4).decide("services", KEY).mode == "incremental"


def test_refresh_full_a_missing_entry_and_a_cache_turned_off_read_in_full(tmp_path: Path) -> None:
    forced = session(tmp_path)
    forced.refresh = "full"
    assert forced.decide("services", KEY).reason == "--refresh full"
    assert session(tmp_path, {}).decide("services", KEY).reason == "no read cache yet"
    assert "read_cache.enabled: false" in session(tmp_path, enabled=False).decide("services", KEY).reason


def test_an_entry_survives_its_file_form_exactly(tmp_path: Path) -> None:
    e = entry(pages=(page("p1"), page("p2", None, Name="", Tags=(), Count=2.5)), trashed=None)
    assert entry_from_json(json.loads(json.dumps(entry_to_json(e)))) == e


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        '{"format": 99, "resources": 0}',
        '{"format": 1, "resources": {"s": {}}}',  # the one-document form of earlier versions
        '{"format": 2, "resources": 1}\n{"resource": "s"}',
        '{"format": 2, "resources": 1}\n{"resource": "s", "pages": 1, "trashed": null}\n{"not": "rows"}',
        "[]",
    ],
)
def test_a_damaged_cache_is_a_warning_and_a_full_read_never_a_crash(tmp_path: Path, content: str) -> None:
    config = Config(path="m.yaml", digest="config", jobs=(), run_log=str(tmp_path / "runs.jsonl"))
    path = cache_path(config)
    path.parent.mkdir(parents=True)
    path.write_text(content, encoding="utf-8")
    s = load_session(config, now=NOW)
    assert s.problem and s.entries == {}
    assert s.decide("services", KEY).mode == "full"
    [warning] = s.diagnostics()
    assert warning.code == "read_cache_unreadable" and warning.severity == "warning"


def test_the_file_holds_a_fingerprint_of_the_token_never_the_token(tmp_path: Path) -> None:
    token = "ntn_secret_abcdefghijklmnopqrstuvwxyz0123456789"
    config = Config(path="m.yaml", digest="config", jobs=(), run_log=str(tmp_path / "runs.jsonl"))
    config = replace(config, notion=replace(config.notion, token=token))
    s = load_session(config, now=NOW)
    s.keep(
        "services", replace(entry(), key=replace(KEY, integration=s.integration)), NotionRead("services", "full", "-")
    )
    s.save()
    text = cache_path(config).read_text(encoding="utf-8")
    assert token not in text and token[4:20] not in text
    assert integration_fingerprint(token) in text and integration_fingerprint(token) != integration_fingerprint("x")


def test_merging_lays_changes_over_the_cache_in_creation_order() -> None:
    cached = (page("a"), page("b"), page("c", None))
    trashed = (page("t"),)
    edited = (replace(page("b"), values={"Name": "new"}), page("t"), page("n"))  # an edit, a restore, a new page
    binned = (page("a"), page("c", None))  # trashed since: one with a key, one without
    live, bin_ = merged(cached, trashed, edited, binned)
    assert [p.page_id for p in live] == ["b", "t", "n"]
    assert live[0].values == {"Name": "new"}
    assert bin_ is not None and [p.page_id for p in bin_] == ["a"]
    # Without knowing the trash, the cache only loses pages to it.
    assert merged(cached, None, (), binned)[1] is None


def test_times() -> None:
    assert minus_seconds("2026-12-01T01:30:00.000Z", 90) == "2026-12-01T01:28:30.000Z"
    assert latest_edit([page("a", edited="2026-12-01T01:31:00.000Z")], "2026-12-01T01:30:00.000Z").startswith(
        "2026-12-01T01:31"
    )


def test_a_property_the_plan_adds_has_the_schema_digest_notion_then_shows() -> None:
    from reconcile.model import MatchKey, PropertyMapping, ResourceConfig, SchemaChange
    from reconcile.plan.schema import planned_schema
    from reconcile.readcache import managed_schema_digest

    resource = ResourceConfig(
        name="services",
        database="db",
        data_source=None,
        mode="upsert",
        match=MatchKey("Key", "slug"),
        properties=(PropertyMapping("Stage", "stage"),),
    )
    live_before = {"Key": {"id": "a1", "name": "Key", "type": "rich_text", "rich_text": {}}}
    planned = planned_schema(
        live_before, [SchemaChange("add", "services", "ds", "Stage", "select", options=("Alpha", "Beta"))]
    )
    live_after = {
        **live_before,
        "Stage": {
            "id": "x%3Ay",
            "name": "Stage",
            "description": None,
            "type": "select",
            "select": {"options": [{"id": "o2", "name": "Beta", "color": "red"}, {"id": "o1", "name": "Alpha"}]},
        },
    }
    assert managed_schema_digest(resource, planned) == managed_schema_digest(resource, live_after)
    renamed = {**live_after, "Stage": {**live_after["Stage"], "select": {"options": [{"name": "Gamma"}]}}}
    assert managed_schema_digest(resource, renamed) != managed_schema_digest(resource, live_after)


def test_the_file_written_in_chunks_reads_back_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import reconcile.readcache as readcache

    monkeypatch.setattr(readcache, "ROWS_PER_LINE", 2)  # several lines, and a last one part full
    pages = tuple(page(f"p{i}", f"k{i}", Name=f"n{i}", Tags=("a",)) for i in range(5))
    kept = {"services": entry(pages=pages, trashed=(page("t", "kt"),)), "councils": entry(trashed=None)}
    s = session(tmp_path, entries={})
    s.loaded = True
    for name, e in kept.items():
        s.keep(name, e, NotionRead(name, "full", "-"))
    s.save()
    lines = s.path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines]  # every line well-formed JSON
    assert len(lines) == 1 + (1 + 1) + (1 + 3 + 1)  # head; councils: 1 page; services: 5 pages by 2, 1 trashed
    entries, problem = readcache.read_entries(s.path)
    assert problem is None and entries == kept


def test_a_session_loads_heads_first_and_each_entrys_pages_when_asked(tmp_path: Path) -> None:
    import reconcile.readcache as readcache

    pages = tuple(page(f"p{i}", f"k{i}", Name=f"n{i}") for i in range(3))
    kept = {"services": entry(pages=pages, trashed=(page("t", "kt"),)), "councils": entry(trashed=None)}
    writer = session(tmp_path, entries={})
    for name, e in kept.items():
        writer.keep(name, e, NotionRead(name, "full", "-"))
    writer.resources = frozenset(kept)
    writer.save()
    entries, unloaded, problem = readcache.read_heads(writer.path)
    assert problem is None and set(unloaded) == set(kept)
    assert all(e.pages == () for e in entries.values())  # no page held yet
    assert {n: replace(e, pages=(), trashed=None) for n, e in kept.items()} == entries
    reader = session(tmp_path, entries=entries)
    reader.unloaded, reader.loaded = unloaded, True
    assert reader.pages_of("services") == (kept["services"].pages, kept["services"].trashed)
    assert reader.pages_of("councils") == (kept["councils"].pages, None)
    assert reader.pages_of("nothing") is None


def test_pages_of_an_entry_another_run_rewrote_meanwhile_are_none(tmp_path: Path) -> None:
    import reconcile.readcache as readcache

    writer = session(tmp_path, entries={})
    writer.resources = frozenset({"services"})
    writer.keep("services", entry(pages=(page("p1", "k1"),)), NotionRead("services", "full", "-"))
    writer.save()
    entries, unloaded, _ = readcache.read_heads(writer.path)
    later = session(tmp_path, entries={})
    later.resources = frozenset({"services"})
    later.keep("services", entry(pages=(page("p2", "k2"),), read_at="later"), NotionRead("services", "full", "-"))
    later.save()
    reader = session(tmp_path, entries=entries)
    reader.unloaded, reader.loaded = unloaded, True
    assert reader.pages_of("services") is None  # the head it loaded is gone: a full read
    assert "services" not in reader.entries


def test_a_full_read_of_every_resource_does_not_parse_the_old_file(tmp_path: Path) -> None:
    s = session(tmp_path, entries={})
    s.path.write_text("{ not json", encoding="utf-8")  # would be a warning, were it read
    s.resources = frozenset({"services"})
    s.keep("services", entry(), NotionRead("services", "full", "-"))
    s.save()
    assert s.problem is None
    entries, problem = read_entries(s.path)
    assert problem is None and set(entries) == {"services"}
