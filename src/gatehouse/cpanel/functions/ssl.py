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

from typing import Any

from gatehouse.api.call import Call
from gatehouse.cpanel.registry import UapiResult, api2, uapi
from gatehouse.domain import access, certificates, ips
from gatehouse.errors import GatehouseError, missing_parameter

MODULE = "SSL"


def _install(call: Call, cert_param: str, bundle_param: str) -> dict[str, Any]:
    raw_domain = call.params.get("domain")
    if not raw_domain:
        raise missing_parameter("domain")
    crt = call.params.get(cert_param)
    if not crt:
        raise missing_parameter(cert_param)
    actor = access.actor_of(call.principal)
    domain, account = certificates.own_domain(call.conn, actor, raw_domain)
    done = certificates.install_from_text(
        call,
        call.gatehouse.keyring,
        account,
        domain,
        crt,
        call.params.get("key") or "",
        call.params.get(bundle_param),
    )
    call.after_commit.append(call.gatehouse.ssl_publisher.publish)
    ip = account.ip or ips.main_ip(call.gatehouse.config)
    message = (
        f"The SSL certificate is now installed onto the domain “{domain}” using the IP "
        f"address “{ip}”."
    )
    return {
        "action": "install",
        "cert_id": done.certificate.cert_id,
        "domain": domain,
        "extra_certificate_domains": [],
        "ip": ip,
        "key_id": done.certificate.key_id,
        "message": message,
        "statusmsg": message,
        "user": account.username,
        "warning_domains": [],
        "working_domains": [domain],
    }


@uapi(
    MODULE,
    "install_ssl",
    "Install a certificate (cert, key, cabundle) on one of the account's domains.",
    slow=True,
)
def install_ssl(call: Call) -> dict[str, Any]:
    return _install(call, "cert", "cabundle")


@api2(
    MODULE,
    "installssl",
    "Install a certificate (crt, key, cabundle) on one of the account's domains.",
    slow=True,
)
def installssl_api2(call: Call) -> list[dict[str, Any]]:
    try:
        done = _install(call, "crt", "cabundle")
    except GatehouseError as exc:
        return [{"output": exc.reason, "result": 0, "status": 0, "statusmsg": exc.reason}]
    return [
        {
            "domain": done["domain"],
            "ip": done["ip"],
            "output": done["message"],
            "result": 1,
            "status": 1,
            "statusmsg": done["message"],
            "user": done["user"],
        }
    ]


@uapi(
    MODULE,
    "delete_ssl",
    "Uninstall the certificate of one of the account's domains.",
    slow=True,
)
def delete_ssl(call: Call) -> UapiResult:
    raw_domain = call.params.get("domain")
    if not raw_domain:
        raise missing_parameter("domain")
    domain, _account = certificates.own_domain(
        call.conn, access.actor_of(call.principal), raw_domain
    )
    certificates.remove(call, domain)
    call.after_commit.append(call.gatehouse.ssl_publisher.publish)
    return UapiResult(
        data=None, messages=[f"The SSL certificate for “{domain}” has been uninstalled."]
    )


@uapi(
    MODULE,
    "installed_hosts",
    "The account's domains with an installed certificate, and that certificate.",
    readonly=True,
)
def installed_hosts(call: Call) -> list[dict[str, Any]]:
    account = call.principal.user
    ip = account.ip or ips.main_ip(call.gatehouse.config)
    return [
        {
            "certificate": certificates.describe(item.certificate),
            "domains": [item.domain],
            "fqdns": [item.domain],
            "ip": ip,
            "is_primary_on_ip": int(item.domain == account.domain),
            "servername": item.domain,
            "verify_error": "",
        }
        for item in certificates.installed(call.conn, user_id=account.id)
    ]


@uapi(MODULE, "list_certs", "The account's stored certificates.", readonly=True)
def list_certs(call: Call) -> list[dict[str, Any]]:
    account = call.principal.user
    on = {i.certificate.row_id for i in certificates.installed(call.conn, user_id=account.id)}
    out = []
    for cert in certificates.certificates_of(call.conn, account.id):
        info = certificates.describe(cert)
        info["domain_is_configured"] = int(cert.row_id in on)
        info["friendly_name"] = cert.friendly_name or cert.subject_cn or cert.cert_id
        out.append(info)
    return out


@uapi(
    MODULE,
    "list_keys",
    "The account's stored private keys: ids and public facts, never the key itself.",
    readonly=True,
)
def list_keys(call: Call) -> list[dict[str, Any]]:
    return [
        {
            "created": key.created_time,
            "ecdsa_curve_name": None,
            "friendly_name": key.friendly_name or key.key_id[:16],
            "id": key.key_id,
            "key_algorithm": {"rsa": "rsaEncryption", "ecdsa": "id-ecPublicKey"}.get(
                key.key_algorithm, key.key_algorithm
            ),
            "modulus": key.modulus,
            "modulus_length": (len(key.modulus) * 4) if key.modulus else None,
        }
        for key in certificates.keys_of(call.conn, call.principal.user.id)
    ]
