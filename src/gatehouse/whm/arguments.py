"""How cPanel's WHM API 1 modules refuse their arguments (Whostmgr::API::1::Utils), for the
functions whose refusals clients see in those words rather than the dispatcher's
`Missing parameter: NAME`."""

from __future__ import annotations

from collections.abc import Callable

from gatehouse.api.call import Call
from gatehouse.errors import InvalidParameter


def empty(name: str) -> InvalidParameter:
    # Whostmgr::API::1::Utils::get_length_required_argument (Cpanel::Exception::Empty).
    return InvalidParameter(f"The value of “{name}” may not be empty.")


def missing_in(module: str, function: str) -> Callable[[str], InvalidParameter]:
    """Whostmgr::API::1::Utils::get_required_argument's refusal. Its MissingParameter is a
    Cpanel::Exception::Caller: the message names the nearest caller on the stack that is not
    an argument getter nor private — the API function itself (`module` as in
    Whostmgr::API::1::MODULE)."""

    def missing(name: str) -> InvalidParameter:
        return InvalidParameter(
            f"Provide the “{name}” parameter for the “Whostmgr::API::1::{module}::{function}” "
            "function."
        )

    return missing


def length_required(call: Call, module: str, name: str) -> str:
    """get_length_required_argument: absent and empty are refused, each in its own words."""
    value = call.params.get(name)
    if value is None:
        raise missing_in(module, call.function)(name)
    if value == "":
        raise empty(name)
    return value
