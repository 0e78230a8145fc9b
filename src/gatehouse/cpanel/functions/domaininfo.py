"""UAPI `DomainInfo`: list_domains, domains_data and single_domain_data (cPanel's
Cpanel/API/DomainInfo.pm).

gatehouse accounts have a main domain, given at createacct (modifyacct may change it), the
subdomains made with `SubDomain::addsubdomain` (domain/subdomains.py) and the parked and addon
domains WHM's create_parked_domain_for_user makes (domain/parked_domains.py). A domain's data
is cPanel's: its userdata (domain/domain_userdata.py, the same WHM's `domainuserdata` answers)
with its `domain`, `type` and redirect `status`; an addon domain's is its subdomain's, as
cPanel's (a subdomain serving an addon domain is listed as the addon domain only), and a
parked domain has no userdata of its own (its name is listed).
"""

from __future__ import annotations

from typing import Any

from gatehouse.api.call import Call
from gatehouse.cpanel.registry import uapi
from gatehouse.domain import domain_lookup, domain_userdata, ips, parked_domains, subdomains
from gatehouse.errors import InvalidParameter, NotFound

MODULE = "DomainInfo"


def _main_domain(call: Call) -> str:
    domain = call.principal.user.domain
    if not domain:  # only root and WHM-only users lack one, and they never get here
        raise NotFound(f"The user “{call.principal.user.username}” has no main domain.")
    return domain


def _parked(call: Call) -> tuple[list[str], dict[str, str]]:
    """The account's parked domains, and its addon domains with the subdomain serving each."""
    parked, addons = [], {}
    for p in parked_domains.of_user(call.conn, call.principal.user.id):
        if p.vhost is None:
            parked.append(p.name)
        else:
            addons[p.name] = p.vhost
    return parked, addons


def _real_subdomains(call: Call, addons: dict[str, str]) -> list[subdomains.Subdomain]:
    # Cpanel/API/DomainInfo.pm's _is_real_sub: a subdomain serving an addon domain is not one.
    serving = set(addons.values())
    subs = subdomains.of_user(call.conn, call.principal.user.id)
    return [s for s in subs if s.name not in serving]


@uapi(MODULE, "list_domains", "The account's main, addon, parked and subdomains.", readonly=True)
def list_domains(call: Call) -> dict[str, Any]:
    parked, addons = _parked(call)
    return {
        "addon_domains": sorted(addons),
        "main_domain": _main_domain(call),
        "parked_domains": parked,
        "sub_domains": [s.name for s in _real_subdomains(call, addons)],
    }


def _domain_data(
    call: Call, domain: str, sub: subdomains.Subdomain | None, *, addon: str | None = None
) -> dict[str, Any]:
    """The userdata of `domain` (`sub` for a subdomain); for an addon domain, `addon`'s are
    its subdomain's with the addon domain's name."""
    # The account as stored now (its address may have changed), not as authenticated.
    account = call.caller_account()
    entry = domain_lookup.DomainEntry(domain, account, sub)
    data = domain_userdata.userdata(entry, ips.main_ip(call.gatehouse.config))
    kind = "main_domain" if sub is None else "addon_domain" if addon else "sub_domain"
    shown = addon or domain
    return {**data, "domain": shown, "status": domain_userdata.NOT_REDIRECTED, "type": kind}


def _main_domain_data(call: Call) -> dict[str, Any]:
    return _domain_data(call, _main_domain(call), None)


def _addon_data(call: Call, addon: str, vhost: str) -> dict[str, Any] | None:
    sub = subdomains.get(call.conn, vhost)
    return None if sub is None else _domain_data(call, sub.name, sub, addon=addon)


@uapi(MODULE, "domains_data", "What is known of each of the account's domains.", readonly=True)
def domains_data(call: Call) -> Any:
    # Cpanel/API/DomainInfo.pm: `list` gives the list, anything else the hash.
    fmt = call.params.get("format") or "hash"
    main = _main_domain_data(call)
    parked, addons = _parked(call)
    subs = [_domain_data(call, s.name, s) for s in _real_subdomains(call, addons)]
    found = (_addon_data(call, name, vhost) for name, vhost in sorted(addons.items()))
    addon_data = [d for d in found if d is not None]
    if fmt == "list":
        # cPanel's list form: the main domain, then addon domains, then subdomains.
        return [main, *addon_data, *subs]
    return {
        "addon_domains": addon_data,
        "main_domain": main,
        "parked_domains": parked,
        "sub_domains": subs,
    }


@uapi(
    MODULE,
    "single_domain_data",
    "What is known of one of the account's domains (main, addon or subdomain).",
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
    addon = parked_domains.get(call.conn, domain)
    if addon is not None and addon.user_id == call.principal.user.id and addon.vhost:
        data = _addon_data(call, addon.name, addon.vhost)
        if data is not None:
            return data
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
