"""validate --offline: every problem of a file in one run, each at file:line:column with its key path."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconcile.offline import check_text

REPO = Path(__file__).resolve().parents[2]
SHIPPED = (REPO / "mappings.yaml").read_text(encoding="utf-8")

MINIMAL = """\
version: 1
jobs:
  entities:
    source:
      http:
        url: https://example.org/entities.json
      records: entities
      key: reference
    resources:
      councils:
        database: ${COUNCILS_DB_ID}
        mode: update-only
        match: {property: Reference Code, key: reference}
        properties:
          PD Entity: entity
"""


def lines(text: str, file: str = "m.yaml") -> list[str]:
    return [str(p) for p in check_text(text, file)]


@pytest.mark.parametrize("path", ["mappings.yaml", *sorted(p.name for p in (REPO / "examples").glob("*.yaml"))])
def test_the_shipped_configs_have_no_problem_and_need_no_environment(path: str) -> None:
    file = REPO / path if path == "mappings.yaml" else REPO / "examples" / path
    assert check_text(file.read_text(encoding="utf-8"), path) == []


def test_a_misspelled_key_is_named_at_its_line_and_column_with_the_nearest_key() -> None:
    text = SHIPPED.replace("        on_missing: archive", "        on_mising: archive")
    line = 1 + text.splitlines().index("        on_mising: archive")
    assert lines(text, "mappings.yaml") == [
        f"mappings.yaml:{line}:9: jobs.planx-live-services.resources.services.on_mising: "
        "unknown key 'on_mising' (did you mean 'on_missing'?)"
    ]


def test_every_problem_of_the_file_is_reported_in_one_run() -> None:
    text = (
        MINIMAL.replace("mode: update-only", "mode: upsrt")
        .replace("      key: reference\n", "      key: reference\n      kee: reference\n")
        .replace("version: 1\n", "version: 1\nrun_logg: x.jsonl\n")
        .replace("          PD Entity: entity\n", "          PD Entity: entity\n          PD Entity: other\n")
    )
    assert lines(text) == [
        "m.yaml:2:1: run_logg: unknown key 'run_logg' (did you mean 'run_log'?)",
        "m.yaml:10:7: jobs.entities.source.kee: unknown key 'kee' (did you mean 'key'?)",
        "m.yaml:14:9: jobs.entities.resources.councils.mode: 'upsrt' is not one of "
        "['upsert', 'update-only', 'create-only']",
        "m.yaml:18:11: jobs.entities.resources.councils.properties.PD Entity: "
        "duplicate key 'PD Entity' (first at line 17)",
    ]


def test_an_unknown_key_far_from_any_valid_one_lists_the_valid_keys() -> None:
    text = MINIMAL.replace("version: 1\n", "version: 1\nwhatever: 3\n")
    [problem] = lines(text)
    assert problem.startswith("m.yaml:2:1: whatever: unknown key 'whatever'; valid keys here: jobs, max_plan_age,")


def test_variables_are_never_looked_up_and_bad_interpolations_are_found() -> None:
    assert lines(MINIMAL) == []  # COUNCILS_DB_ID is not set anywhere
    broken = MINIMAL.replace("${COUNCILS_DB_ID}", "${1NOPE}").replace(
        "url: https://example.org/entities.json", "url: ${ENTITIES_URL"
    )
    assert lines(broken) == [
        "m.yaml:6:9: jobs.entities.source.http.url: unclosed ${ (write $${ for a literal ${)",
        "m.yaml:11:9: jobs.entities.resources.councils.database: bad interpolation ${1NOPE}: write ${NAME}",
    ]


def test_checks_after_interpolation_run_on_placeholders_of_the_right_shape() -> None:
    text = MINIMAL.replace("database: ${COUNCILS_DB_ID}", "database: not-a-database")
    [found] = lines(text)
    assert found.startswith("m.yaml:11:9: jobs.entities.resources.councils.database: ")
    assert "'not-a-database' is not a Notion database id" in found


def test_each_resource_is_checked_on_its_own() -> None:
    second = """\
      services:
        database: ${SERVICES_DB_ID}
        match: {property: Slug, key: reference}
        properties:
          Count: length(
"""
    text = MINIMAL.replace("database: ${COUNCILS_DB_ID}", "database: not-a-database") + second
    found = lines(text)
    assert [f.split(": ")[0] for f in found] == ["m.yaml:11:9", "m.yaml:20:11"]
    assert "invalid expression 'length('" in found[1]


def test_a_relation_to_an_unknown_resource_is_found_with_its_position() -> None:
    text = MINIMAL.replace("PD Entity: entity", "Council: {relation: counsils, key: reference}")
    [problem] = lines(text)
    assert problem == (
        "m.yaml:15:21: jobs.entities.resources.councils.properties.Council.relation: "
        "unknown resource 'counsils' (this job has: councils)"
    )


def test_a_mark_that_nothing_sets_back_is_a_warning() -> None:
    marked = MINIMAL.replace("mode: update-only", "mode: upsert").replace(
        "          PD Entity: entity\n",
        "          PD Entity: entity\n        on_missing:\n          mark: {Active: '`false`', Last Seen: run.date}\n",
    )
    [problem] = check_text(marked, "m.yaml")
    assert problem.severity == "warning"
    assert str(problem).startswith("m.yaml:17:18: warning: jobs.entities.resources.councils.on_missing.mark.Active:")
    assert "a page whose key comes back stays marked" in problem.message
    paired = marked.replace(
        "          PD Entity: entity\n", "          PD Entity: entity\n          Active: '`true`'\n"
    )
    assert check_text(paired, "m.yaml") == []


def test_broken_yaml_is_one_problem_at_its_position() -> None:
    assert lines("version: 1\njobs:\n  a: [1, 2\n") == [
        "m.yaml:4:1: top level: expected ',' or ']', but got '<stream end>'"
    ]
    assert lines("") == ["m.yaml:1:1: top level: the file is empty: it needs at least version: 1 and jobs:"]


def test_the_token_and_misplaced_secrets_are_refused_where_they_stand() -> None:
    text = MINIMAL.replace("      key: reference\n", "      key: reference\n      secrets: [ENTITY_API_KEY]\n").replace(
        "        url: https://example.org/entities.json\n",
        "        url: https://example.org/entities.json?key=${ENTITY_API_KEY}\n"
        "        headers: {Authorization: '${NOTION_TOKEN}', X-Key: '${ENTITY_API_KEY}'}\n",
    )
    found = lines(text)
    assert len(found) == 2
    assert found[0].startswith("m.yaml:6:9: jobs.entities.source.http.url: ${ENTITY_API_KEY} is a secret")
    assert found[1].startswith("m.yaml:7:19: jobs.entities.source.http.headers.Authorization: ${NOTION_TOKEN} cannot")


def test_an_alias_bomb_is_refused_before_it_is_expanded() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(7)
    )
    [problem] = lines(bomb)
    assert "alias bomb" in problem and problem.startswith("m.yaml:")
