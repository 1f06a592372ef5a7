"""The shape comparator itself, and its calibration on real responses (same route, same shape)."""

from __future__ import annotations

from collections import defaultdict

import pytest

from tests.support.json_shapes import json_type, shape_differences
from tests.support.notion_openapi import RecordedExchange


def test_values_are_ignored_and_keys_and_types_compared() -> None:
    assert shape_differences({"a": 1, "b": ["x"]}, {"a": 2.5, "b": ["y", "z"]}) == []
    assert shape_differences({"a": 1}, {"a": "1"}) == ["at $.a: real is number, sandbox is string"]
    assert shape_differences({"a": 1, "b": 2}, {"a": 1, "c": 2}) == [
        "at $: keys missing in the sandbox: ['b']",
        "at $: keys the real response does not have: ['c']",
    ]


def test_lists_compare_their_first_elements() -> None:
    assert shape_differences([{"a": 1}], [{"a": 1, "b": 2}, {}]) == [
        "at $[]: keys the real response does not have: ['b']"
    ]
    assert shape_differences([], [{"a": 1}]) == []


def test_null_differs_from_a_value_unless_the_path_is_listed() -> None:
    assert shape_differences({"icon": None}, {"icon": {"emoji": "x"}}) == ["at $.icon: real is null, sandbox is object"]
    assert shape_differences({"icon": None}, {"icon": {"emoji": "x"}}, frozenset({"$.icon"})) == []


def test_booleans_are_not_numbers() -> None:
    assert json_type(True) == "boolean"
    assert json_type(1) == json_type(1.5) == "number"
    with pytest.raises(TypeError):
        json_type(object())


def test_real_responses_of_one_route_share_one_shape(recorded: list[RecordedExchange]) -> None:
    # Calibrates the comparator: the same route answered twice by Notion must compare equal.
    groups: dict[tuple[str, str, int], list[RecordedExchange]] = defaultdict(list)
    for exchange in recorded:
        if exchange.path in ("/v1/pages", "/v1/databases", "/v1/data_sources"):
            groups[(exchange.method, exchange.path, exchange.status)].append(exchange)
    assert len(groups) == 3
    for group in groups.values():
        first, *others = group
        for other in others:
            assert shape_differences(first.body, other.body) == [], (first.label, other.label)
