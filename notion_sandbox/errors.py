"""Notion's error responses: one exception type carrying status, code, message and additional_data.

Messages follow Notion's wording; docs/sandbox.md lists each one with its source (and marks the guesses).
Validation errors built from a JSON path also remember that path and their one-line ``detail``, so that a union of
alternatives (a property value, a files item, a page parent) can report them the way Notion's validator does.
"""

from __future__ import annotations

import json
import re
from typing import Any

SHARING_HINT = "Make sure the relevant pages and databases are shared with your integration."
RATE_LIMITED_MESSAGE = "You have been rate limited. Please try again in a few minutes."
MISSING_VERSION_MESSAGE = (
    "Notion-Version header failed validation: Notion-Version header should be defined, instead was undefined."
)
ARCHIVED_MESSAGE = "Can't edit block that is archived. You must unarchive the block before editing."
MULTI_SOURCE_MESSAGE = "Databases with multiple data sources are not supported in this API version."
RESTRICTED_MESSAGE = "Insufficient permissions for this endpoint."
CONFLICT_MESSAGE = "Conflict occurred while saving. Please try again."
REQUEST_RATE = "public_api_request_rate_limit"
WORKSPACE_RATE = "public_api_space_request_rate_limit"
_SEGMENT = re.compile(r"\.|\[")


class NotionError(Exception):
    """An error response: raised anywhere inside a handler, rendered once at the boundary."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        additional_data: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        path: str | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.additional_data = additional_data
        self.headers = headers or {}
        self.path = path
        self.detail = detail

    def body(self, request_id: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "object": "error",
            "status": self.status,
            "code": self.code,
            "message": self.message,
            "request_id": request_id,
        }
        if self.additional_data is not None:
            out["additional_data"] = self.additional_data
        return out


def shown(value: Any) -> str:
    """How Notion's validator prints an offending value: JSON, or `undefined` when absent."""
    if value is UNDEFINED:
        return "undefined"
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class _Undefined:
    def __repr__(self) -> str:
        return "undefined"


UNDEFINED: Any = _Undefined()


def validation(message: str, additional_data: dict[str, Any] | None = None) -> NotionError:
    return NotionError(400, "validation_error", message, additional_data)


def located(path: str, detail: str, where: str = "body") -> NotionError:
    """``<where> failed validation: <detail>``, remembering the path the detail is about."""
    return NotionError(400, "validation_error", f"{where} failed validation: {detail}", path=path, detail=detail)


def body_invalid(path: str, expectation: str, value: Any, where: str = "body") -> NotionError:
    """``body failed validation: body.x should be <expectation>, instead was `<value>`.``"""
    return located(path, f"{path} should be {expectation}, instead was `{shown(value)}`.", where)


def not_present(path: str, value: Any) -> NotionError:
    return body_invalid(path, "not present", value)


def undefined(path: str) -> NotionError:
    return body_invalid(path, "defined", UNDEFINED)


def too_long(path: str, limit: int, actual: int, where: str = "body") -> NotionError:
    return located(f"{path}.length", f"{path}.length should be ≤ `{limit}`, instead was `{actual}`.", where)


def too_short(path: str, limit: int, actual: int) -> NotionError:
    return located(f"{path}.length", f"{path}.length should be ≥ `{limit}`, instead was `{actual}`.")


def one_of(values: tuple[str, ...]) -> str:
    """Notion's way of listing allowed strings: `"a"` or `"b"`; `"a"`, `"b"`, or `"c"`."""
    quoted = [f'`"{v}"`' for v in values]
    if len(quoted) <= 2:
        return " or ".join(quoted)
    return ", ".join(quoted[:-1]) + ", or " + quoted[-1]


def depth(path: str | None) -> int:
    return len(_SEGMENT.split(path)) if path else 0


def fix_one(errors: list[NotionError]) -> NotionError:
    """The error of a union none of whose alternatives fits: the deepest failures, one line each.

    One failure deeper than the rest is reported alone (``body failed validation: ...``, as for a rich text content
    over 2,000 characters); several at the same depth become ``body failed validation. Fix one:`` and a line each.
    """
    deepest = max(depth(e.path) for e in errors)
    lines: list[str] = []
    for error in errors:
        if depth(error.path) == deepest and error.detail not in lines:
            lines.append(error.detail or error.message)
    if len(lines) == 1:
        return located(next(e.path for e in errors if depth(e.path) == deepest) or "", lines[0])
    return NotionError(400, "validation_error", "body failed validation. Fix one:\n" + "\n".join(lines), path=None)


def invalid_request_url() -> NotionError:
    return NotionError(400, "invalid_request_url", "Invalid request URL.")


def invalid_json() -> NotionError:
    return NotionError(400, "invalid_json", "Error parsing JSON body.")


def not_found(kind: str, object_id: str) -> NotionError:
    return NotionError(404, "object_not_found", f"Could not find {kind} with ID: {object_id}. {SHARING_HINT}")


def restricted() -> NotionError:
    return NotionError(403, "restricted_resource", RESTRICTED_MESSAGE)


def conflict() -> NotionError:
    return NotionError(409, "conflict_error", CONFLICT_MESSAGE)


def archived_block() -> NotionError:
    return validation(ARCHIVED_MESSAGE)


def multiple_sources(database_id: str, data_source_ids: list[str]) -> NotionError:
    return validation(
        MULTI_SOURCE_MESSAGE,
        {
            "error_type": "multiple_data_sources_for_database",
            "database_id": database_id,
            "child_data_source_ids": data_source_ids,
            "minimum_api_version": "2025-09-03",
        },
    )


def rate_limited(retry_after: int, reason: str = REQUEST_RATE) -> NotionError:
    return NotionError(
        429,
        "rate_limited",
        RATE_LIMITED_MESSAGE,
        {"rate_limit_reason": reason, "retry_after": str(retry_after)},
        {"Retry-After": str(retry_after)},
    )
