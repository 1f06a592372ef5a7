"""Incremental reads plan exactly what full reads plan: random runs and human edits, compared after every step.

Hypothesis draws a sequence of steps against a fresh PlanX sandbox (over real HTTP): applies, and
what people do between and during runs: edit managed and unmanaged properties (in the same minute
as a run, or minutes apart on the sandbox's virtual clock), change keys,
trash and restore pages, make pages by hand (duplicates and keyless ones), and let Notion's query
index lag behind or catch up. After every step the plan made from the read cache plus the pages
changed since is compared with the plan made from a full read at the same moment: the two must be
equal, except for the line that says how Notion was read.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconcile.config import load_config
from reconcile.errors import ReconcileError
from reconcile.model import Plan
from reconcile.planfile import plan_to_dict
from reconcile.run import apply_jobs, open_gateway, plan_run
from tests.support.common import notion
from tests.support.reliability import write_config
from tests.support.sandbox import title

SandboxServer = pytest.importorskip("notion_sandbox.server").SandboxServer

pytestmark = pytest.mark.slow  # a few dozen runs against the sandbox: about half a minute

ALLOWLIST = ["barnet", "buckinghamshire", "camden", "lambeth", "medway", "southwark"]
KEYS = [*ALLOWLIST, "lambeth", "not-in-the-source", ""]  # what a person may type as a key
LAG_MS = 600_000  # the index shows nothing new until a step lets it catch up

Step = tuple[Any, ...]
DATA_SOURCES = ("services", "councils")

steps = st.one_of(
    st.just(("apply",)),
    st.tuples(st.just("edit_managed"), st.integers(0, 40), st.sampled_from(["a", "b", "Barnet services"])),
    st.tuples(
        st.just("edit_unmanaged"), st.sampled_from(DATA_SOURCES), st.integers(0, 40), st.sampled_from(["x", "y"])
    ),
    st.tuples(st.just("change_key"), st.sampled_from(DATA_SOURCES), st.integers(0, 40), st.sampled_from(KEYS)),
    st.tuples(st.just("trash"), st.sampled_from(DATA_SOURCES), st.integers(0, 40)),
    st.tuples(st.just("restore"), st.sampled_from(DATA_SOURCES), st.integers(0, 40)),
    st.tuples(st.just("new_page"), st.sampled_from(KEYS)),
    st.tuples(st.just("lag"), st.booleans()),
    st.just(("settle",)),
    st.tuples(st.just("later"), st.sampled_from([1_000, 30_000, 3_600_000])),
)


class World:
    """A sandbox with the PlanX seed, the config (a few councils) and the people editing it."""

    def __init__(self, sb: Any, directory: Path) -> None:
        self.sb = sb
        self.client = notion(sb)
        info = sb.seed_info
        self.ds = {name: info["databases"][name]["data_source_id"] for name in DATA_SOURCES}
        # A column of the services database that reconcile does not manage, for people's notes.
        self.client.data_sources.update(data_source_id=self.ds["services"], properties={"Notes": {"rich_text": {}}})
        env = {**info["env"], "NOTION_RATE_LIMIT": "0"}

        def fewer(document: dict[str, Any]) -> None:
            document["jobs"]["planx-live-services"]["source"]["allowlist"] = ALLOWLIST
            document["run_log"] = str(directory / "runs.jsonl")

        self.config = load_config(write_config(directory, edit=fewer), env)
        self.without_cache = replace(self.config, read_cache=replace(self.config.read_cache, enabled=False))

    def pages(self, name: str, *, trashed: bool) -> list[str]:
        state = self.sb.admin.state()["pages"]
        ds = self.ds[name].replace("-", "")
        return sorted(
            p["id"]
            for p in state.values()
            if str((p.get("parent") or {}).get("data_source_id", "")).replace("-", "") == ds
            and bool(p.get("in_trash")) == trashed
        )

    def pick(self, name: str, index: int, *, trashed: bool = False) -> str | None:
        ids = self.pages(name, trashed=trashed)
        return ids[index % len(ids)] if ids else None

    def do(self, step: Step) -> None:
        kind, *args = step
        if kind == "apply":
            with contextlib.suppress(ReconcileError):  # a refused or failed apply is a step like any other
                apply_jobs(self.config, open_gateway(self.config), allow_large_changes=True)
        elif kind == "edit_managed":
            self.update("services", args[0], {"Description": rich(args[1])})
        elif kind == "edit_unmanaged":
            name, index, text = args
            prop = {"Notes": rich(text)} if name == "services" else {"Name": {"title": title(f"Council {text}")}}
            self.update(name, index, prop)
        elif kind == "change_key":
            self.update(args[0], args[1], {"ExternalCustomerID": rich(args[2])})
        elif kind in ("trash", "restore"):
            page = self.pick(args[0], args[1], trashed=kind == "restore")
            if page:
                self.client.pages.update(page_id=page, in_trash=kind == "trash")
        elif kind == "new_page":
            properties = {"Name": {"title": title("Made by hand")}, "ExternalCustomerID": rich(args[0])}
            self.client.pages.create(
                parent={"type": "data_source_id", "data_source_id": self.ds["services"]}, properties=properties
            )
        elif kind == "lag":
            self.sb.admin.settings(query_lag_ms=LAG_MS if args[0] else 0)
        elif kind == "settle":
            self.sb.admin.settle()
        elif kind == "later":
            self.sb.admin.advance_clock(args[0])  # time passes with nothing written

    def update(self, name: str, index: int, properties: dict[str, Any]) -> None:
        page = self.pick(name, index)
        if page:
            self.client.pages.update(page_id=page, properties=properties)

    def plans(self) -> tuple[Plan, Plan]:
        """The full-read plan and the incremental one, made at the same moment (the full one first:
        it neither reads nor writes the cache)."""
        now = datetime.now(UTC)
        full = plan_run(self.without_cache, open_gateway(self.without_cache), now=now)
        incremental = plan_run(self.config, open_gateway(self.config), now=now)
        return full, incremental


def rich(text: str) -> dict[str, Any]:
    return {"rich_text": [{"type": "text", "text": {"content": text}}] if text else []}


def comparable(plan: Plan) -> dict[str, Any]:
    """The plan's JSON form without the line on how Notion was read (the URLs a diagnostic lists
    come in the order the pages were read: compared as sets)."""
    form = plan_to_dict(replace(plan, reads=()))
    for d in form["diagnostics"]:
        d["urls"] = sorted(d["urls"])
    form["diagnostics"] = sorted(form["diagnostics"], key=lambda d: json.dumps(d, sort_keys=True))
    return form


@settings(
    max_examples=20,
    database=None,
    deadline=None,
    derandomize=True,  # the same sequences every CI run: a failure is reproduced by running it again
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.sampled_from([0, 20_000, 61_000]), st.lists(steps, min_size=2, max_size=8))
def test_the_incremental_plan_equals_the_full_read_plan_after_every_step(step_ms: int, sequence: list[Step]) -> None:
    with (
        tempfile.TemporaryDirectory(prefix="incr-equivalence-") as tmp,
        SandboxServer(port=0, seed="planx", rate_limit=None) as sb,
    ):
        # 0: the wall clock, every run and edit in the same minute; else each write moves a virtual
        # clock on by 20 s or 61 s (edits a minute or more apart; Notion's Date header follows it).
        sb.admin.settings(clock_step_ms=step_ms)
        world = World(sb, Path(tmp))
        world.do(("apply",))  # the first run: a full read, which fills the cache
        incremental_reads = 0
        for step in sequence:
            world.do(step)
            full, incremental = world.plans()
            assert {r.mode for r in full.reads} == {"full"}
            incremental_reads += sum(r.mode == "incremental" for r in incremental.reads)
            assert comparable(incremental) == comparable(full), f"after {step} in {sequence}"
        assert incremental_reads > 0  # the cache was used: the comparison is not vacuous
