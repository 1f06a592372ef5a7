"""notion-client's failures → reconcile.errors, in one place: one line with Notion's code and
message and what to do, never the token."""

from __future__ import annotations

import json

from notion_client.errors import HTTPResponseError

from reconcile.errors import NotionAuthError, NotionError

__all__ = ["connection_error", "response_error", "timeout_error"]


def response_error(what: str, exc: HTTPResponseError, scrub: str) -> NotionError:
    """The error for a response Notion refused with; `scrub` (the token) never reaches the message."""
    code, message = error_code_and_message(exc)
    if scrub:
        message = message.replace(scrub, "***")
    status = exc.status
    if status == 401:
        return NotionAuthError(
            f"Notion rejected the token (NOTION_TOKEN): {message}",
            hint="set NOTION_TOKEN to the integration's internal secret",
            code=code,
            status=status,
        )
    if status == 404 and what.startswith("reading database"):
        database_id = what.rsplit(" ", 1)[-1]
        return NotionAuthError(
            f"database {database_id} not found: share it with the integration "
            "(database ⋯ menu → Connections → add the integration) and check the id",
            code=code,
            status=status,
        )
    if status in (403, 404):
        return NotionAuthError(
            f"Notion refused access while {what}: {code}: {message}",
            hint="share the database with the integration and give it read/update/insert content capabilities",
            code=code,
            status=status,
        )
    return NotionError(
        f"Notion answered {status} {code} while {what}: {message}",
        hint=hint_for(status),
        code=code,
        status=status,
    )


def timeout_error(what: str, timeout_s: float) -> NotionError:
    return NotionError(
        f"Notion did not answer in time while {what}",
        hint=f"timeout {timeout_s:g}s; retried within the retry policy",
        code="timeout",
    )


def connection_error(what: str, base_url: str, exc: Exception) -> NotionError:
    return NotionError(
        f"could not reach Notion at {base_url} while {what} ({type(exc).__name__})",
        hint="check the network or NOTION_BASE_URL",
        code="connection_error",
    )


def error_code_and_message(exc: HTTPResponseError) -> tuple[str, str]:
    """Notion's own code and message, also for bodies notion-client did not recognise."""
    code, message = str(getattr(exc.code, "value", exc.code)), str(exc)
    try:
        body = json.loads(exc.body)
    except (TypeError, ValueError):
        body = None
    if isinstance(body, dict):
        code = body["code"] if isinstance(body.get("code"), str) else code
        message = body["message"] if isinstance(body.get("message"), str) else message
    elif code == "notionhq_client_response_error":
        code = "non_json_response"
    return code, message


def hint_for(status: int) -> str | None:
    if status == 400:
        return "the request did not fit the data source; check the mapped values and schema"
    if status == 429:
        return "rate limited after every retry; lower notion.rate_limit or retry later"
    if status >= 500 or status == 409:
        return "Notion kept failing after every retry; run again later"
    return None
