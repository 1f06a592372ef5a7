"""The HTML dashboard, read as a browser would: banner, runs that open, writes split by action."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from reconcile.dashboard import render_dashboard, unique_labels

BARNET = "0a0a0a0a-0000-4000-8000-000000000001"


def run(
    started: str, *, status: str | None = None, outcomes: list[dict[str, Any]] = (), **extra: Any
) -> dict[str, Any]:
    return {
        "run_id": f"r-{started[11:19].replace(':', '')}",
        "started_at": started,
        "duration_s": 2.5,
        "jobs": ["planx-live-services"],
        "failed": sum(1 for o in outcomes if o["status"] == "failed"),
        "outcomes": list(outcomes),
        "warnings": [],
        **({"status": status} if status else {}),
        **extra,
    }


def outcome(action: str, key: str, status: str = "ok", page_id: str | None = BARNET, **extra: Any) -> dict[str, Any]:
    return {"action": action, "resource": "services", "key": key, "status": status, "page_id": page_id, **extra}


class Elements(HTMLParser):
    """Start tags in document order, with their attributes."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.found if t == tag]


def test_the_banner_says_the_last_runs_status_first() -> None:
    good = render_dashboard([run("2026-11-29T02:17:00.000Z", status="ok")], run_log="runs.jsonl", generated_at="now")
    bad = render_dashboard(
        [
            run("2026-11-29T02:17:00.000Z", status="ok"),
            run(
                "2026-11-30T02:17:00.000Z",
                status="interrupted",
                outcomes=[outcome("create", "barnet")],
                error={"message": "interrupted after 1 write"},
            ),
        ],
        run_log="runs.jsonl",
        generated_at="now",
    )
    for html, css, text in [(good, "banner ok", "Last run ok"), (bad, "banner warn", "Last run interrupted")]:
        first_div = Elements(html).all("div")[0]
        assert first_div["class"] == css and first_div["id"] == "status"
        assert text in html
    assert "interrupted after 1 write" in bad


def test_each_recent_run_opens_its_detail_newest_first_and_a_failed_newest_opens_itself() -> None:
    runs = [
        run("2026-11-28T02:17:00.000Z", status="ok", outcomes=[outcome("create", "barnet")]),
        run(
            "2026-11-29T03:04:00.000Z",
            status="failed",
            outcomes=[
                outcome("update", "camden", "ok"),
                outcome("update", "barnet", "failed", error_code="validation_error"),
            ],
        ),
    ]
    html = render_dashboard(runs, run_log="runs.jsonl", generated_at="now")
    details = Elements(html).all("details")
    assert [d["id"] for d in details] == ["r-030400", "r-021700"]
    assert "open" in details[0] and "open" not in details[1]
    newest = html.split("<details", 2)[1]
    assert newest.index("barnet") < newest.index("camden")  # the failure first
    assert "1 update" in newest and "1 failed" in newest


def test_writes_are_split_by_action_in_the_chart_with_labels_never_alike() -> None:
    runs = [
        run("2026-11-30T02:17:05.000Z", status="ok", outcomes=[outcome("create", "a"), outcome("touch", "b")]),
        run(
            "2026-11-30T02:17:40.000Z", status="ok", outcomes=[outcome("update", "a"), outcome("update", "c", "failed")]
        ),
    ]
    html = render_dashboard(runs, run_log="runs.jsonl", generated_at="now")
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert re.findall(r"<title>([^<]+)</title>", svg) == [
        "30 Nov 02:17:05: 1 create",
        "30 Nov 02:17:05: 1 touch",
        "30 Nov 02:17:40: 1 update",
        "30 Nov 02:17:40: 1 failed",
    ]
    fills = [a["fill"] for a in Elements(svg).all("rect")]
    assert len(set(fills)) == 4  # one colour per action, failures their own
    assert unique_labels(["2026-11-30T02:17:05Z", "2026-11-30T02:17:05Z", "2026-11-30T03:00:00Z"]) == [
        "30 Nov 02:17:05",
        "30 Nov 02:17:05 (2)",
        "30 Nov 03:00",
    ]


def test_pages_link_to_notion_and_unlinked_keys_show_once() -> None:
    warning = {
        "code": "relation_target_missing",
        "resource": "services",
        "key": "camden",
        "message": "no councils page carries ExternalCustomerID 'camden'; services 'camden' stays unlinked",
    }
    last = run("2026-11-30T02:17:00.000Z", status="ok", outcomes=[outcome("create", "barnet")], warnings=[warning] * 3)
    html = render_dashboard([last], run_log="runs.jsonl", generated_at="now")
    links = [a["href"] for a in Elements(html).all("a")]
    assert "https://www.notion.so/0a0a0a0a000040008000000000000001" in links
    unlinked = html.split("<h3>Still unlinked</h3>", 1)[1]
    assert unlinked.count("camden") == 1 and "<td>councils</td>" in unlinked
    assert "<code>relation_target_missing</code> × 3 (services): camden</li>" in html


def test_no_runs_is_a_page_that_says_so() -> None:
    html = render_dashboard([], run_log="runs.jsonl", generated_at="now")
    assert "No runs yet" in html and "<script" not in html
