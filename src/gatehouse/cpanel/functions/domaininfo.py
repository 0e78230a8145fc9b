"""UAPI `DomainInfo`: list_domains, domains_data and single_domain_data (cPanel's
Cpanel/API/DomainInfo.pm).

gatehouse accounts have a main domain, given at createacct (modifyacct may change it), and the
subdomains made with `SubDomain::addsubdomain` (domain/subdomains.py); there are no addon or
parked domains, so those lists are empty — truthfully, not as placeholders. A domain's data is
cPanel's: its userdata (domain/domain_userdata.py, the same WHM's `domainuserdata` answers)
with its `domain`, `type` and redirect `status`.
"""

from __future__ import annotations

from typing import Any

from gatehouse.api.call import Call
from gatehouse.cpanel.registry import uapi
from gatehouse.domain import domain_lookup, domain_userdata, ips, subdomains
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
        "sub_domains": [s.name for s in subdomains.of_user(call.conn, call.principal.user.id)],
    }


def _domain_data(call: Call, domain: str, sub: subdomains.Subdomain | None) -> dict[str, Any]:
    # The account as stored now (its address may have changed), not as authenticated.
    account = call.caller_account()
    entry = domain_lookup.DomainEntry(domain, account, sub)
    data = domain_userdata.userdata(entry, ips.main_ip(call.gatehouse.config))
    kind = "main_domain" if sub is None else "sub_domain"
    return {**data, "domain": domain, "status": domain_userdata.NOT_REDIRECTED, "type": kind}


def _main_domain_data(call: Call) -> dict[str, Any]:
    return _domain_data(call, _main_domain(call), None)


def _sub_domains_data(call: Call) -> list[dict[str, Any]]:
    return [
        _domain_data(call, s.name, s) for s in subdomains.of_user(call.conn, call.principal.user.id)
    ]


@uapi(MODULE, "domains_data", "What is known of each of the account's domains.", readonly=True)
def domains_data(call: Call) -> Any:
    # Cpanel/API/DomainInfo.pm: `list` gives the list, anything else the hash.
    fmt = call.params.get("format") or "hash"
    main = _main_domain_data(call)
    subs = _sub_domains_data(call)
    if fmt == "list":
        # cPanel's list form: the main domain, then addon domains, then subdomains.
        return [main, *subs]
    return {"addon_domains": [], "main_domain": main, "parked_domains": [], "sub_domains": subs}


@uapi(
    MODULE,
    "single_domain_data",
    "What is known of one of the account's domains (main or subdomain).",
    readonly=True,
)
def single_domain_data(call: Call) -> dict[str, Any]:
    raw = call.params.get("domain")
    if raw is None:
        # Cpanel/API/DomainInfo.pm's own words (it does not use Cpanel::Args here); an empty
        # `domain` is given, and is a domain it cannot find (below).
        raise InvalidParameter("Domain must be passed as a parameter.")
    domain = raw.strip().lower().rstrip(".")
    if domain == call.principal.user.domain:
        return _main_domain_data(call)
    sub = subdomains.get(call.conn, domain)
    if sub is not None and sub.user_id == call.principal.user.id:
        return _domain_data(call, sub.name, sub)
    # Cpanel/API/DomainInfo.pm's words when no userdata of the account's has the domain: another
    # account's domain gets the same answer as one that does not exist.
    raise NotFound(f"Unable to locate the domain: {raw}")


@uapi(
    MODULE,
    "main_domain_builtin_subdomain_aliases",
    "The labels the main domain's web vhost answers for beside it (www, mail).",
    readonly=True,
)
def main_domain_builtin_subdomain_aliases(call: Call) -> list[str]:
    # Cpanel::WebVhosts::Aliases::get_builtin_alias_subdomains: the automatic labels
    # (`www` on every domain, then `mail` of every zone) found in the vhost's serveralias,
    # which for the main domain is `mail.D www.D` (domain/domain_userdata.py).
    _main_domain(call)
    return list(domain_userdata.MAIN_DOMAIN_ALIASES)
