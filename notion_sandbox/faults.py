"""Scripted faults, matched by HTTP method and route template (see docs/sandbox.md).

A rule is ``{"method": "POST", "route": "/v1/pages", "faults": [f1, f2, ...]}`` (one fault consumed per matching
request, then the rule is spent) or ``{"method", "route", "fault": f, "every": N, "times": T}`` (every Nth matching
request is faulted, at most T times; T null = forever). ``method``/``route`` may be ``"*"`` or omitted. The first
live matching rule decides; only that rule's counter advances. A ``commit_then`` fault with ``commit_delay_ms`` is a
late commit: the client is answered first and the write lands that long after (sandbox.py, realism.py).
"""

from __future__ import annotations

import copy
import threading
from typing import Any

STATUS_CODES = {
    409: ("conflict_error", "Conflict occurred while saving. Please try again."),
    429: ("rate_limited", "You have been rate limited. Please try again in a few minutes."),
    500: ("internal_server_error", "Unexpected error occurred."),
    502: ("bad_gateway", "Bad Gateway"),
    503: ("service_unavailable", "Notion is unavailable, please try again later."),
    504: ("gateway_timeout", "Gateway Timeout"),
    529: ("service_overload", "Notion is currently overloaded. Please try again later."),
}
REASONS = {
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
    529: "Site is overloaded",
}
COMMIT_MESSAGE = (
    "The change was saved, but the response could not be built in time. "
    "Read the object again instead of repeating the write."
)
RETRY_GUIDANCE = ["Read the object again to confirm the saved change.", "Do not repeat the write."]
FAULT_KEYS = {"status", "body", "retry_after", "latency_ms", "drop", "commit_then", "commit_delay_ms", "pass"}
COMMIT_THEN = (503, 504, "timeout", "drop")


class FaultError(ValueError):
    """A rule that cannot be understood (answered 400 by the admin API)."""


def validate_rule(rule: Any) -> dict[str, Any]:
    if not isinstance(rule, dict):
        raise FaultError("a rule must be an object")
    faults = rule.get("faults")
    if faults is None and "fault" in rule:
        faults = [rule["fault"]]
    if not isinstance(faults, list) or not faults:
        raise FaultError("a rule needs `faults` (a non-empty list) or `fault`")
    for fault in faults:
        validate_fault(fault)
    every = rule.get("every", 1)
    if not isinstance(every, int) or every < 1:
        raise FaultError("`every` must be a positive integer")
    repeating = "fault" in rule or "every" in rule or "times" in rule
    times = rule.get("times", None if "every" in rule else 1)
    if times is not None and (not isinstance(times, int) or times < 0):
        raise FaultError("`times` must be a non-negative integer or null")
    return {
        "method": str(rule.get("method", "*")).upper(),
        "route": rule.get("route", "*"),
        "faults": copy.deepcopy(faults),
        "repeating": repeating,
        "every": every,
        "times": times,
        "seen": 0,
        "applied": 0,
    }


def validate_fault(fault: Any) -> None:
    if not isinstance(fault, dict) or not set(fault) <= FAULT_KEYS or not fault:
        raise FaultError(f"unknown fault {fault!r}; keys are {sorted(FAULT_KEYS)}")
    if "status" in fault and fault["status"] not in STATUS_CODES:
        raise FaultError(f"status must be one of {sorted(STATUS_CODES)}")
    if fault.get("body", "json") not in ("json", "html"):
        raise FaultError('body must be "json" or "html"')
    if "commit_then" in fault and fault["commit_then"] not in COMMIT_THEN:
        raise FaultError('commit_then must be 503, 504, "timeout" or "drop"')
    delay = fault.get("commit_delay_ms", 0)
    if "commit_delay_ms" in fault and "commit_then" not in fault:
        raise FaultError("commit_delay_ms goes with commit_then (the write lands that long after the answer)")
    if isinstance(delay, bool) or not isinstance(delay, int) or delay < 0:
        raise FaultError("commit_delay_ms must be a non-negative integer")
    # Notion sends whole seconds; a test may script fractions to keep its waits short.
    retry_after = fault.get("retry_after", 1)
    if isinstance(retry_after, bool) or not isinstance(retry_after, int | float) or retry_after < 0:
        raise FaultError("retry_after must be a non-negative number of seconds")


class FaultBook:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[dict[str, Any]] = []

    def add(self, rules: list[Any]) -> int:
        checked = [validate_rule(r) for r in rules]
        with self._lock:
            self._rules.extend(checked)
            return len(self._rules)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def listing(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._rules)

    def take(self, method: str, route: str) -> dict[str, Any] | None:
        """The fault for this request (consuming it), or None."""
        with self._lock:
            for rule in self._rules:
                if not matches(rule, method, route) or spent(rule):
                    continue
                return consume(rule)
        return None


def matches(rule: dict[str, Any], method: str, route: str) -> bool:
    return rule["method"] in ("*", method) and rule["route"] in ("*", route)


def spent(rule: dict[str, Any]) -> bool:
    if rule["repeating"]:
        return rule["times"] is not None and rule["applied"] >= rule["times"]
    return rule["seen"] >= len(rule["faults"])


def consume(rule: dict[str, Any]) -> dict[str, Any] | None:
    rule["seen"] += 1
    if not rule["repeating"]:
        rule["applied"] += 1
        fault = rule["faults"][rule["seen"] - 1]
    elif rule["seen"] % rule["every"] == 0:
        rule["applied"] += 1
        fault = rule["faults"][(rule["applied"] - 1) % len(rule["faults"])]
    else:
        return None
    return None if fault.get("pass") else dict(fault)


def html_page(status: int) -> bytes:
    reason = REASONS.get(status, "Error")
    return (
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {reason}</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n"
    ).encode()
