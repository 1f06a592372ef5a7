"""The parts of a page that are not properties: its body, icon and cover, planned like properties.

Each is a PropertyChange whose type is one of model.PAGE_LEVEL_TYPES (so renderers, drift and the
run log treat it as they treat a property); a body change also brings the block calls that make
it (reconcile.content.diff), which the action carries for apply.

The body's hash property is written with every body write (also when its value stays: writing
the page makes this integration its last editor again, which a body edit through the API does not:
docs/sandbox.md "Blocks"), and never when the body was not read: a hash must only ever describe a
body the plan has seen or writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from reconcile.content.blocks import markdown_hash
from reconcile.content.diff import Op, body_ops, create_ops, owned, same_body
from reconcile.content.markdown import Node, parsed
from reconcile.content.text import to_markdown
from reconcile.model import BODY_TYPE, COVER_TYPE, ICON_TYPE, DesiredPage, PageState, PropertyChange, ResourceConfig

BODY, ICON, COVER = "body", "icon", "cover"
HASH_TYPE = "rich_text"


@dataclass(frozen=True)
class PartChanges:
    changes: tuple[PropertyChange, ...] = ()
    blocks: tuple[Op, ...] = ()
    written_last: tuple[str, ...] = ()


def desired_nodes(page: DesiredPage) -> list[Node]:
    return parsed(page.body or "")


def desired_hash(r: ResourceConfig, page: DesiredPage, schema: dict[str, str]) -> tuple[str, str] | None:
    """(hash property, the desired body's hash), when the resource keeps one its schema can hold."""
    name = r.content.hash_property if r.content is not None else None
    if not name or schema.get(name) != HASH_TYPE:
        return None
    return name, markdown_hash(page.body or "")


def icon_value(value: Any) -> str | None:
    text = "" if value is None else str(value).strip()
    return text or None


def is_url(value: str) -> bool:
    return value.startswith(("https://", "http://"))


def part_problem(r: ResourceConfig, page: DesiredPage) -> str | None:
    """Why the page's icon or cover cannot be written, if it cannot."""
    cover = icon_value(page.cover) if r.cover is not None else None
    if cover is not None and not is_url(cover):
        return "cover: must be an http(s) image URL"
    icon = icon_value(page.icon) if r.icon is not None else None
    if icon is not None and not is_url(icon) and len(icon) > 16:
        return "icon: must be an emoji or an http(s) image URL"
    return None


def icon_cover_changes(r: ResourceConfig, page: DesiredPage, live: PageState | None) -> list[PropertyChange]:
    out = []
    for configured, name, kind, wanted, now in (
        (r.icon, ICON, ICON_TYPE, page.icon, live.icon if live else None),
        (r.cover, COVER, COVER_TYPE, page.cover, live.cover if live else None),
    ):
        after = icon_value(wanted)
        if configured is not None and after != now and not (live is None and after is None):
            out.append(PropertyChange(name=name, type=kind, before=now, after=after))
    return out


def body_change(
    r: ResourceConfig, page: DesiredPage, live: PageState, changes: tuple[PropertyChange, ...], schema: dict[str, str]
) -> PartChanges:
    """Property changes with the body's (and its hash's) added or held back, and the block calls."""
    if r.content is None:
        return PartChanges(changes)
    hashed = desired_hash(r, page, schema)
    if live.body is None:  # not read: the hash on the page may stand only for a body it describes
        return PartChanges(tuple(c for c in changes if hashed is None or c.name != hashed[0]))
    desired = desired_nodes(page)
    if same_body(list(live.body), desired):
        return PartChanges(changes)
    before = to_markdown(owned(list(live.body)))
    body = PropertyChange(name=BODY, type=BODY_TYPE, before=before, after=shown_markdown(page.body or ""))
    out = [c for c in changes if hashed is None or c.name != hashed[0]]
    if hashed is not None:
        out.append(PropertyChange(hashed[0], HASH_TYPE, live.values.get(hashed[0]) or "", hashed[1]))
    return PartChanges((*out, body), tuple(body_ops(list(live.body), desired)))


def created_body(
    r: ResourceConfig, page: DesiredPage, changes: tuple[PropertyChange, ...], schema: dict[str, str]
) -> PartChanges:
    """A new page's body: the change (nothing before it), the blocks to send, and the hash written
    last when part of the body goes in calls after the create."""
    if r.content is None:
        return PartChanges(changes)
    desired = desired_nodes(page)
    hashed = desired_hash(r, page, schema)
    out = [c for c in changes if hashed is None or c.name != hashed[0]]
    if hashed is not None:
        out.append(PropertyChange(hashed[0], HASH_TYPE, None, hashed[1]))
    if not desired:
        return PartChanges(tuple(out))
    ops = new_body_ops(page.body or "")
    later = (hashed[0],) if hashed is not None and any(op["op"] != "with_create" for op in ops) else ()
    body = PropertyChange(name=BODY, type=BODY_TYPE, before=None, after=shown_markdown(page.body or ""))
    return PartChanges((*out, body), ops, later)


@lru_cache(maxsize=4096)
def new_body_ops(markdown: str) -> tuple[Op, ...]:
    """A new page's block calls for this Markdown (many pages share a body). Shared: never change them."""
    return tuple(create_ops(parsed(markdown)))


@lru_cache(maxsize=4096)
def shown_markdown(markdown: str) -> str:
    """The Markdown as the plan shows it: read, then written back in one spelling."""
    return to_markdown(parsed(markdown))
