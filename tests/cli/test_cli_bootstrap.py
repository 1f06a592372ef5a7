"""bootstrap: the databases a config needs, derived from the config alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconcile.bootstrap import database_plans, infer_type, placeholder_env
from reconcile.config import load_config_text

REPO = Path(__file__).resolve().parents[2]


def plans_for(path: Path, env: dict[str, str] | None = None, titles: dict[str, str] | None = None) -> list:
    text = path.read_text(encoding="utf-8")
    filled, missing = placeholder_env(text, env or {})
    config = load_config_text(text, filled, path=str(path))
    return database_plans(config, text, missing, titles or {})


def test_the_planx_databases_have_the_seed_schema() -> None:
    titles = {"services": "PlanX Live Services", "councils": "Councils"}
    councils, services = plans_for(REPO / "mappings.yaml", titles=titles)
    assert (councils.resource, councils.variable, councils.title) == ("councils", "COUNCILS_DB_ID", "Councils")
    assert councils.properties == {
        "Name": "title",
        "ExternalCustomerID": "rich_text",
        "Integration Last Updated": "date",
    }
    assert (services.variable, services.title) == ("SERVICES_DB_ID", "PlanX Live Services")
    assert services.properties == {
        "ExternalCustomerID": "rich_text",
        "Name": "title",
        "Description": "rich_text",
        "Service Count": "number",
        "Councils": "relation",
        "Content Hash": "rich_text",  # declared by the services schema: the page body's hash
    }
    assert services.relations == {"Councils": "councils"}


def test_a_database_whose_variable_is_set_is_not_created() -> None:
    plans = plans_for(REPO / "mappings.yaml", env={"COUNCILS_DB_ID": "c0c11c00-0000-4000-8000-000000000001"})
    assert [p.resource for p in plans] == ["services"]


def test_the_bootstrap_hint_names_the_databases_and_without_one_the_resource_name_is_used(tmp_path: Path) -> None:
    assert [p.title for p in plans_for(REPO / "mappings.yaml")] == ["Councils", "PlanX Live Services"]
    text = (REPO / "mappings.yaml").read_text(encoding="utf-8")
    bare = tmp_path / "bare.yaml"
    bare.write_text("\n".join(line for line in text.splitlines() if "bootstrap:" not in line), encoding="utf-8")
    assert [p.title for p in plans_for(bare)] == ["Councils", "Services"]


def test_the_detailed_example_keys_pages_by_a_title_and_ranks_are_numbers() -> None:
    example = REPO / "examples" / "planx-services-detailed.yaml"
    if not example.exists():
        pytest.skip("examples/planx-services-detailed.yaml is not in this checkout")
    plans = {p.resource: p for p in plans_for(example)}
    detailed = plans["detailed-services"]
    assert detailed.properties["Flow Id"] == "title"
    assert detailed.properties["First Online"] == "date"
    assert detailed.properties["URL"] == "url"
    assert detailed.properties["Rank In Council"] == "number"
    assert detailed.properties["Councils"] == "relation"


@pytest.mark.parametrize(
    ("name", "expression", "kind"),
    [
        ("Service Count", "length(flows)", "number"),
        ("Active", "`false`", "checkbox"),
        ("Present", "count > `0`", "checkbox"),
        ("Weight", "`3`", "number"),
        ("Last Seen", "run.started_at", "date"),
        ("First Online", "to_date(first_online_at)", "date"),
        ("URL", "production_url", "url"),
        ("Description", "join('\\n', flows[].name)", "rich_text"),
        ("Rank", "rank_in_council", "number"),
    ],
)
def test_types_are_inferred_from_the_expression(name: str, expression: str, kind: str) -> None:
    assert infer_type(name, expression, {"rank_in_council"}) == kind


def test_placeholders_are_distinct_ids_only_for_unset_variables_without_a_default() -> None:
    env, missing = placeholder_env("a: ${A}\nb: ${B:-x}\nc: ${C}\nd: ${D}\n", {"C": "set"})
    assert missing == {"A", "D"}
    assert env["A"] != env["D"] and env["C"] == "set" and "B" not in env
