"""Page property values on the write path: shape checks as Notion's validator makes them, then the stored form.

A request value is checked against the union of writable value shapes (``{"title": [...]}``, ``{"number": 5}``, ...;
an optional ``"type"`` naming the same key; nothing else). When no shape fits, the error is the validator's: the
deepest failure alone, or ``Fix one:`` with a line per alternative (errors.fix_one). Only then is the value held
against the property's type (``X is expected to be rich_text.``) and decoded: options looked up or created, ids
normalised.

Stored forms (keyed by property id on the page): title/rich_text → rendered rich text items; number → number|None;
checkbox → bool; date → {start,end,time_zone}|None (normalised, see dates.py); select/status → {id,name,color}|None;
multi_select → [option]; url/email/phone_number → str|None; relation → [page id]; people → [user id];
files → [{name, type, external|file}].
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from notion_sandbox.dates import date_value, valid_date
from notion_sandbox.errors import (
    NotionError,
    body_invalid,
    fix_one,
    not_present,
    one_of,
    too_long,
    too_short,
    undefined,
    validation,
)
from notion_sandbox.ids import new_id, normalize_id
from notion_sandbox.text import COLORS, MAX_ARRAY, rich_text_items, utf16_len
from notion_sandbox.users import people_shape

WRITABLE_TYPES = (
    "title",
    "rich_text",
    "number",
    "url",
    "select",
    "multi_select",
    "people",
    "email",
    "phone_number",
    "date",
    "checkbox",
    "relation",
    "files",
    "status",
)
COMPUTED_TYPES = (
    "created_time",
    "last_edited_time",
    "created_by",
    "last_edited_by",
    "formula",
    "rollup",
    "unique_id",
    "button",
    "verification",
)
ALL_TYPES = WRITABLE_TYPES + COMPUTED_TYPES
TEXT_TYPES = ("title", "rich_text")
STRING_LIMITS = {"url": 2000, "email": 200, "phone_number": 200}
MAX_OPTION_NAME = 100
MAX_FILE_NAME = 100
OPTION_KEYS = ("id", "name", "color", "description")
EMPTY_VALUES: dict[str, Any] = {
    "title": [],
    "rich_text": [],
    "number": None,
    "checkbox": False,
    "url": None,
    "email": None,
    "phone_number": None,
    "date": None,
    "select": None,
    "status": None,
    "multi_select": [],
    "relation": [],
    "people": [],
    "files": [],
}

Shape = Callable[[Any, str], Any]


@dataclass
class WriteContext:
    """What decoding a page write needs beyond the value: options created on the way (committed later)."""

    new_options: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


@dataclass(frozen=True)
class Alternative:
    """One shape of a union: its key, the other keys it allows, those it requires, and its inner check."""

    key: str
    shape: Shape
    allowed: tuple[str, ...] = ("type",)
    required: tuple[str, ...] = ()


def one_shape(value: Any, path: str, alternatives: tuple[Alternative, ...]) -> tuple[str, Any]:
    """(key, checked value) of the alternative that fits, else Notion's union error."""
    if not isinstance(value, dict):
        raise body_invalid(path, "an object", value)
    failures: list[NotionError] = []
    for alternative in alternatives:
        try:
            return alternative.key, fitted(value, path, alternative)
        except NotionError as error:
            if error.path is None:
                raise  # not a shape problem: the alternative fits and its value is refused
            failures.append(error)
    raise fix_one(failures)


def fitted(value: dict[str, Any], path: str, alternative: Alternative) -> Any:
    key = alternative.key
    if key not in value:
        raise undefined(f"{path}.{key}")
    for name, given in value.items():
        if name != key and name not in alternative.allowed:
            raise not_present(f"{path}.{name}", given)
    if "type" in value and value["type"] != key:
        raise body_invalid(f"{path}.type", f'`"{key}"`', value["type"])
    for name in alternative.required:
        if name not in value:
            raise undefined(f"{path}.{name}")
    return alternative.shape(value, path)


# ---------------------------------------------------------------- shapes of each value type


def inner(kind: str, check: Shape) -> Shape:
    """A shape check of ``value[kind]`` at ``path.kind``."""
    return lambda value, path: check(value[kind], f"{path}.{kind}")


def number_shape(raw: Any, path: str) -> Any:
    if raw is not None and (isinstance(raw, bool) or not isinstance(raw, int | float)):
        raise body_invalid(path, "a number or `null`", raw)
    return raw


def checkbox_shape(raw: Any, path: str) -> Any:
    if not isinstance(raw, bool):
        raise body_invalid(path, "a boolean", raw)
    return raw


def string_shape(limit: int) -> Shape:
    def check(raw: Any, path: str) -> Any:
        if raw is None:
            return None
        if not isinstance(raw, str):
            raise body_invalid(path, "a string or `null`", raw)
        size = utf16_len(raw)
        if size > limit:
            raise too_long(path, limit, size)
        if size < 1:
            raise too_short(path, 1, size)
        return raw

    return check


def option_shape(raw: Any, path: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise body_invalid(path, "an object", raw)
    for key, given in raw.items():
        if key not in OPTION_KEYS:
            raise not_present(f"{path}.{key}", given)
    if "id" not in raw and "name" not in raw:
        raise fix_one([undefined(f"{path}.id"), undefined(f"{path}.name")])
    if "id" in raw and not isinstance(raw["id"], str):
        raise body_invalid(f"{path}.id", "a string", raw["id"])
    if "name" in raw:
        name = raw["name"]
        if not isinstance(name, str):
            raise body_invalid(f"{path}.name", "a string", name)
        size = utf16_len(name)
        if size > MAX_OPTION_NAME:
            raise too_long(f"{path}.name", MAX_OPTION_NAME, size)
        if size < 1:
            raise too_short(f"{path}.name", 1, size)
    if "color" in raw and raw["color"] not in COLORS:
        raise body_invalid(f"{path}.color", one_of(COLORS), raw["color"])
    if raw.get("description") is not None and not isinstance(raw["description"], str):
        raise body_invalid(f"{path}.description", "a string or `null`", raw["description"])
    return raw


def nullable_option_shape(raw: Any, path: str) -> Any:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise body_invalid(path, "an object or `null`", raw)
    return option_shape(raw, path)


def array_of(item: Shape) -> Shape:
    def check(raw: Any, path: str) -> list[Any]:
        if not isinstance(raw, list):
            raise body_invalid(path, "an array", raw)
        if len(raw) > MAX_ARRAY:
            raise too_long(path, MAX_ARRAY, len(raw))
        return [item(given, f"{path}[{i}]") for i, given in enumerate(raw)]

    return check


def reference_shape(raw: Any, path: str) -> str:
    """A relation or people item: an object with a uuid ``id`` (other keys are not closed by Notion's schema)."""
    given = raw.get("id") if isinstance(raw, dict) else raw
    if not isinstance(raw, dict):
        raise body_invalid(path, "an object", raw)
    if "id" not in raw:
        raise undefined(f"{path}.id")
    found = normalize_id(given)
    if found is None:
        raise body_invalid(f"{path}.id", "a valid uuid", given)
    return found


def references_shape(raw: Any, path: str) -> list[str]:
    ids: list[str] = []
    for found in array_of(reference_shape)(raw, path):
        if found not in ids:
            ids.append(found)
    return ids


def file_name(value: dict[str, Any], path: str) -> str:
    name = value["name"]
    if not isinstance(name, str):
        raise body_invalid(f"{path}.name", "a string", name)
    size = utf16_len(name)
    if size > MAX_FILE_NAME:
        raise too_long(f"{path}.name", MAX_FILE_NAME, size)
    if size < 1:
        raise too_short(f"{path}.name", 1, size)
    return name


def closed(raw: Any, path: str, keys: tuple[str, ...], required: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise body_invalid(path, "an object", raw)
    for key, given in raw.items():
        if key not in keys:
            raise not_present(f"{path}.{key}", given)
    for key in required:
        if key not in raw:
            raise undefined(f"{path}.{key}")
    return raw


def external_file(value: dict[str, Any], path: str) -> dict[str, Any]:
    external = closed(value["external"], f"{path}.external", ("url",), ("url",))
    url = string_shape(STRING_LIMITS["url"])(external["url"], f"{path}.external.url")
    if url is None:
        raise body_invalid(f"{path}.external.url", "a string", None)
    return {"name": file_name(value, path), "type": "external", "external": {"url": url}}


def hosted_file(value: dict[str, Any], path: str) -> dict[str, Any]:
    hosted = closed(value["file"], f"{path}.file", ("url", "expiry_time"), ("url",))
    if not isinstance(hosted["url"], str):
        raise body_invalid(f"{path}.file.url", "a string", hosted["url"])
    expiry = hosted.get("expiry_time")
    if expiry is not None and not valid_date(expiry):
        raise body_invalid(f"{path}.file.expiry_time", "a valid ISO 8601 date string", expiry)
    # A Notion-hosted file's URL is signed for an hour (docs: file object); the sandbox keeps what was sent.
    expiry = expiry or (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {"name": file_name(value, path), "type": "file", "file": {"url": hosted["url"], "expiry_time": expiry}}


def uploaded_file(value: dict[str, Any], path: str) -> dict[str, Any]:
    upload = closed(value["file_upload"], f"{path}.file_upload", ("id",), ("id",))
    # The sandbox has no file uploads, so every upload id names nothing.
    raise validation(f"Could not find file_upload with ID: {upload['id']}.")


FILE_ITEM = (
    Alternative("file", hosted_file, ("name", "type"), ("name",)),
    Alternative("external", external_file, ("name", "type"), ("name",)),
    Alternative("file_upload", uploaded_file, ("name", "type")),
)


def file_shape(raw: Any, path: str) -> dict[str, Any]:
    return one_shape(raw, path, FILE_ITEM)[1]


SHAPES: dict[str, Shape] = {
    "title": rich_text_items,
    "rich_text": rich_text_items,
    "number": number_shape,
    "url": string_shape(STRING_LIMITS["url"]),
    "select": nullable_option_shape,
    "multi_select": array_of(option_shape),
    "people": people_shape,
    "email": string_shape(STRING_LIMITS["email"]),
    "phone_number": string_shape(STRING_LIMITS["phone_number"]),
    "date": date_value,
    "checkbox": checkbox_shape,
    "relation": references_shape,
    "files": array_of(file_shape),
    "status": nullable_option_shape,
}
VALUE = tuple(Alternative(kind, inner(kind, SHAPES[kind])) for kind in WRITABLE_TYPES)


# ---------------------------------------------------------------- decoding against the schema


def decode_value(prop: dict[str, Any], key: str, value: Any, ctx: WriteContext) -> Any:
    """Validate ``value`` written to schema property ``prop`` (request key ``key``); return the stored form."""
    path = f"body.properties.{key}"
    if isinstance(value, list) and prop["type"] in TEXT_TYPES:
        # The short form `{"title": [rich text...]}` used for pages under a page (recorded real requests).
        return rich_text_items(value, path)
    kind, checked = one_shape(value, path, VALUE)
    if kind != prop["type"]:
        raise validation(f"{key} is expected to be {prop['type']}.")
    if kind in ("select", "status"):
        return None if checked is None else option_for(prop, checked, ctx)
    if kind == "multi_select":
        chosen: list[dict[str, Any]] = []
        for given in checked:
            option = option_for(prop, given, ctx)
            if option["id"] not in {o["id"] for o in chosen}:
                chosen.append(option)
        return chosen
    return checked


def option_for(prop: dict[str, Any], raw: dict[str, Any], ctx: WriteContext) -> dict[str, Any]:
    """An existing option by id or name; select names not yet known are created (status names are not)."""
    options = prop["config"].setdefault("options", []) + [o for p, o in ctx.new_options if p == prop["id"]]
    if "id" in raw:
        found = next((o for o in options if o["id"] == raw["id"]), None)
        if found is None:
            raise validation(f"Invalid {prop['type']} option id: {raw['id']}")
        return {"id": found["id"], "name": found["name"], "color": found["color"]}
    name = raw["name"]
    if "," in name and prop["type"] != "status":
        raise validation(f"Invalid select option, commas not allowed: {name}")
    found = next((o for o in options if o["name"] == name), None)
    if found is None:
        if prop["type"] == "status":
            raise validation(f'Invalid status option. Status option "{name}" does not exist.')
        found = new_option(name, len(options), raw.get("color"))
        ctx.new_options.append((prop["id"], found))
    elif "color" in raw and raw["color"] != found["color"]:
        raise validation("Select option color doesn't match existing")
    return {"id": found["id"], "name": found["name"], "color": found["color"]}


def new_option(name: str, index: int, color: Any = None) -> dict[str, Any]:
    chosen = color if color in COLORS else COLORS[(index + 1) % len(COLORS)]
    return {"id": new_id(), "name": name, "color": chosen, "description": None}


def stored_or_empty(prop: dict[str, Any], stored: dict[str, Any]) -> Any:
    value = stored.get(prop["id"], EMPTY_VALUES.get(prop["type"]))
    return list(value) if isinstance(value, list) else value
