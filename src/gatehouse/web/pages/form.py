"""A posted form: its fields as sent, and what the user entered with an error per field."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

MAX_FORM = 256 * 1024

Pairs = list[tuple[str, str]]


@dataclass
class Form:
    """What the user entered, and an error per field: re-rendered as entered on an error."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


async def read_pairs(request: Request) -> Pairs:
    """The fields of a urlencoded body, in order; none at all if it is too large."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FORM:
        return []
    body = await request.body()
    return parse_qsl(body[:MAX_FORM].decode("utf-8", "replace"), keep_blank_values=True)
