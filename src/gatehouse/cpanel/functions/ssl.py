"""UAPI `SSL` (install_ssl, delete_ssl, installed_hosts, list_certs, list_keys) and API 2
`SSL::installssl`: an account's certificates on its own domains (gatehouse.domain.certificates;
docs/ssl.md).

API 2 installssl is what ACME installer plugins call (certbot-dns-cpanel's installer: GET
/json-api/cpanel with `domain`, `crt`, `key`, reading `data[0].result` and, on failure,
`data[0].output`): so a refusal is answered inside `data`, as cPanel does, not as an empty
`data` with `error` (the plugin would fail on `data[0]`). Nothing is written on a refusal:
every check runs before the first write.

No list holds key material: list_keys gives each key's id and public facts only.
"""

from __future__ import annotations

import re
from typing import Any

from gatehouse.api.call import Call
from gatehouse.cpanel.registry import UapiResult, api2, uapi
from gatehouse.domain import (
    access,
    autossl,
    certificates,
    ips,
    ssl_install_report,
    ssl_pem,
    ssl_storage,
    ssl_vhosts,
    users,
)
from gatehouse.errors import GatehouseError, InvalidParameter, NotFound

MODULE = "SSL"


def _domain(call: Call, crt: str) -> str:
    """Cpanel/API/SSL.pm: `domain` is optional — the certificate's subject CN
    (Cpanel::SSLInfo::getcrtdomain) — and `_install` drops a leading `www.`."""
    domain = (call.params.get("domain") or "").strip()
    if not domain:
        domain = ssl_pem.parse_certificate(crt).subject_cn
    domain = re.sub(r"\Awww\.", "", domain, flags=re.IGNORECASE)
    if not domain:
        raise InvalidParameter("Invalid host specified. Unable to continue.")
    return domain


def _key(call: Call, account: users.User, crt: str) -> str:
    """The key to install with, as install_ssl picks it: a key the account stores for the
    certificate wins over the one given (even a wrong one); else the one given must match."""
    given = (call.params.get("key") or "").strip()
    wanted = ssl_pem.parse_certificate(crt).key_id
    if certificates.key_pem(call.conn, call.gatehouse.keyring, account.id, wanted) is not None:
        return ""  # install_from_text takes the stored key
    if not given:
        raise InvalidParameter("No key in your account matches the given certificate.")
    if ssl_pem.parse_key(given).key_id != wanted:
        raise InvalidParameter("Certificate and key do not match.")
    return given


def _install(call: Call, cert_param: str) -> UapiResult:
    crt = (call.params.get(cert_param) or "").strip()
    if not crt:
        # cPanel's words, API 2's `crt` included (api2_installssl renames it to `cert`).
        raise InvalidParameter("No 'cert' argument specified.")
    actor = access.actor_of(call.principal)
    domain, account = certificates.own_domain(call.conn, actor, _domain(call, crt))
    ip = account.ip or ips.main_ip(call.gatehouse.config)
    done, said = ssl_install_report.install(
        call,
        call.gatehouse.keyring,
        account,
        domain,
        crt,
        _key(call, account, crt),
        call.params.get("cabundle"),
        ip,
    )
    call.after_commit.append(call.gatehouse.ssl_publisher.publish)
    # `data` is the installer's answer (as WHM's installssl), plus the stored ids.
    data = {
        **ssl_install_report.answer(said, done, account, domain, ip),
        "extra_certificate_domains": [],
    }
    return UapiResult(
        data=data,
        messages=[f"The certificate was successfully installed on the domain “{domain}”."],
    )


@uapi(
    MODULE,
    "install_ssl",
    "Install a certificate (cert, key, cabundle) on one of the account's domains (by default "
    "the certificate's common name).",
    slow=True,
)
def install_ssl(call: Call) -> UapiResult:
    return _install(call, "cert")


@api2(
    MODULE,
    "installssl",
    "Install a certificate (crt, key, cabundle) on one of the account's domains.",
    slow=True,
)
def installssl_api2(call: Call) -> list[dict[str, Any]]:
    # Cpanel/SSL.pm api2_installssl: UAPI install_ssl's messages (or errors), one a line.
    try:
        done = _install(call, "crt")
    except GatehouseError as exc:
        return [{"output": exc.reason, "result": 0}]
    return [{"output": "\n".join(done.messages or []), "result": 1}]


@uapi(
    MODULE,
    "delete_ssl",
    "Uninstall the certificate of one of the account's domains.",
    slow=True,
)
def delete_ssl(call: Call) -> UapiResult:
    """Cpanel/API/SSL.pm delete_ssl: `domain` defaults to the account's main domain; the
    uninstaller's refusal is told inside cPanel's sentence."""
    raw_domain = call.params.get("domain") or call.principal.user.domain
    if not raw_domain:
        raise InvalidParameter("No domain provided.")
    domain, _account = certificates.own_domain(
        call.conn, access.actor_of(call.principal), raw_domain
    )
    try:
        certificates.remove(call, domain)
    except NotFound as exc:
        raise InvalidParameter(
            f"Failed to remove SSL host for “{raw_domain}”: {exc.reason}"
        ) from exc
    call.after_commit.append(call.gatehouse.ssl_publisher.publish)
    return UapiResult(data=None, messages=["The SSL host was successfully removed."])


@uapi(
    MODULE,
    "installed_hosts",
    "The account's domains with an installed certificate, and that certificate.",
    readonly=True,
)
def installed_hosts(call: Call) -> list[dict[str, Any]]:
    """Cpanel/API/SSL.pm installed_hosts: each installed host as the ssl admin's
    FETCHINSTALLEDHOSTS gives it (Whostmgr::SSL::fetch_ssl_vhosts' is_primary_on_ip and
    needs_sni — gatehouse.domain.ssl_vhosts) with its `docroot`, `domains` (the servername and
    its parked domains — gatehouse has none — sorted), `fqdns` (every name of the vhost,
    sorted: the servername and its serveralias, as domainuserdata gives them) and
    `mail_sni_status` 1 beside the host's certificate, its text and its address. The
    certificate is Cpanel::SSL::APIFormat's record (gatehouse.domain.ssl_vhosts.api_record)
    with `is_autossl` (0/1) and, for AutoSSL's, `auto_ssl_provider` and
    `auto_ssl_provider_display_name` (cPanel's UAPI reference; cPanel's SSL/TLS Status page
    reads `is_autossl` of every certificate)."""
    account = call.principal.user
    config = call.gatehouse.config
    installed = certificates.installed(call.conn, user_id=account.id)
    by_autossl = autossl.installed_by_autossl(call.conn, installed)
    hosts = []
    for vhost in ssl_vhosts.of(call.conn, installed, ips.main_ip(config)):
        cert = vhost.installed.certificate
        record = ssl_vhosts.api_record(cert)
        record["is_autossl"] = int(cert.fingerprint in by_autossl)
        if record["is_autossl"]:
            record["auto_ssl_provider"] = autossl.PROVIDER_NAME
            record["auto_ssl_provider_display_name"] = autossl.display_name(config)
        hosts.append(
            {
                "certificate": dict(sorted(record.items())),
                "certificate_text": vhost.installed.certificate.pem,
                "docroot": vhost.docroot,
                "domains": [vhost.servername],
                "fqdns": vhost.names,
                "ip": vhost.ip,
                "is_primary_on_ip": int(vhost.primary),
                "mail_sni_status": 1,
                "needs_sni": int(vhost.needs_sni),
                "servername": vhost.servername,
                "verify_error": "",
            }
        )
    return hosts


@uapi(MODULE, "list_certs", "The account's stored certificates.", readonly=True)
def list_certs(call: Call) -> list[dict[str, Any]]:
    """Cpanel/API/SSL.pm list_certs: the SSL storage's certificate records, with
    `domain_is_configured` (gatehouse.domain.ssl_storage)."""
    return ssl_storage.list_certs(call.conn, call.principal.user)


@uapi(
    MODULE,
    "list_keys",
    "The account's stored private keys: ids and public facts, never the key itself.",
    readonly=True,
)
def list_keys(call: Call) -> list[dict[str, Any]]:
    """Cpanel/API/SSL.pm list_keys: the SSL storage's key records."""
    account = call.principal.user
    keyring = call.gatehouse.keyring
    return [
        ssl_storage.key_record(call.conn, keyring, key)
        for key in certificates.keys_of(call.conn, account.id)
    ]
