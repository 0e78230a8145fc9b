"""UAPI `SSL`: an account's keys, certificate signing requests and stored certificates —
generate_key, upload_key, generate_csr, list_csrs, upload_cert, fetch_best_for_domain,
fetch_key_and_cabundle_for_certificate (gatehouse.domain.ssl_requests; docs/ssl.md).

Parameters and answers follow cPanel's UAPI reference. Keys are stored encrypted; a key's
PEM is returned to its account only (generate_key's `text`, the two fetch functions), never in
a list. An account makes requests for its own domains only (their `www.` and wildcard
included), with the refusal it gets for any domain not its own.
"""

from __future__ import annotations

from typing import Any

from gatehouse.api.call import Call
from gatehouse.cpanel import args
from gatehouse.cpanel.registry import UapiResult, uapi
from gatehouse.domain import (
    access,
    certificates,
    ips,
    ssl_fetchinfo,
    ssl_pem,
    ssl_requests,
    ssl_storage,
)
from gatehouse.errors import InvalidParameter

MODULE = "SSL"


def _key_answer(key: ssl_pem.Key, friendly_name: str, created: int) -> dict[str, Any]:
    return {"created": created, "friendly_name": friendly_name, **ssl_requests.key_facts(key)}


@uapi(
    MODULE,
    "generate_key",
    "Generate a private key (keytype: rsa-2048, rsa-4096, ecdsa-prime256v1, ecdsa-secp384r1; "
    "or keysize), stored encrypted; its PEM is returned once, in `text`.",
    slow=True,
)
def generate_key(call: Call) -> dict[str, Any]:
    account = call.principal.user
    kind = ssl_storage.key_type_for(
        call.conn, account, call.params.get("keytype"), call.params.get("keysize")
    )
    name = ssl_requests.friendly(call.params.get("friendly_name"))
    key = ssl_requests.new_key(kind)
    stored_name = ssl_requests.store_new_key(call, call.gatehouse.keyring, account, key, name)
    return {**_key_answer(key, stored_name, call.now), "text": key.pem}


@uapi(
    MODULE,
    "upload_key",
    "Store a private key (PEM, unencrypted), encrypted at rest.",
    slow=True,
)
def upload_key(call: Call) -> dict[str, Any]:
    key = ssl_pem.parse_key(args.length_required(call, "key"))
    name = ssl_requests.friendly(call.params.get("friendly_name"))
    stored_name = ssl_requests.store_new_key(
        call, call.gatehouse.keyring, call.principal.user, key, name, ssl_requests.UPLOAD
    )
    return _key_answer(key, stored_name, call.now)


@uapi(
    MODULE,
    "generate_csr",
    "Generate a certificate signing request for the account's domains with one of its keys.",
)
def generate_csr(call: Call) -> dict[str, Any]:
    names = ssl_requests.parse_names(args.length_required(call, "domains"))
    actor = access.actor_of(call.principal)
    account = ssl_requests.own_names(call.conn, actor, names)
    subject = ssl_requests.Subject.checked(
        country=args.length_required(call, "countryName"),
        state=args.length_required(call, "stateOrProvinceName"),
        locality=args.length_required(call, "localityName"),
        organization=args.length_required(call, "organizationName"),
        unit=call.params.get("organizationalUnitName"),
        email=call.params.get("emailAddress"),
    )
    key = ssl_requests.stored_key(
        call.conn, call.gatehouse.keyring, account, args.length_required(call, "key_id")
    )
    friendly = ssl_requests.friendly(call.params.get("friendly_name"))
    pem = ssl_requests.make_csr(key, names, subject)
    csr = ssl_requests.store_csr(call, account, key, names, pem, friendly)
    return {**ssl_requests.describe_csr(csr), "text": csr.pem}


@uapi(MODULE, "list_csrs", "The account's certificate signing requests.", readonly=True)
def list_csrs(call: Call) -> list[dict[str, Any]]:
    return [
        {**ssl_requests.describe_csr(csr), "text": csr.pem}
        for csr in ssl_requests.csrs_of(call.conn, call.principal.user.id)
    ]


@uapi(
    MODULE,
    "upload_cert",
    "Store a certificate (PEM) for the account's domains without installing it.",
)
def upload_cert(call: Call) -> list[dict[str, Any]]:
    account = call.principal.user
    cert = ssl_requests.upload_certificate(
        call,
        account,
        certificates.owned_domains(call.conn, account),
        args.length_required(call, "crt"),
        ssl_requests.friendly(call.params.get("friendly_name")),
    )
    info = certificates.describe(cert)
    info["friendly_name"] = cert.shown_name
    return [info]


def _fetchinfo(call: Call, name: str) -> UapiResult:
    """Cpanel/API/SSL.pm _fetchinfo_wrapper: fetchinfo's whole hash as `data`; its refusal as
    the error; no certificate found is a success with its sentence as the message."""
    value = call.params.get(name) or ""
    if not value:
        raise InvalidParameter(f"You must specify the “{name}”.")
    account = call.principal.user
    found = ssl_fetchinfo.fetch_info(
        call.conn,
        call.gatehouse.keyring,
        domain=value if name == "domain" else None,
        crt=value if name == "certificate" else None,
        searched=[account],
        crt_user=account.username,
        ip_of=lambda owner: owner.ip or ips.main_ip(call.gatehouse.config),
    )
    if not found["status"]:
        raise InvalidParameter(found["statusmsg"])
    messages = [found["statusmsg"]] if not found.get("crt") and found["statusmsg"] else None
    return UapiResult(data=found, messages=messages)


@uapi(
    MODULE,
    "fetch_best_for_domain",
    "The best stored certificate for a domain (CA-signed, then the latest expiry), with its "
    "stored key and CA bundle.",
    readonly=True,
)
def fetch_best_for_domain(call: Call) -> UapiResult:
    return _fetchinfo(call, "domain")


@uapi(
    MODULE,
    "fetch_key_and_cabundle_for_certificate",
    "The account's stored key for a certificate, and its CA bundle.",
    readonly=True,
)
def fetch_key_and_cabundle_for_certificate(call: Call) -> UapiResult:
    return _fetchinfo(call, "certificate")
