"""Types before any write: a mapped property whose live Notion type cannot take the mapped values.

A type mismatch is a property's problem, not each record's. With Description retyped to number in
Notion, every snapshot's text is refused; planning it key by key would write the records whose text
happens to be empty and fail on the others. So before any page is read, every desired value of
every mapped property is normalised to the property's live type, and one value that cannot be
stops the run: one line naming the resource, the data source, the property, the type the mapping
needs (the config's declared type when it has one, else the one the values need) and Notion's.

Then, page by page (`desired_value`), what the live schema and the workspace decide beyond the
type: a people property's emails become user ids (the users list read once per run; an email no
user has is that page's error), an option not in a select, multi_select or status property's
schema is created by the write or refused by the property's `new_options` policy, and a date
mapping's `time_zone` applies to the datetimes its expression gives without one.
Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from reconcile.errors import SchemaMismatchError
from reconcile.model import (
    Action,
    DesiredState,
    Job,
    PropertyMapping,
    ResourceConfig,
    ResourceState,
    UserDirectory,
    Value,
)
from reconcile.values import READ_ONLY_TYPES, is_email, items_of, normalise

__all__ = [
    "ValueRefused",
    "check_value_types",
    "desired_value",
    "option_policy",
    "saved_change_problem",
    "type_mismatches",
    "value_type",
]

OptionPolicy = Literal["create", "refuse"]
OPTION_PROPERTY_TYPES = frozenset({"select", "multi_select", "status"})
SHOWN_OPTIONS = 20  # existing options named in a refusal, at most


class ValueRefused(ValueError):
    """A value the live schema or the workspace cannot take: one page's error, with its code."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def option_policy(mapping: PropertyMapping | None, prop_type: str) -> OptionPolicy:
    """The mapping's `new_options`, else the default: select and multi_select options are created
    by the write (as Notion does), status options are refused (Notion's API cannot create them)."""
    if mapping is not None and mapping.new_options is not None:
        return mapping.new_options
    return "refuse" if prop_type == "status" else "create"


def desired_value(mapping: PropertyMapping | None, prop_type: str, raw: Any, state: ResourceState) -> Value:
    """The canonical value a page should hold; ValueError (ValueRefused with its code) if it cannot."""
    if prop_type in READ_ONLY_TYPES and mapping is None:
        # A computed match key (update-only, checked with the schema): compared as a key, never written.
        return None if raw is None else str(raw)
    if prop_type == "date" and mapping is not None and mapping.time_zone:
        raw = zoned(raw, mapping.time_zone)
    value = normalise(prop_type, raw)
    if prop_type == "people":
        return resolved_people(value, state.users)
    if prop_type in OPTION_PROPERTY_TYPES and option_policy(mapping, prop_type) == "refuse":
        check_known_options(prop_type, value, state.options.get(mapping.name if mapping else "", ()))
    return value


def zoned(raw: Any, zone: str) -> Any:
    """A date from the source in the mapping's zone, unless the value names its own."""
    if isinstance(raw, str) and raw.strip() and not raw.strip().endswith("]"):
        return f"{raw.strip()}[{zone}]"
    if isinstance(raw, dict) and not raw.get("time_zone"):
        return {**raw, "time_zone": zone}
    return raw


def resolved_people(value: Value, users: UserDirectory | None) -> tuple[str, ...]:
    """User ids for a people value's emails (ids pass through); ValueRefused naming unknown emails."""
    ids: set[str] = set()
    unknown: list[str] = []
    known = users.ids if users is not None else {}
    for item in items_of(value):
        if not is_email(item):
            ids.add(item)
        elif item in known:
            ids.add(known[item])
        else:
            unknown.append(item)
    if unknown:
        names = ", ".join(masked(e) for e in unknown)
        plural = "s" if len(unknown) > 1 else ""
        raise ValueRefused(f"no person of the workspace has the email{plural} {names}", code="unknown_person")
    return tuple(sorted(ids))


def masked(email: str) -> str:
    """An email as diagnostics show it: its domain and first letter only. Diagnostics go to the run
    log, which keeps no property values; this is enough to find the record without keeping it."""
    local, _, domain = email.partition("@")
    return f"'{local[:1]}…@{domain}'"


def check_known_options(prop_type: str, value: Value, existing: tuple[str, ...]) -> None:
    missing = [name for name in _option_names(value) if name not in existing]
    if not missing:
        return
    shown = ", ".join(repr(o) for o in existing[:SHOWN_OPTIONS]) or "none"
    more = f" and {len(existing) - SHOWN_OPTIONS} more" if len(existing) > SHOWN_OPTIONS else ""
    names = ", ".join(repr(m) for m in missing)
    plural = "s" if len(missing) > 1 else ""
    raise ValueRefused(
        f"{prop_type} option{plural} {names} not in the schema (new_options: refuse); it has {shown}{more}",
        code="unknown_option",
    )


def _option_names(value: Value) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return items_of(value)


def saved_change_problem(r: ResourceConfig, action: Action, state: ResourceState | None) -> str | None:
    """Why a saved plan's change is outside the config for its type: a computed property written,
    or an option created where the mapping refuses new ones (None when it is within)."""
    mappings = {m.name: m for m in r.properties}
    for c in action.changes:
        if c.type in READ_ONLY_TYPES:
            return f"writes {r.name} {action.key!r} property {c.name!r}, a {c.type} Notion computes"
        if c.type not in OPTION_PROPERTY_TYPES or state is None or c.name not in state.options:
            continue
        if option_policy(mappings.get(c.name), c.type) == "refuse":
            try:
                check_known_options(c.type, c.after, state.options[c.name])
            except ValueRefused as exc:
                return f"writes {r.name} {action.key!r} property {c.name!r}: {exc}"
    return None


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
    # "a unique_id": the article goes by the sound, and "uni" begins with a consonant sound
    return f"an {prop_type}" if prop_type[:1] in "aeiou" and not prop_type.startswith("uni") else f"a {prop_type}"
