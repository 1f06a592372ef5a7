"""The JSON Schema check, and the key paths every config error names (`jobs.x.resources.y.mode`)."""

from __future__ import annotations

import json
import re
import reprlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from reconcile.errors import ConfigError

__all__ = ["KeyPath", "config_error", "key_path", "schema", "schema_path", "short_repr", "validate_schema"]

SCHEMA_NAME = "mappings.schema.json"

KeyPath = tuple[str | int, ...]


def schema_path() -> Path:
    """mappings.schema.json: beside the package in a checkout, inside it when installed."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package.parent / "schemas" / SCHEMA_NAME, package / "schemas" / SCHEMA_NAME):
        if candidate.is_file():
            return candidate
    raise ConfigError(f"{SCHEMA_NAME} is missing from the installation", hint="reinstall reconcile")


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(schema_path().read_text(encoding="utf-8"))
    return loaded


@lru_cache(maxsize=1)
def validator() -> Draft202012Validator:
    return Draft202012Validator(schema())


def validate_schema(document: Any, path: str) -> None:
    """Raise the most relevant schema violation, at the path of the bad key."""
    error = best_match(validator().iter_errors(document))
    if error is None:
        return
    raise ConfigError(f"{path}: at {key_path(tuple(error.absolute_path))}: {schema_message(error)}")


def schema_message(error: ValidationError) -> str:
    """The violation in words: the schema's own `x-errors` wording where it has one."""
    node: ValidationError | None = error
    while node is not None:
        custom = node.schema.get("x-errors", {}) if isinstance(node.schema, dict) else {}
        if node.validator in custom:
            return str(custom[str(node.validator)]).format(instance=short_repr(node.instance))
        parent = node.parent
        node = parent if isinstance(parent, ValidationError) else None
    if error.validator == "uniqueItems" and isinstance(error.instance, list):
        return f"{first_repeated(error.instance)!r} is listed twice"
    message = error.message
    full = repr(error.instance)
    if len(full) > 80 and full in message:
        message = message.replace(full, short_repr(error.instance))
    return " ".join(message.split())


def first_repeated(items: list[Any]) -> Any:
    seen: list[Any] = []
    for item in items:
        if item in seen:
            return item
        seen.append(item)
    return None


def short_repr(value: Any) -> str:
    brief = reprlib.Repr()
    brief.maxstring = 60
    brief.maxother = 60
    brief.maxdict = 3
    brief.maxlist = 4
    return brief.repr(value)


def key_path(path: KeyPath) -> str:
    """`jobs.planx-live-services.resources.services.mode`; list items as `allowlist[3]`; odd keys quoted."""
    if not path:
        return "top level"
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[^.\[\]\"]+", str(part)) and str(part) == str(part).strip():
            out += f".{part}" if out else str(part)
        else:
            out += f"[{json.dumps(str(part))}]"
    return out


def config_error(path: str, at: KeyPath, problem: str, hint: str | None = None) -> ConfigError:
    """One line naming the file, the key path and the problem."""
    return ConfigError(f"{path}: at {key_path(at)}: {problem}", hint=hint)
