"""UAPI `SSL::start_autossl_check`, `SSL::get_autossl_problems`,
`SSL::is_autossl_check_in_progress`: AutoSSL for the account's own domains
(gatehouse.domain.autossl; docs/ssl.md#autossl).

Shapes as cPanel's UAPI reference shows them: start_autossl_check answers `data: null`;
get_autossl_problems a list of `{domain, problem, time}`; is_autossl_check_in_progress 1 or 0.
"""

from __future__ import annotations

from typing import Any

from gatehouse.api.call import Call
from gatehouse.cpanel.registry import uapi
from gatehouse.domain import autossl

MODULE = "SSL"


@uapi(
    MODULE,
    "start_autossl_check",
    "Start an AutoSSL check of the account's domains (it runs in the background).",
)
def start_autossl_check(call: Call) -> None:
    account = call.principal.user
    autossl.request_check(call, call.gatehouse.config, account, account.username)
    call.after_commit.append(call.gatehouse.autossl_wake.set)
    return None


@uapi(
    MODULE,
    "get_autossl_problems",
    "The account's domains that AutoSSL's last check could not secure, and why.",
    readonly=True,
)
def get_autossl_problems(call: Call) -> list[dict[str, Any]]:
    return [
        {"domain": p.domain, "problem": p.problem, "time": autossl.iso_time(p.time)}
        for p in autossl.problems(call.conn, user_id=call.principal.user.id)
    ]


@uapi(
    MODULE,
    "is_autossl_check_in_progress",
    "1 while an AutoSSL check of the account is asked for or running, else 0.",
    readonly=True,
)
def is_autossl_check_in_progress(call: Call) -> int:
    return int(autossl.in_progress(call.conn, call.principal.user.id, call.now))
