"""start_autossl_check_for_all_users, start_autossl_check_for_one_user,
get_autossl_problems_for_user, get_autossl_problems_for_domain: AutoSSL
(gatehouse.domain.autossl; docs/ssl.md#autossl).

Names, parameters and answers follow cPanel's WHM API 1 reference: a check "in the
background" answers `{pid}` — here the id of the gatehouse process that took the request; the
check itself runs in whichever `gatehouse serve` process (of any node on the store) next holds
the AutoSSL lease, at once when it is this one. Problems are `problems_by_domain: [{domain,
log, problem, time}]`, `log` being the start of the check that found the problem (cPanel: the
name of that run's log folder) and `time` when it was found.

AutoSSL is root's in WHM (Manage AutoSSL): these functions need `all`.
"""

from __future__ import annotations

import os
from typing import Any

from gatehouse import acls
from gatehouse.api.call import Call
from gatehouse.api.registry import Param
from gatehouse.domain import access, autossl, certificates
from gatehouse.whm.registry import REGISTRY

ROOT_ONLY = (acls.ALL,)


def _problems(items: list[autossl.Problem]) -> dict[str, Any]:
    return {
        "problems_by_domain": [
            {
                "domain": p.domain,
                "log": autossl.iso_time(p.run_time),
                "problem": p.problem,
                "time": autossl.iso_time(p.time),
            }
            for p in items
        ]
    }


def _start(call: Call, account: Any) -> dict[str, Any]:
    autossl.request_check(call, call.gatehouse.config, account, call.principal.user.username)
    call.after_commit.append(call.gatehouse.autossl_wake.set)
    return {"pid": os.getpid()}


@REGISTRY.function(
    "start_autossl_check_for_all_users",
    "Start an AutoSSL check of every account in the background: each domain without a valid "
    "certificate (or with one about to expire) gets one from the ACME CA.",
    privileges=ROOT_ONLY,
)
def start_autossl_check_for_all_users(call: Call) -> dict[str, Any]:
    return _start(call, None)


@REGISTRY.function(
    "start_autossl_check_for_one_user",
    "Start an AutoSSL check of one account's domains in the background.",
    params=(Param("username", "The cPanel account.", required=True),),
    privileges=ROOT_ONLY,
)
def start_autossl_check_for_one_user(call: Call) -> dict[str, Any]:
    account = access.require_account(
        call.conn, access.actor_of(call.principal), call.require("username")
    )
    return _start(call, account)


@REGISTRY.function(
    "get_autossl_problems_for_user",
    "The problems AutoSSL's last check of each of an account's domains found.",
    params=(Param("username", "The cPanel account.", required=True),),
    privileges=ROOT_ONLY,
    readonly=True,
)
def get_autossl_problems_for_user(call: Call) -> dict[str, Any]:
    account = access.require_account(
        call.conn, access.actor_of(call.principal), call.require("username")
    )
    return _problems(autossl.problems(call.conn, user_id=account.id))


@REGISTRY.function(
    "get_autossl_problems_for_domain",
    "The problem AutoSSL's last check of a domain found, if any.",
    params=(Param("domain", "The domain (an account's main domain or subdomain).", required=True),),
    privileges=ROOT_ONLY,
    readonly=True,
)
def get_autossl_problems_for_domain(call: Call) -> dict[str, Any]:
    domain, _account = certificates.reach_domain(
        call.conn, access.actor_of(call.principal), call.require("domain")
    )
    return _problems(autossl.problems(call.conn, domain=domain))
