"""Cut a Markdown text into parts that each fit one GitHub comment, every part readable on its own.

Cuts fall before a heading or a <details> block where the sections fit, else between lines, and
only inside a line when one line alone is too long. A code block that has to be cut is closed at
the end of one part and reopened at the start of the next; a table that has to be cut repeats its
header row and delimiter row at the start of the next part, since GitHub renders bare rows as
text. An empty text has no parts (a comment cannot be empty).
"""

from __future__ import annotations

import re
from itertools import pairwise

GITHUB_COMMENT_LIMIT = 65535
SECTION_START = re.compile(r"#{1,6} |<details>")
FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}(?=[^`\n]*$)|~{3,})[^\n]*", re.MULTILINE)
TABLE_ROW = re.compile(r"^ {0,3}\|")
TABLE_DELIMITER = re.compile(r"^ {0,3}\|?(\s*:?-+:?\s*\|)+\s*:?-*:?\s*\n?$")

Fence = tuple[str, str]  # (opening line, closing marker) of an open code block
Table = tuple[str, str]  # (header row, delimiter row) of the table being read

__all__ = ["GITHUB_COMMENT_LIMIT", "split_markdown"]


def split_markdown(text: str, limit: int = GITHUB_COMMENT_LIMIT) -> list[str]:
    """Parts of at most `limit` characters, each but a lone one marked "(part i/n)"; none for ""."""
    if not text.strip():
        return []
    if len(text) <= limit:
        return [text]
    n = 2
    while True:
        budget = limit - len(part_marker(n, n))
        if budget < 1:
            raise ValueError(f"limit {limit} is too small to hold a part marker")
        pieces = pack(sections(text), budget)
        if len(str(len(pieces))) <= len(str(n)):
            return [part_marker(i, len(pieces)) + p for i, p in enumerate(pieces, 1)]
        n = len(pieces)


def part_marker(i: int, n: int) -> str:
    return f"*(part {i}/{n})*\n\n"


def sections(text: str) -> list[str]:
    """The text cut before each heading and <details> block outside code; lines keep their ends."""
    out: list[str] = []
    fence: Fence | None = None
    for line in text.splitlines(keepends=True):
        if not out or (fence is None and SECTION_START.match(line)):
            out.append(line)
        else:
            out[-1] += line
        fence = fence_after(line, fence)
    return out


def pack(units: list[str], budget: int) -> list[str]:
    """Greedy: whole sections while they fit; a section too big for one chunk is cut by lines."""
    chunks: list[str] = []
    current = ""
    for unit in units:
        if len(unit) > budget:
            if current:
                chunks.append(current)
            *full, current = split_section(unit, budget)
            chunks += full
            continue
        if current and len(current) + len(unit) > budget:
            chunks.append(current)
            current = ""
        current += unit
    if current:
        chunks.append(current)
    return chunks


def split_section(section: str, budget: int) -> list[str]:
    """Line by line, carrying an open code block or table over the cut so both halves render."""
    fence_room, table_room = carry_reserve(section, budget)
    pieces: list[str] = []
    current = ""
    fence: Fence | None = None
    table: Table | None = None
    previous = ""
    for piece, starts_line in line_pieces(section, budget - fence_room - table_room):
        after = fence_after(piece, fence) if starts_line and fence_room else fence
        needed = len(current) + len(piece) + (len(after[1]) + 2 if after else 0)
        if current and needed > budget:
            carried = ""
            if table_room and starts_line and fence is None and header_left_behind(current, previous, piece):
                current, carried = current[: -len(previous)], previous  # a header goes with its table
            if fence:
                current += ("" if current.endswith("\n") else "\n") + fence[1] + "\n"
            pieces.append(current)
            current = (fence[0] if fence else "") + carried
            if table and table_room and starts_line and TABLE_ROW.match(piece):
                current += table[0] + table[1]
        current += piece
        if starts_line:
            table = table_after(previous, piece, table, fence)
            previous = piece
        fence = after
    pieces.append(current)
    return pieces


def carry_reserve(section: str, budget: int) -> tuple[int, int]:
    """Room for what a cut must repeat: a fence pair, a table header; 0 when the budget is too small.

    When a part is too small to repeat these and still hold some text, cut plainly rather than overflow.
    """
    longest_fence = max((len(m.group(0)) for m in FENCE_OPEN.finditer(section)), default=0)
    fence = 0 if not longest_fence or 3 * longest_fence + 5 > budget else 2 * longest_fence + 4
    lines = section.splitlines(keepends=True)
    header = max((len(a) + len(b) for a, b in pairwise(lines) if is_table_start(a, b)), default=0)
    table = 0 if not header or fence + 2 * header + 5 > budget else header
    return fence, table


def header_left_behind(current: str, previous: str, line: str) -> bool:
    return is_table_start(previous, line) and current.endswith(previous) and len(current) > len(previous)


def is_table_start(header: str, delimiter: str) -> bool:
    return bool(TABLE_ROW.match(header)) and bool(TABLE_DELIMITER.match(delimiter))


def table_after(previous: str, line: str, table: Table | None, fence: Fence | None) -> Table | None:
    """The table being read after `line`: begun by its delimiter row, ended by a line that is no row."""
    if fence is not None:
        return None
    if table is None:
        return (previous, line) if is_table_start(previous, line) else None
    return table if TABLE_ROW.match(line) else None


def line_pieces(section: str, width: int) -> list[tuple[str, bool]]:
    """The section's lines (with their ends), a line longer than `width` in several pieces."""
    out = []
    for line in section.splitlines(keepends=True):
        out += [(line[i : i + width], i == 0) for i in range(0, len(line), width)]
    return out


def fence_after(line: str, fence: Fence | None) -> Fence | None:
    """The open code block after `line`: opened, closed, or as it was."""
    if fence is None:
        match = FENCE_OPEN.match(line)
        if match is None:
            return None
        opening = line if line.endswith("\n") else line + "\n"
        return opening, match.group(1)
    marker = fence[1]
    if re.fullmatch(rf" {{0,3}}{re.escape(marker[0])}{{{len(marker)},}}[ \t]*\n?", line):
        return None
    return fence
