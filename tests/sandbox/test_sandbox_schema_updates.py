"""Data source schema updates (PATCH /v1/data_sources/{id}) through notion-client 3.1.0, with Notion's rules.

Each rule is listed with its source in docs/sandbox.md ("Schema updates").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from notion_client import Client
from notion_client.errors import APIResponseError

from notion_sandbox.server import SandboxServer
from tests.support.sandbox import PARENT_PAGE, Raw, title


def refusal(call: Callable[[], Any]) -> tuple[int, str, str]:
    with pytest.raises(APIResponseError) as raised:
        call()
    return raised.value.status, str(raised.value.code.value), str(raised.value)


def refused(notion: Client, source: str, properties: dict[str, Any]) -> tuple[int, str, str]:
    """The refusal of a schema update."""
    return refusal(lambda: notion.data_sources.update(data_source_id=source, properties=properties))


@pytest.fixture
def source(notion: Client) -> str:
    properties = {
        "Name": {"title": {}},
        "Notes": {"rich_text": {}},
        "Stage": {"select": {"options": [{"name": "Alpha", "color": "red"}, {"name": "Beta", "color": "blue"}]}},
        "Tags": {"multi_select": {"options": [{"name": "x", "color": "green"}]}},
        "State": {"status": {}},
    }
    created = notion.databases.create(
        parent={"page_id": PARENT_PAGE}, title=title("Schema"), initial_data_source={"properties": properties}
    )
    return created["data_sources"][0]["id"]


def schema(notion: Client, source: str) -> dict[str, Any]:
    return notion.data_sources.retrieve(data_source_id=source)["properties"]


def options(notion: Client, source: str, name: str) -> list[tuple[str, str]]:
    prop = schema(notion, source)[name]
    return [(o["name"], o["color"]) for o in prop[prop["type"]]["options"]]


def test_properties_are_added_with_their_configuration(notion: Client, source: str) -> None:
    updated = notion.data_sources.update(
        data_source_id=source,
        properties={
            "Budget": {"number": {"format": "pound"}, "description": "Money"},
            "Site": {"type": "url", "url": {}},
            "Owners": {"people": {}},
            "Docs": {"files": {}},
            "Phase": {"status": {}},
            "Kind": {"select": {"options": [{"name": "A", "color": "purple"}, {"name": "B"}]}},
        },
    )["properties"]
    assert updated["Budget"] | {"id": None} == {
        "id": None,
        "name": "Budget",
        "description": "Money",
        "type": "number",
        "number": {"format": "pound"},
    }
    assert [updated[n]["type"] for n in ("Site", "Owners", "Docs")] == ["url", "people", "files"]
    assert [o["name"] for o in updated["Phase"]["status"]["options"]] == ["Not started", "In progress", "Done"]
    kinds = [(o["name"], o["color"]) for o in updated["Kind"]["select"]["options"]]
    assert kinds[0] == ("A", "purple") and [name for name, _ in kinds] == ["A", "B"]
    assert updated == schema(notion, source)


def test_properties_are_renamed_by_name_or_id(notion: Client, source: str) -> None:
    notes_id = schema(notion, source)["Notes"]["id"]
    renamed = notion.data_sources.update(data_source_id=source, properties={notes_id: {"name": "Remarks"}})
    assert renamed["properties"]["Remarks"]["id"] == notes_id and "Notes" not in renamed["properties"]
    again = notion.data_sources.update(data_source_id=source, properties={"Remarks": {"name": "Comments"}})
    assert again["properties"]["Comments"]["id"] == notes_id
    title_renamed = notion.data_sources.update(data_source_id=source, properties={"title": {"name": "Label"}})
    assert title_renamed["properties"]["Label"]["type"] == "title"
    status, code, message = refused(notion, source, {"Comments": {"name": "Stage"}})
    assert (status, code) == (400, "validation_error") and "Stage" in message


def test_select_options_are_merged_as_notion_does(notion: Client, source: str) -> None:
    page = notion.pages.create(
        parent={"data_source_id": source},
        properties={"Stage": {"select": {"name": "Beta"}}, "Tags": {"multi_select": [{"name": "x"}]}},
    )
    before = {o["name"]: o["id"] for o in schema(notion, source)["Stage"]["select"]["options"]}
    notion.data_sources.update(
        data_source_id=source,
        properties={"Stage": {"select": {"options": [{"name": "Alpha"}, {"name": "Gamma", "color": "yellow"}]}}},
    )
    assert options(notion, source, "Stage") == [("Alpha", "red"), ("Gamma", "yellow")]
    after = {o["name"]: o["id"] for o in schema(notion, source)["Stage"]["select"]["options"]}
    assert after["Alpha"] == before["Alpha"]
    assert notion.pages.retrieve(page_id=page["id"])["properties"]["Stage"]["select"] is None
    renamed = [{"id": after["Alpha"], "name": "Renamed"}, {"name": "Gamma"}]
    notion.data_sources.update(data_source_id=source, properties={"Stage": {"select": {"options": renamed}}})
    assert options(notion, source, "Stage") == [("Alpha", "red"), ("Gamma", "yellow")]
    notion.data_sources.update(
        data_source_id=source, properties={"Tags": {"multi_select": {"options": [{"name": "x"}, {"name": "y"}]}}}
    )
    assert [o["name"] for o in notion.pages.retrieve(page_id=page["id"])["properties"]["Tags"]["multi_select"]] == ["x"]


def test_an_existing_option_keeps_its_colour(notion: Client, source: str) -> None:
    recolour = {"Stage": {"select": {"options": [{"name": "Alpha", "color": "green"}]}}}
    assert refused(notion, source, recolour) == (
        400,
        "validation_error",
        "Cannot update color of select with name: Alpha.",
    )
    tag = schema(notion, source)["Tags"]["multi_select"]["options"][0]["id"]
    by_id = {"Tags": {"multi_select": {"options": [{"id": tag, "color": "red"}]}}}
    assert refused(notion, source, by_id)[2] == (f"Cannot update color of select with id: {tag}.")
    assert options(notion, source, "Stage") == [("Alpha", "red"), ("Beta", "blue")]


def test_status_options_cannot_be_set_through_the_api(notion: Client, source: str) -> None:
    given = {"State": {"status": {"options": [{"name": "Blocked"}]}}}
    assert refused(notion, source, given)[2] == (
        'body failed validation: body.properties.State.status.options should be not present, instead was `[{"name":'
        '"Blocked"}]`.'
    )
    created = {"Flow": {"status": {"options": [{"name": "Blocked"}]}}}
    assert refused(notion, source, created)[0] == 400
    assert (
        refused(notion, source, {"Notes": {"rich_text": {"x": 1}}})[2]
        == "body failed validation: body.properties.Notes.rich_text.x should be not present, instead was `1`."
    )


def test_a_type_change_drops_the_values_and_the_title_stays_a_title(notion: Client, source: str) -> None:
    page = notion.pages.create(
        parent={"data_source_id": source}, properties={"Notes": {"rich_text": title("forty two")}}
    )
    changed = notion.data_sources.update(data_source_id=source, properties={"Notes": {"number": {}}})
    assert changed["properties"]["Notes"]["type"] == "number"
    assert notion.pages.retrieve(page_id=page["id"])["properties"]["Notes"] == {
        "id": changed["properties"]["Notes"]["id"],
        "type": "number",
        "number": None,
    }
    assert refused(notion, source, {"Name": {"rich_text": {}}})[2] == "Cannot change the type of the title property."
    assert refused(notion, source, {"Notes": {"title": {}}})[0] == 400


def test_properties_are_removed_with_null(notion: Client, source: str) -> None:
    page = notion.pages.create(parent={"data_source_id": source}, properties={"Notes": {"rich_text": title("gone")}})
    removed = notion.data_sources.update(data_source_id=source, properties={"Notes": None})
    assert "Notes" not in removed["properties"]
    assert "Notes" not in notion.pages.retrieve(page_id=page["id"])["properties"]
    assert refused(notion, source, {"Notes": None})[2] == ("Notes is not a property that exists.")
    assert refused(notion, source, {"Name": None})[2] == ("Cannot delete the title property.")


def test_a_refused_change_leaves_the_whole_request_undone(notion: Client, source: str) -> None:
    before = schema(notion, source)
    page = notion.pages.create(parent={"data_source_id": source}, properties={"Notes": {"rich_text": title("kept")}})
    mixed = {
        "Added": {"checkbox": {}},
        "Notes": {"name": "Renamed", "number": {}},
        "Stage": {"select": {"options": [{"name": "Alpha", "color": "pink"}]}},
    }
    assert refused(notion, source, mixed)[0] == 400
    assert schema(notion, source) == before
    notes = notion.pages.retrieve(page_id=page["id"])["properties"]["Notes"]
    assert notes["rich_text"][0]["plain_text"] == "kept"


def test_descriptions_and_names_are_checked(notion: Client, source: str) -> None:
    too_long = {"Notes": {"description": "d" * 281}}
    assert refused(notion, source, too_long)[2] == (
        "body failed validation: body.properties.Notes.description.length should be ≤ `280`, instead was `281`."
    )
    nameless = {"Notes": {"name": 7}}
    assert refused(notion, source, nameless)[2] == (
        "body failed validation: body.properties.Notes.name should be a string, instead was `7`."
    )
    described = notion.data_sources.update(data_source_id=source, properties={"Notes": {"description": "Why"}})
    assert described["properties"]["Notes"]["description"] == "Why"


def test_schema_updates_need_the_update_capability() -> None:
    with SandboxServer(port=0, seed="planx", rate_limit=None, tokens=("ntn_all", "ntn_reader:read")) as server:
        raw = Raw(server.url)
        source = "5e541ce5-0000-4000-8000-000000000002"
        body = {"properties": {"Extra": {"checkbox": {}}}}
        denied = raw.call("PATCH", f"/v1/data_sources/{source}", body, token="ntn_reader").json()
        assert (denied["status"], denied["code"]) == (403, "restricted_resource")
        assert raw.call("PATCH", f"/v1/data_sources/{source}", body, token="ntn_all").status_code == 200
