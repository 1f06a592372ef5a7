"""Compiled expressions (reconcile/expressions.py turns common nodes into closures) give exactly
what jmespath's own interpreter gives, errors included, on any JSON data."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconcile.expressions import _INTERPRETER, ExpressionError, compile_expression

EXPRESSIONS = [
    "trim(name) || slug",
    "join('\\n', flows[].trim(name))",
    "length(flows)",
    "data.teams",
    "a[0].b",
    "a[-1]",
    "a | b",
    "[].flows[]",
    "x.y[*].z",
    "flows[].name",
    "default(name, slug)",
    "unique(tags)",
    "to_date(first_online_at)",
    "split(name, '-')",
    'upper(name) || `"none"`',
    "lower(slug)",
    "replace(name, 'a', 'b')",
    "length(name) || length(flows)",
    "a && b",
    "flows[?status == 'online'].slug",
    "{n: name, s: slug}",
    "[name, slug]",
    "sort(tags)",
    "max(counts)",
    "contains(tags, 'x')",
    "not_null(name, slug)",
    "*.name",
    "a[1:2]",
    "!a",
    "a.b.c",
    "@",
    "`[1, 2]`",
    "flows && join('', ['- ', join('\\n- ', flows[].name)]) || ''",  # mappings.yaml's page body
    "!length(tags)",
    "!`0`",
    "{a: a && b, b: !c}",
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.floats(-5, 5, allow_nan=False)
    | st.sampled_from(["", " a ", "x-y", "2025-01-02T03:04:05", "online", "2025-01-02", "abc"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                ["a", "b", "c", "x", "y", "z", "name", "slug", "flows", "tags", "status", "counts", "data"]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)


def interpreted(text: str, data: Any) -> tuple[str, Any]:
    try:
        return "value", _INTERPRETER.visit(compile_expression(text)._parsed.parsed, data)
    except Exception as exc:
        return "error", " ".join(str(exc).split())


def compiled(text: str, data: Any) -> tuple[str, Any]:
    try:
        return "value", compile_expression(text).search(data)
    except ExpressionError as exc:
        return "error", str(exc)
    except Exception as exc:
        return "error", " ".join(str(exc).split())


@pytest.mark.parametrize("text", EXPRESSIONS)
@settings(max_examples=150, deadline=None)
@given(data=json_values)
def test_compiled_expressions_match_the_interpreter(text: str, data: Any) -> None:
    assert compiled(text, data) == interpreted(text, data)


def test_a_type_error_is_jmespaths_own() -> None:
    with pytest.raises(ExpressionError, match="invalid type for value: 5"):
        compile_expression("trim(name)").search({"name": 5})
    with pytest.raises(ExpressionError, match="join"):
        compile_expression("join(',', tags)").search({"tags": ["a", 1]})
