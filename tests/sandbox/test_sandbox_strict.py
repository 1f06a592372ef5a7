"""Strict by default: UTF-16 lengths, closed value shapes, ISO 8601 dates in Notion's form, lifecycle refusals.

Each rule is listed with its source in docs/sandbox.md ("Strict rules").
"""

from __future__ import annotations

from typing import Any

import pytest
from notion_client import Client

from tests.support.sandbox import CURRENT, LEGACY, PARENT_PAGE, Raw, title

EMOJI = "😀"  # one code point, two UTF-16 code units
TYPES: dict[str, Any] = {
    "Name": {"title": {}},
    "Notes": {"rich_text": {}},
    "Count": {"number": {}},
    "When": {"date": {}},
    "Stage": {"select": {"options": [{"name": "Alpha", "color": "red"}]}},
    "Tags": {"multi_select": {}},
    "Site": {"url": {}},
    "Mail": {"email": {}},
    "Phone": {"phone_number": {}},
    "Docs": {"files": {}},
    "State": {"status": {}},
}


def error_of(response: Any) -> tuple[int, str, str]:
    body = response.json()
    assert body["object"] == "error" and body["status"] == response.status_code
    return response.status_code, body["code"], body["message"]


@pytest.fixture
def source(notion: Client) -> str:
    created = notion.databases.create(
        parent={"page_id": PARENT_PAGE}, title=title("Strict"), initial_data_source={"properties": TYPES}
    )
    return created["data_sources"][0]["id"]


def create(raw: Raw, source: str, properties: dict[str, Any], version: str = CURRENT) -> Any:
    body = {"parent": {"data_source_id": source}, "properties": properties}
    return raw.call("POST", "/v1/pages", body, version=version)


def refused(raw: Raw, source: str, properties: dict[str, Any]) -> str:
    status, code, message = error_of(create(raw, source, properties))
    assert (status, code) == (400, "validation_error"), message
    return message


# ---------------------------------------------------------------- UTF-16 lengths


def test_text_length_counts_utf16_code_units(raw: Raw, source: str) -> None:
    message = refused(raw, source, {"Name": {"title": title(EMOJI * 1001)}})
    assert message == (
        "body failed validation: body.properties.Name.title[0].text.content.length should be ≤ `2000`, "
        "instead was `2002`."
    )
    assert create(raw, source, {"Name": {"title": title(EMOJI * 1000)}}).status_code == 200


@pytest.mark.parametrize(
    ("prop", "value", "line"),
    [
        ("Mail", {"email": EMOJI * 101}, "body.properties.Mail.email.length should be ≤ `200`, instead was `202`."),
        ("Phone", {"phone_number": EMOJI * 101}, "body.properties.Phone.phone_number.length should be ≤ `200`"),
        ("Site", {"url": "https://x/" + EMOJI * 996}, "body.properties.Site.url.length should be ≤ `2000`"),
        ("Tags", {"multi_select": [{"name": EMOJI * 51}]}, "body.properties.Tags.multi_select[0].name.length"),
        ("Notes", {"rich_text": [{"text": {"content": "x", "link": {"url": EMOJI * 1001}}}]}, "link.url.length"),
    ],
)
def test_every_string_limit_counts_utf16(raw: Raw, source: str, prop: str, value: Any, line: str) -> None:
    assert line in refused(raw, source, {prop: value})


def test_empty_strings_are_not_values(raw: Raw, source: str) -> None:
    message = refused(raw, source, {"Site": {"url": ""}})
    assert message == "body failed validation: body.properties.Site.url.length should be ≥ `1`, instead was `0`."
    assert create(raw, source, {"Site": {"url": None}}).status_code == 200


# ---------------------------------------------------------------- value shapes


def test_an_unknown_key_inside_a_value_fails_like_notions_union(raw: Raw, source: str) -> None:
    message = refused(raw, source, {"Count": {"number": 5, "foo": 1}})
    lines = message.split("\n")
    assert lines[0] == "body failed validation. Fix one:"
    assert "body.properties.Count.foo should be not present, instead was `1`." in lines
    assert "body.properties.Count.title should be defined, instead was `undefined`." in lines
    assert len(lines) == 15  # one line per writable type


def test_two_type_keys_in_one_value_are_refused(raw: Raw, source: str) -> None:
    message = refused(raw, source, {"Count": {"number": 5, "rich_text": []}})
    assert "body.properties.Count.rich_text should be not present, instead was `[]`." in message
    assert "body.properties.Count.number should be not present, instead was `5`." in message


def test_a_type_key_that_disagrees_with_the_value_is_refused(raw: Raw, source: str) -> None:
    message = refused(raw, source, {"Count": {"type": "rich_text", "number": 5}})
    assert 'body.properties.Count.type should be `"number"`, instead was `"rich_text"`.' in message


def test_select_colours_are_notions(raw: Raw, source: str) -> None:
    message = refused(raw, source, {"Stage": {"select": {"name": "Beta", "color": "teal"}}})
    assert message.startswith('body failed validation: body.properties.Stage.select.color should be `"default"`')
    assert message.endswith('or `"red"`, instead was `"teal"`.')
    assert refused(raw, source, {"Stage": {"select": {"name": "Alpha", "color": "blue"}}}) == (
        "Select option color doesn't match existing"
    )
    made = create(raw, source, {"Stage": {"select": {"name": "Beta", "color": "green"}}}).json()
    assert made["properties"]["Stage"]["select"]["color"] == "green"


def test_schema_options_need_notions_colours(raw: Raw) -> None:
    body = {
        "parent": {"page_id": PARENT_PAGE},
        "initial_data_source": {"properties": {"S": {"select": {"options": [{"name": "a", "color": "teal"}]}}}},
    }
    status, code, message = error_of(raw.call("POST", "/v1/databases", body))
    assert (status, code) == (400, "validation_error")
    assert "body.initial_data_source.properties.S.select.options[0].color should be" in message


def test_an_unknown_key_inside_a_rich_text_object_is_refused(raw: Raw, source: str) -> None:
    message = refused(raw, source, {"Notes": {"rich_text": [{"text": {"content": "x", "bold": True}}]}})
    assert message == (
        "body failed validation: body.properties.Notes.rich_text[0].text.bold should be not present, "
        "instead was `true`."
    )


@pytest.mark.parametrize(
    "item",
    [
        {"url": "https://example.org/a.pdf"},
        {"name": "a.pdf", "external": {"url": "https://example.org/a.pdf", "size": 3}},
        {"name": "a.pdf", "external": {}},
        {"external": {"url": "https://example.org/a.pdf"}},
        "https://example.org/a.pdf",
    ],
)
def test_garbage_files_items_are_refused(raw: Raw, source: str, item: Any) -> None:
    refused(raw, source, {"Docs": {"files": [item]}})


def test_a_files_item_without_its_type_key_lists_the_alternatives(raw: Raw, source: str) -> None:
    message = refused(raw, source, {"Docs": {"files": [{"name": "a.pdf"}]}})
    assert message == (
        "body failed validation. Fix one:\n"
        "body.properties.Docs.files[0].file should be defined, instead was `undefined`.\n"
        "body.properties.Docs.files[0].external should be defined, instead was `undefined`.\n"
        "body.properties.Docs.files[0].file_upload should be defined, instead was `undefined`."
    )


def test_external_files_are_stored_in_notions_shape(raw: Raw, notion: Client, source: str) -> None:
    item = {"name": "a.pdf", "type": "external", "external": {"url": "https://example.org/a.pdf"}}
    made = create(raw, source, {"Docs": {"files": [item]}}).json()
    assert notion.pages.retrieve(page_id=made["id"])["properties"]["Docs"]["files"] == [item]


def test_nan_is_not_json(raw: Raw, source: str) -> None:
    content = f'{{"parent": {{"data_source_id": "{source}"}}, "properties": {{"Count": {{"number": NaN}}}}}}'
    assert error_of(raw.call("POST", "/v1/pages", content=content.encode()))[1] == "invalid_json"


def test_result_type_is_page_or_data_source(raw: Raw, source: str) -> None:
    status, code, message = error_of(raw.call("POST", f"/v1/data_sources/{source}/query", {"result_type": "row"}))
    assert (status, code) == (400, "validation_error")
    assert message == (
        'body failed validation: body.result_type should be `"page"` or `"data_source"`, instead was `"row"`.'
    )
    create(raw, source, {})
    pages = raw.call("POST", f"/v1/data_sources/{source}/query", {"result_type": "page"}).json()
    sources = raw.call("POST", f"/v1/data_sources/{source}/query", {"result_type": "data_source"}).json()
    assert len(pages["results"]) == 1 and sources["results"] == []


# ---------------------------------------------------------------- dates


@pytest.mark.parametrize(
    "written", ["20250131", "2025-W05", "2025-031", "2025-01-31 10:00:00", "2025-02-30", "31/01/2025"]
)
def test_dates_are_iso_8601_extended_only(raw: Raw, source: str, written: str) -> None:
    message = refused(raw, source, {"When": {"date": {"start": written}}})
    assert message.startswith("body failed validation: body.properties.When.date.start should be a valid ISO 8601")


@pytest.mark.parametrize(
    ("given", "returned"),
    [
        ({"start": "2025-01-31"}, {"start": "2025-01-31", "end": None, "time_zone": None}),
        ({"start": "2025-01-31T10:00:00Z"}, {"start": "2025-01-31T10:00:00.000+00:00", "end": None, "time_zone": None}),
        ({"start": "2025-01-31T10:00"}, {"start": "2025-01-31T10:00:00.000+00:00", "end": None, "time_zone": None}),
        (
            {"start": "2025-01-31T10:00:00.5+02:00"},
            {"start": "2025-01-31T10:00:00.500+02:00", "end": None, "time_zone": None},
        ),
        (
            {"start": "2025-07-01T10:00", "end": "2025-07-01T11:30", "time_zone": "Europe/London"},
            {"start": "2025-07-01T10:00:00.000+01:00", "end": "2025-07-01T11:30:00.000+01:00", "time_zone": None},
        ),
    ],
)
def test_dates_come_back_in_notions_form(raw: Raw, notion: Client, source: str, given: Any, returned: Any) -> None:
    made = create(raw, source, {"When": {"date": given}}).json()
    assert made["properties"]["When"]["date"] == returned
    assert notion.pages.retrieve(page_id=made["id"])["properties"]["When"]["date"] == returned


@pytest.mark.parametrize(
    ("given", "part"),
    [
        ({"start": "2025-07-01", "time_zone": "Europe/London"}, "cannot be a date without a time"),
        ({"start": "2025-07-01T10:00Z", "time_zone": "Europe/London"}, "cannot carry a UTC offset"),
        ({"start": "2025-07-01T10:00", "time_zone": "EST5EDT/Nowhere"}, "time_zone should be a valid IANA time zone"),
        ({"start": "2025-07-01", "stop": "2025-07-02"}, "date.stop should be not present"),
        ({"end": "2025-07-02"}, "date.start should be defined"),
    ],
)
def test_date_objects_are_checked(raw: Raw, source: str, given: Any, part: str) -> None:
    assert part in refused(raw, source, {"When": {"date": given}})


def test_date_filters_compare_the_normalised_values(raw: Raw, notion: Client, source: str) -> None:
    create(raw, source, {"When": {"date": {"start": "2025-01-31T23:30:00-02:00"}}})
    query = {"filter": {"property": "When", "date": {"on_or_after": "2025-02-01T00:00:00Z"}}}
    assert len(raw.call("POST", f"/v1/data_sources/{source}/query", query).json()["results"]) == 1


# ---------------------------------------------------------------- lifecycle


def test_no_pages_in_a_trashed_data_source_or_database(raw: Raw, notion: Client) -> None:
    created = notion.databases.create(parent={"page_id": PARENT_PAGE}, title=title("Bin"))
    source = created["data_sources"][0]["id"]
    notion.data_sources.update(data_source_id=source, in_trash=True)
    archived = "Can't edit block that is archived. You must unarchive the block before editing."
    assert error_of(create(raw, source, {}))[1:] == ("validation_error", archived)
    notion.data_sources.update(data_source_id=source, in_trash=False)
    assert create(raw, source, {}).status_code == 200
    notion.databases.update(database_id=created["id"], in_trash=True)
    assert error_of(create(raw, source, {}))[2] == archived
    legacy = {"parent": {"database_id": created["id"]}, "properties": {}}
    assert error_of(raw.call("POST", "/v1/pages", legacy, version=LEGACY))[2] == archived


def test_no_pages_under_a_trashed_page(raw: Raw, notion: Client) -> None:
    page = notion.pages.create(parent={"page_id": PARENT_PAGE}, properties={"title": title("gone")})
    notion.pages.update(page_id=page["id"], in_trash=True)
    body = {"parent": {"page_id": page["id"]}, "properties": {"title": title("child")}}
    assert error_of(raw.call("POST", "/v1/pages", body))[0] == 400


def test_property_items_are_read_by_id_not_name(raw: Raw, source: str) -> None:
    page = create(raw, source, {"Count": {"number": 3}}).json()
    by_id = raw.call("GET", f"/v1/pages/{page['id']}/properties/{page['properties']['Count']['id']}")
    assert by_id.status_code == 200 and by_id.json()["number"] == 3
    by_name = raw.call("GET", f"/v1/pages/{page['id']}/properties/Count")
    assert error_of(by_name) == (404, "object_not_found", "Could not find property with ID: Count.")


@pytest.mark.parametrize("version", ["2024-01-01", "2025-09-04", "2022-6-28", "latest"])
def test_only_published_notion_versions(raw: Raw, version: str) -> None:
    status, code, message = error_of(raw.call("GET", "/v1/users/me", version=version))
    assert (status, code) == (400, "missing_version")
    assert message.startswith("Notion-Version header failed validation: Notion-Version header should be a valid")


@pytest.mark.parametrize("version", ["2021-08-16", "2022-02-22", "2022-06-28", "2025-09-03", "2026-03-11"])
def test_published_versions_are_served(raw: Raw, version: str) -> None:
    assert raw.call("GET", "/v1/users/me", version=version).status_code == 200
