"""get_domain_info, getdomainowner, list_users: which account holds which domain
(gatehouse.domain.domain_lookup). Shapes follow cPanel's WHM API 1 reference; where
gatehouse has no such thing (PHP, ModSecurity, IPv6, SSL virtual hosts), the key is present
with the value a server without it reports, and docs/api.md says so.

Privileges: get_domain_info and getdomainowner need `acct-summary` (cPanel's ACL chart; a
reseller sees the domains of the accounts it owns, and is told nothing about the others);
list_users is root's (`all`).
"""

from __future__ import annotations

from typing import Any

from gatehouse import acls
from gatehouse.api.call import Call
from gatehouse.api.registry import Param
from gatehouse.domain import access, domain_lookup, ips
from gatehouse.whm.registry import REGISTRY


@REGISTRY.function(
    "get_domain_info",
    "Every domain the caller may see, with its account, owner, address and document root.",
    privileges=("acct-summary",),
    readonly=True,
)
def get_domain_info(call: Call) -> dict[str, Any]:
    actor = access.actor_of(call.principal)
    server_ip = ips.main_ip(call.gatehouse.config)
    domains = []
    for entry in domain_lookup.visible_domains(call.conn, actor):
        account = entry.account
        ip = account.ip or server_ip
        domains.append(
            {
                "docroot": entry.document_root,
                "domain": entry.domain,
                "domain_type": entry.kind,
                "ipv4": ip,
                "ipv4_ssl": ip,
                "ipv6": None,
                "ipv6_is_dedicated": 0,
                "modsecurity_enabled": 0,
                "parent_domain": entry.parent or entry.domain,
                "php_version": None,
                "port": "80",
                "port_ssl": "443",
                "user": account.username,
                "user_owner": account.owner,
            }
        )
    return {"domains": domains}


@REGISTRY.function(
    "getdomainowner",
    "The account that holds a domain.",
    params=(Param("domain", "The domain.", required=True),),
    privileges=("acct-summary",),
    readonly=True,
)
def getdomainowner(call: Call) -> dict[str, Any]:
    account = domain_lookup.owner_of(
        call.conn, access.actor_of(call.principal), call.require("domain")
    )
    return {"user": account.username}


@REGISTRY.function(
    "list_users",
    "Every user on the server: root, then the cPanel accounts (resellers included).",
    privileges=(acls.ALL,),
    readonly=True,
)
def list_users(call: Call) -> dict[str, Any]:
    return {"users": domain_lookup.all_usernames(call.conn)}
