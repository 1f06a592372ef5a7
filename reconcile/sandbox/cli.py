"""`reconcile sandbox ...` commands (the sandbox owns this module)."""

from __future__ import annotations

import click


@click.group()
def sandbox() -> None:
    """Run the local Notion-compatible sandbox and PlanX stand-in."""
