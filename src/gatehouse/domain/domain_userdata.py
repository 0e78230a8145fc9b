"""What cPanel keeps of a domain in its web server's "userdata" (`/var/cpanel/userdata/USER/
DOMAIN`), as gatehouse can state it: WHM's `domainuserdata` answers it, and UAPI's
`DomainInfo::domains_data` / `single_domain_data` answer it with the domain's `type` and
redirect `status`, as cPanel's Cpanel/API/DomainInfo.pm does.

gatehouse has no web server, so the paths are cPanel's defaults for the account (public_html;
public_html/LABEL for a subdomain), the logs where cPanel writes them, and the settings cPanel
gives a new domain; the address is the account's own, or the server's main address.
"""

from __future__ import annotations

from typing import Any

from gatehouse.domain import packages as packages_domain
from gatehouse.domain import subdomains
from gatehouse.domain.domain_lookup import SUB, DomainEntry

NOT_REDIRECTED = "not redirected"  # cPanel's rewrite status of a domain without a redirect
# The automatic labels a main domain's vhost answers for, in Cpanel::WebVhosts::Aliases' order
# (ON_ALL_CREATED_DOMAINS, then WEB_SUBDOMAINS_FOR_ZONE); a subdomain's is `www` alone.
MAIN_DOMAIN_ALIASES = ("www", "mail")
SUBDOMAIN_ALIASES = ("www",)


def serveraliases(domain: str, kind: str) -> list[str]:
    """The names beside `domain` its web vhost answers for, in the order of cPanel's userdata
    `serveralias` (string order: `mail.D www.D`; a subdomain's only its `www.`, a wildcard's
    none — Cpanel::Config::userdata::add_sub_domain_data)."""
    if subdomains.is_wildcard(domain):
        return []
    labels = SUBDOMAIN_ALIASES if kind == SUB else MAIN_DOMAIN_ALIASES
    return sorted(f"{label}.{domain}" for label in labels)


def userdata(entry: DomainEntry, server_ip: str) -> dict[str, Any]:
    account, domain = entry.account, entry.domain
    limits = packages_domain.with_defaults(account.limits) if account.limits else {}
    home = f"/home/{account.username}"
    # A wildcard's log is named `_wildcard_.PARENT` (Cpanel/Sub.pm's domlog), its admin is the
    # parent's webmaster (its `serveradmin`).
    log = f"/usr/local/apache/domlogs/{subdomains.encode_wildcard(domain)}"
    admin = domain.split(".", 1)[1] if subdomains.is_wildcard(domain) else domain
    data: dict[str, Any] = {
        "customlog": [
            {"format": "combined", "target": log},
            {"format": '"%{%s}t %I .\\n%{%s}t %O ."', "target": f"{log}-bytes_log"},
        ],
        "documentroot": entry.document_root,
        "group": account.username,
        "hascgi": int(limits.get("CGI", "y") == "y"),
        "homedir": home,
        "ip": account.ip or server_ip,
        "owner": account.owner,
        "phpopenbasedirprotect": 1,
        "port": 80,
        "scriptalias": [{"path": f"{entry.document_root}/cgi-bin", "url": "/cgi-bin/"}],
        "serveradmin": f"webmaster@{admin}",
        "serveralias": " ".join(serveraliases(domain, entry.kind)),
        "servername": domain,
        "usecanonicalname": "Off",
        "user": account.username,
    }
    if entry.kind == SUB:
        # Cpanel/Sub.pm writes a subdomain's `userdirprotect` (`""`: not protected); a main
        # domain's userdata has none until mod_userdir protection is set
        # (Whostmgr/Accounts/Create/Components/Userdata.pm, Cpanel/Config/userdata.pm).
        data["userdirprotect"] = ""
    return data
