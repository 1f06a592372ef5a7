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
from dataclasses import dataclass, field
from typing import Any

from reconcile.errors import NotionError, ReconcileError
from reconcile.model import NEW_PAGE_PREFIX, Action, Plan, PropertyChange, ResourceInfo
from reconcile.ports import NotionWriter
from reconcile.values import encode

Progress = Callable[[int], None]


@dataclass
class Outcome:
    action: str
    resource: str
    key: str
    page_id: str | None
    status: str  # "ok" | "failed" | "skipped"
    error_code: str | None = None
    message: str | None = None
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass
class ApplyResult:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    def counts(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for o in self.outcomes:
            out.setdefault(o.action, {"ok": 0, "failed": 0, "skipped": 0})[o.status] += 1
        return out


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
        result = ApplyResult()
        for batch in batches(plan.actions):
            result.outcomes += self.run_batch(batch, targets)
        return result

    def run_batch(self, actions: list[Action], targets: dict[str, ResourceInfo]) -> list[Outcome]:
        if self.workers == 1 or len(actions) == 1:
            return [self.run_one(a, targets[a.resource]) for a in actions]
        with ThreadPoolExecutor(max_workers=min(self.workers, len(actions))) as pool:
            return list(pool.map(lambda a: self.run_one(a, targets[a.resource]), actions))

    def run_one(self, action: Action, target: ResourceInfo) -> Outcome:
        outcome = Outcome(action.action, action.resource, action.key, action.page_id, "ok")
        try:
            note = self.execute(action, target)
            outcome.note = note
            if action.action == "create" and note:
                outcome.page_id = self.created.get(placeholder(action.resource, action.key))
        except NotionError as exc:
            outcome.status, outcome.error_code, outcome.message = "failed", exc.code or "notion_error", str(exc)
        except (ReconcileError, ValueError) as exc:
            outcome.status, outcome.error_code, outcome.message = "failed", type(exc).__name__, str(exc)
        if self.progress is not None:
            self.progress(1)
        return outcome

    def execute(self, action: Action, target: ResourceInfo) -> str | None:
        if action.action == "create":
            properties = self.encode_properties(action.changes)
            created = self.gateway.create_page(
                target.data_source_id,
                properties,
                match_property=target.match_property,
                match_type=target.match_type,
                key=action.key,
            )
            with self._lock:
                self.created[placeholder(action.resource, action.key)] = created.page_id
            return created.resolution
        assert action.page_id is not None
        if action.action == "archive":
            self.gateway.update_page(action.page_id, in_trash=True)
            return None
        if action.action == "restore":
            # Un-trash first: Notion refuses edits to a trashed page.
            self.gateway.update_page(action.page_id, in_trash=False)
        if action.changes:
            self.gateway.update_page(action.page_id, properties=self.encode_properties(action.changes))
        return None

    def encode_properties(self, changes: Iterable[PropertyChange]) -> dict[str, Any]:
        return {c.name: encode(c.type, self.resolved(c)) for c in changes}

    def resolved(self, change: PropertyChange) -> Any:
        if change.type != "relation" or not change.after:
            return change.after
        ids = []
        for item in change.after:
            if isinstance(item, str) and item.startswith(NEW_PAGE_PREFIX):
                with self._lock:
                    page_id = self.created.get(item)
                if page_id is None:
                    raise ValueError(f"the related page {item[len(NEW_PAGE_PREFIX) :]} was not created")
                ids.append(page_id)
            else:
                ids.append(item)
        return tuple(sorted(set(ids)))


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
