"""The one redaction path: every secret the run was handed is blanked out of whatever it prints or stores.

Config loading remembers each secret value (the Notion token, a source's declared secrets) as it
reads the environment, under the name of its variable; error lines, `-v` HTTP logs, crash logs and
run records pass through `scrub`, and the HTTP layer asks `secrets_in` (names, never values) before
a request leaves. Like a CI runner's masks, the set only grows for the life of the process.
"""

from __future__ import annotations

import threading

__all__ = ["MIN_SECRET_LENGTH", "REDACTED", "UNNAMED", "remember_secret", "scrub", "secrets_in"]

REDACTED = "[redacted]"
UNNAMED = "a secret"
MIN_SECRET_LENGTH = 4  # shorter values would blank ordinary words

_lock = threading.Lock()
_secrets: dict[str, str] = {}  # value -> the name of the variable it came from


def remember_secret(value: str | None, name: str = UNNAMED) -> None:
    """Blank `value` out of everything scrubbed from now on; `name` is what messages may call it."""
    if value and len(value) >= MIN_SECRET_LENGTH:
        with _lock:
            _secrets.setdefault(value, name)


def _remembered() -> list[str]:
    with _lock:
        return sorted(_secrets, key=len, reverse=True)


def scrub(text: str) -> str:
    """The text with every remembered secret replaced by [redacted], longest first."""
    for secret in _remembered():
        text = text.replace(secret, REDACTED)
    return text


def secrets_in(text: str) -> set[str]:
    """The names of the remembered secrets that `text` contains (empty when none)."""
    with _lock:
        return {name for value, name in _secrets.items() if value in text}
