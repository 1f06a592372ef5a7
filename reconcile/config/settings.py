"""Values the schema cannot check, and the Notion settings: the only place the environment is read.

NOTION_TOKEN, NOTION_BASE_URL and NOTION_RATE_LIMIT are read here, once, into `NotionSettings`,
and handed down; nothing else in reconcile looks at the environment.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from reconcile.errors import ConfigError
from reconcile.http import token_may_travel_to
from reconcile.model import CiSettings, NotionSettings

__all__ = [
    "DEFAULT_NOTION_BASE_URL",
    "env_rate_limit",
    "normalise_database_id",
    "notion_base_url",
    "notion_settings",
    "parse_duration",
]

DEFAULT_NOTION_BASE_URL = "https://api.notion.com"
_UUID = re.compile(r"[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_DURATION = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([smhd]?)\s*")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_NOTION_HOSTS = ("notion.so", "notion.site")


def normalise_database_id(value: str) -> str | None:
    """A dashed lower-case UUID from a UUID (dashed or not) or a Notion URL; None if neither."""
    text = value.strip()
    if text.lower().startswith(("http://", "https://")):
        parts = urlsplit(text)
        host = (parts.hostname or "").lower()
        if not any(host == h or host.endswith("." + h) for h in _NOTION_HOSTS):
            return None
        text = parts.path.rstrip("/").rsplit("/", 1)[-1]
        found = re.search(r"([0-9a-fA-F]{32}|[0-9a-fA-F-]{36})$", text)
        if found is None:
            return None
        text = found.group(1)
    if not _UUID.fullmatch(text.lower()):
        return None
    hexdigits = text.lower().replace("-", "")
    if len(hexdigits) != 32:
        return None
    return "-".join((hexdigits[:8], hexdigits[8:12], hexdigits[12:16], hexdigits[16:20], hexdigits[20:]))


def parse_duration(value: str | int | float) -> float:
    """Seconds in `90`, `"90s"`, `"90m"`, `"24h"` or `"2d"`."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration")
    if isinstance(value, int | float):
        return float(value)
    match = _DURATION.fullmatch(value)
    if match is None:
        raise ValueError(f"{value!r} is not a duration (seconds, or e.g. 90m, 24h, 2d)")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def notion_base_url(env: Mapping[str, str]) -> str:
    """NOTION_BASE_URL, refused unless the token would travel over https or stay on this machine."""
    url = (env.get("NOTION_BASE_URL") or DEFAULT_NOTION_BASE_URL).rstrip("/")
    if token_may_travel_to(url):
        return url
    raise ConfigError(
        f"NOTION_BASE_URL {url!r} is refused: the Notion token only travels over https, "
        "or plain http to this machine (localhost, 127.0.0.1, ::1)"
    )


def notion_settings(raw: dict[str, Any], env: Mapping[str, str]) -> NotionSettings:
    """The config's `notion:` settings, with the environment's token, base URL and rate on top."""
    defaults = NotionSettings()
    token = (env.get("NOTION_TOKEN") or "").strip()
    return NotionSettings(
        base_url=notion_base_url(env),
        rate_limit=env_rate_limit(env, float(raw.get("rate_limit", defaults.rate_limit))),
        burst=int(raw.get("burst", defaults.burst)),
        max_attempts=int(raw.get("max_attempts", defaults.max_attempts)),
        max_retry_seconds=float(raw.get("max_retry_seconds", defaults.max_retry_seconds)),
        retry_base_s=float(raw.get("retry_base_seconds", defaults.retry_base_s)),
        timeout_s=float(raw.get("timeout_seconds", defaults.timeout_s)),
        workers=int(raw.get("workers", defaults.workers)),
        index_lag_s=float(raw.get("index_lag_seconds", defaults.index_lag_s)),
        token=token,
    )


def env_rate_limit(env: Mapping[str, str], configured: float) -> float:
    """NOTION_RATE_LIMIT when set (requests per second; 0 turns the client-side limit off)."""
    text = (env.get("NOTION_RATE_LIMIT") or "").strip()
    if not text:
        return configured
    try:
        rate = float(text)
    except ValueError:
        raise ConfigError(f"NOTION_RATE_LIMIT must be a number of requests per second, not {text!r}") from None
    if rate < 0 or rate != rate:
        raise ConfigError("NOTION_RATE_LIMIT must not be negative (0 turns the client-side limit off)")
    return rate


def ci_settings(env: Mapping[str, str]) -> CiSettings:
    """GitHub Actions says GITHUB_ACTIONS=true and names the job summary file in GITHUB_STEP_SUMMARY."""
    on_github = env.get("GITHUB_ACTIONS") == "true"
    return CiSettings(
        github_actions=on_github, step_summary=(env.get("GITHUB_STEP_SUMMARY") or None) if on_github else None
    )
