"""Drift: an update that sets back a value someone edited in Notion is marked as drift in the run
record (and sends `drift_reverted`); an update because the source changed is not."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.common import all_pages, notion, plain, run
from tests.support.webhook import WebhookReceiver

SandboxServer = pytest.importorskip("notion_sandbox.server").SandboxServer
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with SandboxServer(port=0, seed="planx", rate_limit=None) as sb:
        for name, value in sb.seed_info["env"].items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("NOTION_RATE_LIMIT", "0")
        monkeypatch.chdir(tmp_path)
        document = yaml.safe_load((REPO / "mappings.yaml").read_text(encoding="utf-8"))
        document["notify"] = {"webhooks": [{"url_env": "RECONCILE_TEST_HOOK"}], "events": ["drift_reverted"]}
        Path("mappings.yaml").write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
        yield sb


def services_page(sb: Any, key: str) -> dict[str, Any]:
    ds = sb.seed_info["databases"]["services"]["data_source_id"]
    [page] = [p for p in all_pages(sb, ds) if plain(p, "ExternalCustomerID") == key]
    return page


def last_run() -> dict[str, Any]:
    lines = [json.loads(x) for x in Path(".reconcile/runs.jsonl").read_text(encoding="utf-8").splitlines()]
    return [r for r in lines if r.get("record_type", "run") == "run"][-1]


def test_an_edit_in_notion_set_back_is_drift_and_a_source_change_is_not(
    sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with WebhookReceiver() as hook:
        monkeypatch.setenv("RECONCILE_TEST_HOOK", hook.url)
        assert run("apply", "--auto-approve").exit_code == 0
        log = Path(".reconcile/runs.jsonl").read_text(encoding="utf-8")
        assert "Apply for prior approval" not in log  # fingerprints only, never values

        page = services_page(sandbox, "barnet")
        notion(sandbox).pages.update(page_id=page["id"], properties={"Service Count": {"number": 99}})
        assert run("apply", "--auto-approve").exit_code == 0
        [update] = [o for o in last_run()["outcomes"] if o["action"] == "update"]
        assert update["key"] == "barnet" and update.get("drift") is True
        [message] = hook.bodies()
        assert [e["event"] for e in message["events"]] == ["drift_reverted"]
        assert message["events"][0]["keys"] == ["barnet"]

        snapshot = sandbox.admin.planx()
        [team] = [t for t in snapshot["teams"] if t["slug"] == "camden"]
        new = {**team["flows"][0], "id": "a0a0a0a0-0000-4000-8000-00000000abcd", "name": "A new", "slug": "a-new"}
        team["flows"] = [*team["flows"], new]
        sandbox.admin.put_planx(snapshot)
        assert run("apply", "--auto-approve").exit_code == 0
        updates = [o for o in last_run()["outcomes"] if o["action"] == "update"]
        assert [o["key"] for o in updates] == ["camden"] and not any(o.get("drift") for o in updates)
        assert len(hook.received) == 1  # no second message: the source moved, nobody edited
