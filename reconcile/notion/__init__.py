"""The Notion side of a run: the gateway, its transport and the schema check.

gateway.py    NotionGateway: every Notion call of a run (implements reconcile.ports.Gateway)
transport.py  NotionTransport: rate limit, retries, ambiguous-write detection, call counts
schema.py     managed properties against the live data source schema (pure)
schema_writes.py  schema changes as data source updates, one request per data source; what Notion confirms

Nothing is imported here: `import reconcile.notion.schema` (or anything that plans) must not load
httpx and notion-client. The value codecs both sides share live in reconcile.values.
"""

from __future__ import annotations

__all__: list[str] = []
