"""Bootstrap: the Notion databases a config needs, worked out from the config and then created.

The schema as code's case "the database does not exist yet" (reconcile.plan.schema is the case
"it exists"): one database per unset `${VARIABLE}` in a resource's `database:`, with every property
that any resource on it (of any job, update-only ones included) maps, matches, touches, marks or
declares in its `schema:`. A declared type wins; then a `bootstrap.properties` hint; else the type
is inferred:

    relation mapping              relation (two-way; the other side is named after this database)
    touch property                date
    length(...), count(...),
    sum(...), a computed rank     number
    to_date(...), run.*           date
    true/false, comparisons       checkbox
    a `literal`                   by its JSON type
    a property called URL         url
    Name or Title                 title; else the match key is the title, except on update-only
                                  resources (pages people make), which get a Name title of their own
    anything else                 rich_text

Before creating anything it searches the parent page for a database of the same title and
refuses to make a second copy. Each database is created with every property but its relations;
then each data source gets its relations in one schema update (both ends exist by then; the other
sides of two relations into one database get distinct names); then each new data source is read
back, and only what Notion shows is reported (a property asked for and missing is an error).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import yaml

from reconcile.errors import ReconcileError
from reconcile.model import Config, DeclaredProperty, Job, ResourceConfig, SchemaChange
from reconcile.notion.schema_writes import property_request, schema_request
from reconcile.plan.schema import other_side_name
from reconcile.ports import PropertySchema, WorkspaceAdmin

__all__ = [
    "Created",
    "DatabasePlan",
    "create_databases",
    "database_plans",
    "infer_type",
    "placeholder_env",
    "refuse_existing",
    "unconfirmed",
]

_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}")
_COMPARISON = re.compile(r"(==|!=|<=|>=|<|>)")
TITLE_NAMES = ("name", "title")


@dataclass
class DatabasePlan:
    """One database to create: its title, the variable to export, and every property that any
    resource on it (of any job, update-only ones included) maps, matches, touches or declares."""

    resource: str  # the first resource on it (the others: `resources`)
    variable: str
    title: str
    properties: dict[str, str]  # name -> Notion type
    relations: dict[str, str] = field(default_factory=dict)  # property -> target resource
    resources: tuple[str, ...] = ()
    declared: dict[str, DeclaredProperty] = field(default_factory=dict)  # from the resources' schema:


@dataclass
class Created:
    """A database bootstrap made, as Notion's answers show it."""

    plan: DatabasePlan
    database_id: str
    data_source_id: str
    properties: dict[str, Any] = field(default_factory=dict)  # the data source's properties, read back


# ── reading the config without the ids it does not have yet ──────────────────────────────────────


def placeholder_env(text: str, env: Mapping[str, str]) -> tuple[dict[str, str], set[str]]:
    """The environment with a distinct placeholder id for each unset ${VAR} (without a default);
    and those names."""
    missing = sorted({m.group(1) for m in _REFERENCE.finditer(text) if m.group(2) is None and not env.get(m.group(1))})
    filled = dict(env)
    for i, name in enumerate(missing, start=1):
        filled[name] = f"00000000-0000-4000-8000-{i:012d}"
    return filled, set(missing)


def raw_resources(text: str) -> dict[str, dict[str, Any]]:
    """resource name -> its raw YAML mapping (for the `database:` text and `bootstrap:` hints)."""
    document = yaml.safe_load(text) or {}
    out: dict[str, dict[str, Any]] = {}
    for job in (document.get("jobs") or {}).values():
        for name, raw in ((job or {}).get("resources") or {}).items():
            out[name] = raw or {}
    return out


def database_variable(raw: dict[str, Any]) -> str | None:
    found = _REFERENCE.fullmatch(str(raw.get("database", "")).strip())
    return found.group(1) if found else None


# ── types ────────────────────────────────────────────────────────────────────────────────────────


def infer_type(name: str, expression: str | None, computed: set[str]) -> str:
    """The Notion type a mapped property most likely has, from its name and expression."""
    text = (expression or "").strip()
    if name.strip().lower() == "url":
        return "url"
    if text.startswith("`") and text.endswith("`"):
        return literal_type(text[1:-1])
    if text in ("true", "false") or _COMPARISON.search(text):
        return "checkbox"
    if text.startswith(("length(", "count(", "sum(")) or text in computed:
        return "number"
    if text.startswith(("to_date(", "run.")):
        return "date"
    return "rich_text"


def literal_type(body: str) -> str:
    try:
        value = json.loads(body)
    except ValueError:
        return "rich_text"
    if isinstance(value, bool):
        return "checkbox"
    return "number" if isinstance(value, int | float) else "rich_text"


def resource_types(job: Job, r: ResourceConfig, hints: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """(property -> type, relation property -> target resource) for one resource."""
    computed = {c.name for c in job.source.computed}
    types: dict[str, str] = {r.match.property: "rich_text"}
    relations: dict[str, str] = {}
    for p in r.properties:
        if p.relation is not None:
            types[p.name], relations[p.name] = "relation", p.relation
        else:
            types[p.name] = infer_type(p.name, p.expression, computed)
    for mark in r.on_missing.set:
        types[mark.name] = infer_type(mark.name, mark.expression, computed)
    for t in r.touch:
        types[t.property] = "date"
    types.update({k: v for k, v in hints.items() if k in types or v == "title"})
    return types, relations


def with_title(resources: list[ResourceConfig], types: dict[str, str]) -> dict[str, str]:
    """Exactly one title property, chosen as the module docstring says."""
    if "title" in types.values():
        return types
    named = [n for n in types if n.strip().lower() in TITLE_NAMES and types[n] == "rich_text"]
    if named:
        return {**types, named[0]: "title"}
    for r in resources:
        if r.mode != "update-only" and types.get(r.match.property) == "rich_text":
            return {**types, r.match.property: "title"}
    return {"Name": "title", **types}


def database_plans(config: Config, text: str, missing: set[str], titles: Mapping[str, str]) -> list[DatabasePlan]:
    """The databases to create, relation targets first: one per unset variable, with what every
    resource on it needs (resources of several jobs often share a database)."""
    raws = raw_resources(text)
    groups: dict[str, list[tuple[Job, ResourceConfig, dict[str, Any]]]] = {}
    for job in config.jobs:
        for r in job.resources:
            raw = raws.get(r.name, {})
            variable = database_variable(raw)
            if variable is not None and variable in missing:
                groups.setdefault(variable, []).append((job, r, raw))
    plans = [group_plan(variable, group, titles, config) for variable, group in groups.items()]
    return relation_targets_first(plans)


def group_plan(
    variable: str, group: list[tuple[Job, ResourceConfig, dict[str, Any]]], titles: Mapping[str, str], config: Config
) -> DatabasePlan:
    """Inferred types first, then the `bootstrap.properties` hints, then the declared schemas."""
    types: dict[str, str] = {}
    relations: dict[str, str] = {}
    declared: dict[str, DeclaredProperty] = {}
    hinted: dict[str, str] = {}
    for job, r, raw in group:
        hint = raw.get("bootstrap") or {}
        inferred, rels = resource_types(job, r, {})
        for name, kind in inferred.items():
            if types.get(name, "rich_text") == "rich_text":
                types[name] = kind
        relations.update(rels)
        hinted.update({str(k): str(v) for k, v in (hint.get("properties") or {}).items()})
        for p in r.schema.properties if r.schema else ():
            if not p.remove:
                declared[p.name] = p
    types.update({k: v for k, v in hinted.items() if k in types or v == "title"})
    for name, p in declared.items():
        types[name] = p.type
        if p.relation:
            relations[name] = p.relation
        else:
            relations.pop(name, None)
    resources = [r for _, r, _ in group]
    title = next((titles[r.name] for r in resources if r.name in titles), None)
    title = title or next(
        (raw["bootstrap"]["title"] for _, _, raw in group if (raw.get("bootstrap") or {}).get("title")), None
    )
    return DatabasePlan(
        resource=resources[0].name,
        variable=variable,
        title=title or default_title(resources[0].name),
        properties=with_title(resources, types),
        relations=relations,
        resources=tuple(r.name for r in resources),
        declared=declared,
    )


def default_title(resource: str) -> str:
    return re.sub(r"[-_]+", " ", resource).strip().title()


def relation_targets_first(plans: list[DatabasePlan]) -> list[DatabasePlan]:
    ordered: list[DatabasePlan] = []
    pending = list(plans)
    while pending:
        names = {n for p in pending for n in p.resources}
        ready = [p for p in pending if not (set(p.relations.values()) & names - set(p.resources))] or pending[:1]
        ordered.append(ready[0])
        pending.remove(ready[0])
    return ordered


# ── Notion ───────────────────────────────────────────────────────────────────────────────────────


def plain(rich: list[dict[str, Any]] | None) -> str:
    return "".join(t.get("plain_text") or (t.get("text") or {}).get("content", "") for t in rich or [])


def existing_database(gateway: WorkspaceAdmin, parent_page: str, title: str) -> str | None:
    """The id of a database titled `title` directly under `parent_page`, if there is one."""
    for source in gateway.search_data_sources(title):
        parent = (source.get("database_parent") or {}).get("page_id", "")
        if plain(source.get("title")) == title and same_id(parent, parent_page):
            found = (source.get("parent") or {}).get("database_id") or source.get("id")
            return str(found) if found else None
    return None


def same_id(a: str, b: str) -> bool:
    return a.replace("-", "").lower() == b.replace("-", "").lower()


def create_databases(
    gateway: WorkspaceAdmin,
    parent_page: str,
    plans: list[DatabasePlan],
    existing: Mapping[str, tuple[str, PropertySchema]],
) -> list[Created]:
    """Every database of the plans (one request each, with every property but the relations), then
    the relations (one schema update per data source: both ends exist by then), then each data
    source read back: what Notion made, never what was asked. `existing` maps the resources whose
    database is already there to (data source id, schema): relations may point at them."""
    made = [create_one(gateway, parent_page, plan) for plan in plans]
    targets = {name: c.data_source_id for c in made for name in c.plan.resources}
    targets.update({name: ds for name, (ds, _) in existing.items()})
    taken = {c.data_source_id: set(c.plan.properties) for c in made}
    taken.update({ds: set(schema) for ds, schema in existing.values()})
    for c in made:
        changes = relation_changes(c, targets, taken)
        if changes:
            gateway.update_data_source(c.data_source_id, schema_request(changes))
    for c in made:
        c.properties = dict(gateway.retrieve_data_source(c.data_source_id).get("properties") or {})
    return made


def create_one(gateway: WorkspaceAdmin, parent_page: str, plan: DatabasePlan) -> Created:
    adds = [addition(plan, name, kind) for name, kind in plan.properties.items() if kind != "relation"]
    properties = {c.property: property_request(c) or {} for c in adds}
    database = gateway.create_database(parent_page, plan.title, properties)
    sources = database.get("data_sources") or []
    if not sources:
        database = gateway.retrieve_database(database["id"])
        sources = database.get("data_sources") or []
    return Created(plan=plan, database_id=str(database["id"]), data_source_id=str(sources[0]["id"]))


def addition(plan: DatabasePlan, name: str, kind: str) -> SchemaChange:
    declared = plan.declared.get(name)
    options = declared.options if declared is not None and kind != "status" else ()
    return SchemaChange(
        change="add", resource=plan.resource, data_source_id="", property=name, type=kind, options=options
    )


def relation_changes(c: Created, targets: Mapping[str, str], taken: dict[str, set[str]]) -> list[SchemaChange]:
    """The relations of a new data source, each to its target resource's data source; the other
    side of a two-way one is named after this database (and the property, when two would clash)."""
    out = []
    for name, target in c.plan.relations.items():
        if target not in targets:
            continue  # not a resource with a database: the schema check names it
        declared = c.plan.declared.get(name)
        two_way = declared.two_way if declared is not None else True
        target_ds = targets[target]
        synced = None
        if two_way:
            given = declared.synced_property if declared is not None else None
            synced = given or other_side_name(name, c.plan.title, taken.setdefault(target_ds, set()))
            taken[target_ds].add(synced)
        out.append(
            replace(
                addition(c.plan, name, "relation"),
                data_source_id=c.data_source_id,
                relation_resource=target,
                relation_data_source_id=target_ds,
                two_way=two_way,
                synced_property=synced,
            )
        )
    return out


def unconfirmed(c: Created) -> list[str]:
    """The properties asked for that the data source, as Notion sent it back, does not have."""
    return [
        f"{name} ({kind})"
        for name, kind in c.plan.properties.items()
        if (c.properties.get(name) or {}).get("type") != kind
    ]


def refuse_existing(gateway: WorkspaceAdmin, parent: str, plans: list[DatabasePlan]) -> None:
    for plan in plans:
        found = existing_database(gateway, parent, plan.title)
        if found:
            raise ReconcileError(
                f"a database titled {plan.title!r} already exists under that page ({found}); nothing was created",
                hint=f"export {plan.variable}={found} to use it, or pick another --title",
            )
