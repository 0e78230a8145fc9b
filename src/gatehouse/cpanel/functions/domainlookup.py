"""cPanel API 2 `DomainLookup`: getdocroot, getdocroots, getbasedomains, countbasedomains and
getmaindomain, as cPanel's Cpanel/DomainLookup.pm answers them (WHMCS's GetDocRoot calls
`getdocroot` and reads `data[0].docroot` and `reldocroot`).

The document roots are the account's (domain/domain_lookup.py: public_html, public_html/LABEL
for a subdomain). As cPanel's getdocroot warns, it "will ALWAYS return something": a domain
that is not the account's gets the account's public_html, never an error; a parked or addon
domain's is its vhost's (the main domain's, or its subdomain's). The base domains are those
with DNS zones of their own: the main domain and its parked and addon domains
(Cpanel/DomainLookup.pm's getmultiparked).
"""

from __future__ import annotations

from typing import Any

from gatehouse.api.call import Call
from gatehouse.cpanel.registry import api2
from gatehouse.domain import parked_domains, subdomains, users
from gatehouse.domain.domain_lookup import DomainEntry

MODULE = "DomainLookup"


def _entries(call: Call, account: users.User) -> list[DomainEntry]:
    main = [DomainEntry(account.domain, account)] if account.domain else []
    subs = [DomainEntry.of_subdomain(s, account) for s in subdomains.of_user(call.conn, account.id)]
    parked = [
        DomainEntry.of_parked(call.conn, p, account)
        for p in parked_domains.of_user(call.conn, account.id)
    ]
    return main + subs + parked


def _home(account: users.User) -> str:
    return f"/home/{account.username}"


@api2(MODULE, "getdocroot", "A domain's document root, absolute and relative to the home.",
      readonly=True)  # fmt: skip
def getdocroot(call: Call) -> list[dict[str, Any]]:
    account = call.caller_account()
    wanted = (call.params.get("domain") or "").lower()
    found = next((e.document_root for e in _entries(call, account) if e.domain == wanted), None)
    docroot = found or f"{_home(account)}/public_html"
    prefix = f"{_home(account)}/"
    relative = docroot[len(prefix) :] if docroot.startswith(prefix) else docroot
    return [{"docroot": docroot, "reldocroot": relative}]


@api2(MODULE, "getdocroots", "Every domain of the account with its document root.",
      readonly=True)  # fmt: skip
def getdocroots(call: Call) -> list[dict[str, Any]]:
    entries = sorted(_entries(call, call.caller_account()), key=lambda e: e.domain)
    return [{"docroot": e.document_root, "domain": e.domain} for e in entries]


def _base_domains(call: Call) -> list[str]:
    account = call.caller_account()
    main = [account.domain] if account.domain else []
    return main + [p.name for p in parked_domains.of_user(call.conn, account.id)]


@api2(MODULE, "getbasedomains", "The account's domains that have DNS zones of their own.",
      readonly=True)  # fmt: skip
def getbasedomains(call: Call) -> list[dict[str, Any]]:
    return [{"domain": d} for d in sorted(_base_domains(call))]


@api2(MODULE, "countbasedomains", "How many base domains the account has.", readonly=True)
def countbasedomains(call: Call) -> list[dict[str, Any]]:
    return [{"count": len(_base_domains(call))}]


@api2(MODULE, "getmaindomain", "The account's main domain.", readonly=True)
def getmaindomain(call: Call) -> list[dict[str, Any]]:
    return [{"main_domain": call.caller_account().domain}]
