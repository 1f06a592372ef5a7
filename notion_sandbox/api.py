"""The Notion REST API over the store: the check order every request goes through, then its handler.

Check order (as observed on Notion): route/method → JSON parse → auth → rate limits → Notion-Version → route
version gate → capability → body size and validation → object lookup (sharing) → lifecycle rules. One error per
response. Handlers live in responses_databases.py, responses_pages.py, responses_blocks.py, responses_users.py and
responses_lists.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from notion_sandbox.access import Grant
from notion_sandbox.errors import MISSING_VERSION_MESSAGE, NotionError, invalid_request_url, validation
from notion_sandbox.render import is_legacy
from notion_sandbox.responses_blocks import BlockResponses
from notion_sandbox.responses_databases import DatabaseResponses
from notion_sandbox.responses_lists import ListResponses
from notion_sandbox.responses_pages import PageResponses
from notion_sandbox.responses_users import UserResponses
from notion_sandbox.routes import Call, Reply, Request, match_route, parse_body

MAX_BODY_BYTES = 500 * 1000
# Every Notion-Version Notion has published (docs: "Changes by version"); versions before 2022-06-28 are answered
# in 2022-06-28's shapes (see docs/sandbox.md).
KNOWN_VERSIONS = ("2021-05-11", "2021-05-13", "2021-08-16", "2022-02-22", "2022-06-28", "2025-09-03", "2026-03-11")

RateCheck = Callable[[str], None]
READ_HANDLERS = frozenset({"data_source_query", "database_query", "search"})  # POST routes that change nothing


class NotionApi(DatabaseResponses, PageResponses, BlockResponses, UserResponses, ListResponses):
    def handle(self, req: Request, rate_check: RateCheck | None = None) -> Reply:
        try:
            return self.dispatch(req, rate_check)
        except NotionError as err:
            return Reply(err.status, err.body(""), dict(err.headers))

    def dispatch(self, req: Request, rate_check: RateCheck | None) -> Reply:
        route = match_route(req.method, req.path)
        if route is None:
            raise invalid_request_url()
        body = parse_body(req)
        grant = self.authenticate(req.headers.get("authorization"))
        if rate_check is not None:
            rate_check(grant.token)
        version = self.api_version(req.headers.get("notion-version"))
        if (route.gate == "current" and is_legacy(version)) or (route.gate == "legacy" and not is_legacy(version)):
            raise invalid_request_url()
        grant.require(route.capability)
        if len(req.body) > MAX_BODY_BYTES:
            raise validation(
                f"body failed validation: body should be at most {MAX_BODY_BYTES} bytes, instead was {len(req.body)}."
            )
        call = Call(route.params, body, version, req.query, len(req.body), grant)
        with self.store.lock:
            try:
                out = getattr(self, route.handler)(call)
            finally:
                self.store.end_request()
                if req.method != "GET" and route.handler not in READ_HANDLERS:
                    self.generation += 1
        return Reply(200, out, wrote=call.wrote, created_id=call.created_id, child_ids=call.child_ids)

    def authenticate(self, header: str | None) -> Grant:
        if not header or not header.startswith("Bearer ") or not header[7:].strip():
            raise NotionError(401, "unauthorized", 'Authorization header must use the format "Bearer <token>".')
        grant = self.access.grant(header[7:].strip())
        if grant is None:
            raise NotionError(401, "unauthorized", "API token is invalid.")
        return grant

    def api_version(self, header: str | None) -> str:
        if header is None:
            raise NotionError(400, "missing_version", MISSING_VERSION_MESSAGE)
        if header.strip() not in KNOWN_VERSIONS:
            raise NotionError(
                400,
                "missing_version",
                "Notion-Version header failed validation: Notion-Version header should be a valid API version, "
                f"instead was `{json.dumps(header)}`.",
            )
        return header.strip()


__all__ = ["KNOWN_VERSIONS", "NotionApi", "Reply", "Request", "match_route"]
