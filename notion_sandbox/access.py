"""Integration tokens: their capabilities (read, update, insert) and what is shared with them.

A grant is written ``TOKEN`` (every capability, the whole workspace shared), ``TOKEN:read`` or
``TOKEN:read,update,insert:ID,ID`` (only the objects with those ids shared, and everything under them: a data source
is shared when it, its database or a page above them is). In Python and the admin API a grant is also
``{"token": ..., "capabilities": [...], "shared": [...] | null}``.

As in Notion (docs: "Integration capabilities", "Authorization"): an object that is not shared answers
``object_not_found`` as if it did not exist, search leaves it out, and a relation to its pages reads back without
them; a route the token has no capability for answers ``403 restricted_resource``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from notion_sandbox.errors import restricted
from notion_sandbox.ids import normalize_id
from notion_sandbox.store import Store

CAPABILITIES = ("read", "update", "insert")
DEFAULT_TOKEN = "ntn_sandbox"


@dataclass(frozen=True)
class Grant:
    token: str
    capabilities: frozenset[str] = frozenset(CAPABILITIES)
    shared: frozenset[str] | None = None  # None: the whole workspace

    def view(self) -> dict[str, Any]:
        return {
            "token": self.token,
            "capabilities": [c for c in CAPABILITIES if c in self.capabilities],
            "shared": None if self.shared is None else sorted(self.shared),
        }

    def require(self, capability: str | None) -> None:
        if capability is not None and capability not in self.capabilities:
            raise restricted()

    def can(self, capability: str) -> bool:
        return capability in self.capabilities


def parse_grant(spec: Any) -> Grant:
    """A grant from its string form, its dict form, or a Grant."""
    if isinstance(spec, Grant):
        return spec
    if isinstance(spec, str):
        return grant_from_text(spec)
    if isinstance(spec, dict):
        return grant_from_dict(spec)
    raise ValueError(f"a token grant is a string or an object, not {spec!r}")


def grant_from_text(text: str) -> Grant:
    token, _, rest = text.partition(":")
    caps_text, _, shared_text = rest.partition(":")
    capabilities = [c for c in caps_text.split(",") if c] if caps_text else list(CAPABILITIES)
    shared = [s for s in shared_text.split(",") if s] if shared_text else None
    return grant_from_dict({"token": token, "capabilities": capabilities, "shared": shared})


def grant_from_dict(given: dict[str, Any]) -> Grant:
    unknown = set(given) - {"token", "capabilities", "shared"}
    if unknown:
        raise ValueError(f"unknown grant keys: {', '.join(sorted(unknown))}")
    token = given.get("token")
    if not isinstance(token, str) or not token.strip() or any(c.isspace() for c in token):
        raise ValueError(f"a token must be a non-empty string without spaces, not {token!r}")
    capabilities = given.get("capabilities", list(CAPABILITIES))
    if not isinstance(capabilities, list) or not set(capabilities) <= set(CAPABILITIES):
        raise ValueError(f"capabilities must be a list drawn from {', '.join(CAPABILITIES)}, not {capabilities!r}")
    shared = given.get("shared")
    if shared is None:
        return Grant(token, frozenset(capabilities), None)
    if not isinstance(shared, list):
        raise ValueError(f"shared must be a list of ids or null, not {shared!r}")
    ids = [normalize_id(s) for s in shared]
    if None in ids:
        raise ValueError(f"shared must list Notion ids (uuids), not {shared!r}")
    return Grant(token, frozenset(capabilities), frozenset(i for i in ids if i))


def parse_grants(specs: Any) -> tuple[Grant, ...]:
    grants = tuple(parse_grant(s) for s in (specs or (DEFAULT_TOKEN,)))
    tokens = [g.token for g in grants]
    if len(set(tokens)) != len(tokens):
        raise ValueError("each token may be granted once")
    return grants


class Access:
    """The grants in force; answers which grant a bearer token is and what it may see."""

    def __init__(self, specs: Any = None) -> None:
        self.grants = parse_grants(specs)

    def replace(self, specs: Any) -> None:
        self.grants = parse_grants(specs)

    def grant(self, token: str) -> Grant | None:
        return next((g for g in self.grants if g.token == token), None)

    @property
    def first_token(self) -> str:
        return self.grants[0].token

    def views(self) -> list[dict[str, Any]]:
        return [g.view() for g in self.grants]


def sees(store: Store, grant: Grant | None, kind: str, obj: dict[str, Any]) -> bool:
    """Whether ``obj`` (a page, data source or database) is shared with the grant, itself or through a parent."""
    if grant is None or grant.shared is None:
        return True
    return any(item["id"] in grant.shared for _, item in store.lineage(kind, obj))


def sees_page_id(store: Store, grant: Grant | None, page_id: str) -> bool:
    page = store.pages.get(page_id)
    return page is not None and sees(store, grant, "page", page)
