"""Users and people values, files values, icons and covers, through notion-client 3.1.0.

Each rule is listed with its source in docs/sandbox.md ("People, files, icons and covers").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from notion_client import Client
from notion_client.errors import APIResponseError

from notion_sandbox.server import SandboxServer
from tests.support.sandbox import PARENT_PAGE, Raw, title

ALICE = "a11ce000-0000-4000-8000-000000000001"
BOB = "a11ce000-0000-4000-8000-000000000002"
CAROL = "a11ce000-0000-4000-8000-000000000003"
BOT = "5b8183bd-8984-4417-b2a6-7dc8e439e679"
MISSING = "0badc0de-0000-4000-8000-000000000000"
USER_HINT = "Make sure your integration has capabilities to read user information."


def refusal(call: Callable[[], Any]) -> tuple[int, str, str]:
    with pytest.raises(APIResponseError) as raised:
        call()
    return raised.value.status, str(raised.value.code.value), str(raised.value)


@pytest.fixture
def source(notion: Client) -> str:
    properties = {"Name": {"title": {}}, "Owners": {"people": {}}, "Docs": {"files": {}}}
    created = notion.databases.create(
        parent={"page_id": PARENT_PAGE}, title=title("People"), initial_data_source={"properties": properties}
    )
    return created["data_sources"][0]["id"]


def row(notion: Client, source: str, **properties: Any) -> dict[str, Any]:
    return notion.pages.create(
        parent={"data_source_id": source}, properties={"Name": {"title": title("row")}, **properties}
    )


# ---------------------------------------------------------------- users


def test_the_users_list_has_the_seeded_people_and_the_bot(notion: Client) -> None:
    listing = notion.users.list()
    assert (listing["object"], listing["type"], listing["user"], listing["has_more"]) == ("list", "user", {}, False)
    people = [u for u in listing["results"] if u["type"] == "person"]
    assert [(u["name"], u["person"]["email"]) for u in people] == [
        ("Alice Example", "alice@example.org"),
        ("Bob Example", "bob@example.org"),
        ("Carol Example", "carol@example.org"),
    ]
    assert list(people[0]) == ["object", "id", "name", "avatar_url", "type", "person"]
    bots = [u for u in listing["results"] if u["type"] == "bot"]
    assert [(b["id"], b["bot"]) for b in bots] == [(BOT, {})]


def test_the_users_list_is_paged(notion: Client, raw: Raw) -> None:
    first = notion.users.list(page_size=2)
    assert len(first["results"]) == 2 and first["has_more"] is True
    rest = notion.users.list(page_size=2, start_cursor=first["next_cursor"])
    assert len(rest["results"]) == 2 and rest["has_more"] is False
    assert sorted(u["id"] for u in first["results"] + rest["results"]) == sorted([ALICE, BOB, CAROL, BOT])
    bad = raw.call("GET", "/v1/users", params={"start_cursor": "bogus"}).json()
    assert (bad["status"], bad["message"]) == (400, "The start_cursor provided is invalid: bogus")


def test_one_user_by_id(notion: Client) -> None:
    alice = notion.users.retrieve(user_id=ALICE.replace("-", ""))
    assert (alice["name"], alice["person"], alice["type"]) == (
        "Alice Example",
        {"email": "alice@example.org"},
        "person",
    )
    assert notion.users.retrieve(user_id=BOT)["bot"]["owner"] == {"type": "workspace", "workspace": True}
    status, code, message = refusal(lambda: notion.users.retrieve(user_id=MISSING))
    assert (status, code) == (404, "object_not_found")
    assert (
        message == f"Could not find user with ID: {MISSING}. {USER_HINT} With those capabilities, only members "
        "and guests in the integration's workspace are visible."
    )
    assert refusal(lambda: notion.users.retrieve(user_id="nobody"))[2] == (
        'path failed validation: path.user_id should be a valid uuid, instead was `"nobody"`.'
    )


def test_the_people_of_the_workspace_can_be_replaced(sb: SandboxServer, notion: Client) -> None:
    people = sb.admin.put_users([{"name": "Dana", "email": "dana@example.org"}])
    assert [p["name"] for p in people] == ["Dana"]
    listed = [u for u in notion.users.list()["results"] if u["type"] == "person"]
    assert [(u["id"], u["person"]["email"]) for u in listed] == [(people[0]["id"], "dana@example.org")]
    assert sb.admin.users() == people
    sb.admin.reset("empty")
    assert len(sb.admin.users()) == 3


# ---------------------------------------------------------------- people values


def test_people_are_written_by_id_and_read_as_users(notion: Client, source: str) -> None:
    page = row(notion, source, Owners={"people": [{"id": ALICE}, {"object": "user", "id": BOB}, {"id": ALICE}]})
    owners = page["properties"]["Owners"]["people"]
    assert [(u["id"], u["name"], u["person"]["email"]) for u in owners] == [
        (ALICE, "Alice Example", "alice@example.org"),
        (BOB, "Bob Example", "bob@example.org"),
    ]
    item = notion.pages.properties.retrieve(page_id=page["id"], property_id=page["properties"]["Owners"]["id"])
    assert [r["people"]["name"] for r in item["results"]] == ["Alice Example", "Bob Example"]
    found = notion.data_sources.query(
        data_source_id=source, filter={"property": "Owners", "people": {"contains": BOB}}
    )["results"]
    assert [p["id"] for p in found] == [page["id"]]
    cleared = notion.pages.update(page_id=page["id"], properties={"Owners": {"people": []}})
    assert cleared["properties"]["Owners"]["people"] == []


def test_only_people_of_the_workspace_can_be_written(notion: Client, source: str) -> None:
    assert refusal(lambda: row(notion, source, Owners={"people": [{"id": MISSING}]})) == (
        400,
        "validation_error",
        f"Could not find user with ID: {MISSING}.",
    )
    status, _, message = refusal(lambda: row(notion, source, Owners={"people": [{"id": BOT}]}))
    assert status == 400 and BOT in message and "bot" in message
    whole_user = {"object": "user", "id": ALICE, "name": "Alice", "type": "person", "person": {"email": "a@b"}}
    assert refusal(lambda: row(notion, source, Owners={"people": [whole_user]}))[2] == (
        "body failed validation. Fix one:\n"
        'body.properties.Owners.people[0].name should be not present, instead was `"Alice"`.\n'
        'body.properties.Owners.people[0].type should be not present, instead was `"person"`.\n'
        'body.properties.Owners.people[0].person should be not present, instead was `{"email":"a@b"}`.\n'
        'body.properties.Owners.people[0].object should be `"group"` or `undefined`, instead was `"user"`.'
    )
    assert refusal(lambda: row(notion, source, Owners={"people": [{"object": "group", "id": MISSING}]}))[2] == (
        f"Could not find group with ID: {MISSING}."
    )
    assert refusal(lambda: row(notion, source, Owners={"people": [{"id": "x"}]}))[2] == (
        'body failed validation: body.properties.Owners.people[0].id should be a valid uuid, instead was `"x"`.'
    )
    assert refusal(lambda: row(notion, source, Owners={"people": [{"id": ALICE}] * 101}))[2] == (
        "body failed validation: body.properties.Owners.people.length should be ≤ `100`, instead was `101`."
    )


# ---------------------------------------------------------------- files values


def test_external_files_with_names_round_trip(notion: Client, source: str) -> None:
    files = [
        {"name": "Plan.pdf", "external": {"url": "https://example.org/plan.pdf"}},
        {"type": "external", "name": "Map", "external": {"url": "https://example.org/map.png"}},
    ]
    page = row(notion, source, Docs={"files": files})
    assert page["properties"]["Docs"]["files"] == [
        {"name": "Plan.pdf", "type": "external", "external": {"url": "https://example.org/plan.pdf"}},
        {"name": "Map", "type": "external", "external": {"url": "https://example.org/map.png"}},
    ]
    again = notion.pages.retrieve(page_id=page["id"])["properties"]["Docs"]["files"]
    assert again == page["properties"]["Docs"]["files"]
    assert notion.pages.update(page_id=page["id"], properties={"Docs": {"files": []}})["properties"]["Docs"] == {
        "id": page["properties"]["Docs"]["id"],
        "type": "files",
        "files": [],
    }


def test_files_items_are_checked(notion: Client, source: str) -> None:
    def refused(item: Any) -> str:
        return refusal(lambda: row(notion, source, Docs={"files": [item]}))[2]

    assert refused({"name": "x", "external": {"url": "https://e.org", "size": 1}}) == (
        "body failed validation: body.properties.Docs.files[0].external.size should be not present, instead was `1`."
    )
    nameless = refused({"external": {"url": "https://e.org"}})
    assert nameless.startswith("body failed validation. Fix one:\n")
    assert "body.properties.Docs.files[0].name should be defined, instead was `undefined`." in nameless.splitlines()
    assert refused({"name": "x" * 101, "external": {"url": "https://e.org"}}) == (
        "body failed validation: body.properties.Docs.files[0].name.length should be ≤ `100`, instead was `101`."
    )
    assert refused({"name": "x", "external": {"url": "u" * 2001}}) == (
        "body failed validation: body.properties.Docs.files[0].external.url.length should be ≤ `2000`, "
        "instead was `2001`."
    )


# ---------------------------------------------------------------- icons and covers


def test_icons_and_covers_are_set_and_cleared_on_pages(notion: Client) -> None:
    cover = {"type": "external", "external": {"url": "https://example.org/cover.png"}}
    page = notion.pages.create(
        parent={"page_id": PARENT_PAGE}, properties={"title": title("Pretty")}, icon={"emoji": "🚀"}, cover=cover
    )
    assert (page["icon"], page["cover"]) == ({"type": "emoji", "emoji": "🚀"}, cover)
    linked = notion.pages.update(page_id=page["id"], icon={"external": {"url": "https://example.org/i.png"}})
    assert linked["icon"] == {"type": "external", "external": {"url": "https://example.org/i.png"}}
    assert linked["cover"] == cover
    for emoji in ("👍🏽", "🏳️‍🌈", "1️⃣", "⛔", "🇬🇧"):
        assert notion.pages.update(page_id=page["id"], icon={"type": "emoji", "emoji": emoji})["icon"]["emoji"] == emoji
    cleared = notion.pages.update(page_id=page["id"], icon=None, cover=None)
    assert (cleared["icon"], cleared["cover"]) == (None, None)
    assert notion.pages.retrieve(page_id=page["id"])["icon"] is None


def test_icons_and_covers_are_checked(notion: Client) -> None:
    page = notion.pages.create(parent={"page_id": PARENT_PAGE}, properties={"title": title("Checked")})

    def refused(**images: Any) -> str:
        return refusal(lambda: notion.pages.update(page_id=page["id"], **images))[2]

    assert refused(icon={"type": "emoji", "emoji": "rocket"}).startswith(
        'body failed validation: body.icon.emoji should be `"😀"`, `"😃"`'
    )
    assert refused(icon={"type": "externaeel", "external": {"url": "https://e.org/i.png"}}) == (
        "body failed validation. Fix one:\n"
        "body.icon.file_upload should be defined, instead was `undefined`.\n"
        "body.icon.emoji should be defined, instead was `undefined`.\n"
        'body.icon.type should be `"external"` or `undefined`, instead was `"externaeel"`.\n'
        "body.icon.custom_emoji should be defined, instead was `undefined`."
    )
    assert refused(cover={"emoji": "🚀"}) == (
        "body failed validation. Fix one:\n"
        "body.cover.file_upload should be defined, instead was `undefined`.\n"
        "body.cover.external should be defined, instead was `undefined`."
    )
    assert refused(cover={"external": {}}) == (
        "body failed validation: body.cover.external.url should be defined, instead was `undefined`."
    )
    assert refused(icon={"file_upload": {"id": MISSING}}) == f"Could not find file_upload with ID: {MISSING}."
    assert refused(icon="🚀") == 'body failed validation: body.icon should be an object or `null`, instead was `"🚀"`.'
    assert notion.pages.retrieve(page_id=page["id"])["icon"] is None


def test_databases_and_data_sources_carry_icons_too(notion: Client) -> None:
    cover = {"type": "external", "external": {"url": "https://example.org/db.png"}}
    database = notion.databases.create(
        parent={"page_id": PARENT_PAGE}, title=title("Iconic"), icon={"emoji": "📚"}, cover=cover
    )
    assert (database["icon"], database["cover"]) == ({"type": "emoji", "emoji": "📚"}, cover)
    changed = notion.databases.update(database_id=database["id"], icon={"emoji": "📗"})
    assert changed["icon"] == {"type": "emoji", "emoji": "📗"} and changed["cover"] == cover
    assert refusal(lambda: notion.databases.update(database_id=database["id"], icon=None))[2] == (
        "body failed validation: body.icon should be an object, instead was `null`."
    )
    source = database["data_sources"][0]["id"]
    assert notion.data_sources.update(data_source_id=source, icon={"emoji": "🗂️"})["icon"]["emoji"] == "🗂️"
    assert notion.data_sources.update(data_source_id=source, icon=None)["icon"] is None
