"""Page bodies against the sandbox: a database of notes, a local JSON source whose records carry
Markdown, and a person's edits (made through the API, then recorded as the person's, as the app
would show them)."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from reconcile.config import load_config
from reconcile.model import Config
from tests.support.common import notion

HASH = "Content Hash"


class JsonSource:
    """A real HTTP server on 127.0.0.1 answering GET with {"notes": records}."""

    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.records = records
        source = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = json.dumps({"notes": source.records}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/notes.json"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def json_source(records: list[dict[str, Any]]) -> Iterator[JsonSource]:
    source = JsonSource(records)
    try:
        yield source
    finally:
        source.close()


def notes_database(sb: Any, *, with_hash: bool = True) -> tuple[str, str]:
    """(database id, data source id) of a new "Notes" database: Name (the key), Summary, the hash
    property (unless told not to), and Remarks, a property people use that the config never maps."""
    properties: dict[str, Any] = {"Name": {"title": {}}, "Summary": {"rich_text": {}}, "Remarks": {"rich_text": {}}}
    if with_hash:
        properties[HASH] = {"rich_text": {}}
    made = notion(sb).databases.create(
        parent={"type": "page_id", "page_id": sb.seed_info["parent_page_id"]},
        title=[{"type": "text", "text": {"content": "Notes"}}],
        initial_data_source={"properties": properties},
    )
    return made["id"], made["data_sources"][0]["id"]


MAPPINGS = """\
version: 1
jobs:
  notes:
    source:
      http:
        url: {url}
      records: notes
      key: slug
    guards:
      max_archive_ratio: 1
      max_archive_count: 1000
    resources:
      notes:
        database: {database}
        match: {{property: Name, key: slug}}
        properties:
          Summary: summary
        content: {content}
        icon: emoji
        cover: cover
"""


def notes_config(
    tmp: Path, sb: Any, database: str, url: str, *, with_hash: bool = True
) -> tuple[Config, dict[str, str]]:
    content = f'{{markdown: body, hash_property: "{HASH}"}}' if with_hash else "body"
    path = tmp / "mappings.yaml"
    path.write_text(MAPPINGS.format(url=url, database=database, content=content))
    env = {"NOTION_TOKEN": sb.seed_info["env"]["NOTION_TOKEN"], "NOTION_BASE_URL": sb.url}
    config = load_config(path, env)
    config = dataclasses.replace(
        config,
        notion=dataclasses.replace(config.notion, base_url=sb.url, rate_limit=100.0, burst=20, index_lag_s=0),
        run_log=str(tmp / ".reconcile" / "runs.jsonl"),
    )
    return config, env


def record(slug: str, body: str, **more: Any) -> dict[str, Any]:
    return {
        "slug": slug,
        "summary": f"about {slug}",
        "body": body,
        "emoji": "📝",
        "cover": "https://example.org/cover.png",
    } | more


def as_a_person(sb: Any, page_id: str, person: str) -> None:
    """Record the page's last edit as the person's (what Notion shows after a person edits it)."""
    state = sb.admin.state()
    page = state["pages"][page_id]
    page["last_edited_by"] = person
    page["last_edited_time"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:00.000Z")
    sb.admin.put_state(state)


def a_person(sb: Any) -> str:
    return str(sb.admin.users()[0]["id"])


def body_texts(sb: Any, block_id: str) -> list[tuple[str, str, list[Any]]]:
    """(type, plain text, children) of every block under a page or block, nested, in order."""
    client = notion(sb)
    out: list[tuple[str, str, list[Any]]] = []
    cursor = None
    while True:
        answer = client.blocks.children.list(block_id=block_id, start_cursor=cursor, page_size=100)
        for block in answer["results"]:
            kind = block["type"]
            text = "".join(t["plain_text"] for t in (block[kind].get("rich_text") or []))
            out.append((kind, text, body_texts(sb, block["id"]) if block["has_children"] else []))
        if not answer["has_more"]:
            return out
        cursor = answer["next_cursor"]


def by_route(sb: Any) -> dict[str, int]:
    return dict(sb.admin.requests()["by_route"])
