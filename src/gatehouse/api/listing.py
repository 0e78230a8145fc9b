"""WHM API 1's list options: `api.filter.*`, `api.sort.*`, `api.chunk.*` and `api.columns.*`
("WHM API 1 - Filter, Sort and Paginate Output"), applied to a function's records after it ran.

The records are the list in `data` when `data` holds exactly one list of records (listaccts'
`acct`, listpkgs' `pkg`, listsuspended's `account`, …), or `data` itself when it is such a list.
Order: filter → sort → chunk → columns. Clauses are lettered (`api.filter.a.field`,
`api.filter.b.…`); several filters must all match; sort clauses apply in letter order.

The answer says what was done in `metadata.filter` (`filtered`: the records before filtering)
and `metadata.chunk` (`start` 1-based, `size`, `current` page, `chunks` pages, `records` after
filtering), the keys cPanel's own client (cpanel-node-api) reads; `metadata.sort` lists the
sorts applied (`field`, `method`, `reverse`), an addition no recorded answer shows. Options on
an answer without such records are ignored, as cPanel ignores them. A bad option is refused,
nothing changed.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable
from typing import Any

from gatehouse.api.params import Params
from gatehouse.errors import InvalidParameter
from gatehouse.numerals import digits

PREFIXES = ("api.filter.", "api.sort.", "api.chunk.", "api.columns.")
_CLAUSE = re.compile(r"^api\.(filter|sort)\.([a-z]+)\.(field|arg0|type|method|reverse)$")
_COLUMN = re.compile(r"^api\.columns\.([a-z]+)$")
UNLIMITED = math.inf


def wanted(params: Params) -> bool:
    """Whether the call asks for any list option (one pass over the parameter names)."""
    return any(key.startswith(PREFIXES) for key in params)


def check(params: Params) -> None:
    """Refuse bad options before the function runs, so a refusal changes nothing."""
    for name in ("api.filter.enable", "api.sort.enable", "api.chunk.enable", "api.columns.enable"):
        params.flag(name, False, "parameter")
    _filters(params)
    _sorts(params)
    _positive(params, "api.chunk.size", 20)
    _positive(params, "api.chunk.start", 1)


def exact_filter(params: Params, field: str) -> str | None:
    """The value an enabled filter wants `field` to equal exactly (`type` `eq`), if one does:
    a function may then leave out every other record before building them, telling the
    count it started from in its own `metadata.filter` (which wins over the one computed
    here). Options are checked before the function runs."""
    if not params.flag("api.filter.enable", False, "parameter"):
        return None
    for clause in _clauses(params, "filter").values():
        if clause.get("field") == field and clause.get("type") == "eq":
            return clause.get("arg0", "")
    return None


def apply(data: Any, params: Params) -> tuple[Any, dict[str, Any]]:
    """`data` with the options applied, and what goes into `metadata`."""
    holder, key, records = _records(data)
    if records is None:
        return data, {}
    metadata: dict[str, Any] = {}
    if params.flag("api.filter.enable", False, "parameter"):
        before = len(records)
        for test in _filters(params):
            records = [r for r in records if test(r)]
        metadata["filter"] = {"filtered": before}
    if params.flag("api.sort.enable", False, "parameter"):
        for sort_key, reverse in reversed(_sorts(params)):
            records = sorted(records, key=sort_key, reverse=reverse)
        metadata["sort"] = _sort_report(params)
    if params.flag("api.chunk.enable", False, "parameter"):
        records, metadata["chunk"] = _chunk(records, params)
    if params.flag("api.columns.enable", False, "parameter"):
        columns = [v for k, v in sorted(_lettered(params, _COLUMN).items())]
        records = [{c: r[c] for c in columns if c in r} for r in records]
    if holder is None:
        return records, metadata
    return {**holder, key: records}, metadata


def _records(data: Any) -> tuple[dict[str, Any] | None, str, list[dict[str, Any]] | None]:
    if isinstance(data, list) and all(isinstance(r, dict) for r in data):
        return None, "", data
    if isinstance(data, dict):
        lists = [k for k, v in data.items() if isinstance(v, list)]
        if len(lists) == 1 and all(isinstance(r, dict) for r in data[lists[0]]):
            return data, lists[0], data[lists[0]]
    return None, "", None


def _lettered(params: Params, pattern: re.Pattern[str]) -> dict[str, str]:
    out = {}
    for key in params:
        match = pattern.match(key)
        if match and match.group(1) not in ("enable", "verbose"):
            out[match.group(1)] = params.get(key) or ""
    return out


def _clauses(params: Params, kind: str) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for key in params:
        match = _CLAUSE.match(key)
        if match and match.group(1) == kind:
            out.setdefault(match.group(2), {})[match.group(3)] = params.get(key) or ""
    return dict(sorted(out.items()))


def _number(value: Any, *, unlimited: float | None = None) -> float | None:
    text = str(value).strip()
    if unlimited is not None and text.lower() in ("unlimited", ""):
        return unlimited
    try:
        return float(text.rstrip("M")) if text.endswith("M") else float(text)
    except ValueError:
        return None


_STRING_TESTS: dict[str, Callable[[str, str], bool]] = {
    "contains": lambda value, arg: arg.lower() in value.lower(),
    "begins": lambda value, arg: value.lower().startswith(arg.lower()),
    "eq": lambda value, arg: value == arg,
}
_NUMBER_TESTS: dict[str, Callable[[float, float], bool]] = {
    "==": lambda value, arg: value == arg,
    "lt": lambda value, arg: value < arg,
    "lt_equal": lambda value, arg: value <= arg,
    "gt": lambda value, arg: value > arg,
    "gt_equal": lambda value, arg: value >= arg,
    "lt_handle_unlimited": lambda value, arg: value < arg,
    "gt_handle_unlimited": lambda value, arg: value > arg,
}


def _filters(params: Params) -> list[Callable[[dict[str, Any]], bool]]:
    tests = []
    for letter, clause in _clauses(params, "filter").items():
        field = clause.get("field", "")
        arg = clause.get("arg0", "")
        kind = clause.get("type") or "contains"
        if not field:
            raise InvalidParameter(f"The filter “{letter}” needs a “field”.")
        tests.append(_filter(field, arg, kind, letter))
    return tests


def _filter(field: str, arg: str, kind: str, letter: str) -> Callable[[dict[str, Any]], bool]:
    def values(record: dict[str, Any]) -> list[Any]:
        if field == "*":
            return list(record.values())
        return [record[field]] if field in record else []

    if kind in _STRING_TESTS:
        string_test = _STRING_TESTS[kind]
        return lambda r: any(string_test(str(v), arg) for v in values(r))
    if kind in _NUMBER_TESTS:
        unlimited = UNLIMITED if kind.endswith("_handle_unlimited") else None
        limit = _number(arg, unlimited=unlimited)
        if limit is None:
            raise InvalidParameter(f"The filter “{letter}” needs a number in “arg0”, not “{arg}”.")
        number_test = _NUMBER_TESTS[kind]

        def test(record: dict[str, Any]) -> bool:
            for v in values(record):
                n = _number(v, unlimited=unlimited)
                if n is not None and number_test(n, limit):
                    return True
            return False

        return test
    known = ", ".join(sorted([*_STRING_TESTS, *_NUMBER_TESTS]))
    raise InvalidParameter(f"The filter type “{kind}” is not one of: {known}.")


def _sorts(params: Params) -> list[tuple[Callable[[dict[str, Any]], Any], bool]]:
    out = []
    for letter, clause in _clauses(params, "sort").items():
        field = clause.get("field", "")
        if not field:
            raise InvalidParameter(f"The sort “{letter}” needs a “field”.")
        method = clause.get("method") or "lexicographic"
        reverse = clause.get("reverse", "0")
        if reverse not in ("0", "1", ""):
            raise InvalidParameter(f"The sort “{letter}”'s “reverse” must be 1 or 0.")
        out.append((_sort_key(field, method, letter), reverse == "1"))
    return out


def _sort_report(params: Params) -> list[dict[str, Any]]:
    """`metadata.sort`: the sorts applied, in the order they rank (gatehouse's addition)."""
    return [
        {
            "field": clause["field"],
            "method": clause.get("method") or "lexicographic",
            "reverse": int(clause.get("reverse") == "1"),
        }
        for clause in _clauses(params, "sort").values()
    ]


def _sort_key(field: str, method: str, letter: str) -> Callable[[dict[str, Any]], Any]:
    if method == "lexicographic":
        return lambda r: str(r.get(field, ""))
    if method in ("numeric", "numeric_zero_as_max"):
        zero = math.inf if method == "numeric_zero_as_max" else 0.0

        def numeric(r: dict[str, Any]) -> float:
            n = _number(r.get(field, ""), unlimited=math.inf)
            if n is None:
                return -math.inf
            return zero if n == 0 else n

        return numeric
    if method == "ipv4":

        def ip(r: dict[str, Any]) -> int:
            try:
                return int(ipaddress.IPv4Address(str(r.get(field, ""))))
            except ValueError:
                return -1

        return ip
    raise InvalidParameter(
        f"The sort method “{method}” (sort “{letter}”) is not one of: lexicographic, numeric, "
        "numeric_zero_as_max, ipv4."
    )


def _positive(params: Params, name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if not digits(raw) or int(raw) < 1 or len(raw) > 9:
        raise InvalidParameter(f"The “{name}” parameter must be a positive whole number.")
    return int(raw)


def _chunk(
    records: list[dict[str, Any]], params: Params
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    size = _positive(params, "api.chunk.size", 20)
    start = _positive(params, "api.chunk.start", 1)
    total = len(records)
    page = records[start - 1 : start - 1 + size]
    return page, {
        "chunks": math.ceil(total / size) if total else 0,
        "current": (start - 1) // size + 1,
        "records": total,
        "size": size,
        "start": start,
    }
