"""A resource's `schema:` → DeclaredSchema, with the checks the JSON Schema cannot make.

schema:
  allow_type_changes: false      # default: a declared type unlike the live one is refused
  allow_removals: false          # default: `remove: true` is refused
  properties:
    Name: title                                   # shorthand: just the type
    Stage: {type: select, options: [Alpha, Beta]}
    Councils: {type: relation, relation: councils, two_way: true, synced_property: Services}
    Summary: {type: rich_text, renamed_from: Notes}
    Legacy: {remove: true}
"""

from __future__ import annotations

from typing import Any

from reconcile.config.schema import KeyPath, config_error
from reconcile.errors import ConfigError
from reconcile.model import DeclaredProperty, DeclaredSchema

__all__ = ["OPTION_TYPES", "build_declared_schema"]

OPTION_TYPES = frozenset({"select", "multi_select", "status"})


def build_declared_schema(
    path: str, at: KeyPath, raw: dict[str, Any] | None, job_resources: tuple[str, ...]
) -> DeclaredSchema | None:
    if raw is None:
        return None
    props = tuple(
        declared_property(path, (*at, "properties", name), name, spec, job_resources)
        for name, spec in (raw.get("properties") or {}).items()
    )
    check_renames(path, at, props)
    return DeclaredSchema(
        properties=props,
        allow_type_changes=bool(raw.get("allow_type_changes", False)),
        allow_removals=bool(raw.get("allow_removals", False)),
    )


def declared_property(
    path: str, at: KeyPath, name: str, raw: str | dict[str, Any], job_resources: tuple[str, ...]
) -> DeclaredProperty:
    if isinstance(raw, str):
        raw = {"type": raw}
    if raw.get("remove"):
        return DeclaredProperty(name=name, type=str(raw.get("type") or ""), remove=True)
    kind = raw.get("type")
    if not kind:
        raise error(path, at, "a declared property needs a type (or remove: true)", "write e.g. {type: rich_text}")
    options = tuple(str(o) for o in raw.get("options") or ())
    if options and kind not in OPTION_TYPES:
        raise error(
            path, (*at, "options"), f"a {kind} property has no options", "options go on select, multi_select or status"
        )
    relation = raw.get("relation")
    if kind == "relation" and relation not in job_resources:
        known = ", ".join(job_resources)
        raise error(path, (*at, "relation"), f"a relation needs the resource it points at (one of: {known})", None)
    if kind != "relation" and relation is not None:
        raise error(path, (*at, "relation"), f"a {kind} property points at no resource", "write type: relation")
    renamed_from = raw.get("renamed_from")
    if renamed_from == name:
        raise error(path, (*at, "renamed_from"), "a property is not renamed from its own name", None)
    return DeclaredProperty(
        name=name,
        type=str(kind),
        options=options,
        relation=relation,
        two_way=bool(raw.get("two_way", True)),
        synced_property=raw.get("synced_property"),
        renamed_from=renamed_from,
    )


def check_renames(path: str, at: KeyPath, props: tuple[DeclaredProperty, ...]) -> None:
    names = {p.name for p in props}
    for p in props:
        if p.renamed_from and p.renamed_from in names:
            raise error(
                path,
                (*at, "properties", p.name, "renamed_from"),
                f"{p.renamed_from!r} is declared too; a property cannot be both renamed and kept",
                f"leave {p.renamed_from!r} out of the schema",
            )
    titles = [p.name for p in props if p.type == "title" and not p.remove]
    if len(titles) > 1:
        raise error(path, (*at, "properties"), f"a data source has one title property; declared: {titles}", None)


def error(path: str, at: KeyPath, problem: str, hint: str | None) -> ConfigError:
    return config_error(path, at, problem, hint)
