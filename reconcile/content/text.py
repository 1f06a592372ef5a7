"""Nodes → Markdown: how the plan shows a body, before and after. parse_markdown reads it back
to the same nodes (the round trip the unit tests hold)."""

from __future__ import annotations

import re
from typing import Any

from reconcile.content.markdown import Node, Span

INDENT = "  "
MARK_ORDER = (("code", "`"), ("strikethrough", "~~"), ("bold", "**"), ("italic", "*"))
DELIMS = dict(MARK_ORDER)
NUMBERED = re.compile(r"^(\d{1,9})[.)](\s|$)")
SPECIAL = re.compile(r"([\\`*_~\[\]])")
# A line of a paragraph that Markdown would read as another block.
BLOCK_START = re.compile(r"^(\s*)(#{1,6}(\s|$)|>|[-*+](\s|$)|\d{1,9}[.)](\s|$)|```|~~~|([-*_])(\s*\6){2,}\s*$)")


def to_markdown(nodes: list[Node]) -> str:
    """The Markdown of a body, blocks separated by one blank line (list items by none)."""
    parts: list[str] = []
    previous: str | None = None
    for node in nodes:
        text = node_markdown(node, 0)
        if parts and not (listed(node) and previous is not None and previous == list_kind(node)):
            parts.append("")
        parts.append(text)
        previous = list_kind(node) if listed(node) else None
    return "\n".join(parts)


def listed(node: Node) -> bool:
    return node["type"] in ("bulleted_list_item", "numbered_list_item", "to_do")


def list_kind(node: Node) -> str:
    return "numbered" if node["type"] == "numbered_list_item" else "bulleted"


def node_markdown(node: Node, depth: int) -> str:
    pad = INDENT * depth
    kind = node["type"]
    text = spans_markdown(node.get("rich_text") or [])
    if kind == "divider":
        return f"{pad}---"
    if kind == "code":
        body = "".join(s["text"] for s in node.get("rich_text") or [])
        fence = "````" if "```" in body else "```"
        lines = [f"{pad}{fence}{code_language(node)}", *(pad + line for line in body.split("\n")), pad + fence]
        return "\n".join(lines)
    if kind.startswith("heading_"):
        return f"{pad}{'#' * int(kind[-1])} {text}"
    if kind == "quote":
        return "\n".join(f"{pad}> {line}".rstrip() for line in text.split("\n"))
    if kind == "paragraph":
        return "\n".join(pad + escaped_start(line) for line in text.split("\n"))
    if listed(node) or kind in ("bulleted_list_item", "numbered_list_item"):
        marker = {"bulleted_list_item": "-", "numbered_list_item": "1.", "to_do": "-"}[kind]
        if kind == "to_do":
            marker += " [x]" if node.get("checked") else " [ ]"
        first, *rest = text.split("\n")
        inner = INDENT * (depth + 1)
        # `- --` would read as a divider: an item's text never starts with a bare dash or plus
        head = "\\" + first if first[:1] in ("-", "+") else escaped_start(first) if first.strip() else first
        lines = [f"{pad}{marker} {head}"]
        lines += [inner + escaped_start(line) for line in rest]
        lines += [node_markdown(child, depth + 1) for child in node.get("children") or []]
        return "\n".join(lines)
    # A block a person added that a Markdown body cannot hold (an image, a table…): named, so a diff shows it.
    return f"{pad}<!-- {kind} block -->"


def code_language(node: Node) -> str:
    language = str(node.get("language") or "plain text")
    return "" if language == "plain text" else language


def escaped_start(line: str) -> str:
    if not (BLOCK_START.match(line) and line.strip()):
        return line
    stripped = line.lstrip()
    numbered = NUMBERED.match(stripped)
    return f"{numbered.group(1)}\\{stripped[len(numbered.group(1)) :]}" if numbered else "\\" + stripped


def spans_markdown(spans: list[Span]) -> str:
    """Spans as Markdown, emphasis opened and closed as spans share it (`**a _b_ c**`), never
    around the white space at its edges (Markdown would not read that as emphasis). Italic is
    `_` beside other delimiters (`***` is ambiguous) and `*` inside a word (where `_` is not read)."""
    out: list[str] = []
    open_marks: list[tuple[str, str]] = []  # (mark, its delimiter), outermost first
    for i, s in enumerate(spans):
        wanted = set(s.get("marks") or []) - {"code", "underline"}
        still = [m for m, _ in open_marks if m in wanted]  # open ones stay outermost: nesting as read
        marks = still + [m for m, _ in MARK_ORDER[1:] if m in wanted - set(still)]
        keep = 0
        while keep < len(open_marks) and keep < len(marks) and open_marks[keep][0] == marks[keep]:
            keep += 1
        close_marks(out, open_marks, keep)
        text = span_text(s)
        lead = text[: len(text) - len(text.lstrip())]
        out.append(lead)
        for mark in marks[keep:]:
            delim = DELIMS[mark]
            if mark == "italic" and not in_word(out, spans, i):
                delim = "_"
            out.append(delim)
            open_marks.append((mark, delim))
        out.append(text[len(lead) :])
    close_marks(out, open_marks, 0)
    return "".join(out)


def in_word(out: list[str], spans: list[Span], at: int) -> bool:
    """Whether italic opened at span `at` touches a letter or digit before it or after its run."""
    before = "".join(out)[-1:]
    end = at
    while end < len(spans) and "italic" in (spans[end].get("marks") or []):
        end += 1
    after = spans[end]["text"][:1] if end < len(spans) else ""
    return before.isalnum() or after.isalnum()


def close_marks(out: list[str], open_marks: list[tuple[str, str]], keep: int) -> None:
    """Close the marks open beyond the first `keep`, before any white space the text ended with."""
    if len(open_marks) <= keep:
        return
    tail = ""
    if out:
        last = out.pop()
        tail = last[len(last.rstrip()) :]
        out.append(last.rstrip())
    while len(open_marks) > keep:
        out.append(open_marks.pop()[1])
    out.append(tail)


def span_text(s: Span) -> str:
    text = s["text"]
    out = f"`{text}`" if "code" in (s.get("marks") or []) else SPECIAL.sub(r"\\\1", text)
    link: Any = s.get("link")
    return f"[{out}]({link})" if link else out
