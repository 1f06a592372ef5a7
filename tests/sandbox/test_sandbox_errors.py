"""Every error of FACTS §3.2/§3.8 the sandbox reproduces, with Notion's status, code and exact message."""

from __future__ import annotations

from typing import Any

import pytest
from notion_client import APIResponseError, Client
from notion_client.errors import UnknownHTTPResponseError

from tests.support.sandbox import PARENT_PAGE, Raw, make_pair, row, title

MISSING = "00000000-0000-4000-8000-000000000000"
HINT = "Make sure the relevant pages and databases are shared with your integration."


def error_of(response: Any) -> tuple[int, str, str]:
    body = response.json()
    assert body["object"] == "error" and body["status"] == response.status_code
    assert body["request_id"] == response.headers["x-notion-request-id"]
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    return response.status_code, body["code"], body["message"]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "expected"),
    [
        ("GET", "/v1/nothing/here", {}, (400, "invalid_request_url", "Invalid request URL.")),
        ("PUT", "/v1/users/me", {}, (400, "invalid_request_url", "Invalid request URL.")),
        ("GET", "/v1/nothing/here", {"token": "bogus"}, (400, "invalid_request_url", "Invalid request URL.")),
        (
            "POST",
            "/v1/pages",
            {"content": b"{nope", "token": "bogus"},
            (400, "invalid_json", "Error parsing JSON body."),
        ),
        (
            "GET",
            "/v1/users/me",
            {"token": None, "version": None},
            (401, "unauthorized", 'Authorization header must use the format "Bearer <token>".'),
        ),
        ("GET", "/v1/users/me", {"token": "ntn_wrong"}, (401, "unauthorized", "API token is invalid.")),
        (
            "GET",
            "/v1/users/me",
            {"version": None},
            (
                400,
                "missing_version",
                "Notion-Version header failed validation: Notion-Version header should be defined, instead was "
                "undefined.",
            ),
        ),
        (
            "GET",
            "/v1/pages/not-an-id",
            {},
            (
                400,
                "validation_error",
                'path failed validation: path.page_id should be a valid uuid, instead was `"not-an-id"`.',
            ),
        ),
        (
            "GET",
            f"/v1/pages/{MISSING}",
            {},
            (404, "object_not_found", f"Could not find page with ID: {MISSING}. {HINT}"),
        ),
        (
            "GET",
            f"/v1/pages/{MISSING.replace('-', '')}",
            {},
            (404, "object_not_found", f"Could not find page with ID: {MISSING}. {HINT}"),
        ),
        (
            "GET",
            f"/v1/databases/{MISSING}",
            {},
            (404, "object_not_found", f"Could not find database with ID: {MISSING}. {HINT}"),
        ),
        (
            "GET",
            f"/v1/data_sources/{MISSING}",
            {},
            (404, "object_not_found", f"Could not find data_source with ID: {MISSING}. {HINT}"),
        ),
        (
            "DELETE",
            f"/v1/blocks/{MISSING}",
            {},
            (404, "object_not_found", f"Could not find block with ID: {MISSING}. {HINT}"),
        ),
        (
            "GET",
            f"/v1/data_sources/{MISSING}",
            {"version": "2022-06-28"},
            (400, "invalid_request_url", "Invalid request URL."),
        ),
        (
            "POST",
            f"/v1/databases/{MISSING}/query",
            {"body": {}},
            (400, "invalid_request_url", "Invalid request URL."),
        ),
        (
            "POST",
            "/v1/pages",
            {"body": {"parent": {"page_id": PARENT_PAGE}, "colour": "red"}},
            (
                400,
                "validation_error",
                'body failed validation: body.colour should be not present, instead was `"red"`.',
            ),
        ),
    ],
)
def test_request_level_errors(raw: Raw, method: str, path: str, kwargs: dict[str, Any], expected: tuple) -> None:
    assert error_of(raw.call(method, path, **kwargs)) == expected


@pytest.fixture
def ids(notion: Client) -> dict[str, str]:
    return make_pair(notion)


def create_error(raw: Raw, ds: str, properties: dict[str, Any]) -> tuple[int, str, str]:
    body = {"parent": {"type": "data_source_id", "data_source_id": ds}, "properties": properties}
    return error_of(raw.call("POST", "/v1/pages", body))


def test_text_over_2000_characters(raw: Raw, ids: dict[str, str]) -> None:
    got = create_error(raw, ids["services_ds"], {"Description": {"rich_text": title("x" * 3659)}})
    assert got == (
        400,
        "validation_error",
        "body failed validation: body.properties.Description.rich_text[0].text.content.length should be ≤ `2000`, "
        "instead was `3659`.",
    )


def test_array_over_100_items(raw: Raw, ids: dict[str, str]) -> None:
    got = create_error(raw, ids["services_ds"], {"Description": {"rich_text": title("x") * 101}})
    assert got[2] == (
        "body failed validation: body.properties.Description.rich_text.length should be ≤ `100`, instead was `101`."
    )
    children = [{"paragraph": {}}] * 101
    body = {"parent": {"data_source_id": ids["services_ds"]}, "children": children}
    assert error_of(raw.call("POST", "/v1/pages", body))[2] == (
        "body failed validation: body.children.length should be ≤ `100`, instead was `101`."
    )


def test_relation_over_100_ids(raw: Raw, ids: dict[str, str]) -> None:
    refs = [{"id": f"00000000-0000-4000-8000-{i:012d}"} for i in range(101)]
    got = create_error(raw, ids["services_ds"], {"Councils": {"relation": refs}})
    assert (
        got[2]
        == "body failed validation: body.properties.Councils.relation.length should be ≤ `100`, instead was `101`."
    )


def test_unknown_property_and_wrong_type(raw: Raw, ids: dict[str, str]) -> None:
    assert create_error(raw, ids["services_ds"], {"Colour": {"rich_text": []}}) == (
        400,
        "validation_error",
        "Colour is not a property that exists.",
    )
    assert create_error(raw, ids["services_ds"], {"Description": {"number": 1}})[2] == (
        "Description is expected to be rich_text."
    )


def test_relation_target_outside_the_related_data_source(raw: Raw, notion: Client, ids: dict[str, str]) -> None:
    other = row(notion, ids["services_ds"], "not a council")
    got = create_error(raw, ids["services_ds"], {"Councils": {"relation": [{"id": other["id"]}]}})
    assert got[:2] == (400, "validation_error") and other["id"] in got[2]


def test_read_only_property_write_is_refused(raw: Raw, notion: Client) -> None:
    db = notion.databases.create(
        parent={"page_id": PARENT_PAGE},
        title=title("T"),
        initial_data_source={"properties": {"Name": {"title": {}}, "Made": {"created_time": {}}}},
    )
    ds = db["data_sources"][0]["id"]
    status, code, message = create_error(raw, ds, {"Made": {"created_time": "2025-01-01T00:00:00.000Z"}})
    assert (status, code) == (400, "validation_error")
    assert message.startswith("body failed validation. Fix one:\nbody.properties.Made.title should be defined")
    assert create_error(raw, ds, {"Made": {"rich_text": []}})[2] == "Made is expected to be created_time."


def test_status_options_cannot_be_created_by_a_page_write(raw: Raw, notion: Client) -> None:
    db = notion.databases.create(
        parent={"page_id": PARENT_PAGE},
        title=title("T"),
        initial_data_source={"properties": {"Name": {"title": {}}, "State": {"status": {}}, "Tag": {"select": {}}}},
    )
    ds = db["data_sources"][0]["id"]
    assert create_error(raw, ds, {"State": {"status": {"name": "Brand new"}}})[:2] == (400, "validation_error")
    assert create_error(raw, ds, {"Tag": {"select": {"name": "High, really"}}})[2] == (
        "Invalid select option, commas not allowed: High, really"
    )
    created = row(notion, ds, "ok", State={"status": {"name": "Done"}}, Tag={"select": {"name": "New"}})
    assert created["properties"]["State"]["status"]["name"] == "Done"
    options = notion.data_sources.retrieve(data_source_id=ds)["properties"]["Tag"]["select"]["options"]
    assert [o["name"] for o in options] == ["New"]


def test_query_errors(raw: Raw, ids: dict[str, str]) -> None:
    path = f"/v1/data_sources/{ids['services_ds']}/query"
    cases = [
        (
            {"filter": {"property": "Colour", "rich_text": {"equals": "x"}}},
            "Could not find property with name or id: Colour",
        ),
        (
            {"sorts": [{"property": "Colour", "direction": "ascending"}]},
            "Could not find sort property with name or id: Colour",
        ),
        (
            {"filter": {"property": "Service Count", "rich_text": {"equals": "x"}}},
            "The property type in the database does not match the property type of the filter provided: "
            "database property number does not match filter rich_text",
        ),
        (
            {"page_size": "ten"},
            'body failed validation: body.page_size should be a number or `undefined`, instead was `"ten"`.',
        ),
        (
            {"page_size": 101},
            "body failed validation: body.page_size should be ≤ `100` or `undefined`, instead was `101`.",
        ),
    ]
    for body, message in cases:
        assert error_of(raw.call("POST", path, body)) == (400, "validation_error", message)
    deep = {"and": [{"or": [{"and": [{"property": "Name", "title": {"is_empty": True}}]}]}]}
    assert error_of(raw.call("POST", path, {"filter": deep}))[:2] == (400, "validation_error")


def test_editing_a_trashed_page(raw: Raw, notion: Client, ids: dict[str, str]) -> None:
    page = row(notion, ids["services_ds"], "gone")
    notion.pages.update(page_id=page["id"], in_trash=True)
    with pytest.raises(APIResponseError) as err:
        notion.pages.update(page_id=page["id"], properties={"Name": {"title": title("edited")}})
    assert str(err.value) == "Can't edit block that is archived. You must unarchive the block before editing."
    restored = notion.pages.update(page_id=page["id"], archived=False, properties={"Name": {"title": title("back")}})
    assert restored["in_trash"] is False and restored["archived"] is False


def test_body_over_500kb(raw: Raw, ids: dict[str, str]) -> None:
    body = {
        "parent": {"data_source_id": ids["services_ds"]},
        "properties": {},
        "children": [],
        "markdown": "x" * 600_000,
    }
    status, code, _ = error_of(raw.call("POST", "/v1/pages", body))
    assert (status, code) == (400, "validation_error")


def test_notion_client_maps_the_errors_like_notion(sb: Any) -> None:
    anonymous = Client(base_url=sb.url, retry=False)
    with pytest.raises(APIResponseError) as err:
        anonymous.users.me()
    assert err.value.code == "unauthorized" and err.value.status == 401
    no_version = Raw(sb.url).call("GET", "/v1/users/me", version=None)
    assert no_version.status_code == 400
    old = Client(auth="ntn_sandbox", base_url=sb.url, notion_version="2022-06-28", retry=False)
    with pytest.raises(APIResponseError) as err:
        old.data_sources.retrieve(data_source_id=MISSING)
    assert err.value.code == "invalid_request_url"
    assert not isinstance(err.value, UnknownHTTPResponseError)


# A failure deeper than the others is reported alone; a wrong value right under the type key fails at the depth of the
# other alternatives' "should be defined", so Notion lists them all after "Fix one:" (docs/sandbox.md).
ALONE = "body failed validation: "
LISTED = "body failed validation. Fix one:\n"


@pytest.mark.parametrize(
    ("prop", "value", "prefix", "line"),
    [
        ("Site", {"url": "https://x/" + "a" * 2000}, ALONE, "body.properties.Site.url.length should be ≤ `2000`"),
        ("Mail", {"email": "a" * 201}, ALONE, "body.properties.Mail.email.length should be ≤ `200`"),
        (
            "Mail",
            {"email": "😀" * 150},
            ALONE,
            "body.properties.Mail.email.length should be ≤ `200`, instead was `300`",
        ),
        ("Phone", {"phone_number": "1" * 201}, ALONE, "body.properties.Phone.phone_number.length should be ≤ `200`"),
        ("When", {"date": {"start": "yesterday"}}, ALONE, "body.properties.When.date.start should be a valid ISO 8601"),
        (
            "Done",
            {"checkbox": "yes"},
            LISTED,
            'body.properties.Done.checkbox should be a boolean, instead was `"yes"`.',
        ),
        (
            "Count",
            {"number": "5"},
            LISTED,
            'body.properties.Count.number should be a number or `null`, instead was `"5"`.',
        ),
        (
            "Tags",
            {"multi_select": [{"name": "x"}] * 101},
            ALONE,
            "body.properties.Tags.multi_select.length should be ≤ `100`",
        ),
    ],
)
def test_value_validation_per_type(
    raw: Raw, notion: Client, prop: str, value: dict[str, Any], prefix: str, line: str
) -> None:
    db = notion.databases.create(
        parent={"page_id": PARENT_PAGE},
        title=title("Types"),
        initial_data_source={
            "properties": {
                "Name": {"title": {}},
                "Site": {"url": {}},
                "Mail": {"email": {}},
                "Phone": {"phone_number": {}},
                "When": {"date": {}},
                "Done": {"checkbox": {}},
                "Count": {"number": {}},
                "Tags": {"multi_select": {}},
            }
        },
    )
    status, code, got = create_error(raw, db["data_sources"][0]["id"], {prop: value})
    assert (status, code) == (400, "validation_error")
    assert got.startswith(prefix) and line in got
    ok = row(notion, db["data_sources"][0]["id"], "fine", Mail={"email": "a@b.example"}, Phone={"phone_number": "+44"})
    assert ok["properties"]["Mail"]["email"] == "a@b.example" and ok["properties"]["Phone"]["phone_number"] == "+44"
