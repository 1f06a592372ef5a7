"""Execute a Plan's actions through the gateway, in the order the plan lists them. Applying never decides.

The plan already is the program (reconcile.plan puts relation targets before the pages that link
to them, and stamps after the writes they record); the executor only runs it. Consecutive actions
of one resource and phase (creates and restores; other writes; touches) form a batch whose writes
run in a bounded worker pool (never with an action it depends on); the transport's token bucket
keeps the whole run within the rate limit. Where each resource's pages go, and how a create is
re-checked by key, comes from the plan's resources. One failed write is recorded and the rest go
on; a stamp whose recorded write did not succeed is left out (PropertyChange.depends_on), which is
running the plan as written, not deciding. A heal whose page a concurrent run already trashed is
done all the same.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from reconcile.errors import NotionError, ReconcileError
from reconcile.model import (
    COVER_TYPE,
    ICON_TYPE,
    NEW_PAGE_PREFIX,
    PAGE_LEVEL_TYPES,
    Action,
    ApplyResult,
    Outcome,
    Plan,
    PropertyChange,
    ResourceInfo,
    SchemaOutcome,
    Value,
)
from reconcile.notion.schema_writes import apply_schema_changes
from reconcile.ports import CreatedPage, NotionObject, NotionWriter
from reconcile.values import encode, items_of

__all__ = ["Executor", "Progress", "batches", "execute"]

Progress = Callable[[int], None]


def execute(
    plan: Plan,
    gateway: NotionWriter,
    *,
    workers: int,
    progress: Progress | None = None,
    done: list[Outcome] | None = None,
    schema_done: list[SchemaOutcome] | None = None,
) -> ApplyResult:
    """Every action of the plan, in its order; one outcome per action. Each outcome is also added to
    `done` as it lands, so a run that is stopped half-way still knows what it wrote. The plan's
    schema changes go first (one request per data source): the page writes may need them; each is
    added to `schema_done` once its request is answered."""
    made: list[SchemaOutcome] = schema_done if schema_done is not None else []
    if plan.schema_changes:
        apply_schema_changes(gateway, plan.schema_changes, made)
    result = Executor(gateway, workers=workers, progress=progress, done=done).run(plan)
    return replace(result, schema=tuple(made)) if made else result


class Executor:
    """Executes actions; resolves new-page placeholders as creates land."""

    def __init__(
        self,
        gateway: NotionWriter,
        *,
        workers: int = 4,
        progress: Progress | None = None,
        done: list[Outcome] | None = None,
    ) -> None:
        self.gateway = gateway
        self.done = done if done is not None else []
        self.workers = max(1, workers)
        self.progress = progress
        self.created: dict[str, str] = {}  # "new:<resource>:<key>" -> page id
        self._lock = threading.Lock()

    def run(self, plan: Plan) -> ApplyResult:
        targets = {r.name: r for r in plan.resources}
        outcomes: list[Outcome] = []
        for batch in batches(plan.actions):
            work = [stamps_that_may_go(plan.actions[i], targets[plan.actions[i].resource], outcomes) for i in batch]
            outcomes += self.run_batch(work)
        return ApplyResult(tuple(outcomes))

    def run_batch(self, work: list[Work]) -> list[Outcome]:
        if self.workers == 1 or len(work) == 1:
            return [self.run_one(item) for item in work]
        with ThreadPoolExecutor(max_workers=min(self.workers, len(work))) as pool:
            return list(pool.map(self.run_one, work))

    def run_one(self, item: Work) -> Outcome:
        # An Outcome already: a stamp whose recorded change did not land, nothing to send.
        outcome = item if isinstance(item, Outcome) else self.outcome_of(*item)
        with self._lock:
            self.done.append(outcome)
        if self.progress is not None:
            self.progress(1)
        return outcome

    def outcome_of(self, action: Action, target: ResourceInfo, note: str | None) -> Outcome:
        try:
            created = self.execute(action, target)
        except NotionError as exc:
            return failed(action, exc.code or "notion_error", str(exc))
        except (ReconcileError, ValueError) as exc:
            return failed(action, type(exc).__name__, str(exc))
        if isinstance(created, CreatedPage):
            url = str(created.page.get("url") or "") or None
            return Outcome(
                action.action, action.resource, action.key, created.page_id, "ok", note=created.resolution, page_url=url
            )
        return Outcome(action.action, action.resource, action.key, action.page_id, "ok", note=created or note)

    def execute(self, action: Action, target: ResourceInfo) -> CreatedPage | str | None:
        """Send the action's writes: the created page for a create, else a note or None."""
        if action.action == "create":
            first = [c for c in action.changes if c.name not in action.written_last]
            with_create = [op for op in action.blocks if op["op"] == "with_create"]
            created = self.gateway.create_page(
                target.data_source_id,
                self.encode_properties(first),
                match_property=target.match_property,
                match_type=target.match_type,
                key=action.key,
                children=list(with_create[0]["children"]) if with_create else None,
                parts=page_parts(action.changes),
            )
            with self._lock:
                self.created[placeholder(action.resource, action.key)] = created.page_id
            # An ambiguous create found again carries the body it was created with (or none).
            if created.resolution in ("created", "recreated"):
                run_blocks(self.gateway, created.page_id, action.blocks)
                last = [c for c in action.changes if c.name in action.written_last]
                if last:
                    self.gateway.update_page(created.page_id, properties=self.encode_properties(last))
            return created
        if action.page_id is None:
            raise ValueError(f"a {action.action} action needs the page id")
        if action.action == "archive":
            self.gateway.update_page(action.page_id, in_trash=True)
            return None
        if action.action == "heal":
            return self.trash_extra_page(action.page_id)
        if action.action == "restore":
            # Un-trash first: Notion refuses edits to a trashed page.
            self.gateway.update_page(action.page_id, in_trash=False)
        # The body first: its hash, among the properties, must only land once the body has.
        run_blocks(self.gateway, action.page_id, action.blocks)
        properties = self.encode_properties(action.changes)
        parts = page_parts(action.changes)
        if properties or parts:
            self.gateway.update_page(action.page_id, properties=properties or None, parts=parts)
        return None

    def trash_extra_page(self, page_id: str) -> str | None:
        """A heal: the page to the trash. A concurrent run healing the same key picks the same
        survivor and may have trashed this page first; that is the same outcome."""
        try:
            self.gateway.update_page(page_id, in_trash=True)
        except NotionError:
            if not self.gateway.retrieve_page(page_id).get("in_trash"):
                raise
            return "already in the trash"
        return None

    def encode_properties(self, changes: Iterable[PropertyChange]) -> dict[str, NotionObject]:
        return {c.name: encode(c.type, self.resolved(c)) for c in changes if c.type not in PAGE_LEVEL_TYPES}

    def resolved(self, change: PropertyChange) -> Value:
        if change.type != "relation" or not change.after:
            return change.after
        ids = []
        for item in items_of(change.after):
            if item.startswith(NEW_PAGE_PREFIX):
                with self._lock:
                    page_id = self.created.get(item)
                if page_id is None:
                    raise ValueError(f"the related page {item[len(NEW_PAGE_PREFIX) :]} was not created")
                ids.append(page_id)
            else:
                ids.append(item)
        return tuple(sorted(set(ids)))


def page_parts(changes: Iterable[PropertyChange]) -> NotionObject | None:
    """The icon and cover of these changes as a page request sends them (None: neither changes)."""
    out: NotionObject = {}
    for c in changes:
        if c.type == ICON_TYPE:
            out["icon"] = file_object(c.after, emoji=True)
        elif c.type == COVER_TYPE:
            out["cover"] = file_object(c.after, emoji=False)
    return out or None


def file_object(value: Value, *, emoji: bool) -> NotionObject | None:
    """An emoji, or an external image by URL; None clears."""
    if value is None or value == "":
        return None
    text = str(value)
    if emoji and not text.startswith(("https://", "http://")):
        return {"type": "emoji", "emoji": text}
    return {"type": "external", "external": {"url": text}}


def run_blocks(gateway: NotionWriter, page_id: str, ops: Sequence[dict[str, Any]]) -> None:
    """The plan's block calls for one page, in order; "@N.I" names the I-th block call N appended."""
    appended: dict[int, list[str]] = {}

    def ref(value: str | None) -> str | None:
        if value == "":
            return page_id
        if value is None or not value.startswith("@"):
            return value
        op, index = value[1:].split(".")
        return appended[int(op)][int(index)]

    for n, op in enumerate(ops):
        if op["op"] == "append":
            parent = ref(op["parent"]) or page_id
            appended[n] = gateway.append_blocks(parent, list(op["children"]), ref(op.get("after")))
        elif op["op"] == "update":
            gateway.update_block(op["block"], dict(op["body"]))
        elif op["op"] == "delete":
            gateway.delete_block(op["block"])


def failed(action: Action, code: str, message: str) -> Outcome:
    return Outcome(action.action, action.resource, action.key, action.page_id, "failed", code, message)


def placeholder(resource: str, key: str) -> str:
    return f"{NEW_PAGE_PREFIX}{resource}:{key}"


# What one worker does: an action to send (with the note its outcome gets), or an outcome already.
Work = tuple[Action, ResourceInfo, str | None] | Outcome


def stamps_that_may_go(action: Action, target: ResourceInfo, outcomes: list[Outcome]) -> Work:
    """The action without the stamps whose recorded writes (earlier in the plan, so in
    `outcomes` already) did not all succeed; a touch left with nothing to write is `skipped`."""
    kept = tuple(c for c in action.changes if all(outcomes[i].status == "ok" for i in c.depends_on))
    if len(kept) == len(action.changes):
        return action, target, None
    if action.action == "touch" and not kept:
        why = "left out: a write it records did not succeed"
        return Outcome(action.action, action.resource, action.key, action.page_id, "skipped", message=why)
    return replace(action, changes=kept), target, "stamp left out: a write it records did not succeed"


def batches(actions: Sequence[Action]) -> list[list[int]]:
    """Positions of consecutive actions that may run in parallel: creates/restores, then other
    writes, per resource; stamps together; never an action with one it depends on."""
    out: list[list[int]] = []
    last: tuple[str, int] | None = None
    for i, a in enumerate(actions):
        phase = 0 if a.action in ("create", "restore") else 2 if a.action == "touch" else 1
        group = ("*" if phase == 2 else a.resource, phase)
        waits = any(n in (out[-1] if out else ()) for c in a.changes for n in c.depends_on)
        if group != last or waits:
            out.append([])
            last = group
        out[-1].append(i)
    return out
