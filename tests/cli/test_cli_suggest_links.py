"""suggest-links matching: names to keys, with scores, never a silent guess."""

from __future__ import annotations

import pytest

from reconcile.commands.suggest_links import suggestion_table
from reconcile.links import Candidate, UnkeyedPage, name_tokens, similarity, suggest

TEAMS = [
    ("barnet", "Barnet"),
    ("barking-and-dagenham", "Barking and Dagenham"),
    ("camden", "Camden"),
    ("doncaster", "Doncaster"),
    ("epsom-and-ewell", "Epsom and Ewell"),
    ("gloucester", "Gloucester"),
    ("kingston", "Kingston"),
    ("south-gloucestershire", "South Gloucestershire"),
    ("southwark", "Southwark"),
    ("st-albans", "St Albans"),
    ("tewkesbury", "Tewkesbury"),
    ("west-berkshire", "West Berkshire"),
]
CANDIDATES = [Candidate(slug, (name, slug.replace("-", " "))) for slug, name in TEAMS]


def page(title: str, n: int = 0) -> UnkeyedPage:
    return UnkeyedPage("councils", f"page-{n}", f"https://notion.so/page{n}", title)


@pytest.mark.parametrize(
    ("title", "key"),
    [
        ("London Borough of Barnet", "barnet"),
        ("London Borough of Camden", "camden"),
        ("Doncaster Metropolitan Borough Council", "doncaster"),
        ("Tewkesbury Borough Council", "tewkesbury"),
        ("London Borough of Barking & Dagenham", "barking-and-dagenham"),
        ("Epsom and Ewell Borough Council", "epsom-and-ewell"),
        ("St Albans City and District Council", "st-albans"),
        ("Saint Albans", "st-albans"),
        ("Gloucester City Council", "gloucester"),
        ("South Gloucestershire Council", "south-gloucestershire"),
    ],
)
def test_council_names_match_their_slug_exactly(title: str, key: str) -> None:
    [s] = suggest([page(title)], CANDIDATES)
    assert (s.key, s.score, s.status) == (key, 1.0, "suggested")


def test_a_partial_name_is_suggested_below_the_default_threshold() -> None:
    [s] = suggest([page("Royal Borough of Kingston upon Thames")], CANDIDATES)
    assert s.key == "kingston" and s.status == "suggested"
    assert 0.7 <= s.score < 0.85


def test_a_council_the_source_does_not_have_gets_no_suggestion() -> None:
    [s] = suggest([page("Bristol City Council")], CANDIDATES)
    assert s.key is None and s.status == "no match"


def test_two_close_candidates_are_ambiguous_and_name_the_runner_up() -> None:
    candidates = [Candidate("north-kent", ("North Kent",)), Candidate("south-kent", ("South Kent",))]
    [s] = suggest([page("Kent County Council")], candidates)
    assert s.status == "ambiguous"
    assert {s.key, s.runner_up} == {"north-kent", "south-kent"}


def test_one_key_proposed_for_two_pages_is_a_conflict_for_both() -> None:
    out = suggest([page("London Borough of Camden", 1), page("Camden Council", 2)], CANDIDATES)
    assert [s.status for s in out] == ["conflict", "conflict"]


def test_authority_words_are_dropped_but_a_name_of_only_such_words_is_kept() -> None:
    assert name_tokens("London Borough of Barnet") == {"barnet"}
    assert name_tokens("City of London") == {"london"}
    assert name_tokens("The Borough Council") == {"the", "borough", "council"}


def test_similarity_is_symmetric_and_a_spelling_match_alone_stays_under_the_threshold() -> None:
    a, b = name_tokens("Dagenham"), name_tokens("Dagenam")
    assert similarity(a, b) == similarity(b, a)
    assert 0.7 < similarity(a, b) < 0.85
    assert similarity(frozenset(), a) == 0.0


def test_the_table_shows_every_page_with_its_score_and_status() -> None:
    out = suggest([page("London Borough of Barnet", 1), page("Bristol City Council", 2)], CANDIDATES)
    table = suggestion_table(out, "ExternalCustomerID").splitlines()
    assert table[0].split() == ["Page", "Proposed", "ExternalCustomerID", "Matched", "name", "Score", "Status"]
    assert table[2].split()[-3:] == ["Barnet", "1.00", "suggested"]
    assert "no match" in table[3]
