"""Rich text: validate a request array into its rendered items; lengths in UTF-16 code units, as Notion counts them.

Notion measures every string limit in UTF-16 code units (JavaScript's ``length``): "😀" counts 2, so 1,001 of them
are 2,002 units and over the 2,000 limit (see docs/sandbox.md for the source).
"""

from __future__ import annotations

from typing import Any

from notion_sandbox.errors import UNDEFINED, body_invalid, not_present, one_of, too_long, undefined

MAX_TEXT = 2000
MAX_URL = 2000
MAX_ARRAY = 100
MAX_EQUATION = 1000
COLORS = ("default", "gray", "brown", "orange", "yellow", "green", "blue", "purple", "pink", "red")
TEXT_COLORS = COLORS + tuple(f"{c}_background" for c in COLORS)
DEFAULT_ANNOTATIONS = {
    "bold": False,
    "italic": False,
    "strikethrough": False,
    "underline": False,
    "code": False,
    "color": "default",
}
# The official schema closes the inner `text` object but not the item: the read-only `plain_text` and `href` of a
# response item sent back are tolerated, anything else is not.
ITEM_KEYS = ("type", "text", "equation", "mention", "annotations", "plain_text", "href")


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: characters outside the Basic Multilingual Plane count twice."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def check_length(text: str, limit: int, path: str) -> None:
    size = utf16_len(text)
    if size > limit:
        raise too_long(path, limit, size)


def rich_text_items(value: Any, path: str) -> list[dict[str, Any]]:
    """Validate a request rich text array and return its rendered items."""
    if not isinstance(value, list):
        raise body_invalid(path, "an array", value)
    if len(value) > MAX_ARRAY:
        raise too_long(path, MAX_ARRAY, len(value))
    return [rich_text_item(item, f"{path}[{i}]") for i, item in enumerate(value)]


def rich_text_item(item: Any, path: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise body_invalid(path, "an object", item)
    for key, given in item.items():
        if key not in ITEM_KEYS:
            raise not_present(f"{path}.{key}", given)
    kind = item.get("type") or ("equation" if "equation" in item and "text" not in item else "text")
    annotations = annotation_set(item.get("annotations", UNDEFINED), f"{path}.annotations")
    if kind == "equation":
        return equation_item(item.get("equation", UNDEFINED), f"{path}.equation", annotations)
    if kind != "text":
        raise body_invalid(f"{path}.type", one_of(("text", "equation")), kind)
    text = item.get("text", UNDEFINED)
    if text is UNDEFINED:
        raise undefined(f"{path}.text")
    if not isinstance(text, dict):
        raise body_invalid(f"{path}.text", "an object", text)
    for key, given in text.items():
        if key not in ("content", "link"):
            raise not_present(f"{path}.text.{key}", given)
    content = text.get("content", UNDEFINED)
    if content is UNDEFINED:
        raise undefined(f"{path}.text.content")
    if not isinstance(content, str):
        raise body_invalid(f"{path}.text.content", "a string", content)
    check_length(content, MAX_TEXT, f"{path}.text.content")
    link = link_value(text.get("link"), f"{path}.text.link")
    return {
        "type": "text",
        "text": {"content": content, "link": link},
        "annotations": annotations,
        "plain_text": content,
        "href": link["url"] if link else None,
    }


def equation_item(equation: Any, path: str, annotations: dict[str, Any]) -> dict[str, Any]:
    expression = equation.get("expression", UNDEFINED) if isinstance(equation, dict) else UNDEFINED
    if not isinstance(expression, str):
        raise body_invalid(f"{path}.expression", "a string", expression)
    check_length(expression, MAX_EQUATION, f"{path}.expression")
    return {
        "type": "equation",
        "equation": {"expression": expression},
        "annotations": annotations,
        "plain_text": expression,
        "href": None,
    }


def link_value(link: Any, path: str) -> dict[str, str] | None:
    if link is None:
        return None
    url = link.get("url", UNDEFINED) if isinstance(link, dict) else UNDEFINED
    if not isinstance(url, str):
        raise body_invalid(f"{path}.url", "a string", url)
    check_length(url, MAX_URL, f"{path}.url")
    return {"url": url}


def annotation_set(value: Any, path: str) -> dict[str, Any]:
    if value is UNDEFINED or value is None:
        return dict(DEFAULT_ANNOTATIONS)
    if not isinstance(value, dict):
        raise body_invalid(path, "an object", value)
    out = dict(DEFAULT_ANNOTATIONS)
    for key, given in value.items():
        if key not in DEFAULT_ANNOTATIONS:
            raise not_present(f"{path}.{key}", given)
        if key == "color" and given not in TEXT_COLORS:
            raise body_invalid(f"{path}.color", one_of(TEXT_COLORS), given)
        if key != "color" and not isinstance(given, bool):
            raise body_invalid(f"{path}.{key}", "a boolean", given)
        out[key] = given
    return out


def plain_text(items: list[dict[str, Any]]) -> str:
    return "".join(item.get("plain_text", "") for item in items)


def text_items(content: str) -> list[dict[str, Any]]:
    """Rendered rich text for a plain string (used by seeds and titles)."""
    return [rich_text_item({"text": {"content": content}}, "seed")] if content else []
