"""JMESPath expressions over source records, with a few functions that real data needs.

Every expression in mappings.yaml (record paths, keys, property values) goes through
`compile_expression`, so the same functions are available everywhere and a mistake is found when
the config loads, not half-way through a run:

    trim(s)               s without surrounding whitespace; null stays null
    lower(s), upper(s)    case; null stays null
    split(s, sep)         list of parts; null gives null
    replace(s, old, new)  every occurrence of old replaced; null stays null
    to_date(s)            the date part (YYYY-MM-DD) of an ISO date or timestamp; "" or null gives null
    default(a, b)         a unless it is null or "", else b
    unique(list)          the list without repeated items, first occurrences kept in order

Errors are `ExpressionError` (a ValueError) whose message is one line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

import jmespath
from jmespath import exceptions as jmes_errors
from jmespath import functions, visitor

__all__ = ["Expression", "ExpressionError", "compile_expression", "function_names"]

_ISO_DATE = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})(?:$|[T ]|\s)")


class ExpressionError(ValueError):
    """An expression that does not parse, names an unknown function, or fails on its data."""


class ReconcileFunctions(functions.Functions):
    """JMESPath's built-ins plus the text and date helpers listed in the module docstring."""

    @functions.signature({"types": ["string", "null"]})
    def _func_trim(self, s: str | None) -> str | None:
        return None if s is None else s.strip()

    @functions.signature({"types": ["string", "null"]})
    def _func_lower(self, s: str | None) -> str | None:
        return None if s is None else s.lower()

    @functions.signature({"types": ["string", "null"]})
    def _func_upper(self, s: str | None) -> str | None:
        return None if s is None else s.upper()

    @functions.signature({"types": ["string", "null"]}, {"types": ["string"]})
    def _func_split(self, s: str | None, sep: str) -> list[str] | None:
        if s is None:
            return None
        if sep == "":
            raise jmes_errors.JMESPathError("split() needs a non-empty separator")
        return s.split(sep)

    @functions.signature({"types": ["string", "null"]}, {"types": ["string"]}, {"types": ["string"]})
    def _func_replace(self, s: str | None, old: str, new: str) -> str | None:
        return None if s is None else s.replace(old, new)

    @functions.signature({"types": ["string", "null"]})
    def _func_to_date(self, s: str | None) -> str | None:
        if s is None or not s.strip():
            return None
        match = _ISO_DATE.match(s)
        if match is None:
            raise jmes_errors.JMESPathError(f"to_date() expects an ISO date or timestamp, got {s!r}")
        return match.group(1)

    @functions.signature({"types": []}, {"types": []})
    def _func_default(self, value: Any, fallback: Any) -> Any:
        return fallback if value is None or value == "" else value

    @functions.signature({"types": ["array"]})
    def _func_unique(self, items: list[Any]) -> list[Any]:
        # JSON text as the identity: Python's == would take true for 1.
        kept: dict[str, Any] = {}
        for item in items:
            kept.setdefault(json.dumps(item, sort_keys=True), item)
        return list(kept.values())


_FUNCTIONS = ReconcileFunctions()
_OPTIONS = jmespath.Options(custom_functions=_FUNCTIONS)
_INTERPRETER = visitor.TreeInterpreter(_OPTIONS)


def function_names() -> tuple[str, ...]:
    """Every function an expression may call, built-in or ours, sorted."""
    return tuple(sorted(_FUNCTIONS.FUNCTION_TABLE))


class Expression:
    """A compiled expression; `search` evaluates it and turns JMESPath's failures into ours."""

    def __init__(self, text: str, parsed: jmespath.parser.ParsedResult) -> None:
        self.text = text
        self._parsed = parsed
        node = parsed.parsed
        # Most mapped values are a bare field (`slug`); answer those without walking a tree.
        self._field: str | None = node["value"] if node.get("type") == "field" else None
        self._evaluate = closure(node)

    def search(self, data: Any) -> Any:
        if self._field is not None:
            return data.get(self._field) if isinstance(data, dict) else None
        try:
            return self._evaluate(data)
        except jmes_errors.JMESPathError as exc:
            raise ExpressionError(one_line(str(exc))) from exc

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"


# ── evaluation ───────────────────────────────────────────────────────────────────────────────────
# An expression is evaluated once per record (tens of thousands a run): the common node types
# become nested Python closures that do what jmespath's TreeInterpreter does for them, without
# its per-node dispatch; any other node is left to the (one shared) interpreter.

Evaluate = Callable[[Any], Any]


def closure(node: Any) -> Evaluate:
    """A function of the data that gives what `_INTERPRETER.visit(node, data)` gives."""
    kind = node["type"]
    children = node.get("children") or []
    if kind == "field":
        return _field(node["value"])
    if kind in ("current", "identity"):
        return _identity
    if kind == "literal":
        return _constant(node["value"])
    if kind in ("subexpression", "pipe", "index_expression"):
        return _chain([closure(c) for c in children])
    if kind == "index":
        return _index(node["value"])
    if kind == "projection":
        return _projection(closure(children[0]), closure(children[1]))
    if kind == "flatten":
        return _flatten(closure(children[0]))
    if kind == "or_expression":
        return _or(closure(children[0]), closure(children[1]))
    if kind == "and_expression":
        return _and(closure(children[0]), closure(children[1]))
    if kind == "not_expression":
        return _not(closure(children[0]))
    if kind == "multi_select_list":
        return _multi_list([closure(c) for c in children])
    if kind == "multi_select_dict":
        return _multi_dict([(c["value"], closure(c["children"][0])) for c in children])
    if kind == "function_expression":
        return _function(node["value"], [closure(c) for c in children])
    return lambda data: _INTERPRETER.visit(node, data)


def _identity(data: Any) -> Any:
    return data


def _constant(value: Any) -> Evaluate:
    return lambda data: value


def _field(name: str) -> Evaluate:
    def field(data: Any) -> Any:
        try:
            return data.get(name)
        except AttributeError:
            return None

    return field


def _chain(steps: list[Evaluate]) -> Evaluate:
    def chain(data: Any) -> Any:
        for step in steps:
            data = step(data)
        return data

    return chain


def _index(position: int) -> Evaluate:
    def index(data: Any) -> Any:
        if not isinstance(data, list):
            return None
        try:
            return data[position]
        except IndexError:
            return None

    return index


def _projection(base: Evaluate, each: Evaluate) -> Evaluate:
    def projection(data: Any) -> Any:
        items = base(data)
        if not isinstance(items, list):
            return None
        return [v for v in map(each, items) if v is not None]

    return projection


def _flatten(base: Evaluate) -> Evaluate:
    def flatten(data: Any) -> Any:
        items = base(data)
        if not isinstance(items, list):
            return None
        merged: list[Any] = []
        for item in items:
            if isinstance(item, list):
                merged.extend(item)
            else:
                merged.append(item)
        return merged

    return flatten


def _or(left: Evaluate, right: Evaluate) -> Evaluate:
    def either(data: Any) -> Any:
        matched = left(data)
        if is_false(matched):
            matched = right(data)
        return matched

    return either


def _and(left: Evaluate, right: Evaluate) -> Evaluate:
    def both(data: Any) -> Any:
        matched = left(data)
        return matched if is_false(matched) else right(data)

    return both


def _not(operand: Evaluate) -> Evaluate:
    def negated(data: Any) -> Any:
        value = operand(data)
        if isinstance(value, int | float) and not isinstance(value, bool) and value == 0:
            return False  # jmespath: !0 is false (0 is true)
        return not value

    return negated


def _multi_list(items: list[Evaluate]) -> Evaluate:
    def multi_list(data: Any) -> Any:
        return None if data is None else [item(data) for item in items]

    return multi_list


def _multi_dict(pairs: list[tuple[str, Evaluate]]) -> Evaluate:
    def multi_dict(data: Any) -> Any:
        return None if data is None else {name: value(data) for name, value in pairs}

    return multi_dict


def is_false(value: Any) -> bool:
    """JMESPath's falsehood (not Python's: 0 is true)."""
    return value == "" or value == [] or value == {} or value is None or value is False


def _function(name: str, arguments: list[Evaluate]) -> Evaluate:
    """A call whose arguments' types are checked as jmespath checks them; when a check would
    fail (or is one this does not know), jmespath's own call raises its own error."""
    spec = _FUNCTIONS.FUNCTION_TABLE[name]
    body = spec["function"]
    checks = _argument_checks(spec["signature"], len(arguments))

    if checks is None:
        return lambda data: _FUNCTIONS.call_function(name, [argument(data) for argument in arguments])
    pairs = list(zip(arguments, checks, strict=True))

    def call(data: Any) -> Any:
        values = []
        accepted = True
        for argument, check in pairs:
            value = argument(data)
            values.append(value)
            accepted = accepted and check(value)
        return body(_FUNCTIONS, *values) if accepted else _FUNCTIONS.call_function(name, values)

    return call


def _argument_checks(signature: list[dict[str, Any]], given: int) -> list[Callable[[Any], bool]] | None:
    """One check per argument (True: jmespath would accept it), or None when this does not
    reproduce jmespath's checks (variadic functions, alternative element types)."""
    if len(signature) != given or any(spec.get("variadic") for spec in signature):
        return None
    checks: list[Callable[[Any], bool]] = []
    for spec in signature:
        types: list[str] = spec["types"]
        if not types:
            checks.append(_anything)
            continue
        allowed = {py for t in types for py in functions.REVERSE_TYPES_MAP[t.split("-", 1)[0]]}
        subtypes = [t.split("-", 1)[1] for t in types if "-" in t]
        if len(subtypes) > 1:
            return None
        elements = frozenset(functions.REVERSE_TYPES_MAP[subtypes[0]]) if subtypes else None
        checks.append(_type_check(frozenset(allowed), elements))
    return checks


def _anything(value: Any) -> bool:
    return True


def _type_check(allowed: frozenset[str], elements: frozenset[str] | None) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        # Type names, not isinstance: jmespath's types are not Python's (a bool is no number).
        return type(value).__name__ in allowed

    if elements is None:
        return check
    element_types = elements

    def check_elements(value: Any) -> bool:
        return check(value) and all(type(v).__name__ in element_types for v in value)

    return check_elements


@lru_cache(maxsize=4096)
def compile_expression(text: str) -> Expression:
    """The compiled form of `text`, checked for syntax, function names and argument counts."""
    if not isinstance(text, str):
        raise ExpressionError(f"an expression must be text, got {type(text).__name__}")
    try:
        parsed = jmespath.compile(text)
    except jmes_errors.JMESPathError as exc:
        raise ExpressionError(parse_error_message(exc)) from exc
    check_function_calls(parsed.parsed)
    return Expression(text, parsed)


def parse_error_message(exc: jmes_errors.JMESPathError) -> str:
    """JMESPath's own message on one line (its text spans three lines with a caret drawing)."""
    if isinstance(exc, jmes_errors.EmptyExpressionError):
        return "the expression is empty"
    if isinstance(exc, jmes_errors.LexerError):
        return f"{exc.message} at column {exc.lexer_position}"
    if isinstance(exc, jmes_errors.IncompleteExpressionError):
        return f"incomplete expression (it ends at column {exc.lex_position})"
    if isinstance(exc, jmes_errors.ParseError):
        return f"{exc.msg} at column {exc.lex_position}"
    return one_line(str(exc))


def check_function_calls(node: Mapping[str, Any]) -> None:
    """Refuse unknown functions and wrong argument counts now rather than on the first record."""
    if node.get("type") == "function_expression":
        name = node["value"]
        spec = _FUNCTIONS.FUNCTION_TABLE.get(name)
        if spec is None:
            raise ExpressionError(f"unknown function {name}() (known: {', '.join(function_names())})")
        check_arity(name, spec["signature"], len(node["children"]))
    for child in node.get("children", ()):
        if isinstance(child, dict):
            check_function_calls(child)


def check_arity(name: str, signature: list[dict[str, Any]], given: int) -> None:
    variadic = bool(signature) and signature[-1].get("variadic", False)
    expected = len(signature)
    if (variadic and given < expected) or (not variadic and given != expected):
        wanted = f"at least {expected}" if variadic else str(expected)
        plural = "" if expected == 1 else "s"
        raise ExpressionError(f"{name}() takes {wanted} argument{plural}, got {given}")


def one_line(text: str) -> str:
    return " ".join(text.split())
