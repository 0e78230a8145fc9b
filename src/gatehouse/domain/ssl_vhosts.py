"""The SSL virtual hosts: each domain with an installed certificate, as cPanel's
Whostmgr::SSL::fetch_ssl_vhosts describes it — the read behind WHM `fetch_ssl_vhosts`, UAPI
`SSL::installed_hosts`, WHM's Manage SSL Hosts page and `gatehouse ssl list` (docs/ssl.md).

As cPanel's:
- **The address** is the account's (the server's main one when it has none); `shared` when it
  is the server's main address (cPanel's shared addresses: gatehouse keeps no reseller's own
  shared address), else dedicated.
- **The primary SSL host of an address** (cPanel's primary_virtual_hosts.conf: the first SSL
  vhost added on it) is, on a dedicated address, the account's main domain; on the shared
  address it is the server's own host name, none of the accounts' vhosts.
- **needs_sni** is 0 only when the vhost's certificate is the primary host's.
- **The vhost's names** (`domains`): the servername and the names its vhost answers for, as
  gatehouse's userdata gives them (domain_userdata: `mail.D` and `www.D` for a main domain,
  `www.S` for a subdomain), string-sorted.
- **The certificate** (`crt`) is Whostmgr::SSL::_convert_apache_tls_index_record_to_api over
  the Apache TLS index record (Cpanel/Apache/TLS/Index.pm): the subject and issuer as text,
  `subject.commonName` a hash of the subject's parts, `is_self_signed` Perl's `eq` of the two
  ("1" or ""), `modulus_length` the index's text column, RSA's `public_exponent`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID, ObjectIdentifier

from gatehouse.domain import certificates, domain_lookup, domain_userdata, ssl_pem
from gatehouse.domain.users import User

MAIN = domain_lookup.MAIN
SUB = domain_lookup.SUB

# OpenSSL's long names, as cPanel's parser names the parts of a distinguished name.
_DN_NAMES = {
    NameOID.COMMON_NAME: "commonName",
    NameOID.COUNTRY_NAME: "countryName",
    NameOID.STATE_OR_PROVINCE_NAME: "stateOrProvinceName",
    NameOID.LOCALITY_NAME: "localityName",
    NameOID.ORGANIZATION_NAME: "organizationName",
    NameOID.ORGANIZATIONAL_UNIT_NAME: "organizationalUnitName",
    NameOID.EMAIL_ADDRESS: "emailAddress",
    NameOID.SERIAL_NUMBER: "serialNumber",
    NameOID.STREET_ADDRESS: "streetAddress",
    NameOID.POSTAL_CODE: "postalCode",
    NameOID.BUSINESS_CATEGORY: "businessCategory",
    NameOID.JURISDICTION_COUNTRY_NAME: "jurisdictionCountryName",
    NameOID.JURISDICTION_STATE_OR_PROVINCE_NAME: "jurisdictionStateOrProvinceName",
    NameOID.JURISDICTION_LOCALITY_NAME: "jurisdictionLocalityName",
    NameOID.DOMAIN_COMPONENT: "domainComponent",
}


def _oid_name(oid: ObjectIdentifier) -> str:
    return _DN_NAMES.get(oid) or str(getattr(oid, "_name", "") or oid.dotted_string)


def dn_pairs(name: x509.Name) -> list[tuple[str, str]]:
    """A distinguished name as cPanel lists it: (long name, value) in the certificate's order."""
    return [(_oid_name(a.oid), str(a.value)) for a in name]


def _dn_text(pairs: list[tuple[str, str]]) -> str:
    """Whostmgr::SSL::_atls_dn_to_text: each name and value on lines of their own."""
    return "\n".join(part for pair in pairs for part in pair)


def tls_record(item: certificates.Installed) -> dict[str, Any]:
    """The `crt` of a fetch_ssl_vhosts item: the Apache TLS index's record of the vhost as
    Whostmgr::SSL::_convert_apache_tls_index_record_to_api gives it."""
    stored = item.certificate
    cert = ssl_pem.parse_certificate(stored.pem).x509
    subject, issuer = dn_pairs(cert.subject), dn_pairs(cert.issuer)
    issuer_hr = dict(issuer)
    public = cert.public_key()
    record: dict[str, Any] = {
        "created": item.installed_time,
        "domains": list(stored.names),
        "ecdsa_curve_name": None,
        "ecdsa_public": None,
        "encryption_algorithm": "rsaEncryption",
        "id": stored.cert_id,
        "is_self_signed": "1" if subject == issuer else "",
        "issuer.commonName": issuer_hr.get("commonName"),
        "issuer.organizationName": issuer_hr.get("organizationName"),
        "issuer_text": _dn_text(issuer),
        "modulus": None,
        "modulus_length": None,
        "not_after": stored.not_after,
        "not_before": stored.not_before,
        "signature_algorithm": ssl_pem.signature_algorithm(cert),
        "subject.commonName": dict(subject),
        "subject_text": _dn_text(subject),
        "validation_type": ssl_pem.validation_type(cert),
    }
    if isinstance(public, rsa.RSAPublicKey):
        numbers = public.public_numbers()
        exponent = format(numbers.e, "x")
        record.update(
            {
                "modulus": format(numbers.n, "x"),
                "modulus_length": str(public.key_size),
                "public_exponent": exponent.zfill(len(exponent) + len(exponent) % 2),
            }
        )
    elif isinstance(public, ec.EllipticCurvePublicKey):
        record.update(
            {
                "encryption_algorithm": "id-ecPublicKey",
                "ecdsa_curve_name": ssl_pem.curve_name(public.curve),
                "ecdsa_public": ssl_pem.ecdsa_public(public),
            }
        )
    else:
        record["encryption_algorithm"] = stored.key_algorithm
    return record


def api_record(stored: certificates.StoredCertificate) -> dict[str, Any]:
    """A certificate as Cpanel::SSL::APIFormat::convert_cert_obj_to_api_return gives it (UAPI
    `SSL::installed_hosts`' `certificate`, without AutoSSL's additions): the parse's `domains`
    (the subject CN first unless it is an alternative name), `is_self_signed` 0/1 (subject and
    issuer equal as text), `modulus_length` a number, `subject.commonName` the CN (a string,
    unlike fetch_ssl_vhosts'), `issuer_text`/`subject_text` (names and values on lines of
    their own), and the key's facts: `key_algorithm`, `modulus`/`modulus_length` (RSA) or
    `ecdsa_curve_name`/`ecdsa_public` (ECDSA), null where the key type has none."""
    cert = ssl_pem.parse_certificate(stored.pem).x509
    subject, issuer = dn_pairs(cert.subject), dn_pairs(cert.issuer)
    issuer_hr = dict(issuer)
    record: dict[str, Any] = {
        "domains": stored.domains,
        "ecdsa_curve_name": None,
        "ecdsa_public": None,
        "id": stored.cert_id,
        "is_self_signed": int(_dn_text(subject) == _dn_text(issuer)),
        "issuer.commonName": issuer_hr.get("commonName"),
        "issuer.organizationName": issuer_hr.get("organizationName"),
        "issuer_text": _dn_text(issuer),
        "key_algorithm": ssl_pem.KEY_ALGORITHM_NAMES.get(
            stored.key_algorithm, stored.key_algorithm
        ),
        "modulus": None,
        "modulus_length": None,
        "not_after": stored.not_after,
        "not_before": stored.not_before,
        "signature_algorithm": ssl_pem.signature_algorithm(cert),
        "subject.commonName": dict(subject).get("commonName"),
        "subject_text": _dn_text(subject),
        "validation_type": ssl_pem.validation_type(cert),
    }
    public = cert.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        record["modulus"] = format(public.public_numbers().n, "x")
        record["modulus_length"] = public.key_size
    elif isinstance(public, ec.EllipticCurvePublicKey):
        record["ecdsa_curve_name"] = ssl_pem.curve_name(public.curve)
        record["ecdsa_public"] = ssl_pem.ecdsa_public(public)
    return record


@dataclass(frozen=True, slots=True)
class SslVhost:
    installed: certificates.Installed
    account: User
    ip: str
    shared: bool
    primary: bool
    needs_sni: bool
    docroot: str | None
    kind: str  # MAIN or SUB
    names: list[str]  # the servername and the vhost's other names, string-sorted

    @property
    def servername(self) -> str:
        return self.installed.domain


def vhost_names(domain: str, kind: str) -> list[str]:
    return sorted({domain, *domain_userdata.serveraliases(domain, kind)})


def of(conn: sa.Connection, items: list[certificates.Installed], main_ip: str) -> list[SslVhost]:
    """The SSL vhosts of the installed certificates `items` (certificates.installed)."""
    out = []
    for item in items:
        entry = domain_lookup.holder(conn, item.domain)
        if entry is None:
            continue  # a vhost outlives no domain: removing one uninstalls it
        account = entry.account
        ip = account.ip or main_ip
        shared = ip == main_ip
        primary_domain = None if shared else account.domain
        primary = item.domain == primary_domain
        on_primary = certificates.installed_on(conn, primary_domain) if primary_domain else None
        same_certificate = (
            on_primary is not None
            and on_primary.certificate.fingerprint == item.certificate.fingerprint
        )
        out.append(
            SslVhost(
                installed=item,
                account=account,
                ip=ip,
                shared=shared,
                primary=primary,
                needs_sni=not same_certificate,
                docroot=entry.document_root,
                kind=entry.kind,
                names=vhost_names(item.domain, entry.kind),
            )
        )
    return out
