"""The plan's JSON form as text: what `--format json` prints and `plan -o` writes."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["render_json"]


def render_json(plan: dict[str, Any]) -> str:
    """Sorted keys and a two-space indent, so the same plan always prints the same bytes."""
    return json.dumps(plan, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"
