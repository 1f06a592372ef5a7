"""`reconcile split-markdown FILE --out-dir DIR`: cut a Markdown plan into PR-comment-sized parts.

GitHub refuses comments over 65,535 characters; a big plan is posted as several comments. The
cutting itself is `reconcile.render.split` (on section and line boundaries; tables keep their header).
"""

from __future__ import annotations

from pathlib import Path

import click

from reconcile.commands.common import EXIT_ERROR, Abort
from reconcile.render.split import GITHUB_COMMENT_LIMIT, split_markdown

__all__ = ["GITHUB_COMMENT_LIMIT", "split_markdown_command"]


@click.command("split-markdown")
@click.argument("markdown_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--out-dir", required=True, type=click.Path(file_okay=False), help="Where to write part-N.md files.")
@click.option(
    "--limit",
    type=click.IntRange(min=1000),
    default=GITHUB_COMMENT_LIMIT,
    show_default=True,
    help="Maximum characters per part (GitHub's comment limit).",
)
def split_markdown_command(markdown_file: str, out_dir: str, limit: int) -> None:
    """Split a Markdown plan into parts that each fit one GitHub comment; print their paths.

    \b
    Example:
      reconcile plan --format markdown > plan.md
      reconcile split-markdown plan.md --out-dir comment-parts
      for f in comment-parts/part-*.md; do gh pr comment "$PR" --body-file "$f"; done

    A table cut in two repeats its header rows in the next part; an empty file writes no part.
    """
    text = Path(markdown_file).read_text(encoding="utf-8")
    target = Path(out_dir)
    target.mkdir(parents=True, exist_ok=True)
    for stale in target.glob("part-*.md"):
        stale.unlink()
    parts = split_markdown(text, limit=limit)
    if not parts:
        click.echo(f"Error: {markdown_file} is empty: there is nothing to post (a comment cannot be empty)", err=True)
        raise Abort(EXIT_ERROR)
    width = len(str(len(parts)))
    for i, part in enumerate(parts, start=1):
        path = target / f"part-{i:0{width}d}.md"
        path.write_text(part, encoding="utf-8")
        click.echo(str(path))
