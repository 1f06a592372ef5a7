"""Notion as it will be once a plan's schema changes are made: the reads planning sees.

Planning checks each mapping against its data source's schema and plans the pages with it. With
schema changes planned (reconcile.plan.schema), that is the schema after them: a property to add
exists, with its type; a property to rename has its new name, and the pages read keep their
values under it. `PlannedSchemaReader` wraps the run's reader: `resolve` answers the planned
schema, and the page reads ask Notion with the live names and hand back the planned ones. It makes
no call of its own: a plan without schema changes reads exactly as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from reconcile.errors import SchemaChangeRefusedError
from reconcile.model import PageState, ResourceConfig, ResourceState, SchemaChange, UserDirectory
from reconcile.notion.schema import live_options
from reconcile.plan.schema import SchemaPlan, merge, plan_schema, planned_schema, refusals_line, renamed_properties
from reconcile.ports import NotionObject, NotionReader, PropertySchema

__all__ = ["PlannedSchemaReader", "job_schema_plan", "merged_changes"]


class PlannedSchemaReader:
    """A NotionReader that shows each data source with the planned schema changes made."""

    def __init__(self, inner: NotionReader, changes: Sequence[SchemaChange]) -> None:
        self.inner = inner
        self.changes = tuple(changes)

    def live(self, database_id: str, data_source_name: str | None) -> tuple[str, PropertySchema]:
        return self.inner.resolve(database_id, data_source_name)

    def resolve(self, database_id: str, data_source_name: str | None) -> tuple[str, PropertySchema]:
        data_source_id, schema = self.inner.resolve(database_id, data_source_name)
        mine = [c for c in self.changes if c.data_source_id == data_source_id]
        return data_source_id, (planned_schema(schema, mine) if mine else schema)

    def data_source_name(self, data_source_id: str) -> str | None:
        return self.inner.data_source_name(data_source_id)

    def data_source_title(self, data_source_id: str) -> str:
        return self.inner.data_source_title(data_source_id)

    def bot_user_id(self) -> str:
        return self.inner.bot_user_id()

    def users(self) -> UserDirectory:
        return self.inner.users()

    def query_pages(self, data_source_id: str) -> list[NotionObject]:
        return self.inner.query_pages(data_source_id)

    def retrieve_page(self, page_id: str) -> NotionObject:
        return self.inner.retrieve_page(page_id)

    def read_body(self, block_id: str) -> list[NotionObject]:
        return self.inner.read_body(block_id)

    def read_resource(
        self, resource: ResourceConfig, *, data_source_id: str, schema: PropertySchema, include_trash: bool = False
    ) -> ResourceState:
        live, renames = self.as_live(resource, data_source_id)
        state = self.inner.read_resource(
            live, data_source_id=data_source_id, schema=self.live_schema(resource), include_trash=include_trash
        )
        if not self.touches(data_source_id):
            return state
        return replace(
            state,
            resource=resource.name,
            schema={name: str(prop.get("type", "")) for name, prop in schema.items()},
            options=live_options(schema),  # the options the schema changes add exist by then
            pages=renamed_pages(state.pages, renames),
            trashed=renamed_pages(state.trashed, renames),
        )

    def read_trashed(
        self, resource: ResourceConfig, *, data_source_id: str, schema: PropertySchema
    ) -> tuple[PageState, ...]:
        live, renames = self.as_live(resource, data_source_id)
        pages = self.inner.read_trashed(live, data_source_id=data_source_id, schema=self.live_schema(resource))
        return renamed_pages(pages, renames)

    def server_time(self) -> str | None:
        return self.inner.server_time()

    def read_edited_since(
        self,
        resource: ResourceConfig,
        *,
        data_source_id: str,
        schema: PropertySchema,
        since: str,
        in_trash: bool,
    ) -> tuple[PageState, ...]:
        live, renames = self.as_live(resource, data_source_id)
        pages = self.inner.read_edited_since(
            live, data_source_id=data_source_id, schema=self.live_schema(resource), since=since, in_trash=in_trash
        )
        return renamed_pages(pages, renames)

    def read_pages(
        self, resource: ResourceConfig, page_ids: Iterable[str], *, data_source_id: str, schema: PropertySchema
    ) -> tuple[PageState, ...]:
        live, renames = self.as_live(resource, data_source_id)
        pages = self.inner.read_pages(live, page_ids, data_source_id=data_source_id, schema=self.live_schema(resource))
        return renamed_pages(pages, renames)

    # ── the live names ───────────────────────────────────────────────────────────────────────

    def touches(self, data_source_id: str) -> bool:
        return any(c.data_source_id == data_source_id for c in self.changes)

    def live_schema(self, resource: ResourceConfig) -> PropertySchema:
        return self.inner.resolve(resource.database, resource.data_source)[1]

    def as_live(self, resource: ResourceConfig, data_source_id: str) -> tuple[ResourceConfig, dict[str, str]]:
        """The resource with its renamed properties under their live names; live name -> new name."""
        renames = renamed_properties(self.changes, data_source_id)
        if not renames:
            return resource, {}
        return with_names(resource, renames), {old: new for new, old in renames.items()}


def with_names(r: ResourceConfig, names: Mapping[str, str]) -> ResourceConfig:
    def named(name: str) -> str:
        return names.get(name, name)

    return replace(
        r,
        match=replace(r.match, property=named(r.match.property)),
        properties=tuple(replace(p, name=named(p.name)) for p in r.properties),
        on_missing=replace(r.on_missing, set=tuple(replace(p, name=named(p.name)) for p in r.on_missing.set)),
        touch=tuple(replace(t, property=named(t.property)) for t in r.touch),
    )


def renamed_pages(pages: Iterable[PageState], live_to_new: Mapping[str, str]) -> tuple[PageState, ...]:
    if not live_to_new:
        return tuple(pages)
    return tuple(replace(p, values=renamed_values(p.values, live_to_new)) for p in pages)


def renamed_values(values: Mapping[str, Any], live_to_new: Mapping[str, str]) -> dict[str, Any]:
    return {live_to_new.get(name, name): value for name, value in values.items()}


def job_schema_plan(reader: NotionReader, resources: Sequence[ResourceConfig]) -> SchemaPlan:
    """The schema changes these resources declare, against their live schemas (resolved once per
    run: no extra call); SchemaChangeRefusedError when one is a type change or a removal the config
    does not allow."""
    declaring = [r for r in resources if r.schema is not None]
    if not declaring:
        return SchemaPlan()
    live = {r.name: reader.resolve(r.database, r.data_source) for r in resources}
    titles = {ds: reader.data_source_name(ds) or "" for ds, _ in live.values()}
    planned = plan_schema(resources, live, titles)
    if planned.refusals:
        raise SchemaChangeRefusedError(
            refusals_line(planned.refusals), hint="nothing was written; change the schema: declaration or allow it"
        )
    return planned


def merged_changes(changes: Iterable[SchemaChange], more: Iterable[SchemaChange]) -> list[SchemaChange]:
    """Changes of several jobs: one per data source and property (jobs that share a database may
    declare the same property)."""
    out = list(changes)
    for c in more:
        merge(out, c)
    return out
