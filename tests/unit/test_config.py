"""load_config: the shipped mappings.yaml, the examples, and one pinned line per kind of mistake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from reconcile.config import (
    load_config,
    load_config_text,
    normalise_database_id,
    parse_duration,
    schema,
)
from reconcile.errors import ConfigError
from reconcile.model import Computation, OnMissing, PropertyMapping, TouchRule

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "mappings.yaml"
EXAMPLES = sorted((REPO / "examples").glob("*.yaml"))
SERVICES = "0123456789abcdef0123456789abcdef"
COUNCILS = "fedcba98-7654-3210-FEDC-ba9876543210"
ENV = {
    "SERVICES_DB_ID": SERVICES,
    "COUNCILS_DB_ID": COUNCILS,
    "SERVICES_DETAILED_DB_ID": "11111111111111111111111111111111",
    "TEAM_CONTACTS_DB_ID": "22222222222222222222222222222222",
}
JOB = "jobs.planx-live-services"
SVC = f"{JOB}.resources.services"


def shipped_text() -> str:
    return SHIPPED.read_text(encoding="utf-8")


def all_jobs_text() -> str:
    return (REPO / "examples" / "all-jobs.yaml").read_text(encoding="utf-8")


def edited(old: str, new: str, text: str | None = None) -> str:
    base = shipped_text() if text is None else text
    assert old in base, f"test set-up: {old!r} is not in the config"
    return base.replace(old, new, 1)


def error_of(text: str, env: dict[str, str] = ENV) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config_text(text, env)
    message = str(caught.value)
    assert "\n" not in message
    return message


# ── the shipped file ────────────────────────────────────────────────────────────────────────────


def test_shipped_mappings_is_the_planx_job() -> None:
    config = load_config(SHIPPED, ENV)
    assert config.path == str(SHIPPED)
    (job,) = config.jobs
    assert job.name == "planx-live-services"
    assert job.source.kind == "graphql"
    assert job.source.endpoint == "https://hasura.editor.planx.uk/v1/graphql"
    assert (job.source.records, job.source.key) == ("data.teams", "slug")
    assert "flows(where: {status: {_eq: online}}" in (job.source.query or "")
    assert job.source.allowlist is not None and len(job.source.allowlist) == 22
    assert {"barking-and-dagenham", "southwark", "west-berkshire"} <= set(job.source.allowlist)
    services, councils = job.resources
    assert services.database == "01234567-89ab-cdef-0123-456789abcdef"
    assert councils.database == "fedcba98-7654-3210-fedc-ba9876543210"
    assert (services.mode, councils.mode) == ("upsert", "update-only")
    assert services.match.property == "ExternalCustomerID" and services.match.expression == "slug"
    assert [p.name for p in services.properties] == [
        "Name",
        "Description",
        "Service Count",
        "ExternalCustomerID",
        "Councils",
    ]
    assert services.properties[1] == PropertyMapping("Description", "join('\n', flows[].trim(name))")
    assert services.properties[4] == PropertyMapping("Councils", None, relation="councils")
    assert services.on_missing == OnMissing("archive")
    assert councils.on_missing == OnMissing("ignore")
    assert councils.touch == (TouchRule("Integration Last Updated", "services"),)
    assert config.notion.rate_limit == 3 and config.notion.workers == 4
    assert config.notion.base_url == "https://api.notion.com"
    assert config.max_plan_age_s == 24 * 3600
    assert config.run_log == ".reconcile/runs.jsonl"
    assert len(config.digest) == 64


def test_shipped_mappings_names_the_missing_database_variable() -> None:
    env = {"COUNCILS_DB_ID": COUNCILS}
    with pytest.raises(ConfigError) as caught:
        load_config(SHIPPED, env)
    assert str(caught.value) == (
        f"{SHIPPED}: at {SVC}.database: environment variable SERVICES_DB_ID is not set "
        "(export SERVICES_DB_ID=... or write ${SERVICES_DB_ID:-default})"
    )


def test_graphql_endpoint_comes_from_the_environment_when_set() -> None:
    config = load_config(SHIPPED, {**ENV, "PLANX_GRAPHQL_URL": "http://127.0.0.1:8123/v1/graphql"})
    assert config.jobs[0].source.endpoint == "http://127.0.0.1:8123/v1/graphql"


def test_digest_follows_the_interpolated_document() -> None:
    first = load_config_text(shipped_text(), ENV).digest
    assert load_config_text(shipped_text() + "\n# a comment\n", ENV).digest == first
    assert load_config_text(shipped_text(), {**ENV, "SERVICES_DB_ID": "2" * 32}).digest != first
    assert load_config_text(edited("- barnet\n", "- barnet\n        - hackney\n"), ENV).digest != first


def test_missing_file_names_it_and_the_option(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as caught:
        load_config(missing, ENV)
    assert str(caught.value) == f"{missing}: no such file (run where mappings.yaml is, or name the config with -c FILE)"


# ── examples ────────────────────────────────────────────────────────────────────────────────────


def test_there_are_examples() -> None:
    names = {p.name for p in EXAMPLES}
    assert {"planx-services-detailed.yaml", "planning-data-entities.yaml", "planning-data-presence.yaml"} <= names
    assert "all-jobs.yaml" in names


@pytest.mark.parametrize("path", [SHIPPED, *EXAMPLES], ids=lambda p: p.name)
def test_schema_validates_every_shipped_config(path: Path) -> None:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert list(Draft202012Validator(schema()).iter_errors(document)) == []
    assert load_config(path, ENV).jobs


def test_schema_is_a_valid_2020_12_schema() -> None:
    Draft202012Validator.check_schema(schema())
    assert schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_all_jobs_example_has_the_four_jobs_on_shared_councils() -> None:
    config = load_config_text(all_jobs_text(), ENV)
    assert [j.name for j in config.jobs] == [
        "planx-live-services",
        "planx-services-detailed",
        "planning-data-entities",
        "planning-data-presence",
    ]
    detailed = config.job("planx-services-detailed")
    assert detailed.source.computed == (Computation("rank_in_council", "rank", "team.slug", "first_online_at"),)
    assert detailed.resource("detailed-councils").records == "unique([].team)"
    entities = config.job("planning-data-entities").source
    assert entities.kind == "http"
    assert entities.params == {"dataset": "local-authority", "field": ["entity", "reference", "name"]}
    assert entities.pagination == {"offset_param": "offset", "limit_param": "limit", "limit": 500, "count": "count"}
    assert entities.options == {"max_pages": 10}
    presence = config.job("planning-data-presence")
    assert presence.source.kind == "lookup"
    assert presence.source.options["resource"] == "councils-pd-presence"
    assert presence.source.options["requires"] == ("PD Entity",)
    assert set(presence.source.options["urls"]) == {
        "article4",
        "conservation_area",
        "listed_building_outline",
        "tree",
        "tree_preservation_zone",
    }
    (resource,) = presence.resources
    assert resource.mode == "update-only"
    assert resource.match.expression == 'page."Reference Code"'
    assert resource.on_missing == OnMissing("ignore")


# ── interpolation ───────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("value", "env", "expected"),
    [
        ("${A}", {"A": "x"}, "x"),
        ("pre-${A}-post", {"A": "x"}, "pre-x-post"),
        ("${A}${B}", {"A": "x", "B": "y"}, "xy"),
        ("${A:-d}", {}, "d"),
        ("${A:-d}", {"A": ""}, "d"),
        ("${A:-d}", {"A": "x"}, "x"),
        ("${A:-}", {}, ""),
        ("${A:-https://h/x?a=1&b=2}", {}, "https://h/x?a=1&b=2"),
        ("$${A}", {"A": "x"}, "${A}"),
        ("$A and {A}", {"A": "x"}, "$A and {A}"),
        ("no placeholders", {}, "no placeholders"),
    ],
)
def test_interpolation(value: str, env: dict[str, str], expected: str) -> None:
    text = edited("run_log: .reconcile/runs.jsonl", f"run_log: {json.dumps(value)}")
    assert load_config_text(text, {**ENV, **env}).run_log == expected


@pytest.mark.parametrize(
    ("value", "env", "message"),
    [
        ("${A}", {}, "environment variable A is not set (export A=... or write ${A:-default})"),
        ("${A}", {"A": ""}, "environment variable A is empty (set A, or write ${A:-} to allow it)"),
        ("${A", {}, "unclosed ${ (write $${ for a literal ${)"),
        ("${1A}", {}, "bad interpolation ${1A} (write ${NAME} or ${NAME:-default}; $${ is a literal ${)"),
        ("${A-d}", {}, "bad interpolation ${A-d} (write ${NAME} or ${NAME:-default}; $${ is a literal ${)"),
    ],
)
def test_interpolation_errors(value: str, env: dict[str, str], message: str) -> None:
    text = edited("run_log: .reconcile/runs.jsonl", f"run_log: {json.dumps(value)}")
    assert error_of(text, {**ENV, **env}) == f"mappings.yaml: at run_log: {message}"


def test_keys_are_not_interpolated() -> None:
    text = edited("Service Count: length(flows)", "Count ${X}: length(flows)")
    names = [p.name for p in load_config_text(text, ENV).jobs[0].resources[0].properties]
    assert "Count ${X}" in names


def test_unset_variable_in_a_list_names_the_item() -> None:
    text = edited("- barnet\n", "- ${EXTRA_TEAM}\n")
    assert error_of(text) == (
        f"mappings.yaml: at {JOB}.source.allowlist[1]: environment variable EXTRA_TEAM is not set "
        "(export EXTRA_TEAM=... or write ${EXTRA_TEAM:-default})"
    )


# ── values ──────────────────────────────────────────────────────────────────────────────────────

DASHED = "0123abcd-0123-4567-89ab-0123456789ab"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0123abcd0123456789ab0123456789ab", DASHED),
        ("0123ABCD-0123-4567-89AB-0123456789AB", DASHED),
        (f" {DASHED} ", DASHED),
        ("https://www.notion.so/acme/Councils-0123abcd0123456789ab0123456789ab?v=ffff", DASHED),
        ("https://www.notion.so/0123abcd0123456789ab0123456789ab", DASHED),
        ("https://acme.notion.site/Councils-0123abcd0123456789ab0123456789ab/", DASHED),
        ("https://example.com/Councils-0123abcd0123456789ab0123456789ab", None),
        ("0123abcd0123456789ab0123456789a", None),
        ("0123abcd-0123456789ab0123456789ab", None),
        ("Councils", None),
        ("", None),
    ],
)
def test_database_ids(value: str, expected: str | None) -> None:
    assert normalise_database_id(value) == expected


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(3600, 3600), (1.5, 1.5), ("90", 90), ("90s", 90), ("90m", 5400), ("24h", 86400), ("2d", 172800), ("1.5h", 5400)],
)
def test_durations(value: str | float, seconds: float) -> None:
    assert parse_duration(value) == seconds


def test_max_plan_age_in_the_file() -> None:
    assert load_config_text(edited("max_plan_age: 24h", "max_plan_age: 90m"), ENV).max_plan_age_s == 5400


def test_notion_base_url_from_the_environment() -> None:
    for url in ("http://127.0.0.1:4010", "http://localhost:4010/", "http://[::1]:4010", "https://notion.example"):
        config = load_config_text(shipped_text(), {**ENV, "NOTION_BASE_URL": url})
        assert config.notion.base_url == url.rstrip("/")
    assert error_of(shipped_text(), {**ENV, "NOTION_BASE_URL": "http://api.example.com"}) == (
        "NOTION_BASE_URL 'http://api.example.com' is refused: the Notion token only travels over https, "
        "or plain http to this machine (localhost, 127.0.0.1, ::1)"
    )


def test_defaults_of_a_minimal_config() -> None:
    text = f"""
version: 1
jobs:
  j:
    source:
      graphql: {{endpoint: "https://example.com/graphql", query: "{{ teams {{ slug }} }}"}}
      records: data.teams
      key: slug
    resources:
      r:
        database: {SERVICES}
        match: {{property: Key, key: slug}}
      u:
        database: {COUNCILS}
        mode: update-only
        match: {{property: Key, key: slug}}
"""
    config = load_config_text(text, {})
    (job,) = config.jobs
    assert job.source.allowlist is None and job.source.variables == {} and job.source.timeout_s == 30
    r, u = job.resources
    assert (r.mode, r.data_source, r.properties, r.touch, r.records) == ("upsert", None, (), (), None)
    assert r.on_missing == OnMissing("archive")
    assert u.on_missing == OnMissing("ignore")
    assert job.guards.max_archive_ratio == 0.2 and job.guards.max_archive_count == 5
    assert config.notion.rate_limit == 3 and config.max_plan_age_s == 86400


def test_mark_and_optional_properties() -> None:
    text = edited(
        "on_missing: archive",
        'on_missing: {mark: {Active: "`false`", Last Seen: run.date}}',
    )
    text = edited("Service Count: length(flows)", "Service Count: {expr: length(flows), optional: true}", text)
    services = load_config_text(text, ENV).jobs[0].resources[0]
    assert services.on_missing == OnMissing(
        "mark", (PropertyMapping("Active", "`false`"), PropertyMapping("Last Seen", "run.date"))
    )
    assert services.properties[2] == PropertyMapping("Service Count", "length(flows)", optional=True)
    assert services.managed_properties[-2:] == ("Active", "Last Seen")


# ── one line per mistake ────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "mode: upsert",
            "mode: upsrt",
            f"at {SVC}.mode: 'upsrt' is not one of ['upsert', 'update-only', 'create-only']",
        ),
        ("mode: upsert", "modee: upsert", f"at {SVC}: Additional properties are not allowed ('modee' was unexpected)"),
        (
            "      graphql:\n",
            "      http: {url: 'https://example.com'}\n      graphql:\n",
            f"at {JOB}.source: a source takes exactly one of graphql:, http: or lookup:",
        ),
        ("      records: data.teams", "      #", f"at {JOB}.source: 'records' is a required property"),
        (
            "{relation: councils}",
            "{relaton: councils}",
            f"at {SVC}.properties.Councils: Additional properties are not allowed ('relaton' was unexpected)",
        ),
        (
            "{relation: councils}",
            "{relation: councils, expr: slug}",
            f"at {SVC}.properties.Councils: a property mapping takes either expr: or relation:",
        ),
        (
            "Service Count: length(flows)",
            "Service Count: 3",
            f"at {SVC}.properties.Service Count: 3 is not of type 'string', 'object'",
        ),
        (
            "on_missing: archive",
            "on_missing: archived",
            f"at {SVC}.on_missing: 'archived' is not one of ['archive', 'ignore']",
        ),
        ("on_missing: archive", "on_missing: {mark: {}}", f"at {SVC}.on_missing.mark: {{}} should be non-empty"),
        (
            "max_plan_age: 24h",
            "max_plan_age: 24 hours",
            "at max_plan_age: '24 hours' is not a duration: use seconds, or a number with s, m, h or d (90m, 24h, 2d)",
        ),
        ("rate_limit: 3 ", "rate_limit: 0 ", "at notion.rate_limit: 0 is less than or equal to the minimum of 0"),
        ("- barnet\n", "- barnet\n        - barnet\n", f"at {JOB}.source.allowlist: 'barnet' is listed twice"),
        (
            "  planx-live-services:",
            "  planx live:",
            "at jobs: 'planx live' is not a valid name: use letters, digits, - and _, starting with a letter or digit",
        ),
        (
            "timeout_seconds: 30",
            'timeout_seconds: "30"',
            f"at {JOB}.source.graphql.timeout_seconds: '30' is not of type 'number'",
        ),
        ("version: 1", "version: 2", "at version: 1 was expected"),
        # checks beyond the schema
        (
            "{relation: councils}",
            "{relation: counclis}",
            f"at {SVC}.properties.Councils.relation: unknown resource 'counclis' (this job has: services, councils)",
        ),
        (
            "{related: services}",
            "{related: service}",
            f"at {JOB}.resources.councils.touch.Integration Last Updated.related: unknown resource 'service' "
            "(this job has: services, councils)",
        ),
        (
            "Service Count: length(flows)",
            "Service Count: length(flows",
            f"at {SVC}.properties.Service Count: invalid expression 'length(flows': incomplete expression "
            "(it ends at column 12)",
        ),
        (
            "Service Count: length(flows)",
            "Service Count: size(flows)",
            f"at {SVC}.properties.Service Count: invalid expression 'size(flows)': unknown function size()",
        ),
        (
            "records: data.teams",
            "records: data.teams[",
            f"at {JOB}.source.records: invalid expression 'data.teams[': incomplete expression (it ends at column 11)",
        ),
        (
            "{relation: councils}",
            "{relation: councils, key: 'team.'}",
            f"at {SVC}.properties.Councils.key: invalid expression 'team.': "
            "Expecting: ['quoted_identifier', 'unquoted_identifier', 'lbracket', 'lbrace'], got: eof at column 5",
        ),
        (
            "match: {property: ExternalCustomerID, key: slug}\n        properties:",
            "match: {property: ExternalCustomerID, key: slug}\n        records: '[].flows[]'\n        properties:",
            None,
        ),
        (
            '          Name: "trim(name) || slug"\n',
            '          Name: "trim(name) || slug"\n          "Name ": slug\n',
            f"at {SVC}.properties[\"Name \"]: property 'Name' is mapped twice in resource services (properties)",
        ),
        (
            "          Integration Last Updated: {related: services}\n",
            "          Integration Last Updated: {related: services}\n"
            "          ExternalCustomerID: {related: services}\n",
            f"at {JOB}.resources.councils.touch.ExternalCustomerID: the match property cannot be a touch property",
        ),
        (
            "        on_missing: archive\n",
            "        on_missing: archive\n        touch:\n          Name: {related: councils}\n",
            f"at {SVC}.touch.Name: property 'Name' is mapped twice in resource services (properties and touch)",
        ),
        (
            "endpoint: ${PLANX_GRAPHQL_URL:-https://hasura.editor.planx.uk/v1/graphql}",
            "endpoint: hasura.editor.planx.uk/v1/graphql",
            f"at {JOB}.source.graphql.endpoint: 'hasura.editor.planx.uk/v1/graphql' is not an http(s) URL",
        ),
    ],
)
def test_mistakes_give_one_pinned_line(old: str, new: str, message: str | None) -> None:
    text = edited(old, new)
    if message is None:
        load_config_text(text, ENV)  # a control: the edit alone is valid
        return
    got = error_of(text)
    if "unknown function" in message:
        assert got.startswith(f"mappings.yaml: {message} (known: ")
    else:
        assert got == f"mappings.yaml: {message}"


def test_malformed_yaml_gives_file_line_and_column() -> None:
    assert error_of(edited("query: |", "query: |\n  bad")) == "mappings.yaml:34:27: could not find expected ':'"
    assert error_of("version: 1\njobs: [a") == "mappings.yaml:2:9: expected ',' or ']', but got '<stream end>'"


def test_duplicate_keys_are_refused_with_both_lines() -> None:
    text = edited(
        '          Name: "trim(name) || slug"\n', '          Name: "trim(name) || slug"\n          Name: slug\n'
    )
    assert error_of(text) == "mappings.yaml:81:11: duplicate key 'Name' (first at line 80)"


def test_merge_keys_may_be_overridden() -> None:
    merged = f"""
version: 1
jobs:
  j:
    source: {{graphql: {{endpoint: "https://e.example/g", query: q}}, records: r, key: k}}
    resources:
      a: &common {{database: {SERVICES}, mode: update-only, match: {{property: P, key: k}}}}
      b:
        <<: *common
        database: {COUNCILS}
"""
    a, b = load_config_text(merged, {}).jobs[0].resources
    assert (a.mode, b.mode) == ("update-only", "update-only")
    assert b.database == "fedcba98-7654-3210-fedc-ba9876543210"


def test_dates_stay_text() -> None:
    text = edited("run_log: .reconcile/runs.jsonl", "run_log: 2024-01-02")
    assert load_config_text(text, ENV).run_log == "2024-01-02"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "mappings.yaml: the file is empty (it needs at least version: 1 and jobs:)"),
        ("- a", "mappings.yaml: at top level: ['a'] is not of type 'object'"),
        ("version: 1", "mappings.yaml: at top level: 'jobs' is a required property"),
        ("version: 1\njobs: {}", "mappings.yaml: at jobs: {} should be non-empty"),
    ],
)
def test_empty_and_odd_documents(text: str, message: str) -> None:
    assert error_of(text) == message


def test_database_that_is_not_an_id() -> None:
    assert error_of(shipped_text(), {**ENV, "SERVICES_DB_ID": "Live Services"}) == (
        f"mappings.yaml: at {SVC}.database: 'Live Services' is not a Notion database id "
        "(use the 32 hex digits from the database's URL, dashed or not, or the URL itself)"
    )


# ── several jobs ────────────────────────────────────────────────────────────────────────────────


def test_two_jobs_writing_one_property_are_refused_naming_both() -> None:
    text = edited("PD Entity: entity", "PD-Trees: entity", all_jobs_text())
    assert error_of(text) == (
        "mappings.yaml: at jobs.planning-data-presence.resources.councils-pd-presence.properties.PD-Trees: "
        "property 'PD-Trees' of database fedcba98-7654-3210-fedc-ba9876543210 is also written by "
        "jobs.planning-data-entities.resources.councils-pd-entity (give each property one owner)"
    )


def test_jobs_matching_councils_by_one_key_conflict_only_when_both_may_create() -> None:
    text = edited(
        "match: {property: Reference Code, key: reference}",
        "match: {property: ExternalCustomerID, key: reference}",
        all_jobs_text(),
    )
    assert load_config_text(text, ENV)  # both update-only: neither writes the key
    planx_councils = "        mode: {}\n        match: {{property: ExternalCustomerID, key: slug}}"
    text = edited(planx_councils.format("update-only"), planx_councils.format("upsert"), text)
    assert load_config_text(text, ENV)  # one creator
    creating = edited("mode: update-only     # councils", "mode: upsert     # councils", text)
    assert error_of(creating) == (
        "mappings.yaml: at jobs.planning-data-entities.resources.councils-pd-entity.match.property: "
        "property 'ExternalCustomerID' of database fedcba98-7654-3210-fedc-ba9876543210 is also written by "
        "jobs.planx-live-services.resources.councils (give each property one owner)"
    )


def test_different_data_sources_of_one_database_do_not_conflict() -> None:
    text = edited("PD Entity: entity", "PD-Trees: entity", all_jobs_text())
    text = edited(
        "        mode: update-only     # councils",
        "        data_source: A\n        mode: update-only     # councils",
        text,
    )
    text = edited(
        "        match: {property: Reference Code}   #",
        "        data_source: B\n        match: {property: Reference Code}   #",
        text,
    )
    assert load_config_text(text, ENV)


def test_resource_names_are_unique_across_jobs() -> None:
    text = all_jobs_text().replace("detailed-councils", "councils")
    assert error_of(text) == (
        "mappings.yaml: at jobs.planx-services-detailed.resources.councils: resource name 'councils' is already used "
        "by job planx-live-services (resource names are unique across jobs)"
    )


def test_relations_stay_within_their_job() -> None:
    text = edited("relation: detailed-councils", "relation: councils", all_jobs_text())
    assert error_of(text) == (
        "mappings.yaml: at jobs.planx-services-detailed.resources.detailed-services.properties.Councils.relation: "
        "unknown resource 'councils' (this job has: detailed-services, detailed-councils)"
    )


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "resource: councils-pd-presence",
            "resource: councils",
            "at jobs.planning-data-presence.source.lookup.resource: unknown resource 'councils' "
            "(this job has: councils-pd-presence)",
        ),
        (
            "requires: [PD Entity]",
            "requires: [PD Entityy]",
            "at jobs.planning-data-presence.source.lookup.url: the URL uses {PD Entity}, which is not in requires: "
            "['PD Entityy'] (add 'PD Entity' to requires)",
        ),
        (
            "mode: update-only\n        match: {property: Reference Code}   #",
            "mode: upsert\n        match: {property: Reference Code}   #",
            "at jobs.planning-data-presence.resources.councils-pd-presence.mode: a looked-up resource only updates "
            "existing pages; got 'upsert' (write mode: update-only, or leave mode out)",
        ),
        (
            "      records: entities",
            "      records: entities\n      allowlist: [SWK]",
            None,
        ),
        (
            "    source:\n      lookup:",
            "    source:\n      key: x\n      lookup:",
            "at jobs.planning-data-presence.source.key: a lookup source takes no key: "
            "(its rows are the resource's pages)",
        ),
        (
            "match: {property: Reference Code, key: reference}",
            "match: {property: Reference Code}",
            "at jobs.planning-data-entities.resources.councils-pd-entity.match: 'key' is a required property "
            "(the JMESPath giving a row's key, e.g. key: slug)",
        ),
        (
            "pagination: {offset_param: offset, limit_param: limit, limit: 500, count: count}",
            "pagination: {offset_param: offset}",
            "at jobs.planning-data-entities.source.http.pagination: 'limit_param' is a dependency of 'offset_param'",
        ),
        (
            "pagination: {offset_param: offset, limit_param: limit, limit: 500, count: count}",
            "pagination: {next: links.next, offset_param: offset, limit_param: limit, limit: 500}",
            "at jobs.planning-data-entities.source.http.pagination: pagination takes either next: or offset_param:, "
            "limit_param: and limit:",
        ),
        (
            "pagination: {offset_param: offset, limit_param: limit, limit: 500, count: count}",
            "pagination: {next: 'links.'}",
            "at jobs.planning-data-entities.source.http.pagination.next: invalid expression 'links.': "
            "Expecting: ['quoted_identifier', 'unquoted_identifier', 'lbracket', 'lbrace'], got: eof at column 6",
        ),
    ],
)
def test_http_and_lookup_mistakes(old: str, new: str, message: str | None) -> None:
    text = edited(old, new, all_jobs_text())
    if message is None:
        assert load_config_text(text, ENV)
        return
    assert error_of(text) == f"mappings.yaml: {message}"


def test_lookup_rate_limit_reaches_the_source_options() -> None:
    text = edited(
        "        requires: [PD Entity]\n", "        requires: [PD Entity]\n        rate_limit: 2.5\n", all_jobs_text()
    )
    env = {**ENV, "DETAILED_DB_ID": ENV["SERVICES_DB_ID"]}
    try:
        config = load_config_text(text, env)
    except ConfigError as exc:  # the examples may need more variables than ENV has
        pytest.skip(f"all-jobs.yaml needs more environment: {exc}")
    lookups = [j.source for j in config.jobs if j.source.kind == "lookup"]
    assert [s.options["rate_limit"] for s in lookups] == [2.5]


@pytest.mark.parametrize(
    ("new", "message"),
    [
        (
            "{expr: slug, time_zone: Mars/Olympus}",
            f"at {SVC}.properties.Service Count.time_zone: 'Mars/Olympus' is not an IANA time zone "
            "(e.g. Europe/London, America/New_York, UTC)",
        ),
        (
            "{expr: slug, new_options: maybe}",
            f"at {SVC}.properties.Service Count.new_options: 'maybe' is not one of ['create', 'refuse']",
        ),
        (
            "{relation: councils, new_options: refuse}",
            f"at {SVC}.properties.Service Count.new_options: new_options does not apply to a relation",
        ),
        ("{expr: slug, new_options: refuse, time_zone: Europe/London}", None),
    ],
)
def test_type_settings_of_a_mapping_give_one_pinned_line(new: str, message: str | None) -> None:
    text = edited("Service Count: length(flows)", f"Service Count: {new}")
    if message is None:
        (job,) = load_config_text(text, ENV).jobs
        mapping = next(p for p in job.resource("services").properties if p.name == "Service Count")
        assert (mapping.new_options, mapping.time_zone) == ("refuse", "Europe/London")
        return
    assert error_of(text).startswith(f"mappings.yaml: {message}")


def test_a_computed_type_cannot_be_a_bootstrap_hint() -> None:
    text = edited(
        "bootstrap: {title: PlanX Live Services}",
        "bootstrap: {title: PlanX Live Services, properties: {Service Count: unique_id}}",
    )
    assert (
        "at jobs.planx-live-services.resources.services.bootstrap.properties.Service Count: 'unique_id' is not one of"
        in error_of(text)
    )
