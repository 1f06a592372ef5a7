"""The Notion client side: value codecs, schema checks, the gateway and its transport.

values.py     canonical ↔ Notion property values (pure)
schema.py     managed properties against the live data source schema (pure)
gateway.py    NotionGateway: every Notion call of a run
transport.py  NotionTransport: rate limit, retries, ambiguous-write detection, call counts
"""

from __future__ import annotations

from reconcile.notion.gateway import NOTION_VERSION, NotionGateway
from reconcile.notion.schema import check_schema
from reconcile.notion.transport import (
    AmbiguousWriteError,
    CallCounter,
    NotionTransport,
    RetryPolicy,
    TokenBucket,
)
from reconcile.notion.values import READ_ONLY_TYPES, WRITABLE_TYPES, decode, encode, equal, normalise

__all__ = [
    "NOTION_VERSION",
    "READ_ONLY_TYPES",
    "WRITABLE_TYPES",
    "AmbiguousWriteError",
    "CallCounter",
    "NotionGateway",
    "NotionTransport",
    "RetryPolicy",
    "TokenBucket",
    "check_schema",
    "decode",
    "encode",
    "equal",
    "normalise",
]
