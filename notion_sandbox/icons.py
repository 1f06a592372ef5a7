"""Icons and covers of pages, databases and data sources: the request unions and the stored (rendered) form.

An icon is one of ``file_upload``, ``emoji``, ``external``, ``custom_emoji`` (official document ``pageIconRequest``,
in its order); a cover is ``file_upload`` or ``external`` (``pageCoverRequest``). As for blocks, a ``type`` naming a
branch selects it and its failure is reported alone; otherwise every branch's failure is listed (``Fix one:``), as
in the real answer to ``{"type": "externaeel", "external": {...}}``. The emoji must be an emoji character: Notion
answers a name with its whole list of emoji (``body.icon.emoji should be `"😀"`, `"😃"`, ...``); the sandbox checks
the character against the Unicode emoji blocks and abbreviates the list.
"""

from __future__ import annotations

from typing import Any

from notion_sandbox.errors import (
    UNDEFINED,
    NotionError,
    body_invalid,
    fix_one,
    located,
    shown,
    too_long,
    too_short,
    undefined,
    validation,
)
from notion_sandbox.text import MAX_URL, utf16_len

ICON_KINDS = ("file_upload", "emoji", "external", "custom_emoji")
COVER_KINDS = ("file_upload", "external")
EMOJI_SAMPLE = ("😀", "😃", "😄", "😁", "😆", "😅")
# Emoji code points: the pictographic blocks and the older symbols Notion's picker offers.
EMOJI_RANGES = (
    (0x1F000, 0x1FAFF),
    (0x2600, 0x27BF),
    (0x2300, 0x23FF),
    (0x2B00, 0x2BFF),
    (0x2190, 0x21FF),
    (0x2900, 0x297F),
    (0x25A0, 0x25FF),
    (0x3030, 0x3030),
    (0x303D, 0x303D),
    (0x3297, 0x3299),
    (0x00A9, 0x00A9),
    (0x00AE, 0x00AE),
    (0x203C, 0x203C),
    (0x2049, 0x2049),
    (0x2122, 0x2122),
    (0x2139, 0x2139),
    (0x24C2, 0x24C2),
)
JOINERS = {0x200D, 0xFE0F, 0xFE0E, 0x20E3}
TAGS = (0xE0020, 0xE007F)
KEYCAP_BASES = set("0123456789#*")
MAX_EMOJI_CODE_POINTS = 16


def is_emoji(text: str) -> bool:
    """One emoji (a sequence joined by ZWJ, with variation selectors, skin tones, tags or a keycap)."""
    if not text or len(text) > MAX_EMOJI_CODE_POINTS:
        return False
    pictographs = 0
    for i, ch in enumerate(text):
        code = ord(ch)
        keycap = ch in KEYCAP_BASES and i == 0 and "\u20e3" in text
        if keycap or any(low <= code <= high for low, high in EMOJI_RANGES):
            pictographs += 1
        elif code not in JOINERS and not TAGS[0] <= code <= TAGS[1]:
            return False
    return pictographs > 0


def icon_value(raw: Any, path: str, nullable: bool = True) -> dict[str, Any] | None:
    return image_value(raw, path, ICON_KINDS, nullable)


def cover_value(raw: Any, path: str, nullable: bool = True) -> dict[str, Any] | None:
    return image_value(raw, path, COVER_KINDS, nullable)


def image_value(raw: Any, path: str, kinds: tuple[str, ...], nullable: bool) -> dict[str, Any] | None:
    if raw is None and nullable:
        return None
    if not isinstance(raw, dict):
        raise body_invalid(path, "an object or `null`" if nullable else "an object", raw)
    declared = raw.get("type")
    if isinstance(declared, str) and declared in kinds:
        return branch(raw, path, declared)
    failures: list[NotionError] = []
    for kind in kinds:
        try:
            return branch(raw, path, kind)
        except NotionError as error:
            if error.path is None:
                raise
            failures.append(error)
    raise fix_one(failures)


def branch(raw: dict[str, Any], path: str, kind: str) -> dict[str, Any]:
    if kind not in raw:
        raise undefined(f"{path}.{kind}")
    if "type" in raw and raw["type"] != kind:
        raise body_invalid(f"{path}.type", f'`"{kind}"` or `undefined`', raw["type"])
    given = raw[kind]
    if kind == "emoji":
        return {"type": "emoji", "emoji": emoji(given, f"{path}.emoji")}
    if kind == "external":
        return {"type": "external", "external": {"url": external_url(given, f"{path}.external")}}
    reference = given.get("id", UNDEFINED) if isinstance(given, dict) else UNDEFINED
    if not isinstance(given, dict):
        raise body_invalid(f"{path}.{kind}", "an object", given)
    if not isinstance(reference, str):
        raise body_invalid(f"{path}.{kind}.id", "a string", reference)
    # The sandbox has no file uploads and no custom emoji: every such id names nothing.
    raise validation(f"Could not find {kind} with ID: {reference}.")


def emoji(given: Any, path: str) -> str:
    if isinstance(given, str) and is_emoji(given):
        return given
    sample = ", ".join(f'`"{e}"`' for e in EMOJI_SAMPLE)
    raise located(path, f"{path} should be {sample}, … (any emoji), instead was `{shown(given)}`.")


def external_url(given: Any, path: str) -> str:
    if not isinstance(given, dict):
        raise body_invalid(path, "an object", given)
    url = given.get("url", UNDEFINED)
    if url is UNDEFINED:
        raise undefined(f"{path}.url")
    if not isinstance(url, str):
        raise body_invalid(f"{path}.url", "a string", url)
    size = utf16_len(url)
    if size > MAX_URL:
        raise too_long(f"{path}.url", MAX_URL, size)
    if size < 1:
        raise too_short(f"{path}.url", 1, size)
    return url
