"""Expressions: JMESPath with trim, lower, upper, split, replace, to_date, default and unique."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconcile.expressions import ExpressionError, compile_expression, function_names


def search(text: str, data: Any) -> Any:
    return compile_expression(text).search(data)


@pytest.mark.parametrize(
    ("expression", "data", "expected"),
    [
        ("trim(name)", {"name": "  Barnet \t"}, "Barnet"),
        ("trim(name)", {}, None),
        ("trim(name) || slug", {"name": "   ", "slug": "barnet"}, "barnet"),
        ("trim(name) || slug", {"name": None, "slug": "barnet"}, "barnet"),
        ("lower(s)", {"s": "SWK"}, "swk"),
        ("upper(s)", {"s": "swk"}, "SWK"),
        ("upper(s)", {}, None),
        ("split(s, ',')", {"s": "a,b,,c"}, ["a", "b", "", "c"]),
        ("split(s, ',')", {}, None),
        ("replace(s, '-', ' ')", {"s": "st-albans"}, "st albans"),
        ("to_date(t)", {"t": "2024-03-01T23:30:00.123+01:00"}, "2024-03-01"),
        ("to_date(t)", {"t": "2024-03-01"}, "2024-03-01"),
        ("to_date(t)", {"t": "2024-03-01 10:00:00"}, "2024-03-01"),
        ("to_date(t)", {"t": ""}, None),
        ("to_date(t)", {}, None),
        ("default(a, 'x')", {"a": ""}, "x"),
        ("default(a, 'x')", {}, "x"),
        ("default(a, 'x')", {"a": 0}, 0),
        ("default(a, 'x')", {"a": False}, False),
        ("unique(xs)", {"xs": [1, True, 1, {"a": 1}, {"a": 1}, "1"]}, [1, True, {"a": 1}, "1"]),
        (
            "unique([].team)",
            [{"team": {"slug": "a"}}, {"team": {"slug": "b"}}, {"team": {"slug": "a"}}],
            [{"slug": "a"}, {"slug": "b"}],
        ),
        ("length(flows)", {"flows": [1, 2, 3]}, 3),
        ("count > `0`", {"count": 0}, False),
    ],
)
def test_functions(expression: str, data: Any, expected: Any) -> None:
    assert search(expression, data) == expected


def test_description_of_sample_planx_records(shared_dir: Path) -> None:
    document = json.loads((shared_dir / "planx" / "sample-response.json").read_text(encoding="utf-8"))
    teams = {t["slug"]: t for t in search("data.teams", document)}
    description = compile_expression("join('\n', flows[].trim(name))")
    doncaster = description.search(teams["doncaster"])
    assert doncaster.split("\n")[0] == "apply for prior approval"  # stored with trailing spaces
    assert all(line == line.strip() and line for line in doncaster.split("\n"))
    assert len(doncaster.split("\n")) == len(teams["doncaster"]["flows"]) == 6
    assert description.search(teams["west-berkshire"]) == ""
    assert search("trim(name) || slug", teams["st-albans"]) == "St Albans"


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("trim(name ||", "incomplete expression (it ends at column 12)"),
        ("foo bar", "Unexpected token: bar at column 4"),
        ("`abc", "Unclosed ` delimiter at column 0"),
        ("", "the expression is empty"),
        ("trim(a, b)", "trim() takes 1 argument, got 2"),
        ("replace(a)", "replace() takes 3 arguments, got 1"),
        ("not_null()", "not_null() takes at least 1 argument, got 0"),
        ("a[].nofn(b)", "unknown function nofn() (known: " + ", ".join(function_names()) + ")"),
    ],
)
def test_compile_errors_are_one_line(expression: str, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(expression)
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("expression", "data", "message"),
    [
        (
            "trim(n)",
            {"n": 3},
            "In function trim(), invalid type for value: 3, expected one of: ['string', 'null'], received: \"number\"",
        ),
        ("to_date(t)", {"t": "soon"}, "to_date() expects an ISO date or timestamp, got 'soon'"),
        ("split(s, '')", {"s": "ab"}, "split() needs a non-empty separator"),
    ],
)
def test_runtime_errors_are_expression_errors(expression: str, data: Any, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        search(expression, data)
    assert str(caught.value) == message


def test_compiled_expressions_are_cached() -> None:
    assert compile_expression("a.b") is compile_expression("a.b")


def test_our_functions_are_listed() -> None:
    assert {"trim", "lower", "upper", "split", "replace", "to_date", "default", "unique", "join"} <= set(
        function_names()
    )
