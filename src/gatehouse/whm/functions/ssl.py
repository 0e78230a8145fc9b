"""installssl, fetchsslinfo, listcrts, fetch_ssl_vhosts, delete_ssl_vhost, generatessl,
fetch_vhost_ssl_components: certificates of the accounts' domains
(gatehouse.domain.certificates, gatehouse.domain.ssl_requests; docs/ssl.md).

Shapes follow cPanel's WHM API 1 reference (installssl, fetchsslinfo, listcrts,
fetch_ssl_vhosts, delete_ssl_vhost). gatehouse serves no web sites: "installing" stores the
certificate for the domain and writes the files a web server loads (GATEHOUSE_SSL_DIR), then
runs the operator's reload command in the background.

Privileges as cPanel guards them: `ssl` to install and remove, `ssl-info` to read,
`ssl-gencrt` (or `ssl`, which WHM's reference lists for it) to generate. A reseller
acts on the domains of the accounts it owns (the access rule's REACH), and is told nothing of
the others. fetchsslinfo returns the private key, as cPanel's does, to whoever administers the
account; no list ever holds key material.
"""

from __future__ import annotations

import re
from typing import Any

from gatehouse.api.call import Call
from gatehouse.api.registry import Param, Reply
from gatehouse.domain import (
    access,
    certificates,
    ips,
    ssl_fetchinfo,
    ssl_install_report,
    ssl_pem,
    ssl_requests,
    ssl_storage,
    ssl_vhosts,
    users,
)
from gatehouse.errors import GatehouseError, InvalidParameter
from gatehouse.whm import api0
from gatehouse.whm.registry import REGISTRY

INSTALL = ("ssl",)
READ = ("ssl-info",)
GENERATE = ("ssl-gencrt", "ssl")


def _ip(call: Call, account: users.User) -> str:
    return account.ip or ips.main_ip(call.gatehouse.config)


def _publish(call: Call) -> None:
    call.after_commit.append(call.gatehouse.ssl_publisher.publish)


@REGISTRY.function(
    "installssl",
    "Install a certificate (with its key and CA bundle) on a domain of an account: checked, "
    "stored (the key encrypted) and written for the web server.",
    params=(
        Param("domain", "The domain (an account's main domain or subdomain).", required=True),
        Param("crt", "The certificate (PEM).", required=True),
        Param("key", "The certificate's private key (PEM).", required=True, secret=True),
        Param("cab", "The CA bundle (PEM): the chain must verify up to it."),
        Param("ip", "Accepted for compatibility; the account's address is used."),
    ),
    privileges=INSTALL,
    slow=True,
    api0=api0.installssl,
)
def installssl(call: Call) -> Reply:
    actor = access.actor_of(call.principal)
    domain, account = certificates.reach_domain(call.conn, actor, _without_www(call))
    ip = _ip(call, account)
    done, said = ssl_install_report.install(
        call,
        call.gatehouse.keyring,
        account,
        domain,
        call.require("crt"),
        call.require("key"),
        call.params.get("cab"),
        ip,
    )
    _publish(call)
    # Whostmgr/API/1/SSL.pm: the reason is the installer's message, the raw output its html.
    return Reply(
        data=ssl_install_report.answer(said, done, account, domain, ip),
        reason=said.message,
        metadata={"output": {"raw": said.html}},
    )


def _without_www(call: Call) -> str:
    """real_installssl trims the domain, lower-cases it and drops a leading `www.`."""
    return re.sub(r"\Awww\.", "", call.require("domain").strip().lower())


@REGISTRY.function(
    "fetchsslinfo",
    "The certificate, key and CA bundle installed on a domain (`domain`), or the stored key "
    "for a certificate (`crtdata`).",
    params=(
        Param("domain", "The domain whose installed certificate to return."),
        Param("crtdata", "A certificate (PEM): return the stored key that matches it."),
    ),
    privileges=READ,
    readonly=True,
    api0=api0.fetchsslinfo,
    # Whostmgr/XMLUI/Meta.pm: API 0's fetchsslinfo checks `ssl`, not `ssl-info`.
    api0_privileges=("ssl",),
)
def fetchsslinfo(call: Call) -> Reply:
    """Whostmgr/API/1/SSL.pm fetchsslinfo over Whostmgr::SSL::reseller_aware_fetch_sslinfo:
    hasroot() searches its own storage and the domain's owner's; a reseller its own, and the
    owner's when it owns the domain's account (a certificate given alone: its own only)."""
    actor = access.actor_of(call.principal)
    domain = call.params.get("domain") or ""
    crtdata = call.params.get("crtdata") or ""
    if not domain and not crtdata:
        raise InvalidParameter("No certificate data or domain supplied.")
    searched = [actor.user]
    owner = None
    if actor.sees_all:
        name = domain or _certificate_cn(crtdata)
        owner = certificates.domain_owner(call.conn, name.lower()) if name else None
    elif domain:
        owner = certificates.domain_owner(call.conn, domain.lower())
        if owner is not None and not access.to_account(actor, owner, domain).allowed:
            owner = None
    if owner is not None and owner.id != actor.user.id:
        searched.append(owner)
    found = ssl_fetchinfo.fetch_info(
        call.conn,
        call.gatehouse.keyring,
        domain=domain or None,
        crt=crtdata or None,
        searched=searched,
        crt_user=actor.user.username,
        ip_of=lambda account: _ip(call, account),
    )
    status, message = found.pop("status"), found.pop("statusmsg")
    if not status:
        raise InvalidParameter(message)
    metadata = {"output": {"messages": [message]}} if not found.get("crt") and message else None
    # API 0 (Whostmgr/XMLUI/SSL.pm fetchinfo) gives fetchinfo's own status and message.
    return Reply(data=found, metadata=metadata, api0_reason=message)


def _certificate_cn(crtdata: str) -> str:
    try:
        return ssl_pem.parse_certificate(crtdata).subject_cn
    except GatehouseError:
        return ""


def _visible(call: Call, user: str | None) -> list[certificates.Installed]:
    actor = access.actor_of(call.principal)
    if user:
        account = access.require_account(call.conn, actor, user)
        return certificates.installed(call.conn, user_id=account.id)
    return certificates.installed(call.conn, owner=access.visible_owner(actor))


@REGISTRY.function(
    "listcrts",
    "The certificates in the caller's SSL storage (or in `user`'s, an account it owns), with "
    "the owner of each name they cover.",
    params=(
        Param("user", "Whose SSL storage (default: the caller's own)."),
        Param("registered", "1: only those whose first name an account holds."),
    ),
    privileges=READ,
    readonly=True,
    api0=api0.listcrts,
)
def listcrts(call: Call) -> dict[str, Any]:
    """Whostmgr/API/1/SSL.pm listcrts over Whostmgr::SSL::list_cert_domains_with_owners: the
    storage of `user` (default: the caller), which the caller must own unless it is itself
    (hasroot() owns everyone), not what is installed (fetch_ssl_vhosts)."""
    actor = access.actor_of(call.principal)
    name = call.params.get("user") or actor.user.username
    listed = actor.user
    if name != actor.user.username:
        target = users.get(call.conn, name)
        owned = actor.sees_all or (
            target is not None and not target.is_root and target.owner == actor.user.username
        )
        if not owned:
            raise InvalidParameter(f"You do not own a user “{name}”.")
        if target is None:  # Cpanel::SSLStorage::User->new's refusal
            raise InvalidParameter(f"The user “{name}” does not exist.")
        listed = target
    # Perl's truth: anything but "", "0" (and absent) asks for the registered ones only.
    registered = (call.params.get("registered") or "0") != "0"
    return {
        "crt": ssl_storage.list_with_owners(call.conn, actor, listed, registered_only=registered)
    }


@REGISTRY.function(
    "fetch_ssl_certificates_for_fqdns",
    "The stored certificates (with their keys) for the domains given, from the caller's SSL "
    "storage and that of the domains' owner when the caller administers it; best first.",
    params=(
        Param(
            "domains",
            "The domains, separated by commas, semicolons or blanks (`*.` names a wildcard).",
            required=True,
            handler_refuses=True,
        ),
    ),
    privileges=READ,
    readonly=True,
)
def fetch_ssl_certificates_for_fqdns(call: Call) -> dict[str, Any]:
    """Whostmgr/API/1/SSL.pm fetch_ssl_certificates_for_fqdns: the caller's own storage, and
    first the owner's of the first domain given that has one, when the caller owns it (root
    owns everyone); Cpanel::SSL::Search's records with `certificate`/`ca_bundle` renamed
    `crt`/`cab`, in `payload` (gatehouse.domain.ssl_storage.certificates_for_fqdns)."""
    raw = call.params.get("domains")
    if raw is None:
        raise InvalidParameter(
            "Provide the “domains” parameter for the "
            "“Whostmgr::API::1::SSL::fetch_ssl_certificates_for_fqdns” function."
        )
    if raw == "":
        raise InvalidParameter("The value of “domains” may not be empty.")
    wanted = [d for d in re.split(r"[,;\s]+", raw) if d]
    actor = access.actor_of(call.principal)
    searched = [actor.user]
    owner = next(
        (o for o in (certificates.domain_owner(call.conn, d.lower()) for d in wanted) if o),
        None,
    )
    administered = owner is not None and (
        actor.sees_all or (not owner.is_root and owner.owner == actor.user.username)
    )
    if owner is not None and administered and owner.username != actor.user.username:
        searched.insert(0, owner)
    found = ssl_storage.certificates_for_fqdns(
        call.conn, call.gatehouse.keyring, searched, wanted, call.now
    )
    for item in found:
        item["crt"], item["cab"] = item.pop("certificate"), item.pop("ca_bundle")
    return {"payload": [dict(sorted(item.items())) for item in found]}


@REGISTRY.function(
    "fetch_ssl_vhosts",
    "The SSL virtual hosts (domains with an installed certificate) the caller administers, "
    "each with its certificate, address and names.",
    privileges=READ,
    readonly=True,
)
def fetch_ssl_vhosts(call: Call) -> dict[str, Any]:
    """Whostmgr/API/1/SSL.pm fetch_ssl_vhosts over Whostmgr::SSL::fetch_ssl_vhosts(aliases
    => 1): `sslhost` renamed `servername`, `domains` the servername and its aliases sorted,
    `hasssl` and `sharedip` taken out (gatehouse.domain.ssl_vhosts)."""
    vhosts = []
    for vhost in ssl_vhosts.of(call.conn, _visible(call, None), ips.main_ip(call.gatehouse.config)):
        vhosts.append(
            {
                "crt": ssl_vhosts.tls_record(vhost.installed),
                "docroot": vhost.docroot,
                "domains": vhost.names,
                "ip": vhost.ip,
                "iptype": "shared" if vhost.shared else "dedicated",
                "ipv6": "",  # gatehouse gives no account a dedicated IPv6 address
                "is_primary_on_ip": int(vhost.primary),
                "mail_sni_status": 1,
                "needs_sni": int(vhost.needs_sni),
                "servername": vhost.servername,
                "type": vhost.kind,
                "user": vhost.account.username,
            }
        )
    return {"vhosts": vhosts}


@REGISTRY.function(
    "delete_ssl_vhost",
    "Uninstall the certificate of a domain (its files are removed; the certificate and key "
    "stay stored).",
    params=(Param("host", "The domain.", required=True),),
    privileges=INSTALL,
    slow=True,
)
def delete_ssl_vhost(call: Call) -> None:
    actor = access.actor_of(call.principal)
    domain, _account = certificates.reach_domain(call.conn, actor, call.require("host"))
    certificates.remove(call, domain)
    _publish(call)
    return None


def _either(call: Call, name: str, legacy: str) -> str | None:
    """cPanel's current parameter name, else its older one (generatessl took `host`,
    `country`, `state`, `city`, `co`, `cod`, `email` before it took the X.509 names)."""
    return call.params.get(name) or call.params.get(legacy)


@REGISTRY.function(
    "generatessl",
    "Generate a private key, a certificate signing request and a self-signed certificate "
    "for any domains, stored in the caller's own SSL storage (the key encrypted).",
    params=(
        Param("domains", "The domains, comma-separated (`host`: one, the older name).", multi=True),
        Param("countryName", "The two-letter country code (`country`)."),
        Param("stateOrProvinceName", "The state or province (`state`)."),
        Param("localityName", "The city or locality (`city`)."),
        Param("organizationName", "The organization (`co`)."),
        Param("organizationalUnitName", "The organization's unit (`cod`)."),
        Param("emailAddress", "A contact email address (`email`)."),
        Param("keysize", "The RSA key's size in bits: 2048 (the default) or 4096.", type="integer"),
        Param("skip_certificate", "1: make the key and the CSR only.", type="boolean"),
        Param(
            "pass",
            "Accepted for compatibility and ignored: not written into the CSR, not stored.",
        ),
        Param("xemail", "Accepted for compatibility; ignored (gatehouse sends no mail)."),
    ),
    privileges=GENERATE,
    slow=True,
    api0=api0.generatessl,
    # Whostmgr/XMLUI/Meta.pm: API 0's generatessl checks `ssl` only.
    api0_privileges=("ssl",),
)
def generatessl(call: Call) -> Reply:
    """Whostmgr::SSL::generate: everything goes into the CALLER's SSL storage (root's for
    root, Cpanel::SSLStorage::User->new(user => REMOTE_USER)), whoever holds the domains (no
    account is touched, so none is checked). The certificate is named after its domains, the
    CSR and the key after the certificate (after the CSR when the certificate is skipped).
    The answer is cPanel's, its three storage paths (`keyfile`, `certfile`, `csrfile`) named
    as cPanel names them though gatehouse's SSL storage is rows of its store (docs/ssl.md)."""
    raw = call.params.getlist("domains") or [call.params.get("host") or ""]
    if not any(r.strip() for r in raw):
        raise InvalidParameter("Give the certificate's domains (`domains`).")
    names = ssl_requests.parse_names(raw)
    account = access.actor_of(call.principal).user
    subject = ssl_requests.Subject.checked(
        country=_either(call, "countryName", "country"),
        state=_either(call, "stateOrProvinceName", "state"),
        locality=_either(call, "localityName", "city"),
        organization=_either(call, "organizationName", "co"),
        unit=_either(call, "organizationalUnitName", "cod"),
        email=_either(call, "emailAddress", "email"),
    )
    key = ssl_requests.new_key(ssl_requests.key_type(None, call.params.get("keysize")))
    # The mail's sender, as Whostmgr::SSL::generate names it (root sends as `cpanel`).
    sender = account.username if account.username != "root" else "cpanel"
    data: dict[str, Any] = {
        "cert": None,
        "cert_id": None,
        "key": key.pem,
        "key_id": key.key_id,
        "sender": sender,
        "sender_host": call.gatehouse.config.server_hostname,
    }
    name = None
    skip = call.params.get("skip_certificate") in ("1", "true")
    if not skip:
        pem = ssl_requests.self_signed(key, names, subject, call.now)
        row = certificates.store_certificate(call, account.id, ssl_pem.parse_certificate(pem))
        stored = next(
            c for c in certificates.certificates_of(call.conn, account.id) if c.row_id == row
        )
        name = stored.shown_name
        data.update({"cert": pem, "cert_id": stored.cert_id})
    csr = ssl_requests.store_csr(
        call, account, key, names, ssl_requests.make_csr(key, names, subject), name
    )
    ssl_requests.store_new_key(call, call.gatehouse.keyring, account, key, csr.friendly_name)
    data.update({"csr": csr.pem, "csr_id": csr.csr_id})
    data.update(_storage_paths(account.username, data["cert_id"], csr.csr_id, key.key_id))
    # Whostmgr/API/1/SSL.pm generatessl: the generator's message is the reason.
    said = "Key and CSR generated OK" if skip else "Key, Certificate, and CSR generated OK"
    return Reply(data=dict(sorted(data.items())), reason=said)


def _storage_paths(user: str, cert_id: str | None, csr_id: str, key_id: str) -> dict[str, Any]:
    """Where Whostmgr::SSL::_generate_with_key says Cpanel::SSLStorage::User keeps what it
    made: root's storage under /var/cpanel/ssl/system, an account's under ~/ssl. gatehouse
    keeps them as rows of its store, so these name no file of its own (as domainuserdata's
    /home paths); a client reads them as cPanel gives them."""
    base = "/var/cpanel/ssl/system" if user == users.ROOT else f"/home/{user}/ssl"
    return {
        "certfile": None if cert_id is None else f"{base}/certs/{cert_id}.crt",
        "csrfile": f"{base}/csrs/{csr_id}.csr",
        "keyfile": f"{base}/keys/{key_id}.key",
    }


@REGISTRY.function(
    "fetch_vhost_ssl_components",
    "The components of each installed certificate: the certificate, its key, its CA bundle and "
    "their ids (Whostmgr::SSL::fetch_vhost_ssl_components).",
    privileges=READ,
    readonly=True,
)
def fetch_vhost_ssl_components(call: Call) -> dict[str, Any]:
    # As cPanel's, the key is returned with the certificate to whoever administers the account
    # (as fetchsslinfo returns it); decrypted here only.
    components = []
    for item in _visible(call, None):
        components.append(
            {
                "cabundle": item.cabundle,
                "cabundle_id": (
                    ssl_pem.parse_bundle(item.cabundle)[0].fingerprint if item.cabundle else None
                ),
                "certificate": item.certificate.pem,
                "certificate_id": item.certificate.cert_id,
                "key": certificates.key_pem(
                    call.conn, call.gatehouse.keyring, item.user_id, item.certificate.key_id
                ),
                "key_id": item.certificate.key_id,
                "servername": item.domain,
            }
        )
    return {"components": components}
