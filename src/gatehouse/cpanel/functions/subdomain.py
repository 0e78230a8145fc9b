"""UAPI and API 2 `SubDomain`: addsubdomain (both), listsubdomains and delsubdomain (API 2).

The use cases are gatehouse.domain.subdomains (a subdomain is a registered domain of the account
with an A record in its root domain's zone). cPanel's `dir` (document root) and `canoff` are
accepted and ignored: gatehouse has no web server, so the document-root keys of cPanel's
listsubdomains items (`basedir`, `dir`, `reldir`) are left out rather than invented.
"""

from __future__ import annotations

import re
from typing import Any

from gatehouse.api.call import Call
from gatehouse.cpanel.registry import api2, uapi
from gatehouse.domain import subdomains
from gatehouse.errors import InvalidParameter, missing_parameter

MODULE = "SubDomain"


def _add(call: Call) -> subdomains.Subdomain:
    label = call.params.get("domain")
    if not label:
        raise missing_parameter("domain")
    root = call.params.get("rootdomain")
    if not root:
        raise missing_parameter("rootdomain")
    return subdomains.add(
        call, call.principal.user, label, root, disallow_dot=call.flag("disallowdot")
    )


@uapi(MODULE, "addsubdomain", "Create a subdomain (domain, rootdomain) with its A record.")
def addsubdomain(call: Call) -> None:
    _add(call)
    return None  # cPanel: `data` is null on success


@api2(MODULE, "addsubdomain", "Create a subdomain (domain, rootdomain) with its A record.")
def addsubdomain_api2(call: Call) -> list[dict[str, Any]]:
    added = _add(call)
    return [{"reason": f"The subdomain “{added.name}” has been created.", "result": 1}]


@api2(MODULE, "listsubdomains", "The account's subdomains (`regex`: a filter).", readonly=True)
def listsubdomains(call: Call) -> list[dict[str, Any]]:
    pattern = call.params.get("regex")
    try:
        # Case-insensitive, as cPanel's qr/…/i.
        matcher = re.compile(pattern, re.IGNORECASE) if pattern else None
    except re.error:
        raise InvalidParameter(f"“{pattern}” is not a valid regular expression.") from None
    home = f"/home/{call.principal.user.username}"
    out = []
    for sub in subdomains.of_user(call.conn, call.principal.user.id):
        if matcher is not None and not matcher.search(sub.name):
            continue
        # cPanel's item (Cpanel/SubDomain.pm): the document root three ways, and the
        # `domainkey` its userdata is filed under.
        out.append(
            {
                "basedir": sub.basedir,
                "dir": f"{home}/{sub.basedir}",
                "domain": sub.name,
                "domainkey": f"{sub.label}_{sub.root_domain}",
                "reldir": f"home:{sub.basedir}",
                "rootdomain": sub.root_domain,
                "status": "not redirected",
                "subdomain": sub.label,
            }
        )
    return out


@api2(MODULE, "delsubdomain", "Delete a subdomain (its full name) and its address records.")
def delsubdomain(call: Call) -> list[dict[str, Any]]:
    raw = call.params.get("domain")
    if not raw:
        raise missing_parameter("domain")
    # cPanel's own forms pass `sub_example.com` (an underscore for the first dot); a subdomain
    # name never holds one.
    name = raw.replace("_", ".", 1)
    removed = subdomains.remove(call, call.principal.user, name)
    return [{"reason": f"The subdomain “{removed.name}” has been removed.", "result": 1}]
