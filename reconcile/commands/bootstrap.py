"""`reconcile bootstrap --parent-page PAGE`: create the Notion databases a config needs (see
reconcile.bootstrap for what is created, and how each property's type is chosen)."""

from __future__ import annotations

import os

import click

from reconcile.bootstrap import create_database, database_plans, placeholder_env, refuse_existing
from reconcile.commands.common import CONFIG_OPTION, http_logger
from reconcile.config import load_config_text, normalise_database_id, read_text
from reconcile.errors import ConfigError
from reconcile.run import open_gateway

__all__ = ["bootstrap"]


def parse_titles(values: tuple[str, ...]) -> dict[str, str]:
    titles = {}
    for value in values:
        resource, sep, title = value.partition("=")
        if not sep or not resource.strip() or not title.strip():
            raise click.BadParameter(f"{value!r}: write RESOURCE=TITLE", param_hint="--title")
        titles[resource.strip()] = title.strip()
    return titles


@click.command()
@click.option("--parent-page", required=True, metavar="PAGE_ID", help="Page (id or URL) to create the databases in.")
@CONFIG_OPTION
@click.option(
    "--title", "titles", multiple=True, metavar="RESOURCE=TITLE", help="Database title for a resource (repeatable)."
)
def bootstrap(parent_page: str, config_path: str, titles: tuple[str, ...]) -> None:
    """Create the Notion databases the config needs, and print the ids to export.

    Only resources whose database is an unset ${VARIABLE} are created; it refuses to create a
    database that already exists under the parent page.

    \b
    Example:
      reconcile bootstrap --parent-page https://www.notion.so/CRM-0123456789abcdef0123456789abcdef
      reconcile bootstrap --parent-page PAGE_ID --title services="Live Services (test)"
    """
    parent = normalise_database_id(parent_page)
    if parent is None:
        raise ConfigError(f"--parent-page {parent_page!r} is not a Notion page id or URL")
    text = read_text(config_path)
    env, missing = placeholder_env(text, os.environ)
    config = load_config_text(text, env, path=config_path)
    plans = database_plans(config, text, missing, parse_titles(titles))
    if not plans:
        click.echo("Nothing to create: every database variable of the config is already set.")
        return
    gateway = open_gateway(config, logger=http_logger())
    refuse_existing(gateway, parent, plans)
    created: dict[str, tuple[str, str]] = {}
    for plan in plans:
        created[plan.resource] = create_database(gateway, parent, plan, created)
        kinds = ", ".join(f"{n} ({k})" for n, k in plan.properties.items())
        click.echo(f"Created {plan.title!r} for {plan.resource}: {kinds}", err=True)
    click.echo("\n# Set these in your environment (or as repository variables in CI):", err=True)
    for plan in plans:
        click.echo(f"export {plan.variable}={created[plan.resource][0]}")
