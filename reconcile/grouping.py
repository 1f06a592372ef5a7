"""Warnings of one kind, one line: the code, how many, the keys, and what they have in common.

Twelve `relation_target_missing` warnings that differ only in their key read as one line:

    12 × relation_target_missing (services): no councils page carries ExternalCustomerID ‹key›;
    services ‹key› stays unlinked (Councils) until one does: barking-and-dagenham, birmingham, …

Pure: diagnostics in (their JSON form, as in a plan or a run record), groups out, in the order
each kind first appears. A kind seen once keeps its own message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["KEY_MARK", "DiagnosticGroup", "group_diagnostics"]

KEY_MARK = "‹key›"


@dataclass(frozen=True)
class DiagnosticGroup:
    severity: str
    code: str
    resource: str | None
    keys: tuple[str, ...]
    messages: tuple[str, ...]

    @property
    def count(self) -> int:
        return len(self.messages)

    @property
    def template(self) -> str | None:
        """The message with its key replaced by ‹key›, when every message of the group reads so."""
        forms = {without_key(message, key) for message, key in zip(self.messages, self.keys, strict=False)}
        if len(self.keys) != len(self.messages) or len(forms) != 1:
            return None
        [form] = forms
        return form if KEY_MARK in form else None

    def line(self) -> str:
        """The one line shown for the group (the message itself for a group of one)."""
        if self.count == 1:
            return self.messages[0]
        where = f" ({self.resource})" if self.resource else ""
        keys = ", ".join(dict.fromkeys(self.keys))
        common = self.template
        if common is not None:
            return f"{self.count} × {self.code}{where}: {common}: {keys}"
        first = self.messages[0]
        return f"{self.count} × {self.code}{where}: {keys}. The first: {first}"


def without_key(message: str, key: str) -> str:
    if not key:
        return message
    return message.replace(repr(key), KEY_MARK).replace(f'"{key}"', KEY_MARK)


def group_diagnostics(diagnostics: Sequence[Mapping[str, object]], severity: str = "warning") -> list[DiagnosticGroup]:
    """The diagnostics of one severity grouped by (code, resource), in order of first appearance."""
    order: list[tuple[str, str | None]] = []
    members: dict[tuple[str, str | None], list[Mapping[str, object]]] = {}
    for d in diagnostics:
        if d.get("severity", severity) != severity:
            continue
        resource = d.get("resource")
        group = (str(d.get("code") or ""), None if resource is None else str(resource))
        if group not in members:
            order.append(group)
            members[group] = []
        members[group].append(d)
    out = []
    for code, resource in order:
        items = members[(code, resource)]
        keys = tuple(str(d["key"]) for d in items if d.get("key"))
        out.append(DiagnosticGroup(severity, code, resource, keys, tuple(str(d.get("message", "")) for d in items)))
    return out
