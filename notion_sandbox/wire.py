"""What goes back on the wire: a status, a body and headers, or a dropped connection."""

from __future__ import annotations

import json
from typing import Any

JSON_TYPE = "application/json; charset=utf-8"


class Answer:
    """What goes back on the wire (or ``drop``: close without a response)."""

    def __init__(self, status: int, body: bytes, headers: dict[str, str], drop: bool = False) -> None:
        self.status = status
        self.body = body
        self.headers = headers
        self.drop = drop


DROPPED = Answer(0, b"", {}, drop=True)


def json_answer(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Answer:
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return Answer(status, data, {"Content-Type": JSON_TYPE, **(headers or {})})
