"""The block calls that make a page's body equal to the desired one: pure, so the plan carries them.

An operation is JSON (it travels in the plan file):

    {"op": "with_create", "children": [block…]}            the blocks sent in the page's create request
    {"op": "append", "parent": REF, "after": REF | "start" | None, "children": [block…]}
    {"op": "update", "block": ID, "body": {TYPE: {…}}}
    {"op": "delete", "block": ID}                          Notion moves the block to the trash

REF is a block id, "" for the page itself, or "@N.I": the I-th block the N-th operation of the
same action appended (apply reads it from that call's answer). Blocks nested deeper than one
request may carry, or more than 100 under one parent, are sent without their children, which
later operations append under "@N.I".

The body is compared block by block: equal subtrees are kept (difflib's longest matching runs);
in a changed run, a block of the same type is updated in place (and its children compared in
turn), any other is deleted and the new one appended after the block before it.
"""

from __future__ import annotations

import difflib
import json
from typing import Any

from reconcile.content.blocks import (
    FOREIGN_TYPES,
    MAX_CHILDREN,
    bare,
    block_request,
    elements,
    fits,
    type_object,
)
from reconcile.content.markdown import Node

Op = dict[str, Any]
START = "start"
PAGE = ""
MAX_ELEMENTS = 1000


def owned(nodes: list[Node]) -> list[Node]:
    """The blocks of a body the tool owns: not the pages and databases that live under the page."""
    return [n for n in nodes if n["type"] not in FOREIGN_TYPES]


def same_body(current: list[Node], desired: list[Node]) -> bool:
    return bare(owned(current)) == bare(desired)


def body_ops(current: list[Node], desired: list[Node]) -> list[Op]:
    """The calls that turn the body `current` (read from Notion, with ids) into `desired`."""
    ops: list[Op] = []
    diff_children(PAGE, owned(current), desired, ops)
    return ops


def create_ops(desired: list[Node]) -> list[Op]:
    """A new page's body: as many leading blocks as fit in the create request, the rest appended."""
    sent: list[Node] = []
    count = 0
    for node in desired:
        if len(sent) == MAX_CHILDREN or not fits(node) or count + elements(node) > MAX_ELEMENTS:
            break
        sent.append(node)
        count += elements(node)
    ops: list[Op] = []
    if sent:
        ops.append({"op": "with_create", "children": [block_request(n) for n in sent]})
    append_ops(PAGE, None, desired[len(sent) :], ops)
    return ops


def signature(node: Node) -> str:
    return json.dumps(bare([node])[0], sort_keys=True, ensure_ascii=False)


def kind(node: Node) -> str:
    return str(node["type"]) + ("/toggle" if node.get("toggleable") else "") + ("/opaque" if node.get("opaque") else "")


def diff_children(parent: str, current: list[Node], desired: list[Node], ops: list[Op]) -> None:
    matcher = difflib.SequenceMatcher(None, [signature(n) for n in current], [signature(n) for n in desired], False)
    anchor: str | None = START if current else None
    pending: list[Node] = []

    def flush() -> None:
        append_ops(parent, anchor, pending, ops)
        pending.clear()

    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            flush()
            anchor = current[i2 - 1]["id"]
            continue
        for k in range(max(i2 - i1, j2 - j1)):
            old = current[i1 + k] if i1 + k < i2 else None
            new = desired[j1 + k] if j1 + k < j2 else None
            if old is not None and new is not None and kind(old) == kind(new) and not old.get("opaque"):
                flush()
                if bare([{**old, "children": []}]) != bare([{**new, "children": []}]):
                    ops.append({"op": "update", "block": old["id"], "body": {new["type"]: type_object(new)}})
                diff_children(old["id"], owned(old.get("children") or []), new.get("children") or [], ops)
                anchor = old["id"]
                continue
            if old is not None:
                ops.append({"op": "delete", "block": old["id"]})
            if new is not None:
                pending.append(new)
    flush()


def append_ops(parent: str, anchor: str | None, nodes: list[Node], ops: list[Op]) -> None:
    """Append `nodes` under `parent` after `anchor`: at most 100 blocks and 1,000 elements per call;
    the children of a block too deep or too wide for one request come in later calls."""
    for chunk in chunks(nodes):
        index = len(ops)
        children = [block_request(n, with_children=fits(n)) for n in chunk]
        ops.append({"op": "append", "parent": parent, "after": anchor, "children": children})
        for i, node in enumerate(chunk):
            if not fits(node):
                append_ops(f"@{index}.{i}", None, node.get("children") or [], ops)
        anchor = f"@{index}.{len(chunk) - 1}"


def chunks(nodes: list[Node]) -> list[list[Node]]:
    out: list[list[Node]] = []
    count = 0
    for node in nodes:
        size = elements(node) if fits(node) else 1
        if not out or len(out[-1]) == MAX_CHILDREN or count + size > MAX_ELEMENTS:
            out.append([])
            count = 0
        out[-1].append(node)
        count += size
    return out


def op_calls(ops: list[Op]) -> int:
    """Calls the operations cost (the create's own children ride on the create)."""
    return sum(1 for op in ops if op["op"] != "with_create")
