"""Warnings of one kind on one line, with a count and the keys."""

from __future__ import annotations

from reconcile.grouping import group_diagnostics


def unlinked(key: str) -> dict[str, str]:
    return {
        "severity": "warning",
        "code": "relation_target_missing",
        "resource": "services",
        "key": key,
        "message": f"no councils page carries ExternalCustomerID {key!r}; services {key!r} stays unlinked "
        "(Councils) until one does",
    }


def test_warnings_that_differ_only_in_their_key_become_one_line() -> None:
    [group] = group_diagnostics([unlinked("camden"), unlinked("barnet"), unlinked("camden")])
    assert group.count == 3
    assert group.line() == (
        "3 × relation_target_missing (services): no councils page carries ExternalCustomerID ‹key›; "
        "services ‹key› stays unlinked (Councils) until one does: camden, barnet"
    )


def test_a_kind_seen_once_keeps_its_message_and_kinds_keep_their_order() -> None:
    other = {"severity": "warning", "code": "key_needed_strip", "resource": "councils", "key": "x", "message": "m"}
    groups = group_diagnostics([other, unlinked("camden"), unlinked("barnet")])
    assert [(g.code, g.count) for g in groups] == [("key_needed_strip", 1), ("relation_target_missing", 2)]
    assert groups[0].line() == "m"


def test_messages_that_differ_beyond_the_key_name_the_first() -> None:
    a = {"severity": "warning", "code": "page_missing", "resource": "r", "key": "a", "message": "one thing"}
    b = {"severity": "warning", "code": "page_missing", "resource": "r", "key": "b", "message": "another"}
    [group] = group_diagnostics([a, b])
    assert group.line() == "2 × page_missing (r): a, b. The first: one thing"


def test_errors_are_left_out_unless_asked_for() -> None:
    error = {"severity": "error", "code": "duplicate_page_key", "resource": "r", "key": "k", "message": "two pages"}
    assert group_diagnostics([error]) == []
    [group] = group_diagnostics([error], severity="error")
    assert group.line() == "two pages"
