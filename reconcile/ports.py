"""What the stages need from Notion, as Protocols: the seam between the run and the HTTP client.

    NotionReader     resolve a database, read a resource's pages (plan, lookups, stale checks)
    NotionWriter     create and update pages (apply)
    WorkspaceAdmin   find and create databases (bootstrap)
    Gateway          all three, plus the run's call counts: what reconcile.run holds

reconcile.notion.gateway.NotionGateway implements Gateway over notion-client and httpx; this
module imports neither, so planning, apply and the commands can name the seam without loading an
HTTP client, and a test can hand in a fake that a strict type checker follows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from reconcile.model import ApiCalls, PageState, ResourceConfig, ResourceState, UserDirectory

__all__ = [
    "ApiCalls",
    "CreatedPage",
    "Gateway",
    "NotionObject",
    "NotionReader",
    "NotionWriter",
    "PropertySchema",
    "Resolution",
    "WorkspaceAdmin",
]

# A Notion JSON object exactly as the API sends or takes it (a page, a database, a property
# value). Its shape belongs to Notion; reconcile.values turns property values into typed ones.
NotionObject = dict[str, Any]
# A data source's properties: name -> the property's schema object ({"id", "type", ...}).
PropertySchema = dict[str, NotionObject]
# How a create ended: sent once; an ambiguous failure Notion had committed (by the id it named,
# or found again by key); or sent again because the first attempt never landed.
Resolution = Literal["created", "committed", "found", "recreated"]


@dataclass(frozen=True)
class CreatedPage:
    """The page a create left in Notion, and how the create ended."""

    page: NotionObject
    resolution: Resolution

    @property
    def page_id(self) -> str:
        return str(self.page["id"])


class NotionReader(Protocol):
    """Reads, served once per run where they can be (every write drops the cached reads)."""

    def resolve(self, database_id: str, data_source_name: str | None) -> tuple[str, PropertySchema]:
        """(data source id, its properties) of a database; the data source named, or its only one."""
        ...

    def data_source_name(self, data_source_id: str) -> str | None:
        """The name of a data source this run resolved (for messages), None if it resolved none."""
        ...

    def data_source_title(self, data_source_id: str) -> str:
        """The title of any data source shared with the integration (for messages; may cost a GET)."""
        ...

    def bot_user_id(self) -> str:
        """The integration's own user id (`GET /v1/users/me`, once per run)."""
        ...

    def users(self) -> UserDirectory:
        """The workspace's people by email (`GET /v1/users`, paged, once per run)."""
        ...

    def read_resource(
        self, resource: ResourceConfig, *, data_source_id: str, schema: PropertySchema, include_trash: bool = False
    ) -> ResourceState:
        """The resource's live (and, if asked, trashed) pages as canonical managed values."""
        ...

    def read_trashed(
        self, resource: ResourceConfig, *, data_source_id: str, schema: PropertySchema
    ) -> tuple[PageState, ...]:
        """Trashed pages that carry a key: the candidates for a restore."""
        ...

    def server_time(self) -> str | None:
        """Notion's time at its latest answer (the Date header, ISO), None when unknown."""
        ...

    def read_edited_since(
        self,
        resource: ResourceConfig,
        *,
        data_source_id: str,
        schema: PropertySchema,
        since: str,
        in_trash: bool,
    ) -> tuple[PageState, ...]:
        """Live (or trashed) pages edited on or after `since`: what an incremental read asks for."""
        ...

    def read_pages(
        self, resource: ResourceConfig, page_ids: Iterable[str], *, data_source_id: str, schema: PropertySchema
    ) -> tuple[PageState, ...]:
        """These pages of the resource retrieved by id (never lagging, unlike queries); gone ones left out."""
        ...

    def query_pages(self, data_source_id: str) -> list[NotionObject]:
        """Every live page of a data source, as Notion sends them."""
        ...

    def read_body(self, block_id: str) -> list[NotionObject]:
        """A page's blocks in order, each with its own children under "children"."""
        ...

    def retrieve_page(self, page_id: str) -> NotionObject: ...


class NotionWriter(Protocol):
    def create_page(
        self,
        data_source_id: str,
        properties: dict[str, NotionObject],
        *,
        match_property: str,
        match_type: str,
        key: str,
        children: list[NotionObject] | None = None,
        parts: NotionObject | None = None,
    ) -> CreatedPage:
        """Create a page, or find the one an earlier ambiguous attempt committed: never two."""
        ...

    def update_page(
        self,
        page_id: str,
        *,
        properties: dict[str, NotionObject] | None = None,
        in_trash: bool | None = None,
        parts: NotionObject | None = None,
    ) -> NotionObject: ...

    def append_blocks(self, parent_id: str, children: list[NotionObject], after: str | None) -> list[str]:
        """Append blocks (at the end, at the "start", or after a block): the new blocks' ids."""
        ...

    def update_block(self, block_id: str, body: NotionObject) -> NotionObject: ...

    def delete_block(self, block_id: str) -> NotionObject: ...

    def retrieve_page(self, page_id: str) -> NotionObject: ...

    def update_data_source(self, data_source_id: str, properties: dict[str, NotionObject | None]) -> NotionObject:
        """One schema update (PATCH /v1/data_sources/{id}): Notion's answer, the data source as it now is."""
        ...

    def retrieve_data_source(self, data_source_id: str) -> NotionObject: ...


class WorkspaceAdmin(Protocol):
    def search_data_sources(self, query: str) -> list[NotionObject]:
        """Data sources shared with the integration whose title matches `query`."""
        ...

    def create_database(self, parent_page_id: str, title: str, properties: dict[str, NotionObject]) -> NotionObject: ...

    def retrieve_database(self, database_id: str) -> NotionObject: ...

    def retrieve_data_source(self, data_source_id: str) -> NotionObject: ...

    def update_data_source(self, data_source_id: str, properties: dict[str, NotionObject | None]) -> NotionObject: ...


class Gateway(NotionReader, NotionWriter, WorkspaceAdmin, Protocol):
    """One run's connection to Notion: every call goes through it, so it counts them all."""

    def api_calls(self) -> ApiCalls: ...

    def close(self) -> None: ...
