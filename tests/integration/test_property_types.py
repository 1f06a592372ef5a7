"""People, files, zoned dates and ranges, selects, statuses and a computed match key, end to end
against the sandbox over real HTTP: create, a no-change run with zero writes, a person's edits
put back, an unknown email or option left to its own page."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconcile.config import load_config_text
from reconcile.model import Config
from reconcile.planfile import plan_to_dict
from reconcile.render.text import render_text
from tests.support.common import all_pages, notion, plain, writes
from tests.support.jobs import plan_and_apply, plan_now

pytestmark = pytest.mark.slow

SandboxServer = pytest.importorskip("notion_sandbox.server").SandboxServer

TEAMS = ("barnet", "lambeth", "medway")
PEOPLE = [
    {"name": "Barnet Planning", "email": "Planning@Barnet.gov.uk"},
    {"name": "Lambeth Planning", "email": "planning@lambeth.gov.uk"},
    {"name": "Medway Planning", "email": "planning@medway.gov.uk"},
]
PAGE_WRITES = ("POST /v1/pages", "PATCH /v1/pages/{id}")
CONFIG = """
version: 1
jobs:
  teams:
    source:
      graphql:
        endpoint: ${PLANX_GRAPHQL_URL}
        query: "{ teams(order_by: {slug: asc}) {
          slug name created_at updated_at team_settings { help_email homepage } flows { category } } }"
      records: data.teams
      key: slug
      allowlist: [barnet, lambeth, medway]
    resources:
      teams:
        database: ${TEAMS_DB_ID}
        match: {property: Slug, key: slug}
        properties:
          Contact: team_settings.help_email
          Links: "[{name: 'Homepage', url: team_settings.homepage}, join('', [team_settings.homepage, '/planning'])]"
          Founded: {expr: created_at, time_zone: Europe/London}
          Window: "join('/', [created_at, updated_at])"
          Kind: "flows[0].category"
          Stage: "STAGE"
          Tags: "flows[].category"
        on_missing: ignore
"""
NOTES = """
version: 1
jobs:
  notes:
    source:
      graphql:
        endpoint: ${PLANX_GRAPHQL_URL}
        query: "{ teams(order_by: {slug: asc}) { slug name } }"
      records: data.teams
      key: slug
      allowlist: [barnet, lambeth, medway]
      computed:
        n: {rank: {order_by: slug}}
    resources:
      notes:
        database: ${TEAMS_DB_ID}
        mode: update-only
        match: {property: Code, key: "join('-', ['PRJ', to_string(n)])"}
        properties:
          Note: name
"""


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, dict[str, str]]]:
    monkeypatch.chdir(tmp_path)  # the run log lands here
    with SandboxServer(port=0, seed="planx", rate_limit=None) as sb:
        sb.admin.put_users(PEOPLE)
        yield sb, {**sb.seed_info["env"], "TEAMS_DB_ID": create_teams_database(sb)}


def create_teams_database(sb: Any) -> str:
    properties = {
        "Slug": {"title": {}},
        "Contact": {"people": {}},
        "Links": {"files": {}},
        "Founded": {"date": {}},
        "Window": {"date": {}},
        "Kind": {"select": {"options": [{"name": "apply", "color": "blue"}]}},
        "Stage": {"status": {}},
        "Tags": {"multi_select": {}},
        "Code": {"unique_id": {"prefix": "PRJ"}},
        "Note": {"rich_text": {}},
    }
    database = notion(sb).databases.create(
        parent={"type": "page_id", "page_id": sb.seed_info["parent_page_id"]},
        title=[{"type": "text", "text": {"content": "Teams"}}],
        initial_data_source={"properties": properties},
    )
    return str(database["id"])


def config(env: dict[str, str], text: str = CONFIG, stage: str = "'Done'") -> Config:
    """The config from its text, with Notion's pacing raised for a local sandbox."""
    loaded = load_config_text(text.replace("STAGE", stage), env, path="types.yaml")
    return dataclasses.replace(loaded, notion=dataclasses.replace(loaded.notion, rate_limit=50.0, burst=10))


def pages_by_slug(sb: Any, env: dict[str, str]) -> dict[str, dict[str, Any]]:
    ds = notion(sb).databases.retrieve(database_id=env["TEAMS_DB_ID"])["data_sources"][0]["id"]
    return {plain(p, "Slug"): p for p in all_pages(sb, ds)}


def user_ids(sb: Any) -> dict[str, str]:
    return {u["email"].lower(): u["id"] for u in sb.admin.users()}


def page_writes(by_route: dict[str, int]) -> int:
    return sum(by_route.get(route, 0) for route in PAGE_WRITES)


def test_every_type_is_created_then_a_second_run_writes_nothing(sandbox: tuple[Any, dict[str, str]]) -> None:
    sb, env = sandbox
    cfg = config(env)
    first = plan_and_apply(cfg, env)
    assert first.plan.summary["create"] == 3 and not first.plan.diagnostics
    snapshot = {t["slug"]: t for t in sb.admin.planx()["teams"]}
    ids = user_ids(sb)
    pages = pages_by_slug(sb, env)
    assert sorted(pages) == list(TEAMS)
    for slug, page in pages.items():
        props, team = page["properties"], snapshot[slug]
        email = team["team_settings"]["help_email"].lower()
        assert [p["id"] for p in props["Contact"]["people"]] == [ids[email]]
        homepage = team["team_settings"]["homepage"]
        assert props["Links"]["files"] == [
            {"name": "Homepage", "type": "external", "external": {"url": homepage}},
            {"name": "planning", "type": "external", "external": {"url": f"{homepage}/planning"}},
        ]
        founded = props["Founded"]["date"]
        assert founded["time_zone"] is None and founded["start"][-6:] in ("+00:00", "+01:00")  # London's offset
        assert props["Window"]["date"]["end"] is not None
        assert props["Kind"]["select"]["name"] == team["flows"][0]["category"]
        assert props["Stage"]["status"]["name"] == "Done"
        assert {o["name"] for o in props["Tags"]["multi_select"]} == {f["category"] for f in team["flows"]}
    second = plan_and_apply(cfg, env)
    assert not second.plan.actions and not second.plan.diagnostics
    assert page_writes(second.api_calls["by_route"]) == 0
    # The users list is read once per run, and only because a people property is mapped.
    assert second.api_calls["by_route"].get("GET /v1/users") == 1


def test_a_persons_edits_of_people_dates_files_and_options_are_put_back(sandbox: tuple[Any, dict[str, str]]) -> None:
    sb, env = sandbox
    cfg = config(env)
    plan_and_apply(cfg, env)
    pages = pages_by_slug(sb, env)
    ids = user_ids(sb)
    lambeth = pages["lambeth"]["id"]
    notion(sb).pages.update(
        page_id=lambeth,
        properties={
            "Contact": {"people": [{"id": ids["planning@medway.gov.uk"]}]},
            "Founded": {"date": {"start": "2020-01-01T09:00:00", "time_zone": "America/New_York"}},
            "Links": {"files": [{"name": "scan.pdf", "file": {"url": "https://files.example/scan.pdf?sig=1"}}]},
            "Stage": {"status": {"name": "In progress"}},
        },
    )
    plan = plan_now(cfg, env)
    ((key, changed),) = [(a.key, sorted(c.name for c in a.changes)) for a in plan.actions]
    assert (key, changed) == ("lambeth", ["Contact", "Founded", "Links", "Stage"])
    shown = render_text(plan_to_dict(plan), color=False)
    people = 'Contact: ["Medway Planning <planning@medway.gov.uk>"] → ["Lambeth Planning <planning@lambeth.gov.uk>"]'
    assert people in shown
    before = writes(sb)
    record = plan_and_apply(cfg, env)
    assert writes(sb) - before == 1 and record.result.written == 1
    assert not plan_now(cfg, env).actions


def test_the_same_instant_shown_in_another_zone_is_left_alone(sandbox: tuple[Any, dict[str, str]]) -> None:
    sb, env = sandbox
    cfg = config(env)
    plan_and_apply(cfg, env)
    page = pages_by_slug(sb, env)["medway"]
    start = page["properties"]["Founded"]["date"]["start"]  # e.g. 2021-03-04T09:02:03.000+00:00
    from datetime import datetime
    from zoneinfo import ZoneInfo

    in_tokyo = datetime.fromisoformat(start).astimezone(ZoneInfo("Asia/Tokyo")).replace(tzinfo=None)
    notion(sb).pages.update(
        page_id=page["id"],
        properties={
            "Founded": {"date": {"start": in_tokyo.isoformat(timespec="milliseconds"), "time_zone": "Asia/Tokyo"}}
        },
    )
    assert pages_by_slug(sb, env)["medway"]["properties"]["Founded"]["date"]["start"].endswith("+09:00")
    assert not plan_now(cfg, env).actions


def test_an_unknown_email_or_option_is_that_pages_error_and_the_others_are_written(
    sandbox: tuple[Any, dict[str, str]],
) -> None:
    sb, env = sandbox
    sb.admin.put_users([p for p in PEOPLE if "medway" not in p["email"]])
    cfg = config(env, stage="slug == 'barnet' && 'Live' || 'Done'")
    record = plan_and_apply(cfg, env)
    errors = {d.key: (d.code, d.message) for d in record.plan.errors}
    assert errors == {
        "medway": (
            "unknown_person",
            "Contact: no person of the workspace has the email 'p…@medway.gov.uk'; nothing is written for this key",
        ),
        "barnet": (
            "unknown_option",
            "Stage: status option 'Live' not in the schema (new_options: refuse); it has "
            "'Not started', 'In progress', 'Done'; nothing is written for this key",
        ),
    }
    assert [a.key for a in record.plan.actions] == ["lambeth"] and record.result.written == 1
    assert sorted(pages_by_slug(sb, env)) == ["lambeth"]


def test_new_select_options_are_created_unless_refused(sandbox: tuple[Any, dict[str, str]]) -> None:
    sb, env = sandbox
    refusing = CONFIG.replace('Kind: "flows[0].category"', 'Kind: {expr: "flows[0].category", new_options: refuse}')
    plan = plan_now(config(env, refusing), env)
    snapshot = {t["slug"]: t for t in sb.admin.planx()["teams"]}
    not_apply = {s for s in TEAMS if snapshot[s]["flows"][0]["category"] != "apply"}
    assert not_apply, "test set-up: some team's first flow is not 'apply'"
    assert {d.key for d in plan.errors} == not_apply
    assert all("it has 'apply'" in d.message for d in plan.errors)
    plan_and_apply(config(env), env)  # the default creates them, as Notion does on write
    ds = notion(sb).databases.retrieve(database_id=env["TEAMS_DB_ID"])["data_sources"][0]["id"]
    kinds = {
        o["name"]
        for o in notion(sb).data_sources.retrieve(data_source_id=ds)["properties"]["Kind"]["select"]["options"]
    }
    assert kinds == {snapshot[s]["flows"][0]["category"] for s in TEAMS} | {"apply"}
    assert not plan_now(config(env), env).actions


def test_an_update_only_resource_matches_pages_by_their_unique_id(sandbox: tuple[Any, dict[str, str]]) -> None:
    sb, env = sandbox
    ds = notion(sb).databases.retrieve(database_id=env["TEAMS_DB_ID"])["data_sources"][0]["id"]
    for slug in TEAMS:  # made by a person, one after the other: PRJ-1, PRJ-2, PRJ-3
        notion(sb).pages.create(
            parent={"data_source_id": ds}, properties={"Slug": {"title": [{"text": {"content": slug}}]}}
        )
    codes = {plain(p, "Slug"): p["properties"]["Code"]["unique_id"] for p in all_pages(sb, ds)}
    assert codes == {s: {"prefix": "PRJ", "number": n} for n, s in enumerate(TEAMS, start=1)}
    cfg = config(env, NOTES)
    first = plan_and_apply(cfg, env)
    assert sorted(a.key for a in first.plan.actions) == ["PRJ-1", "PRJ-2", "PRJ-3"]
    assert {c.name for a in first.plan.actions for c in a.changes} == {"Note"}
    names = {t["slug"]: t["name"] for t in sb.admin.planx()["teams"]}
    assert {plain(p, "Slug"): plain(p, "Note") for p in all_pages(sb, ds)} == {s: names[s].strip() for s in TEAMS}
    second = plan_and_apply(cfg, env)
    assert not second.plan.actions and page_writes(second.api_calls["by_route"]) == 0


def test_a_computed_property_mapped_for_writing_is_one_line_naming_it(sandbox: tuple[Any, dict[str, str]]) -> None:
    _, env = sandbox
    from reconcile.errors import SchemaMismatchError

    cfg = config(env, CONFIG.replace("          Tags:", "          Code: slug\n          Tags:"))
    with pytest.raises(SchemaMismatchError) as caught:
        plan_now(cfg, env)
    assert "teams: property 'Code' is a unique_id, which Notion computes; it cannot be written" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_the_users_list_is_followed_through_its_pages_once_per_run(sandbox: tuple[Any, dict[str, str]]) -> None:
    sb, env = sandbox
    crowd = [{"name": f"Person {n}", "email": f"person{n}@example.org"} for n in range(130)]
    sb.admin.put_users(crowd + PEOPLE)  # the councils' contacts are on the list's second page
    record = plan_and_apply(config(env), env)
    assert record.plan.summary["create"] == 3 and not record.plan.errors
    assert record.api_calls["by_route"].get("GET /v1/users") == 2  # 133 people and the bot, 100 a page
