"""Hermetic tests: no inherited Notion/PlanX environment, paths relative to the repository; one SSL context."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

SCRUBBED_PREFIXES = ("NOTION_", "PLANX_", "COUNCILS_", "SERVICES_", "DETAILED_", "PLANNING_", "RECONCILE_")


@pytest.fixture(autouse=True)
def hermetic_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(SCRUBBED_PREFIXES) or name == "NO_COLOR":
            monkeypatch.delenv(name, raising=False)


@pytest.fixture
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"the shared reference material is not beside the checkout ({SHARED})")
    return SHARED


@pytest.fixture(autouse=True, scope="session")
def one_default_ssl_context() -> Iterator[None]:
    """Every httpx client builds an SSL context and reads the whole CA bundle (about 40 ms) even to talk
    plain HTTP; the suite makes a thousand clients for loopback sandboxes, which was half of the fast
    lane. The session builds the default context once and hands the same one to every client."""
    import httpx._transports.default as transports

    build = getattr(transports, "create_ssl_context", None)
    if build is None:  # httpx moved it: the suite is only slower
        yield
        return
    shared = build()

    def reuse(verify: Any = True, cert: Any = None, trust_env: bool = True) -> Any:
        if verify is True and cert is None and trust_env:
            return shared
        return build(verify=verify, cert=cert, trust_env=trust_env)

    transports.create_ssl_context = reuse
    yield
    transports.create_ssl_context = build
