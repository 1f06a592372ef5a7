"""Handlers of the block routes: retrieve, update and delete a block, list and append a block's children.

A block id may name a block, a page (a ``child_page`` block) or a database (a ``child_database`` block), as in
Notion. Appending answers the parent's children from the first new block on (recorded: hkob/notion_ruby_mapping
``append_block_children_append_after.json`` lists the new block and the siblings after it; ``..._end.json`` only
the new block). Every change of content moves the page's ``last_edited_time``.
"""

from __future__ import annotations

from typing import Any

from notion_sandbox.access import sees
from notion_sandbox.api_base import ApiBase
from notion_sandbox.blocks import HEADINGS, MODELLED, PARENT_BLOCKS, parse_children, parse_content, parse_update
from notion_sandbox.errors import UNDEFINED, archived_block, body_invalid, not_found, not_present, one_of, validation
from notion_sandbox.ids import normalize_id, path_id
from notion_sandbox.render import partial, render_block, render_block_list, shows_archived
from notion_sandbox.routes import Call, only_keys, query_page_size, trash_flag

POSITIONS = ("after_block", "start", "end")


class BlockResponses(ApiBase):
    def block_target(self, call: Call, raw_id: str) -> tuple[str, dict[str, Any]]:
        """What a block id names for this integration (a block, page or database), or 404."""
        block_id = path_id(raw_id, "block_id")
        found = self.store.any_block(block_id)
        if found is None or not sees(self.store, call.grant, found[0], found[1]):
            raise not_found("block", block_id)
        return found

    def rendered_block(self, call: Call, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        return self.shown(call, "block", obj["id"], lambda: render_block(self.store, kind, obj, call.version))

    # ------------------------------------------------------------ one block

    def block_retrieve(self, call: Call) -> dict[str, Any]:
        kind, obj = self.block_target(call, call.params["id"])
        return render_block(self.store, kind, obj, call.version)

    def block_update(self, call: Call) -> dict[str, Any]:
        named, raw = parse_update(call.body)
        trash = trash_flag(call.body)
        if named in MODELLED:
            parse_content(named, raw, f"body.{named}", with_children=False, update=True)
        kind, obj = self.block_target(call, call.params["id"])
        if (obj["in_trash"] and trash is not False) or self.under_trash(kind, obj):
            raise archived_block()
        if named is not None and named != (obj["type"] if kind == "block" else f"child_{kind}"):
            current = obj["type"] if kind == "block" else f"child_{kind}"
            raise validation(f"Block type {named} does not match the type of block {obj['id']} ({current}).")
        now = self.store.now()
        if named is not None:
            obj["content"] = parse_content(named, raw, f"body.{named}", False, True, current=obj["content"])[0]
        self.change_trash(kind, obj, trash, now)
        obj["last_edited_time"] = now
        self.written(call)
        return self.rendered_block(call, kind, obj)

    def block_delete(self, call: Call) -> dict[str, Any]:
        kind, obj = self.block_target(call, call.params["id"])
        if obj["in_trash"] or self.under_trash(kind, obj):
            raise archived_block()
        now = self.store.now()
        self.change_trash(kind, obj, True, now)
        obj["last_edited_time"] = now
        self.written(call)
        return self.rendered_block(call, kind, obj)

    def under_trash(self, kind: str, obj: dict[str, Any]) -> bool:
        """Whether something above the object is in the trash (its content cannot be edited then)."""
        parent_kind, parent = self.store.parent_of(kind, obj)
        return parent is not None and self.store.trashed(parent_kind, parent)

    def change_trash(self, kind: str, obj: dict[str, Any], trash: bool | None, now: str) -> None:
        """Trash or restore a block, page or database; the page whose content changes is edited too."""
        if kind == "page":
            self.store.touch(obj)
        if trash is not None:
            obj["in_trash"] = trash
        if kind == "block" or (kind == "page" and trash is not None):
            parent_kind, parent = self.store.parent_of(kind, obj)
            if kind == "block":
                self.store.content_edited(kind, obj, now)
            elif parent is not None and parent_kind in ("page", "block"):
                self.store.content_edited(parent_kind, parent, now)

    # ------------------------------------------------------------ children

    def block_children(self, call: Call) -> dict[str, Any]:
        page_size = query_page_size(call.query.get("page_size"))
        cursor = next(iter(call.query.get("start_cursor") or []), None)
        if cursor is not None and normalize_id(cursor) is None:
            raise body_invalid("query.start_cursor", "a valid uuid or `undefined`", cursor, where="query")
        _, obj = self.block_target(call, call.params["id"])
        listed = self.store.listed_children(obj["id"])
        offset, served = self.resume(cursor, [child for _, child in listed], f"children/{obj['id']}")
        return self.children_page(call, obj["id"], listed, offset, served, page_size)

    def children_page(
        self, call: Call, parent_id: str, listed: list[tuple[str, dict[str, Any]]], offset: int, served: int, size: int
    ) -> dict[str, Any]:
        chunk = listed[offset : offset + size]
        cursor = None
        if offset + len(chunk) < len(listed):
            entry = {"scope": f"children/{parent_id}", "next_id": listed[offset + len(chunk)][1]["id"]}
            cursor = self.new_cursor({**entry, "served": served + len(chunk)})
        if call.grant is not None and not call.grant.can("read"):
            return render_block_list([partial("block", child["id"]) for _, child in chunk], cursor)
        return render_block_list([render_block(self.store, k, child, call.version) for k, child in chunk], cursor)

    def block_append(self, call: Call) -> dict[str, Any]:
        allowed = ("children", "position") + (("after",) if shows_archived(call.version) else ())
        only_keys(call.body, allowed)
        nodes = parse_children(call.body.get("children", UNDEFINED), "body.children")
        placement = self.requested_position(call.body)
        kind, obj = self.block_target(call, call.params["id"])
        self.check_can_hold_children(kind, obj)
        self.open_for_writes(kind, obj)
        after = self.resolved_position(obj["id"], placement)
        now = self.store.now()
        ids = self.store.insert_blocks((kind, obj), nodes, after, now)
        if kind == "block":
            obj["last_edited_time"] = now
        self.store.content_edited(kind, obj, now)
        self.written(call)
        call.child_ids = ids
        listed = self.store.listed_children(obj["id"])
        first = next(i for i, (_, child) in enumerate(listed) if child["id"] == ids[0]) if ids else len(listed)
        return self.children_page(call, obj["id"], listed, first, 0, 100)

    def requested_position(self, body: dict[str, Any]) -> tuple[str, str | None]:
        """("end" | "start" | "after", block id) from ``position`` or the older ``after``."""
        if "after" in body and "position" in body:
            raise not_present("body.after", body["after"])
        if "after" in body:
            found = normalize_id(body["after"])
            if found is None:
                raise body_invalid("body.after", "a valid uuid or `undefined`", body["after"])
            return "after", found
        position = body.get("position", UNDEFINED)
        if position is UNDEFINED:
            return "end", None
        if not isinstance(position, dict):
            raise body_invalid("body.position", "an object or `undefined`", position)
        kind = position.get("type", UNDEFINED)
        if kind not in POSITIONS:
            raise body_invalid("body.position.type", one_of(POSITIONS), kind)
        if kind != "after_block":
            return kind, None
        target = position.get("after_block", UNDEFINED)
        found = normalize_id(target.get("id", UNDEFINED) if isinstance(target, dict) else UNDEFINED)
        if found is None:
            raise body_invalid("body.position.after_block.id", "a valid uuid", target)
        return "after", found

    def resolved_position(self, parent_id: str, placement: tuple[str, str | None]) -> str | None:
        """The ``insert_blocks`` position: None (end), "start", or the id of a listed child to follow."""
        where, block_id = placement
        if where != "after":
            return None if where == "end" else "start"
        if block_id not in {child["id"] for _, child in self.store.listed_children(parent_id)}:
            raise validation(f"Block {block_id} is not a child of block {parent_id}; new blocks can only follow one.")
        return block_id

    def check_can_hold_children(self, kind: str, obj: dict[str, Any]) -> None:
        if kind == "database":
            raise validation("Block type child_database does not support children.")
        if kind == "block" and obj["type"] not in PARENT_BLOCKS:
            raise validation(f"Block type {obj['type']} does not support children.")
        if kind == "block" and obj["type"] in HEADINGS and not obj["content"]["is_toggleable"]:
            raise validation(f"Block type {obj['type']} supports children only when it is toggleable.")
