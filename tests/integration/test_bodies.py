"""Page bodies, icons and covers against the sandbox over HTTP: created with the page, left alone
when nothing changed (no body read, no write), a person's body edit shown as drift and reverted,
a person's property and page left alone, long and deeply nested bodies."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from reconcile.model import BODY_TYPE, COVER_TYPE, ICON_TYPE, Config
from reconcile.run import apply_run, plan_run
from tests.support.bodies import (
    HASH,
    a_person,
    as_a_person,
    body_texts,
    by_route,
    json_source,
    notes_config,
    notes_database,
    record,
)
from tests.support.common import all_pages, notion, plain
from tests.support.jobs import gateway_for

pytestmark = pytest.mark.slow

SandboxServer = pytest.importorskip("notion_sandbox.server").SandboxServer

BODY = """# Opening hours

Open **weekdays**, see [the site](https://example.org).

- Monday
  - morning
- Tuesday

1. first
2. second

- [ ] call back
- [x] wrote

> a quote

---

```python
print("hi")
```
"""
LIST_CHILDREN = "GET /v1/blocks/{id}/children"


@pytest.fixture
def sandbox() -> Iterator[Any]:
    with SandboxServer(port=0, seed="empty", rate_limit=None) as sb:
        yield sb


def apply_once(config: Config, env: dict[str, str]) -> Any:
    with gateway_for(config, env) as gateway:
        started = datetime.now(UTC)
        plan = plan_run(config, gateway, now=started)
        record_ = apply_run(config, gateway, plan, started=started)
        assert not record_.result.failed, [o.message for o in record_.result.failed]
        return record_


def plan_once(config: Config, env: dict[str, str]) -> Any:
    with gateway_for(config, env) as gateway:
        return plan_run(config, gateway, now=datetime.now(UTC))


def pages_by_key(sb: Any, data_source: str) -> dict[str, dict[str, Any]]:
    return {plain(p, "Name"): p for p in all_pages(sb, data_source)}


def test_create_writes_body_icon_and_cover_then_a_no_change_run_reads_no_body(sandbox: Any, tmp_path: Path) -> None:
    database, data_source = notes_database(sandbox)
    with json_source([record("a", BODY), record("b", "Just *one* line.")]) as source:
        config, env = notes_config(tmp_path, sandbox, database, source.url)
        first = apply_once(config, env)
        assert first.plan.summary["create"] == 2
        pages = pages_by_key(sandbox, data_source)
        a = pages["a"]
        assert a["icon"] == {"type": "emoji", "emoji": "📝"}
        assert a["cover"]["external"]["url"] == "https://example.org/cover.png"
        assert plain(a, HASH).startswith("sha256:")
        shown = body_texts(sandbox, a["id"])
        assert [kind for kind, _, _ in shown] == [
            "heading_1", "paragraph", "bulleted_list_item", "bulleted_list_item", "numbered_list_item",
            "numbered_list_item", "to_do", "to_do", "quote", "divider", "code",
        ]  # fmt: skip
        assert shown[2] == ("bulleted_list_item", "Monday", [("bulleted_list_item", "morning", [])])
        # The whole body fitted in the create request: one create per page, no block call.
        routes = by_route(sandbox)
        assert routes.get("POST /v1/pages") == 2 and not routes.get("PATCH /v1/blocks/{id}/children")

        sandbox.admin.clear_requests()
        again = plan_once(config, env)
        assert not again.has_changes, [(a.key, a.reason) for a in again.actions]
        routes = by_route(sandbox)
        # A no-change run: the database and its data source, the read cache's two queries (pages
        # edited since its last read, and the trash), who the integration is; no body.
        assert routes == {
            "GET /v1/databases/{id}": 1,
            "GET /v1/data_sources/{id}": 1,
            "POST /v1/data_sources/{id}/query": 2,
            "GET /v1/users/me": 1,
        }


def test_a_source_change_rewrites_only_the_blocks_that_differ(sandbox: Any, tmp_path: Path) -> None:
    database, data_source = notes_database(sandbox)
    with json_source([record("a", BODY)]) as source:
        config, env = notes_config(tmp_path, sandbox, database, source.url)
        apply_once(config, env)
        source.records = [record("a", BODY.replace("Tuesday", "Wednesday").replace("a quote", "a new quote"))]
        sandbox.admin.clear_requests()
        second = apply_once(config, env)
        (action,) = second.plan.actions
        body = next(c for c in action.changes if c.type == BODY_TYPE)
        assert "- Tuesday" in str(body.before) and "- Wednesday" in str(body.after)
        assert [op["op"] for op in action.blocks] == ["update", "update"]
        routes = by_route(sandbox)
        assert routes.get("PATCH /v1/blocks/{id}") == 2 and routes.get("PATCH /v1/pages/{id}") == 1
        assert routes.get(LIST_CHILDREN) == 2  # the page, and the one list item with children
        page = pages_by_key(sandbox, data_source)["a"]
        assert [t for _, t, _ in body_texts(sandbox, page["id"])][3] == "Wednesday"
        assert not plan_once(config, env).has_changes


def test_a_persons_body_edit_is_drift_reverted_and_their_property_and_page_stay(sandbox: Any, tmp_path: Path) -> None:
    database, data_source = notes_database(sandbox)
    with json_source([record("a", BODY), record("b", "Plain.")]) as source:
        config, env = notes_config(tmp_path, sandbox, database, source.url)
        apply_once(config, env)
        client = notion(sandbox)
        pages = pages_by_key(sandbox, data_source)
        a = pages["a"]
        blocks = client.blocks.children.list(block_id=a["id"])["results"]
        client.blocks.update(block_id=blocks[0]["id"], heading_1={"rich_text": [{"text": {"content": "Hours?"}}]})
        client.blocks.children.append(
            block_id=a["id"], children=[{"paragraph": {"rich_text": [{"text": {"content": "my note"}}]}}]
        )
        client.pages.update(
            page_id=a["id"],
            properties={"Remarks": {"rich_text": [{"text": {"content": "mine"}}]}},
            icon={"type": "emoji", "emoji": "🔥"},
        )
        person_page = client.pages.create(
            parent={"data_source_id": data_source},
            properties={"Remarks": {"rich_text": [{"text": {"content": "no key"}}]}},
            children=[{"paragraph": {"rich_text": [{"text": {"content": "a person's page"}}]}}],
        )
        as_a_person(sandbox, a["id"], a_person(sandbox))

        sandbox.admin.clear_requests()
        run = apply_once(config, env)
        (action,) = run.plan.actions
        assert action.key == "a"
        names = {c.type: c for c in action.changes}
        assert "# Hours?" in str(names[BODY_TYPE].before) and "my note" in str(names[BODY_TYPE].before)
        assert names[ICON_TYPE].before == "🔥" and names[ICON_TYPE].after == "📝"
        assert COVER_TYPE not in names and "Remarks" not in {c.name for c in action.changes}
        assert sorted(op["op"] for op in action.blocks) == ["delete", "update"]
        # Only the page the person edited last had its body read (and its list item's children).
        assert by_route(sandbox).get(LIST_CHILDREN) == 2
        logged = [json.loads(line) for line in Path(config.run_log).read_text().splitlines()]
        assert [o.get("drift") for o in logged[-1]["outcomes"]] == [True]

        a_now = client.pages.retrieve(page_id=a["id"])
        assert plain(a_now, "Remarks") == "mine" and a_now["icon"]["emoji"] == "📝"
        texts = [t for _, t, _ in body_texts(sandbox, a["id"])]
        assert texts[0] == "Opening hours" and "my note" not in texts
        assert body_texts(sandbox, person_page["id"]) == [("paragraph", "a person's page", [])]
        assert not client.pages.retrieve(page_id=person_page["id"])["in_trash"]
        assert not plan_once(config, env).has_changes


def test_a_body_longer_than_100_blocks_and_nested_deeper_than_a_request_allows(sandbox: Any, tmp_path: Path) -> None:
    long_body = "\n\n".join(f"Paragraph {i}" for i in range(250))
    deep = "- level 1\n  - level 2\n    - level 3\n      - level 4\n        - level 5\n- back at 1\n"
    word = "w" * 2500
    text = " ".join(["word"] * 700) + " " + word
    database, data_source = notes_database(sandbox)
    with json_source([record("long", long_body), record("deep", deep), record("text", text)]) as source:
        config, env = notes_config(tmp_path, sandbox, database, source.url)
        first = apply_once(config, env)
        creates = {a.key: a for a in first.plan.actions}
        assert [op["op"] for op in creates["long"].blocks] == ["with_create", "append", "append"]
        assert creates["long"].written_last == (HASH,)
        pages = pages_by_key(sandbox, data_source)
        assert [t for _, t, _ in body_texts(sandbox, pages["long"]["id"])] == [f"Paragraph {i}" for i in range(250)]
        nested = body_texts(sandbox, pages["deep"]["id"])
        level = nested[0]
        for n in range(1, 6):
            assert level[1] == f"level {n}"
            level = level[2][0] if level[2] else level
        assert nested[1][1] == "back at 1"
        rich = notion(sandbox).blocks.children.list(block_id=pages["text"]["id"])["results"][0]["paragraph"][
            "rich_text"
        ]
        pieces = [r["plain_text"] for r in rich]
        assert "".join(pieces) == text and all(len(p) <= 2000 for p in pieces)
        assert all(p.endswith(" ") for p in pieces[:-2])  # split between words; only the long word is cut
        assert not plan_once(config, env).has_changes
        # The body shrinks: the surplus blocks go to the trash, nothing is recreated.
        source.records = [
            record("long", "\n\n".join(f"Paragraph {i}" for i in range(120))),
            record("deep", deep),
            record("text", text),
        ]
        sandbox.admin.clear_requests()
        apply_once(config, env)
        assert by_route(sandbox).get("DELETE /v1/blocks/{id}") == 130
        assert not by_route(sandbox).get("PATCH /v1/blocks/{id}/children")
        assert len(body_texts(sandbox, pages["long"]["id"])) == 120


def test_without_a_hash_property_every_managed_body_is_read(sandbox: Any, tmp_path: Path) -> None:
    database, _ = notes_database(sandbox, with_hash=False)
    with json_source([record("a", "One."), record("b", "Two.")]) as source:
        config, env = notes_config(tmp_path, sandbox, database, source.url, with_hash=False)
        apply_once(config, env)
        sandbox.admin.clear_requests()
        assert not plan_once(config, env).has_changes
        assert by_route(sandbox).get(LIST_CHILDREN) == 2
