"""Blast-radius guards: errors that block apply unless overridden, and the plan says so."""

from __future__ import annotations

from dataclasses import replace

from reconcile.errors import GuardError
from reconcile.model import Diagnostic, Plan, ResourceInfo
from reconcile.plan.common import JobInput

GUARD_PREFIX = "guard_"


def guard_diagnostics(item: JobInput, removals: dict[str, int], infos: list[ResourceInfo]) -> list[Diagnostic]:
    """Blast-radius guards: too few source records, or too many archives for a resource."""
    guards = item.job.guards
    out = []
    # An incremental read may rightly bring nothing (nothing changed), and it archives nothing, so
    # min_records guards only full reads; a failed source is an error before planning either way.
    if item.desired.record_count < guards.min_records and not item.incremental:
        out.append(
            Diagnostic(
                severity="error",
                code="guard_min_records",
                message=f"job {item.job.name}: the source returned {item.desired.record_count} records "
                f"(after the allowlist), fewer than min_records {guards.min_records}; refusing to apply "
                "(a source outage must never archive the CRM). Override with --allow-large-changes",
            )
        )
    managed = {i.name: i.managed for i in infos}
    for name, count in sorted(removals.items()):
        limit = max(int(guards.max_archive_ratio * managed.get(name, 0)), guards.max_archive_count)
        if count and count > limit:
            out.append(
                Diagnostic(
                    severity="error",
                    code="guard_archive_limit",
                    message=f"{name}: the plan removes {count} of {managed.get(name, 0)} managed pages, more "
                    f"than the limit of {limit} (max_archive_ratio {guards.max_archive_ratio:g}, "
                    f"max_archive_count {guards.max_archive_count}); refusing to apply. Override with "
                    "--allow-large-changes",
                    resource=name,
                )
            )
    return out


def overridden(d: Diagnostic) -> Diagnostic:
    """A guard error turned into a warning by an explicit override; the plan says so."""
    message = d.message.split("; refusing to apply")[0] + "; allowed by --allow-large-changes / allow_large_changes"
    return replace(d, severity="warning", code=d.code + "_overridden", message=message)


def blocking_diagnostics(plan: Plan) -> list[Diagnostic]:
    return [d for d in plan.diagnostics if d.severity == "error" and d.code.startswith(GUARD_PREFIX)]


def check_guards(plan: Plan, *, allow_large_changes: bool) -> None:
    """GuardError (the first guard's message) when a guard blocks the plan and nothing overrides it."""
    blocking = blocking_diagnostics(plan)
    if blocking and not allow_large_changes:
        raise GuardError(blocking[0].message)
