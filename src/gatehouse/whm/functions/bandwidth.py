"""showbw, limitbw, editquota, and the gatehouse extension gatehouse_report_bandwidth that
feeds showbw (gatehouse.domain.bandwidth, gatehouse.domain.account_limits).

WHM API 1 shapes follow cPanel's WHM API 1 reference (Bandwidth-showbw, Bandwidth-limitbw,
Accounts-editquota); showbw's WHM API 0 form (a call without `api.version`) follows the answer
lumberg recorded from a real server (/tmp/api0-spec.md §2.21): `month`/`year` strings —
docs/api.md says where the two differ. Limits are in MB on the way in and bytes in showbw, as
in cPanel; 0 is unlimited.

Each showbw account entry is Whostmgr/Bandwidth.pm `_showbw`'s, which both APIs answer:
`reseller` the string "1" for a reseller and the number 0 otherwise (`$RESref->{$user} ? '1' :
0`, as recorded); `limit` the account's BWLIMIT through Whostmgr::Math::unsci — the string of
bytes read from /etc/userbwlimits ("1048576000", as recorded); `bwlimited` 1 when the account
is held to its limit — this month, as limitbw's `bwlimitenable` (used ≥ limit), another month
when it used more than the limit.

Choice: an unlimited `limit` is the number 0, what unsci answers for a BWLIMIT of 0 (`return 0
if !$n`). cPanel writes "unlimited" there for most unlimited accounts (CpUser::Defaults,
setbwlimit) and then answers "unlimited"; WHMCS and Blesta divide `limit` by 1024², which a
word breaks and 0 reads as unlimited.

Privileges (cPanel's WHM API 0 table): showbw `show-bandwidth`, limitbw `limit-bandwidth`,
editquota `quota`; gatehouse_report_bandwidth is root's (`all`). A reseller sees and limits
the accounts it owns (access MANAGE for the limits, as modifyacct).
"""

from __future__ import annotations

from typing import Any

from gatehouse import acls
from gatehouse.api.api0 import Answer, bare
from gatehouse.api.call import Call
from gatehouse.api.locale_format import format_bytes
from gatehouse.api.registry import Param, Reply
from gatehouse.domain import access, account_limits, accounts, bandwidth, ips, packages
from gatehouse.domain.users import User
from gatehouse.errors import InvalidParameter
from gatehouse.whm import api0
from gatehouse.whm.functions.accounts import SEARCH_TYPES, compile_search
from gatehouse.whm.registry import REGISTRY

MB = 1024 * 1024


def _limit_bytes(account: User) -> int:
    """The account's BWLIMIT in bytes; 0 is unlimited (cPanel's convention for `limit`)."""
    return packages.limit_bytes(account.limits or {}, "BWLIMIT")


# -- showbw ---------------------------------------------------------------------------------


def _field(account: User, searchtype: str, server_ip: str) -> str:
    if searchtype == "domain":
        return account.domain or ""
    if searchtype == "owner":
        return account.owner
    if searchtype == "user":
        return account.username
    if searchtype == "ip":
        return account.ip or server_ip
    return account.plan or ""


def _accounts(call: Call) -> tuple[str, list[User]]:
    """(whose accounts these are, the accounts the call asks for)."""
    actor = access.actor_of(call.principal)
    search = call.params.get("search") or ""
    searchtype = (call.params.get("searchtype") or "").strip()
    if searchtype and searchtype not in SEARCH_TYPES:
        raise InvalidParameter("Unknown search type.")
    if search and not searchtype:
        # As listaccts (a choice there too): cPanel would ignore the search and list every
        # account; a billing system acting on that list would bill the wrong accounts.
        raise InvalidParameter("The “searchtype” parameter is required with “search”.")
    pattern = compile_search(search) if search else None
    showres = (call.params.get("showres") or "").strip()
    listed = [a for a in accounts.visible(call.conn, actor) if a.has_cpanel_account]
    if showres:
        listed = [a for a in listed if a.owner == showres]
    if pattern is not None:
        server_ip = ips.main_ip(call.gatehouse.config)
        listed = [a for a in listed if pattern.search(_field(a, searchtype, server_ip))]
    return showres or call.principal.user.username, sorted(listed, key=lambda a: a.username)


def _bwlimited(total: int, limit: int, *, this_month: bool) -> int:
    """_showbw's `bwlimited`: this month, whether the account is held to its limit now
    (cPanel asks Apache's bwlimited flag, which setbwlimit raises once used ≥ limit); another
    month, whether it used more than its limit (`totalbytes > limit`)."""
    if limit == 0:
        return 0
    return int(total >= limit if this_month else total > limit)


def _entry(used: bandwidth.AccountUsage, *, this_month: bool) -> dict[str, Any]:
    account = used.account
    limit = _limit_bytes(account)
    return {
        "bwlimited": _bwlimited(used.total, limit, this_month=this_month),
        "bwusage": [{"deleted": 0, "domain": d.domain, "usage": d.bytes} for d in used.domains],
        "deleted": 0,
        "limit": str(limit) if limit else 0,
        "maindomain": account.domain,
        "owner": account.owner,
        "reseller": "1" if account.is_reseller else 0,
        "totalbytes": used.total,
        "user": account.username,
    }


def _showbw0(answer: Answer) -> list[dict[str, Any]]:
    # The recorded API 0 answer: month and year are strings (the entries are as API 1's).
    data = answer.data or {}
    return [
        {
            "acct": data.get("acct", []),
            "month": str(data.get("month")),
            "reseller": data.get("reseller"),
            "totalused": data.get("totalused", 0),
            "year": str(data.get("year")),
        }
    ]


@REGISTRY.function(
    "showbw",
    "Bandwidth used by the caller's accounts in a month (bytes), per account and domain, "
    "with each account's limit.",
    params=(
        Param("month", "1-12 (default: this month, UTC).", type="integer"),
        Param("year", "The year (default: this year, UTC).", type="integer"),
        Param("search", "A case-insensitive regular expression matched against `searchtype`."),
        Param("searchtype", "domain, owner, user, ip or package."),
        Param("showres", "Only the accounts this reseller owns."),
    ),
    privileges=("show-bandwidth",),
    api0=bare("bandwidth", _showbw0),
    readonly=True,
)
def showbw(call: Call) -> dict[str, Any]:
    month = bandwidth.Month.parse(call.params.get("month"), call.params.get("year"), call.now)
    reseller, listed = _accounts(call)
    current = month == bandwidth.Month.of(call.now)
    entries = [_entry(u, this_month=current) for u in bandwidth.usage(call.conn, listed, month)]
    return {
        "acct": entries,
        "month": month.month,
        "reseller": reseller,
        "totalused": sum(e["totalbytes"] for e in entries),
        "year": month.year,
    }


# -- limitbw / editquota --------------------------------------------------------------------


def _human(size: int, *, none: str) -> str:
    # Whostmgr::Bandwidth: Cpanel::Math::_toHumanSize, the locale's format_bytes, of bytes.
    return none if size == 0 else format_bytes(size)


@REGISTRY.function(
    "limitbw",
    "Set an account's monthly bandwidth limit, in MB (0 or unlimited: none).",
    params=(
        Param("user", "The account.", required=True),
        Param("bwlimit", "MB a month; 0 or `unlimited` (the default): no limit."),
    ),
    privileges=("limit-bandwidth",),
    api0=api0.limitbw,
)
def limitbw(call: Call) -> Reply:
    actor = access.actor_of(call.principal)
    username = call.require("user").strip()
    limited = account_limits.set_limit(
        call, actor, username, account_limits.BANDWIDTH, call.params.get("bwlimit")
    )
    account = limited.account
    used = bandwidth.month_total(call.conn, account, bandwidth.Month.of(call.now))
    limit = limited.megabytes * MB
    shown = "unlimited" if limited.unlimited else str(limited.megabytes)
    return Reply(
        data={
            "bwlimits": [
                {
                    # Whostmgr::Bandwidth::setbwlimit: the limit in bytes, and
                    # `bwlimitenable` 1 when the account is over it this month (cPanel then
                    # stops its sites; gatehouse serves none, so it only reports it).
                    "bwlimit": limit,
                    "bwlimitenable": int(not limited.unlimited and used >= limit),
                    "domains": [account.domain] if account.domain else [],
                    "human_bwlimit": _human(limit, none="unlimited"),
                    "human_bwused": _human(used, none="none"),
                    "unlimited": int(limited.unlimited),
                }
            ]
        },
        reason=f"Bandwidth Limit for {account.username} has been set to {shown} megabytes",
    )


@REGISTRY.function(
    "editquota",
    "Set an account's disk quota, in MB (0 or unlimited: none).",
    params=(
        Param("user", "The account.", required=True),
        Param("quota", "MB; 0 or `unlimited`: no quota.", required=True),
    ),
    privileges=("quota",),
    api0=api0.editquota,
)
def editquota(call: Call) -> Reply:
    actor = access.actor_of(call.principal)
    username = call.require("user").strip()
    account_limits.set_limit(call, actor, username, account_limits.QUOTA, call.require("quota"))
    # Whostmgr::Quota::setusersquota's words, "user" and all.
    return Reply(has_data=False, reason="Set quota for user.")


# -- gatehouse_report_bandwidth (a gatehouse extension) -------------------------------------


@REGISTRY.function(
    "gatehouse_report_bandwidth",
    "gatehouse extension: report bytes a domain served in a month (from a web server's logs), "
    "added to what showbw shows; `replace=1` sets the month's total instead.",
    params=(
        Param("domain", "The domain that served them (main domain or subdomain)."),
        Param("user", "The account (its main domain, when `domain` is not given)."),
        Param("bytes", "The number of bytes.", required=True, type="integer"),
        Param("month", "1-12 (default: this month, UTC).", type="integer"),
        Param("year", "The year (default: this year, UTC).", type="integer"),
        Param("replace", "1: the month's total for the domain is `bytes`.", type="boolean"),
    ),
    privileges=(acls.ALL,),
)
def gatehouse_report_bandwidth(call: Call) -> dict[str, Any]:
    nbytes = bandwidth.parse_bytes(call.params.get("bytes"))
    month = bandwidth.Month.parse(call.params.get("month"), call.params.get("year"), call.now)
    actor = access.actor_of(call.principal)
    raw_domain = (call.params.get("domain") or "").strip()
    raw_user = (call.params.get("user") or "").strip()
    if raw_domain:
        account, domain = bandwidth.account_of_domain(call.conn, raw_domain)
        if raw_user and raw_user != account.username:
            raise InvalidParameter(
                f"The domain “{domain}” belongs to the account “{account.username}”, "
                f"not “{raw_user}”."
            )
    elif raw_user:
        account = access.require_account(call.conn, actor, raw_user)
        if not account.has_cpanel_account or account.domain is None:
            raise InvalidParameter(f"The user “{raw_user}” has no cPanel account.")
        domain = account.domain
    else:
        raise InvalidParameter("Give the “domain” (or the “user”) the bytes were served for.")
    recorded = bandwidth.record(call, account, domain, month, nbytes, replace=call.flag("replace"))
    return {
        "bytes": recorded.total,
        "domain": recorded.domain,
        "month": month.month,
        "user": account.username,
        "year": month.year,
    }
