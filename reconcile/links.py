"""Suggested links: propose match keys for pages that have none, by fuzzy name matching.

The engine itself never matches by name (keys are exact). This only *proposes*: for each page of
an update-only resource whose match property is empty (a council without its ExternalCustomerID),
it compares the page's title with the names the source gives each key and scores the best key.
Ambiguous and conflicting suggestions are marked so; confirmed keys become an ordinary plan of
`update` actions on the match property (suggestions_plan), which apply writes like any other.
Pure: `reconcile suggest-links` (reconcile/commands/suggest_links.py) reads and writes.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

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
from reconcile.ports import NotionObject, PropertySchema

__all__ = [
    "DEFAULT_THRESHOLD",
    "Candidate",
    "Suggestion",
    "UnkeyedPage",
    "candidates_for",
    "name_tokens",
    "similarity",
    "suggest",
    "suggestions_plan",
    "unkeyed_pages",
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
