"""get_domain_info, getdomainowner, list_users: which account holds which domain
(gatehouse.domain.domain_lookup). Shapes follow cPanel's Whostmgr/API/1/Accounts.pm; where
gatehouse has no such thing (PHP, ModSecurity, IPv6), the key is present with the value
cPanel's userdata cache (Cpanel/Config/userdata/UpdateCache.pm) gives a domain without it, and
docs/api.md says so.

Privileges: get_domain_info and getdomainowner need `acct-summary` (cPanel's ACL chart; a
reseller sees the domains of the accounts it owns, and is told nothing about the others);
list_users is root's (`all`).
"""

from __future__ import annotations

from typing import Any

from gatehouse import acls
from gatehouse.api.call import Call
from gatehouse.api.registry import Param
from gatehouse.domain import access, certificates, domain_lookup, ips
from gatehouse.errors import missing_parameter
from gatehouse.whm.registry import REGISTRY

# What get_domain_info reports as the SSL address of a domain without an SSL vhost.
NO_SSL_ADDRESS = "0.0.0.0"  # noqa: S104 - an address reported, not one bound


@REGISTRY.function(
    "get_domain_info",
    "Every domain the caller may see, with its account, owner, address and document root.",
    privileges=("acct-summary",),
    readonly=True,
)
def get_domain_info(call: Call) -> dict[str, Any]:
    actor = access.actor_of(call.principal)
    server_ip = ips.main_ip(call.gatehouse.config)
    with_ssl = {i.domain for i in certificates.installed(call.conn)}
    domains = []
    for entry in domain_lookup.visible_domains(call.conn, actor):
        account = entry.account
        ip = account.ip or server_ip
        # The cache's SSL `ip:port` is empty for a domain without an SSL vhost, which
        # Cpanel::IP::Parse reads as 0.0.0.0 and no port.
        ssl = entry.domain in with_ssl
        domains.append(
            {
                "docroot": entry.document_root,
                "domain": entry.domain,
                "domain_type": entry.kind,
                "ipv4": ip,
                "ipv4_ssl": ip if ssl else NO_SSL_ADDRESS,
                "ipv6": None,
                "ipv6_is_dedicated": 0,
                # Enabled unless the vhost turns its rule engine off (`secruleengineoff`).
                "modsecurity_enabled": 1,
                # A subdomain's parent in the cache is the account's main domain.
                "parent_domain": account.domain or entry.parent or entry.domain,
                "php_version": "",
                "port": "80",
                "port_ssl": "443" if ssl else None,
                "user": account.username,
                "user_owner": account.owner,
            }
        )
    return {"domains": domains}


@REGISTRY.function(
    "getdomainowner",
    "The account that holds a domain.",
    params=(Param("domain", "The domain.", required=True, handler_refuses=True),),
    privileges=("acct-summary",),
    readonly=True,
)
def getdomainowner(call: Call) -> dict[str, Any]:
    # Whostmgr/API/1/Accounts.pm: a domain no account holds, and one held by an account the
    # caller may not reach, both answer `"user": null` — a success, not an error.
    raw = call.params.get("domain")
    if raw is None:
        # get_required_argument refuses only an absent `domain` ...
        raise missing_parameter("domain")
    if len(raw) < 3:
        # ... an empty one (or one under 3 characters) is no one's: Cpanel::AcctUtils::
        # DomainOwner::Tiny::_getdomainowner answers its default, undef.
        return {"user": None}
    found = domain_lookup.holder_of_web_name(call.conn, raw.strip().lower().rstrip("."))
    if found is None:
        return {"user": None}
    actor = access.actor_of(call.principal)
    allowed = access.to_account(actor, found.account, found.account.username).allowed
    return {"user": found.account.username if allowed else None}


@REGISTRY.function(
    "list_users",
    "Every user on the server: root, then the cPanel accounts (resellers included).",
    privileges=(acls.ALL,),
    readonly=True,
)
def list_users(call: Call) -> dict[str, Any]:
    return {"users": domain_lookup.all_usernames(call.conn)}
