"""`reconcile split-markdown`: every part a table continues into starts with its header; no empty part."""

from __future__ import annotations

from pathlib import Path

from tests.support.common import run

HEADER = "| | Action | Key | Changes | Why |\n|:-:|---|---|---|---|\n"


def test_a_big_table_is_cut_into_parts_that_each_render_as_a_table(tmp_path: Path) -> None:
    rows = "".join(f"| `+` | create | `council-{i}` | Name: `Council {i}` | new in the source |\n" for i in range(400))
    plan = tmp_path / "plan.md"
    plan.write_text(f"## Reconcile plan\n\n### services\n\n{HEADER}{rows}", encoding="utf-8")
    out = run("split-markdown", str(plan), "--out-dir", str(tmp_path / "parts"), "--limit", "8000")
    assert out.exit_code == 0, out.output
    parts = sorted((tmp_path / "parts").glob("part-*.md"))
    assert len(parts) > 3 and out.output.split() == [str(p) for p in parts]
    bodies = [p.read_text(encoding="utf-8").split("\n\n", 1)[1] for p in parts]  # after "(part i/n)"
    continued = [b for b in bodies if not b.startswith("#")]
    assert len(continued) >= 2 and all(b.startswith(HEADER) for b in continued)
    all_rows = [line for p in parts for line in p.read_text(encoding="utf-8").splitlines() if "`council-" in line]
    assert all_rows == rows.splitlines()


def test_an_empty_plan_writes_no_part_and_says_why(tmp_path: Path) -> None:
    empty = tmp_path / "plan.md"
    empty.write_text("\n", encoding="utf-8")
    out = run("split-markdown", str(empty), "--out-dir", str(tmp_path / "parts"))
    assert out.exit_code == 1
    assert out.stderr.strip() == f"Error: {empty} is empty: there is nothing to post (a comment cannot be empty)"
    assert list((tmp_path / "parts").glob("*")) == []
