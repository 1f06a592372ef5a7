"""Data source schemas: property specs on create, PATCH semantics (rename, retype, remove), options, dual relations.

``SchemaRules`` is a part of ``Store`` (a mixin): it works on the store's data sources and pages.
"""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import unquote

from notion_sandbox.errors import UNDEFINED, body_invalid, too_long, too_short, undefined, validation
from notion_sandbox.ids import new_id, new_property_id, normalize_id
from notion_sandbox.options import check_config_keys, drop_removed_options, merge_options, options_from_spec
from notion_sandbox.text import utf16_len
from notion_sandbox.values import ALL_TYPES

MAX_DESCRIPTION = 280


class SchemaRules:
    """Schema changes of a data source; mixed into Store, whose lookups it uses."""

    data_sources: dict[str, Any]

    def database(self, database_id: str) -> dict[str, Any]:
        raise NotImplementedError

    def data_source(self, data_source_id: str) -> dict[str, Any]:
        raise NotImplementedError

    def only_source(self, db: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def pages_of(self, data_source_id: str, include_trashed: bool = False) -> list[dict[str, Any]]:
        raise NotImplementedError

    def touch(self, page: dict[str, Any]) -> None:
        raise NotImplementedError

    def data_source_title(self, ds: dict[str, Any]) -> str:
        raise NotImplementedError

    def find_property(self, ds_or_schema: Any, key: str) -> dict[str, Any] | None:
        """A schema property by name, else by id (Notion accepts either)."""
        schema = ds_or_schema["properties"] if isinstance(ds_or_schema, dict) else ds_or_schema
        by_name = next((p for p in schema if p["name"] == key), None)
        return by_name or next((p for p in schema if key in (p["id"], unquote(p["id"]))), None)

    def add_properties(self, ds: dict[str, Any], specs: Any, path: str, legacy: bool = False) -> None:
        """Create the properties of a new data source (a title ``Name`` is added when none is given)."""
        if not isinstance(specs, dict):
            raise body_invalid(path, "an object", specs)
        reciprocals: list[dict[str, Any]] = []
        for name, spec in specs.items():
            prop = self.property_from_spec(ds, name, spec, f"{path}.{name}", legacy)
            if prop["type"] == "title" and any(p["type"] == "title" for p in ds["properties"]):
                raise validation("Cannot create a data source with more than one title property.")
            ds["properties"].append(prop)
            if prop["type"] == "relation" and prop["config"]["type"] == "dual_property":
                reciprocals.append(prop)
        if not any(p["type"] == "title" for p in ds["properties"]):
            ds["properties"].insert(0, self.blank_property("Name", "title", ds))
        for prop in reciprocals:
            self.add_reciprocal(ds, prop)

    def blank_property(self, name: str, kind: str, ds: dict[str, Any]) -> dict[str, Any]:
        taken = {p["id"] for p in ds["properties"]}
        prop_id = "title" if kind == "title" else new_property_id(taken)
        return {"id": prop_id, "name": name, "type": kind, "description": None, "config": default_config(kind)}

    def property_from_spec(self, ds: dict[str, Any], name: str, spec: Any, path: str, legacy: bool) -> dict[str, Any]:
        kind = spec_type(spec, path)
        prop = self.blank_property(name, kind, ds)
        if "description" in spec:
            prop["description"] = description(spec["description"], f"{path}.description")
        body = config_body(spec, kind, f"{path}.{kind}")
        prop["config"] = self.config_from_spec(ds, kind, body, f"{path}.{kind}", legacy)
        return prop

    def config_from_spec(
        self, ds: dict[str, Any], kind: str, body: dict[str, Any], path: str, legacy: bool
    ) -> dict[str, Any]:
        config = default_config(kind)
        if kind in ("select", "multi_select") and "options" in body:
            config["options"] = options_from_spec(body["options"], f"{path}.options")
        elif kind == "number" and isinstance(body.get("format"), str):
            config["format"] = body["format"]
        elif kind == "relation":
            config = self.relation_config(ds, body, path, legacy)
        elif kind in ("formula", "rollup", "unique_id"):
            config.update({k: v for k, v in body.items() if isinstance(k, str)})
        return config

    def relation_config(self, ds: dict[str, Any], body: dict[str, Any], path: str, legacy: bool) -> dict[str, Any]:
        target_id = normalize_id(body.get("data_source_id", UNDEFINED))
        if target_id is None and (legacy or "database_id" in body):
            db_id = normalize_id(body.get("database_id", UNDEFINED))
            if db_id is None:
                raise body_invalid(f"{path}.database_id", "a valid uuid", body.get("database_id", UNDEFINED))
            db = self.database(db_id)
            target_id = self.only_source(db)["id"]
        if target_id is None:
            raise body_invalid(f"{path}.data_source_id", "a valid uuid", body.get("data_source_id", UNDEFINED))
        target = ds if target_id == ds["id"] else self.data_source(target_id)
        kind = body.get("type") or ("single_property" if "single_property" in body else "dual_property")
        if kind not in ("dual_property", "single_property"):
            raise body_invalid(f"{path}.type", '`"single_property"` or `"dual_property"`', kind)
        config: dict[str, Any] = {"database_id": target["database_id"], "data_source_id": target["id"], "type": kind}
        if kind == "single_property":
            config["single_property"] = {}
        else:
            given = body.get("dual_property") if isinstance(body.get("dual_property"), dict) else {}
            config["dual_property"] = {
                "synced_property_name": given.get("synced_property_name"),
                "synced_property_id": None,
            }
        return config

    def add_reciprocal(self, ds: dict[str, Any], prop: dict[str, Any]) -> None:
        """Create the other side of a dual relation in its target data source."""
        dual = prop["config"]["dual_property"]
        target = self.data_sources[prop["config"]["data_source_id"]]
        name = dual["synced_property_name"] or f"Related to {self.data_source_title(ds)} ({prop['name']})"
        name = unique_name(name, {p["name"] for p in target["properties"]})
        back = self.blank_property(name, "relation", target)
        back["config"] = {
            "database_id": ds["database_id"],
            "data_source_id": ds["id"],
            "type": "dual_property",
            "dual_property": {"synced_property_name": prop["name"], "synced_property_id": prop["id"]},
        }
        target["properties"].append(back)
        dual["synced_property_name"] = back["name"]
        dual["synced_property_id"] = back["id"]

    def update_properties(self, ds: dict[str, Any], specs: Any, path: str, legacy: bool = False) -> None:
        """PATCH semantics: null removes, ``name`` renames, a type key changes type or configuration.

        All or nothing, as one request is in Notion: a refused change leaves every earlier one of the request undone.
        """
        if not isinstance(specs, dict):
            raise body_invalid(path, "an object", specs)
        sources = copy.deepcopy(self.data_sources)
        values = {page["id"]: copy.deepcopy(page["props"]) for page in self.pages_of(ds["id"], include_trashed=True)}
        try:
            self.apply_property_specs(ds, specs, path, legacy)
        except Exception:
            for ds_id, saved in sources.items():
                self.data_sources[ds_id].clear()
                self.data_sources[ds_id].update(saved)
            for page in self.pages_of(ds["id"], include_trashed=True):
                page["props"] = values.get(page["id"], page["props"])
            raise

    def apply_property_specs(self, ds: dict[str, Any], specs: dict[str, Any], path: str, legacy: bool) -> None:
        for key, spec in specs.items():
            existing = self.find_property(ds, key)
            if spec is None:
                if existing is None:
                    raise validation(f"{key} is not a property that exists.")
                self.remove_property(ds, existing)
                continue
            if not isinstance(spec, dict):
                raise body_invalid(f"{path}.{key}", "an object or `null`", spec)
            if existing is None:
                self.add_properties_partial(ds, key, spec, f"{path}.{key}", legacy)
                continue
            self.change_property(ds, existing, spec, f"{path}.{key}", legacy)

    def add_properties_partial(
        self, ds: dict[str, Any], name: str, spec: dict[str, Any], path: str, legacy: bool
    ) -> None:
        prop = self.property_from_spec(ds, spec.get("name", name), spec, path, legacy)
        if prop["type"] == "title":
            raise validation("Cannot create a data source with more than one title property.")
        ds["properties"].append(prop)
        if prop["type"] == "relation" and prop["config"]["type"] == "dual_property":
            self.add_reciprocal(ds, prop)

    def change_property(
        self, ds: dict[str, Any], prop: dict[str, Any], spec: dict[str, Any], path: str, legacy: bool
    ) -> None:
        if "name" in spec:
            self.rename_property(ds, prop, property_name(spec["name"], f"{path}.name"))
        if "description" in spec:
            prop["description"] = description(spec["description"], f"{path}.description")
        kind = spec_type(spec, path) if any(k in ALL_TYPES for k in (*spec, spec.get("type"))) else None
        if kind is None:
            return
        if prop["type"] == "title" and kind != "title":
            raise validation("Cannot change the type of the title property.")
        if kind == "title" and prop["type"] != "title":
            raise validation("Cannot create a data source with more than one title property.")
        body = config_body(spec, kind, f"{path}.{kind}")
        if kind != prop["type"]:
            self.clear_values(ds, prop)
            prop["type"] = kind
            prop["config"] = self.config_from_spec(ds, kind, body, f"{path}.{kind}", legacy)
        elif kind in ("select", "multi_select") and "options" in body:
            prop["config"]["options"] = merge_options(
                prop["config"]["options"], body["options"], f"{path}.{kind}.options"
            )
            drop_removed_options(self.pages_of(ds["id"], include_trashed=True), prop, prop["config"]["options"])
        elif kind == "number" and "format" in body:
            prop["config"]["format"] = body["format"]

    def rename_property(self, ds: dict[str, Any], prop: dict[str, Any], new_name: str) -> None:
        if new_name == prop["name"]:
            return
        if any(other["name"] == new_name for other in ds["properties"] if other is not prop):
            raise validation(f"Cannot rename {prop['name']} to {new_name}: a property with that name already exists.")
        prop["name"] = new_name
        config = prop["config"]
        if prop["type"] == "relation" and config.get("type") == "dual_property":
            other = self.data_sources.get(config["data_source_id"])
            back = self.find_property(other, config["dual_property"]["synced_property_id"]) if other else None
            if back is not None:
                back["config"]["dual_property"]["synced_property_name"] = new_name

    def remove_property(self, ds: dict[str, Any], prop: dict[str, Any]) -> None:
        if prop["type"] == "title":
            raise validation("Cannot delete the title property.")
        self.clear_values(ds, prop)
        ds["properties"].remove(prop)
        config = prop["config"]
        if prop["type"] == "relation" and config.get("type") == "dual_property":
            other = self.data_sources.get(config["data_source_id"])
            back = self.find_property(other, config["dual_property"]["synced_property_id"]) if other else None
            if back is not None:
                back["config"] = {k: v for k, v in back["config"].items() if k != "dual_property"}
                back["config"].update({"type": "single_property", "single_property": {}})

    def clear_values(self, ds: dict[str, Any], prop: dict[str, Any]) -> None:
        for page in self.pages_of(ds["id"], include_trashed=True):
            if prop["id"] in page["props"]:
                self.touch(page)
                page["props"].pop(prop["id"])


def spec_type(spec: Any, path: str) -> str:
    if not isinstance(spec, dict):
        raise body_invalid(path, "an object", spec)
    declared = spec.get("type")
    kind = declared if declared in ALL_TYPES else next((k for k in spec if k in ALL_TYPES), None)
    if kind is None:
        raise body_invalid(f"{path}.type", "a valid property type", spec.get("type", UNDEFINED))
    if kind not in spec:
        raise undefined(f"{path}.{kind}")
    return kind


def config_body(spec: dict[str, Any], kind: str, path: str) -> dict[str, Any]:
    """The configuration object of a property spec, its keys checked."""
    body = spec[kind]
    if not isinstance(body, dict):
        raise body_invalid(path, "an object", body)
    check_config_keys(kind, body, path)
    return body


def property_name(given: Any, path: str) -> str:
    if not isinstance(given, str):
        raise body_invalid(path, "a string", given)
    if not given.strip():
        raise too_short(path, 1, 0)
    return given


def description(given: Any, path: str) -> Any:
    """A property description: null, or 1 to 280 characters (official document ``propertyDescriptionRequest``)."""
    if given is None:
        return None
    if not isinstance(given, str):
        raise body_invalid(path, "a string or `null`", given)
    size = utf16_len(given)
    if size > MAX_DESCRIPTION:
        raise too_long(path, MAX_DESCRIPTION, size)
    if size < 1:
        raise too_short(path, 1, size)
    return given


def default_config(kind: str) -> dict[str, Any]:
    if kind in ("select", "multi_select"):
        return {"options": []}
    if kind == "number":
        return {"format": "number"}
    if kind == "status":
        return default_status()
    if kind == "unique_id":
        return {"prefix": None}
    return {}


def default_status() -> dict[str, Any]:
    options = [
        {"id": new_id(), "name": "Not started", "color": "default", "description": None},
        {"id": new_id(), "name": "In progress", "color": "blue", "description": None},
        {"id": new_id(), "name": "Done", "color": "green", "description": None},
    ]
    groups = [
        {"id": new_id(), "name": name, "color": color, "option_ids": [options[i]["id"]]}
        for i, (name, color) in enumerate((("To-do", "gray"), ("In progress", "blue"), ("Complete", "green")))
    ]
    return {"options": options, "groups": groups}


def unique_name(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    n = 1
    while f"{name} {n}" in taken:
        n += 1
    return f"{name} {n}"
