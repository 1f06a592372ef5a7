"""`reconcile report --html FILE`: one self-contained HTML page from the run log.

Inline CSS and inline SVG only (no scripts, fonts or images from anywhere), so the file can be
mailed, uploaded as a CI artifact or opened offline. Per job: a chart of writes and failures per
run over time, the last run's changes, and the keys still unlinked (the last run's
`relation_target_missing` warnings: for PlanX, the councils whose ExternalCustomerID is missing).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from reconcile.runlog import OutcomeJSON, RunRecordJSON, UnlinkedKey, history_row, job_split, unlinked_keys

__all__ = ["MAX_RUNS_CHARTED", "render_html"]

MAX_RUNS_CHARTED = 60
CHART_WIDTH = 760
CHART_HEIGHT = 220
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 44, 12, 14, 46
WRITE_COLOUR = "#2f855a"
FAIL_COLOUR = "#c53030"

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1a202c;background:#f7fafc}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:32px 0 8px;border-bottom:2px solid #cbd5e0}
h3{font-size:15px;margin:18px 0 6px}.muted{color:#4a5568}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:12px 0}
.card{background:#fff;border:1px solid #e2e8f0;border-radius:6px;padding:8px 14px;min-width:120px}
.card b{display:block;font-size:20px}
table{border-collapse:collapse;width:100%;background:#fff;margin:6px 0}
th,td{border:1px solid #e2e8f0;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#edf2f7}td code{white-space:nowrap}.failed{color:#c53030;font-weight:600}.ok{color:#2f855a}
svg{background:#fff;border:1px solid #e2e8f0;border-radius:6px}
.legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px}
"""


def render_html(runs: Sequence[RunRecordJSON], *, run_log: str, generated_at: str) -> str:
    """The whole report page for these runs (oldest first)."""
    body = [
        "<h1>reconcile: run report</h1>",
        f'<p class="muted">{len(runs)} run(s) in <code>{escape(run_log)}</code>; generated {escape(generated_at)}.</p>',
    ]
    if not runs:
        body.append("<p>No runs recorded yet. Run <code>reconcile apply</code> first.</p>")
    else:
        body.append(summary_cards(runs[-1]))
        body += [job_section(job, runs) for job in job_names(runs)]
    return page("reconcile run report", "\n".join(body))


def page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n{body}\n</main>\n"
        "</body>\n</html>\n"
    )


def job_names(runs: Sequence[RunRecordJSON]) -> list[str]:
    """Every job seen in the log, in order of first appearance."""
    names: dict[str, None] = {}
    for run in runs:
        names.update(dict.fromkeys(job_split(run)))
    return list(names)


def summary_cards(last: RunRecordJSON) -> str:
    row = history_row(last)
    cards = [
        ("Last run", (row["started_at"] or "?")[:16].replace("T", " ")),
        ("Writes", str(sum(row["written"].values()))),
        ("Failures", str(row["failed"])),
        ("Warnings", str(row["warnings"])),
        ("API calls", str(row["api_calls"])),
        ("Duration", f"{row['duration_s']:.1f} s"),
    ]
    items = "".join(f'<div class="card">{escape(label)}<b>{escape(value)}</b></div>' for label, value in cards)
    return f'<div class="cards">{items}</div>'


# ── one job ──────────────────────────────────────────────────────────────────────────────────────


def job_section(job: str, runs: Sequence[RunRecordJSON]) -> str:
    mine = [r for r in runs if job in job_split(r)][-MAX_RUNS_CHARTED:]
    points = [chart_point(r, job) for r in mine]
    last = mine[-1]
    return "\n".join(
        [
            f'<section id="job-{escape(job)}">',
            f"<h2>Job {escape(job)}</h2>",
            "<h3>Writes and failures per run</h3>",
            chart_svg(job, points),
            f"<h3>Last run's changes ({escape(last.get('started_at', '?'))})</h3>",
            changes_table(job_split(last)[job]["outcomes"]),
            "<h3>Still unlinked</h3>",
            unlinked_table([u for u in unlinked_keys(last) if u["job"] == job]),
            "</section>",
        ]
    )


def chart_point(run: RunRecordJSON, job: str) -> tuple[str, int, int]:
    part = job_split(run)[job]
    return run.get("started_at", ""), sum(part["counts"].values()), part["failed"]


def chart_svg(job: str, points: Sequence[tuple[str, int, int]]) -> str:
    """A bar per run: writes (green) with failures (red) stacked on top; dates along the x axis."""
    inner_w = CHART_WIDTH - PAD_LEFT - PAD_RIGHT
    inner_h = CHART_HEIGHT - PAD_TOP - PAD_BOTTOM
    top = max([w + f for _, w, f in points] + [1])
    slot = inner_w / max(len(points), 1)
    bar = max(min(slot * 0.7, 40.0), 1.0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{CHART_WIDTH}" height="{CHART_HEIGHT}" '
        f'viewBox="0 0 {CHART_WIDTH} {CHART_HEIGHT}" role="img" '
        f'aria-label="Writes and failures per run for job {escape(job)}">',
        f"<title>Writes and failures per run: {escape(job)}</title>",
        *axis_lines(top, inner_w, inner_h),
    ]
    for i, (when, writes, failures) in enumerate(points):
        x = PAD_LEFT + i * slot + (slot - bar) / 2
        parts += bar_rects(x, bar, writes, failures, top, inner_h, when)
        if len(points) <= 12 or i % max(len(points) // 8, 1) == 0:
            label_x = x + bar / 2
            parts.append(
                f'<text x="{label_x:.1f}" y="{PAD_TOP + inner_h + 16}" font-size="10" text-anchor="middle" '
                f'fill="#4a5568">{escape(when[5:16].replace("T", " "))}</text>'
            )
    parts.append("</svg>")
    legend = (
        f'<div class="legend muted"><span style="background:{WRITE_COLOUR}"></span>writes'
        f'<span style="background:{FAIL_COLOUR}"></span>failures</div>'
    )
    return "\n".join(parts) + "\n" + legend


def axis_lines(top: int, inner_w: float, inner_h: float) -> list[str]:
    base = PAD_TOP + inner_h
    lines = [
        f'<line x1="{PAD_LEFT}" y1="{base}" x2="{PAD_LEFT + inner_w}" y2="{base}" stroke="#a0aec0"/>',
        f'<line x1="{PAD_LEFT}" y1="{PAD_TOP}" x2="{PAD_LEFT}" y2="{base}" stroke="#a0aec0"/>',
    ]
    for value in sorted({0, top // 2, top}):
        y = base - inner_h * value / top
        lines.append(
            f'<text x="{PAD_LEFT - 6}" y="{y + 4:.1f}" font-size="10" text-anchor="end" fill="#4a5568">{value}</text>'
        )
    return lines


def bar_rects(x: float, width: float, writes: int, failures: int, top: int, inner_h: float, when: str) -> list[str]:
    base = PAD_TOP + inner_h
    write_h = inner_h * writes / top
    fail_h = inner_h * failures / top
    tip = escape(f"{when}: {writes} write(s), {failures} failure(s)")
    rects = [
        f'<rect x="{x:.1f}" y="{base - write_h:.1f}" width="{width:.1f}" height="{write_h:.1f}" '
        f'fill="{WRITE_COLOUR}"><title>{tip}</title></rect>'
    ]
    if failures:
        rects.append(
            f'<rect x="{x:.1f}" y="{base - write_h - fail_h:.1f}" width="{width:.1f}" height="{fail_h:.1f}" '
            f'fill="{FAIL_COLOUR}"><title>{tip}</title></rect>'
        )
    return rects


def changes_table(outcomes: Sequence[OutcomeJSON]) -> str:
    if not outcomes:
        return "<p>No changes: Notion was already up to date.</p>"
    rows = "".join(
        "<tr>"
        f"<td>{escape(o.get('action', ''))}</td><td>{escape(o.get('resource', ''))}</td>"
        f"<td>{escape(o.get('key', ''))}</td>"
        f'<td class="{"failed" if o.get("status") == "failed" else "ok"}">{escape(o.get("status", ""))}</td>'
        f"<td>{escape(o.get('error_code') or '')}</td><td>{escape(o.get('message') or '')}</td>"
        "</tr>"
        for o in outcomes
    )
    head = "<tr><th>Action</th><th>Resource</th><th>Key</th><th>Status</th><th>Error code</th><th>Message</th></tr>"
    return f"<table>{head}{rows}</table>"


def unlinked_table(unlinked: Sequence[UnlinkedKey]) -> str:
    if not unlinked:
        return "<p>Nothing unlinked: every related page was found.</p>"
    rows = "".join(
        f"<tr><td>{escape(u['resource'])}</td><td><code>{escape(u['key'])}</code></td>"
        f"<td>{escape(u['message'])}</td></tr>"
        for u in unlinked
    )
    head = "<tr><th>Resource</th><th>Key</th><th>What to do</th></tr>"
    return (
        f"<p>{len(unlinked)} key(s) have no related page yet. "
        "<code>reconcile suggest-links</code> proposes them.</p>"
        f"<table>{head}{rows}</table>"
    )
