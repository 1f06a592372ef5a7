"""Records → the pages each resource should have (raw values; the planner normalises by type).

Nothing here knows about Notion types or PlanX: a resource maps Notion property names to JMESPath
expressions over a record, and a relation maps to the key(s) of pages of another resource.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

from reconcile.errors import SourceError
from reconcile.expressions import ExpressionError, compile_expression
from reconcile.gcpause import without_cycle_collection
from reconcile.model import (
    Computation,
    DesiredPage,
    DesiredResource,
    DesiredState,
    Job,
    Record,
    ResourceConfig,
)


@without_cycle_collection
def build_desired(job: Job, records: list[Record]) -> DesiredState:
    """The desired pages of every resource of `job`, from the source's records."""
    selected = allowlisted(job, records)
    enriched = with_computations(selected, job.source.computed)
    resources = {r.name: desired_resource(job, r, enriched) for r in job.resources}
    return DesiredState(job=job.name, record_count=len(selected), resources=resources)


def allowlisted(job: Job, records: list[Record]) -> list[Record]:
    """The records whose source key is in the allowlist (all of them when there is none)."""
    allow = job.source.allowlist
    if allow is None:
        return list(records)
    wanted = {a.strip() for a in allow}
    return [r for r in records if key_text(evaluate(job.source.key, r, "source.key")) in wanted]


def desired_resource(job: Job, resource: ResourceConfig, records: list[Record]) -> DesiredResource:
    rows = resource_rows(resource, records)
    if resource.records is not None:
        rows = with_computations(rows, applicable(job.source.computed, rows))
    pages = []
    # Compiled once per resource, not looked up per row (tens of thousands of rows).
    steps = [(m, None if m.relation else evaluator(m.expression or "null", m.name)) for m in resource.properties]
    for index, row in enumerate(rows):
        key = row_key(resource, row, index)
        values: dict[str, Any] = {resource.match.property: key}
        for mapping, value_of in steps:
            if value_of is None:
                values[mapping.name] = relation_keys(job, mapping.relation or "", mapping.expression, row)
            else:
                values[mapping.name] = value_of(row)
        parts = page_parts(resource, row)
        pages.append(DesiredPage(resource=resource.name, key=key, values=values, record_index=index, **parts))
    counts = Counter(p.key for p in pages)
    duplicates = tuple(sorted(k for k, n in counts.items() if n > 1))
    return DesiredResource(resource=resource.name, pages=tuple(pages), duplicate_keys=duplicates)


def page_parts(resource: ResourceConfig, row: Record) -> dict[str, Any]:
    """The body's Markdown, the icon and the cover of a row's page, for the resources that declare them."""
    parts: dict[str, Any] = {}
    if resource.content is not None:
        body = evaluate(resource.content.markdown, row, f"{resource.name}.content")
        parts["body"] = "" if body is None else str(body)
    if resource.icon is not None:
        parts["icon"] = evaluate(resource.icon, row, f"{resource.name}.icon")
    if resource.cover is not None:
        parts["cover"] = evaluate(resource.cover, row, f"{resource.name}.cover")
    return parts


def resource_rows(resource: ResourceConfig, records: list[Record]) -> list[Record]:
    """The rows of a resource: the job's records, or a projection of them (e.g. one row per flow)."""
    if resource.records is None:
        return records
    rows = evaluate(resource.records, records, f"resources.{resource.name}.records")
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise SourceError(
            f"resources.{resource.name}.records ({resource.records!r}) must give a list of objects",
            hint="nothing was written",
        )
    return rows


def row_key(resource: ResourceConfig, row: Record, index: int) -> str:
    """The stripped match key of a row; a row without one is a source error (nothing is written)."""
    raw = evaluate(resource.match.expression, row, f"{resource.name}.match.key")
    key = key_text(raw)
    if not key:
        raise SourceError(
            f"record {index} of {resource.name} has no key: {resource.match.expression!r} gave {raw!r}",
            hint="nothing was written; every record needs its match key",
        )
    return key


def relation_keys(job: Job, target: str, expression: str | None, row: Record) -> list[str]:
    """The keys of the target resource's pages this row relates to (default: the target's own key)."""
    target_resource = job.resource(target)
    raw = evaluate(expression or target_resource.match.expression, row, f"relation to {target}")
    items = raw if isinstance(raw, list) else [raw]
    return [k for k in (key_text(x) for x in items) if k]


def key_text(value: Any) -> str:
    """A key as text, stripped; integral numbers without a trailing .0; None as ""."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def with_computations(records: list[Record], computations: tuple[Computation, ...]) -> list[Record]:
    """Records with every computed value added (values that need the whole record set)."""
    if not computations:
        return records
    out = [dict(r) for r in records]
    for comp in computations:
        for index, value in rank_values(out, comp).items():
            out[index][comp.name] = value
    return out


def applicable(computations: tuple[Computation, ...], rows: list[Record]) -> tuple[Computation, ...]:
    """The computations that can rank a projection's rows: those whose order_by finds a value.

    A resource whose rows are a projection (`records: "[].flows[]"`) ranks its own rows, e.g. a
    flow within its council; a computation its rows know nothing of leaves them as they are.
    """
    return tuple(c for c in computations if any(evaluate(c.order_by, r, c.name) is not None for r in rows))


def rank_values(records: list[Record], comp: Computation) -> dict[int, int]:
    """1-based rank of each record within its group, by `order_by` (nulls last, ties by position)."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(records):
        group = key_text(evaluate(comp.group_by, r, comp.name)) if comp.group_by else ""
        groups[group].append(i)
    ranks = {}
    for members in groups.values():
        keyed = [(evaluate(comp.order_by, records[i], comp.name), i) for i in members]
        present = sorted((x for x in keyed if x[0] is not None), key=sort_key, reverse=comp.descending)
        ordered = present + [x for x in keyed if x[0] is None]
        for rank, (_, i) in enumerate(ordered, start=1):
            ranks[i] = rank
    return ranks


def sort_key(item: tuple[Any, int]) -> tuple[Any, ...]:
    # No position in the key: Python's sort is stable even with reverse=True, so ties keep source order.
    value = item[0]
    return (0, value) if isinstance(value, int | float) and not isinstance(value, bool) else (1, str(value))


def evaluate(expression: str, data: Any, where: str) -> Any:
    return evaluator(expression, where)(data)


def evaluator(expression: str, where: str) -> Callable[[Any], Any]:
    """`expression` compiled, as a function of the data whose failure is a SourceError naming `where`."""
    search = compile_expression(expression).search

    def value_of(data: Any) -> Any:
        try:
            return search(data)
        except ExpressionError as exc:
            raise SourceError(f"expression {expression!r} for {where} failed: {exc}") from exc

    return value_of
