"""The HTML report as a dashboard: one self-contained page from the run records (oldest first).

    status banner (the last run)  ·  recent runs, each opening its detail  ·  per job: writes per run
    split by action, the last run's changes (failures first, linked to Notion), keys still unlinked

Inline CSS and SVG only, no script, font or image from anywhere (it is mailed and kept as a CI
artifact). A run opens with <details>, which every browser does without a script. Rendering only
presents the records: every number shown is in a record or counted from its outcomes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape
from typing import Any

__all__ = ["ACTION_COLOURS", "render_dashboard", "run_status"]

Record = Mapping[str, Any]

MAX_RUNS_LISTED = 30
MAX_RUNS_CHARTED = 60
ACTION_COLOURS = {
    "create": "#2f855a",
    "update": "#2b6cb0",
    "restore": "#805ad5",
    "archive": "#b7791f",
    "touch": "#718096",
    "failed": "#c53030",
}
STATUS_STYLE = {"ok": ("ok", "✔"), "failed": ("bad", "✖"), "crashed": ("bad", "✖"), "refused": ("bad", "✖")}
CHART_W, CHART_H = 760, 240
PAD_L, PAD_R, PAD_T, PAD_B = 44, 12, 14, 52

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1a202c;background:#f7fafc}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:19px;margin:32px 0 8px;border-bottom:2px solid #cbd5e0}
h3{font-size:15px;margin:18px 0 6px}.muted{color:#4a5568}
.banner{padding:16px 20px;border-radius:8px;color:#fff;margin:12px 0 20px;font-size:17px}
.banner b{font-size:22px;margin-right:8px}.banner.ok{background:#2f855a}.banner.bad{background:#c53030}
.banner.warn{background:#b7791f}
table{border-collapse:collapse;width:100%;background:#fff;margin:6px 0}
th,td{border:1px solid #e2e8f0;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#edf2f7}.num{text-align:right}
.st{font-weight:600}.st.ok{color:#2f855a}.st.bad{color:#c53030}.st.warn{color:#b7791f}
details{background:#fff;border:1px solid #e2e8f0;border-radius:6px;margin:4px 0}
summary{cursor:pointer;padding:6px 10px;display:flex;gap:14px;flex-wrap:wrap}
details>div{padding:4px 12px 12px}
svg{background:#fff;border:1px solid #e2e8f0;border-radius:6px;max-width:100%}
.legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px}
"""


# ── status and counts, read from a record ────────────────────────────────────────────────────────


def run_status(record: Record) -> str:
    """The record's status; records written before statuses existed are ok unless something failed."""
    status = record.get("status")
    if isinstance(status, str) and status:
        return status
    return "failed" if int(record.get("failed") or 0) or record.get("errors") else "ok"


def status_class(status: str) -> str:
    return STATUS_STYLE.get(status, ("warn", "!"))[0]


def status_icon(status: str) -> str:
    return STATUS_STYLE.get(status, ("warn", "!"))[1]


def written_by_action(record: Record) -> dict[str, int]:
    """action -> writes that succeeded, plus "failed" -> writes that failed."""
    counts: Counter[str] = Counter()
    for outcome in record.get("outcomes") or []:
        if outcome.get("status") == "ok":
            counts[str(outcome.get("action"))] += 1
        elif outcome.get("status") == "failed":
            counts["failed"] += 1
    return {k: counts[k] for k in ACTION_COLOURS if counts[k]}


def job_records(runs: Sequence[Record], job: str) -> list[Record]:
    """Each run restricted to the outcomes and warnings of one job's resources."""
    out: list[Record] = []
    for run in runs:
        if job not in (run.get("jobs") or []):
            continue
        owners = run.get("resource_jobs") or {}
        jobs = run.get("jobs") or []

        def mine(item: Mapping[str, Any], owners: Mapping[str, str] = owners, jobs: Sequence[str] = jobs) -> bool:
            owner = owners.get(str(item.get("resource")), jobs[0] if len(jobs) == 1 else "")
            return owner == job

        out.append(
            {
                **run,
                "outcomes": [o for o in run.get("outcomes") or [] if mine(o)],
                "warnings": [w for w in run.get("warnings") or [] if mine(w)],
            }
        )
    return out


def job_names(runs: Sequence[Record]) -> list[str]:
    names: dict[str, None] = {}
    for run in runs:
        names.update(dict.fromkeys(str(j) for j in run.get("jobs") or []))
    return list(names)


def short_time(iso: str) -> str:
    """`30 Nov 02:17` from an ISO timestamp (the text itself when it is not one)."""
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).strftime("%d %b %H:%M")
    except ValueError:
        return iso


def unique_labels(times: Sequence[str]) -> list[str]:
    """Readable bar labels, never two alike: runs in the same minute get their seconds."""
    labels = [short_time(t) for t in times]
    repeated = {label for label, n in Counter(labels).items() if n > 1}
    out = []
    for t, label in zip(times, labels, strict=True):
        out.append(f"{label}:{t[17:19]}" if label in repeated and len(t) >= 19 else label)
    seen: Counter[str] = Counter()
    final = []
    for label in out:
        seen[label] += 1
        final.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return final


def notion_url(outcome: Mapping[str, Any]) -> str | None:
    if outcome.get("page_url"):
        return str(outcome["page_url"])
    page_id = outcome.get("page_id")
    return f"https://www.notion.so/{str(page_id).replace('-', '')}" if page_id else None


def run_id(record: Record, index: int) -> str:
    return str(record.get("run_id") or f"run-{index + 1}")


# ── the page ─────────────────────────────────────────────────────────────────────────────────────


def render_dashboard(runs: Sequence[Record], *, run_log: str, generated_at: str) -> str:
    body = ["<h1>reconcile dashboard</h1>"]
    body.append(
        f'<p class="muted">{len(runs)} run(s) in <code>{escape(run_log)}</code>; generated {escape(generated_at)}.</p>'
    )
    if not runs:
        body.append('<div class="banner warn"><b>No runs yet</b>Run <code>reconcile apply</code> first.</div>')
        return page("\n".join(body))
    body.append(banner(runs[-1]))
    body.append(recent_runs(runs))
    body += [job_section(job, job_records(runs, job)) for job in job_names(runs)]
    return page("\n".join(body))


def page(body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>reconcile dashboard</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n{body}\n</main>\n"
        "</body>\n</html>\n"
    )


def banner(last: Record) -> str:
    status = run_status(last)
    written = sum(v for k, v in written_by_action(last).items() if k != "failed")
    failed = int(last.get("failed") or 0)
    error = last.get("error") if isinstance(last.get("error"), Mapping) else None
    why = f" {escape(str(error.get('message')))}" if error and error.get("message") else ""
    jobs = escape(", ".join(str(j) for j in last.get("jobs") or []))
    return (
        f'<div class="banner {status_class(status)}" id="status" role="status">'
        f"<b>{status_icon(status)} Last run {escape(status)}</b>"
        f"{jobs} · {escape(short_time(str(last.get('started_at', ''))))} UTC · {written} written, "
        f"{failed} failed, {len(last.get('warnings') or [])} warning(s).{why}</div>"
    )


def log_tag(record: Record) -> str:
    """The run log a merged run came from (one per CI matrix job or workspace); nothing otherwise."""
    return f'<span class="muted">log {escape(str(record["log"]))}</span>' if record.get("log") else ""


def recent_runs(runs: Sequence[Record]) -> str:
    """Newest first; the newest opens by itself when it went wrong."""
    items = []
    for index in range(len(runs) - 1, max(len(runs) - MAX_RUNS_LISTED, 0) - 1, -1):
        items.append(run_details(runs[index], index, newest=index == len(runs) - 1))
    return "<h2>Recent runs</h2>\n" + "\n".join(items)


def run_details(record: Record, index: int, *, newest: bool = False) -> str:
    status = run_status(record)
    split = written_by_action(record)
    writes = ", ".join(f"{n} {action}" for action, n in split.items() if action != "failed") or "no writes"
    opened = " open" if newest and status_class(status) == "bad" else ""
    return (
        f'<details id="{escape(run_id(record, index))}"{opened}><summary>'
        f'<span class="st {status_class(status)}">{status_icon(status)} {escape(status)}</span>'
        f"<span>{escape(short_time(str(record.get('started_at', ''))))}</span>"
        f"<span>{escape(', '.join(str(j) for j in record.get('jobs') or []))}</span>{log_tag(record)}"
        f"<span>{escape(writes)}</span><span>{split.get('failed', 0)} failed</span>"
        f"<span>{float(record.get('duration_s') or 0):.1f} s</span>"
        f'<span class="muted">{escape(run_id(record, index))}</span>'
        f"</summary><div>{outcomes_table(record.get('outcomes') or [])}{warnings_list(record)}</div></details>"
    )


def outcomes_table(outcomes: Sequence[Mapping[str, Any]]) -> str:
    if not outcomes:
        return "<p>No writes: Notion was already up to date.</p>"
    ordered = sorted(outcomes, key=lambda o: (o.get("status") != "failed", str(o.get("action")), str(o.get("key"))))
    rows = []
    for o in ordered:
        url = notion_url(o)
        key = escape(str(o.get("key", "")))
        page_link = f'<a href="{escape(url)}">{key}</a>' if url else key
        failed = o.get("status") == "failed"
        rows.append(
            f"<tr><td>{escape(str(o.get('action', '')))}</td><td>{escape(str(o.get('resource', '')))}</td>"
            f"<td>{page_link}</td>"
            f'<td class="st {"bad" if failed else "ok"}">{escape(str(o.get("status", "")))}</td>'
            f"<td>{escape(str(o.get('error_code') or ''))} {escape(str(o.get('message') or ''))}</td></tr>"
        )
    head = "<tr><th>Action</th><th>Resource</th><th>Page</th><th>Status</th><th>Error</th></tr>"
    return f"<table>{head}{''.join(rows)}</table>"


def warnings_list(record: Record) -> str:
    """Warnings of one kind on one line: the code, how many, and the keys."""
    groups: dict[tuple[str, str], list[str]] = {}
    for w in record.get("warnings") or []:
        groups.setdefault((str(w.get("code")), str(w.get("resource") or "")), []).append(str(w.get("key") or ""))
    if not groups:
        return ""
    items = "".join(
        f"<li><code>{escape(code)}</code> × {len(keys)} ({escape(resource)}): {escape(key_text(keys))}</li>"
        for (code, resource), keys in sorted(groups.items())
    )
    return f"<p><b>Warnings</b></p><ul>{items}</ul>"


def key_text(keys: Sequence[str]) -> str:
    return ", ".join(sorted(set(keys)))


# ── one job ──────────────────────────────────────────────────────────────────────────────────────


def job_section(job: str, runs: Sequence[Record]) -> str:
    charted = list(runs)[-MAX_RUNS_CHARTED:]
    last = charted[-1]
    return "\n".join(
        [
            f'<section id="job-{escape(job)}">',
            f"<h2>Job {escape(job)}</h2>",
            "<h3>Writes per run, by action</h3>",
            chart(job, charted),
            f"<h3>Last run's changes ({escape(short_time(str(last.get('started_at', ''))))})</h3>",
            outcomes_table(last.get("outcomes") or []),
            unlinked_heading(job, runs, last),
            unlinked(last_full_read(job, runs) or last),
            "</section>",
        ]
    )


def last_full_read(job: str, runs: Sequence[Record]) -> Record | None:
    """The job's last run that read its whole source: an incremental run sees only the records that
    changed, so its warnings name only their unlinked keys. None when every run was incremental."""
    for record in reversed(runs):
        reads = record.get("source_reads") or {}
        if (reads.get(job) or {}).get("mode") != "incremental":
            return record
    return None


def unlinked_heading(job: str, runs: Sequence[Record], last: Record) -> str:
    basis = last_full_read(job, runs)
    if basis is None or basis is last:
        return "<h3>Still unlinked</h3>"
    return f"<h3>Still unlinked (as of the last full read, {escape(short_time(str(basis.get('started_at', ''))))})</h3>"


def chart(job: str, runs: Sequence[Record]) -> str:
    """A stacked bar per run: one segment per action written, failures on top."""
    inner_w, inner_h = CHART_W - PAD_L - PAD_R, CHART_H - PAD_T - PAD_B
    splits = [written_by_action(r) for r in runs]
    top = max([sum(s.values()) for s in splits] + [1])
    slot = inner_w / max(len(runs), 1)
    bar = max(min(slot * 0.7, 40.0), 1.0)
    base = PAD_T + inner_h
    labels = unique_labels([str(r.get("started_at", "")) for r in runs])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{CHART_W}" height="{CHART_H}" '
        f'viewBox="0 0 {CHART_W} {CHART_H}" role="img" aria-label="Writes per run by action, job {escape(job)}">',
        f'<line x1="{PAD_L}" y1="{base}" x2="{PAD_L + inner_w}" y2="{base}" stroke="#a0aec0"/>',
    ]
    for value in sorted({0, top // 2, top}):
        y = base - inner_h * value / top
        parts.append(f'<text x="{PAD_L - 6}" y="{y + 4:.1f}" font-size="10" text-anchor="end">{value}</text>')
    every = max(len(runs) // 10, 1)
    for i, split in enumerate(splits):
        x = PAD_L + i * slot + (slot - bar) / 2
        y = float(base)
        for action, n in split.items():
            h = inner_h * n / top
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{ACTION_COLOURS[action]}">'
                f"<title>{escape(labels[i])}: {n} {escape(action)}</title></rect>"
            )
        if i % every == 0 or i == len(splits) - 1:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{base + 14}" font-size="10" text-anchor="end" '
                f'transform="rotate(-30 {x + bar / 2:.1f} {base + 14})">{escape(labels[i])}</text>'
            )
    parts.append("</svg>")
    legend = "".join(f'<span style="background:{c}"></span>{a}' for a, c in ACTION_COLOURS.items())
    return "\n".join(parts) + f'\n<div class="legend muted">{legend}</div>'


def unlinked(record: Record) -> str:
    """Keys whose related page does not exist yet: each key once, with where it would link."""
    seen: dict[tuple[str, str], str] = {}
    for w in record.get("warnings") or []:
        if w.get("code") == "relation_target_missing":
            message = str(w.get("message", ""))
            target = message.split(" page carries ", 1)[0].removeprefix("no ") if " page carries " in message else ""
            seen.setdefault((str(w.get("resource") or ""), str(w.get("key") or "")), target)
    if not seen:
        return "<p>Nothing unlinked: every related page was found.</p>"
    rows = "".join(
        f"<tr><td><code>{escape(key)}</code></td><td>{escape(resource)}</td><td>{escape(target)}</td></tr>"
        for (resource, key), target in sorted(seen.items(), key=lambda item: item[0][1])
    )
    return (
        f"<p>{len(seen)} key(s) have no related page yet; <code>reconcile suggest-links</code> proposes them.</p>"
        f"<table><tr><th>Key</th><th>Page in</th><th>Missing in</th></tr>{rows}</table>"
    )
