"""UAPI / API 2 argument access with cPanel's own refusals (Cpanel::Args), for handlers:

name = args.length_required(call, "name")   # missing → "Provide the “name” argument."
                                            # empty   → "The “name” argument cannot be empty."
flag = args.boolean(call, "readonly")       # 0/1 only
"""

from __future__ import annotations

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
