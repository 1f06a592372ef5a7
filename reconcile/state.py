"""Notion → ActualState for one job: each resource's schema (checked against its mapping) and pages.

Reads cost the floor: the gateway resolves each database once per run and reads each data source
in bulk; trashed pages are read only when the plan may create something (a trashed page carrying
that key is restored instead of a duplicate being made).
"""

from __future__ import annotations

from dataclasses import replace

from reconcile.model import ActualState, DesiredState, Diagnostic, Job, ResourceState
from reconcile.notion.schema import check_schema
from reconcile.ports import NotionReader

__all__ = ["read_job_state", "related_data_sources"]


def read_job_state(gateway: NotionReader, job: Job, desired: DesiredState) -> tuple[ActualState, list[Diagnostic]]:
    """The job's live pages, resource by resource, and the schema warnings (errors raise)."""
    states: dict[str, ResourceState] = {}
    diags: list[Diagnostic] = []
    related = related_data_sources(gateway, job)
    for r in job.resources:
        data_source_id, schema = gateway.resolve(r.database, r.data_source)
        name = gateway.data_source_name(data_source_id)
        diags += check_schema(r, schema, data_source_name=name, related_data_sources=related)
        state = gateway.read_resource(r, data_source_id=data_source_id, schema=schema)
        wanted = {p.key for p in desired.resources[r.name].pages}
        live = {p.key for p in state.pages}
        if r.mode != "update-only" and wanted - live:
            trashed = gateway.read_trashed(r, data_source_id=data_source_id, schema=schema)
            state = replace(state, trashed=tuple(p for p in trashed if p.key in wanted))
        states[r.name] = state
    return ActualState(resources=states), diags


def related_data_sources(gateway: NotionReader, job: Job) -> dict[str, str]:
    """Data source id of every resource of the job (resolve is cached: no extra calls)."""
    return {r.name: gateway.resolve(r.database, r.data_source)[0] for r in job.resources}
