"""Schema changes as Notion's data source update takes them (PATCH /v1/data_sources/{id}), one
request per data source, and what Notion's answer confirms.

    add          {"<name>": {"<type>": {...}}}   select/multi_select with their options; a relation
                 {"relation": {"data_source_id", "type": "dual_property", "dual_property":
                 {"synced_property_name"}}} or {"type": "single_property", "single_property": {}}
    add_options  {"<name>": {"<type>": {"options": [live ones..., new ones...]}}} (options sent
                 replace the list: the live ones are named again, by name, and keep id and colour)
    rename       {"<old name>": {"name": "<new name>"}}
    retype       {"<name>": {"<new type>": {...}}}
    remove       {"<name>": null}

The answer is the data source as it now is (the OpenAPI document allows a partial data source
there: without properties it is read back, one GET); a change it does not show is an error naming
it, so nothing is reported as done that Notion did not do.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from reconcile.errors import NotionError
from reconcile.model import SchemaChange, SchemaOutcome
from reconcile.ports import NotionObject, NotionWriter

__all__ = ["apply_schema_changes", "by_data_source", "missing_from", "property_request", "schema_request"]


def by_data_source(changes: Iterable[SchemaChange]) -> dict[str, list[SchemaChange]]:
    out: dict[str, list[SchemaChange]] = {}
    for c in changes:
        out.setdefault(c.data_source_id, []).append(c)
    return out


def schema_request(changes: Iterable[SchemaChange]) -> dict[str, NotionObject | None]:
    """The `properties` body of one data source's update."""
    body: dict[str, NotionObject | None] = {}
    for c in changes:
        key = c.before if c.change == "rename" and c.before else c.property
        body[key] = property_request(c)
    return body


def property_request(c: SchemaChange) -> NotionObject | None:
    if c.change == "remove":
        return None
    if c.change == "rename":
        return {"name": c.property}
    if c.change == "add_options":
        return {c.type: {"options": [{"name": o} for o in (*c.kept_options, *c.options)]}}
    if c.type == "relation":
        return {"relation": relation_config(c)}
    if c.type in ("select", "multi_select") and c.options:
        return {c.type: {"options": [{"name": o} for o in c.options]}}
    return {c.type: {}}


def relation_config(c: SchemaChange) -> NotionObject:
    if not c.two_way:
        return {"data_source_id": c.relation_data_source_id, "type": "single_property", "single_property": {}}
    dual = {"synced_property_name": c.synced_property} if c.synced_property else {}
    return {"data_source_id": c.relation_data_source_id, "type": "dual_property", "dual_property": dual}


def apply_schema_changes(
    gateway: NotionWriter, changes: Iterable[SchemaChange], done: list[SchemaOutcome] | None = None
) -> int:
    """Every data source's changes in one request each; the requests sent. NotionError when
    Notion refuses one or its answer does not show a change. Each change attempted is added to
    `done` (ok, or failed with its data source's request) for the run record."""
    sent = 0
    record = done if done is not None else []
    for data_source_id, group in by_data_source(changes).items():
        try:
            update_one(gateway, data_source_id, group)
        except Exception as exc:
            code = str(getattr(exc, "code", "") or type(exc).__name__)
            record.extend(schema_outcome(c, "failed", code) for c in group)
            raise
        sent += 1
        record.extend(schema_outcome(c, "ok") for c in group)
    return sent


def schema_outcome(c: SchemaChange, status: Literal["ok", "failed"], error_code: str = "") -> SchemaOutcome:
    return SchemaOutcome(
        change=c.change,
        resource=c.resource,
        data_source_id=c.data_source_id,
        property=c.property,
        type=c.type,
        status=status,
        before=c.before,
        error_code=error_code,
    )


def update_one(gateway: NotionWriter, data_source_id: str, group: list[SchemaChange]) -> None:
    """One data source's changes, in one request, confirmed by Notion's answer."""
    answer = gateway.update_data_source(data_source_id, schema_request(group))
    # Notion's document allows a partial data source as the answer: then it is read back.
    properties = answer.get("properties")
    if not isinstance(properties, dict):
        properties = gateway.retrieve_data_source(data_source_id).get("properties") or {}
    missing = missing_from(properties, group)
    if missing:
        raise NotionError(
            f"the schema update of data source {data_source_id} did not make: {'; '.join(missing)}",
            hint="read the data source in Notion and run plan again",
        )


def missing_from(properties: Mapping[str, Any], changes: Iterable[SchemaChange]) -> list[str]:
    """The changes a data source (as Notion sent it back) does not show."""
    out = []
    for c in changes:
        prop = properties.get(c.property)
        if c.change == "remove":
            if prop is not None:
                out.append(f"remove {c.property!r}")
        elif prop is None or prop.get("type") != c.type:
            out.append(f"{c.change} {c.property!r} ({c.type})")
        elif c.change in ("add", "add_options", "retype") and c.options and c.type != "status":
            names = {o.get("name") for o in (prop.get(c.type) or {}).get("options") or []}
            absent = [o for o in c.options if o not in names]
            if absent:
                out.append(f"options {', '.join(absent)} of {c.property!r}")
        elif c.type == "relation" and c.relation_data_source_id:
            target = str((prop.get("relation") or {}).get("data_source_id") or "")
            if target.replace("-", "") != c.relation_data_source_id.replace("-", ""):
                out.append(f"relation {c.property!r} to {c.relation_data_source_id}")
    return out
