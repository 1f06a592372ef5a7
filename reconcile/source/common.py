"""Helpers shared by the source kinds: where records sit, and short error excerpts."""

from __future__ import annotations

import re
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


def require_keys(records: list[Record], key_expression: str, where: str, *, first_index: int = 0) -> None:
    """A SourceError when a record has no key: that is a broken source, never a record to skip.

    Checked before the allowlist: silently dropping a keyless record would archive its page.
    """
    from reconcile.desired import key_text  # the one definition of a key's text

    compiled = compile_expression(key_expression)
    for i, record in enumerate(records, start=first_index):
        try:
            value = compiled.search(record)
        except ExpressionError as exc:
            raise SourceError(f"source.key {key_expression!r} failed on record {i} from {where}: {exc}") from exc
        if not key_text(value):
            raise SourceError(
                f"record {i} from {where} has no key: {key_expression!r} gave {value!r}",
                hint="nothing was written; the source's shape changed or source.key is wrong",
            )


def short_body(text: str, limit: int = 160) -> str:
    """A one-line excerpt of a response body for an error message."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# ── text Notion cannot store ─────────────────────────────────────────────────────────────────────

# JSON may carry "\u0000" and lone surrogates ("\ud83d" without its pair); neither can be encoded
# as UTF-8 or stored by Notion, and either would crash a run at its first write or print.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable_text(value: Any, path: str = "") -> str | None:
    """Where in `value` a string holds a NUL or a lone surrogate, and which: "flows[2].name: a NUL"."""
    if isinstance(value, str):
        found = _UNSTORABLE.search(value)
        if found is None:
            return None
        what = "a NUL character" if found.group() == "\x00" else f"a lone surrogate ({ascii(found.group())[1:-1]})"
        return f"{path or 'the value'} holds {what}: {short_body(value, 60)!a}"
    if isinstance(value, dict):
        items: list[tuple[str, Any]] = [(f"{path}.{k}" if path else str(k), v) for k, v in value.items()]
    elif isinstance(value, list):
        items = [(f"{path}[{i}]", v) for i, v in enumerate(value)]
    else:
        return None
    for where, item in items:
        problem = unstorable_text(item, where)
        if problem is not None:
            return problem
    return None


def refuse_unstorable_text(records: list[Record], key_expression: str, where: str, *, first_index: int = 0) -> None:
    """A SourceError naming the record and field of the first NUL or lone surrogate, if any."""
    from reconcile.desired import key_text

    compiled = compile_expression(key_expression)
    for i, record in enumerate(records, start=first_index):
        problem = unstorable_text(record)
        if problem is not None:
            key = ascii(key_text(compiled.search(record)))
            raise SourceError(
                f"record {i} (key {key}) from {where}: {problem}",
                hint="nothing was written; Notion cannot store that text: fix it in the source",
            )
