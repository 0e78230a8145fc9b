"""Request parameters as cPanel's form parser sees them (compatibility.md §Requests 2–3).

Parameters come from the query string and from the body, whatever the body's Content-Type
says. A list parameter merges `key` (each repetition in order), then `key-N` by numeric N.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from urllib.parse import parse_qsl

from gatehouse.errors import InvalidParameter

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


class Params:
    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self._values: dict[str, list[str]] = {}
        self._index: dict[str, list[tuple[int, str]]] | None = None  # base → numbered keys
        for key, value in pairs:
            self._values.setdefault(key, []).append(value)

    @classmethod
    def from_request(cls, query: bytes, body: bytes, most: int = MAX_PARAMETERS) -> Params:
        """The parameters of a request: at most `most` of them in all."""
        pairs = _parse_raw(query, most) if query else []
        if body:
            pairs.extend(_parse_raw(body, most))
            if len(pairs) > most:
                raise InvalidParameter(too_many(most))
        return cls(pairs)

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
                if dash and number.isascii() and number.isdigit():
                    index.setdefault(base, []).append((int(number), key))
            self._index = index
        return self._index.get(name, [])
