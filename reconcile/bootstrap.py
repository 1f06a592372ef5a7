"""Bootstrap: the Notion databases a config needs, worked out from the config and then created.

Everything is derived from the config: one database per resource whose `database:` is an unset
`${VARIABLE}`, with every property the resource maps, matches, touches or marks. Types come from a
`bootstrap:` hint on the resource when the config has one, else they are inferred:

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
refuses to make a second copy.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from reconcile.errors import ReconcileError
from reconcile.model import Config, Job, ResourceConfig
from reconcile.ports import WorkspaceAdmin

__all__ = [
    "DatabasePlan",
    "create_database",
    "database_plans",
    "infer_type",
    "placeholder_env",
    "refuse_existing",
]

_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}")
_COMPARISON = re.compile(r"(==|!=|<=|>=|<|>)")
TITLE_NAMES = ("name", "title")


@dataclass
class DatabasePlan:
    """One database to create: its title, the variable to export, and the property types."""

    resource: str
    variable: str
    title: str
    properties: dict[str, str]  # name -> Notion type
    relations: dict[str, str] = field(default_factory=dict)  # property -> target resource


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
    return with_title(r, types), relations


def with_title(r: ResourceConfig, types: dict[str, str]) -> dict[str, str]:
    """Exactly one title property, chosen as the module docstring says."""
    if "title" in types.values():
        return types
    named = [n for n in types if n.strip().lower() in TITLE_NAMES and types[n] == "rich_text"]
    if named:
        return {**types, named[0]: "title"}
    if r.mode != "update-only" and types[r.match.property] == "rich_text":
        return {**types, r.match.property: "title"}
    return {"Name": "title", **types}


def database_plans(config: Config, text: str, missing: set[str], titles: Mapping[str, str]) -> list[DatabasePlan]:
    """The databases to create, relation targets first, for resources whose variable is unset."""
    raws = raw_resources(text)
    plans: list[DatabasePlan] = []
    for job in config.jobs:
        for r in job.resources:
            raw = raws.get(r.name, {})
            variable = database_variable(raw)
            if variable is None or variable not in missing or any(p.variable == variable for p in plans):
                continue
            hint = raw.get("bootstrap") or {}
            types, relations = resource_types(job, r, dict(hint.get("properties") or {}))
            title = titles.get(r.name) or hint.get("title") or default_title(r.name)
            plans.append(DatabasePlan(r.name, variable, title, types, relations))
    return relation_targets_first(plans)


def default_title(resource: str) -> str:
    return re.sub(r"[-_]+", " ", resource).strip().title()


def relation_targets_first(plans: list[DatabasePlan]) -> list[DatabasePlan]:
    ordered: list[DatabasePlan] = []
    pending = list(plans)
    while pending:
        names = {p.resource for p in pending}
        ready = [p for p in pending if not (set(p.relations.values()) & names - {p.resource})] or pending[:1]
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


def property_spec(kind: str, relation_target: str | None, synced_name: str | None) -> dict[str, Any]:
    if kind != "relation":
        return {kind: {}}
    dual: dict[str, Any] = {"synced_property_name": synced_name} if synced_name else {}
    return {"relation": {"data_source_id": relation_target, "type": "dual_property", "dual_property": dual}}


def create_database(
    gateway: WorkspaceAdmin, parent_page: str, plan: DatabasePlan, created: dict[str, tuple[str, str]]
) -> tuple[str, str]:
    """(database id, data source id) of a new database; a relation to a database not created yet
    is left out: it comes later, as the reciprocal of the other side's relation."""
    properties: dict[str, Any] = {}
    for name, kind in plan.properties.items():
        if kind == "relation":
            target = plan.relations[name]
            if target not in created:
                continue  # the other side creates this relation as its reciprocal
            properties[name] = property_spec(kind, created[target][1], reciprocal_name(plan, name))
        else:
            properties[name] = property_spec(kind, None, None)
    database = gateway.create_database(parent_page, plan.title, properties)
    sources = database.get("data_sources") or []
    if not sources:
        database = gateway.retrieve_database(database["id"])
        sources = database.get("data_sources") or []
    return database["id"], sources[0]["id"]


def reciprocal_name(plan: DatabasePlan, prop: str) -> str:
    # The other side of the relation is named after this database ("PlanX Live Services" on Councils).
    return plan.title


def refuse_existing(gateway: WorkspaceAdmin, parent: str, plans: list[DatabasePlan]) -> None:
    for plan in plans:
        found = existing_database(gateway, parent, plan.title)
        if found:
            raise ReconcileError(
                f"a database titled {plan.title!r} already exists under that page ({found}); nothing was created",
                hint=f"export {plan.variable}={found} to use it, or pick another --title",
            )
