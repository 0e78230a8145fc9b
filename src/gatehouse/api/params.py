"""Request parameters as cPanel's form parser sees them (compatibility.md §Requests 2–3).

Parameters come from the query string and from the body, whatever the body's Content-Type
says — except `application/json`, exactly that (Cpanel::JSONAPI::is_json_request), whose body
is one JSON object of arguments (Cpanel::JSONAPI::parsejson), as cpsrvd reads it for WHM API 1
and UAPI. A list parameter merges `key` (each repetition in order), then `key-N` by numeric N.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import parse_qsl

from gatehouse.errors import InvalidParameter
from gatehouse.numerals import digits

MAX_PARAMETERS = 2000


def _parse_form(text: str, most: int = MAX_PARAMETERS) -> list[tuple[str, str]]:
    """parse_qsl's result; plain `k=v&k=v` (nothing to unescape) is split directly."""
    if "%" in text or "+" in text:
        return parse_qsl(text, keep_blank_values=True, max_num_fields=most)
    parts = text.split("&")
    if len(parts) > most:
        raise ValueError("too many fields")
    out = []
    for part in parts:
        if part:
            key, _sep, value = part.partition("=")
            out.append((key, value))
    return out


def too_many(most: int = MAX_PARAMETERS) -> str:
    return f"The request has too many parameters: at most {most} are accepted."


TOO_MANY = too_many()


def _parse_raw(raw: bytes, most: int) -> list[tuple[str, str]]:
    try:
        return _parse_form(raw.decode("utf-8", "replace"), most)
    except ValueError as exc:
        raise InvalidParameter(too_many(most)) from exc


JSON_CONTENT_TYPE = b"application/json"  # compared whole, as cPanel's `eq` does
# Cpanel/API.pm _safety_check_args: "[_1] does not expect nested data structures.", after the
# function's name.
NESTED = "does not expect nested data structures."


def _perl_text(value: int | float) -> str:
    """A JSON number as Perl prints it once decoded: integers as they are, `1.0` as `1`."""
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)


def _parse_json(raw: bytes, most: int) -> tuple[list[tuple[str, str]], list[str]]:
    """The arguments of a JSON body (Cpanel::JSONAPI::parsejson): one object; `file-` keys
    dropped; text and numbers are arguments, null none; the names of nested values (lists,
    objects, and true/false, which JSON::XS decodes to objects) are returned apart, for the
    face to refuse as cPanel does (`has_nested_structures`)."""
    try:
        decoded: Any = json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidParameter(f"The request body is not valid JSON: {exc}.") from None
    if not isinstance(decoded, dict):
        raise InvalidParameter("The JSON request body must be an object of arguments.")
    if len(decoded) > most:
        raise InvalidParameter(too_many(most))
    pairs: list[tuple[str, str]] = []
    nested: list[str] = []
    for key, value in decoded.items():
        if key.startswith("file-") or value is None:
            continue
        if isinstance(value, bool | list | dict):
            nested.append(key)
        elif isinstance(value, int | float):
            pairs.append((key, _perl_text(value)))
        else:
            pairs.append((key, str(value)))
    return pairs, nested


class Params:
    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self._values: dict[str, list[str]] = {}
        self._index: dict[str, list[tuple[int, str]]] | None = None  # base → numbered keys
        # Arguments a JSON body gave as nested structures (not taken as arguments): a face
        # refuses the call, as cPanel does unless the function expects them.
        self.nested: list[str] = []
        for key, value in pairs:
            self._values.setdefault(key, []).append(value)

    @classmethod
    def from_request(
        cls, query: bytes, body: bytes, most: int = MAX_PARAMETERS, *, json_body: bool = False
    ) -> Params:
        """The parameters of a request: at most `most` of them in all. `json_body`: the body
        is a JSON object of arguments (its Content-Type is exactly `application/json`)."""
        pairs = _parse_raw(query, most) if query else []
        nested: list[str] = []
        if json_body:
            found, nested = _parse_json(body, most)
            pairs.extend(found)
        elif body:
            pairs.extend(_parse_raw(body, most))
        if len(pairs) > most:
            raise InvalidParameter(too_many(most))
        params = cls(pairs)
        params.nested = nested
        return params

    @classmethod
    def from_args(cls, args: Iterable[str]) -> Params:
        """`key=value` words, as cPanel's `whmapi1` command line takes them."""
        pairs = []
        for arg in args:
            key, sep, value = arg.partition("=")
            if not sep:
                raise InvalidParameter(f"The argument “{arg}” is not in the form key=value.")
            pairs.append((key, value))
        return cls(pairs)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (name in self._values or bool(self._numbered(name)))

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def pairs(self) -> list[tuple[str, str]]:
        """Every (key, value) given, repetitions included."""
        return [(key, value) for key, values in self._values.items() for value in values]

    def get(self, name: str) -> str | None:
        """The first value of a single-valued parameter (the plain key, else `key-N`)."""
        plain = self._values.get(name)
        if plain:
            return plain[0]
        values = self.getlist(name)
        return values[0] if values else None

    def flag(self, name: str, default: bool, noun: str) -> bool:
        """A 0/1 parameter: cPanel's APIs take booleans as integers, never `true`/`false`.
        `noun` is the API's word in its refusal ("parameter" in WHM API 1, "argument" in
        UAPI and API 2)."""
        value = self.get(name)
        if value is None or value == "":
            return default
        if value in ("1", "0"):
            return value == "1"
        raise InvalidParameter(f"The “{name}” {noun} must be 1 or 0, not “{value}”.")

    def getlist(self, name: str) -> list[str]:
        out = list(self._values.get(name, ()))
        for _n, key in sorted(self._numbered(name)):
            out.extend(self._values[key])
        return out

    def paired(self, key: str, value: str) -> list[tuple[str, str]]:
        """`key` and `value` arguments in pairs (`domain-1`, `record-1`, …), as cPanel's
        map_length_required_multiple_to_key_values reads them (Cpanel::Args and
        Whostmgr::API::1::Utils alike), refusing in its words."""
        found: dict[str, list[str]] = {}
        for name in (key, value):
            values = self.getlist(name)
            if not values:
                raise InvalidParameter(f"Provide at least one “{name}” argument.")
            if any(v == "" for v in values):
                raise InvalidParameter(f"The “{name}” arguments cannot be empty.")
            found[name] = values
        if len(found[key]) != len(found[value]):
            raise InvalidParameter(f"Provide the same number of “{key}” and “{value}” arguments.")
        return list(zip(found[key], found[value], strict=True))

    def items_with_prefix(self, prefix: str) -> list[tuple[str, str]]:
        return [(k[len(prefix) :], v[0]) for k, v in self._values.items() if k.startswith(prefix)]

    def _numbered(self, name: str) -> list[tuple[int, str]]:
        if self._index is None:
            index: dict[str, list[tuple[int, str]]] = {}
            for key in self._values:
                base, dash, number = key.rpartition("-")
                if dash and digits(number):
                    index.setdefault(base, []).append((int(number), key))
            self._index = index
        return self._index.get(name, [])
