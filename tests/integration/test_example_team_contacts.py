"""examples/planx-team-contacts.yaml end to end on the sandbox: people, files, a zoned date and a
range, selects and a status, with a declared schema. Bootstrapped from nothing, or applied to a
database that has only its title column: a first apply makes it, a second writes nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconcile.model import RunRecord
from tests.support.common import all_pages, notion, plain, run
from tests.support.jobs import example_config, plan_and_apply

pytestmark = pytest.mark.slow

SandboxServer = pytest.importorskip("notion_sandbox.server").SandboxServer

REPO = Path(__file__).resolve().parents[2]
TEAMS = ("barnet", "lambeth", "medway", "southwark")
PAGE_WRITES = ("POST /v1/pages", "PATCH /v1/pages/{id}")
SCHEMA_UPDATE = "PATCH /v1/data_sources/{id}"
DECLARED = {
    "Team": "title",
    "Council": "rich_text",
    "Planning Contact": "people",
    "Web Pages": "files",
    "Joined PlanX": "date",
    "Record Span": "date",
    "Main Category": "select",
    "Categories": "multi_select",
    "Stage": "status",
}


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.chdir(tmp_path)  # the example's run log lands here
    with SandboxServer(port=0, seed="planx", rate_limit=None) as sb:
        # The councils' planning contacts are members of the workspace, as the example needs.
        emails = {t["slug"]: t["team_settings"]["help_email"] for t in sb.admin.planx()["teams"]}
        sb.admin.put_users([{"name": f"{slug.title()} Planning", "email": emails[slug]} for slug in TEAMS])
        yield sb


def data_source_of(sb: Any, database_id: str) -> dict[str, Any]:
    ds = notion(sb).databases.retrieve(database_id=database_id)["data_sources"][0]["id"]
    return dict(notion(sb).data_sources.retrieve(data_source_id=ds))


def calls(record: RunRecord, routes: tuple[str, ...]) -> int:
    return sum(record.api_calls["by_route"].get(route, 0) for route in routes)


def assert_converged(sb: Any, env: dict[str, str]) -> None:
    """Every council's page as the example maps it, and then an apply that writes nothing."""
    config = example_config("planx-team-contacts.yaml", env)
    ds = data_source_of(sb, env["TEAM_CONTACTS_DB_ID"])
    assert {name: ds["properties"][name]["type"] for name in DECLARED} == DECLARED
    pages = {plain(p, "Team"): p["properties"] for p in all_pages(sb, ds["id"])}
    users = {u["email"]: u["id"] for u in sb.admin.users()}
    teams = {t["slug"]: t for t in sb.admin.planx()["teams"]}
    assert sorted(pages) == sorted(TEAMS)
    for slug, props in pages.items():
        settings = teams[slug]["team_settings"]
        assert [p["id"] for p in props["Planning Contact"]["people"]] == [users[settings["help_email"]]]
        assert [f["external"]["url"] for f in props["Web Pages"]["files"]] == [settings["homepage"]]
        assert props["Joined PlanX"]["date"]["time_zone"] is None  # Notion echoes the zone as an offset
        assert props["Record Span"]["date"]["end"] is not None
        assert props["Stage"]["status"]["name"] == "Done"
    again = plan_and_apply(config, env)
    assert not again.plan.actions and not again.plan.diagnostics and not again.plan.schema_changes
    assert calls(again, (*PAGE_WRITES, SCHEMA_UPDATE)) == 0


def test_bootstrap_from_the_declared_schema_then_apply_then_nothing_to_write(
    sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in sandbox.seed_info["env"].items():
        monkeypatch.setenv(name, value)
    out = run(
        "bootstrap",
        "--parent-page",
        sandbox.seed_info["parent_page_id"],
        "-c",
        str(REPO / "examples" / "planx-team-contacts.yaml"),
    )
    assert out.exit_code == 0, out.output
    ids = dict(re.findall(r"^export ([A-Z_]+)=(\S+)$", out.output, flags=re.M))
    env = {**sandbox.seed_info["env"], "TEAM_CONTACTS_DB_ID": ids["TEAM_CONTACTS_DB_ID"]}
    first = plan_and_apply(example_config("planx-team-contacts.yaml", env), env)
    assert first.plan.summary["create"] == len(TEAMS) and not first.plan.diagnostics
    assert not first.plan.schema_changes  # bootstrap made every declared column
    assert_converged(sandbox, env)


def test_apply_adds_the_declared_columns_before_it_writes_the_pages(sandbox: Any) -> None:
    database = notion(sandbox).databases.create(
        parent={"type": "page_id", "page_id": sandbox.seed_info["parent_page_id"]},
        title=[{"type": "text", "text": {"content": "Council Contacts"}}],
        initial_data_source={"properties": {"Team": {"title": {}}, "Notes": {"rich_text": {}}}},
    )
    env = {**sandbox.seed_info["env"], "TEAM_CONTACTS_DB_ID": str(database["id"])}
    first = plan_and_apply(example_config("planx-team-contacts.yaml", env), env)
    added = {c.property for c in first.plan.schema_changes if c.change == "add"}
    assert added == set(DECLARED) - {"Team"}
    assert first.plan.summary["create"] == len(TEAMS) and not first.plan.errors
    assert calls(first, (SCHEMA_UPDATE,)) == 1  # one request for the data source's columns
    assert_converged(sandbox, env)
    assert "Notes" in data_source_of(sandbox, env["TEAM_CONTACTS_DB_ID"])["properties"]  # a person's column stays
