"""GitHub Actions annotations and the job summary, from run records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reconcile.annotations import Annotation, emit, escape_data, job_summary, run_annotations
from reconcile.redact import remember_secret
from tests.unit.test_notify import guard_trip, record


def unlinked(*keys: str) -> list[dict[str, Any]]:
    return [
        {
            "code": "relation_target_missing",
            "resource": "services",
            "key": k,
            "message": f"no councils page carries ExternalCustomerID {k!r}; services {k!r} stays unlinked",
        }
        for k in keys
    ]


def test_a_command_line_escapes_newlines_percent_and_property_separators() -> None:
    note = Annotation("error", "50% done\nsecond line", title="a:b,c", file="mappings.yaml", line=3, col=5)
    assert note.command() == "::error file=mappings.yaml,line=3,col=5,title=a%3Ab%2Cc::50%25 done%0Asecond line"
    assert escape_data("\r") == "%0D"


def test_warnings_of_one_kind_become_one_annotation_with_a_count_and_the_keys() -> None:
    notes = run_annotations(record(warnings=unlinked("camden", "barnet", "hounslow")))
    assert [n.command() for n in notes] == [
        "::warning title=reconcile%3A relation_target_missing::3 × relation_target_missing (services): "
        "no councils page carries ExternalCustomerID ‹key›; services ‹key› stays unlinked: camden, barnet, hounslow"
    ]


def test_a_single_warning_keeps_its_own_message() -> None:
    [note] = run_annotations(record(warnings=unlinked("camden")))
    assert note.message.startswith("no councils page carries ExternalCustomerID 'camden'")


def test_errors_come_first_failed_writes_grouped_by_action_and_code() -> None:
    failed = record(
        status="failed",
        failed=2,
        warnings=unlinked("camden"),
        outcomes=[
            {
                "action": "update",
                "resource": "services",
                "key": k,
                "status": "failed",
                "error_code": "validation_error",
                "message": "bad",
            }
            for k in ("barnet", "lambeth")
        ],
    )
    notes = run_annotations(failed)
    assert [n.level for n in notes] == ["error", "warning"]
    assert (
        notes[0].message
        == "2 update write(s) failed (validation_error): services 'barnet', services 'lambeth'. First: bad"
    )


def test_a_guard_trip_is_an_error_annotation_with_its_code() -> None:
    notes = run_annotations(guard_trip())
    assert [(n.level, n.title) for n in notes] == [("error", "reconcile"), ("error", "reconcile: guard_archive_limit")]


def test_the_job_summary_says_the_outcome_first() -> None:
    ok = job_summary(record())
    assert ok.splitlines()[0] == "### ✅ reconcile planx-live-services: ok"
    assert "| update | 2 | 0 | 0 |" in ok
    refused = job_summary(guard_trip())
    assert refused.splitlines()[0] == "### ❌ reconcile planx-live-services: refused"
    assert "No writes." in refused and "**Errors**" in refused


def test_emit_prints_annotations_and_appends_the_summary(tmp_path: Path) -> None:
    remember_secret("ntn_annotation_secret_42")
    rec = record(warnings=[{"code": "x", "resource": "s", "key": "k", "message": "token ntn_annotation_secret_42"}])
    lines: list[str] = []
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    emit(rec, echo=lines.append, summary_path=str(summary))
    assert lines == ["::warning title=reconcile%3A x::token [redacted]"]
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n### ✅") and "ntn_annotation_secret_42" not in text
    emit(rec, echo=lines.append, summary_path=None)
    assert len(lines) == 2
