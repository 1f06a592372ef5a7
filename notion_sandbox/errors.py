"""Notion's error responses: one exception type carrying status, code, message and additional_data.

Messages follow Notion's wording (see docs/sandbox.md for the ones that are guesses).
"""

from __future__ import annotations

import json
from typing import Any

SHARING_HINT = "Make sure the relevant pages and databases are shared with your integration."
RATE_LIMITED_MESSAGE = "You have been rate limited. Please try again in a few minutes."
MISSING_VERSION_MESSAGE = (
    "Notion-Version header failed validation: Notion-Version header should be defined, instead was undefined."
)
ARCHIVED_MESSAGE = "Can't edit block that is archived. You must unarchive the block before editing."
MULTI_SOURCE_MESSAGE = "Databases with multiple data sources are not supported in this API version."


class NotionError(Exception):
    """An error response: raised anywhere inside a handler, rendered once at the boundary."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        additional_data: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.additional_data = additional_data
        self.headers = headers or {}

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


def body_invalid(path: str, expectation: str, value: Any, where: str = "body") -> NotionError:
    """``body failed validation: body.x should be <expectation>, instead was `<value>`.``"""
    return validation(f"{where} failed validation: {path} should be {expectation}, instead was `{shown(value)}`.")


def too_long(path: str, limit: int, actual: int, where: str = "body") -> NotionError:
    return validation(f"{where} failed validation: {path}.length should be ≤ `{limit}`, instead was `{actual}`.")


def invalid_request_url() -> NotionError:
    return NotionError(400, "invalid_request_url", "Invalid request URL.")


def invalid_json() -> NotionError:
    return NotionError(400, "invalid_json", "Error parsing JSON body.")


def not_found(kind: str, object_id: str) -> NotionError:
    return NotionError(404, "object_not_found", f"Could not find {kind} with ID: {object_id}. {SHARING_HINT}")


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


def rate_limited(retry_after: int) -> NotionError:
    return NotionError(
        429,
        "rate_limited",
        RATE_LIMITED_MESSAGE,
        {"rate_limit_reason": "public_api_request_rate_limit", "retry_after": str(retry_after)},
        {"Retry-After": str(retry_after)},
    )
