"""The Zone Editor's record form and records table: a zone as `DNS::parse_zone` lists it,
read for a person, and a posted record as the `add` / `edit` item of `DNS::mass_edit_zone`.

A record's value is one text field: a TXT value is the text itself (cut into 255-byte
character-strings as cPanel cuts it); any other type's fields are separated by spaces
(`10 mail.example.com.` for an MX)."""

from __future__ import annotations

import base64
import json
from typing import Any

from gatehouse.api.zone_wire import split_txt
from gatehouse.dns.changes import ACCOUNT_TYPES
from gatehouse.numerals import digits
from gatehouse.web.pages.form import Form, Pairs


def _text(b64: str) -> str:
    return base64.b64decode(b64).decode("utf-8", "replace")


def records(items: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], str]:
    """The zone's records as rows, and its serial (from the SOA record) for the next edit."""
    rows: list[dict[str, Any]] = []
    serial = ""
    for item in items:
        if item["type"] != "record":
            continue
        data = [_text(d) for d in item["data_b64"]]
        record_type = item["record_type"]
        if record_type == "SOA" and len(data) > 2:
            serial = data[2]
        rows.append(
            {
                "line": item["line_index"],
                "name": _text(item["dname_b64"]),
                "ttl": item["ttl"],
                "type": record_type,
                "value": "".join(data) if record_type == "TXT" else " ".join(data),
                "editable": record_type in ACCOUNT_TYPES,
            }
        )
    return rows, serial


def posted(pairs: Pairs) -> Form:
    values = dict(pairs)
    return Form(
        {
            key: values.get(key, "").strip()
            for key in ("zone", "serial", "line", "name", "ttl", "type", "value")
        }
    )


def item(form: Form, *, edit: bool) -> str:
    """The mass-edit item (JSON) the form stands for; the API checks every field."""
    values = form.values
    record_type = values["type"].upper()
    value = values["value"]
    data = split_txt(value) if record_type == "TXT" else value.split()
    ttl: Any = int(values["ttl"]) if digits(values["ttl"]) else values["ttl"]
    out: dict[str, Any] = {
        "dname": values["name"],
        "ttl": ttl,
        "record_type": record_type,
        "data": data,
    }
    if edit:
        out["line_index"] = int(values["line"]) if digits(values["line"]) else -1
    return json.dumps(out)


TYPES = ACCOUNT_TYPES
