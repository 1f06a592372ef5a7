"""`reconcile suggest-links`: propose match keys for pages that have none, by fuzzy name matching.

The engine itself never matches by name (keys are exact). This command only *proposes*: for each
page of an update-only resource whose match property is empty (a council without its
ExternalCustomerID), it compares the page's title with the names the source gives each key, and
shows the best key with a confidence score. Nothing is written unless the user confirms it (or,
with --yes, the score reaches the threshold); ambiguous and conflicting suggestions are shown and
skipped. Confirmed keys are written as an ordinary plan of `update` actions through apply.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import click

from reconcile.commands.common import CONFIG_OPTION, EXIT_ERROR, JOB_OPTION, Abort, http_logger, render, use_color
from reconcile.config import load_config
from reconcile.errors import ReconcileError
from reconcile.model import (
    Action,
    Config,
    DesiredState,
    Job,
    Plan,
    PropertyChange,
    ResourceConfig,
    ResourceInfo,
)
from reconcile.plan import iso_time
from reconcile.ports import Gateway, NotionObject, PropertySchema
from reconcile.run import apply_run, desired_state, now_utc, open_gateway, selected_jobs

__all__ = [
    "Candidate",
    "Suggestion",
    "UnkeyedPage",
    "name_tokens",
    "similarity",
    "suggest",
    "suggest_links",
    "suggestions_plan",
]

# Words that name the kind of authority rather than which one it is ("London Borough of Barnet",
# "Doncaster Metropolitan Borough Council"). Phrases go first so "london" survives elsewhere
# ("City of London" keeps its only distinctive word).
STOP_PHRASES = (
    "london borough of",
    "royal borough of",
    "metropolitan borough of",
    "city and county of",
    "county borough of",
    "borough of",
    "city of",
    "county of",
)
STOP_WORDS = frozenset(
    {"council", "city", "borough", "district", "county", "metropolitan", "royal", "the", "of", "and"}
)
DEFAULT_THRESHOLD = 0.85
FLOOR = 0.7  # below this a best match is no suggestion at all
MARGIN = 0.05  # a runner-up this close makes the best match ambiguous

Status = Literal["suggested", "ambiguous", "conflict", "no match"]


@dataclass(frozen=True)
class Candidate:
    """A key the source has, with the names that identify it (the key itself is one)."""

    key: str
    names: tuple[str, ...]


@dataclass(frozen=True)
class UnkeyedPage:
    resource: str
    page_id: str
    url: str
    title: str


@dataclass(frozen=True)
class Suggestion:
    page: UnkeyedPage
    key: str | None
    matched_name: str
    score: float
    status: Status
    runner_up: str | None = None  # the other candidate when ambiguous


# ── matching (pure) ──────────────────────────────────────────────────────────────────────────────


def name_tokens(text: str) -> frozenset[str]:
    """The distinctive words of a name: lower case, '&' as 'and', authority words dropped."""
    words = re.sub(r"[^a-z0-9]+", " ", text.lower().replace("&", " and ").replace("'", "")).split()
    joined = " ".join("st" if w == "saint" else w for w in words)
    stripped = joined
    for phrase in STOP_PHRASES:
        stripped = re.sub(rf"\b{phrase}\b", " ", stripped)
    tokens = frozenset(w for w in stripped.split() if w not in STOP_WORDS)
    # A name made only of authority words ("City of London" minus "city of" is fine, but
    # "The Borough Council" is not) keeps all its words rather than matching everything.
    return tokens or frozenset(joined.split())


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """1.0 for the same words; 0.75-0.9 when one name's words are all in the other; else spelling."""
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    small, big = sorted((a, b), key=len)
    if small <= big:
        return 0.75 + 0.15 * len(small) / len(big)
    spelled = difflib.SequenceMatcher(None, " ".join(sorted(a)), " ".join(sorted(b))).ratio()
    return min(spelled, 0.84)  # a spelling match alone never reaches the default threshold


def best_name(title: frozenset[str], candidate: Candidate) -> tuple[float, str]:
    scored = [(similarity(title, name_tokens(name)), name) for name in candidate.names]
    return max(scored, key=lambda s: s[0])


def suggest(pages: list[UnkeyedPage], candidates: list[Candidate]) -> list[Suggestion]:
    """One suggestion (or the reason there is none) per page; a key proposed twice is a conflict."""
    out = [suggest_one(page, candidates) for page in pages]
    proposed: dict[str, int] = {}
    for s in out:
        if s.status == "suggested" and s.key:
            proposed[s.key] = proposed.get(s.key, 0) + 1
    return [
        Suggestion(s.page, s.key, s.matched_name, s.score, "conflict")
        if s.status == "suggested" and s.key and proposed[s.key] > 1
        else s
        for s in out
    ]


def suggest_one(page: UnkeyedPage, candidates: list[Candidate]) -> Suggestion:
    title = name_tokens(page.title)
    ranked = sorted(((*best_name(title, c), c.key) for c in candidates), key=lambda s: (-s[0], s[2]))
    if not ranked or ranked[0][0] < FLOOR:
        score = ranked[0][0] if ranked else 0.0
        return Suggestion(page, None, "", round(score, 2), "no match")
    score, name, key = ranked[0]
    if len(ranked) > 1 and ranked[1][0] >= FLOOR and score - ranked[1][0] < MARGIN:
        return Suggestion(page, key, name, round(score, 2), "ambiguous", runner_up=ranked[1][2])
    return Suggestion(page, key, name, round(score, 2), "suggested")


# ── reading the pages and the candidates ─────────────────────────────────────────────────────────


def plain_text(value: NotionObject) -> str:
    items = value.get(value.get("type", ""), [])
    if isinstance(items, list):
        return "".join(i.get("plain_text", "") for i in items if isinstance(i, dict))
    return "" if items is None else str(items)


def page_title(page: NotionObject) -> str:
    for value in (page.get("properties") or {}).values():
        if value.get("type") == "title":
            return plain_text(value).strip()
    return ""


def unkeyed_pages(resource: ResourceConfig, pages: list[NotionObject]) -> tuple[list[UnkeyedPage], set[str]]:
    """The pages without a key, and the keys other pages already carry (never proposed again)."""
    unkeyed, used = [], set()
    for page in pages:
        value = (page.get("properties") or {}).get(resource.match.property)
        key = plain_text(value).strip() if value else ""
        if key:
            used.add(key)
        else:
            unkeyed.append(UnkeyedPage(resource.name, page["id"], page.get("url", ""), page_title(page)))
    return unkeyed, used


def candidates_for(
    job: Job, resource: ResourceConfig, desired: DesiredState, schemas: dict[str, PropertySchema]
) -> list[Candidate]:
    """Keys of the resource's desired pages, named by every title the job maps for that key."""
    titles: dict[str, list[str]] = {}
    for r in job.resources:
        title_props = [n for n, p in schemas.get(r.name, {}).items() if p.get("type") == "title"]
        for page in desired.resources[r.name].pages:
            for prop in title_props:
                value = page.values.get(prop)
                if isinstance(value, str) and value.strip():
                    titles.setdefault(page.key, []).append(value.strip())
    keys = dict.fromkeys(p.key for p in desired.resources[resource.name].pages)
    # Titles first: on a tie the table shows the name people know rather than the slug.
    return [Candidate(k, tuple(dict.fromkeys([*titles.get(k, []), re.sub(r"[-_]+", " ", k)]))) for k in keys]


# ── the plan of confirmed suggestions ────────────────────────────────────────────────────────────


def suggestions_plan(
    config: Config,
    job: Job,
    resource: ResourceConfig,
    chosen: list[Suggestion],
    *,
    data_source_id: str,
    match_type: str,
    now: datetime,
) -> Plan:
    """The confirmed keys as `update` actions on the match property: what apply will write."""
    actions = tuple(
        Action(
            action="update",
            resource=resource.name,
            key=s.key or "",
            page_id=s.page.page_id,
            url=s.page.url or None,
            changes=(PropertyChange(name=resource.match.property, type=match_type, before="", after=s.key),),
            reason=f"suggest-links: {s.page.title!r} matches {s.matched_name!r} (score {s.score:.2f})",
        )
        for s in chosen
    )
    info = ResourceInfo(
        name=resource.name,
        database_id=resource.database,
        data_source_id=data_source_id,
        match_property=resource.match.property,
        match_type=match_type,
        managed=0,
        unchanged=0,
        mode=resource.mode,
    )
    return Plan(
        created_at=iso_time(now),
        config_digest=config.digest,
        jobs=(job.name,),
        resources=(info,),
        actions=actions,
    )


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
