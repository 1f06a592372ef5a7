"""After an apply that created pages: read them back, and heal what two writers made of one key.

A run that created pages (or whose create ended unknown) reads each resource it created in again,
in bulk: the gateway dropped its cached reads on the first write, so this costs ceil(pages / 100)
queries per resource, and nothing more when every key has one page (the healthy path). When a key
now has several pages (a concurrent apply from another working directory, a create Notion committed
late), the integration's user is asked for once and a heal-only follow-up is planned
(reconcile.plan.followup) and executed; its actions and outcomes join the same run record.
"""

from __future__ import annotations

from dataclasses import replace

from reconcile.apply import execute
from reconcile.errors import ReconcileError
from reconcile.model import ApplyResult, Config, Diagnostic, Job, Outcome, Plan, ResourceConfig, ResourceState
from reconcile.plan.followup import heal_followup
from reconcile.ports import Gateway
from reconcile.redact import scrub
from reconcile.state import has_duplicates

__all__ = ["heal_after_creates"]


def heal_after_creates(
    config: Config, gateway: Gateway, plan: Plan, result: ApplyResult, done: list[Outcome] | None = None
) -> tuple[Plan, ApplyResult]:
    """The plan and result of the run, with the heal-only follow-up appended (unchanged when the
    run created nothing, or every key it created has one page). The run's writes are done by now:
    a read-back that fails is a warning (the next run's plan heals), never the run's failure."""
    try:
        return follow_up(config, gateway, plan, result, done)
    except ReconcileError as exc:
        warning = Diagnostic(
            severity="warning",
            code="readback_failed",
            message=f"reading back the pages this run created failed ({scrub(str(exc))}); the next run heals "
            "any key left with two pages",
        )
        return replace(plan, diagnostics=(*plan.diagnostics, warning)), result


def follow_up(
    config: Config, gateway: Gateway, plan: Plan, result: ApplyResult, done: list[Outcome] | None
) -> tuple[Plan, ApplyResult]:
    created = {o.resource for o in result.outcomes if o.action == "create"}
    if not created:
        return plan, result
    for job in config.jobs:
        names = created & {r.name for r in job.resources}
        if not names:
            continue
        states = {r.name: read_back(gateway, r) for r in job.resources if r.name in names}
        if not has_duplicates(job, states):
            continue
        states |= {r.name: read_back(gateway, r) for r in related_to(job, names) if r.name not in states}
        actions, diags = heal_followup(job, states, gateway.bot_user_id(), names)
        if not actions and not diags:
            continue
        follow = replace(plan, actions=tuple(actions), diagnostics=tuple(diags))
        healed = execute(follow, gateway, workers=config.notion.workers, done=done) if actions else ApplyResult()
        plan = replace(plan, actions=plan.actions + follow.actions, diagnostics=plan.diagnostics + follow.diagnostics)
        result = ApplyResult(result.outcomes + healed.outcomes, result.schema)
    return plan, result


def read_back(gateway: Gateway, r: ResourceConfig) -> ResourceState:
    data_source_id, schema = gateway.resolve(r.database, r.data_source)  # cached for the run: no call
    return gateway.read_resource(r, data_source_id=data_source_id, schema=schema)


def related_to(job: Job, names: set[str]) -> list[ResourceConfig]:
    """The job's resources whose relations may point at pages of `names`."""
    return [r for r in job.resources if any(m.relation in names for m in r.properties)]
