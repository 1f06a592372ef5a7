"""A saved plan is applied exactly, or not at all: refused when it was made from another config,
is too old, was applied already, or Notion moved since it was made (Terraform's "Saved plan is
stale"). The plan itself says where to write; nothing here works that out again."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from reconcile.errors import PlanFileError, StalePlanError
from reconcile.model import Config, Plan, ResourceState
from reconcile.plan import page_digest
from reconcile.planfile import plan_fingerprint
from reconcile.ports import NotionReader
from reconcile.saved_bounds import check_bounds

__all__ = ["assert_fresh", "check_saved_plan", "live_states", "stale_actions"]

CLOCK_SKEW_S = 300.0  # a plan made on another machine may be stamped this far ahead of this one


def check_saved_plan(
    plan: Plan, config: Config, *, now: datetime, applied_ids: set[str], max_age_s: float | None = None
) -> None:
    """Refuse a saved plan made from another config, too old, or already applied."""
    if plan.config_digest != config.digest:
        raise PlanFileError(
            "the saved plan was made from a different config",
            hint=f"{config.path} changed since; run `reconcile plan` again",
        )
    created = datetime.fromisoformat(plan.created_at.replace("Z", "+00:00"))
    age = (now.astimezone(UTC) - created).total_seconds()
    if -age > CLOCK_SKEW_S:
        raise PlanFileError(
            f"the saved plan was made in the future ({plan.created_at}, {-age / 60:.0f} min from now)",
            hint="check the clock of the machine that made it, and make the plan again",
        )
    limit = config.max_plan_age_s if max_age_s is None else max_age_s
    if age > limit:
        raise StalePlanError(
            f"the saved plan is {age / 3600:.1f} h old, older than the maximum of {limit / 3600:.1f} h",
            hint="run `reconcile plan -o FILE` again",
        )
    if plan_fingerprint(plan) in applied_ids:
        raise PlanFileError("this plan was already applied", hint="run `reconcile plan` for a new one")


def live_states(config: Config, plan: Plan, gateway: NotionReader) -> dict[str, ResourceState]:
    """The live pages of the plan's resources (the stale check's evidence), once Notion is known to
    still resolve each resource where the plan writes it."""
    states: dict[str, ResourceState] = {}
    by_name = {r.name: r for job in config.jobs for r in job.resources}
    for info in plan.resources:
        if info.name not in by_name:
            raise PlanFileError(f"the saved plan names resource {info.name!r}, which the config does not have")
        r = by_name[info.name]
        data_source_id, schema = gateway.resolve(r.database, r.data_source)
        if data_source_id != info.data_source_id:
            raise StalePlanError(f"{r.name}: the database now resolves to another data source")
        if schema.get(info.match_property, {}).get("type") != info.match_type:
            raise StalePlanError(f"{r.name}: the match property {info.match_property!r} changed since the plan")
        if any(a.resource == r.name for a in plan.actions):
            states[r.name] = gateway.read_resource(r, data_source_id=data_source_id, schema=schema)
    return states


def stale_actions(plan: Plan, states: dict[str, ResourceState], gateway: NotionReader) -> list[str]:
    """Why each action of the plan no longer fits Notion (empty when the plan is still good)."""
    problems = []
    live_by_id = {p.page_id: p for s in states.values() for p in s.pages}
    keys = {name: {p.key for p in s.pages} for name, s in states.items()}
    pages_per_key = Counter((name, p.key) for name, s in states.items() for p in s.pages if p.key)
    heals = Counter((a.resource, a.key) for a in plan.actions if a.action == "heal")
    for a in plan.actions:
        if a.resource not in states:
            continue
        if a.action != "create" and pages_per_key[(a.resource, a.key)] > 1 + heals[(a.resource, a.key)]:
            problems.append(f"{a.resource} {a.key!r}: a second page with this key exists now")
            continue
        live_keys = keys[a.resource]
        if a.action == "create":
            if a.key in live_keys:
                problems.append(f"{a.resource} {a.key!r}: a page with this key exists now")
            continue
        if a.action == "restore":
            if a.key in live_keys:
                problems.append(f"{a.resource} {a.key!r}: a live page with this key exists now")
            elif not gateway.retrieve_page(a.page_id or "").get("in_trash"):
                problems.append(f"{a.resource} {a.key!r}: page {a.page_id} left the trash since the plan was made")
            continue
        page = live_by_id.get(a.page_id or "")
        if page is None:
            problems.append(f"{a.resource} {a.key!r}: page {a.page_id} is gone or was moved to the trash")
        elif a.digest and page_digest(page) != a.digest:
            problems.append(f"{a.resource} {a.key!r}: the page changed in Notion since the plan was made")
    return problems


def assert_fresh(config: Config, plan: Plan, gateway: NotionReader) -> None:
    """PlanFileError for the first action the config does not allow (the whole plan is refused);
    else StalePlanError naming the first action that no longer fits Notion (and how many more)."""
    states = live_states(config, plan, gateway)
    check_bounds(config, plan, states, gateway)
    problems = stale_actions(plan, states, gateway)
    if problems:
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        raise StalePlanError(f"saved plan is stale: {problems[0]}{more}", hint="run `reconcile plan` again")
