"""get_password_strength (Whostmgr/API/1/Accounts.pm), getminimumpasswordstrengths and
setminimumpasswordstrengths (Whostmgr/API/1/Security.pm over Whostmgr/Security.pm)."""

from __future__ import annotations

from typing import Any

from gatehouse import acls
from gatehouse.api.call import Call
from gatehouse.api.registry import Param, Reply
from gatehouse.domain import audit, password_policy
from gatehouse.errors import InvalidParameter
from gatehouse.password_strength import password_strength
from gatehouse.whm.registry import REGISTRY

# The server's password policy is root's, as WHM's Password Strength Configuration page is.
ROOT_ONLY = (acls.ALL,)
_SETTINGS = ", ".join(password_policy.SETTING_KEYS)


def _describe(name: str) -> str:
    if name == "default":
        return "The minimum strength for all services."
    return f"The minimum strength for {password_policy.APPLICATIONS[name]}."


@REGISTRY.function(
    "get_password_strength",
    "A password's strength on cPanel's meter, 0 to 100.",
    params=(
        Param(
            "password", "The password to rate.", required=True, secret=True, handler_refuses=True
        ),
    ),
    readonly=True,
)
def get_password_strength(call: Call) -> dict[str, Any]:
    password = call.params.get("password")
    if password is None:
        # Accounts.pm: `!exists $args->{'password'}`; an empty one is rated (0).
        raise InvalidParameter("password parameter was not passed")
    return {"strength": password_strength(password)}


@REGISTRY.function(
    "getminimumpasswordstrengths",
    "The minimum password strengths: the default and each application's.",
    params=(Param("name", f"Only this setting: one of {_SETTINGS}."),),
    privileges=ROOT_ONLY,
    readonly=True,
)
def getminimumpasswordstrengths(call: Call) -> dict[str, int]:
    return password_policy.minimum_strengths(call.conn, call.params.get("name"))


@REGISTRY.function(
    "setminimumpasswordstrengths",
    "Set minimum password strengths (0–100; `default` rounded to a multiple of 5; an empty "
    "application value follows the default again).",
    params=tuple(
        Param(name, _describe(name), type="integer") for name in password_policy.SETTING_KEYS
    ),
    privileges=ROOT_ONLY,
)
def setminimumpasswordstrengths(call: Call) -> Reply:
    # The function's own arguments: what WHM's dispatcher leaves after taking its `api.*`.
    given = {k: call.params.get(k) or "" for k in call.params if not k.startswith("api.")}
    changes = password_policy.set_minimum_strengths(call.conn, given)
    for key, value in changes.items():
        call.audit(audit.TWEAK_SET, detail=f"{key}={'' if value is None else value}")
    return Reply(has_data=False)
