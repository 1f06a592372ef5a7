from __future__ import annotations

from datetime import date, datetime
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconcile.values import (
    READ_ONLY_TYPES,
    WRITABLE_TYPES,
    decode,
    encode,
    encode_relation_batches,
    equal,
    normalise,
    split_text,
)

PAGE_A = "0f3a2b1c-0000-4000-8000-00000000000a"
PAGE_B = "0f3a2b1c-0000-4000-8000-00000000000b"


def echo(prop_type: str, request_value: dict[str, Any]) -> dict[str, Any]:
    """The page property value Notion returns after a write of `request_value`."""
    raw = request_value[prop_type]
    if prop_type in ("title", "rich_text"):
        raw = [{**item, "plain_text": item["text"]["content"], "href": None} for item in raw]
    elif prop_type in ("select", "status") and raw is not None:
        raw = {"id": "opt", "name": raw["name"], "color": "default"}
    elif prop_type == "multi_select":
        raw = [{"id": f"o{i}", "name": o["name"], "color": "default"} for i, o in enumerate(raw)]
    elif prop_type == "date" and raw is not None:
        raw = {**raw, "time_zone": None}
    value = {"id": "p%3Dx", "type": prop_type, prop_type: raw}
    if prop_type == "relation":
        value["has_more"] = False
    return value


def test_type_sets_are_disjoint_and_cover_the_codecs() -> None:
    assert not WRITABLE_TYPES & READ_ONLY_TYPES
    for prop_type in WRITABLE_TYPES:
        normalise(prop_type, None)  # every writable type has a normaliser


@pytest.mark.parametrize(
    ("prop_type", "value", "expected"),
    [
        ("rich_text", None, ""),
        ("rich_text", "a b ", "a b "),
        ("rich_text", 3, "3"),
        ("rich_text", 3.0, "3"),
        ("rich_text", 2.5, "2.5"),
        ("title", "Lambeth", "Lambeth"),
        ("number", None, None),
        ("number", 3, 3),
        ("number", 3.0, 3),
        ("number", 2.5, 2.5),
        ("number", " 7 ", 7),
        ("number", "2.50", 2.5),
        ("number", "", None),
        ("checkbox", None, False),
        ("checkbox", True, True),
        ("checkbox", "FALSE", False),
        ("date", None, None),
        ("date", "", None),
        ("date", "2024-03-01", "2024-03-01"),
        ("date", "2024-03-01T10:00:00", "2024-03-01T10:00:00.000Z"),
        ("date", "2024-03-01T10:00:00Z", "2024-03-01T10:00:00.000Z"),
        ("date", "2024-03-01T10:00:00.123456+01:00", "2024-03-01T09:00:00.123Z"),
        ("date", "2024-03-01/2024-03-05", "2024-03-01/2024-03-05"),
        ("select", "Live", "Live"),
        ("select", None, None),
        ("select", "", None),
        ("status", "Done", "Done"),
        ("multi_select", ["b", "a", "b", ""], ("a", "b")),
        ("multi_select", "a", ("a",)),
        ("multi_select", None, ()),
        ("url", "", None),
        ("url", "https://x.org", "https://x.org"),
        ("email", None, None),
        ("phone_number", 441234, "441234"),
        ("relation", None, ()),
        ("relation", PAGE_B.upper(), (PAGE_B,)),
        ("relation", [PAGE_B, PAGE_A.replace("-", ""), PAGE_B], (PAGE_A, PAGE_B)),
        ("relation", ["new:services:barnet"], ("new:services:barnet",)),
    ],
)
def test_normalise(prop_type: str, value: Any, expected: Any) -> None:
    assert normalise(prop_type, value) == expected
    assert type(normalise(prop_type, value)) is type(expected)


@pytest.mark.parametrize(
    ("prop_type", "value", "message"),
    [
        ("number", "abc", "expected a number, got str 'abc'"),
        ("number", True, "expected a number, got bool True"),
        ("number", float("nan"), "finite"),
        ("number", [1], "expected a number"),
        ("rich_text", ["a", "b"], "expected text, got list"),
        ("rich_text", True, "expected text, got bool"),
        ("rich_text", {"a": 1}, "expected text, got dict"),
        ("checkbox", "maybe", "expected true or false"),
        ("checkbox", 1, "expected true or false"),
        ("date", "01/03/2024x", "expected an ISO date or datetime"),
        ("date", "yesterday", "expected an ISO date or datetime"),
        ("date", 1700000000, "expected an ISO date or datetime, got int"),
        ("select", "a, b", "commas"),
        ("select", ["a"], "expected an option name"),
        ("multi_select", [["a"]], "expected an option name"),
        ("multi_select", {"a": 1}, "expected a list of option names"),
        ("relation", "barnet", "expected a page id (a UUID)"),
        ("relation", [3], "expected a page id, got int"),
        ("url", True, "expected text"),
        ("people", "not an address", "expected an email address"),
        ("people", [3], "expected an email address, got int"),
        ("files", "ftp://example.org/a.pdf", "expected an http(s) file URL"),
        ("files", [{"name": "a"}], "expected an http(s) file URL"),
        ("date", {"start": "2025-01-01T10:00", "time_zone": "Mars/Olympus"}, "unknown time zone"),
        ("date", {"end": "2025-01-01"}, "a date range needs its start"),
        ("unique_id", "PRJ-1", "cannot be written"),
    ],
)
def test_normalise_refuses_with_a_clear_message(prop_type: str, value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        normalise(prop_type, value)


def test_decode_joins_rich_text_segments_and_mentions() -> None:
    prop = {
        "id": "x",
        "type": "rich_text",
        "rich_text": [
            {"type": "text", "text": {"content": "a" * 2000}, "plain_text": "a" * 2000},
            {"type": "text", "text": {"content": "b"}, "plain_text": "b"},
            {"type": "mention", "mention": {}, "plain_text": "@Someone"},
        ],
    }
    assert decode(prop) == "a" * 2000 + "b@Someone"


@pytest.mark.parametrize(
    ("prop", "expected"),
    [
        ({"type": "title", "title": []}, ""),
        ({"type": "number", "number": 3.0}, 3),
        ({"type": "number", "number": None}, None),
        ({"type": "checkbox", "checkbox": False}, False),
        ({"type": "date", "date": None}, None),
        ({"type": "date", "date": {"start": "2025-01-31", "end": None}}, "2025-01-31"),
        (
            {"type": "date", "date": {"start": "2025-01-31T10:00:00.000+00:00", "end": None}},
            "2025-01-31T10:00:00.000Z",
        ),
        (
            {"type": "date", "date": {"start": "2025-07-01T10:00", "time_zone": "Europe/London"}},
            "2025-07-01T09:00:00.000Z",
        ),
        (
            {"type": "date", "date": {"start": "2025-01-01", "end": "2025-01-03"}},
            "2025-01-01/2025-01-03",
        ),
        ({"type": "select", "select": None}, None),
        ({"type": "status", "status": {"id": "1", "name": "Done", "color": "green"}}, "Done"),
        ({"type": "multi_select", "multi_select": [{"name": "b"}, {"name": "a"}]}, ("a", "b")),
        ({"type": "url", "url": None}, None),
        ({"type": "email", "email": ""}, None),
        (
            {"type": "relation", "relation": [{"id": PAGE_B}, {"id": PAGE_A}], "has_more": True},
            (PAGE_A, PAGE_B),
        ),
        ({"type": "formula", "formula": {"type": "number", "number": 4}}, 4),
        ({"type": "unique_id", "unique_id": {"prefix": "PX", "number": 4}}, "PX-4"),
        (
            {"type": "last_edited_time", "last_edited_time": "2025-09-08T15:32:00.000Z"},
            "2025-09-08T15:32:00.000Z",
        ),
    ],
)
def test_decode(prop: dict[str, Any], expected: Any) -> None:
    assert decode({"id": "x", **prop}) == expected


def test_encode_shapes() -> None:
    assert encode("rich_text", "") == {"rich_text": []}
    assert encode("title", "Lambeth") == {"title": [{"type": "text", "text": {"content": "Lambeth"}}]}
    assert encode("number", None) == {"number": None}
    assert encode("date", None) == {"date": None}
    assert encode("date", "2024-03-01") == {"date": {"start": "2024-03-01", "end": None}}
    assert encode("date", "2024-03-01/2024-03-02") == {"date": {"start": "2024-03-01", "end": "2024-03-02"}}
    assert encode("select", None) == {"select": None}
    assert encode("status", "Done") == {"status": {"name": "Done"}}
    assert encode("multi_select", ("a", "b")) == {"multi_select": [{"name": "a"}, {"name": "b"}]}
    assert encode("relation", (PAGE_A,)) == {"relation": [{"id": PAGE_A}]}
    assert encode("url", None) == {"url": None}
    assert encode("checkbox", True) == {"checkbox": True}


def test_long_text_is_split_into_segments_of_at_most_2000() -> None:
    text = "x" * 4500
    items = encode("rich_text", text)["rich_text"]
    assert [len(i["text"]["content"]) for i in items] == [2000, 2000, 500]
    assert "".join(i["text"]["content"] for i in items) == text


def test_split_never_breaks_a_surrogate_pair() -> None:
    text = "a" * 1999 + "😀" + "b"  # the emoji is two UTF-16 units: it cannot fit at 1999
    segments = list(split_text(text))
    assert segments == ["a" * 1999, "😀b"]
    assert all(len(s.encode("utf-16-le")) // 2 <= 2000 for s in segments)


def test_text_needing_more_than_100_segments_is_refused() -> None:
    encode("rich_text", "x" * 200_000)
    with pytest.raises(ValueError, match="at most 100 segments"):
        encode("rich_text", "x" * 200_001)


def test_limits_of_arrays_and_strings() -> None:
    ids = [f"0f3a2b1c-0000-4000-8000-{i:012x}" for i in range(101)]
    with pytest.raises(ValueError, match="at most 100 ids per request"):
        encode("relation", tuple(ids))
    with pytest.raises(ValueError, match="cannot be written through page updates"):
        encode_relation_batches(ids)
    assert encode_relation_batches(ids[:100]) == [encode("relation", tuple(ids[:100]))]
    with pytest.raises(ValueError, match="limit of 100"):
        encode("multi_select", tuple(str(i) for i in range(101)))
    with pytest.raises(ValueError, match="200 limit"):
        encode("email", "a" * 201)
    with pytest.raises(ValueError, match="cannot be written"):
        encode("formula", 1)


@pytest.mark.parametrize(
    ("prop_type", "a", "b", "same"),
    [
        ("number", 3, 3.0, True),
        ("number", 3, "3", True),
        ("number", 3, 4, False),
        ("relation", (PAGE_B, PAGE_A), [PAGE_A, PAGE_B.replace("-", "")], True),
        ("relation", (PAGE_A,), (PAGE_A, PAGE_B), False),
        ("multi_select", ("b", "a"), ["a", "b"], True),
        ("date", "2024-03-01T10:00:00Z", "2024-03-01T10:00:00.000Z", True),
        ("date", "2024-03-01T10:00:00+00:00", "2024-03-01T10:00:00.000Z", True),
        ("date", "2024-03-01", "2024-03-01T00:00:00.000Z", False),
        ("rich_text", "a", "a ", False),
        ("rich_text", None, "", True),
        ("url", "", None, True),
        ("checkbox", None, False, True),
        ("number", "abc", "abc", True),  # unnormalisable values fall back to plain equality
        ("people", [1], [1], True),
    ],
)
def test_equal(prop_type: str, a: Any, b: Any, same: bool) -> None:
    assert equal(prop_type, a, b) is same
    assert equal(prop_type, b, a) is same


# ── properties: decode(echo(encode(v))) == v, and normalise is idempotent ───────────────────────

_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=5000)
_names = st.text(alphabet=st.characters(codec="utf-8", exclude_characters=","), min_size=1, max_size=20)
_ids = st.uuids(version=4).map(str)
_datetimes = st.datetimes(
    min_value=datetime(1900, 1, 1),
    max_value=datetime(2200, 1, 1),
)
_dates = st.dates(
    min_value=date(1900, 1, 1),
    max_value=date(2200, 1, 1),
)

CANONICAL = {
    "title": _text,
    "rich_text": _text,
    "number": st.none()
    | st.integers(-(10**15), 10**15)
    | st.floats(allow_nan=False, allow_infinity=False).map(lambda f: normalise("number", f)),
    "checkbox": st.booleans(),
    "date": st.none() | _dates.map(lambda d: d.isoformat()) | _datetimes.map(lambda d: normalise("date", d)),
    "select": st.none() | _names,
    "status": st.none() | _names,
    "multi_select": st.lists(_names, max_size=100, unique=True).map(lambda v: tuple(sorted(v))),
    "url": st.none() | st.text(min_size=1, max_size=2000),
    "email": st.none() | st.text(min_size=1, max_size=200),
    "phone_number": st.none() | st.text(min_size=1, max_size=200),
    "relation": st.lists(_ids, max_size=100, unique=True).map(lambda v: tuple(sorted(v))),
}


@pytest.mark.slow
@pytest.mark.parametrize("prop_type", sorted(CANONICAL))
def test_round_trip_through_notion_shape(prop_type: str) -> None:
    @given(CANONICAL[prop_type])
    def check(value: Any) -> None:
        assert decode(echo(prop_type, encode(prop_type, value))) == value
        assert normalise(prop_type, value) == value

    check()


SOURCE_VALUES = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)


@pytest.mark.slow
@pytest.mark.parametrize("prop_type", sorted(WRITABLE_TYPES))
def test_normalise_is_idempotent(prop_type: str) -> None:
    @given(SOURCE_VALUES | st.lists(SOURCE_VALUES, max_size=5))
    def check(value: Any) -> None:
        try:
            once = normalise(prop_type, value)
        except ValueError:
            return
        assert normalise(prop_type, once) == once

    check()


def test_the_notion_package_exports_nothing_and_loads_nothing() -> None:
    """The codecs moved to reconcile.values; the package itself defines nothing (its submodules
    appear as attributes only once something imported them)."""
    import reconcile.notion as package

    assert package.__all__ == []
    defined = [n for n, v in vars(package).items() if not n.startswith("_") and not isinstance(v, ModuleType)]
    assert defined == ["annotations"]
