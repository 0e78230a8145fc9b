"""UAPI and API 2 `SubDomain`: addsubdomain (both), listsubdomains and delsubdomain (API 2), as
cPanel's Cpanel/API/SubDomain.pm and Cpanel/SubDomain.pm answer them.

The use cases are gatehouse.domain.subdomains (a subdomain is a registered domain of the account
with an A record in its root domain's zone). cPanel's `dir` (document root) and `canoff` are
accepted and ignored: gatehouse has no web server, so listsubdomains states cPanel's default
document root (public_html/LABEL). API 2's addsubdomain and delsubdomain report a failure as
cPanel's api2_* functions do: `data` `[{"reason":R,"result":0}]`, `error` R, `event.result` 1.
"""

from __future__ import annotations

from typing import Any

from gatehouse.api.call import Call
from gatehouse.cpanel import args
from gatehouse.cpanel.registry import Api2Reported, api2, reported_as_api2_items, uapi
from gatehouse.domain import subdomains
from gatehouse.errors import InvalidParameter

MODULE = "SubDomain"

# What cPanel's web vhost of a subdomain holds beside its name (Cpanel::WebVhosts::Aliases::
# get_builtin_alias_subdomains of its `serveralias`, which is `www.SUB` for a subdomain).
SUBDOMAIN_ALIASES = ["www"]


def _add(call: Call) -> subdomains.Subdomain:
    return subdomains.add(
        call,
        call.caller_account(),
        call.params.get("domain"),
        call.params.get("rootdomain"),
        disallow_dot=call.flag("disallowdot"),
    )


@uapi(MODULE, "addsubdomain", "Create a subdomain (domain, rootdomain) with its A record.")
def addsubdomain(call: Call) -> None:
    _add(call)
    return None  # cPanel: `data` is null on success


@api2(MODULE, "addsubdomain", "Create a subdomain (domain, rootdomain) with its A record.")
@reported_as_api2_items
def addsubdomain_api2(call: Call) -> list[dict[str, Any]]:
    added = _add(call)
    # Cpanel::Sub::_create_local_subdomain's message.
    return [{"reason": f"The subdomain “{added.name}” has been added.", "result": 1}]


@api2(MODULE, "listsubdomains", "The account's subdomains (`regex`: a filter).", readonly=True)
def listsubdomains(call: Call) -> list[dict[str, Any]]:
    # Refused, the function returns nothing: `data` is [] and the call itself ran
    # (`event.result` 1).
    matches = args.regex_filter(call, Api2Reported([]))
    account = call.caller_account()
    home = f"/home/{account.username}"
    out = []
    for sub in subdomains.of_user(call.conn, account.id):
        if matches is not None and not matches(sub.name):
            continue
        # cPanel's key (Cpanel::DomainLookup::listsubdomains); `subdomain` and `rootdomain`
        # are its two halves.
        label, base = sub.key_parts(account.domain)
        # cPanel's item (Cpanel/SubDomain.pm's api2_listsubdomains): the document root three
        # ways, and the `domainkey` its userdata is filed under.
        out.append(
            {
                "basedir": sub.basedir,
                "dir": f"{home}/{sub.basedir}",
                "domain": sub.name,
                "domainkey": f"{label}_{base}",
                "reldir": f"home:{sub.basedir}",
                "rootdomain": base,
                "status": "not redirected",
                "subdomain": label,
                # A wildcard's vhost has no `www.` alias (its serveralias is empty).
                "web_subdomain_aliases": [] if sub.is_wildcard else list(SUBDOMAIN_ALIASES),
            }
        )
    # cPanel sorts by its key (`LABEL_ROOT`), not by the name.
    return sorted(out, key=lambda item: str(item["domainkey"]))


@api2(MODULE, "delsubdomain", "Delete a subdomain (its full name) and its address records.")
@reported_as_api2_items
def delsubdomain(call: Call) -> list[dict[str, Any]]:
    raw = call.params.get("domain")
    if not raw:
        raise InvalidParameter(subdomains.NO_SUBDOMAIN)
    name = subdomains.full_name(raw, disallow_dot=call.flag("disallowdot"))
    removed = subdomains.remove(call, call.caller_account(), name)
    # Cpanel::Sub::_delete_local_subdomain's message.
    return [{"reason": f"The subdomain “{removed.name}” has been removed.", "result": 1}]
