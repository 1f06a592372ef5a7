"""`${VAR}` interpolation, and the rules that keep secrets where they belong.

    ${VAR}            the variable's value; unset or empty is an error naming it and the key
    ${VAR:-default}   the default when VAR is unset or empty (`${VAR:-}` allows empty)
    $${               a literal ${

Secrets. `${NOTION_TOKEN}` is refused everywhere: reconcile reads the token itself and sends it
to Notion only. Any other secret is declared by the source that needs it
(`jobs.<job>.source.secrets: [PLANX_API_KEY]`) and may be interpolated only into that source's
headers; anywhere else (URL, query, variables, params, a mapped value) it is refused, and so is a
secret's *value* reaching any other key by another road. Each declared secret is remembered by the
one redaction path (reconcile.redact), so it is blanked out of every output.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from reconcile.config.schema import KeyPath, config_error
from reconcile.errors import ConfigError
from reconcile.redact import MIN_SECRET_LENGTH, remember_secret

__all__ = ["NOTION_TOKEN", "Secrets", "declared_secrets", "interpolate", "refuse_secret_values"]

NOTION_TOKEN = "NOTION_TOKEN"
SOURCE_KINDS = frozenset({"graphql", "http", "lookup"})
_PLACEHOLDER = re.compile(r"\$\$\{|\$\{([^}]*)\}|\$\{")
_VARIABLE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?", re.DOTALL)


@dataclass(frozen=True)
class Secrets:
    """The config's secrets: which jobs' sources declare each name, and the values the run was given."""

    owners: Mapping[str, frozenset[str]]  # name -> the jobs whose source declares it
    values: Mapping[str, str]  # name -> its value, NOTION_TOKEN included; unset names absent

    def may_appear(self, name: str, at: KeyPath) -> bool:
        """Whether secret `name` may be at `at`: a header of a source that declares it."""
        is_header = len(at) == 6 and at[0] == "jobs" and at[2] == "source" and at[4] == "headers"
        return is_header and at[3] in SOURCE_KINDS and at[1] in self.owners.get(name, frozenset())


def declared_secrets(document: dict[str, Any], env: Mapping[str, str]) -> Secrets:
    """The secrets each source declares, remembered for redaction (the schema refuses NOTION_TOKEN)."""
    owners: dict[str, set[str]] = {}
    for job, raw in document["jobs"].items():
        for name in raw["source"].get("secrets") or ():
            owners.setdefault(name, set()).add(job)
    values = {name: env[name] for name in (*owners, NOTION_TOKEN) if env.get(name)}
    for name, value in values.items():
        remember_secret(value.strip() if name == NOTION_TOKEN else value, name)
    return Secrets(owners={n: frozenset(j) for n, j in owners.items()}, values=values)


def interpolate(document: Any, env: Mapping[str, str], path: str, secrets: Secrets, at: KeyPath = ()) -> Any:
    """`document` with `${VAR}` / `${VAR:-default}` replaced in every string value (not keys)."""
    if isinstance(document, dict):
        return {k: interpolate(v, env, path, secrets, (*at, k)) for k, v in document.items()}
    if isinstance(document, list):
        return [interpolate(v, env, path, secrets, (*at, i)) for i, v in enumerate(document)]
    if isinstance(document, str):
        return interpolate_text(document, env, path, secrets, at)
    return document


def interpolate_text(text: str, env: Mapping[str, str], path: str, secrets: Secrets, at: KeyPath) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        if match.group(1) is None:
            raise config_error(path, at, "unclosed ${ (write $${ for a literal ${)")
        return variable_value(match.group(1), env, path, secrets, at)

    return _PLACEHOLDER.sub(replace, text)


def variable_value(inner: str, env: Mapping[str, str], path: str, secrets: Secrets, at: KeyPath) -> str:
    parsed = _VARIABLE.fullmatch(inner)
    if parsed is None:
        raise config_error(
            path, at, f"bad interpolation ${{{inner}}}", hint="write ${NAME} or ${NAME:-default}; $${ is a literal ${"
        )
    name, default = parsed.group(1), parsed.group(2)
    refuse_misplaced_secret(name, path, secrets, at)
    value = env.get(name)
    if default is not None:
        return value if value else default
    if value is None:
        raise config_error(
            path,
            at,
            f"environment variable {name} is not set",
            hint=f"export {name}=... or write ${{{name}:-default}}",
        )
    if value == "":
        raise config_error(
            path, at, f"environment variable {name} is empty", hint=f"set {name}, or write ${{{name}:-}} to allow it"
        )
    return value


def refuse_misplaced_secret(name: str, path: str, secrets: Secrets, at: KeyPath) -> None:
    if name == NOTION_TOKEN:
        raise config_error(
            path,
            at,
            "${NOTION_TOKEN} cannot be used in the config: reconcile reads the token itself and sends it "
            "only to Notion",
            hint="remove it; a source that needs a credential declares its own, e.g. secrets: [PLANX_API_KEY]",
        )
    if name in secrets.owners and not secrets.may_appear(name, at):
        declared = ", ".join(f"jobs.{job}.source.secrets" for job in sorted(secrets.owners[name]))
        raise config_error(
            path,
            at,
            f"${{{name}}} is a secret ({declared}) and may appear only in that source's headers",
            hint="anywhere else it would be sent to another host or shown in plans and logs",
        )


def refuse_secret_values(document: Any, path: str, secrets: Secrets) -> None:
    """A ConfigError at the first key whose text holds a secret's value where that secret may not be."""
    for at, text in strings(document):
        for name, value in secrets.values.items():
            value = value.strip()
            if len(value) < MIN_SECRET_LENGTH or value not in text:
                continue
            if name != NOTION_TOKEN and secrets.may_appear(name, at):
                continue
            raise secret_value_error(path, at, name)


def secret_value_error(path: str, at: KeyPath, name: str) -> ConfigError:
    if name == NOTION_TOKEN:
        return config_error(
            path, at, "holds the Notion token (the value of NOTION_TOKEN)", hint="the token only ever goes to Notion"
        )
    return config_error(
        path, at, f"holds the value of secret {name}", hint=f"{name} may appear only in its source's headers"
    )


def strings(document: Any, at: KeyPath = ()) -> Iterator[tuple[KeyPath, str]]:
    """(key path, text) of every string of the document, keys included."""
    if isinstance(document, dict):
        for k, v in document.items():
            yield (*at, k), str(k)
            yield from strings(v, (*at, k))
    elif isinstance(document, list):
        for i, v in enumerate(document):
            yield from strings(v, (*at, i))
    elif isinstance(document, str):
        yield at, document
