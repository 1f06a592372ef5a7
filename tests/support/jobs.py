"""Helpers for the example-job tests: the sandbox's planx seed made ready for all four jobs.

`prepare_example_workspace(sb)` does through the public Notion API what a person does once in a
real workspace: add "Reference Code", "PD Entity" and the five "PD-..." checkboxes to Councils,
fill in the councils' reference codes, and create the "Live Services - Detailed" database. It
returns the environment the examples need. The demo can call it as it is.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from notion_client import Client

from reconcile.config import load_config
from reconcile.model import Config, Plan, RunRecord
from reconcile.notion.gateway import NotionGateway
from reconcile.plan import check_guards
from reconcile.run import apply_run, plan_run
from tests.support.common import notion

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
PRESENCE = ("PD-Article4", "PD-ConservationArea", "PD-ListedBuildingOutline", "PD-Trees", "PD-TreePreservationZone")
# Council page name in the planx seed -> its local-authority reference code. Southwark's carries
# white space, as hand-typed values do: matched stripped, with a warning naming the page.
REFERENCE_CODES = {
    "London Borough of Barnet": "BNE",
    "London Borough of Lambeth": "LBH",
    "Medway Council": "MDW",
    "London Borough of Southwark": " SWK ",
    "Tewkesbury Borough Council": "TEW",
}
DETAILED_TITLE = "Live Services - Detailed"


def rich_text(value: str) -> dict[str, Any]:
    return {"rich_text": [{"type": "text", "text": {"content": value}}]}


def prepare_example_workspace(sb: Any, codes: dict[str, str] | None = None) -> dict[str, str]:
    """Councils gains the Planning Data properties and reference codes; the detailed database is
    created. Returns the environment for the examples (the seed's plus SERVICES_DETAILED_DB_ID)."""
    client = notion(sb)
    info = sb.seed_info
    councils_ds = info["databases"]["councils"]["data_source_id"]
    properties: dict[str, Any] = {"Reference Code": {"rich_text": {}}, "PD Entity": {"number": {"format": "number"}}}
    properties.update({name: {"checkbox": {}} for name in PRESENCE})
    client.data_sources.update(data_source_id=councils_ds, properties=properties)
    for name, code in (REFERENCE_CODES if codes is None else codes).items():
        client.pages.update(page_id=info["pages"][name], properties={"Reference Code": rich_text(code)})
    detailed = create_detailed_database(client, info["parent_page_id"], councils_ds)
    return {**info["env"], "SERVICES_DETAILED_DB_ID": detailed}


def create_detailed_database(client: Client, parent_page: str, councils_ds: str) -> str:
    """The "Live Services - Detailed" database, one page per online service, linked to Councils."""
    relation = {
        "data_source_id": councils_ds,
        "type": "dual_property",
        "dual_property": {"synced_property_name": DETAILED_TITLE},
    }
    properties = {
        "Flow Id": {"title": {}},
        "Service Name": {"rich_text": {}},
        "Council Name": {"rich_text": {}},
        "First Online": {"date": {}},
        "URL": {"url": {}},
        "Category": {"rich_text": {}},
        "Rank In Council": {"number": {"format": "number"}},
        "Usage": {"number": {"format": "number"}},  # filled by people: not in the public API
        "Councils": {"relation": relation},
    }
    database = client.databases.create(
        parent={"type": "page_id", "page_id": parent_page},
        title=[{"type": "text", "text": {"content": DETAILED_TITLE}}],
        initial_data_source={"properties": properties},
    )
    return database["id"]


def example_config(name: str, env: dict[str, str], *, rate: float = 50.0) -> Config:
    """An example config as shipped, with Notion and lookup pacing raised for a local sandbox."""
    config = load_config(EXAMPLES / name, env)
    jobs = tuple(
        dataclasses.replace(
            job, source=dataclasses.replace(job.source, options={**job.source.options, "rate_limit": None})
        )
        if job.source.kind == "lookup"
        else job
        for job in config.jobs
    )
    notion_settings = dataclasses.replace(config.notion, rate_limit=rate, burst=10)
    return dataclasses.replace(config, jobs=jobs, notion=notion_settings)


@contextmanager
def gateway_for(config: Config, env: dict[str, str]) -> Iterator[NotionGateway]:
    gateway = NotionGateway(env["NOTION_TOKEN"], dataclasses.replace(config.notion, base_url=env["NOTION_BASE_URL"]))
    try:
        yield gateway
    finally:
        gateway.close()


def plan_now(config: Config, env: dict[str, str], jobs: tuple[str, ...] = ()) -> Plan:
    with gateway_for(config, env) as gateway:
        return plan_run(config, gateway, now=datetime.now(UTC), jobs=jobs or None)


def plan_and_apply(config: Config, env: dict[str, str], jobs: tuple[str, ...] = ()) -> RunRecord:
    """One plan of the jobs, then that plan applied (the guards checked as `reconcile apply` does);
    the recorded run. The run log is the config's: run from a temporary directory."""
    with gateway_for(config, env) as gateway:
        started = datetime.now(UTC)
        plan = plan_run(config, gateway, now=started, jobs=jobs or None)
        check_guards(plan, allow_large_changes=False)
        record = apply_run(config, gateway, plan, started=started)
        assert not record.result.failed, [o.message for o in record.result.failed]
        return record


def query_all(sb: Any, data_source_id: str) -> list[dict[str, Any]]:
    client, out, cursor = notion(sb), [], None
    while True:
        body: dict[str, Any] = {"data_source_id": data_source_id, "page_size": 100}
        if cursor:
            body["start_cursor"] = cursor
        response = client.data_sources.query(**body)
        out += response["results"]
        if not response["has_more"]:
            return out
        cursor = response["next_cursor"]


def data_source_of(sb: Any, database_id: str) -> str:
    return notion(sb).databases.retrieve(database_id=database_id)["data_sources"][0]["id"]
