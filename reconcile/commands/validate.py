"""`reconcile validate`: the config, its environment and (with NOTION_TOKEN set) the live schemas;
with --offline, every problem of each file with no environment and no network (a pre-commit hook)."""

from __future__ import annotations

import os

import click

from reconcile.commands.common import CONFIG_OPTION, EXIT_ERROR, Abort, command_verbose, http_logger, verbose_option
from reconcile.config import load_config, read_text
from reconcile.errors import ConfigError
from reconcile.offline import Problem, check_text
from reconcile.run import open_gateway, schema_warnings

__all__ = ["validate"]


@click.command()
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
@CONFIG_OPTION
@click.option(
    "--offline",
    is_flag=True,
    help="Check only the files: no environment, no network; every problem at once, as file:line:column.",
)
@verbose_option(command_verbose)
def validate(files: tuple[str, ...], config_path: str, offline: bool) -> None:
    """Check the config, its environment and (with NOTION_TOKEN set) the live Notion schemas.

    With NOTION_TOKEN the source is read too (never a Notion page), and every value it maps is
    checked against its property's live type. With --offline, check FILES (default: the config)
    against the schema and the loader's rules without reading the environment or the network,
    reporting every problem of each file.

    \b
    Example:
      reconcile validate -c mappings.yaml
      reconcile validate --offline mappings.yaml examples/*.yaml
    """
    if offline:
        validate_offline(files or (config_path,))
        return
    if files:
        raise click.UsageError("FILES are checked with --offline; without it, name the config with -c FILE")
    config = load_config(config_path, os.environ)
    resources = sum(len(j.resources) for j in config.jobs)
    for problem in check_text(read_text(config_path), config_path):
        if problem.severity == "warning":
            click.echo(f"warning: {problem.path}: {problem.message}")
    counted = f"{len(config.jobs)} job(s), {resources} resource(s)"
    if not config.notion.token:
        click.echo(f"{config_path}: valid ({counted}); Notion not checked: NOTION_TOKEN is not set.")
        return
    # One verdict for the config and the live schemas together: a schema problem raises before it.
    warnings = schema_warnings(config, open_gateway(config, logger=http_logger()))
    for diag in warnings:
        click.echo(f"warning: {diag.message}")
    click.echo(
        f"{config_path}: valid ({counted}); Notion: every mapped property exists with a compatible type, "
        f"or the declared schema adds it ({len(warnings)} warning(s))."
    )


def validate_offline(files: tuple[str, ...]) -> None:
    """Each problem on its own line; exit 1 when any file has an error (warnings alone pass)."""
    problems: list[Problem] = []
    for file in files:
        try:
            found = check_text(read_text(file), file)
        except ConfigError as exc:  # unreadable: missing, a directory, not UTF-8, too big
            found = [Problem(1, 1, "top level", exc.message.removeprefix(f"{file}: "), file)]
        problems += found
    for problem in problems:
        click.echo(str(problem), err=problem.severity == "error")
    errors = sum(1 for p in problems if p.severity == "error")
    warnings = len(problems) - errors
    click.echo(f"{len(files)} file(s) checked offline: {errors} error(s), {warnings} warning(s).")
    if errors:
        raise Abort(EXIT_ERROR)
