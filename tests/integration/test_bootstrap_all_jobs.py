"""Bootstrap as the library runs it, on an empty sandbox: examples/all-jobs.yaml's three databases,
then every job applied without a manual step; then, as people use it, council pages added in
Notion are linked, numbered and checked by the next apply; and an apply after that writes nothing."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from reconcile.bootstrap import create_databases, database_plans, placeholder_env, unconfirmed
from reconcile.config import load_config_text
from reconcile.model import Config
from reconcile.notion.gateway import NotionGateway
from reconcile.run import apply_jobs
from tests.support.common import notion, writes

pytestmark = pytest.mark.slow

SandboxServer = pytest.importorskip("notion_sandbox.server").SandboxServer
REPO = Path(__file__).resolve().parents[2]
TEXT = (REPO / "examples" / "all-jobs.yaml").read_text(encoding="utf-8")
JOBS = ("planx-live-services", "planx-services-detailed", "planning-data-entities", "planning-data-presence")


@pytest.fixture
def empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with SandboxServer(port=0, seed="empty", rate_limit=None) as sb:
        monkeypatch.chdir(tmp_path)
        yield sb


def fast(config: Config) -> Config:
    return dataclasses.replace(config, notion=dataclasses.replace(config.notion, rate_limit=100, burst=20))


@contextmanager
def gateway(config: Config) -> Iterator[NotionGateway]:
    opened = NotionGateway(config.notion.token, config.notion)
    try:
        yield opened
    finally:
        opened.close()


def test_bootstrap_then_every_job_applies_and_converges(empty: Any) -> None:
    env, missing = placeholder_env(TEXT, empty.seed_info["env"])
    config = fast(load_config_text(TEXT, env, path="all-jobs.yaml"))
    plans = database_plans(config, TEXT, missing, {})
    assert {p.variable for p in plans} == {"SERVICES_DB_ID", "SERVICES_DETAILED_DB_ID", "COUNCILS_DB_ID"}
    councils_plan = next(p for p in plans if p.variable == "COUNCILS_DB_ID")
    assert set(councils_plan.resources) == {
        "councils",
        "detailed-councils",
        "councils-pd-entity",
        "councils-pd-presence",
    }
    with gateway(config) as g:
        made = create_databases(g, empty.seed_info["parent_page_id"], plans, {})
    assert [unconfirmed(c) for c in made] == [[], [], []]
    ids = {c.plan.variable: c.database_id for c in made}

    config = fast(load_config_text(TEXT, {**empty.seed_info["env"], **ids}, path="all-jobs.yaml"))
    with gateway(config) as g:
        first = apply_jobs(config, g)
    assert first.ok and [r.plan.jobs for r in first.records] == [(job,) for job in JOBS]
    assert first.records[1].result.counts()["create"]["ok"] == 24  # the detailed services

    # People add their councils to the CRM, as they do in Notion.
    councils_ds = next(c.data_source_id for c in made if c.plan.variable == "COUNCILS_DB_ID")
    for name, slug, code in (("Barnet", "barnet", "BNE"), ("Lambeth", "lambeth", "LBH")):
        notion(empty).pages.create(
            parent={"type": "data_source_id", "data_source_id": councils_ds},
            properties={
                "Name": {"title": [{"text": {"content": name}}]},
                "ExternalCustomerID": {"rich_text": [{"text": {"content": slug}}]},
                "Reference Code": {"rich_text": [{"text": {"content": code}}]},
            },
        )
    with gateway(config) as g:
        second = apply_jobs(config, g)
    assert second.ok
    pages = notion(empty).data_sources.query(data_source_id=councils_ds)["results"]
    assert all(p["properties"]["PD Entity"]["number"] for p in pages)
    assert all(p["properties"]["Integration Last Updated"]["date"] for p in pages)

    empty.admin.clear_requests()
    with gateway(config) as g:
        third = apply_jobs(config, g)
    assert third.ok and writes(empty) == 0
    assert empty.admin.requests()["by_route"].get("PATCH /v1/data_sources/{id}", 0) == 0
