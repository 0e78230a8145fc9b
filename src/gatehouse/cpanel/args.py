"""UAPI / API 2 argument access with cPanel's own refusals (Cpanel::Args), for handlers:

name = args.length_required(call, "name")   # missing → "Provide the “name” argument."
                                            # empty   → "The “name” argument cannot be empty."
flag = args.boolean(call, "readonly")       # 0/1 only
match = args.regex_filter(call)             # API 2's `regex`: None, or a case-insensitive filter
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from gatehouse.api.call import Call
from gatehouse.errors import InvalidParameter


def missing(name: str) -> InvalidParameter:
    return InvalidParameter(f"Provide the “{name}” argument.")


def required(call: Call, name: str) -> str:
    """Given (possibly empty)."""
    value = call.params.get(name)
    if value is None:
        raise missing(name)
    return value


def empty(name: str) -> InvalidParameter:
    return InvalidParameter(f"The “{name}” argument cannot be empty.")


def length_required(call: Call, name: str) -> str:
    """Given and not empty."""
    value = required(call, name)
    if value == "":
        raise empty(name)
    return value


def boolean(call: Call, name: str, default: bool = False) -> bool:
    """A 0/1 argument (cPanel's APIs take no `true`/`false`)."""
    return call.params.flag(name, default, "argument")


def regex_filter(call: Call, refused_data: Any = None) -> Callable[[str], bool] | None:
    """API 2's `regex` argument of its domain lists (SubDomain::listsubdomains, Park's lists):
    a filter matching anywhere, ignoring case (cPanel's `/$regex/i`), or None without one. An
    invalid pattern is refused in Cpanel/SubDomain.pm's words (the error is Python's, not
    Perl's); `refused_data` is the refusal's `data`."""
    pattern = call.params.get("regex")
    if not pattern:
        return None
    try:
        compiled = re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise InvalidParameter(
            "The “regex” parameter must be a valid Perl regular expression. The system "
            f"returned the following error: “{exc}”.",
            data=refused_data,
        ) from None
    return lambda name: compiled.search(name) is not None
