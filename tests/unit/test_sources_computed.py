"""Computations over the record set (rank within a group), and lookup URL templates."""

from __future__ import annotations

from typing import Any

from reconcile.desired import build_desired
from reconcile.model import Computation, Job, MatchKey, PropertyMapping, ResourceConfig, SourceConfig
from reconcile.source.lookup import fill_template

DB = "00000000-0000-4000-8000-000000000001"
RANK = Computation(name="rank", kind="rank", group_by="team", order_by="first_online_at")


def job(resource: ResourceConfig, computed: tuple[Computation, ...] = (RANK,)) -> Job:
    source = SourceConfig(kind="graphql", endpoint="http://x", records="r", key="id", computed=computed)
    return Job(name="j", source=source, resources=(resource,))


def services(records: str | None = None) -> ResourceConfig:
    return ResourceConfig(
        name="s",
        database=DB,
        data_source=None,
        mode="upsert",
        match=MatchKey(property="Flow Id", expression="id"),
        properties=(PropertyMapping(name="Rank", expression="rank"),),
        records=records,
    )


def ranks(state: object) -> dict[str, int]:
    return {p.key: p.values["Rank"] for p in state.resources["s"].pages}  # type: ignore[attr-defined]


def test_rank_within_group_orders_by_value_with_ties_in_source_order_and_nulls_last() -> None:
    records: list[dict[str, Any]] = [
        {"id": "a", "team": "x", "first_online_at": "2021-05-01"},
        {"id": "b", "team": "x", "first_online_at": "2020-01-01"},
        {"id": "c", "team": "y", "first_online_at": "2022-01-01"},
        {"id": "d", "team": "x", "first_online_at": None},
        {"id": "e", "team": "x", "first_online_at": "2020-01-01"},
    ]
    assert ranks(build_desired(job(services()), records)) == {"b": 1, "e": 2, "a": 3, "d": 4, "c": 1}


def test_descending_rank_keeps_ties_in_source_order() -> None:
    comp = Computation(name="rank", kind="rank", group_by=None, order_by="n", descending=True)
    records = [{"id": "a", "n": 1}, {"id": "b", "n": 5}, {"id": "c", "n": 5}]
    assert ranks(build_desired(job(services(), (comp,)), records)) == {"b": 1, "c": 2, "a": 3}


def test_rank_is_computed_over_a_projected_resources_rows() -> None:
    # Records are councils; the resource's rows are their flows: a flow's rank within its council.
    records = [
        {
            "slug": "x",
            "flows": [
                {"id": "a", "team": "x", "first_online_at": "2021"},
                {"id": "b", "team": "x", "first_online_at": "2019"},
            ],
        },
        {"slug": "y", "flows": [{"id": "c", "team": "y", "first_online_at": "2020"}]},
    ]
    assert ranks(build_desired(job(services("[].flows[]")), records)) == {"a": 2, "b": 1, "c": 1}


def test_a_computation_the_projected_rows_know_nothing_of_leaves_them_alone() -> None:
    comp = Computation(name="rank", kind="rank", group_by=None, order_by="size")
    records = [{"size": 2, "flows": [{"id": "a"}]}, {"size": 1, "flows": [{"id": "b"}]}]
    state = build_desired(job(services("[].flows[]"), (comp,)), records)
    assert ranks(state) == {"a": None, "b": None}


def test_lookup_templates_fill_in_page_values_url_encoded() -> None:
    template = "https://pd.example/entity.json?organisation_entity={PD Entity}&q={Name}"
    url = fill_template(template, {"PD Entity": 329.0, "Name": "A&B Council"})
    assert url == "https://pd.example/entity.json?organisation_entity=329&q=A%26B%20Council"
