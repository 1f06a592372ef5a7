"""mappings.yaml → Config: read, parse, validate, interpolate, check, build.

    read ─▶ YAML (safe, duplicate keys refused) ─▶ JSON Schema ─▶ ${VAR} interpolation
         ─▶ checks the schema cannot express ─▶ Config

Interpolation runs after parsing so that YAML positions in error messages stay right. Every
failure is one `ConfigError` whose text is one line: the file, the key path, the problem and,
where there is one, the fix.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import re
import reprlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from reconcile.errors import ConfigError
from reconcile.expressions import ExpressionError, compile_expression
from reconcile.model import (
    Computation,
    Config,
    Guards,
    Job,
    MatchKey,
    NotionSettings,
    OnMissing,
    PropertyMapping,
    ResourceConfig,
    SourceConfig,
    TouchRule,
)
from reconcile.redact import remember_secret

__all__ = [
    "DEFAULT_CONFIG",
    "load_config",
    "load_config_text",
    "normalise_database_id",
    "parse_duration",
    "schema",
    "schema_path",
]

DEFAULT_CONFIG = "mappings.yaml"
DEFAULT_NOTION_BASE_URL = "https://api.notion.com"
SCHEMA_NAME = "mappings.schema.json"
DEFAULT_TIMEOUT_S = 30.0

Path_ = tuple[str | int, ...]


# ── entry points ─────────────────────────────────────────────────────────────────────────────────


def load_config(path: str | os.PathLike[str], env: Mapping[str, str]) -> Config:
    """The validated configuration in the file at `path`, with `${VAR}` taken from `env`."""
    shown = os.fspath(path)
    return load_config_text(read_text(shown), env, path=shown)


def load_config_text(text: str, env: Mapping[str, str], path: str = DEFAULT_CONFIG) -> Config:
    """The validated configuration in `text`; `path` is only used to name the file in errors."""
    remember_secret((env.get("NOTION_TOKEN") or "").strip())  # before anything could quote it
    document = parse_yaml(text, path)
    validate_schema(document, path)
    interpolated = interpolate(document, env, path)
    return build_config(interpolated, env, path)


def read_text(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no such file",
            hint="run where mappings.yaml is, or name the config with -c FILE",
        ) from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory", hint="name the config file with -c FILE") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from None


# ── YAML ─────────────────────────────────────────────────────────────────────────────────────────


class StrictLoader(yaml.SafeLoader):
    """A SafeLoader that refuses duplicate keys and keeps dates as text (JSON has no dates)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        refuse_duplicate_keys(self, node)
        return super().construct_mapping(node, deep=deep)


def refuse_duplicate_keys(loader: yaml.SafeLoader, node: yaml.MappingNode) -> None:
    # Only the mapping's own keys: a key that overrides one brought in by a `<<` merge is intended.
    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        try:
            first = seen.setdefault(key, key_node)
        except TypeError:
            continue  # an unhashable key; SafeLoader itself reports it
        if first is not key_node:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r} (first at line {first.start_mark.line + 1})",
                key_node.start_mark,
            )


StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_yaml_str)


def parse_yaml(text: str, path: str) -> Any:
    """The document in `text`; a YAML mistake becomes `file:line:column: problem`."""
    try:
        document = yaml.load(text, Loader=StrictLoader)  # StrictLoader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else path
        problem = exc.problem or exc.context or "malformed YAML"
        raise ConfigError(f"{where}: {problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: {' '.join(str(exc).split())}") from None
    if document is None:
        raise ConfigError(f"{path}: the file is empty", hint="it needs at least version: 1 and jobs:")
    return document


# ── JSON Schema ──────────────────────────────────────────────────────────────────────────────────


def schema_path() -> Path:
    """mappings.schema.json: beside the package in a checkout, inside it when installed."""
    package = Path(__file__).resolve().parent
    for candidate in (package.parent / "schemas" / SCHEMA_NAME, package / "schemas" / SCHEMA_NAME):
        if candidate.is_file():
            return candidate
    raise ConfigError(f"{SCHEMA_NAME} is missing from the installation", hint="reinstall reconcile")


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    return json.loads(schema_path().read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def validator() -> Draft202012Validator:
    return Draft202012Validator(schema())


def validate_schema(document: Any, path: str) -> None:
    """Raise the most relevant schema violation, at the path of the bad key."""
    error = best_match(validator().iter_errors(document))
    if error is None:
        return
    raise ConfigError(f"{path}: at {key_path(tuple(error.absolute_path))}: {schema_message(error)}")


def schema_message(error: ValidationError) -> str:
    """The violation in words: the schema's own `x-errors` wording where it has one."""
    node: ValidationError | None = error
    while node is not None:
        custom = node.schema.get("x-errors", {}) if isinstance(node.schema, dict) else {}
        if node.validator in custom:
            return custom[node.validator].format(instance=short_repr(node.instance))
        node = node.parent
    if error.validator == "uniqueItems":
        return f"{first_repeated(error.instance)!r} is listed twice"
    message = error.message
    full = repr(error.instance)
    if len(full) > 80 and full in message:
        message = message.replace(full, short_repr(error.instance))
    return " ".join(message.split())


def first_repeated(items: list[Any]) -> Any:
    seen: list[Any] = []
    for item in items:
        if item in seen:
            return item
        seen.append(item)
    return None


def short_repr(value: Any) -> str:
    brief = reprlib.Repr()
    brief.maxstring = 60
    brief.maxother = 60
    brief.maxdict = 3
    brief.maxlist = 4
    return brief.repr(value)


def key_path(path: Path_) -> str:
    """`jobs.planx.resources.services.mode`; list items as `allowlist[3]`; odd keys quoted."""
    if not path:
        return "top level"
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[^.\[\]\"]+", str(part)) and str(part) == str(part).strip():
            out += f".{part}" if out else str(part)
        else:
            out += f"[{json.dumps(str(part))}]"
    return out


# ── interpolation ────────────────────────────────────────────────────────────────────────────────

_PLACEHOLDER = re.compile(r"\$\$\{|\$\{([^}]*)\}|\$\{")
_VARIABLE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?", re.DOTALL)


def interpolate(document: Any, env: Mapping[str, str], path: str, at: Path_ = ()) -> Any:
    """`document` with `${VAR}` / `${VAR:-default}` replaced in every string value (not keys)."""
    if isinstance(document, dict):
        return {k: interpolate(v, env, path, (*at, k)) for k, v in document.items()}
    if isinstance(document, list):
        return [interpolate(v, env, path, (*at, i)) for i, v in enumerate(document)]
    if isinstance(document, str):
        return interpolate_text(document, env, path, at)
    return document


def interpolate_text(text: str, env: Mapping[str, str], path: str, at: Path_) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        if match.group(1) is None:
            raise config_error(path, at, "unclosed ${ (write $${ for a literal ${)")
        return variable_value(match.group(1), env, path, at)

    return _PLACEHOLDER.sub(replace, text)


def variable_value(inner: str, env: Mapping[str, str], path: str, at: Path_) -> str:
    parsed = _VARIABLE.fullmatch(inner)
    if parsed is None:
        raise config_error(
            path, at, f"bad interpolation ${{{inner}}}", hint="write ${NAME} or ${NAME:-default}; $${ is a literal ${"
        )
    name, default = parsed.group(1), parsed.group(2)
    value = env.get(name)
    if default is not None:
        return value if value else default
    if value is None:
        raise config_error(
            path,
            at,
            f"environment variable {name} is not set",
            hint=f"export {name}=... or write ${{{name}:-default}}",
        )
    if value == "":
        raise config_error(
            path, at, f"environment variable {name} is empty", hint=f"set {name}, or write ${{{name}:-}} to allow it"
        )
    return value


def config_error(path: str, at: Path_, problem: str, hint: str | None = None) -> ConfigError:
    return ConfigError(f"{path}: at {key_path(at)}: {problem}", hint=hint)


# ── values the schema cannot check ───────────────────────────────────────────────────────────────

_UUID = re.compile(r"[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_DURATION = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([smhd]?)\s*")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_NOTION_HOSTS = ("notion.so", "notion.site")


def normalise_database_id(value: str) -> str | None:
    """A dashed lower-case UUID from a UUID (dashed or not) or a Notion URL; None if neither."""
    text = value.strip()
    if text.lower().startswith(("http://", "https://")):
        parts = urlsplit(text)
        host = (parts.hostname or "").lower()
        if not any(host == h or host.endswith("." + h) for h in _NOTION_HOSTS):
            return None
        text = parts.path.rstrip("/").rsplit("/", 1)[-1]
        found = re.search(r"([0-9a-fA-F]{32}|[0-9a-fA-F-]{36})$", text)
        if found is None:
            return None
        text = found.group(1)
    if not _UUID.fullmatch(text.lower()):
        return None
    hexdigits = text.lower().replace("-", "")
    if len(hexdigits) != 32:
        return None
    return "-".join((hexdigits[:8], hexdigits[8:12], hexdigits[12:16], hexdigits[16:20], hexdigits[20:]))


def parse_duration(value: str | int | float) -> float:
    """Seconds in `90`, `"90s"`, `"90m"`, `"24h"` or `"2d"`."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration")
    if isinstance(value, int | float):
        return float(value)
    match = _DURATION.fullmatch(value)
    if match is None:
        raise ValueError(f"{value!r} is not a duration (seconds, or e.g. 90m, 24h, 2d)")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def notion_base_url(env: Mapping[str, str]) -> str:
    """NOTION_BASE_URL, refused unless the token would travel over https or stay on this machine."""
    url = (env.get("NOTION_BASE_URL") or DEFAULT_NOTION_BASE_URL).rstrip("/")
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and is_loopback(parts.hostname or ""):
        return url
    raise ConfigError(
        f"NOTION_BASE_URL {url!r} is refused: the Notion token only travels over https, "
        "or plain http to this machine (localhost, 127.0.0.1, ::1)"
    )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# ── building the model, with the checks that need the whole document ─────────────────────────────


@dataclass(frozen=True)
class Builder:
    """Builds the model from a schema-valid, interpolated document; `path` names the file."""

    path: str

    def error(self, at: Path_, problem: str, hint: str | None = None) -> ConfigError:
        return config_error(self.path, at, problem, hint)

    def expression(self, text: str, at: Path_) -> str:
        try:
            compile_expression(text)
        except ExpressionError as exc:
            raise self.error(at, f"invalid expression {text!r}: {exc}") from None
        return text

    def http_url(self, url: str, at: Path_) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise self.error(at, f"{url!r} is not an http(s) URL")
        return url

    def database(self, value: str, at: Path_) -> str:
        found = normalise_database_id(value)
        if found is None:
            raise self.error(
                at,
                f"{value!r} is not a Notion database id",
                hint="use the 32 hex digits from the database's URL, dashed or not, or the URL itself",
            )
        return found


def build_config(document: dict[str, Any], env: Mapping[str, str], path: str) -> Config:
    b = Builder(path)
    jobs = tuple(build_job(b, name, raw) for name, raw in document["jobs"].items())
    check_unique_resource_names(b, jobs)
    check_property_owners(b, jobs)
    return Config(
        path=path,
        digest=document_digest(document),
        jobs=jobs,
        notion=notion_settings(document.get("notion") or {}, env),
        run_log=document.get("run_log", Config.run_log),
        max_plan_age_s=plan_age(b, document),
    )


def document_digest(document: Any) -> str:
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def notion_settings(raw: dict[str, Any], env: Mapping[str, str]) -> NotionSettings:
    """The config's `notion:` settings, with the environment's token, base URL and rate on top."""
    defaults = NotionSettings()
    token = (env.get("NOTION_TOKEN") or "").strip()
    return NotionSettings(
        base_url=notion_base_url(env),
        rate_limit=env_rate_limit(env, float(raw.get("rate_limit", defaults.rate_limit))),
        burst=int(raw.get("burst", defaults.burst)),
        max_attempts=int(raw.get("max_attempts", defaults.max_attempts)),
        max_retry_seconds=float(raw.get("max_retry_seconds", defaults.max_retry_seconds)),
        retry_base_s=float(raw.get("retry_base_seconds", defaults.retry_base_s)),
        timeout_s=float(raw.get("timeout_seconds", defaults.timeout_s)),
        workers=int(raw.get("workers", defaults.workers)),
        token=token,
    )


def env_rate_limit(env: Mapping[str, str], configured: float) -> float:
    """NOTION_RATE_LIMIT when set (requests per second; 0 turns the client-side limit off)."""
    text = (env.get("NOTION_RATE_LIMIT") or "").strip()
    if not text:
        return configured
    try:
        rate = float(text)
    except ValueError:
        raise ConfigError(f"NOTION_RATE_LIMIT must be a number of requests per second, not {text!r}") from None
    if rate < 0:
        raise ConfigError("NOTION_RATE_LIMIT must not be negative (0 turns the client-side limit off)")
    return rate


def plan_age(b: Builder, document: dict[str, Any]) -> float:
    if "max_plan_age" not in document:
        return Config.max_plan_age_s
    try:
        return parse_duration(document["max_plan_age"])
    except ValueError as exc:
        raise b.error(("max_plan_age",), str(exc)) from None


def build_job(b: Builder, name: str, raw: dict[str, Any]) -> Job:
    at: Path_ = ("jobs", name)
    source_raw = raw["source"]
    lookup_resource = source_raw.get("lookup", {}).get("resource")
    resource_names = tuple(raw["resources"])
    if lookup_resource is not None:
        check_known_resource(b, (*at, "source", "lookup", "resource"), lookup_resource, resource_names)
    resources = tuple(
        build_resource(b, (*at, "resources", r), r, spec, resource_names, is_lookup=r == lookup_resource)
        for r, spec in raw["resources"].items()
    )
    source = build_source(b, (*at, "source"), source_raw, resources)
    guards = Guards(**raw.get("guards", {}))
    return Job(name=name, source=source, resources=resources, guards=guards)


def build_source(b: Builder, at: Path_, raw: dict[str, Any], resources: tuple[ResourceConfig, ...]) -> SourceConfig:
    computed = tuple(build_computation(b, (*at, "computed", n), n, c) for n, c in raw.get("computed", {}).items())
    allowlist = tuple(raw["allowlist"]) if "allowlist" in raw else None
    if "graphql" in raw:
        return graphql_source(b, at, raw, allowlist, computed)
    if "http" in raw:
        return http_source(b, at, raw, allowlist, computed)
    return lookup_source(b, at, raw, resources)


def graphql_source(
    b: Builder, at: Path_, raw: dict[str, Any], allowlist: tuple[str, ...] | None, computed: tuple[Computation, ...]
) -> SourceConfig:
    spec = raw["graphql"]
    options = {"operation_name": spec["operation_name"]} if "operation_name" in spec else {}
    return SourceConfig(
        kind="graphql",
        endpoint=b.http_url(spec["endpoint"], (*at, "graphql", "endpoint")),
        records=b.expression(raw["records"], (*at, "records")),
        key=b.expression(raw["key"], (*at, "key")),
        query=spec["query"],
        variables=dict(spec.get("variables") or {}),
        allowlist=allowlist,
        headers=dict(spec.get("headers") or {}),
        timeout_s=float(spec.get("timeout_seconds", DEFAULT_TIMEOUT_S)),
        computed=computed,
        options=options,
    )


def http_source(
    b: Builder, at: Path_, raw: dict[str, Any], allowlist: tuple[str, ...] | None, computed: tuple[Computation, ...]
) -> SourceConfig:
    spec = raw["http"]
    pagination = dict(spec.get("pagination") or {})
    for field_name in ("next", "count"):
        if field_name in pagination:
            b.expression(pagination[field_name], (*at, "http", "pagination", field_name))
    options = {"max_pages": spec["max_pages"]} if "max_pages" in spec else {}
    options.update(retry_options(spec))
    return SourceConfig(
        kind="http",
        endpoint=b.http_url(spec["url"], (*at, "http", "url")),
        records=b.expression(raw["records"], (*at, "records")),
        key=b.expression(raw["key"], (*at, "key")),
        allowlist=allowlist,
        headers=dict(spec.get("headers") or {}),
        params=dict(spec.get("params") or {}),
        pagination=pagination,
        timeout_s=float(spec.get("timeout_seconds", DEFAULT_TIMEOUT_S)),
        computed=computed,
        options=options,
    )


def retry_options(spec: dict[str, Any]) -> dict[str, Any]:
    """The retry bounds an http or lookup source sets (the engine's defaults otherwise)."""
    out: dict[str, Any] = {}
    if "max_attempts" in spec:
        out["max_attempts"] = int(spec["max_attempts"])
    if "max_retry_seconds" in spec:
        out["max_retry_seconds"] = float(spec["max_retry_seconds"])
    return out


_TEMPLATE_FIELD = re.compile(r"\{([^{}]+)\}")


def lookup_source(b: Builder, at: Path_, raw: dict[str, Any], resources: tuple[ResourceConfig, ...]) -> SourceConfig:
    spec = raw["lookup"]
    for extra in ("key", "allowlist", "computed"):
        if extra in raw:
            raise b.error((*at, extra), f"a lookup source takes no {extra}: (its rows are the resource's pages)")
    target = next(r for r in resources if r.name == spec["resource"])
    urls = lookup_urls(b, (*at, "lookup", "url"), spec["url"])
    fields = list(dict.fromkeys(f for u in urls.values() for f in _TEMPLATE_FIELD.findall(u)))
    requires = list(spec.get("requires") or fields)
    missing = [f for f in fields if f not in requires]
    if missing:
        raise b.error(
            (*at, "lookup", "url"),
            f"the URL uses {{{missing[0]}}}, which is not in requires: {requires}",
            hint=f"add {missing[0]!r} to requires",
        )
    options: dict[str, Any] = {"resource": target.name, "requires": tuple(requires), "fields": tuple(fields)}
    if isinstance(spec["url"], dict):
        options["urls"] = urls
    if "rate_limit" in spec:
        options["rate_limit"] = float(spec["rate_limit"])
    options.update(retry_options(spec))
    return SourceConfig(
        kind="lookup",
        endpoint=next(iter(urls.values())),
        records=b.expression(raw.get("records", "@"), (*at, "records")),
        key=target.match.expression,
        headers=dict(spec.get("headers") or {}),
        timeout_s=float(spec.get("timeout_seconds", DEFAULT_TIMEOUT_S)),
        options=options,
    )


def lookup_urls(b: Builder, at: Path_, raw: str | dict[str, str]) -> dict[str, str]:
    """name -> URL template (one unnamed template for a plain string), each checked as a URL."""
    urls = {"": raw} if isinstance(raw, str) else dict(raw)
    for name, template in urls.items():
        b.http_url(_TEMPLATE_FIELD.sub("x", template), (*at, name) if name else at)
    return urls


def build_computation(b: Builder, at: Path_, name: str, raw: dict[str, Any]) -> Computation:
    rank = raw["rank"]
    group_by = rank.get("group_by")
    return Computation(
        name=name,
        kind="rank",
        group_by=None if group_by is None else b.expression(group_by, (*at, "rank", "group_by")),
        order_by=b.expression(rank["order_by"], (*at, "rank", "order_by")),
        descending=bool(rank.get("descending", False)),
    )


def build_resource(
    b: Builder, at: Path_, name: str, raw: dict[str, Any], job_resources: tuple[str, ...], *, is_lookup: bool
) -> ResourceConfig:
    mode = raw.get("mode", "update-only" if is_lookup else "upsert")
    if is_lookup and mode != "update-only":
        raise b.error(
            (*at, "mode"),
            f"a looked-up resource only updates existing pages; got {mode!r}",
            hint="write mode: update-only, or leave mode out",
        )
    resource = ResourceConfig(
        name=name,
        database=b.database(raw["database"], (*at, "database")),
        data_source=raw.get("data_source"),
        mode=mode,
        match=build_match(b, (*at, "match"), raw["match"], is_lookup=is_lookup),
        properties=tuple(
            build_property(b, (*at, "properties", p), p, spec, job_resources)
            for p, spec in (raw.get("properties") or {}).items()
        ),
        on_missing=build_on_missing(b, (*at, "on_missing"), raw.get("on_missing"), mode),
        touch=tuple(
            build_touch(b, (*at, "touch", p), p, spec, job_resources) for p, spec in raw.get("touch", {}).items()
        ),
        records=None if raw.get("records") is None else b.expression(raw["records"], (*at, "records")),
    )
    check_mapped_once(b, at, resource)
    return resource


def build_match(b: Builder, at: Path_, raw: dict[str, Any], *, is_lookup: bool) -> MatchKey:
    if "key" in raw:
        return MatchKey(property=raw["property"], expression=b.expression(raw["key"], (*at, "key")))
    if not is_lookup:
        raise b.error(at, "'key' is a required property", hint="the JMESPath giving a row's key, e.g. key: slug")
    # A looked-up page is its own row: its key is the value it already holds.
    return MatchKey(property=raw["property"], expression=f"page.{json.dumps(raw['property'])}")


def build_property(
    b: Builder, at: Path_, name: str, raw: str | dict[str, Any], job_resources: tuple[str, ...]
) -> PropertyMapping:
    if isinstance(raw, str):
        return PropertyMapping(name=name, expression=b.expression(raw, at))
    optional = bool(raw.get("optional", False))
    if "relation" in raw:
        check_known_resource(b, (*at, "relation"), raw["relation"], job_resources)
        key = raw.get("key")
        return PropertyMapping(
            name=name,
            expression=None if key is None else b.expression(key, (*at, "key")),
            relation=raw["relation"],
            optional=optional,
        )
    return PropertyMapping(name=name, expression=b.expression(raw["expr"], (*at, "expr")), optional=optional)


def build_on_missing(b: Builder, at: Path_, raw: str | dict[str, Any] | None, mode: str) -> OnMissing:
    if raw is None:
        # Archiving pages the tool never created would be a surprise: update-only ignores by default.
        return OnMissing(action="ignore" if mode == "update-only" else "archive")
    if isinstance(raw, str):
        return OnMissing(action=raw)
    marks = tuple(PropertyMapping(name=p, expression=b.expression(e, (*at, "mark", p))) for p, e in raw["mark"].items())
    return OnMissing(action="mark", set=marks)


def build_touch(b: Builder, at: Path_, name: str, raw: dict[str, Any], job_resources: tuple[str, ...]) -> TouchRule:
    check_known_resource(b, (*at, "related"), raw["related"], job_resources)
    return TouchRule(property=name, related=raw["related"])


def check_known_resource(b: Builder, at: Path_, name: str, job_resources: tuple[str, ...]) -> None:
    if name not in job_resources:
        raise b.error(at, f"unknown resource {name!r} (this job has: {', '.join(job_resources)})")


def check_mapped_once(b: Builder, at: Path_, resource: ResourceConfig) -> None:
    """A property written by two rules of one resource would flip between them."""
    written = [("properties", p.name) for p in resource.properties]
    written += [("touch", t.property) for t in resource.touch]
    owners: dict[str, str] = {}
    for group, name in written:
        first = owners.get(name.strip())
        if first is not None:
            where = group if first == group else f"{first} and {group}"
            raise b.error(
                (*at, group, name), f"property {name.strip()!r} is mapped twice in resource {resource.name} ({where})"
            )
        owners[name.strip()] = group
    touched = {t.property.strip() for t in resource.touch}
    if resource.match.property.strip() in touched:
        raise b.error((*at, "touch", resource.match.property), "the match property cannot be a touch property")
    for mark in resource.on_missing.set:
        if mark.name.strip() in touched:
            raise b.error((*at, "on_missing", "mark", mark.name), f"property {mark.name!r} is both marked and touched")


def check_unique_resource_names(b: Builder, jobs: tuple[Job, ...]) -> None:
    owner: dict[str, str] = {}
    for job in jobs:
        for resource in job.resources:
            first = owner.setdefault(resource.name, job.name)
            if first != job.name:
                raise b.error(
                    ("jobs", job.name, "resources", resource.name),
                    f"resource name {resource.name!r} is already used by job {first}",
                    hint="resource names are unique across jobs",
                )


@dataclass(frozen=True)
class Writer:
    job: str
    resource: ResourceConfig
    group: str  # where in the resource the property is written, for the error's key path


def written_properties(resource: ResourceConfig) -> Iterator[tuple[str, str]]:
    """(property, group) for every property this resource may write."""
    if resource.mode != "update-only":
        yield resource.match.property, "match"
    for p in resource.properties:
        yield p.name, "properties"
    for t in resource.touch:
        yield t.property, "touch"
    for m in resource.on_missing.set:
        yield m.name, "on_missing"


def same_target(a: ResourceConfig, b: ResourceConfig) -> bool:
    # Without a data source name a resource means the database's only one, so it may be either.
    if a.database != b.database:
        return False
    return a.data_source is None or b.data_source is None or a.data_source == b.data_source


def check_property_owners(b: Builder, jobs: tuple[Job, ...]) -> None:
    """Two resources writing one property of one database would fight over it on every run."""
    seen: list[tuple[str, Writer]] = []
    for job in jobs:
        for resource in job.resources:
            mine = dict.fromkeys(written_properties(resource))
            for name, group in mine:
                for other_name, other in seen:
                    if other_name.strip() == name.strip() and same_target(other.resource, resource):
                        raise b.error(
                            property_path(job.name, resource.name, group, name),
                            f"property {name!r} of database {resource.database} is also written by "
                            f"jobs.{other.job}.resources.{other.resource.name}",
                            hint="give each property one owner",
                        )
            seen += [(name, Writer(job.name, resource, group)) for name, group in mine]


def property_path(job: str, resource: str, group: str, name: str) -> Path_:
    base: Path_ = ("jobs", job, "resources", resource)
    if group == "match":
        return (*base, "match", "property")
    if group == "on_missing":
        return (*base, "on_missing", "mark", name)
    return (*base, group, name)
