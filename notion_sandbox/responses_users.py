"""Handlers of the user routes: the bot itself, the users list, one user (recorded: hkob/notion_ruby_mapping
``retrieve_users_all.json``, ``retrieve_user_person_hkob.json``, ``retrieve_user_token_bot.json``)."""

from __future__ import annotations

from typing import Any

from notion_sandbox.api_base import ApiBase
from notion_sandbox.ids import path_id
from notion_sandbox.routes import Call, query_page_size
from notion_sandbox.users import BOT_USER_ID, all_users, person, render_bot, render_person, user_not_found


class UserResponses(ApiBase):
    def users_me(self, call: Call) -> dict[str, Any]:
        return render_bot(full=True)

    def users_list(self, call: Call) -> dict[str, Any]:
        page_size = query_page_size(call.query.get("page_size"))
        cursor = next(iter(call.query.get("start_cursor") or []), None)
        users = all_users(self.store)
        offset, served = self.resume(cursor, users, "users")
        chunk = users[offset : offset + page_size]
        next_cursor = None
        if offset + len(chunk) < len(users):
            entry = {"scope": "users", "next_id": users[offset + len(chunk)]["id"], "served": served + len(chunk)}
            next_cursor = self.new_cursor(entry)
        return {
            "object": "list",
            "results": chunk,
            "next_cursor": next_cursor,
            "has_more": next_cursor is not None,
            "type": "user",
            "user": {},
        }

    def user_retrieve(self, call: Call) -> dict[str, Any]:
        user_id = path_id(call.params["id"], "user_id")
        if user_id == BOT_USER_ID:
            return render_bot(full=True)
        found = person(self.store, user_id)
        if found is None:
            raise user_not_found(user_id)
        return render_person(found)
