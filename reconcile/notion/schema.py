"""Check a resource's managed properties against the live data source schema.

Each property the tool may write has a role, and each role accepts some Notion types:

    match     the key: title, rich_text, number, url, email, phone_number, select; or one Notion
              computes (unique_id, formula, rollup, created_time, created_by), read but never written, so only an
              update-only resource may match on it
    mapped    any writable type; a relation mapping needs a relation to the related resource;
              `new_options` only on select, multi_select and status (and never `create` on a
              status: Notion's API cannot add status options, neither by a page write nor by the
              data source update endpoint); `time_zone` only on a date
    mark      (on_missing: mark, set:) any writable type
    touch     date

A missing property or an incompatible type is an error (SchemaMismatchError, every problem on one
line each); a missing optional mapping is a warning Diagnostic and is simply not synced.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reconcile.errors import SchemaMismatchError
from reconcile.model import Diagnostic, PropertyMapping, ResourceConfig
from reconcile.values import KEY_READ_ONLY_TYPES, READ_ONLY_TYPES, WRITABLE_TYPES

MATCH_TYPES = frozenset({"title", "rich_text", "number", "url", "email", "phone_number", "select"})
OPTION_TYPES = frozenset({"select", "multi_select", "status"})


@dataclass(frozen=True)
class _Use:
    name: str
    role: str  # "match", "mapped", "mark" or "touch"
    relation: str | None = None  # the related resource of a relation mapping
    optional: bool = False
    mapping: PropertyMapping | None = None
    update_only: bool = False  # the resource never creates pages (a computed key is allowed)


def check_schema(
    resource: ResourceConfig,
    schema: dict[str, dict[str, Any]],
    *,
    writable: bool = True,
    data_source_name: str | None = None,
    related_data_sources: dict[str, str] | None = None,
    data_source_names: dict[str, str] | None = None,
) -> list[Diagnostic]:
    """Warnings for `resource` against `schema`; raises SchemaMismatchError on any error.

    `writable=False` checks only existence and the match type (a read-only use, e.g. validate
    without write access). `related_data_sources` maps resource names to their data source ids,
    to check that a relation property points at the related resource; `data_source_names` (id ->
    title) names both ends of a relation that points elsewhere.
    """
    source = data_source_name or resource.data_source or resource.name
    warnings: list[Diagnostic] = []
    errors: list[str] = []
    for use in _uses(resource):
        prop = schema.get(use.name)
        if prop is None:
            if use.optional:
                warnings.append(_missing_optional(resource.name, use.name, source))
            else:
                errors.append(_missing(resource.name, use.name, source, schema))
            continue
        problem = _type_problem(use, prop, writable, related_data_sources or {}, data_source_names or {})
        if problem:
            where = f" of data source {source!r}" if problem.startswith("is a relation to") else ""
            errors.append(f"{resource.name}: property {use.name!r}{where} {problem}")
    if errors:
        error = SchemaMismatchError("; ".join(errors), hint="fix the config or the Notion schema")
        error.problems = errors  # type: ignore[attr-defined]
        raise error
    return warnings


def _uses(resource: ResourceConfig) -> list[_Use]:
    uses = [_Use(resource.match.property, "match", update_only=resource.mode == "update-only")]
    uses += [_Use(p.name, "mapped", p.relation, p.optional, p) for p in resource.properties]
    uses += [_Use(p.name, "mark", p.relation, p.optional) for p in resource.on_missing.set]
    uses += [_Use(t.property, "touch") for t in resource.touch]
    return uses


def _type_problem(
    use: _Use, prop: dict[str, Any], writable: bool, related_data_sources: dict[str, str], names: dict[str, str]
) -> str | None:
    prop_type = prop.get("type", "")
    if use.role == "match" and prop_type in KEY_READ_ONLY_TYPES:
        return None if use.update_only or not writable else _computed_key_problem(prop_type)
    if use.role == "match" and prop_type not in MATCH_TYPES:
        keys = ", ".join(sorted(MATCH_TYPES | KEY_READ_ONLY_TYPES))
        return f"is {_a(prop_type)}; a match key must be one of {keys}"
    if not writable:
        return None
    if prop_type in READ_ONLY_TYPES:
        return (
            f"is {_a(prop_type)}, which Notion computes; it cannot be written: remove it from "
            f"properties (a computed property can be a match key of an update-only resource)"
        )
    if prop_type not in WRITABLE_TYPES:
        return f"is {_a(prop_type)}, which reconcile does not write"
    if use.role == "touch" and prop_type != "date":
        return f"is {_a(prop_type)}; a touch property must be a date"
    if use.mapping is not None:
        problem = _setting_problem(use.mapping, prop_type)
        if problem:
            return problem
    if use.relation is not None:
        return _relation_problem(use.relation, prop, related_data_sources, names)
    if prop_type == "relation" and use.role != "match":
        return "is a relation; map it with relation: <resource> so that keys resolve to pages"
    return None


def _relation_problem(
    related: str, prop: dict[str, Any], related_data_sources: dict[str, str], names: dict[str, str]
) -> str | None:
    if prop.get("type") != "relation":
        return f"is {_a(prop.get('type', ''))}; a relation mapping needs a relation property"
    expected = related_data_sources.get(related)
    actual = relation_target(prop)
    if expected and actual and _compact(actual) != _compact(expected):
        if actual in names and expected in names:
            return (
                f"is a relation to {names[actual]!r}, but the mapping needs a relation to {names[expected]!r} "
                f"(resource {related}); point the relation at the related resource's data source"
            )
        return (
            f"relates to data source {actual}, not to {related!r} ({expected}); "
            "point the relation at the related resource's data source"
        )
    return None


def _computed_key_problem(prop_type: str) -> str:
    return (
        f"is {_a(prop_type)}, which Notion computes: a resource matched on it cannot create pages "
        "(the key cannot be written); set mode: update-only"
    )


def _setting_problem(mapping: PropertyMapping, prop_type: str) -> str | None:
    """A mapping's type settings that do not fit the live type."""
    if mapping.new_options is not None and prop_type not in OPTION_TYPES:
        return f"is {_a(prop_type)}; new_options applies only to select, multi_select and status"
    if mapping.new_options == "create" and prop_type == "status":
        return (
            "is a status, and Notion's API cannot add status options (not by writing a page, not by "
            "updating the data source): set new_options: refuse (the default) and add the options in Notion"
        )
    if mapping.time_zone is not None and prop_type != "date":
        return f"is {_a(prop_type)}; time_zone applies only to a date"
    return None


def live_options(schema: dict[str, dict[str, Any]]) -> dict[str, tuple[str, ...]]:
    """select, multi_select and status property -> the names of its options, as the schema has them."""
    out: dict[str, tuple[str, ...]] = {}
    for name, prop in schema.items():
        kind = prop.get("type")
        if kind in OPTION_TYPES:
            options = (prop.get(str(kind)) or {}).get("options") or []
            out[name] = tuple(str(o.get("name", "")) for o in options)
    return out


def maps_people(resource: ResourceConfig, schema: dict[str, dict[str, Any]]) -> bool:
    """Whether a mapped property of the resource is a people property (the users list is needed)."""
    return any((schema.get(p.name) or {}).get("type") == "people" for p in resource.properties)


def relation_target(prop: dict[str, Any]) -> str | None:
    """The data source a relation property points at."""
    target = (prop.get("relation") or {}).get("data_source_id")
    return str(target) if target else None


def foreign_relation_targets(
    resource: ResourceConfig, schema: dict[str, dict[str, Any]], related_data_sources: dict[str, str]
) -> list[str]:
    """Data sources that the resource's relation mappings point at instead of the related resource's."""
    out = []
    for p in resource.properties:
        prop = schema.get(p.name) or {}
        target, expected = relation_target(prop), related_data_sources.get(p.relation or "")
        if (
            p.relation
            and prop.get("type") == "relation"
            and target
            and expected
            and _compact(target) != _compact(expected)
        ):
            out.append(target)
    return out


def _missing(resource: str, name: str, source: str, schema: dict[str, dict[str, Any]]) -> str:
    available = ", ".join(sorted(schema)) or "no properties"
    return f"{resource}: property {name!r} not found in data source {source!r}; it has: {available}"


def _missing_optional(resource: str, name: str, source: str) -> Diagnostic:
    return Diagnostic(
        severity="warning",
        code="optional_property_missing",
        message=f"{resource}: optional property {name!r} not found in data source {source!r}; it is not synced",
        resource=resource,
    )


def _a(prop_type: str) -> str:
    # "a unique_id": the article goes by the sound, and "uni" begins with a consonant sound
    return f"an {prop_type}" if prop_type[:1] in "aeiou" and not prop_type.startswith("uni") else f"a {prop_type}"


def _compact(page_id: str) -> str:
    return page_id.replace("-", "").lower()
