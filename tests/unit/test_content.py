"""Markdown → nodes → Notion blocks: the subset, Notion's limits (2,000 UTF-16 units per rich-text
item split between words, 100 blocks per call, two levels of nesting per request), the round trip
through the Markdown the plan shows, and the block calls between two bodies."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconcile.content.blocks import MAX_TEXT_UNITS, block_request, body_hash, fits, node_of, split_text, utf16_units
from reconcile.content.diff import body_ops, create_ops, same_body
from reconcile.content.markdown import parse_markdown
from reconcile.content.text import to_markdown

SAMPLE = """# One
## Two
#### Four becomes three

A paragraph with **bold**, *italic*, `code`, ~~gone~~ and [a link](https://example.org/x).
Its second line.

- item
  - nested
    1. numbered inside
- [ ] to do
- [x] done

> quoted
> twice

***

```py
x = 1
```
"""


def kinds(nodes: list[dict[str, Any]]) -> list[str]:
    return [n["type"] for n in nodes]


def test_the_markdown_subset_becomes_these_blocks() -> None:
    nodes = parse_markdown(SAMPLE)
    assert kinds(nodes) == [
        "heading_1", "heading_2", "heading_3", "paragraph", "bulleted_list_item", "to_do", "to_do", "quote",
        "divider", "code",
    ]  # fmt: skip
    paragraph = nodes[3]["rich_text"]
    assert {"text": "bold", "marks": ["bold"]} in paragraph
    assert {"text": "italic", "marks": ["italic"]} in paragraph
    assert {"text": "code", "marks": ["code"]} in paragraph
    assert {"text": "gone", "marks": ["strikethrough"]} in paragraph
    assert {"text": "a link", "link": "https://example.org/x"} in paragraph
    assert paragraph[-1]["text"].endswith("\nIts second line.")
    item = nodes[4]
    assert kinds(item["children"]) == ["bulleted_list_item"]
    assert kinds(item["children"][0]["children"]) == ["numbered_list_item"]
    assert [n.get("checked") for n in nodes[5:7]] == [False, True]
    assert nodes[7]["rich_text"] == [{"text": "quoted\ntwice"}]
    assert nodes[9]["language"] == "python" and nodes[9]["rich_text"] == [{"text": "x = 1"}]


@pytest.mark.parametrize(
    "text",
    [
        SAMPLE,
        "snake_case_name and 2 * 3 * 4 stay text",
        "\\# not a heading\n\n1\\. not a list",
        "**bold *and italic* inside**",
        "",
        "```ascii art\n+--+\n```",
    ],
)
def test_the_markdown_the_plan_shows_reads_back_to_the_same_body(text: str) -> None:
    nodes = parse_markdown(text)
    assert parse_markdown(to_markdown(nodes)) == nodes


def test_words_stay_whole_when_text_is_split_at_2000_utf16_units() -> None:
    words = " ".join(["naïve"] * 900)
    pieces = split_text(words)
    assert "".join(pieces) == words
    assert all(utf16_units(p) <= MAX_TEXT_UNITS for p in pieces)
    assert all(p.endswith(" ") for p in pieces[:-1])


def test_a_line_break_is_the_preferred_place_to_split() -> None:
    text = "a" * 1500 + "\n" + "b " * 400
    assert split_text(text)[0] == "a" * 1500 + "\n"


def test_units_are_utf16_so_emoji_count_twice_and_are_never_cut_in_half() -> None:
    text = "😀" * 1500  # 3,000 units, no space: a "word" longer than the limit is cut between code points
    pieces = split_text(text)
    assert [utf16_units(p) for p in pieces] == [2000, 1000]
    assert "".join(pieces) == text


def test_a_block_request_carries_at_most_two_levels_of_children() -> None:
    nodes = parse_markdown("- 1\n  - 2\n    - 3\n      - 4\n")
    assert not fits(nodes[0])
    assert fits(nodes[0]["children"][0])
    ops = create_ops(nodes)
    # Too deep for the create: appended, its children in a call of their own under "@0.0"
    assert [(op["op"], op.get("parent")) for op in ops] == [("append", ""), ("append", "@0.0")]
    assert "children" not in ops[0]["children"][0]["bulleted_list_item"]
    nested = ops[1]["children"][0]["bulleted_list_item"]["children"][0]["bulleted_list_item"]["children"]
    assert nested[0]["bulleted_list_item"]["rich_text"][0]["text"]["content"] == "4"


def test_more_than_100_blocks_go_100_per_call_after_the_create() -> None:
    nodes = parse_markdown("\n\n".join(f"p{i}" for i in range(250)))
    ops = create_ops(nodes)
    assert [(op["op"], len(op["children"])) for op in ops] == [("with_create", 100), ("append", 100), ("append", 50)]
    assert [op.get("after") for op in ops[1:]] == [None, "@1.99"]


def test_a_long_paragraph_is_one_block_of_several_rich_text_items() -> None:
    request = block_request(parse_markdown("word " * 1000)[0])
    items = request["paragraph"]["rich_text"]
    assert len(items) == 3 and all(len(i["text"]["content"]) <= 2000 for i in items)


def read_back(nodes: list[dict[str, Any]], prefix: str = "b") -> list[dict[str, Any]]:
    """Nodes as Notion would send them back (with ids), through the JSON Notion answers."""
    out = []
    for i, n in enumerate(nodes):
        request = block_request(n, with_children=False)
        kind = request["type"]
        content = request[kind]
        for item in content.get("rich_text", []):
            item["plain_text"] = item["text"]["content"]
        block = {"id": f"{prefix}{i}", "type": kind, kind: content}
        node = node_of(block)
        node["children"] = read_back(n.get("children") or [], f"{prefix}{i}.")
        out.append(node)
    return out


def test_equal_bodies_need_no_call_and_hash_alike() -> None:
    desired = parse_markdown(SAMPLE)
    current = read_back(desired)
    assert same_body(current, desired)
    assert body_ops(current, desired) == []
    assert body_hash(desired) == body_hash(current)
    assert body_hash(desired) != body_hash(parse_markdown(SAMPLE + "\nmore"))


@pytest.mark.parametrize(
    ("before", "after", "calls"),
    [
        ("a\n\nb\n\nc", "a\n\nB\n\nc", [("update", "b1")]),
        ("a\n\nb\n\nc", "a\n\nc", [("delete", "b1")]),
        ("a\n\nc", "a\n\nb\n\nc", [("append", "b0")]),
        ("b\n\nc", "a\n\nb\n\nc", [("append", "start")]),
        ("a\n\nb", "a\n\n# b", [("delete", "b1"), ("append", "b0")]),
        ("- x\n  - y", "- x\n  - z", [("update", "b0.0")]),
        ("- x", "- x\n  - y", [("append", None)]),
        ("- [ ] x", "- [x] x", [("update", "b0")]),
    ],
)
def test_the_fewest_calls_between_two_bodies(before: str, after: str, calls: list[tuple[str, str | None]]) -> None:
    ops = body_ops(read_back(parse_markdown(before)), parse_markdown(after))
    assert [(op["op"], op.get("block", op.get("after"))) for op in ops] == calls


def test_pages_and_databases_inside_a_page_are_left_alone() -> None:
    current = [*read_back(parse_markdown("a")), {"id": "cp", "type": "child_page", "opaque": True, "children": []}]
    assert same_body(current, parse_markdown("a"))
    assert body_ops(current, parse_markdown("b")) == [
        {
            "op": "update",
            "block": "b0",
            "body": {"paragraph": {"rich_text": [{"type": "text", "text": {"content": "b"}}]}},
        }
    ]


def test_a_fence_language_notion_does_not_know_is_plain_text() -> None:
    assert [parse_markdown(f"```{lang}\nx\n```")[0]["language"] for lang in ("py", "brainfuck", "")] == [
        "python",
        "plain text",
        "plain text",
    ]


MARKDOWNISH = st.sampled_from(
    [*"ab *_~[]()#>-+1.\\\n x", "`x`", "**", "- ", "1. ", "  ", "```", "\n\n", "[a](https://x.y)", "- [ ] ", "> "]
)


@pytest.mark.slow
@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(MARKDOWNISH, max_size=30).map("".join))
def test_any_body_reads_back_from_the_markdown_the_plan_shows(markdown: str) -> None:
    once = parse_markdown(markdown)
    assert parse_markdown(to_markdown(once)) == once
