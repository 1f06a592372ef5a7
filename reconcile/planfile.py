"""The plan's JSON form: what `plan -o` writes, `apply PLANFILE` reads and every renderer presents.

    Plan ──plan_to_dict──▶ dict ──render_json──▶ file ──read_plan──▶ dict ──plan_from_dict──▶ Plan

The form is versioned (`format_version`) and described by schemas/plan.schema.json; a file that
does not fit it is refused with one line naming where, never a traceback. `summary` is derived from
the actions and resources; reading a plan checks it still agrees, so a hand-edited file is caught.

Version 2 is the program apply runs: `actions` in execution order, and each resource with where
its pages live (data source, match property and type), so applying a saved plan only checks that
Notion has not moved since; it works nothing out again. A version-1 file is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from reconcile.errors import PlanFileError
from reconcile.model import (
    ACTION_KINDS,
    Action,
    Diagnostic,
    NotionRead,
    Plan,
    PropertyChange,
    ResourceInfo,
    SchemaChange,
    SourceRead,
)
from reconcile.render.json import render_json

FORMAT_VERSION = 2
SCHEMA_NAME = "plan.schema.json"

__all__ = [
    "FORMAT_VERSION",
    "plan_document",
    "plan_fingerprint",
    "plan_from_dict",
    "plan_to_dict",
    "read_plan",
    "summary",
    "write_plan",
]


# ── Plan → dict ──────────────────────────────────────────────────────────────────────────────────


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """The JSON form, keys in the order the schema documents them; tuples become lists (without the
    digest a file carries: plan_document)."""
    body = {
        "format_version": plan.format_version,
        "created_at": plan.created_at,
        "config_digest": plan.config_digest,
        "jobs": list(plan.jobs),
        "summary": summary(plan),
        "resources": [resource_to_dict(r) for r in plan.resources],
        # Only a plan that changes a schema carries the key, so plans without one read as before.
        **({"schema_changes": [schema_change_to_dict(c) for c in plan.schema_changes]} if plan.schema_changes else {}),
        "actions": [action_to_dict(a) for a in plan.actions],
        "diagnostics": [diagnostic_to_dict(d) for d in plan.diagnostics],
        "record_counts": dict(plan.record_counts),
        "guard_overrides": list(plan.guard_overrides),
        "labels": dict(plan.labels),
    }
    if plan.source_reads:  # only jobs with an incremental source: other plans keep their form
        body["source_reads"] = {job: asdict(read) for job, read in plan.source_reads.items()}
    if plan.reads:  # a plan that does not say how it read Notion (made before it could) has no key
        body["reads"] = [read_to_dict(r) for r in plan.reads]
    return body


def read_to_dict(r: NotionRead) -> dict[str, Any]:
    return {"resource": r.resource, "mode": r.mode, "reason": r.reason, "pages_read": r.pages_read}


def plan_document(plan: Plan) -> dict[str, Any]:
    """The JSON form a plan file holds (and `--format json` prints): plan_to_dict and, last, the
    digest of all the rest."""
    body = plan_to_dict(plan)
    return {**body, "digest": content_digest(body)}


def content_digest(document: dict[str, Any]) -> str:
    """sha256 (hex) of the canonical JSON of a plan's form without its `digest`: keys sorted,
    separators `,` and `:`, non-ASCII kept, UTF-8. Any edit of the file changes it."""
    body = {k: v for k, v in document.items() if k != "digest"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def summary(plan: Plan) -> dict[str, int]:
    """Actions of each kind, plus the managed pages left as they are."""
    return {**plan.summary, "unchanged": sum(r.unchanged for r in plan.resources)}


def resource_to_dict(r: ResourceInfo) -> dict[str, Any]:
    return {
        "name": r.name,
        "database_id": r.database_id,
        "data_source_id": r.data_source_id,
        "match_property": r.match_property,
        "match_type": r.match_type,
        "managed": r.managed,
        "unchanged": r.unchanged,
        "mode": r.mode,
    }


def schema_change_to_dict(c: SchemaChange) -> dict[str, Any]:
    out: dict[str, Any] = {
        "change": c.change,
        "resource": c.resource,
        "data_source_id": c.data_source_id,
        "property": c.property,
        "type": c.type,
        "before": c.before,
    }
    if c.options:
        out["options"] = list(c.options)
    if c.kept_options:
        out["kept_options"] = list(c.kept_options)
    if c.relation_resource is not None:
        out["relation"] = {
            "resource": c.relation_resource,
            "data_source_id": c.relation_data_source_id,
            "two_way": c.two_way,
            "synced_property": c.synced_property,
        }
    return out


def schema_change_from_dict(d: dict[str, Any]) -> SchemaChange:
    relation = d.get("relation") or {}
    return SchemaChange(
        change=d["change"],
        resource=d["resource"],
        data_source_id=d["data_source_id"],
        property=d["property"],
        type=d["type"],
        before=d["before"],
        options=tuple(d.get("options") or ()),
        kept_options=tuple(d.get("kept_options") or ()),
        relation_resource=relation.get("resource"),
        relation_data_source_id=relation.get("data_source_id"),
        two_way=bool(relation.get("two_way", True)),
        synced_property=relation.get("synced_property"),
    )


def action_to_dict(a: Action) -> dict[str, Any]:
    return {
        "action": a.action,
        "resource": a.resource,
        "key": a.key,
        "page_id": a.page_id,
        "url": a.url,
        "reason": a.reason,
        "digest": a.digest,
        "changes": [change_to_dict(c) for c in a.changes],
    } | body_to_dict(a)


def body_to_dict(a: Action) -> dict[str, Any]:
    """The block calls of an action that writes a page body (absent otherwise, so other plans read as before)."""
    out: dict[str, Any] = {}
    if a.blocks:
        out["blocks"] = [dict(op) for op in a.blocks]
    if a.written_last:
        out["written_last"] = list(a.written_last)
    return out


def change_to_dict(c: PropertyChange) -> dict[str, Any]:
    out = {"name": c.name, "type": c.type, "before": json_value(c.before), "after": json_value(c.after)}
    return out | {"depends_on": list(c.depends_on)} if c.depends_on else out


def diagnostic_to_dict(d: Diagnostic) -> dict[str, Any]:
    return {
        "severity": d.severity,
        "code": d.code,
        "message": d.message,
        "resource": d.resource,
        "key": d.key,
        "urls": list(d.urls),
    }


def json_value(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [json_value(v) for v in value]
    return value


# ── dict → Plan ──────────────────────────────────────────────────────────────────────────────────


def plan_from_dict(d: Any) -> Plan:
    """The Plan a JSON form describes; PlanFileError (one line, with the path) when it does not fit."""
    check_format_version(d)
    validate(d)
    check_digest(d)
    plan = Plan(
        created_at=d["created_at"],
        config_digest=d["config_digest"],
        jobs=tuple(d["jobs"]),
        resources=tuple(ResourceInfo(**r) for r in d["resources"]),
        actions=tuple(action_from_dict(a) for a in d["actions"]),
        diagnostics=tuple(diagnostic_from_dict(x) for x in d["diagnostics"]),
        record_counts=dict(d["record_counts"]),
        guard_overrides=tuple(d["guard_overrides"]),
        labels=dict(d.get("labels") or {}),
        source_reads={job: SourceRead(**read) for job, read in (d.get("source_reads") or {}).items()},
        reads=tuple(NotionRead(**r) for r in d.get("reads") or ()),
        format_version=d["format_version"],
        schema_changes=tuple(schema_change_from_dict(c) for c in d.get("schema_changes") or ()),
    )
    check_summary(plan, d["summary"])
    check_action_resources(plan)
    check_dependencies(plan)
    return plan


def action_from_dict(a: dict[str, Any]) -> Action:
    return Action(
        action=a["action"],
        resource=a["resource"],
        key=a["key"],
        page_id=a["page_id"],
        url=a["url"],
        changes=tuple(change_from_dict(c) for c in a["changes"]),
        reason=a["reason"],
        digest=a["digest"],
        blocks=tuple(a.get("blocks") or ()),
        written_last=tuple(a.get("written_last") or ()),
    )


def change_from_dict(c: dict[str, Any]) -> PropertyChange:
    return PropertyChange(
        name=c["name"],
        type=c["type"],
        before=model_value(c["before"]),
        after=model_value(c["after"]),
        depends_on=tuple(c.get("depends_on") or ()),
    )


def diagnostic_from_dict(d: dict[str, Any]) -> Diagnostic:
    return Diagnostic(
        severity=d["severity"],
        code=d["code"],
        message=d["message"],
        resource=d["resource"],
        key=d["key"],
        urls=tuple(d["urls"]),
    )


def model_value(value: Any) -> Any:
    """Lists back to the tuples the model uses for multi_select and relation values."""
    if isinstance(value, list):
        return tuple(model_value(v) for v in value)
    return value


def check_format_version(d: Any) -> None:
    # Checked before the schema so that a newer file says "newer", not "format_version must be 1".
    if not isinstance(d, dict):
        raise PlanFileError("not a plan: the top level is not a JSON object")
    version = d.get("format_version")
    if version != FORMAT_VERSION:
        raise PlanFileError(
            f"plan format_version {json.dumps(version)} is not supported (this reconcile reads {FORMAT_VERSION})",
            hint="make the plan again with this version of reconcile",
        )


def check_summary(plan: Plan, stated: dict[str, int]) -> None:
    expected = summary(plan)
    for kind in (*ACTION_KINDS, "unchanged"):
        if stated[kind] != expected[kind]:
            raise PlanFileError(
                f"not a consistent plan: at summary.{kind}: says {stated[kind]}, the plan has {expected[kind]}",
                hint="the file was edited by hand; make the plan again",
            )


def check_digest(d: dict[str, Any]) -> None:
    if d["digest"] != content_digest(d):
        raise PlanFileError(
            "the plan file was changed after `reconcile plan` wrote it",
            hint="make the plan again with reconcile plan -o FILE, and apply that file unchanged",
        )


def check_dependencies(plan: Plan) -> None:
    """A stamp depends only on writes that run before it."""
    for i, a in enumerate(plan.actions):
        for j, c in enumerate(a.changes):
            late = [n for n in c.depends_on if n >= i]
            if late:
                raise PlanFileError(
                    f"not a consistent plan: at actions[{i}].changes[{j}].depends_on: {late[0]} is not an "
                    "earlier action",
                    hint="the file was edited by hand; make the plan again",
                )


def check_action_resources(plan: Plan) -> None:
    """Every action's resource is one the plan says where to write."""
    known = {r.name for r in plan.resources}
    for i, a in enumerate(plan.actions):
        if a.resource not in known:
            raise PlanFileError(
                f"not a consistent plan: at actions[{i}].resource: {a.resource!r} is not one of the plan's resources",
                hint="the file was edited by hand; make the plan again",
            )


# ── the schema ───────────────────────────────────────────────────────────────────────────────────


def schema_path() -> Path:
    """plan.schema.json: beside the package in a checkout, inside it when installed."""
    package = Path(__file__).resolve().parent
    for candidate in (package.parent / "schemas" / SCHEMA_NAME, package / "schemas" / SCHEMA_NAME):
        if candidate.is_file():
            return candidate
    raise PlanFileError(f"{SCHEMA_NAME} is missing from the installation", hint="reinstall reconcile")


@lru_cache(maxsize=1)
def validator() -> Draft202012Validator:
    return Draft202012Validator(json.loads(schema_path().read_text(encoding="utf-8")))


def validate(d: Any) -> None:
    error = best_match(validator().iter_errors(d))
    if error is not None:
        raise PlanFileError(f"not a valid plan: at {json_path(error)}: {error_message(error)}")


def json_path(error: ValidationError) -> str:
    """`actions[3].changes[0].type`; odd keys quoted; the top level named as such."""
    out = ""
    for part in error.absolute_path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(part)):
            out += f".{part}" if out else str(part)
        else:
            out += f"[{json.dumps(str(part))}]"
    return out or "top level"


def error_message(error: ValidationError) -> str:
    """jsonschema's message, with a long offending value cut short so the line stays one line."""
    message = " ".join(error.message.split())
    return message if len(message) <= 200 else message[:197] + "..."


# ── files ────────────────────────────────────────────────────────────────────────────────────────


def plan_fingerprint(plan: Plan) -> str:
    """The plan's identity (its JSON form hashed): the run log records it, and a saved plan whose
    fingerprint was applied already is refused."""
    body = json.dumps(plan_to_dict(plan), sort_keys=True, default=str)
    return hashlib.sha256(body.encode()).hexdigest()[:24]


def plan_json(plan: Plan) -> str:
    """The bytes a plan file holds: the same as `--format json` prints, equal for equal plans."""
    return render_json(plan_document(plan))


def write_plan(plan: Plan, path: str | os.PathLike[str]) -> None:
    """Write atomically: a reader never sees half a plan, an interrupted write leaves the old file."""
    target = Path(path)
    try:
        body = plan_json(plan)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(body)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except (OSError, ValueError) as exc:
        raise PlanFileError(f"{path}: cannot write the plan: {exc.__class__.__name__}: {exc}") from None


def reject_constant(name: str) -> Any:
    # Python's json reads NaN and Infinity, which are not JSON and never equal themselves.
    raise ValueError(f"{name} is not JSON")


def read_plan(path: str | os.PathLike[str]) -> Plan:
    """The plan in a file written by write_plan; PlanFileError naming the file for anything else."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PlanFileError(f"{path}: no such plan file", hint="make one with reconcile plan -o FILE") from None
    except UnicodeDecodeError:
        raise PlanFileError(f"{path}: not a plan file (not UTF-8 text)") from None
    except OSError as exc:
        raise PlanFileError(f"{path}: cannot read the plan: {exc.strerror or exc}") from None
    try:
        document = json.loads(text, parse_constant=reject_constant)
    except json.JSONDecodeError as exc:
        raise PlanFileError(
            f"{path}: not a plan file (invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg})"
        ) from None
    except ValueError as exc:
        raise PlanFileError(f"{path}: not a plan file ({exc})") from None
    try:
        return plan_from_dict(document)
    except PlanFileError as exc:
        raise PlanFileError(f"{path}: {exc.message}", hint=exc.hint) from None
