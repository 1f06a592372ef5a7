"""Renderers: golden files for representative plans, colour, the summary line, redaction, splitting.

UPDATE_GOLDEN=1 pytest tests/unit/test_render.py rewrites the golden files; review the diff.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconcile.model import Action, Diagnostic, Plan, PropertyChange, ResourceInfo
from reconcile.planfile import plan_document, plan_from_dict, plan_to_dict
from reconcile.render import render_json, render_markdown, render_text, split_markdown

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")

CREATED = "2026-11-27T03:00:00.000Z"
STAMP = "2026-11-27T03:00:00.000Z"
DIGEST = "3f2a9c1b7d0e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c"
BARNET_COUNCIL = "11111111-1111-4111-8111-111111111111"
CAMDEN_COUNCIL = "22222222-2222-4222-8222-222222222222"
LAMBETH_COUNCIL = "33333333-3333-4333-8333-333333333333"
LAMBETH_PAGE = "aaaaaaaa-0000-4000-8000-000000000003"
HACKNEY_PAGE = "aaaaaaaa-0000-4000-8000-000000000004"
CAMDEN_PAGE = "aaaaaaaa-0000-4000-8000-000000000002"
BARNET_FLOWS = (
    "Apply for a lawful development certificate",
    "Apply for planning permission",
    "Find out if you need planning permission",
    "Report a planning breach",
)


def page_url(title: str, page_id: str) -> str:
    return f"https://www.notion.so/{title}-{page_id.replace('-', '')}"


def resources(services: tuple[int, int], councils: tuple[int, int]) -> tuple[ResourceInfo, ...]:
    return (
        ResourceInfo("services", "db-services", "ds-services", "ExternalCustomerID", "rich_text", *services, "upsert"),
        ResourceInfo(
            "councils", "db-councils", "ds-councils", "ExternalCustomerID", "rich_text", *councils, "update-only"
        ),
    )


def plan(
    actions: tuple[Action, ...] = (),
    *,
    infos: tuple[ResourceInfo, ...] | None = None,
    diagnostics: tuple[Diagnostic, ...] = (),
    overrides: tuple[str, ...] = (),
    records: int = 3,
) -> Plan:
    return Plan(
        created_at=CREATED,
        config_digest=DIGEST,
        jobs=("planx",),
        resources=infos or resources((3, 3), (5, 5)),
        actions=actions,
        diagnostics=diagnostics,
        record_counts={"planx": records},
        guard_overrides=overrides,
    )


def touch(key: str, page_id: str, before: str | None, reason: str) -> Action:
    return Action(
        action="touch",
        resource="councils",
        key=key,
        page_id=page_id,
        url=page_url(key.title(), page_id),
        changes=(PropertyChange("Integration Last Updated", "date", before, STAMP),),
        reason=reason,
        digest="c0ffee0000000001",
    )


def unlinked_warning(key: str) -> Diagnostic:
    return Diagnostic(
        severity="warning",
        code="relation_target_missing",
        message=f"no councils page carries ExternalCustomerID {key!r}, so services {key!r} stays unlinked "
        f"(Councils); set ExternalCustomerID to {key!r} on the right page and the next run links it",
        resource="services",
        key=key,
    )


def creates_plan() -> Plan:
    barnet = Action(
        action="create",
        resource="services",
        key="barnet",
        page_id=None,
        url=None,
        changes=(
            PropertyChange("Name", "title", None, "Barnet"),
            PropertyChange("Description", "rich_text", None, "\n".join(BARNET_FLOWS)),
            PropertyChange("Service Count", "number", None, 4),
            PropertyChange("ExternalCustomerID", "rich_text", None, "barnet"),
            PropertyChange("Councils", "relation", None, (BARNET_COUNCIL,)),
        ),
        reason="ExternalCustomerID 'barnet' is in the source and has no page",
    )
    camden = Action(
        action="create",
        resource="services",
        key="camden",
        page_id=None,
        url=None,
        changes=(
            PropertyChange("Name", "title", None, "Camden"),
            PropertyChange("Description", "rich_text", None, "Apply for planning permission"),
            PropertyChange("Service Count", "number", None, 1),
            PropertyChange("ExternalCustomerID", "rich_text", None, "camden"),
        ),
        reason="ExternalCustomerID 'camden' is in the source and has no page",
    )
    return plan(
        (touch("barnet", BARNET_COUNCIL, None, "services 'barnet' was created"), barnet, camden),
        infos=resources((0, 0), (5, 4)),
        diagnostics=(unlinked_warning("camden"),),
        records=2,
    )


def drift_plan() -> Plan:
    before = "\n".join((*BARNET_FLOWS[1:3], "Apply for prior approval"))
    after = "\n".join(BARNET_FLOWS[1:])
    lambeth = Action(
        action="update",
        resource="services",
        key="lambeth",
        page_id=LAMBETH_PAGE,
        url=page_url("Lambeth", LAMBETH_PAGE),
        changes=(
            PropertyChange("Name", "title", "Lambeth (edited by hand)", "Lambeth"),
            PropertyChange("Description", "rich_text", before, after),
            PropertyChange("Service Count", "number", 3, 3.5),
            PropertyChange("Councils", "relation", (CAMDEN_COUNCIL,), (LAMBETH_COUNCIL,)),
            PropertyChange("Active", "checkbox", False, True),
            PropertyChange("Tags", "multi_select", (), ("planning", 'say "hi" | bye')),
        ),
        reason="differs from the source in Name, Description, Service Count, Councils, Active, Tags",
        digest="0123456789abcdef",
    )
    return plan(
        (
            touch("camden", CAMDEN_COUNCIL, "2026-11-01T03:00:00.000Z", "services 'lambeth' changed"),
            touch("lambeth", LAMBETH_COUNCIL, None, "services 'lambeth' changed"),
            lambeth,
        ),
        infos=resources((3, 2), (5, 3)),
    )


def lifecycle_plan() -> Plan:
    archive = Action(
        action="archive",
        resource="services",
        key="hackney",
        page_id=HACKNEY_PAGE,
        url=page_url("Hackney", HACKNEY_PAGE),
        changes=(),
        reason="ExternalCustomerID 'hackney' is no longer in the source; moving the page to the trash",
        digest="feedface00000004",
    )
    restore = Action(
        action="restore",
        resource="services",
        key="camden",
        page_id=CAMDEN_PAGE,
        url=page_url("Camden", CAMDEN_PAGE),
        changes=(PropertyChange("Service Count", "number", 1, 2),),
        reason="ExternalCustomerID 'camden' is back in the source; restoring its page from the trash",
        digest="feedface00000002",
    )
    return plan(
        (
            touch("camden", CAMDEN_COUNCIL, "2026-10-01", "services 'camden' was restored"),
            touch("hackney", "44444444-4444-4444-8444-444444444444", None, "services 'hackney' was archived"),
            restore,
            archive,
        ),
        infos=resources((3, 2), (5, 3)),
    )


def problems_plan() -> Plan:
    dup_urls = (
        page_url("Barnet", "bbbbbbbb-0000-4000-8000-000000000001"),
        page_url("Barnet", "bbbbbbbb-0000-4000-8000-000000000002"),
    )
    diagnostics = (
        Diagnostic(
            severity="error",
            code="duplicate_page_key",
            message="2 pages in services carry ExternalCustomerID 'barnet'; nothing is written for this key "
            "until only one does",
            resource="services",
            key="barnet",
            urls=dup_urls,
        ),
        Diagnostic(
            severity="error",
            code="guard_archive_limit",
            message="job planx: services would archive 9 of 12 managed pages, more than the limit of 5; "
            "refusing to apply. Override with --allow-large-changes",
        ),
        Diagnostic(
            severity="warning",
            code="key_needed_strip",
            message="ExternalCustomerID ' camden ' has surrounding white space; matched as 'camden'",
            resource="councils",
            key="camden",
            urls=(page_url("Camden", CAMDEN_COUNCIL),),
        ),
        unlinked_warning("lambeth"),
    )
    update = Action(
        action="update",
        resource="services",
        key="lambeth",
        page_id=LAMBETH_PAGE,
        url=page_url("Lambeth", LAMBETH_PAGE),
        changes=(PropertyChange("Councils", "relation", (CAMDEN_COUNCIL,), ()),),
        reason="differs from the source in Councils",
        digest="0123456789abcdef",
    )
    return plan((update,), infos=resources((12, 11), (5, 5)), diagnostics=diagnostics, records=12)


def override_plan() -> Plan:
    message = (
        "job planx: services would archive 6 of 8 managed pages, more than the limit of 5; "
        "refusing to apply. Override with --allow-large-changes"
    )
    archives = tuple(
        Action(
            action="archive",
            resource="services",
            key=key,
            page_id=f"cccccccc-0000-4000-8000-00000000000{i}",
            url=page_url(key.title(), f"cccccccc-0000-4000-8000-00000000000{i}"),
            changes=(),
            reason=f"ExternalCustomerID {key!r} is no longer in the source; moving the page to the trash",
            digest=f"feedface0000000{i}",
        )
        for i, key in enumerate(("brent", "bromley", "ealing", "enfield", "harrow", "sutton"))
    )
    warning = Diagnostic(severity="warning", code="guard_archive_limit_overridden", message=message)
    return plan(archives, infos=resources((8, 2), (5, 5)), diagnostics=(warning,), overrides=(message,), records=2)


SAMPLES = {
    "no_changes": lambda: plan(),
    "creates": creates_plan,
    "drift": drift_plan,
    "lifecycle": lifecycle_plan,
    "problems": problems_plan,
    "override": override_plan,
}


def outputs(name: str) -> dict[str, str]:
    data = plan_to_dict(SAMPLES[name]())
    out = {
        f"{name}.txt": render_text(data, color=False),
        f"{name}.md": render_markdown(data),
        f"{name}.redacted.txt": render_text(data, color=False, redact=True),
        f"{name}.redacted.md": render_markdown(data, redact=True),
    }
    if name in ("drift", "lifecycle"):
        out[f"{name}.color.txt"] = render_text(data, color=True)
        out[f"{name}.json"] = render_json(plan_document(SAMPLES[name]()))
    return out


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_golden(name: str) -> None:
    for filename, rendered in outputs(name).items():
        path = GOLDEN / filename
        if os.environ.get("UPDATE_GOLDEN") == "1":
            GOLDEN.mkdir(exist_ok=True)
            path.write_text(rendered, encoding="utf-8")
        assert path.is_file(), f"{path} is missing; run with UPDATE_GOLDEN=1 and review it"
        assert rendered == path.read_text(encoding="utf-8"), f"{filename} differs from its golden file"


# ── the summary line ─────────────────────────────────────────────────────────────────────────────


def last_line(text: str) -> str:
    return text.rstrip("\n").splitlines()[-1]


def test_summary_line_counts_each_kind() -> None:
    data = plan_to_dict(lifecycle_plan())
    expected = "Plan: 0 to create, 0 to update, 1 to archive, 1 to restore, 2 to touch."
    assert last_line(render_text(data, color=False)) == expected
    assert f"**{expected}**" in render_markdown(data).splitlines()


def test_summary_line_without_changes_counts_managed_pages() -> None:
    data = plan_to_dict(plan(infos=resources((3, 3), (5, 5))))
    assert last_line(render_text(data, color=False)) == "No changes. Notion is up to date (8 pages checked)."
    assert "**No changes. Notion is up to date (8 pages checked).**" in render_markdown(data)


def test_no_changes_with_warnings_still_ends_with_the_summary_line() -> None:
    data = plan_to_dict(plan(diagnostics=(unlinked_warning("camden"),)))
    text = render_text(data, color=False)
    assert 'warning: services "camden": no councils page' in text
    assert last_line(text) == "No changes. Notion is up to date (8 pages checked)."


# ── colour ───────────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_colour_off_has_no_escape_codes_and_on_only_adds_them(name: str) -> None:
    data = plan_to_dict(SAMPLES[name]())
    plain = render_text(data, color=False)
    coloured = render_text(data, color=True)
    assert "\x1b" not in plain
    assert ANSI_ESCAPE.sub("", coloured) == plain
    assert "\x1b[" in coloured


def test_each_symbol_has_its_colour() -> None:
    coloured = render_text(plan_to_dict(lifecycle_plan()), color=True) + render_text(
        plan_to_dict(drift_plan()), color=True
    )
    for code, head in (("36", "^ restore"), ("31", "- archive"), ("34", "* touch"), ("33", "~ update")):
        assert f"\x1b[{code}m{head}\x1b[0m" in coloured
    assert "\x1b[32m+ create\x1b[0m" in render_text(plan_to_dict(creates_plan()), color=True)


# ── presentation details ─────────────────────────────────────────────────────────────────────────


def test_short_values_show_before_and_after() -> None:
    text = render_text(plan_to_dict(drift_plan()), color=False)
    assert '    Name: "Lambeth (edited by hand)" → "Lambeth"' in text
    assert "    Service Count: 3 → 3.5" in text
    assert f'    Councils: ["{CAMDEN_COUNCIL}"] → ["{LAMBETH_COUNCIL}"]' in text
    assert "    Active: false → true" in text
    assert '    Integration Last Updated: (none) → "2026-11-27T03:00:00.000Z"' in text


def test_long_text_is_a_line_diff() -> None:
    text = render_text(plan_to_dict(drift_plan()), color=False)
    assert "        -Apply for prior approval" in text
    assert "        +Report a planning breach" in text
    assert "        --- before" in text


def test_text_differing_only_in_a_trailing_newline_still_shows_a_change() -> None:
    change = PropertyChange("Description", "rich_text", "a\n" + "x" * 90, "a\n" + "x" * 90 + "\n")
    action = Action("update", "services", "k", "p", None, (change,), "differs from the source in Description")
    text = render_text(plan_to_dict(plan((action,))), color=False)
    assert '    Description: "a\\n' + "x" * 90 + '" → "a\\n' + "x" * 90 + '\\n"' in text


def test_markdown_table_escapes_pipes_and_markup() -> None:
    md = render_markdown(plan_to_dict(drift_plan()))
    row = next(line for line in md.splitlines() if line.startswith("| `~` |"))
    assert r'"say \"hi\" \| bye"]`' in row
    assert len(re.split(r"(?<!\\)\|", row)) == 7  # five cells between the outer pipes


def test_markdown_puts_long_text_in_details() -> None:
    md = render_markdown(plan_to_dict(creates_plan()))
    assert "<details><summary>services <code>barnet</code>: Description</summary>" in md
    assert "```text\nApply for a lawful development certificate\n" in md  # a new page's text, as text
    assert "+Report a planning breach" not in md
    assert "Description: (text below)" in md
    assert 'Description: `"Apply for planning permission"`' in md  # short text stays in the table


# ── redaction ────────────────────────────────────────────────────────────────────────────────────


def secrets_of(data: dict) -> set[str]:
    """Every property value and page URL in the plan: what a redacted rendering must not show."""
    found: set[str] = set()
    for action in data["actions"]:
        found |= {action["url"]} if action["url"] else set()
        for change in action["changes"]:
            for value in (change["before"], change["after"]):
                items = value if isinstance(value, list) else [value]
                found |= {v for v in items if isinstance(v, str) and len(v) > 3}
                found |= {line for v in items if isinstance(v, str) for line in v.splitlines() if len(line) > 3}
    for d in data["diagnostics"]:
        found |= set(d["urls"])
    return found


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_redacted_output_shows_no_value_or_url(name: str) -> None:
    data = plan_to_dict(SAMPLES[name]())
    keys = {a["key"] for a in data["actions"]} | {data["created_at"]}  # the touch stamp is the plan's time
    rendered = render_text(data, color=False, redact=True) + render_markdown(data, redact=True)
    leaked = {s for s in secrets_of(data) - keys if s in rendered}
    assert not leaked
    assert "www.notion.so" not in rendered
    for action in data["actions"]:
        assert f'"{action["key"]}"' in rendered
        for change in action["changes"]:
            assert change["name"] in rendered
    assert last_line(render_text(data, color=False, redact=True)) == last_line(render_text(data, color=False))


def test_redacted_values_are_marked() -> None:
    text = render_text(plan_to_dict(drift_plan()), color=False, redact=True)
    assert "    Name: (redacted) → (redacted)" in text
    assert "    Description: (redacted) → (redacted)" in text
    created = render_text(plan_to_dict(creates_plan()), color=False, redact=True)
    assert "    Name: (redacted)" in created.splitlines()


# ── JSON ─────────────────────────────────────────────────────────────────────────────────────────


def test_render_json_is_stable_and_reads_back() -> None:
    data = plan_document(drift_plan())
    text = render_json(data)
    assert text == render_json(json.loads(text))
    assert plan_from_dict(json.loads(text)) == drift_plan()
    assert list(json.loads(text)) == sorted(data)


# ── splitting for GitHub ─────────────────────────────────────────────────────────────────────────

MARKER = re.compile(r"\A\*\(part (\d+)/(\d+)\)\*\n\n")


def unmarked(chunks: list[str]) -> str:
    return "".join(MARKER.sub("", c, count=1) for c in chunks)


plain_lines = st.one_of(
    st.sampled_from(["### services", "<details><summary>x</summary>", "</details>", "", "| a | b |"]),
    st.text(
        alphabet=st.characters(
            blacklist_categories=("Cs",), blacklist_characters="`~\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
        ),
        max_size=120,
    ),
)
fenced_blocks = st.lists(plain_lines, max_size=30).map(lambda lines: ["```diff", *lines, "```"])
markdown_blocks = st.lists(st.one_of(plain_lines.map(lambda line: [line]), fenced_blocks), max_size=20)


@settings(max_examples=150, deadline=None)
@given(lines=st.lists(plain_lines, max_size=60), limit=st.integers(min_value=20, max_value=400))
def test_split_markdown_chunks_fit_and_join_back(lines: list[str], limit: int) -> None:
    text = "\n".join(lines)
    chunks = split_markdown(text, limit)
    assert all(len(c) <= limit for c in chunks)
    if not text.strip():
        assert chunks == []  # no empty comment
        return
    if len(chunks) == 1:
        assert chunks == [text]
        return
    assert unmarked(chunks) == text
    for i, chunk in enumerate(chunks, 1):
        match = MARKER.match(chunk)
        assert match and match.groups() == (str(i), str(len(chunks)))


def fence_lines_balanced(chunk: str) -> bool:
    return len([line for line in chunk.splitlines() if line.startswith("```")]) % 2 == 0


def without_fences(text: str) -> str:
    return re.sub(r"^```.*\n?", "", text, flags=re.MULTILINE).replace("\n", "")


@settings(max_examples=150, deadline=None)
@given(blocks=markdown_blocks, limit=st.integers(min_value=60, max_value=400))
def test_split_markdown_closes_and_reopens_a_code_block_it_cuts(blocks: list[list[str]], limit: int) -> None:
    text = "\n".join(line for block in blocks for line in block) + "\n"
    chunks = split_markdown(text, limit)
    assert all(len(c) <= limit for c in chunks)
    assert all(fence_lines_balanced(MARKER.sub("", c)) for c in chunks)
    assert without_fences(unmarked(chunks)) == without_fences(text)


def test_split_markdown_cuts_before_sections_when_they_fit() -> None:
    sections = [f"### resource {i}\n\n" + "| `+` | create | row |\n" * 20 for i in range(6)]
    text = "## Reconcile plan\n\n" + "".join(sections)
    limit = len(sections[0]) * 2 + 40
    chunks = split_markdown(text, limit)
    assert len(chunks) > 1
    for chunk in chunks[1:]:
        assert MARKER.sub("", chunk).startswith("### resource")


def test_split_markdown_of_a_real_plan_under_githubs_limit() -> None:
    md = render_markdown(plan_to_dict(creates_plan()))
    assert split_markdown(md) == [md]
    chunks = split_markdown(md, 400)
    assert len(chunks) > 2 and all(len(c) <= 400 for c in chunks)
    header = next(line for line in md.splitlines() if line.startswith("| | Action"))
    delimiter = md.splitlines()[md.splitlines().index(header) + 1]
    repeated = f"{header}\n{delimiter}\n"
    continued = [MARKER.sub("", c) for c in chunks[1:] if MARKER.sub("", c).startswith("| ")]
    assert continued and all(c.startswith(repeated) for c in continued)  # every part of a table has its header
    assert (
        unmarked(
            [chunks[0], *(c.replace(repeated, "", 1) if MARKER.sub("", c).startswith("| ") else c for c in chunks[1:])]
        )
        == md
    )


def test_split_markdown_refuses_a_limit_too_small_for_its_marker() -> None:
    with pytest.raises(ValueError, match="too small"):
        split_markdown("x" * 50, 5)


def test_a_plan_too_big_for_one_comment_splits_into_balanced_parts() -> None:
    flows = [f"Service number {i} with a reasonably long descriptive name" for i in range(400)]
    creates = tuple(
        Action(
            "create",
            "services",
            f"council-{n}",
            None,
            None,
            (PropertyChange("Description", "rich_text", None, "\n".join(flows)),),
            f"ExternalCustomerID 'council-{n}' is in the source and has no page",
        )
        for n in range(5)
    )
    md = render_markdown(plan_to_dict(plan(creates)))
    assert len(md) > 65535
    chunks = split_markdown(md)
    assert len(chunks) == 3  # five diffs of about 24,000 characters, two to a comment
    assert all(len(c) <= 65535 and fence_lines_balanced(MARKER.sub("", c)) for c in chunks)
    assert all(MARKER.sub("", c).startswith("<details>") for c in chunks[1:])
    assert unmarked(chunks) == md


def test_render_package_exports() -> None:
    import reconcile.render as render

    assert sorted(render.__all__) == ["render_json", "render_markdown", "render_text", "split_markdown"]
    assert all(callable(getattr(render, name)) for name in render.__all__)
