"""A schema-valid, interpolated document → the Config model, with the checks the schema cannot make.

Each `build_*` returns one model value and raises one `ConfigError` naming the key path; the checks
that need several resources or jobs at once live in config/checks.py.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, cast
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from reconcile.config.checks import (
    check_known_resource,
    check_mapped_once,
    check_property_owners,
    check_unique_resource_names,
)
from reconcile.config.declared import build_declared_schema
from reconcile.config.schema import KeyPath, config_error
from reconcile.config.settings import ci_settings, normalise_database_id, notion_settings, parse_duration
from reconcile.errors import ConfigError
from reconcile.expressions import ExpressionError, compile_expression
from reconcile.model import (
    Computation,
    Config,
    ContentMapping,
    Guards,
    Incremental,
    Job,
    MatchKey,
    MissingAction,
    OnMissing,
    PropertyMapping,
    ReadCacheSettings,
    ResourceConfig,
    SourceConfig,
    TouchRule,
)
from reconcile.notify import settings_from

__all__ = ["DEFAULT_TIMEOUT_S", "Builder", "build_config"]

DEFAULT_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Builder:
    """Builds the model from a schema-valid, interpolated document; `path` names the file."""

    path: str

    def error(self, at: KeyPath, problem: str, hint: str | None = None) -> ConfigError:
        return config_error(self.path, at, problem, hint)

    def expression(self, text: str, at: KeyPath) -> str:
        try:
            compile_expression(text)
        except ExpressionError as exc:
            raise self.error(at, f"invalid expression {text!r}: {exc}") from None
        return text

    def http_url(self, url: str, at: KeyPath) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise self.error(at, f"{url!r} is not an http(s) URL")
        return url

    def database(self, value: str, at: KeyPath) -> str:
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
        notify=settings_from(document.get("notify"), env),
        ci=ci_settings(env),
        read_cache=read_cache_settings(b, document.get("read_cache") or {}),
        bootstrap_types=bootstrap_types(document),
    )


def bootstrap_types(document: dict[str, Any]) -> dict[str, dict[str, str]]:
    """resource -> property -> the type its `bootstrap.properties` names: what a type mismatch says
    the mapping needs."""
    out: dict[str, dict[str, str]] = {}
    for job in (document.get("jobs") or {}).values():
        for name, raw in ((job or {}).get("resources") or {}).items():
            hints = ((raw or {}).get("bootstrap") or {}).get("properties") or {}
            out[name] = {str(k): str(v) for k, v in hints.items()}
    return out


def read_cache_settings(b: Builder, raw: dict[str, Any]) -> ReadCacheSettings:
    """The `read_cache:` settings (durations in seconds; a safety window under a minute could miss
    an edit Notion shows rounded down to its minute)."""
    defaults = ReadCacheSettings()

    def seconds(name: str, default: float) -> float:
        if name not in raw:
            return default
        try:
            value = parse_duration(raw[name])
        except ValueError as exc:
            raise b.error(("read_cache", name), str(exc)) from None
        if name == "safety_window" and value < 60:
            raise b.error(
                ("read_cache", name), f"{raw[name]!r} is under a minute: Notion rounds edit times to the minute"
            )
        return value

    return ReadCacheSettings(
        enabled=bool(raw.get("enabled", defaults.enabled)),
        path=str(raw["path"]) if raw.get("path") else None,
        safety_window_s=seconds("safety_window", defaults.safety_window_s),
        max_age_s=seconds("max_age", defaults.max_age_s),
        full_every=int(raw.get("full_every", defaults.full_every)),
    )


def document_digest(document: Any) -> str:
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def plan_age(b: Builder, document: dict[str, Any]) -> float:
    if "max_plan_age" not in document:
        return Config.max_plan_age_s
    try:
        return parse_duration(document["max_plan_age"])
    except ValueError as exc:
        raise b.error(("max_plan_age",), str(exc)) from None


def build_job(b: Builder, name: str, raw: dict[str, Any]) -> Job:
    at: KeyPath = ("jobs", name)
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


def build_source(b: Builder, at: KeyPath, raw: dict[str, Any], resources: tuple[ResourceConfig, ...]) -> SourceConfig:
    computed = tuple(build_computation(b, (*at, "computed", n), n, c) for n, c in raw.get("computed", {}).items())
    allowlist = tuple(raw["allowlist"]) if "allowlist" in raw else None
    if "graphql" in raw:
        return replace(
            graphql_source(b, at, raw, allowlist, computed), incremental=build_incremental(b, at, raw, "graphql")
        )
    if "http" in raw:
        return replace(http_source(b, at, raw, allowlist, computed), incremental=build_incremental(b, at, raw, "http"))
    return lookup_source(b, at, raw, resources)


def build_incremental(b: Builder, at: KeyPath, raw: dict[str, Any], kind: str) -> Incremental | None:
    """The source's `incremental:` (reconcile/source/incremental.py), checked against its kind."""
    spec = raw.get("incremental")
    if spec is None:
        return None
    here: KeyPath = (*at, "incremental")
    if raw.get("computed"):
        raise b.error(
            here, "an incremental source cannot have computed: values (a rank needs every record, a delta has few)"
        )
    if kind == "graphql" and "variable" not in spec:
        raise b.error(here, "a graphql source passes its cursor in a query variable: set incremental.variable")
    if kind == "http" and "parameters" not in spec:
        raise b.error(here, "an http source passes its cursor as query parameters: set incremental.parameters")
    wrong = "parameters" if kind == "graphql" else "variable"
    if wrong in spec:
        raise b.error(
            (*here, wrong), f"incremental.{wrong} is for {'http' if kind == 'graphql' else 'graphql'} sources"
        )
    policy = spec.get("full_refresh") or {}
    return Incremental(
        cursor=b.expression(spec["cursor"], (*here, "cursor")),
        params={str(k): str(v) for k, v in (spec.get("parameters") or {}).items()},
        variable=spec.get("variable"),
        format=str(spec.get("format", "iso")),
        buffer_s=duration(b, (*here, "buffer"), spec.get("buffer", Incremental.buffer_s)),
        full_every=int(policy["every"]) if "every" in policy else None,
        full_after_s=duration(b, (*here, "full_refresh", "after"), policy["after"]) if "after" in policy else None,
    )


def duration(b: Builder, at: KeyPath, value: Any) -> float:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise b.error(at, str(exc)) from None


def graphql_source(
    b: Builder, at: KeyPath, raw: dict[str, Any], allowlist: tuple[str, ...] | None, computed: tuple[Computation, ...]
) -> SourceConfig:
    spec = raw["graphql"]
    options = {"operation_name": spec["operation_name"]} if "operation_name" in spec else {}
    options.update(retry_options(spec))
    options.update(secret_options(raw))
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
    b: Builder, at: KeyPath, raw: dict[str, Any], allowlist: tuple[str, ...] | None, computed: tuple[Computation, ...]
) -> SourceConfig:
    spec = raw["http"]
    pagination = dict(spec.get("pagination") or {})
    for field_name in ("next", "count"):
        if field_name in pagination:
            b.expression(pagination[field_name], (*at, "http", "pagination", field_name))
    options = {"max_pages": spec["max_pages"]} if "max_pages" in spec else {}
    options.update(retry_options(spec))
    options.update(secret_options(raw))
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
    """The retry bounds a source sets (the engine's defaults otherwise)."""
    out: dict[str, Any] = {}
    if "max_attempts" in spec:
        out["max_attempts"] = int(spec["max_attempts"])
    if "max_retry_seconds" in spec:
        out["max_retry_seconds"] = float(spec["max_retry_seconds"])
    return out


def secret_options(raw: dict[str, Any]) -> dict[str, Any]:
    """The names of the secrets a source declares: the only ones its requests may carry."""
    return {"secrets": tuple(raw["secrets"])} if raw.get("secrets") else {}


_TEMPLATE_FIELD = re.compile(r"\{([^{}]+)\}")


def lookup_source(b: Builder, at: KeyPath, raw: dict[str, Any], resources: tuple[ResourceConfig, ...]) -> SourceConfig:
    spec = raw["lookup"]
    for extra in ("key", "allowlist", "computed", "incremental"):
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
    options.update(secret_options(raw))
    if "secrets" in options:
        refuse_templated_host(b, (*at, "lookup", "url"), urls)
    return SourceConfig(
        kind="lookup",
        endpoint=next(iter(urls.values())),
        records=b.expression(raw.get("records", "@"), (*at, "records")),
        key=target.match.expression,
        headers=dict(spec.get("headers") or {}),
        timeout_s=float(spec.get("timeout_seconds", DEFAULT_TIMEOUT_S)),
        options=options,
    )


def refuse_templated_host(b: Builder, at: KeyPath, urls: dict[str, str]) -> None:
    """With secrets in its headers, a lookup's host must be fixed: a page's value must not choose it."""
    for name, template in urls.items():
        if _TEMPLATE_FIELD.search(urlsplit(template).netloc):
            raise b.error(
                (*at, name) if name else at,
                f"the host of {template!r} is filled in from a page, and this source sends secrets",
                hint="a source's secrets go only to the host its config names; write the host out",
            )


def lookup_urls(b: Builder, at: KeyPath, raw: str | dict[str, str]) -> dict[str, str]:
    """name -> URL template (one unnamed template for a plain string), each checked as a URL."""
    urls = {"": raw} if isinstance(raw, str) else dict(raw)
    for name, template in urls.items():
        b.http_url(_TEMPLATE_FIELD.sub("x", template), (*at, name) if name else at)
    return urls


def build_computation(b: Builder, at: KeyPath, name: str, raw: dict[str, Any]) -> Computation:
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
    b: Builder, at: KeyPath, name: str, raw: dict[str, Any], job_resources: tuple[str, ...], *, is_lookup: bool
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
        content=build_content(b, (*at, "content"), raw.get("content")),
        icon=None if raw.get("icon") is None else b.expression(raw["icon"], (*at, "icon")),
        cover=None if raw.get("cover") is None else b.expression(raw["cover"], (*at, "cover")),
        schema=build_declared_schema(b.path, (*at, "schema"), raw.get("schema"), job_resources),
    )
    check_mapped_once(b, at, resource)
    check_hash_property(b, at, resource)
    return resource


def build_content(b: Builder, at: KeyPath, raw: str | dict[str, Any] | None) -> ContentMapping | None:
    """`content: EXPR` or `content: {markdown: EXPR, hash_property: NAME}`."""
    if raw is None:
        return None
    if isinstance(raw, str):
        return ContentMapping(markdown=b.expression(raw, at))
    return ContentMapping(
        markdown=b.expression(raw["markdown"], (*at, "markdown")), hash_property=raw.get("hash_property")
    )


def check_hash_property(b: Builder, at: KeyPath, resource: ResourceConfig) -> None:
    """The hash property belongs to the body: no other rule of the resource may write it."""
    name = resource.content.hash_property if resource.content is not None else None
    if not name:
        return
    others = [resource.match.property, *(p.name for p in resource.properties), *(t.property for t in resource.touch)]
    others += [m.name for m in resource.on_missing.set]
    if name.strip() in {o.strip() for o in others}:
        raise b.error(
            (*at, "content", "hash_property"),
            f"property {name!r} holds the body's hash and cannot also be mapped in resource {resource.name}",
            hint="name a property of its own (rich_text) for the hash",
        )


def build_match(b: Builder, at: KeyPath, raw: dict[str, Any], *, is_lookup: bool) -> MatchKey:
    if "key" in raw:
        return MatchKey(property=raw["property"], expression=b.expression(raw["key"], (*at, "key")))
    if not is_lookup:
        raise b.error(at, "'key' is a required property", hint="the JMESPath giving a row's key, e.g. key: slug")
    # A looked-up page is its own row: its key is the value it already holds.
    return MatchKey(property=raw["property"], expression=f"page.{json.dumps(raw['property'])}")


def build_property(
    b: Builder, at: KeyPath, name: str, raw: str | dict[str, Any], job_resources: tuple[str, ...]
) -> PropertyMapping:
    if isinstance(raw, str):
        return PropertyMapping(name=name, expression=b.expression(raw, at))
    optional = bool(raw.get("optional", False))
    settings = type_settings(b, at, raw)
    if "relation" in raw:
        check_known_resource(b, (*at, "relation"), raw["relation"], job_resources)
        key = raw.get("key")
        return PropertyMapping(
            name=name,
            expression=None if key is None else b.expression(key, (*at, "key")),
            relation=raw["relation"],
            optional=optional,
        )
    return PropertyMapping(
        name=name, expression=b.expression(raw["expr"], (*at, "expr")), optional=optional, **settings
    )


def type_settings(b: Builder, at: KeyPath, raw: dict[str, Any]) -> dict[str, Any]:
    """A mapping's settings for its property's type (new_options, time_zone); the live type is
    checked against them when the schema is read."""
    out: dict[str, Any] = {}
    if "new_options" in raw:
        out["new_options"] = raw["new_options"]
    if "time_zone" in raw:
        out["time_zone"] = time_zone(b, (*at, "time_zone"), raw["time_zone"])
    if out and "relation" in raw:
        key = next(iter(out))
        raise b.error((*at, key), f"{key} does not apply to a relation")
    return out


def time_zone(b: Builder, at: KeyPath, name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise b.error(
            at, f"{name!r} is not an IANA time zone", hint="e.g. Europe/London, America/New_York, UTC"
        ) from None
    return name


def build_on_missing(b: Builder, at: KeyPath, raw: str | dict[str, Any] | None, mode: str) -> OnMissing:
    if raw is None:
        # Archiving pages the tool never created would be a surprise: update-only ignores by default.
        return OnMissing(action="ignore" if mode == "update-only" else "archive")
    if isinstance(raw, str):
        return OnMissing(action=cast(MissingAction, raw))  # one of the schema's enum
    marks = tuple(PropertyMapping(name=p, expression=b.expression(e, (*at, "mark", p))) for p, e in raw["mark"].items())
    return OnMissing(action="mark", set=marks)


def build_touch(b: Builder, at: KeyPath, name: str, raw: dict[str, Any], job_resources: tuple[str, ...]) -> TouchRule:
    check_known_resource(b, (*at, "related"), raw["related"], job_resources)
    return TouchRule(property=name, related=raw["related"])
