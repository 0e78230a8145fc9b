"""UAPI `DomainInfo`: list_domains and domains_data (cPanel's Cpanel/API/DomainInfo.pm).

gatehouse accounts have one domain, the main domain given at createacct (modifyacct may change
it); there are no addon, parked or subdomains, so those lists are empty — truthfully, not as
placeholders. cPanel's userdata also holds web-server facts (document root, home directory,
PHP settings, redirects) that gatehouse does not have: those keys are left out rather than
invented (docs/cpanel.md).
"""

from __future__ import annotations

from typing import Any

from gatehouse.api.call import Call
from gatehouse.cpanel.registry import uapi
from gatehouse.domain import users
from gatehouse.errors import InvalidParameter, NotFound

MODULE = "DomainInfo"


def _main_domain(call: Call) -> str:
    domain = call.principal.user.domain
    if not domain:  # only root and WHM-only users lack one, and they never get here
        raise NotFound(f"The user “{call.principal.user.username}” has no main domain.")
    return domain


@uapi(MODULE, "list_domains", "The account's main, addon, parked and subdomains.", readonly=True)
def list_domains(call: Call) -> dict[str, Any]:
    return {
        "addon_domains": [],
        "main_domain": _main_domain(call),
        "parked_domains": [],
        "sub_domains": [],
    }


def _main_domain_data(call: Call) -> dict[str, Any]:
    account = call.principal.user
    domain = _main_domain(call)
    stored = users.get_by_id(call.conn, account.id)  # as stored now, not as authenticated
    ip = stored.ip if stored is not None else None
    return {
        "domain": domain,
        "ip": ip,
        "owner": account.owner,
        "servername": domain,
        "type": "main_domain",
        "user": account.username,
    }


@uapi(MODULE, "domains_data", "What is known of each of the account's domains.", readonly=True)
def domains_data(call: Call) -> Any:
    fmt = call.params.get("format") or "hash"
    if fmt not in ("hash", "list"):
        # Choice: cPanel treats any other value as `hash`; a typo is better reported.
        raise InvalidParameter(f"The “format” argument must be “hash” or “list”, not “{fmt}”.")
    main = _main_domain_data(call)
    if fmt == "list":
        # cPanel's list form: the main domain, then addon domains, then subdomains.
        return [main]
    return {"addon_domains": [], "main_domain": main, "parked_domains": [], "sub_domains": []}
