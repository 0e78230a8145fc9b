"""Keys, certificate signing requests (CSRs) and self-signed certificates made for an account's
domains — the use cases behind UAPI `SSL::generate_key`, `upload_key`, `generate_csr`,
`list_csrs`, `upload_cert` and WHM `generatessl` (docs/ssl.md).

Keys are made with `cryptography` and stored ENCRYPTED like every other key
(gatehouse.domain.certificates.store_key): the PEM is returned once, to the caller who made
it, and never rests in plaintext. A CSR holds no secret and is stored as it is. Every name of
a CSR or a generated certificate is one of the account's domains, its `www.` or its wildcard:
nobody makes a request for a domain that is not theirs.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.x509.oid import NameOID

from gatehouse.domain import access, certificates, ssl_names, ssl_pem
from gatehouse.domain.accesshash import KeyRing
from gatehouse.domain.unit import UnitOfWork
from gatehouse.domain.users import User
from gatehouse.errors import InvalidParameter
from gatehouse.numerals import digits
from gatehouse.store.schema import ssl_csrs, ssl_keys

GENERATE_KEY = "GENERATESSLKEY"
GENERATE_CSR = "GENERATECSR"
UPLOAD = "UPLOADSSL"
GENERATE_CERT = "GENERATESSLCERT"

# cPanel's key types (UAPI generate_key `keytype`, set_default_key_type); `system` is the
# server's default, cPanel's own default: 2048-bit RSA.
KEY_TYPES: dict[str, Callable[[], ssl_pem.PrivateKey]] = {
    "rsa-2048": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
    "rsa-4096": lambda: rsa.generate_private_key(public_exponent=65537, key_size=4096),
    "ecdsa-prime256v1": lambda: ec.generate_private_key(ec.SECP256R1()),
    "ecdsa-secp384r1": lambda: ec.generate_private_key(ec.SECP384R1()),
}
DEFAULT_KEY_TYPE = "rsa-2048"
RSA_SIZES = (2048, 4096)  # `keysize` (cPanel's older parameter): RSA only
MAX_NAMES = 100  # names in one CSR: a CA takes no more
SELF_SIGNED_DAYS = 365
# X.509's upper bounds (RFC 5280 appendix A) for the subject fields gatehouse writes.
_FIELD_LIMITS = {"state": 128, "locality": 128, "organization": 64, "unit": 64, "email": 128}
_FIELD_NAMES = {  # cPanel's parameter names, for the refusals
    "country": "countryName",
    "state": "stateOrProvinceName",
    "locality": "localityName",
    "organization": "organizationName",
    "unit": "organizationalUnitName",
    "email": "emailAddress",
}
_COUNTRY = re.compile(r"[A-Za-z]{2}")
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


# -- keys -----------------------------------------------------------------------------------------


def key_type(keytype: str | None, keysize: str | None) -> str:
    """The key type asked for: `keytype` (cPanel's names) or `keysize` (RSA bits), never both
    (cPanel refuses both too); neither means the system's default."""
    keytype, keysize = (keytype or "").strip(), (keysize or "").strip()
    if keytype and keysize:
        raise InvalidParameter("Give either “keytype” or “keysize”, not both.")
    if keysize:
        if not digits(keysize) or int(keysize) not in RSA_SIZES:
            raise InvalidParameter(
                f"The key size “{keysize[:16]}” is not supported: give 2048 or 4096 "
                "(or a “keytype”)."
            )
        return f"rsa-{int(keysize)}"
    if not keytype or keytype == "system":
        return DEFAULT_KEY_TYPE
    if keytype not in KEY_TYPES:
        raise InvalidParameter(
            f"“{keytype[:32]}” is not a key type: give one of system, " + ", ".join(KEY_TYPES) + "."
        )
    return keytype


def new_key(kind: str) -> ssl_pem.Key:
    private = KEY_TYPES[kind]()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return ssl_pem.parse_key(pem)


def friendly(raw: str | None) -> str | None:
    name = (raw or "").strip()
    if not name:
        return None
    if len(name) > 200 or any(ord(c) < 32 for c in name):
        raise InvalidParameter("The friendly name must be at most 200 printable characters.")
    return name


def store_new_key(
    unit: UnitOfWork,
    keyring: KeyRing,
    account: User,
    key: ssl_pem.Key,
    friendly_name: str | None,
    action: str = GENERATE_KEY,
) -> str:
    """Store `key` for the account (encrypted; a key stored already is kept as it is); its
    friendly name. The audit names the key by its public id only."""
    existing = next(
        (k for k in certificates.keys_of(unit.conn, account.id) if k.key_id == key.key_id), None
    )
    if existing is not None:
        return existing.shown_name
    certificates.store_key(unit, keyring, account.id, key, friendly_name)
    stored = next(k for k in certificates.keys_of(unit.conn, account.id) if k.key_id == key.key_id)
    unit.audit(action, account.username, f"key {key.key_id[:16]}")
    return stored.shown_name


def key_facts(key: ssl_pem.Key) -> dict[str, Any]:
    """A key's public facts under cPanel's names (no key material)."""
    public = serialization.load_pem_private_key(key.pem.encode(), None).public_key()
    curve = None
    if isinstance(public, ec.EllipticCurvePublicKey):
        curve = ssl_pem.curve_name(public.curve)
    return {
        "ecdsa_curve_name": curve,
        "id": key.key_id,
        "key_algorithm": ssl_pem.KEY_ALGORITHM_NAMES.get(key.key_algorithm, key.key_algorithm),
        "modulus": key.modulus,
        "modulus_length": public.key_size if isinstance(public, rsa.RSAPublicKey) else None,
    }


def stored_key(conn: sa.Connection, keyring: KeyRing, account: User, key_id: str) -> ssl_pem.Key:
    pem = certificates.key_pem(conn, keyring, account.id, key_id.strip().lower())
    if pem is None:
        raise InvalidParameter(f"The account has no key with the ID “{key_id.strip()[:80]}”.")
    return ssl_pem.parse_key(pem)


# -- names and subjects ---------------------------------------------------------------------------


def parse_names(raw: str | list[str]) -> list[str]:
    """A comma-separated (or repeated) list of domains: lower case, no trailing dot, each a
    host name or `*.` and a host name, no repeats."""
    items = raw if isinstance(raw, list) else [raw]
    names: list[str] = []
    for item in items:
        for part in item.split(","):
            name = part.strip().lower().rstrip(".")
            if not name:
                continue
            host = name[2:] if name.startswith("*.") else name
            if (
                len(name) > 253
                or "." not in host
                or not all(_LABEL.fullmatch(label) for label in host.split("."))
            ):
                raise InvalidParameter(f"“{part.strip()[:80]}” is not a valid domain name.")
            if name not in names:
                names.append(name)
                if len(names) > MAX_NAMES:  # before reading on: a huge list costs nothing
                    raise InvalidParameter(f"Give at most {MAX_NAMES} domains.")
    if not names:
        raise InvalidParameter("Give at least one domain (“domains”).")
    return names


def _holder(conn: sa.Connection, name: str) -> str:
    """The account domain a name is made for: itself if it is one, else the domain under its
    `www.` or `*.`."""
    if name.startswith("*."):
        return name[2:]
    if certificates.domain_owner(conn, name) is None and name.startswith("www."):
        return name[4:]
    return name


def own_names(conn: sa.Connection, actor: access.Actor, names: list[str]) -> User:
    """The cPanel face: every name is the calling account's (the refusal is the one an account
    gets for any domain not its own)."""
    account: User | None = None
    for name in names:
        _domain, account = certificates.own_domain(conn, actor, _holder(conn, name))
    assert account is not None
    return account


@dataclass(frozen=True, slots=True)
class Subject:
    """The subject fields of a CSR (cPanel's names: countryName, stateOrProvinceName,
    localityName, organizationName, organizationalUnitName, emailAddress)."""

    country: str | None = None
    state: str | None = None
    locality: str | None = None
    organization: str | None = None
    unit: str | None = None
    email: str | None = None

    @classmethod
    def checked(cls, **fields: str | None) -> Subject:
        values: dict[str, str | None] = {}
        for field, raw in fields.items():
            value = (raw or "").strip() or None
            if value is not None:
                label = _FIELD_NAMES[field]
                if any(ord(c) < 32 or ord(c) == 127 for c in value):
                    raise InvalidParameter(f"The “{label}” must be printable text.")
                limit = _FIELD_LIMITS.get(field)
                if limit is not None and len(value) > limit:
                    raise InvalidParameter(f"The “{label}” must be at most {limit} characters.")
            values[field] = value
        country = values.get("country")
        if country is not None:
            if not _COUNTRY.fullmatch(country):
                raise InvalidParameter(
                    f"“{country[:16]}” is not a two-letter country code (ISO 3166-1)."
                )
            values["country"] = country.upper()
        email = values.get("email")
        if email is not None and ("@" not in email or " " in email):
            raise InvalidParameter(f"“{email[:80]}” is not an email address.")
        return cls(**values)

    def name(self, common_name: str | None) -> x509.Name:
        pairs = [
            (NameOID.COUNTRY_NAME, self.country),
            (NameOID.STATE_OR_PROVINCE_NAME, self.state),
            (NameOID.LOCALITY_NAME, self.locality),
            (NameOID.ORGANIZATION_NAME, self.organization),
            (NameOID.ORGANIZATIONAL_UNIT_NAME, self.unit),
            (NameOID.COMMON_NAME, common_name),
            (NameOID.EMAIL_ADDRESS, self.email),
        ]
        return x509.Name([x509.NameAttribute(oid, v) for oid, v in pairs if v])


def _common_name(names: list[str]) -> str | None:
    return names[0] if len(names[0]) <= 64 else None  # ub-common-name


def _signer(key: ssl_pem.Key) -> tuple[Any, hashes.SHA256 | None]:
    private = serialization.load_pem_private_key(key.pem.encode(), None)
    if isinstance(private, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey):
        return private, None  # EdDSA signs without a separate hash
    return private, hashes.SHA256()


# -- CSRs -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredCsr:
    fingerprint: str
    pem: str
    domains: tuple[str, ...]
    subject_cn: str
    key_id: str
    friendly_name: str
    created_time: int

    @property
    def csr_id(self) -> str:
        """cPanel-styled, unique per account (the fingerprint ends it)."""
        label = (self.subject_cn or self.domains[0]).replace("*", "_").replace(".", "_")
        label = label.replace("-", "_")
        return f"{label}_{self.key_id[:5]}_{self.key_id[5:10]}_{self.fingerprint}"


def make_csr(key: ssl_pem.Key, names: list[str], subject: Subject) -> str:
    private, algorithm = _signer(key)
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(subject.name(_common_name(names)))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False
        )
        .sign(private, algorithm)
    )
    return request.public_bytes(serialization.Encoding.PEM).decode()


def store_csr(
    unit: UnitOfWork,
    account: User,
    key: ssl_pem.Key,
    names: list[str],
    pem: str,
    friendly: str | None,
) -> StoredCsr:
    request = x509.load_pem_x509_csr(pem.encode())
    fingerprint = hashlib.sha256(request.public_bytes(serialization.Encoding.DER)).hexdigest()
    cn = _common_name(names) or ""
    existing = next(
        (c for c in csrs_of(unit.conn, account.id) if c.fingerprint == fingerprint), None
    )
    if existing is not None:
        return existing  # an RSA signature is deterministic: the same request made twice
    if friendly is None:  # named after its domains, and so is its key (ssl_names)
        friendly = ssl_names.list_and(names)
        ssl_names.rename_key(unit.conn, ssl_keys, account.id, key.key_id, friendly)
    friendly = ssl_names.unique(unit.conn, ssl_csrs, account.id, friendly, unit.now)
    csr = StoredCsr(fingerprint, pem, tuple(names), cn, key.key_id, friendly, unit.now)
    unit.conn.execute(
        sa.insert(ssl_csrs).values(
            user_id=account.id,
            fingerprint=csr.fingerprint,
            pem=csr.pem,
            domains=list(csr.domains),
            subject_cn=csr.subject_cn,
            key_id=csr.key_id,
            friendly_name=csr.friendly_name,
            created_time=csr.created_time,
        )
    )
    unit.audit(GENERATE_CSR, account.username, ",".join(names)[:200])
    return csr


def csrs_of(conn: sa.Connection, user_id: int) -> list[StoredCsr]:
    rows = conn.execute(
        sa.select(ssl_csrs).where(ssl_csrs.c.user_id == user_id).order_by(ssl_csrs.c.id)
    )
    return [
        StoredCsr(
            str(r.fingerprint),
            str(r.pem),
            tuple(r.domains),
            str(r.subject_cn),
            str(r.key_id),
            str(r.friendly_name),
            int(r.created_time),
        )
        for r in rows
    ]


def describe_csr(csr: StoredCsr, key: ssl_pem.Key | None = None) -> dict[str, Any]:
    facts = {
        "commonName": csr.subject_cn or None,
        "created": csr.created_time,
        "domains": list(csr.domains),
        "friendly_name": csr.friendly_name,
        "id": csr.csr_id,
        "key_id": csr.key_id,
    }
    if key is not None:
        facts.update({k: v for k, v in key_facts(key).items() if k != "id"})
    return facts


# -- self-signed certificates ---------------------------------------------------------------------


def self_signed(key: ssl_pem.Key, names: list[str], subject: Subject, now: int) -> str:
    """A certificate for `names` signed by its own key (what cPanel's generatessl makes),
    valid for a year from now."""
    private, algorithm = _signer(key)
    name = subject.name(_common_name(names))
    start = datetime.fromtimestamp(now, UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=SELF_SIGNED_DAYS))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(private, algorithm)
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def store_self_signed(
    unit: UnitOfWork, account: User, pem: str, friendly_name: str | None
) -> certificates.StoredCertificate:
    """Store a certificate made by `self_signed` for the account (UAPI generate_cert)."""
    cert = ssl_pem.parse_certificate(pem)
    row = certificates.store_certificate(unit, account.id, cert, friendly_name)
    unit.audit(GENERATE_CERT, account.username, ",".join(cert.names)[:200])
    return next(c for c in certificates.certificates_of(unit.conn, account.id) if c.row_id == row)


def key_for_host(conn: sa.Connection, account: User, host: str) -> str:
    """The key API 2 `gencsr` signs with: the newest key generated for `host` (API 2 `genkey`
    names its keys after their host), else the account's newest key."""
    keys = certificates.keys_of(conn, account.id)
    if not keys:
        raise InvalidParameter(
            f"The account has no key for “{host}”: generate one first (SSL::genkey)."
        )
    named = [k for k in keys if k.friendly_name == host]
    return (named or keys)[-1].key_id


# -- stored certificates --------------------------------------------------------------------------


def upload_certificate(
    unit: UnitOfWork, account: User, domains: list[str], crt: str, friendly_name: str | None
) -> certificates.StoredCertificate:
    """Store a certificate without installing it: it parses, is current, and covers at least
    one of the account's domains (its key may come later, or already be stored)."""
    cert = ssl_pem.parse_certificate(crt)
    ssl_pem.check_dates(cert, unit.now)
    if not any(ssl_pem.covers(cert.names, d) for d in domains):
        raise InvalidParameter(
            "The certificate covers none of the account's domains (it covers: "
            f"{', '.join(cert.names) or 'no domain'})."
        )
    row = certificates.store_certificate(unit, account.id, cert, friendly_name)
    unit.audit(UPLOAD, account.username, f"certificate {cert.fingerprint[:16]}")
    found = next(c for c in certificates.certificates_of(unit.conn, account.id) if c.row_id == row)
    return found
