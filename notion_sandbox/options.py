"""Select and multi-select options in a data source schema: new ones on create, the PATCH merge, and config shapes.

Docs "Update data source properties": the ``options`` sent replace the list ("If an existing option is omitted, it
will be removed from the database property. New options will be added"), and "the name and color of an existing
option cannot be updated". A changed colour fails the whole request with ``Cannot update color of select with name:
X.`` (or ``with id: X.``), also for multi-select properties (OBS: the messages quoted in several public projects, e.g.
"Cannot update color of select with name: Carol." for a multi-select); a changed name sent with an option's id is
ignored (OBS: "la API devuelve 200 OK pero ignora silenciosamente el cambio de name"). Status options cannot be set
through the API at all: a status configuration is the empty object (official document
``statusPropertyConfigurationRequest``), and so are the configurations of the types without settings.
"""

from __future__ import annotations

from typing import Any

from notion_sandbox.errors import UNDEFINED, body_invalid, fix_one, not_present, one_of, too_long, undefined, validation
from notion_sandbox.text import COLORS, MAX_ARRAY, utf16_len
from notion_sandbox.values import MAX_OPTION_NAME, OPTION_KEYS, new_option

# The keys each property type's configuration may hold (official document, ``*PropertyConfigurationRequest``).
CONFIG_KEYS: dict[str, tuple[str, ...]] = {
    "number": ("format",),
    "select": ("options",),
    "multi_select": ("options",),
    "formula": ("expression",),
    "unique_id": ("prefix",),
    "rollup": (
        "function",
        "relation_property_name",
        "relation_property_id",
        "rollup_property_name",
        "rollup_property_id",
    ),
}
OPEN_CONFIGS = ("relation",)  # checked by the relation rules themselves


def check_config_keys(kind: str, body: dict[str, Any], path: str) -> None:
    """Refuse keys a configuration does not have (a status configuration is ``{}``)."""
    if kind in OPEN_CONFIGS:
        return
    allowed = CONFIG_KEYS.get(kind, ())
    for key, given in body.items():
        if key not in allowed:
            raise not_present(f"{path}.{key}", given)


def option_spec(item: Any, path: str) -> dict[str, Any]:
    """One option of a schema request: ``{"name"}`` or ``{"id"}``, with an optional colour and description."""
    if not isinstance(item, dict):
        raise body_invalid(path, "an object", item)
    for key, given in item.items():
        if key not in OPTION_KEYS:
            raise not_present(f"{path}.{key}", given)
    if "name" not in item and "id" not in item:
        raise fix_one([undefined(f"{path}.name"), undefined(f"{path}.id")])
    if "id" in item and not isinstance(item["id"], str):
        raise body_invalid(f"{path}.id", "a string", item["id"])
    if "name" in item:
        name = item["name"]
        if not isinstance(name, str):
            raise body_invalid(f"{path}.name", "a string", name)
        size = utf16_len(name)
        if size > MAX_OPTION_NAME:
            raise too_long(f"{path}.name", MAX_OPTION_NAME, size)
        if "," in name:
            raise validation(f"Invalid select option, commas not allowed: {name}")
    if "color" in item and item["color"] not in COLORS:
        raise body_invalid(f"{path}.color", one_of(COLORS), item["color"])
    if item.get("description") is not None and not isinstance(item["description"], str):
        raise body_invalid(f"{path}.description", "a string or `null`", item["description"])
    return item


def option_list(given: Any, path: str) -> list[dict[str, Any]]:
    if not isinstance(given, list):
        raise body_invalid(path, "an array", given)
    if len(given) > MAX_ARRAY:
        raise too_long(path, MAX_ARRAY, len(given))
    return [option_spec(item, f"{path}[{i}]") for i, item in enumerate(given)]


def options_from_spec(given: Any, path: str) -> list[dict[str, Any]]:
    """The options of a new property (an id names nothing yet: such an option needs its name)."""
    out: list[dict[str, Any]] = []
    for i, item in enumerate(option_list(given, path)):
        if "name" not in item:
            raise undefined(f"{path}[{i}].name")
        if item["name"] in {o["name"] for o in out}:
            continue
        option = new_option(item["name"], i, item.get("color"))
        option["description"] = item.get("description")
        out.append(option)
    return out


def merge_options(current: list[dict[str, Any]], given: Any, path: str) -> list[dict[str, Any]]:
    """The option list after a PATCH: the options sent, existing ones kept as they were (colour checked)."""
    by_id = {o["id"]: o for o in current}
    by_name = {o["name"]: o for o in current}
    merged: list[dict[str, Any]] = []
    for i, item in enumerate(option_list(given, path)):
        old = by_id.get(item["id"]) if "id" in item else by_name.get(item["name"])
        if old is None and "id" in item:
            raise validation(f"Invalid select option id: {item['id']}. No option with this id exists.")
        if old is None:
            option = new_option(item["name"], len(current) + i, item.get("color"))
            option["description"] = item.get("description")
        else:
            if "color" in item and item["color"] != old["color"]:
                named = f"id: {item['id']}" if "id" in item else f"name: {item['name']}"
                raise validation(f"Cannot update color of select with {named}.")
            option = dict(old)
            if "description" in item:
                option["description"] = item["description"]
        if option["id"] not in {o["id"] for o in merged}:
            merged.append(option)
    return merged


def drop_removed_options(pages: list[dict[str, Any]], prop: dict[str, Any], kept: list[dict[str, Any]]) -> None:
    """Pages lose the values of options removed from the schema."""
    ids = {o["id"] for o in kept}
    for page in pages:
        value = page["props"].get(prop["id"], UNDEFINED)
        if prop["type"] == "select" and isinstance(value, dict) and value["id"] not in ids:
            page["props"][prop["id"]] = None
        elif prop["type"] == "multi_select" and isinstance(value, list):
            page["props"][prop["id"]] = [o for o in value if o["id"] in ids]
