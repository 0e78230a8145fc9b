"""UAPI `SSL`: deleting stored keys, certificates and CSRs (by `id` or `friendly_name`),
`fetch_cert_info`, `generate_cert` (self-signed), `set_default_key_type` /
`get_default_key_type`; and cPanel API 2 `SSL::genkey`, `gencsr`, `listkeys`, `listcsrs`,
`listcrts` — what older billing modules call through WHM's `cpanel` function
(gatehouse.domain.ssl_storage, gatehouse.domain.ssl_requests; docs/ssl.md).

A deleted item's answer is a one-item list of its facts, as cPanel's reference shows. What is
in use is refused (a certificate installed on a domain, or its key). A key's PEM is returned
to its account only (`fetch_cert_info`'s `key`, `show_key`, `genkey`'s `key`), never in a
list.
"""

from __future__ import annotations

import re
from typing import Any

from gatehouse.api.call import Call
from gatehouse.cpanel import args
from gatehouse.cpanel.registry import api2, uapi
from gatehouse.domain import access, certificates, ips, ssl_pem, ssl_requests, ssl_storage, ssl_text
from gatehouse.errors import InvalidParameter, missing_parameter

MODULE = "SSL"


def _cert_facts(cert: certificates.StoredCertificate) -> dict[str, Any]:
    info = certificates.describe(cert)
    info["friendly_name"] = cert.shown_name
    return info


def _key_facts(key: certificates.StoredKey) -> dict[str, Any]:
    return {
        "created": key.created_time,
        "ecdsa_curve_name": None,
        "friendly_name": key.shown_name,
        "id": key.key_id,
        "key_algorithm": {"rsa": "rsaEncryption", "ecdsa": "id-ecPublicKey"}.get(
            key.key_algorithm, key.key_algorithm
        ),
        "modulus": key.modulus,
        "modulus_length": (len(key.modulus) * 4) if key.modulus else None,
    }


# -- UAPI -----------------------------------------------------------------------------------------


@uapi(MODULE, "delete_key", "Delete a stored private key (id or friendly_name).")
def delete_key(call: Call) -> list[dict[str, Any]]:
    account = call.principal.user
    key = ssl_storage.find_key(
        call.conn, account, call.params.get("id"), call.params.get("friendly_name")
    )
    ssl_storage.delete_key(call, account, key)
    return [_key_facts(key)]


@uapi(
    MODULE,
    "show_key",
    "A stored private key (id or friendly_name): its text and public facts, to its account.",
    readonly=True,
)
def show_key(call: Call) -> dict[str, Any]:
    account = call.principal.user
    key = ssl_storage.find_key(
        call.conn, account, call.params.get("id"), call.params.get("friendly_name")
    )
    text = certificates.key_pem(call.conn, call.gatehouse.keyring, account.id, key.key_id)
    return {"details": _key_facts(key), "key": text}


@uapi(MODULE, "delete_cert", "Delete a stored certificate (id or friendly_name).")
def delete_cert(call: Call) -> list[dict[str, Any]]:
    account = call.principal.user
    cert = ssl_storage.find_certificate(
        call.conn, account, call.params.get("id"), call.params.get("friendly_name")
    )
    ssl_storage.delete_certificate(call, account, cert)
    return [_cert_facts(cert)]


@uapi(MODULE, "delete_csr", "Delete a stored certificate signing request (id or friendly_name).")
def delete_csr(call: Call) -> list[dict[str, Any]]:
    account = call.principal.user
    csr = ssl_storage.find_csr(
        call.conn, account, call.params.get("id"), call.params.get("friendly_name")
    )
    ssl_storage.delete_csr(call, account, csr)
    return [ssl_requests.describe_csr(csr)]


@uapi(
    MODULE,
    "fetch_cert_info",
    "A stored certificate (id or friendly_name): its text, its key (if stored), its CA bundle "
    "and its common name's address.",
    readonly=True,
)
def fetch_cert_info(call: Call) -> dict[str, Any]:
    """Cpanel/API/SSL.pm fetch_cert_info: Cpanel::SSLInfo::fetch_crt_info's hash, nothing
    else (gatehouse.domain.ssl_storage.cert_info)."""
    account = call.principal.user
    cert = ssl_storage.find_for_info(
        call.conn, account, call.params.get("id"), call.params.get("friendly_name")
    )
    ip = account.ip or ips.main_ip(call.gatehouse.config)
    return ssl_storage.cert_info(call.conn, call.gatehouse.keyring, account, cert, ip)


@uapi(
    MODULE,
    "fetch_certificates_for_fqdns",
    "The account's stored certificates (with their keys) for the domains given, best first.",
    readonly=True,
)
def fetch_certificates_for_fqdns(call: Call) -> list[dict[str, Any]]:
    """Cpanel/API/SSL.pm fetch_certificates_for_fqdns: Cpanel::SSL::Search over the account's
    own storage (gatehouse.domain.ssl_storage.certificates_for_fqdns), `certificate` and
    `ca_bundle` renamed `crt` and `cab`, `users` dropped, `domain_is_configured` added (as
    list_certs')."""
    account = call.principal.user
    wanted = [d for d in re.split(r"[,;\s]+", args.length_required(call, "domains")) if d]
    found = ssl_storage.certificates_for_fqdns(
        call.conn, call.gatehouse.keyring, [account], wanted, call.now
    )
    capable = ssl_storage.ssl_capable_domains(call.conn, account)
    out = []
    for item in found:
        item["crt"], item["cab"] = item.pop("certificate"), item.pop("ca_bundle")
        del item["users"]
        configured = any(ssl_pem.covers(item["domains"], d) for d in capable)
        out.append(dict(sorted({**item, "domain_is_configured": int(configured)}.items())))
    return out


def _subject(call: Call, *, required: bool) -> ssl_requests.Subject:
    get = (lambda n: args.length_required(call, n)) if required else call.params.get
    return ssl_requests.Subject.checked(
        country=get("countryName"),
        state=get("stateOrProvinceName"),
        locality=get("localityName"),
        organization=get("organizationName"),
        unit=call.params.get("organizationalUnitName"),
        email=call.params.get("emailAddress"),
    )


@uapi(
    MODULE,
    "generate_cert",
    "Generate a self-signed certificate for the account's domains with one of its keys; "
    "stored, not installed.",
)
def generate_cert(call: Call) -> dict[str, Any]:
    names = ssl_requests.parse_names(args.length_required(call, "domains"))
    account = ssl_requests.own_names(call.conn, access.actor_of(call.principal), names)
    subject = _subject(call, required=True)
    key = ssl_requests.stored_key(
        call.conn, call.gatehouse.keyring, account, args.length_required(call, "key_id")
    )
    friendly = ssl_requests.friendly(call.params.get("friendly_name"))
    pem = ssl_requests.self_signed(key, names, subject, call.now)
    cert = ssl_requests.store_self_signed(call, account, pem, friendly or names[0])
    return {**_cert_facts(cert), "text": cert.pem}


@uapi(
    MODULE,
    "set_default_key_type",
    "Set the key type the account's new keys get (system, rsa-2048, rsa-4096, "
    "ecdsa-prime256v1, ecdsa-secp384r1).",
)
def set_default_key_type(call: Call) -> None:
    ssl_storage.set_default_key_type(call, call.principal.user, args.length_required(call, "type"))
    return None


@uapi(
    MODULE,
    "get_default_key_type",
    "The key type the account's new keys get.",
    readonly=True,
)
def get_default_key_type(call: Call) -> str:
    return ssl_storage.default_key_type(call.conn, call.principal.user)


# -- cPanel API 2 ---------------------------------------------------------------------------------


def _host(call: Call) -> str:
    raw = call.params.get("host")
    if not raw or not raw.strip():
        raise missing_parameter("host")
    names = ssl_requests.parse_names(raw)
    if len(names) != 1:
        raise InvalidParameter("Give one domain as “host”.")
    ssl_requests.own_names(call.conn, access.actor_of(call.principal), names)
    return names[0]


@api2(
    MODULE,
    "genkey",
    "Generate a private key for one of the account's domains (host, keysize); stored "
    "encrypted, its PEM returned once.",
    slow=True,
)
def genkey(call: Call) -> list[dict[str, Any]]:
    host = _host(call)
    account = call.principal.user
    kind = ssl_storage.key_type_for(call.conn, account, None, call.params.get("keysize"))
    key = ssl_requests.new_key(kind)
    ssl_requests.store_new_key(call, call.gatehouse.keyring, account, key, host)
    # cPanel's api2_genkey (Cpanel/SSL.pm): {result, output, key}, nothing else.
    return [{"key": key.pem, "output": "Private key generated!", "result": 1}]


@api2(
    MODULE,
    "gencsr",
    "Generate a certificate signing request for one of the account's domains (host, country, "
    "state, city, company, companydivision, email) with the key generated for it.",
)
def gencsr(call: Call) -> list[dict[str, Any]]:
    host = _host(call)
    account = call.principal.user
    subject = ssl_requests.Subject.checked(
        country=args.length_required(call, "country"),
        state=args.length_required(call, "state"),
        locality=args.length_required(call, "city"),
        organization=args.length_required(call, "company"),
        unit=call.params.get("companydivision"),
        email=call.params.get("email"),
    )
    stored = ssl_requests.key_for_host(call.conn, account, host)
    key = ssl_requests.stored_key(call.conn, call.gatehouse.keyring, account, stored)
    pem = ssl_requests.make_csr(key, [host], subject)
    ssl_requests.store_csr(call, account, key, [host], pem, host)
    # cPanel's api2_gencsr: {result, output}; output is UAPI generate_csr's message.
    return [{"output": "Certificate Signing Request generated!", "result": 1}]


def _hosts(names: list[str]) -> list[str]:
    """cPanel's `_lister` (Cpanel/SSL.pm): the friendly names sorted, any with a space left out."""
    return sorted(name for name in names if " " not in name)


@api2(MODULE, "listkeys", "The account's stored private keys: [{host}].", readonly=True)
def listkeys(call: Call) -> list[dict[str, Any]]:
    keys = certificates.keys_of(call.conn, call.principal.user.id)
    return [{"host": name} for name in _hosts([key.shown_name for key in keys])]


@api2(MODULE, "listcsrs", "The account's certificate signing requests: [{host}].", readonly=True)
def listcsrs(call: Call) -> list[dict[str, Any]]:
    csrs = ssl_requests.csrs_of(call.conn, call.principal.user.id)
    return [{"host": name} for name in _hosts([csr.friendly_name for csr in csrs])]


_ISSUER_CN = re.compile(r"\s+CN\s*=\s*([^\s,]+)")
_NOT_AFTER = re.compile(r"Not\s+After\s*:\s*([^\n]*)")


@api2(
    MODULE,
    "listcrts",
    "The account's stored certificates: [{host, issuer, ssltxt, expiredate}].",
    readonly=True,
)
def listcrts(call: Call) -> list[dict[str, Any]]:
    # cPanel's api2_listcrts: per friendly name, the first certificate of that name as
    # `openssl x509 -text` writes it, the first `CN = ` in it (the issuer's) and `Not After`.
    by_name: dict[str, certificates.StoredCertificate] = {}
    for cert in certificates.certificates_of(call.conn, call.principal.user.id):
        by_name.setdefault(cert.shown_name, cert)
    out = []
    for name in _hosts(list(by_name)):
        text = ssl_text.certificate_text(by_name[name].pem)
        issuer = _ISSUER_CN.search(text)
        expires = _NOT_AFTER.search(text)
        out.append(
            {
                "expiredate": expires.group(1) if expires else None,
                "host": name,
                "issuer": issuer.group(1).split("/")[0] if issuer else None,
                "ssltxt": text,
            }
        )
    return out
