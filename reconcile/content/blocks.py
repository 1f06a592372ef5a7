"""Nodes ⇄ Notion blocks, within Notion's limits, and the hash of a body.

Limits (FACTS §3.2, docs/sandbox.md "Blocks"): a rich-text item holds at most 2,000 UTF-16 code
units, so longer text is split at a line break, else at a space, and only a word longer than the
limit is cut inside; a `children` array holds at most 100 blocks; a request nests at most two
levels below its `children` (the third level may not have children of its own).
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from typing import Any

from reconcile.content.markdown import Node, Span, merge_spans, parsed

MAX_TEXT_UNITS = 2000
MAX_CHILDREN = 100
MAX_LEVELS = 3  # the request's own children, theirs, and theirs (without children)
TEXT_TYPES = (
    "paragraph", "heading_1", "heading_2", "heading_3", "bulleted_list_item", "numbered_list_item", "quote",
    "to_do", "code", "toggle", "callout",
)  # fmt: skip
MARKS = ("bold", "italic", "strikethrough", "underline", "code")
# Blocks that are pages or databases of their own, not text of this page: never touched.
FOREIGN_TYPES = ("child_page", "child_database")


def body_hash(nodes: list[Node]) -> str:
    """What the hash property holds for a body: sha256 of its nodes' canonical JSON (32 hex digits)."""
    text = json.dumps(bare(nodes), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


@lru_cache(maxsize=8192)
def markdown_hash(markdown: str) -> str:
    """body_hash of a Markdown text's nodes."""
    return body_hash(parsed(markdown))


def bare(nodes: list[Node]) -> list[Node]:
    """The nodes without the block ids a body read from Notion carries."""
    return [{k: (bare(v) if k == "children" else v) for k, v in n.items() if k != "id"} for n in nodes]


def depth(node: Node) -> int:
    return 1 + max((depth(c) for c in node.get("children") or []), default=0)


# ── nodes → requests ─────────────────────────────────────────────────────────────────────────────


def block_request(node: Node, *, with_children: bool = True) -> dict[str, Any]:
    """The request JSON of a block, with its children (callers make sure they fit)."""
    kind = node["type"]
    content = type_object(node)
    children = node.get("children") or []
    if with_children and children:
        content["children"] = [block_request(c) for c in children]
    return {"object": "block", "type": kind, kind: content}


def type_object(node: Node) -> dict[str, Any]:
    """The block's type object without children: what an update sends."""
    kind = node["type"]
    if kind == "divider":
        return {}
    content: dict[str, Any] = {"rich_text": rich_text_request(node.get("rich_text") or [])}
    if kind == "to_do":
        content["checked"] = bool(node.get("checked"))
    if kind == "code":
        content["language"] = node.get("language") or "plain text"
    return content


def rich_text_request(spans: list[Span]) -> list[dict[str, Any]]:
    out = []
    for s in spans:  # merged already: by the parser, or as read from Notion
        for piece in split_text(s["text"]):
            text: dict[str, Any] = {"content": piece}
            if s.get("link"):
                text["link"] = {"url": s["link"]}
            item: dict[str, Any] = {"type": "text", "text": text}
            marks = s.get("marks") or []
            if marks:
                item["annotations"] = {m: True for m in marks}
            out.append(item)
    return out


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_TEXT_UNITS) -> list[str]:
    """Pieces of at most `limit` UTF-16 units, split after a line break, else after a space; a word
    longer than the limit alone is cut, between code points."""
    if 2 * len(text) <= limit:  # a UTF-16 code unit per character, two at most
        return [text] if text else []
    pieces = []
    while utf16_units(text) > limit:
        head = prefix_within(text, limit)
        cut = head.rfind("\n")
        if cut < len(head) // 2:  # a line break late in the piece, else the last space
            cut = max(cut, head.rfind(" "))
        if cut <= 0:
            cut = len(head) - 1
        pieces.append(text[: cut + 1])
        text = text[cut + 1 :]
    if text:
        pieces.append(text)
    return pieces


def prefix_within(text: str, limit: int) -> str:
    units = 0
    for i, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            return text[:i]
    return text


def fits(node: Node, level: int = 1) -> bool:
    """Whether a block and everything under it can go in one request at this nesting level."""
    children = node.get("children") or []
    if not children:
        return True
    if level >= MAX_LEVELS or len(children) > MAX_CHILDREN:
        return False
    return all(fits(c, level + 1) for c in children)


def elements(node: Node) -> int:
    return 1 + sum(elements(c) for c in node.get("children") or [])


# ── Notion blocks → nodes ────────────────────────────────────────────────────────────────────────


def node_of(block: dict[str, Any]) -> Node:
    """The node of a block as Notion sends it, with its id; its children are under "children" (the
    reader fetched them)."""
    kind = str(block.get("type") or "")
    found = block.get(kind)
    content: dict[str, Any] = found if isinstance(found, dict) else {}
    node: Node = {"id": str(block.get("id") or ""), "type": kind}
    if kind in TEXT_TYPES:
        node["rich_text"] = spans_of(content.get("rich_text") or [])
    elif kind != "divider":
        node["opaque"] = True  # a block a Markdown body cannot hold: never equal to a desired one
    if kind == "to_do":
        node["checked"] = bool(content.get("checked"))
    if kind == "code":
        node["language"] = str(content.get("language") or "plain text")
    if kind.startswith("heading_") and content.get("is_toggleable"):
        node["toggleable"] = True
    node["children"] = [node_of(c) for c in block.get("children") or []]
    return node


def spans_of(items: list[dict[str, Any]]) -> list[Span]:
    spans: list[Span] = []
    for item in items:
        text = item.get("plain_text")
        if text is None:
            text = ((item.get("text") or {}).get("content")) or ""
        annotations = item.get("annotations") or {}
        marks = sorted(m for m in MARKS if annotations.get(m))
        s: Span = {"text": str(text)}
        if marks:
            s["marks"] = marks
        link = item.get("href") or ((item.get("text") or {}).get("link") or {}).get("url")
        if link:
            s["link"] = str(link)
        spans.append(s)
    return merge_spans(spans)
