"""`reconcile show PLANFILE`: a saved plan, as text, Markdown or JSON."""

from __future__ import annotations

import click

from reconcile.commands.common import FORMAT_OPTION, render, use_color
from reconcile.planfile import read_plan

__all__ = ["show"]


@click.command()
@click.argument("planfile", type=click.Path(dir_okay=False))
@FORMAT_OPTION
@click.option("--redact", is_flag=True, help="Hide property values.")
def show(planfile: str, fmt: str, redact: bool) -> None:
    """Show a saved plan.

    \b
    Example:
      reconcile show planx.plan.json --format markdown
    """
    click.echo(render(read_plan(planfile), fmt, redact=redact, color=use_color()), nl=False)
