"""Relations: the 25-reference cap, property-item pagination, dual mirroring, reciprocal creation."""

from __future__ import annotations

from notion_client import Client
from notion_client.helpers import collect_paginated_api

from notion_sandbox.server import SandboxServer
from tests.support.sandbox import PARENT_PAGE, make_pair, row, title


def test_relation_has_more_and_property_item_pagination(notion: Client) -> None:
    ids = make_pair(notion)
    councils = [row(notion, ids["councils_ds"], f"Council {i}")["id"] for i in range(130)]
    service = row(notion, ids["services_ds"], "Big", Councils={"relation": [{"id": c} for c in councils[:100]]})
    assert len(service["properties"]["Councils"]["relation"]) == 25
    assert service["properties"]["Councils"]["has_more"] is True
    prop_id = service["properties"]["Councils"]["id"]

    first = notion.pages.properties.retrieve(page_id=service["id"], property_id=prop_id, page_size=40)
    assert first["type"] == "property_item" and first["has_more"] is True
    assert first["property_item"]["type"] == "relation" and first["property_item"]["next_url"].startswith("http")
    assert first["results"][0] == {
        "object": "property_item",
        "type": "relation",
        "id": prop_id,
        "relation": {"id": councils[0]},
    }
    items = collect_paginated_api(
        notion.pages.properties.retrieve, page_id=service["id"], property_id=prop_id, page_size=30
    )
    assert [i["relation"]["id"] for i in items] == councils[:100]

    # A relation write replaces the whole list; more than 100 needs several requests on the client side.
    notion.pages.update(
        page_id=service["id"], properties={"Councils": {"relation": [{"id": c} for c in councils[100:]]}}
    )
    items = collect_paginated_api(notion.pages.properties.retrieve, page_id=service["id"], property_id=prop_id)
    assert [i["relation"]["id"] for i in items] == councils[100:]


def test_dual_relation_mirrors_adds_and_removes(sb: SandboxServer, notion: Client) -> None:
    ids = make_pair(notion)
    sb.admin.settings(clock_step_ms=120_000)  # each write two minutes later, so edits are visible at minute precision
    a = row(notion, ids["councils_ds"], "A")
    b = row(notion, ids["councils_ds"], "B")
    svc = row(notion, ids["services_ds"], "S", Councils={"relation": [{"id": a["id"]}, {"id": b["id"]}]})
    a_after = notion.pages.retrieve(page_id=a["id"])
    assert a_after["properties"]["Services"]["relation"] == [{"id": svc["id"]}]
    assert a_after["last_edited_time"] > a["last_edited_time"]

    notion.pages.update(page_id=svc["id"], properties={"Councils": {"relation": [{"id": b["id"]}]}})
    assert notion.pages.retrieve(page_id=a["id"])["properties"]["Services"]["relation"] == []
    assert notion.pages.retrieve(page_id=b["id"])["properties"]["Services"]["relation"] == [{"id": svc["id"]}]

    # And from the other side.
    notion.pages.update(page_id=a["id"], properties={"Services": {"relation": [{"id": svc["id"]}]}})
    linked = notion.pages.retrieve(page_id=svc["id"])["properties"]["Councils"]["relation"]
    assert linked == [{"id": b["id"]}, {"id": a["id"]}]
    filtered = notion.data_sources.query(
        data_source_id=ids["councils_ds"], filter={"property": "Services", "relation": {"contains": svc["id"]}}
    )
    assert {p["id"] for p in filtered["results"]} == {a["id"], b["id"]}


def test_reciprocal_property_gets_notions_default_name(notion: Client) -> None:
    target = notion.databases.create(
        parent={"page_id": PARENT_PAGE},
        title=title("Daily Metrics"),
        initial_data_source={"properties": {"Name": {"title": {}}}},
    )
    target_ds = target["data_sources"][0]["id"]
    source = notion.databases.create(
        parent={"page_id": PARENT_PAGE},
        title=title("Tasks"),
        initial_data_source={
            "properties": {"Metric": {"relation": {"data_source_id": target_ds, "dual_property": {}}}}
        },
    )
    props = notion.data_sources.retrieve(data_source_id=target_ds)["properties"]
    back = props["Related to Tasks (Metric)"]["relation"]
    assert back["data_source_id"] == source["data_sources"][0]["id"]
    assert back["database_id"] == source["id"]
    source_props = notion.data_sources.retrieve(data_source_id=source["data_sources"][0]["id"])["properties"]
    assert set(source_props) == {"Name", "Metric"}
    dual = source_props["Metric"]["relation"]["dual_property"]
    assert dual == {"synced_property_name": "Related to Tasks (Metric)", "synced_property_id": back_id(props)}


def back_id(props: dict) -> str:
    return props["Related to Tasks (Metric)"]["id"]


def test_single_property_relation_does_not_mirror(notion: Client) -> None:
    ids = make_pair(notion)
    notion.data_sources.update(
        data_source_id=ids["services_ds"],
        properties={
            "Lead": {
                "relation": {"data_source_id": ids["councils_ds"], "type": "single_property", "single_property": {}}
            }
        },
    )
    council = row(notion, ids["councils_ds"], "C")
    row(notion, ids["services_ds"], "S", Lead={"relation": [{"id": council["id"]}]})
    props = notion.pages.retrieve(page_id=council["id"])["properties"]
    assert set(props) == {"Name", "ExternalCustomerID", "Integration Last Updated", "Services"}
    assert props["Services"]["relation"] == []


def test_title_and_rich_text_property_items(notion: Client) -> None:
    ids = make_pair(notion)
    chunks = [{"type": "text", "text": {"content": f"part {i} "}} for i in range(30)]
    page = row(notion, ids["services_ds"], "T", Description={"rich_text": chunks})
    desc_id = page["properties"]["Description"]["id"]
    listed = notion.pages.properties.retrieve(page_id=page["id"], property_id=desc_id, page_size=25)
    assert len(listed["results"]) == 25 and listed["has_more"]
    assert listed["results"][0]["object"] == "property_item" and listed["results"][0]["type"] == "rich_text"
    count = notion.pages.properties.retrieve(page_id=page["id"], property_id=page["properties"]["Service Count"]["id"])
    assert count == {
        "object": "property_item",
        "id": count["id"],
        "type": "number",
        "number": None,
        "request_id": count["request_id"],
    }
