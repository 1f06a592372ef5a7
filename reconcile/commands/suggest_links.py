"""`reconcile suggest-links`: show the keys reconcile.links proposes for pages that have none.

Nothing is written unless the user confirms a suggestion (or, with --yes, its score reaches the
threshold); ambiguous and conflicting suggestions are shown and skipped. Confirmed keys are written
as an ordinary plan of `update` actions through reconcile.run.apply_run.
"""

from __future__ import annotations

import os
import sys

import click

from reconcile.commands.common import CONFIG_OPTION, EXIT_ERROR, JOB_OPTION, Abort, http_logger, render, use_color
from reconcile.config import load_config
from reconcile.errors import ReconcileError
from reconcile.links import (
    DEFAULT_THRESHOLD,
    Suggestion,
    candidates_for,
    suggest,
    suggestions_plan,
    unkeyed_pages,
)
from reconcile.model import Config, Job, ResourceConfig
from reconcile.ports import Gateway
from reconcile.run import apply_run, desired_state, now_utc, open_gateway, selected_jobs

__all__ = ["choose", "suggest_links", "suggestion_table"]


# ── the command ──────────────────────────────────────────────────────────────────────────────────


def suggestion_table(suggestions: list[Suggestion], match_property: str) -> str:
    rows = [("Page", f"Proposed {match_property}", "Matched name", "Score", "Status")]
    for s in suggestions:
        status = f"ambiguous (or {s.runner_up})" if s.status == "ambiguous" else s.status
        rows.append((s.page.title or "(untitled)", s.key or "-", s.matched_name or "-", f"{s.score:.2f}", status))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def choose(suggestions: list[Suggestion], *, yes: bool, threshold: float) -> list[Suggestion]:
    """The suggestions to write: with --yes those at or above the threshold, else the ones confirmed."""
    eligible = [s for s in suggestions if s.status == "suggested"]
    if yes:
        return [s for s in eligible if s.score >= threshold]
    if eligible and not stdin_is_terminal():
        raise ReconcileError(
            "refusing to write links without confirmation: standard input is not a terminal",
            hint="run it in a terminal, or pass --yes to write the suggestions scoring at least --threshold",
        )
    return [s for s in eligible if click.confirm(f"Set {s.page.title!r} to {s.key!r} (score {s.score:.2f})?")]


@click.command("suggest-links")
@CONFIG_OPTION
@JOB_OPTION
@click.option("--apply", "do_apply", is_flag=True, help="Write the suggestions you confirm, through apply.")
@click.option("--yes", is_flag=True, help="With --apply: write, without asking, those scoring >= --threshold.")
@click.option(
    "--threshold",
    type=click.FloatRange(0.0, 1.0),
    default=DEFAULT_THRESHOLD,
    show_default=True,
    help="Minimum score that --yes accepts.",
)
def suggest_links(config_path: str, jobs: tuple[str, ...], do_apply: bool, yes: bool, threshold: float) -> None:
    """Propose match keys for pages that have none (e.g. a council's ExternalCustomerID).

    Compares each unkeyed page's title with the source's names and shows the best key with a
    score. Nothing is written without --apply; ambiguous names are shown and skipped.

    \b
    Example:
      reconcile suggest-links                       # show the table only
      reconcile suggest-links --apply               # confirm each suggestion
      reconcile suggest-links --apply --yes --threshold 0.9
    """
    config = load_config(config_path, os.environ)
    gateway = open_gateway(config, logger=http_logger())
    found = False
    for job in selected_jobs(config, jobs):
        for resource in [r for r in job.resources if r.mode == "update-only"]:
            found = True
            link_resource(config, gateway, job, resource, do_apply=do_apply, yes=yes, threshold=threshold)
    if not found:
        click.echo("No update-only resource in the selected jobs: every page there is created with its key.")


def link_resource(
    config: Config,
    gateway: Gateway,
    job: Job,
    resource: ResourceConfig,
    *,
    do_apply: bool,
    yes: bool,
    threshold: float,
) -> None:
    schemas = {r.name: gateway.resolve(r.database, r.data_source) for r in job.resources}
    data_source_id, schema = schemas[resource.name]
    desired = desired_state(job, gateway)
    unkeyed, used = unkeyed_pages(resource, gateway.query_pages(data_source_id))
    candidates = [
        c for c in candidates_for(job, resource, desired, {n: s for n, (_, s) in schemas.items()}) if c.key not in used
    ]
    click.echo(f"\n{job.name} / {resource.name}: {len(unkeyed)} page(s) without {resource.match.property}")
    if not unkeyed:
        return
    suggestions = suggest(unkeyed, candidates)
    click.echo(suggestion_table(suggestions, resource.match.property))
    if not do_apply:
        click.echo("\nNothing written. Run again with --apply to confirm suggestions one by one.")
        return
    chosen = choose(suggestions, yes=yes, threshold=threshold)
    if not chosen:
        click.echo("No suggestion accepted; nothing written.")
        return
    match_type = str(schema[resource.match.property]["type"])
    write_suggestions(config, gateway, job, resource, chosen, data_source_id, match_type)


def write_suggestions(
    config: Config,
    gateway: Gateway,
    job: Job,
    resource: ResourceConfig,
    chosen: list[Suggestion],
    data_source_id: str,
    match_type: str,
) -> None:
    started = now_utc()
    plan = suggestions_plan(
        config, job, resource, chosen, data_source_id=data_source_id, match_type=match_type, now=started
    )
    click.echo(render(plan, "text", color=use_color()), nl=False)
    record = apply_run(config, gateway, plan, started=started, command="suggest-links")
    failed = record.result.failed
    for o in failed:
        click.echo(f"error: {o.key!r} on page {o.page_id} failed: {o.message}", err=True)
    click.echo(f"Wrote {record.result.written} key(s), {len(failed)} failed. The next `reconcile apply` links them.")
    if failed:
        raise Abort(EXIT_ERROR)
