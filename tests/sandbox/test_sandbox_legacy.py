"""Notion-Version 2022-06-28: database routes of the old shape, database parents, the multi-source error."""

from __future__ import annotations

import pytest
from notion_client import APIResponseError, Client

from notion_sandbox.server import SandboxServer
from tests.support.sandbox import LEGACY, PARENT_PAGE, Raw, make_pair, row, title


@pytest.fixture
def old(sb: SandboxServer) -> Client:
    return Client(auth="ntn_sandbox", base_url=sb.url, notion_version=LEGACY, retry=False)


def test_old_database_shape_query_and_database_parent(notion: Client, old: Client) -> None:
    ids = make_pair(notion)
    db = old.databases.retrieve(database_id=ids["services_db"])
    assert "data_sources" not in db
    assert set(db["properties"]) == {"Name", "Description", "Service Count", "ExternalCustomerID", "Councils"}
    assert db["properties"]["Councils"]["relation"]["database_id"] == ids["councils_db"]
    created = old.pages.create(
        parent={"database_id": ids["services_db"]}, properties={"Name": {"title": title("old style")}}
    )
    assert created["parent"] == {"type": "database_id", "database_id": ids["services_db"]}
    found = old.request(path=f"databases/{ids['services_db']}/query", method="POST", body={"page_size": 10})
    assert found["type"] == "page" and found["page"] == {}
    assert [p["id"] for p in found["results"]] == [created["id"]]
    current = notion.pages.retrieve(page_id=created["id"])
    assert current["parent"]["type"] == "data_source_id"

    # notion-client 3.1.0 drops `properties` from databases.update, so send it raw as a 2022 script would.
    updated = old.request(
        path=f"databases/{ids['services_db']}", method="PATCH", body={"properties": {"Notes": {"rich_text": {}}}}
    )
    assert "Notes" in updated["properties"]


def test_old_database_create_with_properties(old: Client) -> None:
    body = {
        "parent": {"page_id": PARENT_PAGE},
        "title": title("Legacy"),
        "properties": {"Name": {"title": {}}, "N": {"number": {}}},
    }
    db = old.request(path="databases", method="POST", body=body)
    assert set(db["properties"]) == {"Name", "N"} and db["archived"] is False


def test_multi_source_database_is_refused_under_the_old_version(notion: Client, old: Client, raw: Raw) -> None:
    ids = make_pair(notion)
    second = notion.data_sources.create(
        parent={"type": "database_id", "database_id": ids["services_db"]},
        properties={"Name": {"title": {}}},
        title=title("Second"),
    )
    assert [d["id"] for d in notion.databases.retrieve(database_id=ids["services_db"])["data_sources"]] == [
        ids["services_ds"],
        second["id"],
    ]
    expected = {
        "error_type": "multiple_data_sources_for_database",
        "database_id": ids["services_db"],
        "child_data_source_ids": [ids["services_ds"], second["id"]],
        "minimum_api_version": "2025-09-03",
    }
    calls = [
        lambda: old.databases.retrieve(database_id=ids["services_db"]),
        lambda: old.request(path=f"databases/{ids['services_db']}/query", method="POST", body={}),
        lambda: old.pages.create(parent={"database_id": ids["services_db"]}, properties={}),
        lambda: old.databases.update(database_id=ids["services_db"], properties={}),
    ]
    for call in calls:
        with pytest.raises(APIResponseError) as err:
            call()
        assert err.value.code == "validation_error"
        assert str(err.value) == "Databases with multiple data sources are not supported in this API version."
        assert err.value.additional_data == expected
    # The current version is fine with it.
    assert row(notion, second["id"], "in the second source")["parent"]["data_source_id"] == second["id"]
