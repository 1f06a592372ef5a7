"""A saved plan can do nothing the config forbids.

`reconcile apply PLANFILE` runs the plan it is given. The file's digest catches any edit after
`reconcile plan` wrote it, but a digest is no signature: whoever can run reconcile can write a
plan. So before any write every action is held to the current config, and one action outside it
refuses the whole plan (one line, zero writes). An action may not:

- write a property its resource neither maps (match, mapped and on_missing properties, the
  body's hash property) nor touches; write a property Notion computes; add an option to a select,
  multi_select or status whose mapping refuses new options;
- write a page body, icon or cover (or send block calls) where its resource declares no
  `content`, `icon` or `cover`;
- create or restore in an update-only resource; archive in one, or where on_missing is not archive;
- heal a page that is not, now, one of several live pages of its key all made by this integration
  (nor the one of them that stays);
- target a page outside its resource's data source, or a page without a key, or one carrying
  another key than the action says.

Its schema changes are held to the resources' `schema:` the same way: each must be one the config
declares (add, rename, options, and a type change or removal only where the config allows it), on
the data source the resource resolves to now; and the changes the config asks of Notion now must be
the ones the plan makes, or the plan is stale.

Its source reads are what the run log keeps as the next run's cursor: one may only name a job of the
plan whose source is incremental, carry a time no later than the plan (a cursor in the future would
hide every change until the next full read), and an incremental read may not archive.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from reconcile.errors import PlanFileError, StalePlanError
from reconcile.model import (
    BODY_TYPE,
    COVER_TYPE,
    ICON_TYPE,
    PAGE_LEVEL_TYPES,
    Action,
    Config,
    PageState,
    Plan,
    ResourceConfig,
    ResourceInfo,
    ResourceState,
    SchemaChange,
)
from reconcile.plan.heal import healable, survivor
from reconcile.plan.schema import plan_schema
from reconcile.plan.types import saved_change_problem
from reconcile.ports import NotionReader

__all__ = ["check_bounds", "check_schema_bounds", "out_of_bounds", "schema_change_problem"]


def check_bounds(config: Config, plan: Plan, states: dict[str, ResourceState], gateway: NotionReader) -> None:
    """PlanFileError naming the first action the config does not allow."""
    problem = out_of_bounds(config, plan, states, gateway)
    if problem:
        raise PlanFileError(
            f"the saved plan {problem}; refusing the whole plan",
            hint="make the plan again with reconcile plan -o FILE, and apply that file unchanged",
        )


def out_of_bounds(config: Config, plan: Plan, states: dict[str, ResourceState], gateway: NotionReader) -> str | None:
    resources = {r.name: r for job in config.jobs for r in job.resources}
    infos = {r.name: r for r in plan.resources}
    bot: list[str] = []  # asked of Notion once, and only for a plan that heals
    problem = source_read_problem(config, plan)
    if problem:
        return problem
    for a in plan.actions:
        r = resources.get(a.resource)
        if r is None:
            return f"writes to resource {a.resource!r}, which {config.path} does not have"
        problem = (
            kind_problem(r, a) or property_problem(config, r, a) or saved_change_problem(r, a, states.get(a.resource))
        )
        if problem is None and a.action != "create":
            problem = target_problem(r, infos[a.resource], a, states.get(a.resource), gateway)
        if problem is None and a.action == "heal":
            if not bot:
                bot.append(gateway.bot_user_id())
            problem = heal_problem(r, a, states.get(a.resource), bot[0])
        if problem:
            return problem
    return None


def source_read_problem(config: Config, plan: Plan) -> str | None:
    jobs = {j.name: j for j in config.jobs if j.name in plan.jobs}
    made = parsed(plan.created_at)
    for name, read in plan.source_reads.items():
        job = jobs.get(name)
        if job is None or job.source.incremental is None:
            return f"records a source read for job {name!r}, whose source is not incremental in {config.path}"
        cursor = parsed(read.cursor) if read.cursor else made
        if cursor is None or made is None or cursor > made + timedelta(seconds=job.source.incremental.buffer_s):
            return f"keeps the cursor {read.cursor!r} for job {name!r}, which is not a time before the plan was made"
        archives = {r.name for r in job.resources}
        if read.mode == "incremental" and any(a.action == "archive" and a.resource in archives for a in plan.actions):
            return f"archives pages of job {name!r} from an incremental read, which only a full read may do"
    return None


def parsed(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def kind_problem(r: ResourceConfig, a: Action) -> str | None:
    if a.action in ("create", "restore") and r.mode == "update-only":
        return f"{a.action}s a page in {r.name} ({a.key!r}), which is update-only"
    if a.action == "archive" and r.mode == "update-only":
        return f"archives {r.name} {a.key!r}, but {r.name} is update-only"
    if a.action == "archive" and r.on_missing.action != "archive":
        return f"archives {r.name} {a.key!r}, but {r.name} has on_missing: {r.on_missing.action}"
    return None


def property_problem(config: Config, r: ResourceConfig, a: Action) -> str | None:
    allowed = set(r.managed_properties)
    declared = {BODY_TYPE: r.content is not None, ICON_TYPE: r.icon is not None, COVER_TYPE: r.cover is not None}
    if a.blocks and not declared[BODY_TYPE]:
        return f"writes the body of {r.name} {a.key!r}, but {r.name} declares no content in {config.path}"
    for c in a.changes:
        if c.type in PAGE_LEVEL_TYPES:
            if not declared[c.type]:
                part = c.type.removeprefix("page_")
                key = "content" if c.type == BODY_TYPE else part
                return f"writes the {part} of {r.name} {a.key!r}, but {r.name} declares no {key} in {config.path}"
            continue
        if c.name not in allowed:
            return f"writes {r.name} {a.key!r} property {c.name!r}, which {config.path} neither maps nor touches"
    return None


def target_problem(
    r: ResourceConfig, info: ResourceInfo, a: Action, state: ResourceState | None, gateway: NotionReader
) -> str | None:
    """The page an action names must be a page of its resource that carries the action's key."""
    page_id = a.page_id or ""
    live = {p.page_id: p for p in state.pages} if state is not None else {}
    page = live.get(page_id)
    if page is None:
        # Trashed, or not a page of this data source at all: Notion says which (one read).
        parent = (gateway.retrieve_page(page_id).get("parent") or {}).get("data_source_id", "")
        if compact(str(parent)) != compact(info.data_source_id):
            return f"targets page {page_id} as {r.name} {a.key!r}, but that page is not in the {r.name} data source"
        return None  # a trashed page of the resource: the stale check speaks for it
    if page.key is None:
        return f"targets page {page_id} as {r.name} {a.key!r}, a page without a key"
    if page.key != a.key:
        return f"targets page {page_id} as {r.name} {a.key!r}, but that page carries {page.key!r}"
    return None


def heal_problem(r: ResourceConfig, a: Action, state: ResourceState | None, bot_user_id: str) -> str | None:
    pages = by_key(state).get(a.key, []) if state is not None else []
    if not healable(r, pages, bot_user_id) or survivor(pages).page_id == a.page_id:
        return (
            f"heals {r.name} {a.key!r} page {a.page_id}, which is not a duplicate this integration made "
            "(or is the one that stays)"
        )
    return None


def by_key(state: ResourceState) -> dict[str, list[PageState]]:
    out: dict[str, list[PageState]] = defaultdict(list)
    for p in state.pages:
        if p.key:
            out[p.key].append(p)
    return out


def compact(page_id: str) -> str:
    return page_id.replace("-", "").lower()


# ── schema changes ───────────────────────────────────────────────────────────────────────────────


def check_schema_bounds(config: Config, plan: Plan, gateway: NotionReader) -> None:
    """PlanFileError for a schema change the config does not declare; StalePlanError when the
    changes the config asks of Notion now are not the plan's (Notion's schema moved since)."""
    if not plan.schema_changes:
        return
    resources = {r.name: r for job in config.jobs for r in job.resources}
    for c in plan.schema_changes:
        problem = schema_change_problem(config, resources.get(c.resource), c)
        if problem:
            raise PlanFileError(
                f"the saved plan {problem}; refusing the whole plan",
                hint="make the plan again with reconcile plan -o FILE, and apply that file unchanged",
            )
    involved = [r for job in config.jobs if job.name in plan.jobs for r in job.resources]
    live = {r.name: gateway.resolve(r.database, r.data_source) for r in involved}
    titles = {ds: gateway.data_source_name(ds) or "" for ds, _ in live.values()}
    now = {change_key(c) for c in plan_schema(involved, live, titles).changes}
    if {change_key(c) for c in plan.schema_changes} - now:
        raise StalePlanError(
            "saved plan is stale: a data source's schema changed in Notion since the plan was made",
            hint="run `reconcile plan` again",
        )


def change_key(c: SchemaChange) -> tuple[str, str, str, str, str]:
    return (compact(c.data_source_id), c.property, c.change, c.type, compact(c.relation_data_source_id or ""))


def schema_change_problem(config: Config, r: ResourceConfig | None, c: SchemaChange) -> str | None:
    where = f"changes the schema of {c.resource!r}"
    if r is None:
        return f"{where}, which {config.path} does not have"
    declared = {p.name: p for p in (r.schema.properties if r.schema else ())}
    p = declared.get(c.property)
    if p is None:
        return f"{where}: {c.change} of property {c.property!r}, which {config.path} does not declare"
    if c.change == "remove":
        allowed = p.remove and r.schema is not None and r.schema.allow_removals
    elif c.change == "retype":
        allowed = p.type == c.type and r.schema is not None and r.schema.allow_type_changes
    elif c.change == "rename":
        allowed = p.renamed_from == c.before
    else:
        allowed = p.type == c.type and not p.remove and set(c.options) <= set(p.options) | set(c.kept_options)
    if c.type == "relation" and c.change == "add":
        allowed = allowed and c.relation_resource == p.relation
    return (
        None
        if allowed
        else f"{where}: {c.change} of property {c.property!r} ({c.type}), which {config.path} does not declare so"
    )
