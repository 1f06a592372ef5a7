"""Helpers of the worst-day reliability tests: duplicates, saved-plan edits, stamps, run records.

Everything here reads or changes the sandbox through its public API (notion-client, the admin
API) or reads the files a run leaves behind; nothing asks reconcile how it decided.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from tests.support.common import all_pages, notion, plain, run
from tests.support.reliability import data_source_ids

KEY = "ExternalCustomerID"
STAMP = "Integration Last Updated"
# A user id that is not the integration's bot: "a person" in the sandbox's workspace.
PERSON_ID = "9e450000-0000-4000-8000-00000000b0b0"


# ── pages ────────────────────────────────────────────────────────────────────────────────────────


def services_ds(sb: Any) -> str:
    return data_source_ids(sb)[0]


def councils_ds(sb: Any) -> str:
    return data_source_ids(sb)[1]


def pages_by_key(sb: Any, data_source_id: str) -> dict[str, list[dict[str, Any]]]:
    """Live pages of a data source grouped by their (stripped) key; keyless pages left out."""
    out: dict[str, list[dict[str, Any]]] = {}
    for page in all_pages(sb, data_source_id):
        key = plain(page, KEY).strip()
        if key:
            out.setdefault(key, []).append(page)
    return out


def duplicated_keys(sb: Any, data_source_id: str) -> dict[str, int]:
    return {k: len(v) for k, v in pages_by_key(sb, data_source_id).items() if len(v) > 1}


def survivor(pages: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The page the documented rule keeps: oldest created_time, then the lowest page id."""
    return min(pages, key=lambda p: (p["created_time"], p["id"]))


def text_items(value: dict[str, Any]) -> list[dict[str, Any]]:
    kind = value["type"]
    return [{"type": "text", "text": {"content": item["plain_text"]}} for item in value[kind]]


def writable_copy(page: dict[str, Any]) -> dict[str, Any]:
    """The properties of a services page, as a create request that makes an identical page."""
    out: dict[str, Any] = {}
    for name, value in page["properties"].items():
        kind = value["type"]
        if kind in ("title", "rich_text"):
            out[name] = {kind: text_items(value)}
        elif kind == "number":
            out[name] = {"number": value["number"]}
        elif kind == "relation":
            out[name] = {"relation": [{"id": r["id"]} for r in value["relation"]]}
    return out


def duplicate_of(sb: Any, page: dict[str, Any]) -> dict[str, Any]:
    """A second page with the same values, created with the integration's own token (as a concurrent
    run of this integration would)."""
    # as such a run would: the page's icon too (the mappings give the snapshot pages one)
    extra = {"icon": page["icon"]} if page.get("icon") else {}
    return notion(sb).pages.create(
        parent={"type": "data_source_id", "data_source_id": page["parent"]["data_source_id"]},
        properties=writable_copy(page),
        **extra,
    )


def made_by_a_person(sb: Any, page_id: str) -> None:
    """Record `page_id` as created (and last edited) by a person, not by the integration.

    The sandbox keeps each page's creator; the admin state is the only way to say "a person did
    it" without a second token. Skips when this sandbox cannot show another creator.
    """
    state = sb.admin.state()
    page = state["pages"][page_id]
    page["created_by"] = PERSON_ID
    page["last_edited_by"] = PERSON_ID
    sb.admin.put_state(state)
    shown = notion(sb).pages.retrieve(page_id=page_id)
    if shown["created_by"]["id"] != PERSON_ID:
        pytest.skip("this sandbox cannot record a page created by a person")


def trashed(sb: Any, page_id: str) -> bool:
    return bool(notion(sb).pages.retrieve(page_id=page_id)["in_trash"])


def stamps(sb: Any) -> dict[str, str | None]:
    """council key -> its `Integration Last Updated` (None when never stamped)."""
    return {k: plain(v[0], STAMP) for k, v in pages_by_key(sb, councils_ds(sb)).items()}


# ── the CLI ──────────────────────────────────────────────────────────────────────────────────────


def plan_document(config: Path, *args: str) -> dict[str, Any]:
    """`reconcile plan --format json`, parsed; the plan must have been made (exit 0 or 2)."""
    result = run("plan", "-c", str(config), "--format", "json", *args)
    assert result.exit_code in (0, 1, 2), result.output
    return json.loads(result.stdout)


def actions_of(document: dict[str, Any], kind: str, resource: str | None = None) -> list[dict[str, Any]]:
    return [a for a in document["actions"] if a["action"] == kind and resource in (None, a["resource"])]


def run_records(directory: Path) -> list[dict[str, Any]]:
    path = directory / ".reconcile" / "runs.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def outcomes(records: Iterable[dict[str, Any]], action: str, status: str = "ok") -> list[dict[str, Any]]:
    return [o for r in records for o in r["outcomes"] if o["action"] == action and o["status"] == status]


def console_script() -> str:
    """The installed `reconcile` command beside this interpreter (the real entry point)."""
    beside = Path(sys.executable).parent / "reconcile"
    found = str(beside) if beside.exists() else shutil.which("reconcile")
    if not found:
        pytest.skip("the reconcile console script is not installed")
    return found


def start_apply(sb: Any, config: Path, cwd: Path, *extra: str) -> subprocess.Popen[bytes]:
    """`reconcile apply --auto-approve` in its own process and working directory."""
    env = dict(os.environ) | dict(sb.seed_info["env"]) | {"NOTION_RATE_LIMIT": "0"}
    return subprocess.Popen(
        [console_script(), "apply", "-c", str(config), "--auto-approve", "-q", *extra],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def wait_for(condition: Any, *, timeout_s: float, what: str) -> None:
    """Wait (not assert on time) for something the sandbox does on its own, e.g. a late commit."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.05)


# ── saved plan files ─────────────────────────────────────────────────────────────────────────────


def canonical(document: dict[str, Any]) -> bytes:
    """The bytes the plan digest covers: the document without `digest`, keys sorted, compact."""
    body = {k: v for k, v in document.items() if k != "digest"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def resign(document: dict[str, Any]) -> dict[str, Any]:
    """A hand-edited plan made self-consistent again: summary recounted, digest recomputed.

    This is what a careful attacker (or a script) would do; the plan's bounds must still hold.
    """
    summary = document["summary"]
    for kind in list(summary):
        if kind != "unchanged":
            summary[kind] = sum(1 for a in document["actions"] if a["action"] == kind)
    document["digest"] = hashlib.sha256(canonical(document)).hexdigest()
    return document


def read_document(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def write_document(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
