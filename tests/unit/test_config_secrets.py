"""Secrets in the config: NOTION_TOKEN never interpolated; a declared secret only in its source's headers."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconcile.config import load_config_text
from reconcile.errors import ConfigError
from reconcile.redact import REDACTED, scrub

REPO = Path(__file__).resolve().parents[2]
SHIPPED = (REPO / "mappings.yaml").read_text(encoding="utf-8")
JOB = "jobs.planx-live-services"
TOKEN = "ntn_config_secret_test_4f2a"
API_KEY = "planx-key-config-test-93b1"
ENV = {
    "SERVICES_DB_ID": "0123456789abcdef0123456789abcdef",
    "COUNCILS_DB_ID": "fedcba9876543210fedcba9876543210",
    "NOTION_TOKEN": TOKEN,
    "PLANX_API_KEY": API_KEY,
}
DECLARED = "    source:\n      secrets: [PLANX_API_KEY]\n      graphql:\n"


def config(old: str, new: str, *, declare: bool = True) -> str:
    text = SHIPPED.replace("    source:\n      graphql:\n", DECLARED) if declare else SHIPPED
    assert old in text, f"test set-up: {old!r} is not in the config"
    return text.replace(old, new, 1)


def error_of(text: str, env: dict[str, str] = ENV) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config_text(text, env)
    message = str(caught.value)
    assert "\n" not in message and TOKEN not in message and API_KEY not in message
    return message


HEADER = "        variables: {}\n"


def test_a_declared_secret_in_its_sources_headers_is_sent_and_remembered() -> None:
    text = config(HEADER, HEADER + "        headers: {Authorization: 'Bearer ${PLANX_API_KEY}'}\n")
    source = load_config_text(text, ENV).jobs[0].source
    assert source.headers == {"Authorization": f"Bearer {API_KEY}"}
    assert source.options["secrets"] == ("PLANX_API_KEY",)
    assert scrub(f"sent {API_KEY} and {TOKEN}") == f"sent {REDACTED} and {REDACTED}"


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        (HEADER, HEADER + "        headers: {Authorization: 'Bearer ${NOTION_TOKEN}'}\n",
         f"{JOB}.source.graphql.headers.Authorization"),
        ("endpoint: ${PLANX_GRAPHQL_URL:-https://hasura.editor.planx.uk/v1/graphql}",
         "endpoint: https://hasura.editor.planx.uk/v1/graphql?t=${NOTION_TOKEN:-x}", f"{JOB}.source.graphql.endpoint"),
        ('Name: "trim(name) || slug"', "Name: \"'${NOTION_TOKEN}'\"", f"{JOB}.resources.services.properties.Name"),
        ("run_log: .reconcile/runs.jsonl", "run_log: ${NOTION_TOKEN}", "run_log"),
    ],
    ids=["header", "endpoint-with-default", "mapped-value", "top-level"],
)  # fmt: skip
def test_notion_token_cannot_be_interpolated_anywhere(old: str, new: str, where: str) -> None:
    assert error_of(config(old, new)) == (
        f"mappings.yaml: at {where}: ${{NOTION_TOKEN}} cannot be used in the config: reconcile reads the token "
        "itself and sends it only to Notion (remove it; a source that needs a credential declares its own, e.g. "
        "secrets: [PLANX_API_KEY])"
    )


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("endpoint: ${PLANX_GRAPHQL_URL:-https://hasura.editor.planx.uk/v1/graphql}",
         "endpoint: https://hasura.editor.planx.uk/v1/graphql?key=${PLANX_API_KEY}", "source.graphql.endpoint"),
        ("            teams(order_by", "            # ${PLANX_API_KEY}\n            teams(order_by",
         "source.graphql.query"),
        (HEADER, "        variables: {key: '${PLANX_API_KEY}'}\n", "source.graphql.variables.key"),
        ('Name: "trim(name) || slug"', "Name: \"'${PLANX_API_KEY}'\"", "resources.services.properties.Name"),
        ("- barnet\n", "- ${PLANX_API_KEY}\n", "source.allowlist[1]"),
    ],
    ids=["endpoint", "query", "variables", "mapped-value", "allowlist"],
)  # fmt: skip
def test_a_declared_secret_anywhere_but_its_headers_is_refused(old: str, new: str, where: str) -> None:
    assert error_of(config(old, new)) == (
        f"mappings.yaml: at {JOB}.{where}: ${{PLANX_API_KEY}} is a secret ({JOB}.source.secrets) and may appear "
        "only in that source's headers (anywhere else it would be sent to another host or shown in plans and logs)"
    )


def test_a_secret_value_that_arrives_by_another_variable_is_refused() -> None:
    text = config('Name: "trim(name) || slug"', "Name: \"'${SOME_TEXT}'\"")
    assert error_of(text, {**ENV, "SOME_TEXT": f"x{API_KEY}x"}) == (
        f"mappings.yaml: at {JOB}.resources.services.properties.Name: holds the value of secret PLANX_API_KEY "
        "(PLANX_API_KEY may appear only in its source's headers)"
    )
    assert error_of(text, {**ENV, "SOME_TEXT": TOKEN}) == (
        f"mappings.yaml: at {JOB}.resources.services.properties.Name: holds the Notion token (the value of "
        "NOTION_TOKEN) (the token only ever goes to Notion)"
    )


def test_notion_token_cannot_be_declared_as_a_sources_secret() -> None:
    text = config("secrets: [PLANX_API_KEY]", "secrets: [NOTION_TOKEN]")
    assert error_of(text) == (
        f"mappings.yaml: at {JOB}.source.secrets[0]: NOTION_TOKEN cannot be a source's secret: it only ever goes "
        "to Notion"
    )


def test_a_secret_of_another_job_is_refused_in_this_jobs_headers() -> None:
    text = config(HEADER, HEADER + "        headers: {X-Key: '${OTHER_KEY}'}\n")
    other = """  other:
    source:
      secrets: [OTHER_KEY]
      http: {url: "https://api.example.org/x", headers: {X-Key: "${OTHER_KEY}"}}
      records: items
      key: id
    resources:
      things: {database: "11111111111111111111111111111111", match: {property: Id, key: id}}
"""
    message = error_of(text.replace("jobs:\n", "jobs:\n" + other, 1), {**ENV, "OTHER_KEY": "other-key-value"})
    assert message.startswith(f"mappings.yaml: at {JOB}.source.graphql.headers.X-Key: ${{OTHER_KEY}} is a secret")


LOOKUP = """version: 1
jobs:
  presence:
    source:
      secrets: [PD_KEY]
      lookup:
        resource: councils
        url: "https://{Host}/entity.json?e={PD Entity}"
        requires: [Host, PD Entity]
        headers: {X-Api-Key: "${PD_KEY}"}
    resources:
      councils:
        database: "fedcba9876543210fedcba9876543210"
        match: {property: Reference Code}
        properties: {PD-Trees: "response.count > `0`"}
        on_missing: ignore
"""


def test_a_lookup_with_secrets_cannot_take_its_host_from_a_page() -> None:
    assert error_of(LOOKUP, {"PD_KEY": "pd-key-value-1"}) == (
        "mappings.yaml: at jobs.presence.source.lookup.url: the host of 'https://{Host}/entity.json?e={PD Entity}' "
        "is filled in from a page, and this source sends secrets (a source's secrets go only to the host its "
        "config names; write the host out)"
    )
    fixed = LOOKUP.replace("https://{Host}/", "https://pd.example/").replace("[Host, PD Entity]", "[PD Entity]")
    source = load_config_text(fixed, {"PD_KEY": "pd-key-value-1"}).jobs[0].source
    assert source.headers == {"X-Api-Key": "pd-key-value-1"}
