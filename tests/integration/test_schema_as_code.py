"""The schema as code against the sandbox over HTTP: a resource's `schema:` planned before its pages
and made first by apply (one data source update per data source), refused type changes and
removals unless allowed, a person's own property left alone, and a second apply that makes no call
that writes."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconcile.config import load_config
from reconcile.errors import PlanFileError, SchemaChangeRefusedError, StalePlanError
from reconcile.model import Config, Plan, RunRecord
from reconcile.planfile import content_digest, plan_document, plan_from_dict, write_plan
from reconcile.render.text import render_text
from reconcile.run import apply_run, apply_saved, plan_run
from tests.support.common import notion, writes
from tests.support.jobs import gateway_for

pytestmark = pytest.mark.slow

SandboxServer = pytest.importorskip("notion_sandbox.server").SandboxServer
REPO = Path(__file__).resolve().parents[2]
SERVICES_DS = "5e541ce5-0000-4000-8000-000000000002"
SCHEMA_UPDATES = "PATCH /v1/data_sources/{id}"


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with SandboxServer(port=0, seed="planx", rate_limit=None) as sb:
        monkeypatch.chdir(tmp_path)
        yield sb


def config_with(sb: Any, tmp_path: Path, schema: dict[str, Any] | None, **mapped: Any) -> Config:
    """mappings.yaml with a `schema:` on the services resource (and these mappings changed)."""
    document = yaml.safe_load((REPO / "mappings.yaml").read_text(encoding="utf-8"))
    services = document["jobs"]["planx-live-services"]["resources"]["services"]
    if schema is not None:
        services["schema"] = schema
    for name, expression in mapped.items():
        if expression is None:
            services["properties"].pop(name.replace("_", " "), None)
        else:
            services["properties"][name.replace("_", " ")] = expression
    path = tmp_path / "mappings.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    config = load_config(path, sb.seed_info["env"])
    return dataclasses.replace(config, notion=dataclasses.replace(config.notion, rate_limit=100, burst=100))


def plan_of(config: Config, sb: Any) -> Plan:
    with gateway_for(config, sb.seed_info["env"]) as gateway:
        return plan_run(config, gateway, now=datetime.now(UTC))


def apply_of(config: Config, sb: Any) -> RunRecord:
    with gateway_for(config, sb.seed_info["env"]) as gateway:
        started = datetime.now(UTC)
        plan = plan_run(config, gateway, now=started)
        record = apply_run(config, gateway, plan, started=started)
        assert not record.result.failed, [o.message for o in record.result.failed]
        return record


def schema_updates(sb: Any) -> int:
    return int(sb.admin.requests()["by_route"].get(SCHEMA_UPDATES, 0))


def live_schema(sb: Any) -> dict[str, Any]:
    return dict(notion(sb).data_sources.retrieve(data_source_id=SERVICES_DS)["properties"])


def options_of(prop: dict[str, Any]) -> dict[str, str]:
    return {o["name"]: o["id"] for o in prop[prop["type"]]["options"]}


def add_by_hand(sb: Any, properties: dict[str, Any]) -> None:
    """What a person does in Notion's UI: change the services schema."""
    notion(sb).data_sources.update(data_source_id=SERVICES_DS, properties=properties)
    sb.admin.clear_requests()  # count only the runs' own calls


def test_properties_and_options_are_added_first_then_a_second_apply_writes_nothing(
    sandbox: Any, tmp_path: Path
) -> None:
    schema = {
        "properties": {
            "Name": "title",
            "Service Count": "number",
            "Stage": {"type": "select", "options": ["Live", "Beta"]},
            "Launched": "date",
        }
    }
    config = config_with(sandbox, tmp_path, schema, Stage='`"Live"`')
    plan = plan_of(config, sandbox)
    assert [(c.change, c.property) for c in plan.schema_changes] == [("add", "Stage"), ("add", "Launched")]
    text = render_text(plan_document(plan), color=False)
    assert text.index("Schema changes") < text.index("+ create")
    assert '+ add property services "Stage" (select: Live, Beta)' in text
    assert plan_from_dict(plan_document(plan)).schema_changes == plan.schema_changes
    assert schema_updates(sandbox) == 0  # planning reads only
    apply_of(config, sandbox)
    assert schema_updates(sandbox) == 1  # one request for the data source
    live = live_schema(sandbox)
    assert live["Stage"]["type"] == "select" and set(options_of(live["Stage"])) == {"Live", "Beta"}
    assert live["Launched"]["type"] == "date"
    pages = notion(sandbox).data_sources.query(data_source_id=SERVICES_DS)["results"]
    assert pages and all(p["properties"]["Stage"]["select"]["name"] == "Live" for p in pages)

    sandbox.admin.clear_requests()
    again = apply_of(config, sandbox)
    assert not again.plan.schema_changes and not again.plan.actions
    assert schema_updates(sandbox) == 0 and writes(sandbox) == 0


def test_missing_options_are_added_and_the_live_ones_keep_their_ids(sandbox: Any, tmp_path: Path) -> None:
    add_by_hand(sandbox, {"Stage": {"select": {"options": [{"name": "Live", "color": "green"}]}}})
    before = options_of(live_schema(sandbox)["Stage"])
    schema = {"properties": {"Stage": {"type": "select", "options": ["Live", "Retired"]}}}
    plan = plan_of(config_with(sandbox, tmp_path, schema), sandbox)
    assert [(c.change, c.options) for c in plan.schema_changes] == [("add_options", ("Retired",))]
    apply_of(config_with(sandbox, tmp_path, schema), sandbox)
    after = live_schema(sandbox)["Stage"]
    assert options_of(after)["Live"] == before["Live"] and "Retired" in options_of(after)
    assert next(o for o in after["select"]["options"] if o["name"] == "Live")["color"] == "green"


def test_a_rename_keeps_the_values_and_writes_no_page(sandbox: Any, tmp_path: Path) -> None:
    apply_of(config_with(sandbox, tmp_path, None), sandbox)
    sandbox.admin.clear_requests()
    schema = {"properties": {"Summary": {"type": "rich_text", "renamed_from": "Description"}}}
    renamed = config_with(sandbox, tmp_path, schema, Description=None, Summary="join('\n', flows[].trim(name))")
    plan = plan_of(renamed, sandbox)
    assert [(c.change, c.before, c.property) for c in plan.schema_changes] == [("rename", "Description", "Summary")]
    assert plan.actions == ()  # the values move with the property
    assert 'rename services "Description" → "Summary" (rich_text)' in render_text(plan_document(plan), color=False)
    apply_of(renamed, sandbox)
    live = live_schema(sandbox)
    assert "Summary" in live and "Description" not in live
    assert schema_updates(sandbox) == 1 and writes(sandbox) == 0
    assert not plan_of(renamed, sandbox).has_changes


def test_a_type_change_is_refused_in_one_line_unless_allowed(sandbox: Any, tmp_path: Path) -> None:
    add_by_hand(sandbox, {"Tier": {"number": {}}})
    schema: dict[str, Any] = {"properties": {"Tier": {"type": "select", "options": ["Gold"]}}}
    with pytest.raises(SchemaChangeRefusedError) as refused:
        plan_of(config_with(sandbox, tmp_path, schema), sandbox)
    line = str(refused.value)
    assert "services: property 'Tier' is a number in Notion, the schema declares select (number → select)" in line
    assert "\n" not in line and "allow_type_changes" in line
    assert schema_updates(sandbox) == 0 and writes(sandbox) == 0
    apply_of(config_with(sandbox, tmp_path, {**schema, "allow_type_changes": True}), sandbox)
    tier = live_schema(sandbox)["Tier"]
    assert tier["type"] == "select" and set(options_of(tier)) == {"Gold"}


def test_a_removal_is_refused_unless_allowed(sandbox: Any, tmp_path: Path) -> None:
    add_by_hand(sandbox, {"Legacy": {"rich_text": {}}})
    schema: dict[str, Any] = {"properties": {"Legacy": {"remove": True}}}
    with pytest.raises(
        SchemaChangeRefusedError, match=r"services: property 'Legacy' is declared remove: true \(rich_text → removed\)"
    ):
        plan_of(config_with(sandbox, tmp_path, schema), sandbox)
    assert "Legacy" in live_schema(sandbox) and schema_updates(sandbox) == 0
    apply_of(config_with(sandbox, tmp_path, {**schema, "allow_removals": True}), sandbox)
    assert "Legacy" not in live_schema(sandbox)
    sandbox.admin.clear_requests()
    apply_of(config_with(sandbox, tmp_path, {**schema, "allow_removals": True}), sandbox)
    assert schema_updates(sandbox) == 0 and writes(sandbox) == 0


def test_a_property_a_person_added_is_left_alone(sandbox: Any, tmp_path: Path) -> None:
    schema = {"properties": {"Stage": {"type": "select", "options": ["Live"]}}}
    apply_of(config_with(sandbox, tmp_path, schema), sandbox)
    add_by_hand(sandbox, {"Owner Notes": {"rich_text": {}}})
    page = notion(sandbox).data_sources.query(data_source_id=SERVICES_DS)["results"][0]
    note = [{"type": "text", "text": {"content": "call them on Monday"}}]
    notion(sandbox).pages.update(page_id=page["id"], properties={"Owner Notes": {"rich_text": note}})
    sandbox.admin.clear_requests()
    record = apply_of(config_with(sandbox, tmp_path, schema), sandbox)
    assert not record.plan.has_changes
    assert schema_updates(sandbox) == 0 and writes(sandbox) == 0
    kept = notion(sandbox).pages.retrieve(page_id=page["id"])["properties"]["Owner Notes"]["rich_text"]
    assert kept[0]["plain_text"] == "call them on Monday"
    assert "Owner Notes" in live_schema(sandbox)


# ── saved plans ──────────────────────────────────────────────────────────────────────────────────


def saved(config: Config, sb: Any, path: Path) -> Plan:
    plan = plan_of(config, sb)
    write_plan(plan, path)
    return plan


def apply_file(config: Config, sb: Any, path: Path) -> None:
    with gateway_for(config, sb.seed_info["env"]) as gateway:
        apply_saved(config, gateway, path)


def forged(path: Path, change: dict[str, Any]) -> None:
    """What someone who can run reconcile can do: add a change to a plan file and digest it again."""
    document = json.loads(path.read_text(encoding="utf-8"))
    document["schema_changes"].append(change)
    document["digest"] = content_digest(document)
    path.write_text(json.dumps(document), encoding="utf-8")


def test_a_saved_plan_makes_its_schema_changes_and_cannot_add_an_undeclared_property(
    sandbox: Any, tmp_path: Path
) -> None:
    schema = {"properties": {"Stage": {"type": "select", "options": ["Live"]}}}
    config = config_with(sandbox, tmp_path, schema)
    good = tmp_path / "good.json"
    saved(config, sandbox, good)
    bad = tmp_path / "bad.json"
    saved(config, sandbox, bad)
    secret = {"change": "add", "resource": "services", "data_source_id": SERVICES_DS, "property": "Secret",
              "type": "rich_text", "before": None}  # fmt: skip
    forged(bad, secret)
    with pytest.raises(PlanFileError, match=r"add of property 'Secret', which .* does not declare"):
        apply_file(config, sandbox, bad)
    assert schema_updates(sandbox) == 0 and writes(sandbox) == 0
    apply_file(config, sandbox, good)
    assert schema_updates(sandbox) == 1 and "Stage" in live_schema(sandbox) and "Secret" not in live_schema(sandbox)


def test_a_saved_plan_whose_schema_changed_in_notion_since_is_stale(sandbox: Any, tmp_path: Path) -> None:
    schema = {"properties": {"Stage": {"type": "select", "options": ["Live"]}}}
    config = config_with(sandbox, tmp_path, schema)
    path = tmp_path / "plan.json"
    saved(config, sandbox, path)
    add_by_hand(sandbox, {"Stage": {"select": {"options": [{"name": "Live"}]}}})
    with pytest.raises(StalePlanError, match="schema changed in Notion"):
        apply_file(config, sandbox, path)
    assert schema_updates(sandbox) == 0 and writes(sandbox) == 0


def test_a_declared_relation_is_added_with_an_other_side_of_its_own(sandbox: Any, tmp_path: Path) -> None:
    schema = {
        "properties": {
            "Partner Councils": {"type": "relation", "relation": "councils"},
            "Watched By": {"type": "relation", "relation": "councils", "two_way": False},
        }
    }
    config = config_with(sandbox, tmp_path, schema)
    plan = plan_of(config, sandbox)
    # Councils already has "PlanX Live Services" (the other side of Councils): the new one is distinct.
    assert [(c.property, c.synced_property) for c in plan.schema_changes] == [
        ("Partner Councils", "PlanX Live Services (Partner Councils)"),
        ("Watched By", None),
    ]
    apply_of(config, sandbox)
    live = live_schema(sandbox)
    councils_ds = "c0c11c00-0000-4000-8000-000000000002"
    assert live["Partner Councils"]["relation"]["data_source_id"] == councils_ds
    assert live["Watched By"]["relation"]["type"] == "single_property"
    councils = notion(sandbox).data_sources.retrieve(data_source_id=councils_ds)["properties"]
    assert councils["PlanX Live Services (Partner Councils)"]["type"] == "relation"
    assert councils["PlanX Live Services"]["relation"]["dual_property"]["synced_property_name"] == "Councils"
    sandbox.admin.clear_requests()
    apply_of(config, sandbox)
    assert schema_updates(sandbox) == 0 and writes(sandbox) == 0
