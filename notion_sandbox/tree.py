"""Page content: the block tree under each page, as a part of ``Store`` (a mixin).

State: ``blocks`` ({id: block}) and ``children`` ({parent id: [child id, ...]} in display order). A parent's
children are its blocks and, as in Notion, the pages and databases created under it (listed as ``child_page`` and
``child_database`` blocks). A stored block is ``{"id", "parent": {"type": "page_id"|"block_id", ...}, "type",
"content", "created_time", "last_edited_time", "in_trash"}``; trashed blocks stay in the order list and are left out
of listings. Every change to a page's content moves the page's ``last_edited_time`` (Notion shows an edit of the body
as an edit of the page).
"""

from __future__ import annotations

from typing import Any

from notion_sandbox.errors import not_found
from notion_sandbox.ids import new_id

CHILD_KINDS = ("block", "page", "database")


class BlockTree:
    """The block tree; mixed into Store, whose data, lookups and page watcher it uses."""

    data: dict[str, Any]

    @property
    def pages(self) -> dict[str, Any]:
        raise NotImplementedError

    @property
    def databases(self) -> dict[str, Any]:
        raise NotImplementedError

    def touch(self, page: dict[str, Any]) -> None:
        raise NotImplementedError

    def lineage(self, kind: str, obj: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        raise NotImplementedError

    # ------------------------------------------------------------ lookups

    @property
    def blocks(self) -> dict[str, Any]:
        blocks: dict[str, Any] = self.data.setdefault("blocks", {})
        return blocks

    def child_ids(self, parent_id: str) -> list[str]:
        children: list[str] = self.data.setdefault("children", {}).setdefault(parent_id, [])
        return children

    def block(self, block_id: str) -> dict[str, Any]:
        found: dict[str, Any] | None = self.blocks.get(block_id)
        if found is None:
            raise not_found("block", block_id)
        return found

    def any_block(self, object_id: str) -> tuple[str, dict[str, Any]] | None:
        """What a block id names: a block, a page (child_page) or a database (child_database)."""
        if object_id in self.blocks:
            return "block", self.blocks[object_id]
        if object_id in self.pages:
            return "page", self.pages[object_id]
        if object_id in self.databases:
            return "database", self.databases[object_id]
        return None

    def listed_children(self, parent_id: str) -> list[tuple[str, dict[str, Any]]]:
        """The parent's children as Notion lists them: in order, without what is in the trash."""
        out = []
        for child_id in self.child_ids(parent_id):
            found = self.any_block(child_id)
            if found is not None and not found[1]["in_trash"]:
                out.append(found)
        return out

    def has_children(self, object_id: str) -> bool:
        return bool(self.listed_children(object_id))

    def owning_page(self, kind: str, obj: dict[str, Any]) -> dict[str, Any] | None:
        """The page whose content holds this block (the page itself for a page)."""
        return next((item for k, item in self.lineage(kind, obj) if k == "page"), None)

    # ------------------------------------------------------------ writes

    def register_child(self, parent_id: str, child_id: str) -> None:
        """A page or database created under a page joins its content, at the end."""
        self.child_ids(parent_id).append(child_id)

    def insert_blocks(
        self, parent: tuple[str, dict[str, Any]], nodes: list[dict[str, Any]], position: str | None, now: str
    ) -> list[str]:
        """Store parsed block nodes under ``parent`` (after the child ``position``, "start", or at the end)."""
        kind, obj = parent
        ids = [self.new_block(kind, obj, node, now) for node in nodes]
        order = self.child_ids(obj["id"])
        if position is None:
            order.extend(ids)
        else:
            at = 0 if position == "start" else order.index(position) + 1
            order[at:at] = ids
        return ids

    def new_block(self, parent_kind: str, parent: dict[str, Any], node: dict[str, Any], now: str) -> str:
        ref = "page_id" if parent_kind == "page" else "block_id"
        block: dict[str, Any] = {
            "id": new_id(),
            "parent": {"type": ref, ref: parent["id"]},
            "type": node["type"],
            "content": node["content"],
            "created_time": now,
            "last_edited_time": now,
            "in_trash": False,
        }
        block_id = str(block["id"])
        self.blocks[block_id] = block
        self.child_ids(block_id).extend(self.new_block("block", block, child, now) for child in node["children"])
        return block_id

    def content_edited(self, kind: str, obj: dict[str, Any], now: str) -> None:
        """Note an edit of the content under ``obj`` through the API: the page itself is not edited.

        Notion moves a page's ``last_edited_time`` when a person edits its body in the app, but not
        when an integration edits it through the API (observed: dvanoni/notero#571, "Updating the
        content of a Notion page via the API does not update the Last edited time"; "updating the
        content yourself does"). A person's edit is set up through the admin state.
        """
        del kind, obj, now

    def trash_content(self, page_id: str, now: str) -> int:
        """Trash every listed child of a page (``erase_content``); pages and databases under it stay."""
        erased = 0
        for kind, child in self.listed_children(page_id):
            if kind == "block":
                child["in_trash"], child["last_edited_time"] = True, now
                erased += 1
        return erased
