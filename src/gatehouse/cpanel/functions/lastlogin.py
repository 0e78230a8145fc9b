"""UAPI `LastLogin::get_last_or_current_logged_in_ip`, as cPanel's Cpanel/API/LastLogin.pm
answers it: `result.data` is Cpanel::LastLogin::Tiny::lastlogin()'s scalar — the address the
account last logged in from, or the one before when the last is the caller's own, else the
caller's own; a string, `""` when there is none at all (`gatehouse uapi` on an account that
never logged in). The call records the caller's address, as cPanel's does
(`gatehouse.domain.last_login`).

It takes no arguments (others are ignored, as LastLogin.pm ignores them). cPanel has no API 2
form (Cpanel/LastLogin.pm defines no api2 function; cpanel_api2.dist.json lists none) and
its API 1 `LastLogin::lastlogin` is not offered, as API 1 is not.

`readonly`: what it writes is the account's login address, which no token check reads.
"""

from __future__ import annotations

from gatehouse.api.call import Call
from gatehouse.cpanel.registry import uapi
from gatehouse.domain import last_login

MODULE = "LastLogin"


@uapi(MODULE, "get_last_or_current_logged_in_ip", "The address the account last logged in "
      "from (else the caller's own); records the caller's.", readonly=True)  # fmt: skip
def get_last_or_current_logged_in_ip(call: Call) -> str:
    return last_login.lastlogin(call.conn, call.principal.user.id, call.peer)
