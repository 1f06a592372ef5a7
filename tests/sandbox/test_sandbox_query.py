"""Data source query: filters per type and operator, compound nesting, sorts, cursors, the cap, trash."""

from __future__ import annotations

from typing import Any

import pytest
from notion_client import APIResponseError, Client

from notion_sandbox.server import SandboxServer
from tests.support.sandbox import PARENT_PAGE, row, title

ROWS = [
    # name, notes, count, done, when, tag, tags, site
    ("Alpha", "first row", 1, True, "2025-01-10", "red", ["a", "b"], "https://a.example"),
    ("beta", "", 5, False, "2025-02-01T10:30:00.000Z", "blue", ["b"], None),
    ("Gamma", "Mixed Case Notes", None, True, None, None, [], "https://g.example"),
    ("delta", "last one", 12.5, False, "2025-03-15", "red", ["c"], None),
]


@pytest.fixture
def ds(notion: Client) -> str:
    db = notion.databases.create(
        parent={"page_id": PARENT_PAGE},
        title=title("Table"),
        initial_data_source={
            "properties": {
                "Name": {"title": {}},
                "Notes": {"rich_text": {}},
                "Count": {"number": {}},
                "Done": {"checkbox": {}},
                "When": {"date": {}},
                "Tag": {"select": {"options": [{"name": "red"}, {"name": "blue"}]}},
                "Tags": {"multi_select": {}},
                "Site": {"url": {}},
                "State": {"status": {}},
            }
        },
    )
    ds_id = db["data_sources"][0]["id"]
    for name, notes, count, done, when, tag, tags, site in ROWS:
        row(
            notion,
            ds_id,
            name,
            Notes={"rich_text": title(notes) if notes else []},
            Count={"number": count},
            Done={"checkbox": done},
            When={"date": {"start": when} if when else None},
            Tag={"select": {"name": tag} if tag else None},
            Tags={"multi_select": [{"name": t} for t in tags]},
            Site={"url": site},
        )
    return ds_id


def names(notion: Client, ds: str, **query: Any) -> list[str]:
    res = notion.data_sources.query(data_source_id=ds, **query)
    return ["".join(t["plain_text"] for t in p["properties"]["Name"]["title"]) for p in res["results"]]


FILTERS = [
    ({"property": "Name", "title": {"equals": "beta"}}, ["beta"]),
    ({"property": "Name", "title": {"does_not_equal": "beta"}}, ["Alpha", "Gamma", "delta"]),
    ({"property": "Name", "title": {"contains": "ALP"}}, ["Alpha"]),
    ({"property": "Name", "title": {"does_not_contain": "a"}}, []),
    ({"property": "Name", "title": {"starts_with": "d"}}, ["delta"]),
    ({"property": "Name", "title": {"ends_with": "MA"}}, ["Gamma"]),
    ({"property": "Notes", "rich_text": {"is_empty": True}}, ["beta"]),
    ({"property": "Notes", "rich_text": {"is_not_empty": True}}, ["Alpha", "Gamma", "delta"]),
    ({"property": "Notes", "rich_text": {"contains": "case"}}, ["Gamma"]),
    ({"property": "Count", "number": {"equals": 5}}, ["beta"]),
    ({"property": "Count", "number": {"does_not_equal": 5}}, ["Alpha", "Gamma", "delta"]),
    ({"property": "Count", "number": {"greater_than": 1}}, ["beta", "delta"]),
    ({"property": "Count", "number": {"less_than": 5}}, ["Alpha"]),
    ({"property": "Count", "number": {"greater_than_or_equal_to": 5}}, ["beta", "delta"]),
    ({"property": "Count", "number": {"less_than_or_equal_to": 5}}, ["Alpha", "beta"]),
    ({"property": "Count", "number": {"is_empty": True}}, ["Gamma"]),
    ({"property": "Count", "number": {"is_not_empty": True}}, ["Alpha", "beta", "delta"]),
    ({"property": "Done", "checkbox": {"equals": True}}, ["Alpha", "Gamma"]),
    ({"property": "Done", "checkbox": {"does_not_equal": True}}, ["beta", "delta"]),
    ({"property": "When", "date": {"equals": "2025-02-01"}}, ["beta"]),
    ({"property": "When", "date": {"before": "2025-02-01"}}, ["Alpha"]),
    ({"property": "When", "date": {"after": "2025-02-01"}}, ["delta"]),
    ({"property": "When", "date": {"on_or_before": "2025-02-01"}}, ["Alpha", "beta"]),
    ({"property": "When", "date": {"on_or_after": "2025-02-01T10:30:00Z"}}, ["beta", "delta"]),
    ({"property": "When", "date": {"after": "2025-02-01T10:30:00Z"}}, ["delta"]),
    ({"property": "When", "date": {"is_empty": True}}, ["Gamma"]),
    ({"property": "When", "date": {"is_not_empty": True}}, ["Alpha", "beta", "delta"]),
    ({"property": "Tag", "select": {"equals": "red"}}, ["Alpha", "delta"]),
    ({"property": "Tag", "select": {"does_not_equal": "red"}}, ["beta", "Gamma"]),
    ({"property": "Tag", "select": {"is_empty": True}}, ["Gamma"]),
    ({"property": "Tags", "multi_select": {"contains": "b"}}, ["Alpha", "beta"]),
    ({"property": "Tags", "multi_select": {"does_not_contain": "b"}}, ["Gamma", "delta"]),
    ({"property": "Tags", "multi_select": {"is_empty": True}}, ["Gamma"]),
    ({"property": "Site", "url": {"is_not_empty": True}}, ["Alpha", "Gamma"]),
    ({"property": "Site", "url": {"contains": "g.ex"}}, ["Gamma"]),
    ({"property": "State", "status": {"is_empty": True}}, ["Alpha", "beta", "Gamma", "delta"]),
    (
        {"or": [{"property": "Count", "number": {"equals": 1}}, {"property": "Name", "title": {"equals": "delta"}}]},
        ["Alpha", "delta"],
    ),
    (
        {
            "and": [
                {"property": "Done", "checkbox": {"equals": False}},
                {
                    "or": [
                        {"property": "Tag", "select": {"equals": "blue"}},
                        {"property": "Count", "number": {"equals": 12.5}},
                    ]
                },
            ]
        },
        ["beta", "delta"],
    ),
    ({"timestamp": "created_time", "created_time": {"on_or_after": "2000-01-01"}}, ["Alpha", "beta", "Gamma", "delta"]),
    ({"timestamp": "last_edited_time", "last_edited_time": {"before": "2000-01-01"}}, []),
]


@pytest.mark.parametrize(("flt", "expected"), FILTERS)
def test_filters(notion: Client, ds: str, flt: dict[str, Any], expected: list[str]) -> None:
    assert names(notion, ds, filter=flt) == expected


SORTS = [
    ([{"property": "Name", "direction": "ascending"}], ["Alpha", "beta", "delta", "Gamma"]),
    ([{"property": "Count", "direction": "descending"}], ["delta", "beta", "Alpha", "Gamma"]),
    ([{"property": "Count", "direction": "ascending"}], ["Alpha", "beta", "delta", "Gamma"]),
    ([{"property": "When", "direction": "descending"}], ["delta", "beta", "Alpha", "Gamma"]),
    (
        [{"property": "Tag", "direction": "ascending"}, {"property": "Name", "direction": "descending"}],
        ["delta", "Alpha", "beta", "Gamma"],
    ),
    ([{"timestamp": "created_time", "direction": "descending"}], ["delta", "Gamma", "beta", "Alpha"]),
    ([{"property": "Done", "direction": "ascending"}], ["beta", "delta", "Alpha", "Gamma"]),
]


@pytest.mark.parametrize(("sorts", "expected"), SORTS)
def test_sorts(sb: SandboxServer, notion: Client, ds: str, sorts: list[dict[str, Any]], expected: list[str]) -> None:
    assert names(notion, ds, sorts=sorts) == expected


def test_default_order_is_creation_order_and_cursors_are_opaque(notion: Client, ds: str) -> None:
    first = notion.data_sources.query(data_source_id=ds, page_size=3)
    assert first["has_more"] is True and first["type"] == "page_or_data_source" and first["page_or_data_source"] == {}
    rest = notion.data_sources.query(data_source_id=ds, page_size=3, start_cursor=first["next_cursor"])
    assert rest["has_more"] is False and rest["next_cursor"] is None
    assert [p["id"] for p in first["results"] + rest["results"]] == [
        p["id"] for p in notion.data_sources.query(data_source_id=ds)["results"]
    ]
    with pytest.raises(APIResponseError):
        notion.data_sources.query(data_source_id=ds, start_cursor="not-a-cursor")


def test_filter_properties_limits_the_properties_shown(notion: Client, ds: str) -> None:
    res = notion.data_sources.query(data_source_id=ds, filter_properties=["title", "Count"])
    assert set(res["results"][0]["properties"]) == {"Name", "Count"}


def test_trashed_pages_only_when_asked(notion: Client, ds: str) -> None:
    page = notion.data_sources.query(data_source_id=ds, page_size=1)["results"][0]
    notion.pages.update(page_id=page["id"], in_trash=True)
    assert "Alpha" not in names(notion, ds)
    assert names(notion, ds, in_trash=True) == ["Alpha"]
    assert names(notion, ds, archived=True) == ["Alpha"]
    assert notion.pages.retrieve(page_id=page["id"])["archived"] is True


def test_query_cap_truncates_with_request_status(sb: SandboxServer, notion: Client, ds: str) -> None:
    for i in range(8):
        row(notion, ds, f"extra {i}")
    sb.admin.settings(query_cap=5)
    first = notion.data_sources.query(data_source_id=ds, page_size=3)
    assert first["has_more"] is True and "request_status" not in first
    second = notion.data_sources.query(data_source_id=ds, page_size=3, start_cursor=first["next_cursor"])
    assert len(second["results"]) == 2
    assert second["has_more"] is False and second["next_cursor"] is None
    assert second["request_status"] == {"type": "incomplete", "incomplete_reason": "query_result_limit_reached"}
    # A narrower query (a created_time window, say) is a new query with its own budget.
    small = notion.data_sources.query(
        data_source_id=ds, filter={"property": "Name", "title": {"starts_with": "extra"}}, page_size=5
    )
    assert len(small["results"]) == 5 and small["has_more"] is False and "request_status" in small
    exact = notion.data_sources.query(data_source_id=ds, filter={"property": "Name", "title": {"starts_with": "A"}})
    assert "request_status" not in exact


def test_a_cursor_continues_with_what_was_written_since(notion: Client, ds: str) -> None:
    # The sandbox keeps a cursor's ordering only until something is written: a page created between
    # two pages of results still shows up in the second, as when the ordering is worked out anew.
    for i in range(4):
        row(notion, ds, f"before {i}")
    first = notion.data_sources.query(data_source_id=ds, page_size=2)
    row(notion, ds, "written between")
    rest: list[str] = []
    cursor = first["next_cursor"]
    while cursor:
        page = notion.data_sources.query(data_source_id=ds, page_size=2, start_cursor=cursor)
        rest += ["".join(t["plain_text"] for t in r["properties"]["Name"]["title"]) for r in page["results"]]
        cursor = page["next_cursor"]
    assert rest[-1] == "written between"
    assert len(first["results"]) + len(rest) == len(names(notion, ds))
