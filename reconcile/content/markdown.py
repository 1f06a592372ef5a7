"""Markdown → nodes: the subset a page body is written in.

Headings 1–3 (deeper ones become heading 3), paragraphs (lines kept as line breaks), bulleted and
numbered lists nested by indentation, to-dos (`- [ ]`, `- [x]`), quotes, dividers, fenced code
blocks with a language, and inline bold, italic, code, strikethrough and links. Anything else is
text. No HTML, tables or images: Notion's blocks for them are not part of a managed body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

Node = dict[str, Any]
Span = dict[str, Any]

HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
DIVIDER = re.compile(r"^ {0,3}([-*_])(\s*\1){2,}\s*$")
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([^`]*?)\s*$")
LIST_ITEM = re.compile(r"^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$")  # the item's text: blanks around it do not count
TODO = re.compile(r"^\[([ xX])\]\s+(.*)$")
QUOTE = re.compile(r"^\s{0,3}>\s?(.*)$")
ESCAPABLE = set("\\`*_~[]()#+-.!>|")

# Notion's names for the languages a fence may name by a common alias.
LANGUAGE_ALIASES = {
    "": "plain text", "text": "plain text", "txt": "plain text", "sh": "shell", "zsh": "shell",
    "console": "shell", "py": "python", "js": "javascript", "ts": "typescript", "yml": "yaml",
    "md": "markdown", "rb": "ruby", "rs": "rust", "golang": "go", "c++": "c++", "cpp": "c++", "cs": "c#",
    "csharp": "c#", "kt": "kotlin", "dockerfile": "docker", "tf": "hcl", "jsonc": "json", "html": "html",
}  # fmt: skip


def parse_markdown(source: str) -> list[Node]:
    """The nodes of a Markdown text (an empty list for an empty or blank one)."""
    return _Parser(source.replace("\r\n", "\n").replace("\t", "    ").split("\n")).blocks()


@lru_cache(maxsize=8192)
def parsed(source: str) -> list[Node]:
    """parse_markdown, once per text in a run (planning asks several times per page). The nodes
    are shared: never change them."""
    return parse_markdown(source)


# The languages Notion's code blocks accept (the official API document's `languageRequest`); any
# other fence language would make Notion refuse the whole request, so it is written as plain text.
NOTION_LANGUAGES = frozenset(
    (
        "abap", "abc", "agda", "arduino", "ascii art", "assembly", "bash", "basic", "bnf", "c", "c#", "c++",
        "clojure", "coffeescript", "coq", "css", "dart", "dhall", "diff", "docker", "ebnf", "elixir", "elm",
        "erlang", "f#", "flow", "fortran", "gherkin", "glsl", "go", "graphql", "groovy", "haskell", "hcl", "html",
        "idris", "java", "javascript", "json", "julia", "kotlin", "latex", "less", "lisp", "livescript", "llvm ir",
        "lua", "makefile", "markdown", "markup", "matlab", "mathematica", "mermaid", "nix", "notion formula",
        "objective-c", "ocaml", "pascal", "perl", "php", "plain text", "powershell", "prolog", "protobuf",
        "purescript", "python", "r", "racket", "reason", "ruby", "rust", "sass", "scala", "scheme", "scss", "shell",
        "smalltalk", "solidity", "sql", "swift", "toml", "typescript", "vb.net", "verilog", "vhdl", "visual basic",
        "webassembly", "xml", "yaml", "java/c/c++/c#",
    )
)  # fmt: skip


def language_name(fence_info: str) -> str:
    name = fence_info.strip().lower()
    name = LANGUAGE_ALIASES.get(name, name or "plain text")
    return name if name in NOTION_LANGUAGES else "plain text"


@dataclass
class _Item:
    marker: int  # the indentation of the item's marker: lines indented past it belong to it
    node: Node


@dataclass
class _Parser:
    lines: list[str]
    at: int = 0
    out: list[Node] = field(default_factory=list)
    stack: list[_Item] = field(default_factory=list)  # open list items, outermost first
    paragraph: list[str] = field(default_factory=list)

    def blocks(self) -> list[Node]:
        while self.at < len(self.lines):
            self.line(self.lines[self.at])
            self.at += 1
        self.end_paragraph()
        return self.out

    def line(self, line: str) -> None:
        if not line.strip():
            self.end_paragraph()
            return
        if fence := FENCE.match(line):
            self.end_paragraph()
            self.code_block(fence)
            return
        if (item := LIST_ITEM.match(line)) and not DIVIDER.match(line):
            self.end_paragraph()
            self.list_item(item)
            return
        indent = len(line) - len(line.lstrip(" "))
        if self.stack and indent > self.stack[-1].marker and not self.paragraph:
            continued = self.stack[-1].node
            continued["rich_text"] = join_spans(continued["rich_text"], line.strip())
            return
        self.stack.clear()
        if DIVIDER.match(line):
            self.end_paragraph()
            self.out.append({"type": "divider", "children": []})
        elif heading := HEADING.match(line):
            self.end_paragraph()
            level = min(len(heading.group(1)), 3)
            self.out.append(text_node(f"heading_{level}", heading.group(2)))
        elif quote := QUOTE.match(line):
            self.end_paragraph()
            self.quote(quote.group(1))
        else:
            self.paragraph.append(line.strip())

    def end_paragraph(self) -> None:
        if self.paragraph:
            self.out.append(text_node("paragraph", "\n".join(self.paragraph)))
            self.paragraph = []

    def code_block(self, fence: re.Match[str]) -> None:
        marker, body, indent = fence.group(2), [], len(fence.group(1))
        self.at += 1
        while self.at < len(self.lines) and not self.lines[self.at].strip().startswith(marker):
            line = self.lines[self.at]
            body.append(line[min(indent, len(line) - len(line.lstrip(" "))) :])  # the fence's indentation is not code
            self.at += 1
        node: Node = {
            "type": "code",
            "rich_text": plain_spans("\n".join(body)),
            "language": language_name(fence.group(3)),
            "children": [],
        }
        self.attach(node, len(fence.group(1)))

    def quote(self, first: str) -> None:
        lines = [first.rstrip()]
        while self.at + 1 < len(self.lines) and (more := QUOTE.match(self.lines[self.at + 1])):
            lines.append(more.group(1).rstrip())
            self.at += 1
        self.out.append(text_node("quote", "\n".join(lines).strip("\n")))

    def list_item(self, item: re.Match[str]) -> None:
        indent, marker, text = len(item.group(1)), item.group(2), item.group(3).rstrip()
        kind = "numbered_list_item" if marker[0].isdigit() else "bulleted_list_item"
        node: Node
        todo = TODO.match(text) if kind == "bulleted_list_item" else None
        if todo:
            node = text_node("to_do", todo.group(2))
            node["checked"] = todo.group(1) != " "
        else:
            node = text_node(kind, text)
        self.attach(node, indent)
        self.stack.append(_Item(marker=indent, node=node))

    def attach(self, node: Node, indent: int) -> None:
        """Under the innermost open list item whose marker the line is indented past, else at the top."""
        while self.stack and indent <= self.stack[-1].marker:
            self.stack.pop()
        if self.stack:
            self.stack[-1].node["children"].append(node)
        else:
            self.out.append(node)


def text_node(kind: str, text: str) -> Node:
    return {"type": kind, "rich_text": parse_inline(text), "children": []}


def plain_spans(text: str) -> list[Span]:
    return [{"text": text}] if text else []


def join_spans(spans: list[Span], line: str) -> list[Span]:
    return merge_spans([*spans, {"text": "\n"}, *parse_inline(line)])


# ── inline ───────────────────────────────────────────────────────────────────────────────────────


def parse_inline(text: str) -> list[Span]:
    """Spans of one block's text: bold, italic, code, strikethrough and links; the rest plain."""
    return merge_spans(_inline(text, frozenset(), None))


def _inline(text: str, marks: frozenset[str], link: str | None) -> list[Span]:
    out: list[Span] = []
    plain: list[str] = []
    i = 0

    def flush() -> None:
        if plain:
            out.append(span("".join(plain), marks, link))
            plain.clear()

    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text) and text[i + 1] in ESCAPABLE:
            plain.append(text[i + 1])
            i += 2
            continue
        if c == "`":
            end = text.find("`", i + 1)
            if end > i + 1:
                flush()
                out.append(span(text[i + 1 : end], marks | {"code"}, link))
                i = end + 1
                continue
        if c == "[" and link is None:
            found = link_at(text, i)
            if found is not None:
                flush()
                label, url, i = found
                out += _inline(label, marks, url)
                continue
        for delim, mark in (("**", "bold"), ("__", "bold"), ("~~", "strikethrough"), ("*", "italic"), ("_", "italic")):
            if text.startswith(delim, i) and opens(text, i, delim):
                close = closing(text, i + len(delim), delim)
                if close is not None:
                    flush()
                    out += _inline(text[i + len(delim) : close], marks | {mark}, link)
                    i = close + len(delim)
                    break
        else:
            plain.append(c)
            i += 1
    flush()
    return out


def opens(text: str, i: int, delim: str) -> bool:
    after = text[i + len(delim) : i + len(delim) + 1]
    if not after or after.isspace():
        return False
    # `snake_case_name` is a word, not emphasis
    return not (delim[0] == "_" and i > 0 and text[i - 1].isalnum())


def closing(text: str, start: int, delim: str) -> int | None:
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == "`":
            end = text.find("`", i + 1)
            i = end + 1 if end > i else i + 1
            continue
        if text.startswith(delim, i) and not text[i - 1].isspace() and i > start:
            if len(delim) == 1 and text.startswith(delim * 2, i):
                # `**` inside `*…*`: skip the pair (bold within italic)
                inner = closing(text, i + 2, delim * 2)
                if inner is not None:
                    i = inner + 2
                    continue
            if delim[0] == "_" and i + len(delim) < len(text) and text[i + len(delim)].isalnum():
                i += 1
                continue
            return i
        i += 1
    return None


def link_at(text: str, i: int) -> tuple[str, str, int] | None:
    """(label, url, index after the link) of `[label](url)` starting at i."""
    depth, j = 0, i
    while j < len(text):
        if text[j] == "\\":
            j += 2
            continue
        if text[j] == "[":
            depth += 1
        elif text[j] == "]":
            depth -= 1
            if depth == 0:
                break
        j += 1
    if j >= len(text) or not text.startswith("(", j + 1):
        return None
    end = text.find(")", j + 2)
    url = text[j + 2 : end].strip() if end > 0 else ""
    if not url or " " in url:
        return None
    return text[i + 1 : j], url, end + 1


def span(text: str, marks: frozenset[str] | set[str], link: str | None) -> Span:
    out: Span = {"text": text}
    if marks:
        out["marks"] = sorted(marks)
    if link:
        out["link"] = link
    return out


def merge_spans(spans: list[Span]) -> list[Span]:
    """Adjacent spans that look the same become one (Notion may split or join them as it likes)."""
    out: list[Span] = []
    for s in spans:
        if not s["text"]:
            continue
        if out and same_look(out[-1], s):
            out[-1] = {**out[-1], "text": out[-1]["text"] + s["text"]}
        else:
            out.append(dict(s))
    return out


def same_look(a: Span, b: Span) -> bool:
    return a.get("marks") == b.get("marks") and a.get("link") == b.get("link")
