"""Validate HTTP responses against Notion's official OpenAPI document, relaxed just enough to accept Notion.

The document (``../shared/notion/openapi-official-2026-03-11.json``) is read at test time and never copied into the
repository. Read strictly it rejects Notion's own responses, so a deep copy is rewritten before use. Every rewrite is
listed in ``relax_document`` with its reason; the calibration tests prove that the relaxed validator accepts every
recorded real response and still rejects broken ones.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

DOCUMENT_NAME = "openapi-official-2026-03-11.json"
DOCUMENT_URI = "urn:notion:openapi-2026-03-11"
ORIGINAL_URI = "urn:notion:openapi-2026-03-11:unrelaxed"
PARTIAL_KEYS = {"object", "id"}
HTTP_METHODS = ("get", "post", "patch", "put", "delete")


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    operation_id: str
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class RecordedExchange:
    """One interaction of a VCR cassette: what was asked and what Notion answered."""

    cassette: str
    index: int
    method: str
    path: str
    request_body: Any
    status: int
    body: Any

    @property
    def label(self) -> str:
        return f"{self.cassette}#{self.index} {self.method} {self.path} -> {self.status}"


def relax_document(document: dict[str, Any]) -> dict[str, Any]:
    """Return a deep copy of the OpenAPI document with the documented relaxations applied.

    1. ``additionalProperties: false`` is removed everywhere: objects are composed with ``allOf`` branches that each
       forbid the other branches' keys, and real bodies carry keys the schemas omit (``request_id`` on every body,
       ``archived`` in 2025-09-03, ``has_more`` beside relation values).
    2. ``oneOf`` becomes ``anyOf``: the branches were mutually exclusive only through ``additionalProperties: false``
       (e.g. ``oneOf[partialPageObjectResponse, pageObjectResponse]``), so once relaxed a full object matches two
       branches and ``oneOf`` would reject every real response.
    3. Branches naming ``partial*ObjectResponse`` are dropped from unions. Relaxed, ``{object, id}`` would accept
       any object and make the check vacuous. Notion returns partial objects to integrations without the read
       capability; a body that is one (only ``object``, ``id`` and ``request_id``) is checked instead against the
       partial schema of the original document, unrelaxed (``NotionOpenApi.errors``). (This tightens.)
    4. ``archived`` is declared as a boolean wherever ``in_trash`` is: the document describes 2026-03-11, which
       dropped ``archived``; 2025-09-03 (what notion-client 3.1.0 and the sandbox speak) sends both.
    5. ``format: date`` (date values' ``start``/``end`` and date filter operands, nothing else) also accepts an
       RFC 3339 date-time: Notion returns date-times there (``2023-02-02T00:00:00.000+00:00``, NotWoods/travel#1;
       changelog "Time zone support") and its filters take them (docs: "Filter database entries", date filter).
    """
    relaxed = copy.deepcopy(document)
    _rewrite(relaxed)
    return relaxed


def _rewrite(node: Any) -> None:
    if isinstance(node, list):
        for item in node:
            _rewrite(item)
        return
    if not isinstance(node, dict):
        return
    if node.get("additionalProperties") is False:
        del node["additionalProperties"]
    if "oneOf" in node:
        node["anyOf"] = node.pop("oneOf")
    if "anyOf" in node:
        kept = [branch for branch in node["anyOf"] if not _is_partial_object_ref(branch)]
        node["anyOf"] = kept or node["anyOf"]
    properties = node.get("properties")
    if isinstance(properties, dict) and "in_trash" in properties and "archived" not in properties:
        properties["archived"] = {"type": "boolean"}
    for value in node.values():
        _rewrite(value)


def _is_partial_object_ref(branch: Any) -> bool:
    ref = branch.get("$ref", "") if isinstance(branch, dict) else ""
    return bool(re.fullmatch(r"#/components/schemas/partial\w*ObjectResponse", ref))


def _template_pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    regex = "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts)
    return re.compile(f"^{regex}$")


def _operations(document: dict[str, Any]) -> list[Operation]:
    found = []
    for template, item in document["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                op_id = item[method].get("operationId", f"{method} {template}")
                found.append(Operation(method.upper(), template, op_id, _template_pattern(template)))
    # Literal paths first, so /v1/users/me wins over /v1/users/{user_id}.
    return sorted(found, key=lambda op: op.template.count("{"))


RFC3339_DATE_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")


def _is_rfc3339_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not RFC3339_DATE_TIME.fullmatch(value):
        return False
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_date(value: object) -> bool:
    """An ISO 8601 calendar date, or (relaxation 5) an RFC 3339 date-time."""
    if not isinstance(value, str):
        return True
    if "T" in value:
        return _is_rfc3339_date_time(value)
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return bool(re.fullmatch(r"\d{4}-\d\d-\d\d", value))


def format_checker() -> jsonschema.FormatChecker:
    """uuid from jsonschema (dashed, hex); date-time and date checked here since rfc3339-validator is absent."""
    checker = jsonschema.FormatChecker(formats=("uuid",))
    checker.checks("date-time")(_is_rfc3339_date_time)
    checker.checks("date")(_is_date)
    return checker


class NotionOpenApi:
    """The relaxed document plus lookups from (method, path, status) to a response schema."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.original = document
        self.document = relax_document(document)
        resource = Resource.from_contents(self.document, default_specification=DRAFT202012)
        original = Resource.from_contents(self.original, default_specification=DRAFT202012)
        self.registry: Registry = Registry().with_resources([(DOCUMENT_URI, resource), (ORIGINAL_URI, original)])
        self.operations = _operations(self.document)
        self.checker = format_checker()

    @classmethod
    def load(cls, shared: Path) -> NotionOpenApi:
        return cls(json.loads((shared / "notion" / DOCUMENT_NAME).read_text(encoding="utf-8")))

    def operation(self, method: str, path: str) -> Operation | None:
        bare = urlsplit(path).path
        for op in self.operations:
            if op.method == method.upper() and op.pattern.match(bare):
                return op
        return None

    def response_pointer(self, method: str, path: str, status: int) -> str:
        """JSON pointer of the schema for this response; generic error schemas when the operation lists none."""
        op = self.operation(method, path)
        if op is not None:
            responses = self.document["paths"][op.template][op.method.lower()]["responses"]
            if str(status) in responses:
                escaped = op.template.replace("~", "~0").replace("/", "~1")
                return f"/paths/{escaped}/{op.method.lower()}/responses/{status}/content/application~1json/schema"
        if status < 400:
            raise LookupError(f"no operation in the document answers {method} {path} with {status}")
        if f"error_api_{status}" in self.document["components"]["schemas"]:
            return f"/components/schemas/error_api_{status}"
        return "/components/schemas/publicApiCommonErrorResponse"

    def schema_for(self, pointer: str, uri: str = DOCUMENT_URI) -> dict[str, Any]:
        return {"$ref": f"{uri}#{pointer}"}

    def errors(self, method: str, path: str, status: int, body: Any) -> list[str]:
        """Readable validation errors ("at <json path>: <message>"); empty when the body conforms."""
        pointer = self.response_pointer(method, path, status)
        partial = self.partial_pointer(pointer, body)
        if partial is not None:
            bare = {k: v for k, v in body.items() if k != "request_id"}
            return self.errors_against(partial, bare, ORIGINAL_URI)
        return self.errors_against(pointer, body)

    def partial_pointer(self, pointer: str, body: Any) -> str | None:
        """The original partial-object schema of this response, when the body is a partial object and one is listed."""
        if not isinstance(body, dict) or set(body) - {"request_id"} != PARTIAL_KEYS:
            return None
        node: Any = self.original
        for part in pointer.strip("/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        for branch in node.get("anyOf", []) + node.get("oneOf", []):
            if _is_partial_object_ref(branch):
                return branch["$ref"].removeprefix("#")
        return None

    def errors_against(self, pointer: str, body: Any, uri: str = DOCUMENT_URI) -> list[str]:
        validator = jsonschema.Draft202012Validator(
            self.schema_for(pointer, uri), registry=self.registry, format_checker=self.checker
        )
        return [_describe(error) for error in _leaf_errors(validator.iter_errors(body))]


def _leaf_errors(errors: Iterator[jsonschema.ValidationError]) -> Iterator[jsonschema.ValidationError]:
    for error in errors:
        yield from _explain(error)


def _explain(error: jsonschema.ValidationError) -> list[jsonschema.ValidationError]:
    """The errors of the union branch the instance was evidently meant for, or the error itself.

    A failed ``anyOf`` over tagged objects says only "not valid under any"; the branch whose ``type``/``object``
    tag matches the instance names the real culprit.
    """
    if error.validator != "anyOf" or not error.context:
        return [error]
    branches: dict[Any, list[jsonschema.ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    tagged = [errs for errs in branches.values() if not any(_is_tag_mismatch(e, error) for e in errs)]
    if len(tagged) != 1:
        return [error]
    return [leaf for sub in tagged[0] for leaf in _explain(sub)]


def _is_tag_mismatch(sub: jsonschema.ValidationError, parent: jsonschema.ValidationError) -> bool:
    """True when ``sub`` shows the instance is not of this branch's kind at all (wrong tag or JSON type)."""
    relative = list(sub.absolute_path)[len(list(parent.absolute_path)) :]
    if sub.validator in ("const", "enum", "type"):
        return relative in ([], ["type"], ["object"])
    if sub.validator == "anyOf" and relative == [] and sub.context:
        branches: dict[Any, list[jsonschema.ValidationError]] = {}
        for nested in sub.context:
            branches.setdefault(nested.relative_schema_path[0], []).append(nested)
        return all(any(_is_tag_mismatch(e, sub) for e in errs) for errs in branches.values())
    return False


def _describe(error: jsonschema.ValidationError) -> str:
    return f"at {error.json_path}: {error.message[:300]}"


def recorded_exchanges(shared: Path) -> list[RecordedExchange]:
    """Every interaction of every cassette in ``shared/notion/recorded``, bodies parsed as JSON."""
    exchanges = []
    for cassette in sorted((shared / "notion" / "recorded").glob("*.yaml")):
        interactions = yaml.safe_load(cassette.read_text(encoding="utf-8"))["interactions"]
        for index, interaction in enumerate(interactions):
            exchanges.append(_exchange(cassette.stem, index, interaction))
    return exchanges


def _exchange(cassette: str, index: int, interaction: dict[str, Any]) -> RecordedExchange:
    request, response = interaction["request"], interaction["response"]
    raw_request = request.get("body") or ""
    return RecordedExchange(
        cassette=cassette,
        index=index,
        method=request["method"].upper(),
        path=urlsplit(request["uri"]).path,
        request_body=json.loads(raw_request) if raw_request else None,
        status=int(response["status"]["code"]),
        body=json.loads(response["body"]["string"]),
    )
