"""Notion → ActualState for one job: each resource's schema (checked against its mapping) and pages.

Reads cost the floor: the gateway resolves each database once per run and reads each data source
in bulk; trashed pages are read only when the plan may create something (a trashed page carrying
that key is restored instead of a duplicate being made). The schemas, and the live types against
the values the source asks for, are checked before any page is read. The integration's own user
is asked for only when the plan needs it (a key on several pages, or a stamp Notion may say is
owed), so the healthy path makes no extra call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from reconcile.model import ActualState, DesiredState, Diagnostic, Job, ResourceConfig, ResourceState
from reconcile.notion.schema import check_schema, foreign_relation_targets
from reconcile.plan.touches import stamp_candidates
from reconcile.plan.types import check_value_types
from reconcile.ports import NotionReader, PropertySchema

__all__ = ["check_job_schemas", "has_duplicates", "read_job_state", "related_data_sources", "with_bot_user"]

Declared = Mapping[str, Mapping[str, str]]  # resource -> property -> the type the config declares


def read_job_state(
    gateway: NotionReader, job: Job, desired: DesiredState, declared: Declared | None = None
) -> tuple[ActualState, list[Diagnostic]]:
    """The job's live pages, resource by resource, and the schema warnings (errors raise)."""
    schemas, diags = check_job_schemas(gateway, job, desired, declared)
    states: dict[str, ResourceState] = {}
    for r in job.resources:
        data_source_id, schema = schemas[r.name]
        state = gateway.read_resource(r, data_source_id=data_source_id, schema=schema)
        wanted = {p.key for p in desired.resources[r.name].pages}
        live = {p.key for p in state.pages}
        if r.mode != "update-only" and wanted - live:
            trashed = gateway.read_trashed(r, data_source_id=data_source_id, schema=schema)
            state = replace(state, trashed=tuple(p for p in trashed if p.key in wanted))
        states[r.name] = state
    return with_bot_user(gateway, job, ActualState(resources=states)), diags


def check_job_schemas(
    gateway: NotionReader, job: Job, desired: DesiredState | None, declared: Declared | None = None
) -> tuple[dict[str, tuple[str, PropertySchema]], list[Diagnostic]]:
    """Every resource's (data source id, schema), once each mapping fits its live schema and, given
    the desired state, once every mapped value fits its property's live type; the warnings."""
    schemas: dict[str, tuple[str, PropertySchema]] = {}
    diags: list[Diagnostic] = []
    related = related_data_sources(gateway, job)
    for r in job.resources:
        data_source_id, schema = gateway.resolve(r.database, r.data_source)
        diags += check_schema(
            r,
            schema,
            data_source_name=gateway.data_source_name(data_source_id),
            related_data_sources=related,
            data_source_names=relation_names(gateway, r, schema, related),
        )
        schemas[r.name] = (data_source_id, schema)
    if desired is not None:
        live_types = {name: {p: s.get("type", "") for p, s in schema.items()} for name, (_, schema) in schemas.items()}
        names = {name: gateway.data_source_name(ds) or name for name, (ds, _) in schemas.items()}
        check_value_types(job, desired, live_types, names, declared)
    return schemas, diags


def relation_names(
    gateway: NotionReader, r: ResourceConfig, schema: PropertySchema, related: dict[str, str]
) -> dict[str, str]:
    """Titles of the data sources at both ends of a relation that points elsewhere (for its message;
    the one extra read happens only then)."""
    foreign = foreign_relation_targets(r, schema, related)
    if not foreign:
        return {}
    names = {ds: gateway.data_source_name(ds) or ds for ds in related.values()}
    return names | {ds: gateway.data_source_title(ds) for ds in foreign}


def with_bot_user(gateway: NotionReader, job: Job, actual: ActualState) -> ActualState:
    """The state with the integration's user id, when planning needs to know which pages it made."""
    if not (has_duplicates(job, actual) or stamp_candidates(job, actual)):
        return actual
    return replace(actual, bot_user_id=gateway.bot_user_id())


def has_duplicates(job: Job, states: ActualState | Mapping[str, ResourceState]) -> bool:
    """Whether some key of a resource the integration creates pages in is carried by several pages."""
    resources = states.resources if isinstance(states, ActualState) else states
    for r in job.resources:
        if r.mode == "update-only" or r.name not in resources:
            continue
        keys = [p.key for p in resources[r.name].pages if p.key]
        if len(keys) != len(set(keys)):
            return True
    return False


def related_data_sources(gateway: NotionReader, job: Job) -> dict[str, str]:
    """Data source id of every resource of the job (resolve is cached: no extra calls)."""
    return {r.name: gateway.resolve(r.database, r.data_source)[0] for r in job.resources}
