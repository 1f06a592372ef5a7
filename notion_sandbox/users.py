"""Workspace users: the seeded people and the integration's bot, how Notion renders them, and people values.

People live in the state (``users``: ``[{"id", "name", "email", "avatar_url"}]``); the bot is the integration every
token acts as. A people value is written as ``[{"id": ...}]`` (optionally ``"object": "user"``) and returned as full
user objects (recorded: hkob/notion_ruby_mapping ``retrieve_page_db_first.json``). Only people can be put in a people
property (Notion changelog "User mentions can only be of people", quoted in notion-dotnet/notion-sdk-net#59).
"""

from __future__ import annotations

from typing import Any

from notion_sandbox.errors import NotionError, body_invalid, fix_one, not_present, too_long, undefined, validation
from notion_sandbox.ids import normalize_id
from notion_sandbox.text import MAX_ARRAY, utf16_len

BOT_USER_ID = "5b8183bd-8984-4417-b2a6-7dc8e439e679"
BOT_NAME = "Sandbox integration"
WORKSPACE_NAME = "Sandbox"
MAX_UPLOAD_BYTES = 5 * 1024**3  # as recorded for a paid workspace (hkob/notion_ruby_mapping retrieve_user_token_bot)
# Seeded people, fixed ids (the same in every seed).
SEED_PEOPLE: tuple[dict[str, Any], ...] = (
    {"id": "a11ce000-0000-4000-8000-000000000001", "name": "Alice Example", "email": "alice@example.org"},
    {"id": "a11ce000-0000-4000-8000-000000000002", "name": "Bob Example", "email": "bob@example.org"},
    {"id": "a11ce000-0000-4000-8000-000000000003", "name": "Carol Example", "email": "carol@example.org"},
)
PERSON_KEYS = ("id", "name", "email", "avatar_url")


def seed_people() -> list[dict[str, Any]]:
    return [{**person, "avatar_url": None} for person in SEED_PEOPLE]


def people_of(store: Any) -> list[dict[str, Any]]:
    users: list[dict[str, Any]] = store.data.setdefault("users", [])
    return users


def person(store: Any, user_id: str) -> dict[str, Any] | None:
    return next((p for p in people_of(store) if p["id"] == user_id), None)


def render_person(found: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "user",
        "id": found["id"],
        "name": found["name"],
        "avatar_url": found.get("avatar_url"),
        "type": "person",
        "person": {"email": found["email"]},
    }


def render_bot(full: bool = False) -> dict[str, Any]:
    """The integration's bot: with its owner for users/me, ``"bot": {}`` in the users list (recorded)."""
    bot: dict[str, Any] = {}
    if full:
        bot = {
            "owner": {"type": "workspace", "workspace": True},
            "workspace_name": WORKSPACE_NAME,
            "workspace_limits": {"max_file_upload_size_in_bytes": MAX_UPLOAD_BYTES},
        }
    return {"object": "user", "id": BOT_USER_ID, "name": BOT_NAME, "avatar_url": None, "type": "bot", "bot": bot}


def all_users(store: Any) -> list[dict[str, Any]]:
    """Every user as the users list shows them: people first, then the bot."""
    return [render_person(p) for p in people_of(store)] + [render_bot()]


def rendered_user(store: Any, user_id: str) -> dict[str, Any]:
    """A people value item: the full user, or ``{object, id}`` for an id the workspace no longer knows."""
    found = person(store, user_id)
    if found is not None:
        return render_person(found)
    if user_id == BOT_USER_ID:
        return render_bot()
    return {"object": "user", "id": user_id}


def user_not_found(user_id: str) -> NotionError:
    # The message of GET /v1/users/{id} for an unknown id (outline/outline#8800).
    return NotionError(
        404,
        "object_not_found",
        f"Could not find user with ID: {user_id}. Make sure your integration has capabilities to read user "
        "information. With those capabilities, only members and guests in the integration's workspace are visible.",
    )


# ---------------------------------------------------------------- people values (write path)


def people_item(raw: Any, path: str) -> str:
    """A people item: ``{"id", "object"?: "user"}`` or a group ``{"id", "name"?, "object"?: "group"}``.

    The real union error lists the user branch's failures, then the group branch's (mariosimao/notion-sdk-php#400:
    ``people[0].type should be not present`` ... ``people[0].object should be `"group"` or `undefined` ``).
    """
    if not isinstance(raw, dict):
        raise body_invalid(path, "an object", raw)
    if "id" not in raw:
        raise undefined(f"{path}.id")
    user_errors = [not_present(f"{path}.{k}", v) for k, v in raw.items() if k not in ("id", "object")]
    if raw.get("object", "user") != "user":
        user_errors.append(body_invalid(f"{path}.object", '`"user"` or `undefined`', raw["object"]))
    group_errors = [not_present(f"{path}.{k}", v) for k, v in raw.items() if k not in ("id", "name", "object")]
    if raw.get("object", "group") != "group":
        group_errors.append(body_invalid(f"{path}.object", '`"group"` or `undefined`', raw["object"]))
    if user_errors and group_errors:
        raise fix_one(user_errors + group_errors)
    found = normalize_id(raw["id"])
    if found is None:
        raise body_invalid(f"{path}.id", "a valid uuid", raw["id"])
    if not user_errors:
        return found
    # The sandbox has no groups: every group id names nothing.
    raise validation(f"Could not find group with ID: {found}.")


def people_shape(raw: Any, path: str) -> list[str]:
    if not isinstance(raw, list):
        raise body_invalid(path, "an array", raw)
    if len(raw) > MAX_ARRAY:
        raise too_long(path, MAX_ARRAY, len(raw))
    ids: list[str] = []
    for i, item in enumerate(raw):
        found = people_item(item, f"{path}[{i}]")
        if found not in ids:
            ids.append(found)
    return ids


def check_people(store: Any, ids: list[str]) -> None:
    """Every id must be a person of the workspace (a bot, or an unknown id, is refused)."""
    for user_id in ids:
        if user_id == BOT_USER_ID:
            raise validation(f"Cannot mention bots. User with ID: {user_id} is a bot.")
        if person(store, user_id) is None:
            raise validation(f"Could not find user with ID: {user_id}.")


# ---------------------------------------------------------------- the admin API's people


def checked_people(given: Any) -> list[dict[str, Any]]:
    """People for ``PUT /_sandbox/users``: each ``{"name", "email"}`` with an optional ``id`` and ``avatar_url``."""
    from notion_sandbox.ids import new_id

    if not isinstance(given, list):
        raise ValueError('expected {"users": [{"name": ..., "email": ...}, ...]}')
    out: list[dict[str, Any]] = []
    for item in given:
        if not isinstance(item, dict) or set(item) - set(PERSON_KEYS):
            raise ValueError(f"a user is an object with keys {', '.join(PERSON_KEYS)}, not {item!r}")
        for key in ("name", "email"):
            if not isinstance(item.get(key), str) or not item[key].strip() or utf16_len(item[key]) > 200:
                raise ValueError(f"a user needs a non-empty {key} (at most 200 characters): {item!r}")
        user_id = normalize_id(item.get("id", new_id()))
        if user_id is None or user_id == BOT_USER_ID or any(p["id"] == user_id for p in out):
            raise ValueError(f"a user id must be a new uuid: {item.get('id')!r}")
        out.append({"id": user_id, "name": item["name"], "email": item["email"], "avatar_url": item.get("avatar_url")})
    return out
