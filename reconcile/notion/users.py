"""The workspace's people, for people properties: emails → user ids, ids → what people read.

`GET /v1/users` lists every user (people, with their email, and bots), 100 a page; a run reads it
once, and only when a resource maps a people property (reconcile.state). A guest or a person
whose email the integration may not see has no email in the list, so no email can name them.
"""

from __future__ import annotations

from collections.abc import Callable

from reconcile.model import UserDirectory
from reconcile.notion.paging import CursorGuard
from reconcile.ports import NotionObject

__all__ = ["list_users", "user_directory"]

WHAT = "listing the workspace's users"


def list_users(page_at: Callable[[str | None], NotionObject]) -> list[NotionObject]:
    """Every user, following the list's cursors (`page_at(cursor)` asks for one page of it)."""
    users: list[NotionObject] = []
    cursor: str | None = None
    guard = CursorGuard(WHAT)
    while True:
        response = page_at(cursor)
        found = [u for u in response.get("results", []) if u.get("object") == "user"]
        users += found
        cursor = response.get("next_cursor")
        if not response.get("has_more") or not cursor:
            return users
        guard.advance(cursor, [str(u.get("id")) for u in found])


def user_directory(users: list[NotionObject]) -> UserDirectory:
    """Lower-case email -> id for the people among `users`, and id -> "Name <email>" for each."""
    ids: dict[str, str] = {}
    labels: dict[str, str] = {}
    for user in users:
        if user.get("type") != "person":
            continue
        user_id = str(user.get("id") or "")
        email = str((user.get("person") or {}).get("email") or "").strip()
        name = str(user.get("name") or "").strip()
        if email:
            ids.setdefault(email.lower(), user_id)
        labels[user_id] = f"{name} <{email}>" if name and email else name or email or user_id
    return UserDirectory(ids=ids, labels=labels)
