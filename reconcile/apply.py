"""Execute a Plan's actions through the gateway, in the order the plan lists them. Applying never decides.

The plan already is the program (reconcile.plan puts the touches first and relation targets
before the pages that link to them); the executor only runs it. Consecutive actions of one
resource and phase (creates and restores; other writes; touches) form a batch whose writes run
in a bounded worker pool; the transport's token bucket keeps the whole run within the rate
limit. Where each resource's pages go, and how a create is re-checked by key, comes from the
plan's resources. One failed write is recorded and the rest go on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

from reconcile.errors import NotionError, ReconcileError
from reconcile.model import NEW_PAGE_PREFIX, Action, ApplyResult, Outcome, Plan, PropertyChange, ResourceInfo, Value
from reconcile.ports import CreatedPage, NotionObject, NotionWriter
from reconcile.values import encode, items_of

__all__ = ["Executor", "Progress", "batches", "execute"]

Progress = Callable[[int], None]


def execute(plan: Plan, gateway: NotionWriter, *, workers: int, progress: Progress | None = None) -> ApplyResult:
    """Every action of the plan, in its order; one outcome per action."""
    return Executor(gateway, workers=workers, progress=progress).run(plan)


class Executor:
    """Executes actions; resolves new-page placeholders as creates land."""

    def __init__(self, gateway: NotionWriter, *, workers: int = 4, progress: Progress | None = None) -> None:
        self.gateway = gateway
        self.workers = max(1, workers)
        self.progress = progress
        self.created: dict[str, str] = {}  # "new:<resource>:<key>" -> page id
        self._lock = threading.Lock()

    def run(self, plan: Plan) -> ApplyResult:
        targets = {r.name: r for r in plan.resources}
        outcomes: list[Outcome] = []
        for batch in batches(plan.actions):
            outcomes += self.run_batch([(a, targets[a.resource]) for a in batch])
        return ApplyResult(tuple(outcomes))

    def run_batch(self, work: list[tuple[Action, ResourceInfo]]) -> list[Outcome]:
        if self.workers == 1 or len(work) == 1:
            return [self.run_one(item) for item in work]
        with ThreadPoolExecutor(max_workers=min(self.workers, len(work))) as pool:
            return list(pool.map(self.run_one, work))

    def run_one(self, item: tuple[Action, ResourceInfo]) -> Outcome:
        action, target = item
        try:
            created = self.execute(action, target)
            outcome = Outcome(
                action.action,
                action.resource,
                action.key,
                created.page_id if created else action.page_id,
                "ok",
                note=created.resolution if created else None,
            )
        except NotionError as exc:
            outcome = failed(action, exc.code or "notion_error", str(exc))
        except (ReconcileError, ValueError) as exc:
            outcome = failed(action, type(exc).__name__, str(exc))
        if self.progress is not None:
            self.progress(1)
        return outcome

    def execute(self, action: Action, target: ResourceInfo) -> CreatedPage | None:
        if action.action == "create":
            created = self.gateway.create_page(
                target.data_source_id,
                self.encode_properties(action.changes),
                match_property=target.match_property,
                match_type=target.match_type,
                key=action.key,
            )
            with self._lock:
                self.created[placeholder(action.resource, action.key)] = created.page_id
            return created
        if action.page_id is None:
            raise ValueError(f"a {action.action} action needs the page id")
        if action.action == "archive":
            self.gateway.update_page(action.page_id, in_trash=True)
            return None
        if action.action == "restore":
            # Un-trash first: Notion refuses edits to a trashed page.
            self.gateway.update_page(action.page_id, in_trash=False)
        if action.changes:
            self.gateway.update_page(action.page_id, properties=self.encode_properties(action.changes))
        return None

    def encode_properties(self, changes: Iterable[PropertyChange]) -> dict[str, NotionObject]:
        return {c.name: encode(c.type, self.resolved(c)) for c in changes}

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


def failed(action: Action, code: str, message: str) -> Outcome:
    return Outcome(action.action, action.resource, action.key, action.page_id, "failed", code, message)


def placeholder(resource: str, key: str) -> str:
    return f"{NEW_PAGE_PREFIX}{resource}:{key}"


def batches(actions: Iterable[Action]) -> list[list[Action]]:
    """Consecutive groups that may run in parallel: creates/restores, then other writes, per resource."""
    out: list[list[Action]] = []
    last: tuple[str, int] | None = None
    for a in actions:
        phase = 0 if a.action in ("create", "restore") else 2 if a.action == "touch" else 1
        group = ("*" if phase == 2 else a.resource, phase)
        if group != last:
            out.append([])
            last = group
        out[-1].append(a)
    return out
