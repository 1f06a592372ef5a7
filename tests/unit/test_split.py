"""split_markdown: every part fits, renders on its own (tables keep their header), and none is empty."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from reconcile.render.split import split_markdown

MARKER = re.compile(r"\A\*\(part (\d+)/(\d+)\)\*\n\n")
HEADER = "| | Action | Key | Changes |\n|:-:|---|---|---|\n"


def unmarked(part: str) -> str:
    return MARKER.sub("", part, count=1)


def table(rows: int, prefix: str = "row") -> str:
    return HEADER + "".join(f"| `+` | create | `{prefix}-{i}` | Name: `Council {i}` |\n" for i in range(rows))


def test_a_table_cut_in_two_repeats_its_header_in_the_next_part() -> None:
    text = "## Reconcile plan\n\n### services\n\n" + table(60) + "\nafter the table\n"
    parts = split_markdown(text, 1200)
    assert len(parts) > 2
    for part in parts[1:]:
        body = unmarked(part)
        if body.startswith("|"):
            assert body.startswith(HEADER), body[:80]
    rows = [line for part in parts for line in unmarked(part).splitlines() if line.startswith("| `+`")]
    assert rows == [line for line in text.splitlines() if line.startswith("| `+`")]  # every row once, in order
    assert all(len(p) <= 1200 for p in parts)


def test_an_empty_text_has_no_parts_and_no_part_is_ever_blank() -> None:
    assert split_markdown("") == []
    assert split_markdown("  \n\n") == []
    parts = split_markdown("### a\n\n" + "x\n" * 400 + "\n\n\n\n", 300)
    assert all(unmarked(p).strip() for p in parts)


def test_a_cut_between_a_header_and_its_delimiter_moves_the_header_along() -> None:
    head = "intro line\n" * 5
    for filler in range(0, 40):
        text = head + "y" * filler + "\n" + table(30)
        for part in split_markdown(text, 400):
            body = unmarked(part)
            lines = body.splitlines()
            for i, line in enumerate(lines):
                if re.match(r"^\|:-:\|", line):
                    assert i > 0 and lines[i - 1] == HEADER.splitlines()[0], body


table_lines = st.lists(st.sampled_from(["| `+` | create | `k` | x |", "| a | b | c | d |"]), min_size=1, max_size=40)
blocks = st.lists(
    st.one_of(
        st.just(["### section", ""]),
        table_lines.map(lambda rows: [*HEADER.splitlines(), *rows, ""]),
        st.lists(st.text(alphabet="abc xyz", max_size=50), max_size=5),
    ),
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(parts=blocks, limit=st.integers(min_value=200, max_value=700))
def test_parts_fit_and_join_back_without_the_repeated_headers(parts: list[list[str]], limit: int) -> None:
    text = "\n".join(line for block in parts for line in block) + "\n"
    chunks = split_markdown(text, limit)
    assert all(len(c) <= limit for c in chunks)
    if not text.strip():
        assert chunks == []
        return
    joined = ""
    for i, chunk in enumerate(chunks):
        body = unmarked(chunk) if len(chunks) > 1 else chunk
        if i and body.startswith(HEADER) and not joined.endswith("\n\n") and last_line_is_row(joined):
            body = body[len(HEADER) :]
        joined += body
    assert joined == text


def last_line_is_row(text: str) -> bool:
    lines = text.splitlines()
    return bool(lines) and lines[-1].startswith("|")
