"""`validate --offline`: every problem of a config file in one run, with no environment and no network.

    text ──compose (positions)──▶ nodes ──construct──▶ document
         ──duplicate keys, ${...} syntax, every JSON Schema error, the loader's own checks──▶ [Problem]

Each problem names `file:line:column`, the key path and, for an unknown key, the nearest valid key.
`${VAR}` is never looked up: a value that will be interpolated is not judged by its text, and the
checks the loader makes after interpolation see a placeholder of the right shape instead.
"""

from __future__ import annotations

import difflib
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml
from jsonschema.exceptions import ValidationError, best_match

from reconcile.config import build as loader
from reconcile.config.checks import check_property_owners, check_unique_resource_names
from reconcile.config.interpolate import Secrets, refuse_misplaced_secret
from reconcile.config.schema import key_path, schema_message, validator
from reconcile.config.yamlload import check_bounds, check_size
from reconcile.errors import ConfigError

Path_ = tuple[str | int, ...]
Severity = Literal["error", "warning"]
PLACEHOLDER_URL = "https://placeholder.invalid/"
URL_KEYS = frozenset({"endpoint", "url"})
_PLACEHOLDER = re.compile(r"\$\$\{|\$\{([^}]*)\}|\$\{")
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?::-.*)?", re.DOTALL)


@dataclass(frozen=True, order=True)
class Problem:
    line: int
    column: int
    path: str
    message: str
    file: str = ""
    suggestion: str | None = None
    severity: Severity = "error"

    def __str__(self) -> str:
        hint = f" (did you mean {self.suggestion!r}?)" if self.suggestion else ""
        label = "" if self.severity == "error" else "warning: "
        return f"{self.file}:{self.line}:{self.column}: {label}{self.path}: {self.message}{hint}"


@dataclass
class Positions:
    """Where each key path starts in the file: the key itself for a mapping entry, else the value."""

    at: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    duplicates: list[tuple[Path_, int, int, int]] = field(default_factory=list)  # path, line, col, first line

    def of(self, path: Path_) -> tuple[int, int]:
        while path not in self.at and path:
            path = path[:-1]
        return self.at.get(path, (1, 1))


class OfflineLoader(yaml.SafeLoader):
    """SafeLoader that keeps dates as text, as the config loader does (duplicates are found apart)."""


def timestamp_as_text(loader: OfflineLoader, node: yaml.ScalarNode) -> str:
    return loader.construct_yaml_str(node)


OfflineLoader.add_constructor("tag:yaml.org,2002:timestamp", timestamp_as_text)


# ── entry point ──────────────────────────────────────────────────────────────────────────────────


def check_text(text: str, file: str) -> list[Problem]:
    """Every problem of the config in `text`, in file order (warnings included)."""
    try:
        check_size(len(text), file, "characters")
        check_bounds(text, file)  # an alias bomb is refused before it is expanded
    except ConfigError as exc:
        return [bound_problem(exc.message, file)]
    try:
        node = yaml.compose(text, Loader=OfflineLoader)
        document = yaml.load(text, Loader=OfflineLoader)  # a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        return [Problem(line, column, "top level", exc.problem or exc.context or "malformed YAML", file)]
    if node is None or document is None:
        return [Problem(1, 1, "top level", "the file is empty: it needs at least version: 1 and jobs:", file)]
    positions = Positions()
    record_positions(node, (), positions)
    problems = duplicate_problems(positions, file)
    problems += interpolation_problems(document, positions, file)
    schema_found = schema_problems(document, positions, file)
    problems += schema_found
    problems += loader_problems(document, positions, file, broken=[p.path for p in schema_found])
    problems += mark_without_way_back(document, positions, file)
    return sorted(set(problems))


def bound_problem(message: str, file: str) -> Problem:
    """A size or nesting bound's error (`file:line:col: problem`) as a Problem."""
    found = re.match(rf"{re.escape(file)}:(\d+):(\d+): (.*)", message)
    if found is None:
        return Problem(1, 1, "top level", message.removeprefix(f"{file}: "), file)
    return Problem(int(found.group(1)), int(found.group(2)), "top level", found.group(3), file)


# ── positions ────────────────────────────────────────────────────────────────────────────────────


def record_positions(node: yaml.Node, path: Path_, positions: Positions) -> None:
    positions.at.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
    if isinstance(node, yaml.MappingNode):
        first_line: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.start_mark)
            child = (*path, key)
            where = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if key in first_line:
                positions.duplicates.append((child, *where, first_line[key]))
                continue
            first_line[key] = where[0]
            positions.at[child] = where
            record_positions(value_node, child, positions)
            positions.at[child] = where  # the key, not its value, is where a reader looks
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            record_positions(item, (*path, index), positions)


def problem_at(positions: Positions, path: Path_, message: str, file: str, **extra: Any) -> Problem:
    line, column = positions.of(path)
    return Problem(line, column, key_path(path), message, file, **extra)


# ── the checks ───────────────────────────────────────────────────────────────────────────────────


def duplicate_problems(positions: Positions, file: str) -> list[Problem]:
    return [
        Problem(line, column, key_path(path), f"duplicate key {path[-1]!r} (first at line {first})", file)
        for path, line, column, first in positions.duplicates
    ]


def interpolation_problems(document: Any, positions: Positions, file: str) -> list[Problem]:
    owners = secret_owners(document)
    out = []
    for path, text in strings(document):
        for match in _PLACEHOLDER.finditer(text):
            if match.group(0) == "$${":
                continue
            inner = match.group(1)
            if inner is None:
                out.append(problem_at(positions, path, "unclosed ${ (write $${ for a literal ${)", file))
            elif not _VARIABLE.fullmatch(inner):
                out.append(problem_at(positions, path, f"bad interpolation ${{{inner}}}: write ${{NAME}}", file))
            else:
                refused = secret_misplaced(inner.split(":-", 1)[0], path, owners, file)
                if refused:
                    out.append(problem_at(positions, path, refused, file))
    return out


def secret_owners(document: Any) -> dict[str, set[str]]:
    """Secret name -> the jobs whose source declares it (`source.secrets`)."""
    owners: dict[str, set[str]] = {}
    jobs = document.get("jobs") if isinstance(document, dict) else None
    for job, raw in jobs.items() if isinstance(jobs, dict) else ():
        source = raw.get("source") if isinstance(raw, dict) else None
        names = source.get("secrets") if isinstance(source, dict) else None
        for name in names if isinstance(names, list) else ():
            owners.setdefault(str(name), set()).add(str(job))
    return owners


def secret_misplaced(name: str, at: Path_, owners: dict[str, set[str]], file: str) -> str | None:
    """The loader's own refusal of `${name}` at `at` (NOTION_TOKEN anywhere, a secret off its headers)."""
    secrets = Secrets(owners={n: frozenset(jobs) for n, jobs in owners.items()}, values={})
    try:
        refuse_misplaced_secret(name, file, secrets, at)
    except ConfigError as exc:
        return str(exc).removeprefix(f"{file}: at {key_path(at)}: ")
    return None


def schema_problems(document: Any, positions: Positions, file: str) -> list[Problem]:
    out: list[Problem] = []
    for error in validator().iter_errors(document):
        out += problems_of(error, positions, file)
    return out


def problems_of(error: ValidationError, positions: Positions, file: str) -> list[Problem]:
    if isinstance(error.instance, str) and "${" in error.instance:
        return []  # the value is known only once interpolated
    path: Path_ = tuple(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        return unknown_key_problems(error, path, positions, file)
    custom = any(isinstance(n.schema, dict) and n.validator in n.schema.get("x-errors", {}) for n in ancestry(error))
    if error.context and not custom:
        deepest = best_match(error.context)
        if deepest is not None:
            return problems_of(deepest, positions, file)
    return [problem_at(positions, path, schema_message(error), file)]


def ancestry(error: ValidationError) -> Iterator[ValidationError]:
    node: ValidationError | None = error
    while node is not None:
        yield node
        node = node.parent if isinstance(node.parent, ValidationError) else None


def unknown_key_problems(error: ValidationError, path: Path_, positions: Positions, file: str) -> list[Problem]:
    schema = error.schema if isinstance(error.schema, dict) else {}
    allowed = sorted(schema.get("properties", {}))
    patterns = [re.compile(p) for p in schema.get("patternProperties", {})]
    out = []
    for key in error.instance if isinstance(error.instance, dict) else ():
        if key in allowed or any(p.search(str(key)) for p in patterns):
            continue
        nearest = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
        known = f"; valid keys here: {', '.join(allowed)}" if allowed and not nearest else ""
        out.append(
            problem_at(
                positions, (*path, key), f"unknown key {key!r}{known}", file, suggestion=nearest[0] if nearest else None
            )
        )
    return out


def loader_problems(document: Any, positions: Positions, file: str, *, broken: list[str]) -> list[Problem]:
    """The checks the loader makes after interpolation, job by job, for the jobs the schema passed."""
    if not isinstance(document, dict) or not isinstance(document.get("jobs"), dict):
        return []
    filled = with_placeholders(document, ())
    builder = RecordingBuilder(file)
    out: list[Problem] = []
    built = []
    clean = not broken
    for name, raw in filled["jobs"].items():
        prefix = key_path(("jobs", name))
        if any(p == prefix or p.startswith((prefix + ".", prefix + "[")) for p in broken):
            continue
        found = job_problems(builder, name, raw, positions, file)
        if found:
            out += found
        else:
            built.append(loader.build_job(builder, name, raw))
    if clean:
        for check in (check_unique_resource_names, check_property_owners):
            try:
                check(builder, tuple(built))
            except ConfigError as exc:
                out.append(recorded(exc, positions, file))
        try:
            loader.plan_age(builder, filled)
        except ConfigError as exc:
            out.append(recorded(exc, positions, file))
    return out


def job_problems(
    builder: RecordingBuilder, name: str, raw: dict[str, Any], positions: Positions, file: str
) -> list[Problem]:
    """Each resource of the job on its own, then the job: one problem per resource at most."""
    at: Path_ = ("jobs", name)
    lookup = ((raw.get("source") or {}).get("lookup") or {}).get("resource")
    names = tuple(raw["resources"])
    out = []
    for resource, spec in raw["resources"].items():
        try:
            loader.build_resource(
                builder, (*at, "resources", resource), resource, spec, names, is_lookup=resource == lookup
            )
        except ConfigError as exc:
            out.append(recorded(exc, positions, file))
    if not out:
        try:
            loader.build_job(builder, name, raw)
        except ConfigError as exc:
            out.append(recorded(exc, positions, file))
    return out


class RecordingBuilder(loader.Builder):
    """The loader's Builder, whose errors also carry the key path they are about."""

    def error(self, at: Path_, problem: str, hint: str | None = None) -> ConfigError:
        exc = super().error(at, problem, hint)
        exc.at = at  # type: ignore[attr-defined]
        exc.problem = problem if not hint else f"{problem} ({hint})"  # type: ignore[attr-defined]
        return exc


def recorded(exc: ConfigError, positions: Positions, file: str) -> Problem:
    at: Path_ = getattr(exc, "at", ())
    return problem_at(positions, at, getattr(exc, "problem", exc.message), file)


def mark_without_way_back(document: Any, positions: Positions, file: str) -> list[Problem]:
    """`on_missing: mark` flags that nothing sets back: a page whose key returns would stay marked."""
    out = []
    for path, resource in resources(document):
        marks = (resource.get("on_missing") or {}) if isinstance(resource.get("on_missing"), dict) else {}
        mapped = set(resource.get("properties") or {}) if isinstance(resource.get("properties"), dict) else set()
        for prop, expression in (marks.get("mark") or {}).items():
            if "run" in str(expression) or prop in mapped:
                continue  # a stamp (Last Seen) may stay; a flag mapped in properties is set back
            out.append(
                problem_at(
                    positions,
                    (*path, "on_missing", "mark", prop),
                    f"{prop!r} is set when a key leaves the source, but properties does not map it, so a page "
                    f'whose key comes back stays marked; add it to properties (e.g. {prop}: "`true`")',
                    file,
                    severity="warning",
                )
            )
    return out


# ── helpers ──────────────────────────────────────────────────────────────────────────────────────


def strings(document: Any, path: Path_ = ()) -> Iterator[tuple[Path_, str]]:
    if isinstance(document, dict):
        for key, value in document.items():
            yield from strings(value, (*path, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from strings(value, (*path, index))
    elif isinstance(document, str):
        yield path, document


def resources(document: Any) -> Iterator[tuple[Path_, dict[str, Any]]]:
    jobs = document.get("jobs") if isinstance(document, dict) else None
    for job, raw in (jobs or {}).items() if isinstance(jobs, dict) else ():
        for name, resource in ((raw or {}).get("resources") or {}).items() if isinstance(raw, dict) else ():
            if isinstance(resource, dict):
                yield ("jobs", job, "resources", name), resource


def with_placeholders(document: Any, path: Path_) -> Any:
    """The document with every `${...}` replaced by its default or a value of the right shape."""
    if isinstance(document, dict):
        return {k: with_placeholders(v, (*path, k)) for k, v in document.items()}
    if isinstance(document, list):
        return [with_placeholders(v, (*path, i)) for i, v in enumerate(document)]
    if isinstance(document, str) and "${" in document:
        return _PLACEHOLDER.sub(lambda m: placeholder(m, path), document)
    return document


def placeholder(match: re.Match[str], path: Path_) -> str:
    if match.group(0) == "$${":
        return "${"
    inner = match.group(1) or ""
    if ":-" in inner and inner.split(":-", 1)[1]:
        return inner.split(":-", 1)[1]
    key = path[-1] if path else ""
    if key == "database":
        # One variable is one database: the same name gives the same id, so the checks of which
        # resources share a database see what they will see once the variables are set.
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"reconcile:{inner.split(':-', 1)[0]}"))
    if key in URL_KEYS or (len(path) > 1 and path[-2] == "url"):
        return PLACEHOLDER_URL
    return "placeholder"
