"""The one redaction path: every secret the run was handed is blanked out of whatever it prints or stores.

Config loading remembers each secret value (the Notion token, a source's declared secrets) as it
reads the environment; error lines, `-v` HTTP logs, crash logs and run records pass through `scrub`.
Like a CI runner's masks, the set only grows for the life of the process.
"""

from __future__ import annotations

import threading

REDACTED = "[redacted]"
MIN_SECRET_LENGTH = 4  # shorter values would blank ordinary words

_lock = threading.Lock()
_secrets: set[str] = set()


def remember_secret(value: str | None) -> None:
    """Blank `value` out of everything scrubbed from now on."""
    if value and len(value) >= MIN_SECRET_LENGTH:
        with _lock:
            _secrets.add(value)


def scrub(text: str) -> str:
    """The text with every remembered secret replaced by [redacted], longest first."""
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text
