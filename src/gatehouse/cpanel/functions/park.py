"""cPanel API 2 `Park::listparkeddomains`, `Park::listaddondomains` and
`AddonDomain::listaddondomains` (cPanel's Cpanel/Park.pm, Cpanel/AddonDomain.pm): the account's
parked and addon domains, which WHM's create_parked_domain_for_user makes
(domain/parked_domains.py). Clients list them before acting (cpanel-node's `listAddonDomains`,
billing modules' domain syncs). gatehouse has no web server: the directories are the serving
vhost's default document root, and nothing redirects.
"""

from __future__ import annotations

from typing import Any

from gatehouse.api.call import Call
from gatehouse.cpanel import args
from gatehouse.cpanel.registry import api2
from gatehouse.domain import domain_lookup, domain_userdata, parked_domains


def _entries(call: Call, *, addon: bool) -> list[domain_lookup.DomainEntry]:
    account = call.caller_account()
    matches = args.regex_filter(call)
    return [
        domain_lookup.DomainEntry.of_parked(call.conn, p, account)
        for p in parked_domains.of_user(call.conn, account.id)
        if p.is_addon == addon and (matches is None or matches(p.name))
    ]


def _item(entry: domain_lookup.DomainEntry) -> dict[str, Any]:
    home = f"/home/{entry.account.username}/"
    basedir = entry.document_root.removeprefix(home)
    return {
        "basedir": basedir,
        "dir": entry.document_root,
        "domain": entry.domain,
        "reldir": f"home:{basedir}",
        "status": domain_userdata.NOT_REDIRECTED,
        # A parked domain has its own zone: its vhost answers for its `www.` and `mail.`
        # (Cpanel::WebVhosts::Aliases, in that order).
        "web_subdomain_aliases": list(domain_userdata.MAIN_DOMAIN_ALIASES),
    }


@api2("Park", "listparkeddomains", "The account's parked domains (`regex`: a filter).",
      readonly=True)  # fmt: skip
def listparkeddomains(call: Call) -> list[dict[str, Any]]:
    return [_item(e) for e in _entries(call, addon=False)]


def _addon_domains(call: Call) -> list[dict[str, Any]]:
    out = []
    for entry in _entries(call, addon=True):
        sub = entry.sub
        if sub is None:  # its vhost's subdomain is gone (delsubdomain refuses that)
            continue
        # The serving subdomain as cPanel keys it (Cpanel::DomainLookup::listsubdomains).
        label, base = sub.key_parts(entry.account.domain)
        out.append(
            {
                **_item(entry),
                "domainkey": f"{label}_{base}",
                "fullsubdomain": sub.name,
                "rootdomain": base,
                "subdomain": label,
            }
        )
    return sorted(out, key=lambda item: str(item["domain"]))


api2("AddonDomain", "listaddondomains", "The account's addon domains (`regex`: a filter).",
     readonly=True)(_addon_domains)  # fmt: skip
api2("Park", "listaddondomains", "The account's addon domains (`regex`: a filter).",
     readonly=True)(_addon_domains)  # fmt: skip
