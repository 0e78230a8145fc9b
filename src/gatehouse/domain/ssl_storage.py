"""An account's SSL storage: finding a stored key, certificate or CSR by its `id` or its
`friendly_name`, deleting it, a certificate's information with its key and CA bundle, and the
account's default key type — the use cases behind UAPI `SSL::delete_key`, `delete_cert`,
`delete_csr`, `fetch_cert_info`, `set_default_key_type` / `get_default_key_type`
(docs/ssl.md).

What is in use is not deleted: a certificate installed on a domain, or the key of one, is
refused with the domain named (uninstall it first: `SSL::delete_ssl`). Installing reads the
key from the store (the web server's files are written from it), so deleting it would leave
the domain without one.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from gatehouse.domain import access, certificates, ssl_pem, ssl_requests, ssl_vhosts
from gatehouse.domain.accesshash import KeyRing
from gatehouse.domain.unit import UnitOfWork
from gatehouse.domain.users import User
from gatehouse.errors import InvalidParameter, NotFound
from gatehouse.store.schema import ssl_certificates, ssl_csrs, ssl_key_type_defaults, ssl_keys

DELETE_KEY = "DELETESSLKEY"
DELETE_CERT = "DELETESSLCERT"
DELETE_CSR = "DELETECSR"


def _selector(id_: str | None, friendly_name: str | None) -> tuple[str, str]:
    """Which of `id` / `friendly_name` names the item (cPanel: one of the two is required)."""
    id_ = (id_ or "").strip()
    name = (friendly_name or "").strip()
    if id_ and name:
        raise InvalidParameter("Give either “id” or “friendly_name”, not both.")
    if id_:
        return "id", id_
    if name:
        return "friendly_name", name
    raise InvalidParameter("Provide the “id” or the “friendly_name” argument.")


def _shown(value: str) -> str:
    return value[:120]


# -- keys -----------------------------------------------------------------------------------------


def find_key(
    conn: sa.Connection, account: User, id_: str | None, friendly_name: str | None
) -> certificates.StoredKey:
    field, value = _selector(id_, friendly_name)
    for key in certificates.keys_of(conn, account.id):
        shown_name = key.shown_name
        if (field == "id" and key.key_id == value.lower()) or (
            field == "friendly_name" and shown_name == value
        ):
            return key
    what = "ID" if field == "id" else "friendly name"
    raise NotFound(f"The account has no key with the {what} “{_shown(value)}”.")


def delete_key(unit: UnitOfWork, account: User, key: certificates.StoredKey) -> None:
    for item in certificates.installed(unit.conn, user_id=account.id):
        if item.certificate.key_id == key.key_id:
            raise InvalidParameter(
                f"The key is the key of the certificate installed on “{item.domain}”: "
                "uninstall that certificate first (SSL::delete_ssl)."
            )
    unit.conn.execute(
        sa.delete(ssl_keys).where(ssl_keys.c.user_id == account.id, ssl_keys.c.key_id == key.key_id)
    )
    unit.audit(DELETE_KEY, account.username, f"key {key.key_id[:16]}")


# -- certificates ---------------------------------------------------------------------------------


def find_certificate(
    conn: sa.Connection, account: User, id_: str | None, friendly_name: str | None
) -> certificates.StoredCertificate:
    field, value = _selector(id_, friendly_name)
    for cert in certificates.certificates_of(conn, account.id):
        shown_name = cert.shown_name
        if (field == "id" and cert.cert_id == value) or (
            field == "friendly_name" and shown_name == value
        ):
            return cert
    what = "ID" if field == "id" else "friendly name"
    raise NotFound(f"The account has no certificate with the {what} “{_shown(value)}”.")


def delete_certificate(
    unit: UnitOfWork, account: User, cert: certificates.StoredCertificate
) -> None:
    for item in certificates.installed(unit.conn, user_id=account.id):
        if item.certificate.row_id == cert.row_id:
            raise InvalidParameter(
                f"The certificate is installed on “{item.domain}”: uninstall it first "
                "(SSL::delete_ssl)."
            )
    unit.conn.execute(sa.delete(ssl_certificates).where(ssl_certificates.c.id == cert.row_id))
    unit.audit(DELETE_CERT, account.username, f"certificate {cert.fingerprint[:16]}")


NO_MATCH = "No certificate matches that search term."
NO_BUNDLE = (
    "Sorry, no certificate authority bundle was found; however, you probably don't need one "
    "for this certificate ({cn})."
)


def find_for_info(
    conn: sa.Connection, account: User, id_: str | None, friendly_name: str | None
) -> certificates.StoredCertificate:
    """Cpanel/API/SSL.pm fetch_cert_info's search (_get_search_args): `id` when given (it
    wins over `friendly_name`), else `friendly_name`; refused in cPanel's words."""
    id_, name = (id_ or "").strip(), (friendly_name or "").strip()
    if id_:
        if "/" in id_ or "|" in id_ or id_.startswith("."):  # _is_safe_path
            raise InvalidParameter("The “id” parameter is invalid.")
        wanted = [c for c in certificates.certificates_of(conn, account.id) if c.cert_id == id_]
    elif name:
        wanted = [c for c in certificates.certificates_of(conn, account.id) if c.shown_name == name]
    else:
        raise InvalidParameter("You must specify either the “id” or “friendly_name”.")
    if not wanted:
        raise NotFound(NO_MATCH)
    return wanted[0]


def cert_info(
    conn: sa.Connection,
    keyring: KeyRing,
    account: User,
    cert: certificates.StoredCertificate,
    ip: str,
) -> dict[str, Any]:
    """Cpanel::SSLInfo::fetch_crt_info's hash (UAPI fetch_cert_info): `certificate` (the PEM),
    `key` (the stored key's PEM, or null; to its account only), `is_self_signed` (0/1),
    `subject.commonName_ip` (_get_domain_http_ip as the account: the address of its web vhost
    named by the CN — a wildcard's base domain — else null) and `cabundle` (fetchcabundle:
    null for a self-signed certificate; cPanel downloads a CA-signed one's from its issuer,
    gatehouse gives the bundle it is installed with, else cPanel's sentence for none found)."""
    parsed = ssl_pem.parse_certificate(cert.pem)
    cn = cert.subject_cn.lower()
    own = set(certificates.owned_domains(conn, account))
    named = cn in own or (cn.startswith("*.") and cn[2:] in own)
    bundle: str | None = None
    if not parsed.self_signed:
        bundle = next(
            (
                i.cabundle
                for i in certificates.installed(conn, user_id=account.id)
                if i.certificate.row_id == cert.row_id and i.cabundle
            ),
            NO_BUNDLE.format(cn=cert.subject_cn),
        )
    return {
        "cabundle": bundle,
        "certificate": cert.pem,
        "is_self_signed": int(parsed.self_signed),
        "key": certificates.key_pem(conn, keyring, account.id, cert.key_id),
        "subject.commonName_ip": ip if named else None,
    }


# -- CSRs -----------------------------------------------------------------------------------------


def find_csr(
    conn: sa.Connection, account: User, id_: str | None, friendly_name: str | None
) -> ssl_requests.StoredCsr:
    field, value = _selector(id_, friendly_name)
    for csr in ssl_requests.csrs_of(conn, account.id):
        if (field == "id" and csr.csr_id == value) or (
            field == "friendly_name" and csr.friendly_name == value
        ):
            return csr
    what = "ID" if field == "id" else "friendly name"
    raise NotFound(
        f"The account has no certificate signing request with the {what} “{_shown(value)}”."
    )


def delete_csr(unit: UnitOfWork, account: User, csr: ssl_requests.StoredCsr) -> None:
    unit.conn.execute(
        sa.delete(ssl_csrs).where(
            ssl_csrs.c.user_id == account.id, ssl_csrs.c.fingerprint == csr.fingerprint
        )
    )
    unit.audit(DELETE_CSR, account.username, ",".join(csr.domains)[:200])


# -- the default key type -------------------------------------------------------------------------


def default_key_type(conn: sa.Connection, account: User) -> str:
    """The account's choice, else `system` (the server's default, rsa-2048)."""
    row = conn.execute(
        sa.select(ssl_key_type_defaults.c.key_type).where(
            ssl_key_type_defaults.c.user_id == account.id
        )
    ).first()
    return str(row.key_type) if row is not None else "system"


def set_default_key_type(unit: UnitOfWork, account: User, raw: str) -> str:
    kind = raw.strip()
    if kind != "system" and kind not in ssl_requests.KEY_TYPES:
        raise InvalidParameter(
            f"“{kind[:32]}” is not a key type: give one of system, "
            + ", ".join(ssl_requests.KEY_TYPES)
            + "."
        )
    unit.conn.execute(
        sa.delete(ssl_key_type_defaults).where(ssl_key_type_defaults.c.user_id == account.id)
    )
    if kind != "system":
        unit.conn.execute(
            sa.insert(ssl_key_type_defaults).values(user_id=account.id, key_type=kind)
        )
    return kind


def key_type_for(
    conn: sa.Connection, account: User, keytype: str | None, keysize: str | None
) -> str:
    """The key type a new key gets: the one asked for (`keytype` or `keysize`), else — nothing
    or `system` asked for — the account's default, else the server's (rsa-2048)."""
    kind = ssl_requests.key_type(keytype, keysize)
    if (keytype or "").strip() in ("", "system") and not (keysize or "").strip():
        chosen = default_key_type(conn, account)
        if chosen != "system":
            return chosen
    return kind


# -- WHM listcrts ---------------------------------------------------------------------------------

# Cpanel::SSLStorage::User's light check before getdomainowner (names such as APNS ids skipped).
_OWNABLE = re.compile(r"\A[_*.a-z0-9-]*\Z")


def list_with_owners(
    conn: sa.Connection, actor: access.Actor, listed: User, *, registered_only: bool
) -> list[dict[str, Any]]:
    """Whostmgr::SSL::list_cert_domains_with_owners: `listed`'s stored certificates (its own
    storage only, not its accounts'), each with the owner of each of its names — null for a
    name no account holds (a `www.` name too: cPanel's getdomainowner reads /etc/userdomains),
    and for one `listed` does not own unless the caller has root (checkowner) — and
    `registered` 1 when the first name has an owner."""
    out = []
    for cert in certificates.certificates_of(conn, listed.id):
        owners: list[str | None] = []
        for name in cert.names:
            if not _OWNABLE.match(name):
                continue
            owner = certificates.domain_owner(conn, name)
            owns = owner is not None and (
                actor.sees_all
                or owner.username == listed.username
                or (owner.owner == listed.username and not owner.is_root)
            )
            owners.append(owner.username if owner is not None and owns else None)
        registered = int(bool(owners and owners[0]))
        if registered_only and not registered:
            continue
        facts = certificates.describe(cert)
        out.append(
            {
                "domain": cert.subject_cn or None,
                "domain_owners": owners,
                "domains": list(cert.names),
                "ecdsa_curve_name": facts["ecdsa_curve_name"],
                "friendly_name": cert.shown_name,
                "id": cert.cert_id,
                "is_self_signed": facts["is_self_signed"],
                "issuer.organizationName": facts["issuer.organizationName"],
                "key_algorithm": facts["key_algorithm"],
                "modulus_length": facts["modulus_length"],
                "not_after": cert.not_after,
                "registered": registered,
            }
        )
    return out


# -- UAPI SSL::list_certs / list_keys -------------------------------------------------------------


def ssl_capable_domains(conn: sa.Connection, account: User) -> list[str]:
    """Cpanel::WebVhosts::list_ssl_capable_domains: every name of the account's web vhosts (the
    main domain with its `mail.` and `www.`, each subdomain with its `www.`)."""
    out: list[str] = []
    for domain in certificates.owned_domains(conn, account):
        kind = ssl_vhosts.MAIN if domain == account.domain else ssl_vhosts.SUB
        out.extend(ssl_vhosts.vhost_names(domain, kind))
    return out


def _public_parts(public: object) -> dict[str, Any]:
    """The key-type parts of an SSLStorage record: RSA's `modulus` and `modulus_length`, or
    ECDSA's `ecdsa_curve_name` and `ecdsa_public` (the compressed point, hex)."""
    if isinstance(public, rsa.RSAPublicKey):
        return {
            "modulus": format(public.public_numbers().n, "x"),
            "modulus_length": public.key_size,
        }
    if isinstance(public, ec.EllipticCurvePublicKey):
        return {
            "ecdsa_curve_name": ssl_pem.curve_name(public.curve),
            "ecdsa_public": ssl_pem.ecdsa_public(public),
        }
    return {}


def certificate_record(cert: certificates.StoredCertificate) -> dict[str, Any]:
    """A certificate's record in cPanel's SSL storage (Cpanel/SSLStorage.pm
    _build_certificate_record): `domains` the subject CN then the alternative names, `serial`
    hex without leading zeros, `is_self_signed` 0/1, `modulus`/`modulus_length` for RSA only,
    `ecdsa_curve_name`/`ecdsa_public` present for every key type (null but for ECDSA)."""
    parsed = ssl_pem.parse_certificate(cert.pem)
    x = parsed.x509
    issuer = dict(ssl_vhosts.dn_pairs(x.issuer))
    serial = format(x.serial_number, "x")
    record: dict[str, Any] = {
        "created": cert.created_time,
        "domains": cert.domains,
        "ecdsa_curve_name": None,
        "ecdsa_public": None,
        "friendly_name": cert.shown_name,
        "id": cert.cert_id,
        "is_self_signed": int(parsed.self_signed),
        "issuer.commonName": issuer.get("commonName"),
        "issuer.organizationName": issuer.get("organizationName"),
        "key_algorithm": ssl_pem.KEY_ALGORITHM_NAMES.get(cert.key_algorithm, cert.key_algorithm),
        "not_after": cert.not_after,
        "not_before": cert.not_before,
        "serial": serial.zfill(len(serial) + len(serial) % 2),
        "signature_algorithm": ssl_pem.signature_algorithm(x),
        "subject.commonName": dict(ssl_vhosts.dn_pairs(x.subject)).get("commonName"),
        "validation_type": ssl_pem.validation_type(x),
    }
    record.update(_public_parts(x.public_key()))
    return dict(sorted(record.items()))


def list_certs(conn: sa.Connection, account: User) -> list[dict[str, Any]]:
    """UAPI SSL::list_certs: the storage's records, each with `domain_is_configured` 1 when one
    of its domains matches one of the account's SSL-capable domains (installed or not)."""
    capable = ssl_capable_domains(conn, account)
    out = []
    for cert in certificates.certificates_of(conn, account.id):
        record = certificate_record(cert)
        configured = any(ssl_pem.covers(cert.domains, d) for d in capable)
        out.append({**record, "domain_is_configured": int(configured)})
    return out


def key_record(
    conn: sa.Connection, keyring: KeyRing, key: certificates.StoredKey
) -> dict[str, Any]:
    """A key's record in cPanel's SSL storage (_build_key_record): `id`, `created`,
    `friendly_name`, `key_algorithm` and all four of `modulus`, `modulus_length`,
    `ecdsa_curve_name`, `ecdsa_public` (null where the key type has none). Public parts only:
    the key is decrypted here to read them, never returned."""
    record: dict[str, Any] = {
        "created": key.created_time,
        "ecdsa_curve_name": None,
        "ecdsa_public": None,
        "friendly_name": key.shown_name,
        "id": key.key_id,
        "key_algorithm": ssl_pem.KEY_ALGORITHM_NAMES.get(key.key_algorithm, key.key_algorithm),
        "modulus": None,
        "modulus_length": None,
    }
    if key.key_algorithm == "rsa" and key.modulus:
        modulus = key.modulus.lower().lstrip("0")
        return record | {"modulus": modulus, "modulus_length": int(modulus, 16).bit_length()}
    # Another type's public parts are read from the key (decrypted here, never returned).
    pem = certificates.key_pem(conn, keyring, key.user_id, key.key_id)
    if pem is not None:
        private = serialization.load_pem_private_key(pem.encode(), None)
        record.update(_public_parts(private.public_key()))
    return record


# -- UAPI SSL::fetch_certificates_for_fqdns / WHM fetch_ssl_certificates_for_fqdns ---------------

VALIDITY_THRESHOLD = 7 * 86400  # Cpanel::SSL::Search::_VALIDITY_LEFT_SORT_THRESHOLD
_VALIDATION_VALUE = {"ev": 300, "ov": 200, "dv": 100}
# The hashing functions' strength (Cpanel::SSL::Utils::hashing_function_strength_comparison);
# below sha224 a signature is too weak (Cpanel::SSL::Objects::Certificate).
_HASH_STRENGTH = {"md5": 0, "sha1": 1, "sha224": 2, "sha256": 3, "sha384": 4, "sha512": 5}
_ECDSA_AS_RSA = {256: 3072, 384: 7680, 521: 15360}  # Cpanel::Crypt::ECDSA::Data


def _hash_strength(algorithm: str) -> int:
    for name, value in sorted(_HASH_STRENGTH.items(), key=lambda kv: -len(kv[0])):
        if name in algorithm.lower():
            return value
    return 5 if algorithm in ("ED25519", "ed25519") else -1


def domain_matches(wanted: list[str], names: list[str]) -> set[str]:
    """Cpanel::SSL::Utils::find_domains_lists_matches: the names equal in both lists (case
    aside), and each non-wildcard name of one list a wildcard of the other covers."""
    a, b = {n.lower() for n in wanted}, {n.lower() for n in names}
    found = a & b
    for one, other in ((a, b), (b, a)):
        for wildcard in (n for n in one if n.startswith("*.")):
            found |= {n for n in other if not n.startswith("*.") and ssl_pem.covers([wildcard], n)}
    return found


def _verify_error(parsed: ssl_pem.Certificate, now: int) -> str | None:
    """Cpanel::SSL::Search::_get_cert_obj_verify_error, as far as gatehouse can tell it:
    OpenSSL's name for a self-signed certificate, an expired one or one not valid yet, else
    none (gatehouse has no trust store to verify a chain against: docs/ssl.md)."""
    if parsed.self_signed:
        return "DEPTH_ZERO_SELF_SIGNED_CERT"
    x = parsed.x509
    if int(x.not_valid_after_utc.timestamp()) < now:
        return "CERT_HAS_EXPIRED"
    if int(x.not_valid_before_utc.timestamp()) > now:
        return "CERT_NOT_YET_VALID"
    return None


def certificates_for_fqdns(
    conn: sa.Connection, keyring: KeyRing, searched: list[User], wanted: list[str], now: int
) -> list[dict[str, Any]]:
    """Cpanel::SSL::Search::fetch_users_certificates_for_fqdns: the stored certificates, in
    the searched accounts' storage, that name one of the `wanted` domains exactly and whose
    key the same account stores, strong enough (RSA of 2048 bits or more, a signature of
    sha224 or better); each its SSL storage record with `certificate`, `key`, `ca_bundle`
    (the bundle it is installed with, else null: cPanel downloads it from the issuer),
    `verify_error` and `users` (the searched accounts holding it and its key), best first:
    valid, valid for a week more, EV/OV/DV, more wildcard matches, more matches, longer
    validity, shorter matched names, stronger key, stronger signature."""
    seen: dict[str, dict[str, Any]] = {}
    holders: dict[str, set[str]] = {}
    ranks: dict[str, tuple[Any, ...]] = {}
    for account in searched:
        stored = certificates.certificates_of(conn, account.id)
        bundles = {
            i.certificate.row_id: i.cabundle
            for i in certificates.installed(conn, user_id=account.id)
            if i.cabundle
        }
        for domain in wanted:
            for cert in (c for c in stored if domain in c.domains):
                key = certificates.key_pem(conn, keyring, account.id, cert.key_id)
                if key is None:
                    continue
                holders.setdefault(cert.cert_id, set()).add(account.username)
                if cert.cert_id in seen:
                    continue
                parsed = ssl_pem.parse_certificate(cert.pem)
                record = certificate_record(cert)
                seen[cert.cert_id] = record
                matches = domain_matches(wanted, cert.domains)
                size = int(getattr(parsed.x509.public_key(), "key_size", 0) or 0)
                strength = size if cert.key_algorithm == "rsa" else _ECDSA_AS_RSA.get(size, size)
                signature = _hash_strength(str(record["signature_algorithm"]))
                if not matches or (cert.key_algorithm == "rsa" and size < 2048) or signature < 2:
                    continue
                error = _verify_error(parsed, now)
                left = 1 + cert.not_after - now
                record.update(
                    certificate=cert.pem,
                    key=key,
                    ca_bundle=bundles.get(cert.row_id),
                    verify_error=error,
                )
                ranks[cert.cert_id] = (
                    bool(error),
                    left < VALIDITY_THRESHOLD,
                    -_VALIDATION_VALUE.get(str(record["validation_type"] or ""), 0),
                    -sum(1 for m in matches if m.startswith("*")),
                    -len(matches),
                    -left,
                    len("".join(sorted(matches))),
                    -strength,
                    -signature,
                )
    out = []
    for cert_id in sorted(ranks, key=lambda i: ranks[i]):
        out.append({**seen[cert_id], "users": sorted(holders[cert_id])})
    return out
