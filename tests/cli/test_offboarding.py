"""Offboarding a council, as docs/operator.md describes it: what happens to its snapshot page and
to its Councils stamp when it leaves PlanX, and when its slug is taken off the allowlist."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.common import all_pages, notion, plain, run, writes

REPO = Path(__file__).resolve().parents[2]
SLUG = "barnet"  # allowlisted, and its Councils page carries ExternalCustomerID in the planx seed

SandboxServer = pytest.importorskip("notion_sandbox.server").SandboxServer


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with SandboxServer(port=0, seed="planx", rate_limit=None) as sb:
        for name, value in sb.seed_info["env"].items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("NOTION_RATE_LIMIT", "0")
        monkeypatch.chdir(tmp_path)
        yield sb


def data_source(sb: Any, variable: str) -> str:
    database = notion(sb).databases.retrieve(database_id=sb.seed_info["env"][variable])
    return str(database["data_sources"][0]["id"])


def council_page(sb: Any) -> dict[str, Any]:
    [page] = [p for p in all_pages(sb, data_source(sb, "COUNCILS_DB_ID")) if plain(p, "ExternalCustomerID") == SLUG]
    return page


def snapshot_pages(sb: Any) -> list[dict[str, Any]]:
    return [p for p in all_pages(sb, data_source(sb, "SERVICES_DB_ID")) if plain(p, "ExternalCustomerID") == SLUG]


def applied(sandbox: Any, config: str = "mappings.yaml") -> None:
    out = run("apply", "-c", config, "--auto-approve")
    assert out.exit_code == 0, out.output


def test_a_council_that_leaves_planx_is_archived_and_stamped_once(sandbox: Any) -> None:
    Path("mappings.yaml").write_text((REPO / "mappings.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    applied(sandbox)
    snapshot = sandbox.admin.planx()
    snapshot["teams"] = [t for t in snapshot["teams"] if t["slug"] != SLUG]
    sandbox.admin.put_planx(snapshot)

    plan = run("plan", "--detailed-exitcode")
    assert plan.exit_code == 2
    assert f'- archive services "{SLUG}"' in plan.output and f'* touch councils "{SLUG}"' in plan.output
    applied(sandbox)
    assert snapshot_pages(sandbox) == []  # in the trash, not deleted
    council = council_page(sandbox)
    stamp = plain(council, "Integration Last Updated")
    assert stamp and plain(council, "ExternalCustomerID") == SLUG

    before = writes(sandbox)
    applied(sandbox)
    assert writes(sandbox) == before  # nothing left to do: the stamp stays as the archive left it
    assert plain(council_page(sandbox), "Integration Last Updated") == stamp


def test_a_slug_taken_off_the_allowlist_leaves_its_page_untouched(sandbox: Any) -> None:
    text = (REPO / "mappings.yaml").read_text(encoding="utf-8")
    Path("mappings.yaml").write_text(text, encoding="utf-8")
    applied(sandbox)
    [page] = snapshot_pages(sandbox)
    stamp = plain(council_page(sandbox), "Integration Last Updated")

    assert f"        - {SLUG}\n" in text
    Path("offboarded.yaml").write_text(text.replace(f"        - {SLUG}\n", ""), encoding="utf-8")
    plan = run("plan", "-c", "offboarded.yaml", "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output
    assert "No changes." in plan.output and f'"{SLUG}"' not in plan.output
    applied(sandbox, "offboarded.yaml")
    [still] = snapshot_pages(sandbox)
    assert still["id"] == page["id"] and still["last_edited_time"] == page["last_edited_time"]
    assert plain(council_page(sandbox), "Integration Last Updated") == stamp
