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
from collections.abc import Mapping
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

    def search(self, data: Any) -> Any:
        if self._field is not None:
            return data.get(self._field) if isinstance(data, dict) else None
        try:
            # One shared interpreter: jmespath's own `search` builds a new one on every call.
            return _INTERPRETER.visit(self._parsed.parsed, data)
        except jmes_errors.JMESPathError as exc:
            raise ExpressionError(one_line(str(exc))) from exc

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"


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
