"""Planning Data stand-in: `GET /entity.json` of planning.data.gov.uk, answered from bundled records.

Behaviour follows ../shared/planning-data/FACTS.md §1–§4 (digital-land.info's FastAPI app): compact
JSON `{"entities", "links", "count"}`, nulls serialised as `""`, results ordered by entity, `count`
the total before paging, `links` from `make_links` (its `last` off-by-one included), 422 FastAPI
`{"detail": [...]}` bodies for invalid parameters and a 500 HTML page for a negative offset.

Data shape (what `set_data` takes and `get_data` returns)::

    {"datasets": ["article-4-direction-area", "conservation-area", ...],   # every valid name
     "entities": [{"entity": 329, "dataset": "local-authority", "name": "...", "reference": "SWK",
                   "prefix": "local-authority", "typology": "organisation",
                   "organisation-entity": 329, "entry-date": "2025-01-28", "start-date": null,
                   "end-date": null, "geometry": null, "point": null, "quality": null,
                   "statistical-geography": "E09000028", ...}]}

Entity keys are the API's kebab-case keys; keys beyond the core columns are the record's "json"
fields and come out after the core ones. A dataset listed in `datasets` with no entities answers
`count: 0`; a name not listed is a 422.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode

__all__ = ["PlanningData", "bundled_data", "make_links"]

JSON_HEADERS = {"Content-Type": "application/json"}
HTML_HEADERS = {"Content-Type": "text/html; charset=utf-8"}

# The entity table's columns, in the response model's order (snake_case, as the DB names them).
CORE_COLUMNS = (
    "entry_date", "start_date", "end_date", "entity", "name", "dataset", "typology",
    "reference", "prefix", "organisation_entity", "geometry", "point", "quality",
)  # fmt: skip
PERIODS = ("all", "current", "historical")
TYPOLOGIES = (
    "category", "document", "geography", "legal-instrument", "organisation", "pipeline",
    "policy", "specification", "timetable", "value",
)  # fmt: skip
DEFAULT_LIMIT = 10
MAX_LIMIT = 500
_INTEGER = re.compile(r"^\s*[+-]?\d+\s*$")

SERVER_ERROR_PAGE = (
    '<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8">'
    "<title>Internal server error - Planning Data</title></head>\n<body>\n"
    '<h1 class="govuk-heading-xl">Sorry, there is a problem with the service</h1>\n'
    '<p class="govuk-body">Try again later.</p>\n</body>\n</html>\n'
)


def to_snake(name: str) -> str:
    return name.replace("-", "_")


def to_kebab(name: str) -> str:
    return name.replace("_", "-")


class RequestInvalid(Exception):
    """A 422: FastAPI's `{"detail": [...]}` list of pydantic errors."""

    def __init__(self, detail: list[dict[str, Any]]) -> None:
        super().__init__(detail)
        self.detail = detail


class ServerError(Exception):
    """A 500: what an unhandled database error becomes (an HTML page, not JSON)."""


# --------------------------------------------------------------------------------------------
# Query parameters
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EntityQuery:
    datasets: list[str]
    organisation_entities: list[int]
    references: list[str]
    entities: list[int]
    prefixes: list[str]
    typologies: list[str]
    curies: list[tuple[str, str]]
    periods: list[str]
    fields: list[str]
    exclude_fields: list[str]
    limit: int
    offset: int
    dates: tuple[tuple[str, str, date], ...] = ()  # (column, "eq" | "lt" | "gt", date)


# The date filters of digital-land.info (application/data_access/entity_query_helpers.py):
# `<column>_year` (with `_month` and `_day`, each defaulting to 1) compares that column with the
# date; `entry_date_match` sets the comparison for every column: absent = equal, `before` = earlier,
# `since` = strictly later; `match` and `empty` give no comparison, so no filter. A date that does
# not exist (month 13) is no filter either. NULL dates never match, as in SQL.
DATE_COLUMNS = ("start_date", "end_date", "entry_date")
DATE_MATCHES = ("match", "before", "since", "empty")
_DATE_OPERATORS = {None: "eq", "before": "lt", "since": "gt"}


def _date_errors(values: Callable[[str], list[str]]) -> list[dict]:
    errors = _enum_errors("entry_date_match", values("entry_date_match")[-1:], DATE_MATCHES)
    for column in DATE_COLUMNS:
        for part in ("year", "month", "day"):
            name = f"{column}_{part}"
            errors += _int_errors(name, values(name)[-1:], None, in_list=False)
    return errors


def _date_filters(last: Callable[[str], str | None]) -> tuple[tuple[str, str, date], ...]:
    operator = _DATE_OPERATORS.get(last("entry_date_match"))
    if operator is None:
        return ()
    out = []
    for column in DATE_COLUMNS:
        year = int(last(f"{column}_year") or 0)
        if not year:
            continue
        try:
            day = date(year, int(last(f"{column}_month") or 1), int(last(f"{column}_day") or 1))
        except ValueError:
            continue
        out.append((column.replace("_", "-"), operator, day))
    return tuple(out)


def _in_dates(entity: Mapping[str, Any], dates: tuple[tuple[str, str, date], ...]) -> bool:
    for column, operator, day in dates:
        raw = entity.get(column)
        if not raw:
            return False
        value = date.fromisoformat(raw)
        if not {"eq": value == day, "lt": value < day, "gt": value > day}[operator]:
            return False
    return True


def _int_errors(name: str, values: list[str], minimum: int | None, in_list: bool) -> list[dict]:
    errors = []
    for index, raw in enumerate(values):
        loc: list[Any] = ["query", name, index] if in_list else ["query", name]
        if not _INTEGER.match(raw):
            errors.append({
                "type": "int_parsing", "loc": loc,
                "msg": "Input should be a valid integer, unable to parse string as an integer",
                "input": raw,
            })  # fmt: skip
        elif minimum is not None and int(raw) < minimum:
            errors.append(_bound_error("greater_than_equal", loc, raw, "ge", minimum))
    return errors


def _bound_error(kind: str, loc: list[Any], raw: str, key: str, bound: int) -> dict[str, Any]:
    words = "greater than or equal to" if key == "ge" else "less than or equal to"
    return {"type": kind, "loc": loc, "msg": f"Input should be {words} {bound}", "input": raw,
            "ctx": {key: bound}}  # fmt: skip


def _enum_errors(name: str, values: list[str], allowed: tuple[str, ...]) -> list[dict]:
    quoted = [f"'{value}'" for value in allowed]
    expected = ", ".join(quoted[:-1]) + f" or {quoted[-1]}"
    return [
        {
            "type": "enum",
            "loc": ["query", name, index],
            "msg": f"Input should be {expected}",
            "input": raw,
            "ctx": {"expected": expected},
        }
        for index, raw in enumerate(values)
        if raw not in allowed
    ]


def _limit_errors(raw: str | None) -> list[dict]:
    if raw is None:
        return []
    errors = _int_errors("limit", [raw], None, in_list=False)
    if errors:
        return errors
    if int(raw) < 1:
        return [_bound_error("greater_than_equal", ["query", "limit"], raw, "ge", 1)]
    if int(raw) > MAX_LIMIT:
        return [_bound_error("less_than_equal", ["query", "limit"], raw, "le", MAX_LIMIT)]
    return []


def _curie_errors(values: list[str]) -> list[dict]:
    bad = [value for value in values if len(value.split(":")) != 2 or "" in value.split(":")]
    if not bad:
        return []
    return [{"type": "value_error", "loc": ["query", "curie"],
             "msg": "curie must be in form 'prefix:reference'", "input": values}]  # fmt: skip


def parse_entity_query(query_string: str) -> EntityQuery:
    """Parse and validate the query string; raises RequestInvalid with every problem found."""
    params: dict[str, list[str]] = {}
    for key, value in parse_qsl(query_string, keep_blank_values=True):
        params.setdefault(key, []).append(value)

    def values(name: str) -> list[str]:
        return params.get(name, [])

    def last(name: str) -> str | None:
        return values(name)[-1] if values(name) else None

    errors = [
        *_enum_errors("typology", values("typology"), TYPOLOGIES),
        *_int_errors("organisation_entity", values("organisation_entity"), 1, in_list=True),
        *_int_errors("entity", values("entity"), None, in_list=True),
        *_curie_errors(values("curie")),
        *_enum_errors("period", values("period"), PERIODS),
        *_limit_errors(last("limit")),
        *_int_errors("offset", [last("offset")] if last("offset") is not None else [], None, False),
        *_date_errors(values),
    ]
    if errors:
        raise RequestInvalid(errors)
    limit, offset = last("limit"), last("offset")
    return EntityQuery(
        datasets=sorted(set(values("dataset"))),
        organisation_entities=[int(v) for v in values("organisation_entity")],
        references=values("reference"),
        entities=[int(v) for v in values("entity")],
        prefixes=values("prefix"),
        typologies=values("typology"),
        curies=[tuple(v.split(":")) for v in values("curie")],  # type: ignore[misc]
        periods=values("period"),
        fields=values("field"),
        exclude_fields=[part for v in values("exclude_field") for part in v.split(",")],
        limit=DEFAULT_LIMIT if limit is None else int(limit),
        offset=0 if offset is None else int(offset),
        dates=_date_filters(last),
    )


def check_datasets(requested: list[str], raw_requested: list[str], known: list[str]) -> None:
    missing = [name for name in requested if name not in set(known)]
    if missing:
        names = ", ".join(missing)
        raise RequestInvalid([{
            "type": "value_error", "loc": ["query", "dataset"],
            "msg": f"Requested datasets do not exist: {names}.", "input": raw_requested,
            "ctx": {"missing": names, "dataset_names": sorted(known)},
        }])  # fmt: skip


# --------------------------------------------------------------------------------------------
# Filtering, serialisation and links
# --------------------------------------------------------------------------------------------


def _in_period(entity: Mapping[str, Any], periods: list[str], today: date) -> bool:
    if not periods or "all" in periods:
        return True
    end = entity.get("end-date")
    ended = bool(end) and date.fromisoformat(end) <= today
    return ("historical" in periods and ended) or ("current" in periods and not ended)


def entity_filter(query: EntityQuery, today: date) -> Callable[[Mapping[str, Any]], bool]:
    datasets, orgs = set(query.datasets), set(query.organisation_entities)
    references, ids = set(query.references), set(query.entities)
    prefixes, typologies, curies = set(query.prefixes), set(query.typologies), set(query.curies)

    def keep(entity: Mapping[str, Any]) -> bool:
        return (
            (not datasets or entity.get("dataset") in datasets)
            and (not orgs or entity.get("organisation-entity") in orgs)
            and (not references or entity.get("reference") in references)
            and (not ids or entity.get("entity") in ids)
            and (not prefixes or entity.get("prefix") in prefixes)
            and (not typologies or entity.get("typology") in typologies)
            and (not curies or (entity.get("prefix"), entity.get("reference")) in curies)
            and _in_period(entity, query.periods, today)
            and _in_dates(entity, query.dates)
        )

    return keep


def serialised_entity(entity: Mapping[str, Any], query: EntityQuery) -> dict[str, Any]:
    """One entity as the JSON route renders it: model order, `field`/`exclude_field`, "" for null."""
    core = [to_kebab(column) for column in CORE_COLUMNS]
    keys = core + [key for key in entity if key not in core]
    if query.fields:
        include = {to_snake(name) for name in query.fields} | {"entity"}
        # the database selects only columns named exactly as requested, so kebab names of
        # multi-word core columns come back blank (FACTS §1.3, gotcha 2)
        selected = set(query.fields) | {"entity"}
        output = {}
        for key in keys:
            if to_snake(key) in include:
                is_core = to_snake(key) in CORE_COLUMNS
                fetched = not is_core or to_snake(key) in selected
                output[key] = _blank(entity.get(key)) if fetched else ""
        return output
    excluded = {to_snake(name) for name in query.exclude_fields}
    return {key: _blank(entity.get(key)) for key in keys if to_snake(key) not in excluded}


def _blank(value: Any) -> Any:
    return "" if value is None else value


def make_links(base_url: str, query_string: str, count: int, limit: int, offset: int) -> dict:
    """digital-land.info's `make_links`, including `last` pointing past the end on exact multiples."""
    if count == 0 or count <= limit:
        return {}
    params = parse_qs(query_string)
    last_offset = int(count / limit) * limit

    def url(page_offset: int) -> str:
        page = dict(params)  # keeps the request's parameter order; new keys go to the end
        page["limit"] = [str(limit)]
        if page_offset:
            page["offset"] = [str(page_offset)]
        else:
            page.pop("offset", None)
        return f"{base_url}?{urlencode(page, doseq=True)}"

    links = {"first": url(0)}
    if 0 < last_offset <= count:
        links["last"] = url(last_offset)
    if offset + limit < count and offset + limit <= last_offset:
        links["next"] = url(offset + limit)
    if offset != 0:
        links["prev"] = url(max(offset - limit, 0))
    return links


def search(data: Mapping[str, Any], query_string: str, base_url: str, today: date) -> dict[str, Any]:
    query = parse_entity_query(query_string)
    raw_datasets = [value for key, value in parse_qsl(query_string) if key == "dataset"]
    check_datasets(query.datasets, raw_datasets, data["datasets"])
    if query.offset < 0:
        raise ServerError("OFFSET must not be negative")
    keep = entity_filter(query, today)
    matches = [entity for entity in data["entities"] if keep(entity)]
    page = matches[query.offset : query.offset + query.limit]
    return {
        "entities": [serialised_entity(entity, query) for entity in page],
        "links": make_links(base_url, query_string, len(matches), query.limit, query.offset),
        "count": len(matches),
    }


# --------------------------------------------------------------------------------------------
# Data validation
# --------------------------------------------------------------------------------------------


def normalized_data(data: Any) -> dict[str, Any]:
    """Validate a data document; return it with entities sorted by entity number."""
    if not isinstance(data, Mapping):
        raise ValueError('planning data must be an object with "datasets" and "entities"')
    datasets, entities = data.get("datasets"), data.get("entities")
    if not isinstance(datasets, list) or not all(isinstance(d, str) for d in datasets):
        raise ValueError('planning data "datasets" must be a list of dataset names')
    if not isinstance(entities, list):
        raise ValueError('planning data "entities" must be a list')
    seen: set[int] = set()
    for index, entity in enumerate(entities):
        _check_entity(entity, index, set(datasets), seen)
    return {"datasets": list(datasets), "entities": sorted(entities, key=lambda e: e["entity"])}


def _check_entity(entity: Any, index: int, datasets: set[str], seen: set[int]) -> None:
    where = f"entities[{index}]"
    if not isinstance(entity, Mapping):
        raise ValueError(f"{where} must be an object")
    number = entity.get("entity")
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        raise ValueError(f"{where}.entity must be a positive integer, got {number!r}")
    if number in seen:
        raise ValueError(f"{where}.entity {number} is used twice")
    seen.add(number)
    if entity.get("dataset") not in datasets:
        raise ValueError(f'{where}.dataset {entity.get("dataset")!r} is not in "datasets"')
    org = entity.get("organisation-entity")
    if org is not None and (not isinstance(org, int) or isinstance(org, bool)):
        raise ValueError(f"{where}.organisation-entity must be an integer or null, got {org!r}")
    for key in ("end-date", "start-date", "entry-date"):
        _check_date(entity.get(key), f"{where}.{key}")


def _check_date(value: Any, where: str) -> None:
    if value in (None, ""):
        return
    try:
        date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValueError(f"{where} must be a YYYY-MM-DD date or null, got {value!r}") from None


# --------------------------------------------------------------------------------------------
# Public interface
# --------------------------------------------------------------------------------------------


def bundled_data() -> dict[str, Any]:
    """A fresh copy of the records shipped with the package (see tests for how they were made)."""
    path = resources.files("notion_sandbox").joinpath("data/planning_data.json")
    return json.loads(path.read_text(encoding="utf-8"))


def entity_url(base_url: str) -> str:
    base = base_url.rstrip("/")
    return base if base.endswith("/entity.json") else f"{base}/entity.json"


def _compact(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class PlanningData:
    """`GET /entity.json` of planning.data.gov.uk. Thread-safe; `today` is injectable for `period`."""

    def __init__(self, data: dict | None = None, today: Callable[[], date] | None = None) -> None:
        self._lock = threading.Lock()
        self._today = today or date.today
        self.set_data(bundled_data() if data is None else data)

    def handle(self, query_string: str, base_url: str) -> tuple[int, dict[str, str], bytes]:
        """Answer one request; `base_url` is the request URL without its query string, or the
        server's root URL (then `/entity.json` is appended for the `links`)."""
        with self._lock:
            data = self._data
        try:
            payload = search(data, query_string, entity_url(base_url), self._today())
        except RequestInvalid as invalid:
            return 422, dict(JSON_HEADERS), _compact({"detail": invalid.detail})
        except ServerError:
            return 500, dict(HTML_HEADERS), SERVER_ERROR_PAGE.encode("utf-8")
        return 200, dict(JSON_HEADERS), _compact(payload)

    def get_data(self) -> dict:
        with self._lock:
            data = self._data
        return json.loads(json.dumps(data))

    def set_data(self, data: dict) -> None:
        normalized = normalized_data(data)
        with self._lock:
            self._data = normalized


def dataset_counts(data: Mapping[str, Any], organisation: int) -> dict[str, int]:
    """How many records each dataset holds for one organisation (handy in tests and docs)."""
    counts: dict[str, int] = {}
    for entity in data["entities"]:
        if entity.get("organisation-entity") == organisation:
            counts[entity["dataset"]] = counts.get(entity["dataset"], 0) + 1
    return counts
