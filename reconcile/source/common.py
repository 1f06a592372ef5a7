"""Helpers shared by the source kinds: where records sit, and short error excerpts."""

from __future__ import annotations

from typing import Any

from reconcile.errors import SourceError
from reconcile.expressions import ExpressionError, compile_expression
from reconcile.model import Record


def records_at(document: Any, expression: str, where: str) -> list[Record]:
    """The list of record objects that `expression` selects in `document`."""
    try:
        found = compile_expression(expression).search(document)
    except ExpressionError as exc:
        raise SourceError(f"records expression {expression!r} failed on the response from {where}: {exc}") from exc
    if found is None:
        raise SourceError(
            f"the response from {where} has nothing at {expression!r}",
            hint="nothing was written; the source's shape changed or the records path is wrong",
        )
    if not isinstance(found, list):
        raise SourceError(
            f"the response from {where} has a {type(found).__name__} at {expression!r}, expected a list of records"
        )
    bad = [i for i, r in enumerate(found) if not isinstance(r, dict)]
    if bad:
        raise SourceError(f"record {bad[0]} at {expression!r} from {where} is not an object")
    return found


def short_body(text: str, limit: int = 160) -> str:
    """A one-line excerpt of a response body for an error message."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
