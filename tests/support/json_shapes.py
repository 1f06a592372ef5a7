"""Compare two JSON documents by shape: the same keys at every level and the same JSON types, values ignored."""

from __future__ import annotations

from typing import Any


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    raise TypeError(f"not a JSON value: {value!r}")


def shape_differences(real: Any, sandbox: Any, nullable: frozenset[str] = frozenset(), path: str = "$") -> list[str]:
    """Where the sandbox's document differs in shape from the real one; empty when they match.

    Lists are compared through their first elements (when both have one). ``nullable`` holds the paths (list
    elements written ``[]``, e.g. ``$.results[].icon``) where null on one side and a value on the other is legitimate.
    """
    real_type, sandbox_type = json_type(real), json_type(sandbox)
    if real_type != sandbox_type:
        if "null" in (real_type, sandbox_type) and path in nullable:
            return []
        return [f"at {path}: real is {real_type}, sandbox is {sandbox_type}"]
    if real_type == "object":
        return _object_differences(real, sandbox, nullable, path)
    if real_type == "array" and real and sandbox:
        return shape_differences(real[0], sandbox[0], nullable, f"{path}[]")
    return []


def _object_differences(
    real: dict[str, Any], sandbox: dict[str, Any], nullable: frozenset[str], path: str
) -> list[str]:
    found = []
    missing = sorted(set(real) - set(sandbox))
    extra = sorted(set(sandbox) - set(real))
    if missing:
        found.append(f"at {path}: keys missing in the sandbox: {missing}")
    if extra:
        found.append(f"at {path}: keys the real response does not have: {extra}")
    for key in sorted(set(real) & set(sandbox)):
        found.extend(shape_differences(real[key], sandbox[key], nullable, f"{path}.{key}"))
    return found
