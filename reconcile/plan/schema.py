"""The schema as code: a resource's declared schema against its data source's live schema → the
schema changes apply makes before any page write. Pure: no I/O.

For each declared property, in order:

    remove: true            live → remove (refused unless allow_removals); absent → nothing
    live, same type         select/multi_select: options the declaration names and Notion lacks are
                            added (the live ones are sent again: options sent replace the list);
                            status: Notion's API cannot add options → a warning
    live, another type      retype (refused unless allow_type_changes)
    absent, renamed_from    the old name live → rename (then compared as above)
    absent                  add (a relation: to the target resource's data source, single or two-way;
                            the other side of a two-way one is named after this data source, or
                            after it and the property when that name is taken on the target)

A live property the declaration does not name is left alone: people add their own. Several
resources on one data source declare into one request; two that disagree on a type are refused.
The bootstrap is the case "the data source does not exist yet": every declared property is an add.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from reconcile.model import DeclaredProperty, Diagnostic, ResourceConfig, SchemaChange

__all__ = ["SchemaPlan", "merge", "plan_schema", "planned_schema", "refusals_line", "renamed_properties"]

LiveSchema = Mapping[str, Mapping[str, Any]]  # property name -> its Notion schema object


@dataclass
class SchemaPlan:
    changes: list[SchemaChange] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)  # one line each: resource, property, from → to
    warnings: list[Diagnostic] = field(default_factory=list)


def plan_schema(
    resources: Sequence[ResourceConfig],
    live: Mapping[str, tuple[str, LiveSchema]],
    titles: Mapping[str, str] | None = None,
) -> SchemaPlan:
    """The schema changes of these resources; `live` maps each resource to (data source id, schema),
    `titles` data source ids to their titles (the default name of a two-way relation's other side)."""
    out = SchemaPlan()
    declared_by: dict[tuple[str, str], tuple[str, str]] = {}  # (data source, property) -> (resource, type)
    taken: dict[str, set[str]] = {ds: set(schema) for ds, schema in live.values()}
    for r in resources:
        if r.schema is None or r.name not in live:
            continue
        data_source_id, schema = live[r.name]
        for p in r.schema.properties:
            if not p.remove and conflicting(r.name, data_source_id, p, declared_by, out):
                continue
            for change in property_changes(r, data_source_id, schema, p, out, live, titles or {}, taken):
                merge(out.changes, change)
    return out


def conflicting(
    resource: str,
    data_source_id: str,
    p: DeclaredProperty,
    declared_by: dict[tuple[str, str], tuple[str, str]],
    out: SchemaPlan,
) -> bool:
    earlier = declared_by.setdefault((data_source_id, p.name), (resource, p.type))
    if earlier[1] == p.type:
        return False
    out.refusals.append(
        f"{resource}: property {p.name!r} is declared {p.type}, but {earlier[0]} (same data source) declares "
        f"{earlier[1]} ({earlier[1]} → {p.type})"
    )
    return True


def property_changes(
    r: ResourceConfig,
    data_source_id: str,
    schema: LiveSchema,
    p: DeclaredProperty,
    out: SchemaPlan,
    live: Mapping[str, tuple[str, LiveSchema]],
    titles: Mapping[str, str],
    taken: dict[str, set[str]],
) -> list[SchemaChange]:
    assert r.schema is not None
    base = SchemaChange(change="add", resource=r.name, data_source_id=data_source_id, property=p.name, type=p.type)
    current = schema.get(p.name)
    if p.remove:
        if current is None:
            return []
        before = str(current.get("type", ""))
        if not r.schema.allow_removals:
            out.refusals.append(
                f"{r.name}: property {p.name!r} is declared remove: true ({before} → removed); "
                "set schema.allow_removals: true to remove it and its values"
            )
            return []
        return [replace(base, change="remove", type=before, before=before)]
    changes: list[SchemaChange] = []
    if current is None and p.renamed_from and p.renamed_from in schema:
        current = schema[p.renamed_from]
        changes.append(replace(base, change="rename", type=str(current.get("type", "")), before=p.renamed_from))
    if current is None:
        return [added(base, p, live, titles, taken)]
    return changes + kept_changes(r, base, p, current, out)


def kept_changes(
    r: ResourceConfig, base: SchemaChange, p: DeclaredProperty, current: Mapping[str, Any], out: SchemaPlan
) -> list[SchemaChange]:
    """What a live property of the declared name (or renamed to it) still needs."""
    assert r.schema is not None
    live_type = str(current.get("type", ""))
    if live_type != p.type:
        if not r.schema.allow_type_changes:
            out.refusals.append(
                f"{r.name}: property {p.name!r} is {_a(live_type)} in Notion, the schema declares {p.type} "
                f"({live_type} → {p.type}); set schema.allow_type_changes: true to change it "
                "(Notion drops the values it cannot convert)"
            )
            return []
        return [replace(base, change="retype", before=live_type, options=p.options)]
    live_options = option_names(current)
    missing = tuple(o for o in p.options if o not in live_options)
    if not missing:
        return []
    if p.type == "status":
        out.warnings.append(
            Diagnostic(
                severity="warning",
                code="status_options_missing",
                message=(
                    f"{r.name}: status property {p.name!r} lacks the declared option(s) {', '.join(missing)}; "
                    "Notion's API cannot add status options: add them in Notion"
                ),
                resource=r.name,
            )
        )
        return []
    return [replace(base, change="add_options", options=missing, kept_options=live_options)]


def added(
    base: SchemaChange,
    p: DeclaredProperty,
    live: Mapping[str, tuple[str, LiveSchema]],
    titles: Mapping[str, str],
    taken: dict[str, set[str]],
) -> SchemaChange:
    change = replace(base, options=p.options)
    if p.type != "relation" or p.relation is None:
        return change
    target = live[p.relation][0] if p.relation in live else ""
    synced = None
    if p.two_way and target:
        synced = p.synced_property or other_side_name(
            base.property, titles.get(base.data_source_id) or base.resource, taken.setdefault(target, set())
        )
        taken[target].add(synced)
    return replace(
        change, relation_resource=p.relation, relation_data_source_id=target, two_way=p.two_way, synced_property=synced
    )


def other_side_name(prop: str, title: str, taken: set[str]) -> str:
    """The other side of a two-way relation: named after the data source it comes from, and after
    the property too when that name is taken on the target (two relations from one data source)."""
    for name in (title, f"{title} ({prop})"):
        if name not in taken:
            return name
    n = 2
    while f"{title} ({prop}) {n}" in taken:
        n += 1
    return f"{title} ({prop}) {n}"


def merge(changes: list[SchemaChange], change: SchemaChange) -> None:
    """One change per (data source, property): a second declaration of the same adds nothing new,
    and options declared by several resources are added together."""
    for i, c in enumerate(changes):
        if (c.data_source_id, c.property) != (change.data_source_id, change.property):
            continue
        if c.change == change.change:
            changes[i] = replace(c, options=c.options + tuple(o for o in change.options if o not in c.options))
            return
    changes.append(change)


def option_names(prop: Mapping[str, Any]) -> tuple[str, ...]:
    config = prop.get(str(prop.get("type", ""))) or {}
    return tuple(str(o.get("name")) for o in config.get("options") or () if isinstance(o, dict))


def planned_schema(schema: LiveSchema, changes: Iterable[SchemaChange]) -> dict[str, dict[str, Any]]:
    """The live schema as it will be once the changes are made: what the mapping is checked
    against and the pages are planned with, before apply makes them."""
    out = {name: dict(prop) for name, prop in schema.items()}
    for c in changes:
        if c.change == "rename" and c.before in out:
            out[c.property] = out.pop(c.before)
        elif c.change == "remove":
            out.pop(c.property, None)
        elif c.change in ("add", "retype"):
            config: dict[str, Any] = {"options": [{"name": o} for o in c.options]} if c.options else {}
            if c.type == "relation":
                config = {"data_source_id": c.relation_data_source_id}
            out[c.property] = {"id": out.get(c.property, {}).get("id", ""), "type": c.type, c.type: config}
        elif c.change == "add_options" and c.property in out:
            prop = out[c.property]
            config = dict(prop.get(c.type) or {})
            config["options"] = [*(config.get("options") or []), *({"name": o} for o in c.options)]
            out[c.property] = {**prop, c.type: config}
    return out


def renamed_properties(changes: Iterable[SchemaChange], data_source_id: str) -> dict[str, str]:
    """new name -> live name, of the renames planned on a data source."""
    return {c.property: str(c.before) for c in changes if c.change == "rename" and c.data_source_id == data_source_id}


def refusals_line(refusals: Sequence[str]) -> str:
    more = f" (+{len(refusals) - 1} more)" if len(refusals) > 1 else ""
    return f"{refusals[0]}{more}"


def _a(kind: str) -> str:
    return f"an {kind}" if kind[:1] in "aeiou" else f"a {kind}"
