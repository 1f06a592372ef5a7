"""The read stage's overlay: pages read by id take the place of what a lagging query said of them."""

from __future__ import annotations

from reconcile.model import Action, ActionKind, PageState
from reconcile.runlog import LeftAs, RecentWrites
from reconcile.state import overlaid, rewritten_recently, unshown, unshown_in_trash


def page(page_id: str, key: str | None = "k", *, trashed: bool = False, value: str = "old") -> PageState:
    return PageState(page_id=page_id, url="", key=key, raw_key=key, values={"v": value}, in_trash=trashed)


def test_a_page_read_by_id_replaces_joins_or_leaves_the_live_pages() -> None:
    queried = (page("a"), page("b"), page("c"))
    fresh = {
        "a": page("a", value="new"),  # edited: replaced in place
        "b": page("b", trashed=True),  # trashed meanwhile: leaves the live pages
        "d": page("d", "kd"),  # created, not listed yet: joins at the end
        "e": None,  # gone, or moved to another data source
    }
    assert overlaid(queried, fresh, trashed=False) == (page("a", value="new"), page("c"), page("d", "kd"))


def test_the_trash_gains_pages_trashed_moments_ago_and_loses_restored_ones() -> None:
    queried = (page("r", trashed=True), page("t", trashed=True))
    fresh = {"r": page("r"), "x": page("x", "kx", trashed=True), "y": page("y", None, trashed=True)}
    # Restored "r" leaves the trash; "x" joins it; a trashed page without a key is no restore candidate.
    assert overlaid(queried, fresh, trashed=True) == (page("t", trashed=True), page("x", "kx", trashed=True))


def test_what_a_query_shows_otherwise_than_this_machine_left_it() -> None:
    mine: dict[str, LeftAs] = {
        "made": "live",
        "made-shown": "live",
        "binned": "trashed",
        "binned-gone": "trashed",
        "edited": "edited",
    }
    live = {"made-shown", "binned", "edited"}
    assert unshown(mine, live) == ["binned", "made"]  # edits are judged by the plan, not by presence
    assert unshown_in_trash(mine, {"binned", "made-shown"}) == ["binned-gone", "made-shown"]


def test_only_pages_this_machine_edited_and_the_plan_writes_again_are_read_after_planning() -> None:
    def action(kind: ActionKind, page_id: str | None, resource: str = "services") -> Action:
        return Action(kind, resource, "k", page_id, None, (), "")

    recent: RecentWrites = {"services": {"p1": "edited", "p2": "live", "p3": "edited"}, "councils": {"c1": "edited"}}
    plan = [action("update", "p1"), action("update", "p2"), action("create", None), action("touch", "c1", "councils")]
    assert rewritten_recently(plan, recent) == {"services": {"p1"}, "councils": {"c1"}}
