"""The seeds: ``empty`` (one parent page) and ``planx`` (the PlanX CRM workspace, fixed ids)."""

from __future__ import annotations

from typing import Any

from notion_sandbox.store import Store, empty_state
from notion_sandbox.text import text_items
from notion_sandbox.users import seed_people

SEEDS = ("empty", "planx")
PARENT_PAGE_ID = "9a9e0000-0000-4000-8000-000000000001"
COUNCILS_DB_ID = "c0c11c00-0000-4000-8000-000000000001"
COUNCILS_DS_ID = "c0c11c00-0000-4000-8000-000000000002"
SERVICES_DB_ID = "5e541ce5-0000-4000-8000-000000000001"
SERVICES_DS_ID = "5e541ce5-0000-4000-8000-000000000002"

# (page id, Name, ExternalCustomerID or None)
COUNCILS = [
    ("c0c11c00-0000-4000-8001-000000000001", "London Borough of Barnet", "barnet"),
    ("c0c11c00-0000-4000-8001-000000000002", "Buckinghamshire Council", "buckinghamshire"),
    ("c0c11c00-0000-4000-8001-000000000003", "London Borough of Lambeth", "lambeth"),
    ("c0c11c00-0000-4000-8001-000000000004", "Medway Council", "medway"),
    ("c0c11c00-0000-4000-8001-000000000005", "Newcastle City Council", "newcastle"),
    ("c0c11c00-0000-4000-8001-000000000006", "London Borough of Camden", None),
    ("c0c11c00-0000-4000-8001-000000000007", "Doncaster Metropolitan Borough Council", None),
    ("c0c11c00-0000-4000-8001-000000000008", "London Borough of Southwark", None),
    ("c0c11c00-0000-4000-8001-000000000009", "Tewkesbury Borough Council", None),
    ("c0c11c00-0000-4000-8001-000000000010", "Bristol City Council", None),
]

# Fixed property ids so that seeded schemas are identical run to run.
COUNCIL_PROPS = {
    "Name": "title",
    "ExternalCustomerID": "Xc1d",
    "Integration Last Updated": "IlUp",
    "PlanX Live Services": "PlxS",
}
SERVICE_PROPS = {
    "Name": "title",
    "Description": "Dsc1",
    "Service Count": "SvCt",
    "ExternalCustomerID": "Xc2d",
    "Councils": "CnCl",
}


def apply_seed(store: Store, seed: str) -> dict[str, Any]:
    """Replace the store's content with a seed; return what it contains (ids)."""
    if seed not in SEEDS:
        raise ValueError(f"unknown seed {seed!r}; choose one of {', '.join(SEEDS)}")
    store.data = empty_state()
    store.data["users"] = seed_people()
    now = store.now()
    add_parent_page(store, "PlanX CRM" if seed == "planx" else "Sandbox", now)
    if seed == "planx":
        seed_planx(store, now)
    return describe_seed(seed)


def describe_seed(seed: str) -> dict[str, Any]:
    """The fixed ids a seed creates (also valid for a state file that started from that seed)."""
    info: dict[str, Any] = {"parent_page_id": PARENT_PAGE_ID, "databases": {}, "pages": {}}
    if seed == "planx":
        info["databases"] = {
            "councils": {"database_id": COUNCILS_DB_ID, "data_source_id": COUNCILS_DS_ID},
            "services": {"database_id": SERVICES_DB_ID, "data_source_id": SERVICES_DS_ID},
        }
        info["pages"] = {name: page_id for page_id, name, _ in COUNCILS}
    return info


def add_parent_page(store: Store, title: str, now: str) -> None:
    page = store.new_page({"type": "workspace", "workspace": True}, now)
    page["id"] = PARENT_PAGE_ID
    page["props"]["title"] = text_items(title)
    store.pages[PARENT_PAGE_ID] = page


def prop(prop_id: str, name: str, kind: str, config: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"id": prop_id, "name": name, "type": kind, "description": None, "config": config or {}}


def relation(target_db: str, target_ds: str, synced_name: str, synced_id: str) -> dict[str, Any]:
    return {
        "database_id": target_db,
        "data_source_id": target_ds,
        "type": "dual_property",
        "dual_property": {"synced_property_name": synced_name, "synced_property_id": synced_id},
    }


def add_database(store: Store, db_id: str, ds_id: str, title: str, now: str) -> dict[str, Any]:
    db = store.new_database({"type": "page_id", "page_id": PARENT_PAGE_ID}, text_items(title), now)
    store.databases.pop(db["id"])
    db["id"] = db_id
    store.databases[db_id] = db
    store.register_child(PARENT_PAGE_ID, db_id)
    ds = store.new_data_source(db, text_items(title), now)
    store.data_sources.pop(ds["id"])
    ds["id"] = ds_id
    db["data_source_ids"] = [ds_id]
    store.data_sources[ds_id] = ds
    return ds


def seed_planx(store: Store, now: str) -> None:
    councils = add_database(store, COUNCILS_DB_ID, COUNCILS_DS_ID, "Councils", now)
    services = add_database(store, SERVICES_DB_ID, SERVICES_DS_ID, "PlanX Live Services", now)
    c, s = COUNCIL_PROPS, SERVICE_PROPS
    councils["properties"] = [
        prop(c["Name"], "Name", "title"),
        prop(c["ExternalCustomerID"], "ExternalCustomerID", "rich_text"),
        prop(c["Integration Last Updated"], "Integration Last Updated", "date"),
        prop(
            c["PlanX Live Services"],
            "PlanX Live Services",
            "relation",
            relation(SERVICES_DB_ID, SERVICES_DS_ID, "Councils", s["Councils"]),
        ),
    ]
    services["properties"] = [
        prop(s["Name"], "Name", "title"),
        prop(s["Description"], "Description", "rich_text"),
        prop(s["Service Count"], "Service Count", "number", {"format": "number"}),
        prop(s["ExternalCustomerID"], "ExternalCustomerID", "rich_text"),
        prop(
            s["Councils"],
            "Councils",
            "relation",
            relation(COUNCILS_DB_ID, COUNCILS_DS_ID, "PlanX Live Services", c["PlanX Live Services"]),
        ),
    ]
    for page_id, name, slug in COUNCILS:
        page = store.new_page({"type": "data_source_id", "data_source_id": COUNCILS_DS_ID}, now)
        page["id"] = page_id
        page["props"] = {"title": text_items(name), c["ExternalCustomerID"]: text_items(slug or "")}
        store.pages[page_id] = page
