"""Block requests: the shapes Notion's validator accepts for appended and updated blocks, and their stored content.

An appended block is one alternative of a union keyed by its type (``{"paragraph": {...}}``, optionally with
``"type": "paragraph"`` and ``"object": "block"``). Notion picks the alternative its ``type`` names (or, without
one, the block-type key present) and reports that alternative's failure alone (``body.children[1].children should be
not present``); when no key names a block type it answers ``Fix one:`` with a line per alternative. Blocks nest at
most two levels below the request's ``children``: a third level may not have ``children`` (official document:
``blockObjectRequest`` → ``blockObjectWithSingleLevelOfChildrenRequest`` → ``blockObjectRequestWithoutChildren``).

A parsed block is a node ``{"type", "content", "children": [node, ...]}`` whose content is what Notion returns under
the type key (``{"rich_text": [...], "color": "default"}`` ...).
"""

from __future__ import annotations

from typing import Any

from notion_sandbox.errors import (
    UNDEFINED,
    body_invalid,
    fix_one,
    not_present,
    one_of,
    too_long,
    undefined,
    validation,
)
from notion_sandbox.text import MAX_ARRAY, TEXT_COLORS, rich_text_items

# The block types of the official document, in its order, per nesting level (the validator lists them so).
LEVEL_1 = (
    "embed", "bookmark", "image", "video", "pdf", "file", "audio", "code", "equation", "divider", "breadcrumb",
    "table_of_contents", "link_to_page", "table_row", "table", "column_list", "column", "heading_1", "heading_2",
    "heading_3", "paragraph", "bulleted_list_item", "numbered_list_item", "quote", "to_do", "toggle", "template",
    "callout", "synced_block",
)  # fmt: skip
LEVEL_3 = tuple(t for t in LEVEL_1 if t not in ("table", "column_list", "column"))
LEVEL_2 = (*LEVEL_3[: LEVEL_3.index("to_do")], "table", *LEVEL_3[LEVEL_3.index("to_do") :])
LEVELS = {1: LEVEL_1, 2: LEVEL_2, 3: LEVEL_3}
UPDATABLE = (*(t for t in LEVEL_3 if t not in ("column",)), "table", "column")

# What the sandbox stores: the blocks a Markdown body is made of.
TEXT_BLOCKS = ("paragraph", "bulleted_list_item", "numbered_list_item", "quote", "toggle")
HEADINGS = ("heading_1", "heading_2", "heading_3")
MODELLED = TEXT_BLOCKS + HEADINGS + ("to_do", "code", "divider")
# Blocks that may hold children (a heading only when it is toggleable).
PARENT_BLOCKS = TEXT_BLOCKS + HEADINGS + ("to_do",)
MAX_ELEMENTS = 1000

LANGUAGES = (
    "abap", "abc", "agda", "arduino", "ascii art", "assembly", "bash", "basic", "bnf", "c", "c#", "c++", "clojure",
    "coffeescript", "coq", "css", "dart", "dhall", "diff", "docker", "ebnf", "elixir", "elm", "erlang", "f#", "flow",
    "fortran", "gherkin", "glsl", "go", "graphql", "groovy", "haskell", "hcl", "html", "idris", "java", "javascript",
    "json", "julia", "kotlin", "latex", "less", "lisp", "livescript", "llvm ir", "lua", "makefile", "markdown",
    "markup", "matlab", "mathematica", "mermaid", "nix", "notion formula", "objective-c", "ocaml", "pascal", "perl",
    "php", "plain text", "powershell", "prolog", "protobuf", "purescript", "python", "r", "racket", "reason", "ruby",
    "rust", "sass", "scala", "scheme", "scss", "shell", "smalltalk", "solidity", "sql", "swift", "toml",
    "typescript", "vb.net", "verilog", "vhdl", "visual basic", "webassembly", "xml", "yaml", "java/c/c++/c#",
)  # fmt: skip


def content_keys(kind: str, with_children: bool) -> tuple[str, ...]:
    """The keys a block's type object may hold (``children`` only where nesting is still allowed)."""
    if kind == "divider":
        return ()
    if kind == "code":
        return ("rich_text", "language", "caption")
    keys: tuple[str, ...] = ("rich_text", "color")
    if kind in HEADINGS:
        keys += ("is_toggleable",)
    if kind == "to_do":
        keys += ("checked",)
    return keys + (("children",) if with_children else ())


def required_keys(kind: str, update: bool) -> tuple[str, ...]:
    if kind == "divider" or (update and kind in ("to_do", "code")):
        return ()
    if kind == "code":
        return ("rich_text", "language")
    return ("rich_text",)


def block_kind(raw: dict[str, Any], names: tuple[str, ...]) -> str | None:
    """The alternative Notion validates a block against: its ``type``, else the first block-type key present."""
    declared = raw.get("type")
    if isinstance(declared, str) and declared in names:
        return declared
    return next((key for key in raw if key in names), None)


def refuse_unmodelled(kind: str, path: str) -> None:
    if kind not in MODELLED:
        raise validation(
            f"{path}: notion_sandbox does not store {kind} blocks (it stores {', '.join(MODELLED)}); "
            "real Notion accepts them."
        )


# ---------------------------------------------------------------- appended blocks (children)


def parse_children(value: Any, path: str, level: int = 1) -> list[dict[str, Any]]:
    """A request ``children`` array → block nodes (checked whole before anything is stored)."""
    if value is UNDEFINED:
        raise undefined(path)
    if not isinstance(value, list):
        raise body_invalid(path, "an array", value)
    if len(value) > MAX_ARRAY:
        raise too_long(path, MAX_ARRAY, len(value))
    nodes = [parse_block(item, f"{path}[{i}]", level) for i, item in enumerate(value)]
    if level == 1:
        count = count_nodes(nodes)
        if count > MAX_ELEMENTS:
            raise validation(
                f"body failed validation: the request holds {count} block elements, at most {MAX_ELEMENTS} are allowed."
            )
    return nodes


def count_nodes(nodes: list[dict[str, Any]]) -> int:
    return sum(1 + count_nodes(node["children"]) for node in nodes)


def parse_block(raw: Any, path: str, level: int) -> dict[str, Any]:
    names = LEVELS[level]
    if not isinstance(raw, dict):
        raise body_invalid(path, "an object", raw)
    kind = block_kind(raw, names)
    if kind is None:
        raise fix_one([undefined(f"{path}.{name}") for name in names])
    if kind not in raw:
        raise undefined(f"{path}.{kind}")
    for key, given in raw.items():
        if key not in (kind, "type", "object"):
            raise not_present(f"{path}.{key}", given)
    if "type" in raw and raw["type"] != kind:
        raise body_invalid(f"{path}.type", f'`"{kind}"` or `undefined`', raw["type"])
    if "object" in raw and raw["object"] != "block":
        raise body_invalid(f"{path}.object", '`"block"` or `undefined`', raw["object"])
    refuse_unmodelled(kind, path)
    content, children = parse_content(kind, raw[kind], f"{path}.{kind}", level < 3, update=False)
    nodes = parse_children(children, f"{path}.{kind}.children", level + 1) if children is not UNDEFINED else []
    if nodes and kind in HEADINGS and not content["is_toggleable"]:
        raise validation(f"{path}.{kind}: only a toggleable heading (is_toggleable: true) can have children.")
    return {"type": kind, "content": content, "children": nodes}


def parse_content(
    kind: str, raw: Any, path: str, with_children: bool, update: bool, current: dict[str, Any] | None = None
) -> tuple[dict[str, Any], Any]:
    """(rendered type object, raw ``children`` or UNDEFINED); an update starts from the block's ``current`` content."""
    if not isinstance(raw, dict):
        raise body_invalid(path, "an object", raw)
    allowed = content_keys(kind, with_children)
    for key, given in raw.items():
        if key not in allowed:
            raise not_present(f"{path}.{key}", given)
    for key in required_keys(kind, update):
        if key not in raw:
            raise undefined(f"{path}.{key}")
    fields = dict(current) if current is not None else default_content(kind)
    for key, given in raw.items():
        if key != "children":
            fields[key] = content_field(key, given, f"{path}.{key}")
    return ordered_content(kind, fields), raw.get("children", UNDEFINED)


def content_field(key: str, given: Any, path: str) -> Any:
    if key in ("rich_text", "caption"):
        return rich_text_items(given, path)
    if key == "color":
        if given not in TEXT_COLORS:
            raise body_invalid(path, one_of(TEXT_COLORS), given)
        return given
    if key == "language":
        if given not in LANGUAGES:
            raise body_invalid(path, one_of(LANGUAGES), given)
        return given
    if not isinstance(given, bool):  # is_toggleable, checked
        raise body_invalid(path, "a boolean or `undefined`", given)
    return given


def default_content(kind: str) -> dict[str, Any]:
    if kind == "divider":
        return {}
    if kind == "code":
        return {"caption": [], "rich_text": [], "language": "plain text"}
    fields: dict[str, Any] = {"rich_text": [], "color": "default"}
    if kind in HEADINGS:
        fields["is_toggleable"] = False
    if kind == "to_do":
        fields["checked"] = False
    return fields


def ordered_content(kind: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The type object in the key order of real responses (recorded: heading rich_text/is_toggleable/color, ...)."""
    if kind == "divider":
        return {}
    if kind == "code":
        order: tuple[str, ...] = ("caption", "rich_text", "language")
    elif kind in HEADINGS:
        order = ("rich_text", "is_toggleable", "color")
    elif kind == "to_do":
        order = ("rich_text", "checked", "color")
    else:
        order = ("rich_text", "color")
    return {key: fields[key] for key in order}


# ---------------------------------------------------------------- block updates


def parse_update(body: dict[str, Any], path: str = "body") -> tuple[str | None, dict[str, Any] | None]:
    """(block type named, its raw type object) of a PATCH /v1/blocks/{id} body; (None, None) for a trash-only body."""
    kind = block_kind(body, UPDATABLE)
    if kind is None:
        for key, given in body.items():
            if key not in ("in_trash", "archived"):
                lines = [not_present(f"{path}.{key}", given)] + [undefined(f"{path}.{name}") for name in UPDATABLE]
                raise fix_one(lines)
        return None, None
    if kind not in body:
        raise undefined(f"{path}.{kind}")
    for key, given in body.items():
        if key not in (kind, "type", "in_trash", "archived"):
            raise not_present(f"{path}.{key}", given)
    if "type" in body and body["type"] != kind:
        raise body_invalid(f"{path}.type", f'`"{kind}"` or `undefined`', body["type"])
    return kind, body[kind]
