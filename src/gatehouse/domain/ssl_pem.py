"""Certificates and keys as clients send them (PEM), checked with `cryptography` before anything
is stored: parsed, size-capped, the key matching the certificate, the domain covered, the
dates current, the chain verifying up to the CA bundle given (docs/ssl.md).

Pure functions: no store, no files. Every refusal is an InvalidParameter whose message never
holds key material (a key is never echoed, not even in part).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import NameOID

from gatehouse.errors import InvalidParameter

# OpenSSL's names, as cPanel reports them: a curve's (cryptography's `secp256r1`) and a key
# type's algorithm.
_OPENSSL_CURVES = {"secp256r1": "prime256v1"}
KEY_ALGORITHM_NAMES = {"rsa": "rsaEncryption", "ecdsa": "id-ecPublicKey"}


def curve_name(curve: ec.EllipticCurve) -> str:
    return _OPENSSL_CURVES.get(curve.name, curve.name)


def ecdsa_public(public: ec.EllipticCurvePublicKey) -> str:
    """cPanel's `ecdsa_public`: the compressed point, in hex."""
    point = public.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
    )
    return point.hex()


# One PEM field (a certificate, a key, a CA bundle). A chain of a dozen 4096-bit certificates
# is about 25 KB; anything over this is not a certificate a web server would be given.
MAX_PEM_BYTES = 64 * 1024
# Certificates in one CA bundle: bounds the chain walk.
MAX_BUNDLE_CERTS = 16
_CERT_BLOCK = re.compile(
    r"-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+?-----END CERTIFICATE-----"
)

PrivateKey = (
    rsa.RSAPrivateKey
    | ec.EllipticCurvePrivateKey
    | ed25519.Ed25519PrivateKey
    | ed448.Ed448PrivateKey
    | dsa.DSAPrivateKey
)


@dataclass(frozen=True, slots=True)
class Certificate:
    """The facts of one certificate that gatehouse stores and reports."""

    pem: str  # normalised: one PEM block, ending in a newline
    names: tuple[str, ...]  # DNS subject alternative names (or the CN when there are none)
    subject_cn: str
    issuer_cn: str
    issuer_org: str
    not_before: int  # Unix seconds
    not_after: int
    key_id: str  # SHA-256 hex of the SubjectPublicKeyInfo: ties a key to its certificates
    modulus: str | None  # RSA modulus, hex (cPanel's listcrts reports it); None for others
    key_algorithm: str  # rsa | ecdsa | ed25519 | ...
    fingerprint: str  # SHA-256 hex of the DER
    self_signed: bool
    x509: x509.Certificate


@dataclass(frozen=True, slots=True)
class Key:
    pem: str  # PKCS#8, unencrypted, normalised (the form the files are written in)
    key_id: str
    modulus: str | None
    key_algorithm: str


# CA/Browser Forum policy OIDs (Cpanel::SSL::Utils::_determine_x509_validation_type).
_VALIDATION = {"2.23.140.1.2.1": "dv", "2.23.140.1.2.2": "ov", "2.23.140.1.1": "ev"}


def validation_type(cert: x509.Certificate) -> str | None:
    """cPanel's `validation_type`: `dv`, `ov` or `ev` from the first of the certificate's
    policies that is one of the CA/Browser Forum's, else None."""
    try:
        policies = cert.extensions.get_extension_for_class(x509.CertificatePolicies)
    except x509.ExtensionNotFound:
        return None
    for policy in policies.value:
        found = _VALIDATION.get(policy.policy_identifier.dotted_string)
        if found:
            return found
    return None


def _size_checked(value: str, what: str) -> str:
    if len(value.encode("utf-8", "surrogatepass")) > MAX_PEM_BYTES:
        raise InvalidParameter(
            f"The {what} is larger than {MAX_PEM_BYTES // 1024} KB; it cannot be a PEM {what}."
        )
    return value.replace("\r\n", "\n").strip()


def _cn(name: x509.Name, oid: x509.ObjectIdentifier = NameOID.COMMON_NAME) -> str:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else ""


def _spki_id(public: object) -> tuple[str, str | None, str]:
    key = public  # a public key of any kind cryptography parses
    der = key.public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    modulus = None
    if isinstance(key, rsa.RSAPublicKey):
        modulus = format(key.public_numbers().n, "x")
        algorithm = "rsa"
    elif isinstance(key, ec.EllipticCurvePublicKey):
        algorithm = "ecdsa"
    elif isinstance(key, ed25519.Ed25519PublicKey):
        algorithm = "ed25519"
    elif isinstance(key, ed448.Ed448PublicKey):
        algorithm = "ed448"
    else:
        algorithm = "other"
    return hashlib.sha256(der).hexdigest(), modulus, algorithm


def _timestamp(moment: datetime) -> int:
    return int(moment.replace(tzinfo=moment.tzinfo or UTC).timestamp())


def _facts(cert: x509.Certificate) -> Certificate:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        names = [n.lower().rstrip(".") for n in san.value.get_values_for_type(x509.DNSName)]
    except x509.ExtensionNotFound:
        names = []
    subject_cn = _cn(cert.subject)
    if not names and subject_cn:
        names = [subject_cn.lower().rstrip(".")]
    key_id, modulus, algorithm = _spki_id(cert.public_key())
    der = cert.public_bytes(serialization.Encoding.DER)
    return Certificate(
        pem=cert.public_bytes(serialization.Encoding.PEM).decode(),
        names=tuple(dict.fromkeys(names)),
        subject_cn=subject_cn,
        issuer_cn=_cn(cert.issuer),
        issuer_org=_cn(cert.issuer, NameOID.ORGANIZATION_NAME),
        not_before=_timestamp(cert.not_valid_before_utc),
        not_after=_timestamp(cert.not_valid_after_utc),
        key_id=key_id,
        modulus=modulus,
        key_algorithm=algorithm,
        fingerprint=hashlib.sha256(der).hexdigest(),
        self_signed=cert.subject == cert.issuer,
        x509=cert,
    )


def parse_certificate(value: str) -> Certificate:
    """The first certificate of `value` (extra blocks — a chain pasted with it — are ignored
    here: `parse_bundle` reads a bundle)."""
    text = _size_checked(value, "certificate")
    block = _CERT_BLOCK.search(text)
    if block is None:
        raise InvalidParameter("The certificate is not a valid PEM-encoded X.509 certificate.")
    try:
        cert = x509.load_pem_x509_certificate(block.group(0).encode())
        return _facts(cert)
    except (ValueError, UnsupportedAlgorithm):  # a key type cryptography cannot read, too
        raise InvalidParameter(
            "The certificate is not a valid PEM-encoded X.509 certificate."
        ) from None


def parse_bundle(value: str) -> list[Certificate]:
    """The certificates of a CA bundle (`cab`), in the order given."""
    text = _size_checked(value, "CA bundle")
    blocks = _CERT_BLOCK.findall(text)
    if not blocks or len(blocks) > MAX_BUNDLE_CERTS:
        raise InvalidParameter(
            "The CA bundle must hold between 1 and "
            f"{MAX_BUNDLE_CERTS} PEM-encoded X.509 certificates."
        )
    out = []
    for block in blocks:
        try:
            out.append(_facts(x509.load_pem_x509_certificate(block.encode())))
        except (ValueError, UnsupportedAlgorithm):
            raise InvalidParameter(
                "The CA bundle holds a certificate that is not valid PEM-encoded X.509."
            ) from None
    return out


def parse_key(value: str) -> Key:
    """An unencrypted private key (PKCS#1, SEC1 or PKCS#8 PEM), normalised to PKCS#8."""
    text = _size_checked(value, "key")
    if "-----BEGIN" not in text or "PRIVATE KEY-----" not in text:
        raise InvalidParameter("The key is not a valid PEM-encoded private key.")
    try:
        key = serialization.load_pem_private_key(text.encode(), password=None)
    except TypeError:
        raise InvalidParameter(
            "The key is encrypted with a passphrase; install it without one."
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise InvalidParameter("The key is not a valid PEM-encoded private key.") from None
    if not isinstance(key, PrivateKey):
        raise InvalidParameter("The key is not a valid PEM-encoded private key.")
    key_id, modulus, algorithm = _spki_id(key.public_key())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return Key(pem, key_id, modulus, algorithm)


def check_key_matches(cert: Certificate, key: Key) -> None:
    if cert.key_id != key.key_id:
        raise InvalidParameter("The certificate does not match the key.")


def covers(names: tuple[str, ...] | list[str], domain: str) -> bool:
    """Whether a certificate for `names` serves `domain`; `*.example.com` covers exactly one
    label (`www.example.com`, not `example.com` nor `a.b.example.com`)."""
    domain = domain.lower().rstrip(".")
    for name in names:
        if name == domain:
            return True
        if name.startswith("*.") and "." in domain and domain.split(".", 1)[1] == name[2:]:
            return True
    return False


def check_covers(cert: Certificate, domain: str) -> None:
    if not covers(cert.names, domain):
        listed = ", ".join(cert.names) or "no domain"
        raise InvalidParameter(
            f"The certificate does not cover the domain “{domain}” (it covers: {listed})."
        )


def _day(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def check_dates(cert: Certificate, now: int) -> None:
    if now < cert.not_before:
        raise InvalidParameter(
            f"The certificate is not valid yet: its validity begins on {_day(cert.not_before)}."
        )
    if now > cert.not_after:
        raise InvalidParameter(f"The certificate expired on {_day(cert.not_after)}.")


def _signed_by(child: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        child.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def check_chain(cert: Certificate, bundle: list[Certificate]) -> None:
    """The certificate's issuer is in the bundle and signed it, and so on up the bundle, until a
    self-signed root or the bundle's last issuer (a bundle of intermediates without the root is
    what CAs hand out). No system trust store is consulted: the bundle is the trust given."""
    current = cert.x509
    used: set[str] = set()
    for step in range(len(bundle) + 1):  # bounded: each bundle certificate is used once
        if current.subject == current.issuer and step > 0:
            return  # a root that signed itself (checked when it was reached)
        candidates = [b for b in bundle if b.x509.subject == current.issuer]
        if not candidates:
            if step == 0:
                raise InvalidParameter(
                    "The CA bundle does not hold the certificate's issuer "
                    f"(“{cert.issuer_cn or 'unnamed'}”): the chain cannot be verified."
                )
            return
        issuer = next((b for b in candidates if _signed_by(current, b.x509)), None)
        if issuer is None or issuer.fingerprint in used:
            if issuer is None:
                raise InvalidParameter(
                    "The certificate chain does not verify: a certificate was not signed by "
                    "its issuer in the CA bundle."
                )
            return
        used.add(issuer.fingerprint)
        current = issuer.x509


def signature_algorithm(cert: x509.Certificate) -> str:
    """The certificate's signature algorithm by OpenSSL's name (`sha256WithRSAEncryption`),
    else its OID, as cPanel's records and `openssl x509 -text` show it."""
    oid = cert.signature_algorithm_oid
    return str(getattr(oid, "_name", "") or oid.dotted_string)
