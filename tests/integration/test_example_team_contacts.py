"""examples/planx-team-contacts.yaml end to end on the sandbox: people, files, zoned dates and a
range, selects and a status; a first apply creates, a second writes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.common import all_pages, notion, plain
from tests.support.jobs import example_config, plan_and_apply

pytestmark = pytest.mark.slow

SandboxServer = pytest.importorskip("notion_sandbox.server").SandboxServer

TEAMS = ("barnet", "lambeth", "medway", "southwark")
PAGE_WRITES = ("POST /v1/pages", "PATCH /v1/pages/{id}")


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, dict[str, str]]]:
    monkeypatch.chdir(tmp_path)  # the example's run log lands here
    with SandboxServer(port=0, seed="planx", rate_limit=None) as sb:
        # The councils' planning contacts are members of the workspace, as the example needs.
        emails = {t["slug"]: t["team_settings"]["help_email"] for t in sb.admin.planx()["teams"]}
        sb.admin.put_users([{"name": f"{slug.title()} Planning", "email": emails[slug]} for slug in TEAMS])
        yield sb, {**sb.seed_info["env"], "TEAM_CONTACTS_DB_ID": create_database(sb)}


def create_database(sb: Any) -> str:
    """The database as a person makes it once (or `reconcile bootstrap` from the example's hints)."""
    properties = {
        "Team": {"title": {}},
        "Council": {"rich_text": {}},
        "Planning Contact": {"people": {}},
        "Web Pages": {"files": {}},
        "Joined PlanX": {"date": {}},
        "Record Span": {"date": {}},
        "Main Category": {"select": {}},
        "Categories": {"multi_select": {}},
        "Stage": {"status": {}},
    }
    database = notion(sb).databases.create(
        parent={"type": "page_id", "page_id": sb.seed_info["parent_page_id"]},
        title=[{"type": "text", "text": {"content": "Council Contacts"}}],
        initial_data_source={"properties": properties},
    )
    return str(database["id"])


def test_the_team_contacts_example_converges_and_a_second_apply_writes_nothing(
    sandbox: tuple[Any, dict[str, str]],
) -> None:
    sb, env = sandbox
    config = example_config("planx-team-contacts.yaml", env)
    first = plan_and_apply(config, env)
    assert first.plan.summary["create"] == len(TEAMS) and not first.plan.diagnostics
    ds = notion(sb).databases.retrieve(database_id=env["TEAM_CONTACTS_DB_ID"])["data_sources"][0]["id"]
    pages = {plain(p, "Team"): p["properties"] for p in all_pages(sb, ds)}
    users = {u["email"]: u["id"] for u in sb.admin.users()}
    teams = {t["slug"]: t for t in sb.admin.planx()["teams"]}
    assert sorted(pages) == sorted(TEAMS)
    for slug, props in pages.items():
        settings = teams[slug]["team_settings"]
        assert [p["id"] for p in props["Planning Contact"]["people"]] == [users[settings["help_email"]]]
        assert [f["external"]["url"] for f in props["Web Pages"]["files"]] == [settings["homepage"]]
        assert props["Joined PlanX"]["date"]["time_zone"] is None
        assert props["Record Span"]["date"]["end"] is not None
        assert props["Stage"]["status"]["name"] == "Done"
    second = plan_and_apply(config, env)
    assert not second.plan.actions and not second.plan.diagnostics
    assert sum(second.api_calls["by_route"].get(route, 0) for route in PAGE_WRITES) == 0
