"""The four example jobs from one config against the sandbox: plan, apply, converge; each job
within its own properties; the lookup's single bulk read and its per-key failures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconcile.errors import SourceError
from reconcile.model import Config
from tests.support.common import plain, writes
from tests.support.jobs import (
    PRESENCE,
    data_source_of,
    example_config,
    plan_and_apply,
    plan_now,
    prepare_example_workspace,
    query_all,
)

pytestmark = pytest.mark.slow

SandboxServer = pytest.importorskip("notion_sandbox.server").SandboxServer


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, dict[str, str]]]:
    monkeypatch.chdir(tmp_path)  # the examples' run log (.reconcile/runs.jsonl) lands here
    with SandboxServer(port=0, seed="planx", rate_limit=None) as sb:
        yield sb, prepare_example_workspace(sb)


def councils_by_code(sb: Any) -> dict[str, dict[str, Any]]:
    pages = query_all(sb, sb.seed_info["databases"]["councils"]["data_source_id"])
    return {plain(p, "Reference Code").strip(): p for p in pages if plain(p, "Reference Code")}


def owned(config: Config) -> dict[str, set[str]]:
    return {r.name: set(r.managed_properties) for job in config.jobs for r in job.resources}


def test_all_four_jobs_converge_each_within_its_own_properties(sandbox: tuple[Any, dict[str, str]]) -> None:
    _, env = sandbox
    config = example_config("all-jobs.yaml", env)
    first = plan_and_apply(config, env)
    # PD Entity is written by the first apply; the presence lookups need it, so they follow next run.
    second = plan_and_apply(config, env)
    third = plan_now(config, env)
    assert first.plan.summary["create"] == 22 + 24
    assert {a.resource for a in second.plan.actions} == {"councils-pd-presence"}
    assert not third.has_changes, [(a.resource, a.key, a.reason) for a in third.actions]
    assert not [d for d in third.diagnostics if d.severity == "error"]
    mine = owned(config)
    for action in (*first.plan.actions, *second.plan.actions):
        assert {c.name for c in action.changes} <= mine[action.resource], action


def test_the_detailed_services_carry_their_rank_within_their_council(sandbox: tuple[Any, dict[str, str]]) -> None:
    sb, env = sandbox
    config = example_config("planx-services-detailed.yaml", env)
    plan_and_apply(config, env)
    assert not plan_now(config, env).has_changes
    pages = query_all(sb, data_source_of(sb, env["SERVICES_DETAILED_DB_ID"]))
    flows = {f["id"]: (t["slug"], f) for t in sb.admin.planx()["teams"] for f in t["flows"]}
    assert len(pages) == 24
    by_council: dict[str, list[tuple[str, int]]] = {}
    for page in pages:
        slug, flow = flows[plain(page, "Flow Id")]
        assert plain(page, "Service Name") == flow["name"].strip()
        assert plain(page, "First Online") == flow["first_online_at"][:10]
        by_council.setdefault(slug, []).append((flow["first_online_at"], plain(page, "Rank In Council")))
    for slug, ranked in by_council.items():
        in_order = [rank for _, rank in sorted(ranked)]
        assert in_order == list(range(1, len(ranked) + 1)), slug
    barnet = sb.seed_info["pages"]["London Borough of Barnet"]
    linked = [p for p in pages if flows[plain(p, "Flow Id")][0] == "barnet"]
    assert linked and all(plain(p, "Councils") == [barnet] for p in linked)


def test_planning_data_entities_and_presence_match_the_source(sandbox: tuple[Any, dict[str, str]]) -> None:
    sb, env = sandbox
    entities = example_config("planning-data-entities.yaml", env)
    presence = example_config("planning-data-presence.yaml", env)
    run = plan_and_apply(entities, env)
    strip = [d for d in run.plan.diagnostics if d.code == "key_needed_strip"]
    southwark = sb.seed_info["pages"]["London Borough of Southwark"].replace("-", "")
    assert len(strip) == 1 and "' SWK '" in strip[0].message and southwark in strip[0].urls[0]
    plan_and_apply(presence, env)
    assert not plan_now(entities, env).has_changes
    assert not plan_now(presence, env).has_changes
    data = sb.admin.planning_data()["entities"]
    la = {e["reference"]: e["entity"] for e in data if e["dataset"] == "local-authority"}
    datasets = dict(
        zip(
            PRESENCE,
            (
                "article-4-direction-area",
                "conservation-area",
                "listed-building-outline",
                "tree",
                "tree-preservation-zone",
            ),
            strict=True,
        )
    )
    for code, page in councils_by_code(sb).items():
        assert plain(page, "PD Entity") == la[code]
        for prop, dataset in datasets.items():
            held = any(e["dataset"] == dataset and e.get("organisation-entity") == la[code] for e in data)
            assert plain(page, prop) is held, (code, prop)
    assert plain(councils_by_code(sb)["SWK"], "PD-Trees") is False  # Southwark holds no tree records


def test_the_lookup_reads_the_pages_once_and_each_distinct_url_once(sandbox: tuple[Any, dict[str, str]]) -> None:
    sb, env = sandbox
    plan_and_apply(example_config("planning-data-entities.yaml", env), env)
    sb.admin.clear_requests()
    plan = plan_now(example_config("planning-data-presence.yaml", env), env)
    by_route = sb.admin.requests()["by_route"]
    assert by_route["POST /v1/data_sources/{id}/query"] == 1
    assert by_route["GET /entity.json"] == 5 * 5  # five councils with a PD Entity, five datasets
    assert plan.record_counts["planning-data-presence"] == 5


def test_one_failing_lookup_among_many_blocks_only_its_key(sandbox: tuple[Any, dict[str, str]]) -> None:
    sb, env = sandbox
    plan_and_apply(example_config("planning-data-entities.yaml", env), env)
    presence = example_config("planning-data-presence.yaml", env)
    # The 8th request (the second council's third dataset) fails in a way that is not retried.
    sb.admin.add_faults(
        [{"method": "GET", "route": "/entity.json", "faults": [{"pass": True}] * 7 + [{"status": 409}]}]
    )
    run = plan_and_apply(presence, env)
    failed = [d for d in run.plan.diagnostics if d.code == "lookup_failed"]
    assert len(failed) == 1 and failed[0].severity == "error" and "HTTP 409" in failed[0].message
    assert failed[0].key not in {a.key for a in run.plan.actions}
    assert len({a.key for a in run.plan.actions}) == 4
    by_code = councils_by_code(sb)
    assert all(plain(by_code[failed[0].key], p) is False for p in PRESENCE)  # untouched
    healed = plan_and_apply(presence, env)
    assert {a.key for a in healed.plan.actions} <= {failed[0].key}
    assert not plan_now(presence, env).has_changes


def test_an_http_source_failure_writes_nothing_for_any_job(sandbox: tuple[Any, dict[str, str]]) -> None:
    sb, env = sandbox
    config = example_config("all-jobs.yaml", env)
    sb.admin.add_faults([{"method": "GET", "route": "/entity.json", "fault": {"status": 409}, "every": 1}])
    before = writes(sb)
    with pytest.raises(SourceError, match=r"entity.json\?.* answered HTTP 409"):
        plan_and_apply(config, env)
    assert writes(sb) == before
