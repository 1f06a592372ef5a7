"""Command-line interface (placeholder wiring; commands are added as stages land)."""

from __future__ import annotations

import click

from reconcile import __version__
from reconcile.sandbox.cli import sandbox


@click.group()
@click.version_option(__version__, prog_name="reconcile")
def main() -> None:
    """Keep Notion databases in sync with GraphQL and HTTP sources: plan, then apply."""


main.add_command(sandbox)
