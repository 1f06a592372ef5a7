"""Types before any write: a mapped property whose live Notion type cannot take the mapped values.

A type mismatch is a property's problem, not each record's. With Description retyped to number in
Notion, every snapshot's text is refused; planning it key by key would write the records whose text
happens to be empty and fail on the others. So before any page is read, every desired value of
every mapped property is normalised to the property's live type, and one value that cannot be
stops the run: one line naming the resource, the data source, the property, the type the mapping
needs (the config's declared type when it has one, else the one the values need) and Notion's.
Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from reconcile.errors import SchemaMismatchError
from reconcile.model import DesiredState, Job, ResourceConfig, Value
from reconcile.values import normalise

__all__ = ["check_value_types", "type_mismatches", "value_type"]


def check_value_types(
    job: Job,
    desired: DesiredState,
    live_types: Mapping[str, Mapping[str, str]],
    source_names: Mapping[str, str],
    declared: Mapping[str, Mapping[str, str]] | None = None,
) -> None:
    """SchemaMismatchError (one line, every mismatch) when a mapped property cannot take its values.

    `live_types`: resource -> property -> Notion type; `source_names`: resource -> its data source's
    name; `declared`: resource -> property -> the type the config declares (bootstrap hints).
    """
    problems = [
        problem
        for r in job.resources
        for problem in type_mismatches(
            r, desired, live_types[r.name], source_names.get(r.name, r.name), (declared or {}).get(r.name, {})
        )
    ]
    if problems:
        error = SchemaMismatchError(
            "; ".join(problems), hint="change the property's type back in Notion, or the mapping; nothing was written"
        )
        error.problems = problems  # type: ignore[attr-defined]
        raise error


def type_mismatches(
    r: ResourceConfig,
    desired: DesiredState,
    live: Mapping[str, str],
    source: str,
    declared: Mapping[str, str],
) -> list[str]:
    """One line per mapped property (relations aside: their targets are checked by the schema
    check) for which normalising some record's value to the live type fails."""
    out = []
    pages = desired.resources[r.name].pages
    for mapping in r.properties:
        live_type = live.get(mapping.name)
        if mapping.relation is not None or live_type is None:
            continue
        values = [(p.key, p.values.get(mapping.name)) for p in pages if mapping.name in p.values]
        failure = first_failure(live_type, values)
        if failure is None:
            continue
        key, problem = failure
        expected = declared.get(mapping.name) or value_type(v for _, v in values)
        out.append(
            f"{r.name}: property {mapping.name!r} of data source {source!r} is {article(live_type)} in Notion, "
            f"but the mapping needs {expected} (for {key!r}: {problem})"
        )
    return out


def first_failure(live_type: str, values: list[tuple[str, object]]) -> tuple[str, str] | None:
    """(key, the codec's complaint without the value) of the first value the live type refuses."""
    for key, value in values:
        try:
            normalise(live_type, value)
        except ValueError as exc:
            return key, str(exc).split(", got ")[0]
    return None


def value_type(values: Iterable[Value | object]) -> str:
    """The Notion type the mapped values themselves call for (the first value that says)."""
    for value in values:
        if isinstance(value, bool):
            return "checkbox"
        if isinstance(value, int | float):
            return "number"
        if isinstance(value, list | tuple):
            return "multi_select"
        if isinstance(value, str) and value:
            return "rich_text"
    return "rich_text"


def article(prop_type: str) -> str:
    return f"an {prop_type}" if prop_type[:1] in "aeiou" else f"a {prop_type}"
