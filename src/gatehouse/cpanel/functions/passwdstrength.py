"""UAPI `PasswdStrength::get_required_strength` (Cpanel/API/PasswdStrength.pm): an
application's minimum password strength, what a client checks a new password against."""

from __future__ import annotations

from typing import Any

from gatehouse.api.call import Call
from gatehouse.cpanel.registry import uapi
from gatehouse.domain import password_policy

MODULE = "PasswdStrength"


@uapi(MODULE, "get_required_strength", "An application's minimum password strength (`app`: "
      "passwd, virtual, …; none: 0).", readonly=True)  # fmt: skip
def get_required_strength(call: Call) -> dict[str, Any]:
    return {"strength": password_policy.required_strength(call.conn, call.params.get("app"))}
