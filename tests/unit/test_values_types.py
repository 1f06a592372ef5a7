"""The codecs of people, files, zoned dates and ranges, and computed values: laws and Notion's echo.

The echo is the sandbox's own decoding of a request value (notion_sandbox.values, .dates: what
Notion stores and returns, with its sources in docs/sandbox.md), so a round trip here is
"write, then read back what Notion shows".
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notion_sandbox.dates import date_value
from notion_sandbox.values import SHAPES
from reconcile.values import HOSTED_FILE, decode, encode, equal, normalise

ZONES = ("Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "UTC", "Pacific/Chatham")


def notion_echo(prop_type: str, request: dict[str, Any]) -> dict[str, Any]:
    """What Notion returns for a property written with `request` (the sandbox's stored form)."""
    if prop_type == "date":
        return {"type": "date", "date": date_value(request["date"], "body.properties.x.date")}
    stored = SHAPES[prop_type](request[prop_type], f"body.properties.x.{prop_type}")
    if prop_type == "people":
        stored = [{"object": "user", "id": i} for i in stored]
    return {"type": prop_type, prop_type: stored}


moments = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2060, 12, 31), timezones=st.none()).map(
    lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)
)


@settings(max_examples=150, deadline=None)
@given(start=moments, length=st.integers(0, 10**7), zone=st.sampled_from(ZONES), ranged=st.booleans())
def test_a_zoned_datetime_or_range_reads_back_equal(start: datetime, length: int, zone: str, ranged: bool) -> None:
    end = start + timedelta(seconds=length)
    raw = {"start": start.isoformat(), "end": end.isoformat() if ranged else None, "time_zone": zone}
    value = normalise("date", raw)
    assert normalise("date", value) == value  # canonical is a fixed point
    echoed = decode(notion_echo("date", encode("date", value)))
    assert equal("date", value, echoed)
    assert equal("date", echoed, value)


@settings(max_examples=100, deadline=None)
@given(start=moments, zone=st.sampled_from(ZONES))
def test_a_zoned_datetime_differs_from_another_instant(start: datetime, zone: str) -> None:
    value = normalise("date", {"start": start.isoformat(), "time_zone": zone})
    later = normalise("date", {"start": (start + timedelta(minutes=1)).isoformat(), "time_zone": zone})
    assert not equal("date", value, later)


def test_notion_echoes_a_zoned_write_as_offset_time_and_it_compares_equal() -> None:
    value = normalise("date", "2025-07-01T09:00/2025-07-01T17:30[Europe/London]")
    assert value == "2025-07-01T09:00:00.000+01:00/2025-07-01T17:30:00.000+01:00[Europe/London]"
    request = encode("date", value)
    assert request == {
        "date": {"start": "2025-07-01T09:00:00.000", "end": "2025-07-01T17:30:00.000", "time_zone": "Europe/London"}
    }
    echo = notion_echo("date", request)
    assert echo["date"] == {
        "start": "2025-07-01T09:00:00.000+01:00",
        "end": "2025-07-01T17:30:00.000+01:00",
        "time_zone": None,
    }
    assert decode(echo) == "2025-07-01T08:00:00.000Z/2025-07-01T16:30:00.000Z"
    assert equal("date", value, decode(echo))


def test_dates_of_a_range_compare_by_day_and_a_day_is_not_its_midnight() -> None:
    assert normalise("date", {"start": "2025-01-01", "end": "2025-01-31"}) == "2025-01-01/2025-01-31"
    assert equal("date", "2025-01-01/2025-01-31", decode(notion_echo("date", encode("date", "2025-01-01/2025-01-31"))))
    assert not equal("date", "2025-01-01", "2025-01-01T00:00:00.000Z")
    assert not equal("date", "2025-01-01/2025-01-02", "2025-01-01")
    # A zone on a date without time means nothing to Notion (it refuses it): the value stays a date.
    assert normalise("date", {"start": "2025-01-01", "time_zone": "Europe/London"}) == "2025-01-01"


def test_an_aware_datetime_given_a_zone_is_shown_in_that_zone() -> None:
    value = normalise("date", {"start": "2025-01-15T12:00:00Z", "time_zone": "America/New_York"})
    assert value == "2025-01-15T07:00:00.000-05:00[America/New_York]"
    assert equal("date", value, "2025-01-15T12:00:00.000Z")


emails = st.from_regex(r"[a-z][a-z0-9.]{0,10}@[a-z]{1,8}\.(org|com)", fullmatch=True)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.uuids().map(str), max_size=6), st.lists(emails, max_size=4))
def test_people_normalise_to_a_sorted_set_and_are_a_fixed_point(ids: list[str], addresses: list[str]) -> None:
    value = normalise("people", [*ids, *(a.upper() for a in addresses), *ids])
    assert isinstance(value, tuple)
    assert list(value) == sorted(set(value))
    assert set(value) == {*ids, *addresses}
    assert normalise("people", value) == value


@settings(max_examples=100, deadline=None)
@given(st.lists(st.uuids().map(str), max_size=8, unique=True))
def test_people_ids_round_trip_through_notion(ids: list[str]) -> None:
    value = normalise("people", ids)
    assert decode(notion_echo("people", encode("people", value))) == value


def test_people_never_write_an_email() -> None:
    with pytest.raises(ValueError, match="resolved to a user"):
        encode("people", ("alice@example.org",))


urls = st.builds(
    lambda host, path: f"https://{host}.example.org/{path}",
    st.from_regex(r"[a-z]{1,10}", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9_%.-]{0,20}", fullmatch=True),
)
names = st.text(min_size=1, max_size=120).filter(lambda s: s.strip())


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(urls, st.builds(lambda n, u: {"name": n, "url": u}, names, urls)), max_size=6))
def test_external_files_round_trip_in_order(items: list[Any]) -> None:
    value = normalise("files", items)
    assert normalise("files", value) == value
    assert len(value) == len(items)
    echoed = decode(notion_echo("files", encode("files", value)))
    assert echoed == value
    assert equal("files", value, echoed)


def test_a_file_is_named_after_its_url_unless_named() -> None:
    value = normalise("files", ["https://example.org/docs/Site%20plan.pdf", {"name": "Spec", "url": "https://x.org/"}])
    assert value == ("Site plan.pdf <https://example.org/docs/Site%20plan.pdf>", "Spec <https://x.org/>")
    assert not equal("files", value, tuple(reversed(value)))  # Notion keeps the order written


def test_a_hosted_file_reads_without_its_signed_url_and_is_never_an_external_one() -> None:
    hosted = {
        "type": "files",
        "files": [
            {"name": "plan.pdf", "type": "file", "file": {"url": "https://s3/plan.pdf?sig=1", "expiry_time": "x"}}
        ],
    }
    again = {"type": "files", "files": [{**hosted["files"][0], "file": {"url": "https://s3/plan.pdf?sig=2"}}]}
    assert decode(hosted) == decode(again) == (f"plan.pdf <{HOSTED_FILE}>",)
    assert not equal("files", normalise("files", "https://example.org/plan.pdf"), decode(hosted))
    with pytest.raises(ValueError, match="cannot be written back"):
        encode("files", decode(hosted))


def test_computed_values_decode_for_keys_and_compare_as_keys() -> None:
    assert decode({"type": "unique_id", "unique_id": {"prefix": "PRJ", "number": 12}}) == "PRJ-12"
    assert decode({"type": "unique_id", "unique_id": {"prefix": None, "number": 12}}) == 12
    assert equal("unique_id", "12", 12)
    assert decode({"type": "formula", "formula": {"type": "string", "string": "B-7"}}) == "B-7"
    rollup = {
        "type": "rollup",
        "rollup": {
            "type": "array",
            "function": "show_original",
            "array": [
                {"type": "title", "title": [{"plain_text": "Barnet"}]},
                {"type": "multi_select", "multi_select": [{"name": "a"}, {"name": "b"}]},
            ],
        },
    }
    assert decode(rollup) == ("Barnet", "a", "b")
    assert decode({"type": "rollup", "rollup": {"type": "number", "number": 3, "function": "sum"}}) == 3
    for computed in ("unique_id", "formula", "rollup", "created_time", "created_by"):
        with pytest.raises(ValueError, match="cannot be written"):
            encode(computed, "x")


def test_created_time_decodes_to_utc() -> None:
    assert decode({"type": "created_time", "created_time": "2025-01-01T10:00:00.000Z"}) == "2025-01-01T10:00:00.000Z"


def test_a_zoned_value_takes_the_offset_of_its_own_date() -> None:
    assert normalise("date", {"start": "2020-01-15T09:00", "time_zone": "Europe/London"}).endswith(
        "+00:00[Europe/London]"
    )
    assert normalise("date", {"start": "2020-07-15T09:00", "time_zone": "Europe/London"}).endswith(
        "+01:00[Europe/London]"
    )


def test_a_wall_time_the_zone_skips_is_canonical_as_the_instant_it_names() -> None:
    # 02:00 on 14 March 2032 does not exist in New York (clocks go from 02:00 to 03:00).
    value = normalise("date", {"start": "2032-03-14T02:00:00", "end": None, "time_zone": "America/New_York"})
    assert value == "2032-03-14T03:00:00.000-04:00[America/New_York]"
    assert normalise("date", value) == value
