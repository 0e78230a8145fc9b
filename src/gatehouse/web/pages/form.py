"""A posted form: its fields as sent, and what the user entered with an error per field."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

from gatehouse.http import asgi

MAX_FORM = 256 * 1024

# The refusal of a form over MAX_FORM (a page may add why its own forms never come near it).
TOO_LARGE_TITLE = "Form too large"
TOO_LARGE = (
    f"The form is larger than {MAX_FORM // 1024} KB, so it was not read and nothing was changed."
)

Pairs = list[tuple[str, str]]


class FormTooLarge(Exception):
    """A posted body over MAX_FORM: refused whole (413, `site_app.SiteApp`), never cut. A cut
    form would lose the fields after the cut and still be acted on (a token saved without the
    IP allow-list its form asked for)."""


@dataclass
class Form:
    """What the user entered, and an error per field: re-rendered as entered on an error."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


async def read_pairs(request: Request) -> Pairs:
    """The fields of a urlencoded body, in order. Over MAX_FORM, `FormTooLarge` as soon as
    that is known (a declared length, or the chunks as they arrive): a chunked body is never
    held whole before its size is checked, so a client cannot grow the server with one, even
    before it has logged in."""
    try:
        body = await asgi.read_body(asgi.headers(request.scope), request.receive, MAX_FORM)
    except asgi.BodyTooLarge:
        raise FormTooLarge from None
    return parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
