"""`reconcile validate`: the config, its environment and (with NOTION_TOKEN set) the live schemas."""

from __future__ import annotations

import os

import click

from reconcile.commands.common import CONFIG_OPTION, command_verbose, http_logger, verbose_option
from reconcile.config import load_config
from reconcile.run import open_gateway, schema_warnings

__all__ = ["validate"]


@click.command()
@CONFIG_OPTION
@verbose_option(command_verbose)
def validate(config_path: str) -> None:
    """Check the config, its environment and (with NOTION_TOKEN set) the live Notion schemas.

    With NOTION_TOKEN the source is read too (never a Notion page), and every value it maps is
    checked against its property's live type.

    \b
    Example:
      reconcile validate -c mappings.yaml
    """
    config = load_config(config_path, os.environ)
    resources = sum(len(j.resources) for j in config.jobs)
    click.echo(f"{config_path}: valid ({len(config.jobs)} job(s), {resources} resource(s)).")
    if not config.notion.token:
        click.echo("Notion not checked: NOTION_TOKEN is not set.")
        return
    warnings = schema_warnings(config, open_gateway(config, logger=http_logger()))
    for diag in warnings:
        click.echo(f"warning: {diag.message}")
    click.echo(f"Notion: every mapped property exists with a compatible type ({len(warnings)} warning(s)).")
