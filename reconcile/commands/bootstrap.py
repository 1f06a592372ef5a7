"""`reconcile bootstrap --parent-page PAGE`: create the Notion databases a config needs (see
reconcile.bootstrap for what is created, and how each property's type is chosen)."""

from __future__ import annotations

import os

import click

from reconcile.bootstrap import Created, create_databases, database_plans, placeholder_env, refuse_existing, unconfirmed
from reconcile.commands.common import CONFIG_OPTION, http_logger
from reconcile.config import load_config_text, normalise_database_id, read_text
from reconcile.errors import ConfigError, NotionError
from reconcile.model import Config
from reconcile.ports import Gateway, PropertySchema
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
    creating = {name for plan in plans for name in plan.resources}
    targets = {t for plan in plans for t in plan.relations.values() if t not in creating}
    made = create_databases(gateway, parent, plans, existing_targets(config, gateway, targets))
    names = {c.data_source_id: c.plan.title for c in made}
    for c in made:
        click.echo(created_line(c, names), err=True)
    click.echo("\n# Set these in your environment (or as repository variables in CI):", err=True)
    for c in made:
        click.echo(f"export {c.plan.variable}={c.database_id}")
    short = [f"{c.plan.title!r}: {', '.join(unconfirmed(c))}" for c in made if unconfirmed(c)]
    if short:
        raise NotionError(
            f"Notion did not create every property asked for: {'; '.join(short)}",
            hint="add them in Notion, or declare them in the resource's schema: and run apply",
        )


def existing_targets(config: Config, gateway: Gateway, names: set[str]) -> dict[str, tuple[str, PropertySchema]]:
    """(data source id, schema) of the relation targets whose database exists already."""
    resources = {r.name: r for job in config.jobs for r in job.resources}
    return {
        n: gateway.resolve(resources[n].database, resources[n].data_source) for n in sorted(names) if n in resources
    }


def created_line(c: Created, names: dict[str, str]) -> str:
    """What Notion says the new database has (read back, not the request)."""
    kinds = ", ".join(f"{name} ({described(prop, names)})" for name, prop in c.properties.items())
    return f"Created {c.plan.title!r} for {', '.join(c.plan.resources)}: {kinds}"


def described(prop: dict[str, object], names: dict[str, str]) -> str:
    kind = str(prop.get("type", ""))
    if kind != "relation":
        return kind
    relation = prop.get("relation")
    config = relation if isinstance(relation, dict) else {}
    dual = config.get("dual_property") if isinstance(config.get("dual_property"), dict) else None
    synced = f", synced with {dual['synced_property_name']!r}" if dual and dual.get("synced_property_name") else ""
    target = str(config.get("data_source_id") or "")
    return f"relation to {names.get(target, target)!r}{synced}"
