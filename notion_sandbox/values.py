"""Page property values: validate a request value into its stored form, render a stored value.

Stored forms (keyed by property id on the page): title/rich_text → rendered rich text items; number → number|None;
checkbox → bool; date → {start,end,time_zone}|None; select/status → {id,name,color}|None; multi_select → [option];
url/email/phone_number → str|None; relation → [page id]; people → [user id].
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from notion_sandbox.errors import UNDEFINED, body_invalid, too_long, validation
from notion_sandbox.ids import minute_stamp, new_id, normalize_id

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
MAX_TEXT = 2000
MAX_ARRAY = 100
MAX_EQUATION = 1000
COLORS = ("default", "gray", "brown", "orange", "yellow", "green", "blue", "purple", "pink", "red")
TEXT_COLORS = COLORS + tuple(f"{c}_background" for c in COLORS[1:])
DEFAULT_ANNOTATIONS = {
    "bold": False,
    "italic": False,
    "strikethrough": False,
    "underline": False,
    "code": False,
    "color": "default",
}
BOT_USER_ID = "5b8183bd-8984-4417-b2a6-7dc8e439e679"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class WriteContext:
    """What decoding a page write needs beyond the value: options created on the way (committed later)."""

    new_options: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def fix_one_message(path: str) -> str:
    """The error Notion gives for a value with no writable type key (e.g. writing a formula)."""
    lines = [f"{path}.{t} should be defined, instead was `undefined`." for t in WRITABLE_TYPES]
    return "body failed validation. Fix one:\n" + "\n".join(lines)


# ---------------------------------------------------------------- rich text


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
    kind = item.get("type") or ("equation" if "equation" in item and "text" not in item else "text")
    annotations = annotation_set(item.get("annotations", UNDEFINED), f"{path}.annotations")
    if kind == "equation":
        return equation_item(item.get("equation", UNDEFINED), path, annotations)
    if kind != "text":
        raise body_invalid(f"{path}.type", '`"text"` or `"equation"`', kind)
    text = item.get("text", UNDEFINED)
    if not isinstance(text, dict):
        raise body_invalid(f"{path}.text", "an object" if text is not UNDEFINED else "defined", text)
    content = text.get("content", UNDEFINED)
    if not isinstance(content, str):
        raise body_invalid(f"{path}.text.content", "a string" if content is not UNDEFINED else "defined", content)
    if len(content) > MAX_TEXT:
        raise too_long(f"{path}.text.content", MAX_TEXT, len(content))
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
        raise body_invalid(f"{path}.equation.expression", "a string", expression)
    if len(expression) > MAX_EQUATION:
        raise too_long(f"{path}.equation.expression", MAX_EQUATION, len(expression))
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
    if len(url) > STRING_LIMITS["url"]:
        raise too_long(f"{path}.url", STRING_LIMITS["url"], len(url))
    return {"url": url}


def annotation_set(value: Any, path: str) -> dict[str, Any]:
    if value is UNDEFINED or value is None:
        return dict(DEFAULT_ANNOTATIONS)
    if not isinstance(value, dict):
        raise body_invalid(path, "an object", value)
    out = dict(DEFAULT_ANNOTATIONS)
    for key, given in value.items():
        if key not in DEFAULT_ANNOTATIONS:
            raise body_invalid(f"{path}.{key}", "not present", given)
        if key == "color" and given not in TEXT_COLORS:
            raise body_invalid(f"{path}.color", "a valid color", given)
        if key != "color" and not isinstance(given, bool):
            raise body_invalid(f"{path}.{key}", "a boolean", given)
        out[key] = given
    return out


def plain_text(items: list[dict[str, Any]]) -> str:
    return "".join(item.get("plain_text", "") for item in items)


def text_items(content: str) -> list[dict[str, Any]]:
    """Rendered rich text for a plain string (used by seeds and titles)."""
    return [rich_text_item({"text": {"content": content}}, "seed")] if content else []


# ---------------------------------------------------------------- page values (write path)


def value_type(value: Any) -> str | None:
    """The property type a request value is written as: its ``type`` key, else its first type key."""
    if not isinstance(value, dict):
        return None
    declared = value.get("type")
    if declared in ALL_TYPES:
        return declared
    return next((key for key in value if key in ALL_TYPES), None)


def decode_value(prop: dict[str, Any], key: str, value: Any, ctx: WriteContext) -> Any:
    """Validate ``value`` written to schema property ``prop`` (request key ``key``); return the stored form."""
    path = f"body.properties.{key}"
    if isinstance(value, list) and prop["type"] in TEXT_TYPES:
        # The short form `{"title": [rich text...]}` used for pages under a page (recorded real requests).
        return rich_text_items(value, path)
    written = value_type(value)
    if written is None or written in COMPUTED_TYPES:
        raise validation(fix_one_message(path))
    if written != prop["type"]:
        raise validation(f"{key} is expected to be {prop['type']}.")
    raw = value.get(written, UNDEFINED)
    return DECODERS[written](prop, raw, f"{path}.{written}", ctx)


def decode_text(prop: dict[str, Any], raw: Any, path: str, ctx: WriteContext) -> Any:
    return rich_text_items(raw, path)


def decode_number(prop: dict[str, Any], raw: Any, path: str, ctx: WriteContext) -> Any:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise body_invalid(path, "a number or `null`", raw)
    return raw


def decode_checkbox(prop: dict[str, Any], raw: Any, path: str, ctx: WriteContext) -> Any:
    if not isinstance(raw, bool):
        raise body_invalid(path, "a boolean", raw)
    return raw


def decode_string(prop: dict[str, Any], raw: Any, path: str, ctx: WriteContext) -> Any:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise body_invalid(path, "a string or `null`", raw)
    limit = STRING_LIMITS[prop["type"]]
    if len(raw) > limit:
        raise too_long(path, limit, len(raw))
    return raw or None


def decode_date(prop: dict[str, Any], raw: Any, path: str, ctx: WriteContext) -> Any:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise body_invalid(path, "an object or `null`", raw)
    start = raw.get("start", UNDEFINED)
    if not isinstance(start, str) or not valid_date(start):
        raise body_invalid(f"{path}.start", "a valid ISO 8601 date string", start)
    end = raw.get("end")
    if end is not None and (not isinstance(end, str) or not valid_date(end)):
        raise body_invalid(f"{path}.end", "a valid ISO 8601 date string or `null`", end)
    zone = raw.get("time_zone")
    if zone is not None and not isinstance(zone, str):
        raise body_invalid(f"{path}.time_zone", "a string or `null`", zone)
    return {"start": start, "end": end, "time_zone": zone}


def valid_date(text: str) -> bool:
    try:
        if _DATE.match(text):
            date.fromisoformat(text)
        else:
            datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def decode_select(prop: dict[str, Any], raw: Any, path: str, ctx: WriteContext) -> Any:
    if raw is None:
        return None
    return option_for(prop, raw, path, ctx)


def decode_multi_select(prop: dict[str, Any], raw: Any, path: str, ctx: WriteContext) -> Any:
    if not isinstance(raw, list):
        raise body_invalid(path, "an array", raw)
    if len(raw) > MAX_ARRAY:
        raise too_long(path, MAX_ARRAY, len(raw))
    chosen: list[dict[str, Any]] = []
    for i, item in enumerate(raw):
        option = option_for(prop, item, f"{path}[{i}]", ctx)
        if option["id"] not in {o["id"] for o in chosen}:
            chosen.append(option)
    return chosen


def option_for(prop: dict[str, Any], raw: Any, path: str, ctx: WriteContext) -> dict[str, Any]:
    """An existing option by id or name; select names not yet known are created (status names are not)."""
    if not isinstance(raw, dict) or ("name" not in raw and "id" not in raw):
        raise body_invalid(f"{path}.name", "defined", raw.get("name", UNDEFINED) if isinstance(raw, dict) else raw)
    options = prop["config"].setdefault("options", []) + [o for p, o in ctx.new_options if p == prop["id"]]
    if "id" in raw:
        found = next((o for o in options if o["id"] == raw["id"]), None)
        if found is None:
            raise validation(f"Invalid {prop['type']} option id: {raw['id']}")
        return {"id": found["id"], "name": found["name"], "color": found["color"]}
    name = raw["name"]
    if not isinstance(name, str):
        raise body_invalid(f"{path}.name", "a string", name)
    if "," in name and prop["type"] != "status":
        raise validation(f"Invalid select option, commas not allowed: {name}")
    if len(name) > 100:
        raise too_long(f"{path}.name", 100, len(name))
    found = next((o for o in options if o["name"] == name), None)
    if found is None:
        if prop["type"] == "status":
            raise validation(f'Invalid status option. Status option "{name}" does not exist.')
        found = new_option(name, len(options), raw.get("color"))
        ctx.new_options.append((prop["id"], found))
    return {"id": found["id"], "name": found["name"], "color": found["color"]}


def new_option(name: str, index: int, color: Any = None) -> dict[str, Any]:
    chosen = color if color in COLORS else COLORS[(index + 1) % len(COLORS)]
    return {"id": new_id(), "name": name, "color": chosen, "description": None}


def decode_relation(prop: dict[str, Any], raw: Any, path: str, ctx: WriteContext) -> Any:
    return id_list(raw, path)


def decode_people(prop: dict[str, Any], raw: Any, path: str, ctx: WriteContext) -> Any:
    return id_list(raw, path)


def id_list(raw: Any, path: str) -> list[str]:
    if not isinstance(raw, list):
        raise body_invalid(path, "an array", raw)
    if len(raw) > MAX_ARRAY:
        raise too_long(path, MAX_ARRAY, len(raw))
    out: list[str] = []
    for i, item in enumerate(raw):
        given = item.get("id", UNDEFINED) if isinstance(item, dict) else UNDEFINED
        found = normalize_id(given)
        if found is None:
            raise body_invalid(f"{path}[{i}].id", "a valid uuid", given)
        if found not in out:
            out.append(found)
    return out


def decode_files(prop: dict[str, Any], raw: Any, path: str, ctx: WriteContext) -> Any:
    if not isinstance(raw, list):
        raise body_invalid(path, "an array", raw)
    if len(raw) > MAX_ARRAY:
        raise too_long(path, MAX_ARRAY, len(raw))
    return raw


DECODERS = {
    "title": decode_text,
    "rich_text": decode_text,
    "number": decode_number,
    "checkbox": decode_checkbox,
    "url": decode_string,
    "email": decode_string,
    "phone_number": decode_string,
    "date": decode_date,
    "select": decode_select,
    "status": decode_select,
    "multi_select": decode_multi_select,
    "relation": decode_relation,
    "people": decode_people,
    "files": decode_files,
}

# ---------------------------------------------------------------- page values (read path)

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


def user_ref(user_id: str = BOT_USER_ID) -> dict[str, str]:
    return {"object": "user", "id": user_id}


def stored_or_empty(prop: dict[str, Any], stored: dict[str, Any]) -> Any:
    value = stored.get(prop["id"], EMPTY_VALUES.get(prop["type"]))
    return list(value) if isinstance(value, list) else value


def render_value(prop: dict[str, Any], page: dict[str, Any], relation_cap: int = 25) -> dict[str, Any]:
    """A page property value as Notion returns it: ``{"id", "type", "<type>": value}``."""
    kind = prop["type"]
    out: dict[str, Any] = {"id": prop["id"], "type": kind}
    if kind == "relation":
        refs = stored_or_empty(prop, page["props"])
        out["relation"] = [{"id": ref} for ref in refs[:relation_cap]]
        out["has_more"] = len(refs) > relation_cap
    elif kind == "people":
        out["people"] = [user_ref(u) for u in stored_or_empty(prop, page["props"])]
    elif kind in COMPUTED_TYPES:
        out[kind] = computed_value(prop, page)
    else:
        out[kind] = stored_or_empty(prop, page["props"])
    return out


def computed_value(prop: dict[str, Any], page: dict[str, Any]) -> Any:
    """Computed properties: timestamps and users are real; formula/rollup are not evaluated (null results)."""
    kind = prop["type"]
    if kind in ("created_time", "last_edited_time"):
        return minute_stamp(page[kind])
    if kind in ("created_by", "last_edited_by"):
        return user_ref()
    if kind == "formula":
        return {"type": "string", "string": None}
    if kind == "rollup":
        return {"type": "number", "number": None, "function": prop["config"].get("function", "count")}
    if kind == "unique_id":
        return {"prefix": prop["config"].get("prefix"), "number": page.get("number", 1)}
    if kind == "button":
        return {}
    return None
