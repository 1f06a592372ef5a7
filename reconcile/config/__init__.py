"""mappings.yaml → Config: read, parse, validate, interpolate, check, build.

    read (bounded) ─▶ YAML (safe; duplicate keys, alias bombs, deep nesting refused)   yamlload.py
         ─▶ JSON Schema                                                                 schema.py
         ─▶ secrets declared and remembered, ${VAR} interpolated, secrets kept in place interpolate.py
         ─▶ checks the schema cannot express ─▶ Config                                  build.py, checks.py
    the environment (NOTION_TOKEN, NOTION_BASE_URL, NOTION_RATE_LIMIT)                  settings.py

Interpolation runs after parsing so that YAML positions in error messages stay right. Every
failure is one `ConfigError` whose text is one line: the file, the key path, the problem and,
where there is one, the fix. This package is the only place the environment is read.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from reconcile.config.build import build_config
from reconcile.config.interpolate import declared_secrets, interpolate, refuse_secret_values
from reconcile.config.schema import schema, schema_path, validate_schema
from reconcile.config.settings import normalise_database_id, parse_duration
from reconcile.config.yamlload import MAX_CONFIG_BYTES, check_size, parse_yaml
from reconcile.errors import ConfigError
from reconcile.model import Config
from reconcile.redact import remember_secret

__all__ = [
    "DEFAULT_CONFIG",
    "load_config",
    "load_config_text",
    "normalise_database_id",
    "parse_duration",
    "read_text",
    "schema",
    "schema_path",
]

DEFAULT_CONFIG = "mappings.yaml"


def load_config(path: str | os.PathLike[str], env: Mapping[str, str]) -> Config:
    """The validated configuration in the file at `path`, with `${VAR}` taken from `env`."""
    shown = os.fspath(path)
    return load_config_text(read_text(shown), env, path=shown)


def load_config_text(text: str, env: Mapping[str, str], path: str = DEFAULT_CONFIG) -> Config:
    """The validated configuration in `text`; `path` is only used to name the file in errors."""
    remember_secret((env.get("NOTION_TOKEN") or "").strip(), "NOTION_TOKEN")  # before anything could quote it
    document = parse_yaml(text, path)
    validate_schema(document, path)
    secrets = declared_secrets(document, env)
    interpolated = interpolate(document, env, path, secrets)
    refuse_secret_values(interpolated, path, secrets)
    return build_config(interpolated, env, path)


def read_text(path: str) -> str:
    """The file's text: UTF-8, at most MAX_CONFIG_BYTES; each way it cannot be read is one line."""
    try:
        with Path(path).open("rb") as file:
            check_size(os.fstat(file.fileno()).st_size, path)
            data = file.read(MAX_CONFIG_BYTES + 1)  # a file that grows while read is bounded too
        check_size(len(data), path)
        return data.decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no such file",
            hint="run where mappings.yaml is, or name the config with -c FILE",
        ) from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory", hint="name the config file with -c FILE") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from None
