"""create_subdomain, create_parked_domain_for_user, delete_domain and updateuserdomains, as
cPanel 11.120's Whostmgr/API/1/UserDomains.pm answers them; the use cases are
gatehouse.domain.user_domains over the cPanel face's subdomain logic (domain/subdomains.py) and
the parked domains (domain/parked_domains.py), so a subdomain made here has the records, the
checks and the audit line one made by the account's own SubDomain::addsubdomain has, and a
parked domain the zone adddns makes.

Privileges. Choice: cPanel's WHM API 1 dispatch table, which names each function's ACL, is
compiled (whostmgr/bin/xml-api) and its public docs do not say. create_subdomain and
delete_domain check no ownership of their own — any caller let in may act on any account — so
gatehouse lets in root and resellers holding `all` (hasroot) only; updateuserdomains rebuilds
server-wide caches, root's too. create_parked_domain_for_user checks the account itself
(hasroot(), or the account is the caller or one it owns), so resellers call it; gatehouse asks
`park-dns`, the privilege of WHM's own "Park a Domain" page (whostmgr/docroot/templates/menu/
DNS_Functions.tmpl). The one access rule (domain/access.py) still decides on the
account, so a token scoped to some accounts reaches only those.

cPanel's `persona` argument (a call from a linked parent node) has nothing to act on:
gatehouse links no nodes, so no account is a child account and it is ignored.
"""

from __future__ import annotations

from typing import Any

from gatehouse import acls
from gatehouse.api.call import Call
from gatehouse.api.registry import Param, Reply
from gatehouse.domain import access, ips, parking, user_domains
from gatehouse.whm.arguments import length_required
from gatehouse.whm.registry import REGISTRY

MODULE = "UserDomains"
ROOT_ONLY = (acls.ALL,)


def _domain(call: Call) -> str:
    return length_required(call, MODULE, "domain").strip().lower().rstrip(".")


@REGISTRY.function(
    "create_subdomain",
    "Create a subdomain by its full name on the account that holds its parent domain.",
    params=(
        Param("domain", "The new subdomain's full name.", required=True, handler_refuses=True),
        Param(
            "document_root",
            "Its document root, relative to the home directory (public_html/…; checked, not "
            "kept: gatehouse has no web server).",
            required=True,
            handler_refuses=True,
        ),
        Param("use_canonical_name", "Accepted and ignored (no web server).", type="boolean"),
    ),
    privileges=ROOT_ONLY,
)
def create_subdomain(call: Call) -> dict[str, Any]:
    # cPanel's order: the name, who holds its parent, then the document root.
    target = user_domains.split_new_subdomain(call, _domain(call))
    user_domains.check_document_root(length_required(call, MODULE, "document_root"))
    user_domains.create_subdomain(call, access.actor_of(call.principal), target)
    return {"username": target.account.username}


@REGISTRY.function(
    "create_parked_domain_for_user",
    "Park a domain on one of an account's web vhosts (its main domain's: a parked domain; a "
    "subdomain's: an addon domain), with a DNS zone of its own.",
    params=(
        Param("username", "The account.", required=True, handler_refuses=True),
        Param("domain", "The domain to park.", required=True, handler_refuses=True),
        Param(
            "web_vhost_domain",
            "A domain of the account whose web vhost is to serve it.",
            required=True,
            handler_refuses=True,
        ),
    ),
    privileges=("park-dns",),
)
def create_parked_domain_for_user(call: Call) -> Reply:
    username = length_required(call, MODULE, "username")
    domain = length_required(call, MODULE, "domain")
    vhost = length_required(call, MODULE, "web_vhost_domain")
    config = call.gatehouse.config
    server = parking.Server(
        ip=ips.main_ip(config), nameservers=config.nameserver_list, hostname=config.server_hostname
    )
    parking.park(call, access.actor_of(call.principal), username, domain, vhost, server)
    return Reply(has_data=False)  # cPanel returns undef


@REGISTRY.function(
    "delete_domain",
    "Delete an account's subdomain, parked or addon domain by name; never a main domain.",
    params=(Param("domain", "The domain to delete.", required=True, handler_refuses=True),),
    privileges=ROOT_ONLY,
)
def delete_domain(call: Call) -> dict[str, Any]:
    deleted = user_domains.delete_domain(call, access.actor_of(call.principal), _domain(call))
    return {"type": deleted.kind, "username": deleted.username}


@REGISTRY.function(
    "updateuserdomains",
    "Rebuild the domain-to-account caches: gatehouse keeps none (it reads the store), so "
    "there is nothing to do.",
    privileges=ROOT_ONLY,
    readonly=True,
)
def updateuserdomains(call: Call) -> Reply:
    return Reply(has_data=False)
