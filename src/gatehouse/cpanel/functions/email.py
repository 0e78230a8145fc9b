"""UAPI `Email` and cPanel API 2 `Email`: the account's mail exchangers — `list_mxs`,
`add_mx`, `change_mx`, `delete_mx`, `set_always_accept` (API 2 `listmx`/`listmxs`, `addmx`,
`changemx`, `delmx`, `setalwaysaccept`), the use cases of domain/mail_exchangers.py.

Billing systems manage a customer's MX records this way (WHMCS: API 2 `listmx`, `addmx` with
`exchange`/`preference`, `delmx`). Shapes: `list_mxs` as recorded from a real cPanel 110
(per domain `{"domain","mxcheck","detected","local","remote","secondary","alwaysaccept",
"status":1,"statusmsg":"Fetched MX List","mx","entries":[{"mx","domain","priority":"0",
"entrycount":1,"row":"odd"}]}`), the changes as cPanel's documentation shows them (`checkmx`,
`results`, `status`, `statusmsg`); API 2 answers the same objects in its list, as its
`wrap_deprecated` does. API 2 takes cPanel's older names (`exchange`, `newmx`, `preference`,
`oldexchange`, `oldmx`, `oldpreference`); so does UAPI here.

And the account's email accounts, `list_pops` (API 2 `listpops`, `listpopssingle`): gatehouse
hosts no mailboxes, so there is only the main account, listed as cPanel lists it (lumberg's
recording of API 2 `listpops`: `{"email":USER,"login":"Main Account"}`, last).
"""

from __future__ import annotations

import re
from typing import Any

from gatehouse.api.call import Call
from gatehouse.cpanel import args
from gatehouse.cpanel.registry import api2, uapi
from gatehouse.domain import mail_exchangers as mx
from gatehouse.errors import InvalidParameter

MODULE = "Email"


def _servers(call: Call) -> mx.Servers:
    return mx.servers(call.gatehouse.config)


def _first(call: Call, *names: str) -> str | None:
    for name in names:
        value = call.params.get(name)
        if value:
            return value
    return None


def _listed(domain: mx.MailDomain) -> dict[str, Any]:
    routing = domain.routing
    return {
        "alwaysaccept": int(routing.mxcheck == "local"),
        "detected": routing.detected,
        "domain": domain.domain,
        "entries": [
            {
                "domain": domain.domain,
                "entrycount": e.entrycount,
                "mx": e.exchanger,
                "priority": str(e.priority),
                "row": "odd" if e.entrycount % 2 else "even",
            }
            for e in domain.entries
        ],
        "mx": domain.entries[0].exchanger if domain.entries else "",
        "mxcheck": routing.mxcheck,
        "status": 1,
        "statusmsg": "Fetched MX List",
        **routing.flags(),
    }


def list_mxs(call: Call) -> list[dict[str, Any]]:
    account = call.caller_account()
    raw = call.params.get("domain")
    names = [mx.check_domain(account, raw)] if raw else mx.mail_domains(account)
    return [_listed(mx.fetch(call.conn, account, name, _servers(call))) for name in names]


def _checkmx(routing: mx.Routing) -> dict[str, Any]:
    flags = routing.flags()
    return {
        "changed": routing.changed,
        "detected": routing.detected,
        "isprimary": flags["local"],
        "issecondary": flags["secondary"],
        "mxcheck": routing.mxcheck,
        "warnings": list(routing.warnings),
        **flags,
    }


def _changed(outcome: mx.Outcome) -> dict[str, Any]:
    return {
        "checkmx": _checkmx(outcome.routing),
        "results": outcome.results,
        "status": 1,
        "statusmsg": outcome.results,
    }


def _domain(call: Call) -> str:
    return args.length_required(call, "domain")


def _exchanger(call: Call, uapi_call: bool) -> str | None:
    value = _first(call, "exchanger", "exchange", "newmx")
    if value is None and uapi_call:
        raise args.missing("exchanger")
    return value


def _priority(call: Call, uapi_call: bool) -> str | None:
    value = _first(call, "priority", "preference")
    if value is None and uapi_call:
        raise args.missing("priority")
    return value


def add_mx(call: Call, *, uapi_call: bool = True) -> dict[str, Any]:
    outcome = mx.add(
        call,
        call.caller_account(),
        _domain(call),
        _exchanger(call, uapi_call),
        _priority(call, uapi_call),
        call.params.get("alwaysaccept"),
        _servers(call),
    )
    return _changed(outcome)


def change_mx(call: Call, *, uapi_call: bool = True) -> dict[str, Any]:
    outcome = mx.change(
        call,
        call.caller_account(),
        _domain(call),
        _exchanger(call, uapi_call),
        _priority(call, uapi_call),
        _first(call, "oldexchanger", "oldexchange", "oldmx"),
        _first(call, "oldpriority", "oldpreference"),
        call.params.get("alwaysaccept"),
        _servers(call),
    )
    return _changed(outcome)


def delete_mx(call: Call, *, uapi_call: bool = True) -> dict[str, Any]:
    outcome = mx.delete(
        call,
        call.caller_account(),
        _domain(call),
        _exchanger(call, uapi_call),
        _priority(call, uapi_call),
        _servers(call),
    )
    return _changed(outcome)


def set_always_accept(call: Call) -> dict[str, Any]:
    raw = _first(call, "mxcheck", "alwaysaccept")
    outcome = mx.set_always_accept(call, call.caller_account(), _domain(call), raw, _servers(call))
    routing = outcome.routing
    return {
        **_changed(outcome),
        "detected": routing.detected,
        "mxcheck": routing.mxcheck,
        **routing.flags(),
    }


# The main account's `login`, as cPanel lists it (lumberg's recording of API 2 Email::listpops).
MAIN_ACCOUNT = "Main Account"


def list_pops(call: Call, *, skip_main: bool = False) -> list[dict[str, Any]]:
    """The account's email accounts: cPanel lists its mailboxes (`user@domain`, none here:
    gatehouse hosts no mail) and then, unless `skip_main` is true in Perl's sense, the main
    account, `{"email":USER,"login":"Main Account"}` with the suspension flags of UAPI's rows.
    `regex` keeps the rows whose `email` it matches. Choices: Perl's `m//` is case-sensitive
    and so is the match here; a pattern that does not compile is refused (cPanel's own
    handling is not in readable source)."""
    account = call.caller_account()
    raw = call.params.get("regex")
    try:
        pattern = re.compile(raw) if raw else None
    except re.error as exc:
        raise InvalidParameter(
            f"The “regex” parameter is not a valid regular expression: {exc}."
        ) from None
    rows: list[dict[str, Any]] = []
    if not skip_main and call.params.get("skip_main") in (None, "", "0"):
        rows.append(
            {
                "email": account.username,
                "login": MAIN_ACCOUNT,
                "suspended_incoming": 0,
                "suspended_login": 0,
            }
        )
    return [row for row in rows if pattern is None or pattern.search(row["email"])]


# -- UAPI ------------------------------------------------------------------------------------

uapi(MODULE, "list_mxs", "The account's mail domains, their MX records and mail routing.",
     readonly=True)(list_mxs)  # fmt: skip
uapi(MODULE, "add_mx", "Add an MX record to one of the account's domains.")(add_mx)
uapi(MODULE, "change_mx", "Change one of a domain's MX records.")(change_mx)
uapi(MODULE, "delete_mx", "Remove one of a domain's MX records.")(delete_mx)
uapi(MODULE, "list_pops", "The account's email accounts: the main account (gatehouse hosts no "
     "mailboxes).", readonly=True)(list_pops)  # fmt: skip
uapi(MODULE, "set_always_accept", "Set a domain's mail routing (auto, local, secondary, "
     "remote).")(set_always_accept)  # fmt: skip


# -- API 2 (deprecated by cPanel; wrap the UAPI functions) -----------------------------------


@api2(MODULE, "listmx", "Email::list_mxs in API 2.", readonly=True)
def listmx(call: Call) -> list[dict[str, Any]]:
    return list_mxs(call)


@api2(MODULE, "listmxs", "Email::list_mxs in API 2.", readonly=True)
def listmxs(call: Call) -> list[dict[str, Any]]:
    return list_mxs(call)


@api2(MODULE, "addmx", "Email::add_mx in API 2.")
def addmx(call: Call) -> list[dict[str, Any]]:
    return [add_mx(call, uapi_call=False)]


@api2(MODULE, "changemx", "Email::change_mx in API 2.")
def changemx(call: Call) -> list[dict[str, Any]]:
    return [change_mx(call, uapi_call=False)]


@api2(MODULE, "delmx", "Email::delete_mx in API 2.")
def delmx(call: Call) -> list[dict[str, Any]]:
    return [delete_mx(call, uapi_call=False)]


@api2(MODULE, "setalwaysaccept", "Email::set_always_accept in API 2.")
def setalwaysaccept(call: Call) -> list[dict[str, Any]]:
    return [set_always_accept(call)]


@api2(MODULE, "listpops", "Email::list_pops in API 2.", readonly=True)
def listpops(call: Call) -> list[dict[str, Any]]:
    return list_pops(call)


@api2(MODULE, "listpopssingle", "Email::list_pops in API 2, without the main account.",
      readonly=True)  # fmt: skip
def listpopssingle(call: Call) -> list[dict[str, Any]]:
    # Cpanel/Email.pm api2_listpopssingle: api2_listpops with skip_main => 1.
    return list_pops(call, skip_main=True)
