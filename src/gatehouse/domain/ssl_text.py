"""A certificate as text in the layout of `openssl x509 -noout -text` (what cPanel's
UAPI `SSL::show_cert` returns as `text`, and API 2 `SSL::listcrts` as `ssltxt`).

Only the leading fields are written: version, serial number, signature algorithm, issuer,
validity, subject and the public key's algorithm and size — the fields readers of that text
look for (cPanel's own `api2_listcrts` takes the issuer's `CN = ` and `Not After : ` from it).
Extensions and the key's and signature's bytes are left out (choice)."""

from __future__ import annotations

from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import NameOID

from gatehouse.domain import ssl_pem

_SHORT = {
    NameOID.COUNTRY_NAME: "C",
    NameOID.STATE_OR_PROVINCE_NAME: "ST",
    NameOID.LOCALITY_NAME: "L",
    NameOID.ORGANIZATION_NAME: "O",
    NameOID.ORGANIZATIONAL_UNIT_NAME: "OU",
    NameOID.COMMON_NAME: "CN",
    NameOID.EMAIL_ADDRESS: "emailAddress",
    NameOID.SERIAL_NUMBER: "serialNumber",
    NameOID.DOMAIN_COMPONENT: "DC",
}


def _name(name: x509.Name) -> str:
    """OpenSSL's default `-nameopt` (3.x): `C = US, ST = TX, CN = example.com`, in order."""
    parts = []
    for attribute in name:
        label = _SHORT.get(attribute.oid) or attribute.oid._name or attribute.oid.dotted_string
        parts.append(f"{label} = {attribute.value!s}")
    return ", ".join(parts)


def openssl_date(moment: datetime) -> str:
    """`Apr 24 19:32:49 2014 GMT`: OpenSSL's ASN1_TIME_print (the day padded with a space)."""
    return f"{moment:%b} {moment.day:2d} {moment:%H:%M:%S %Y} GMT"


def _serial(number: int) -> list[str]:
    if number.bit_length() < 64:
        return [f"        Serial Number: {number} ({number:#x})"]
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return ["        Serial Number:", "            " + ":".join(f"{b:02x}" for b in raw)]


def _public_key(cert: x509.Certificate) -> list[str]:
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return ["            Public Key Algorithm: rsaEncryption",
                f"                Public-Key: ({key.key_size} bit)"]  # fmt: skip
    if isinstance(key, ec.EllipticCurvePublicKey):
        return ["            Public Key Algorithm: id-ecPublicKey",
                f"                Public-Key: ({key.key_size} bit)"]  # fmt: skip
    if isinstance(key, dsa.DSAPublicKey):
        return ["            Public Key Algorithm: dsaEncryption",
                f"                Public-Key: ({key.key_size} bit)"]  # fmt: skip
    if isinstance(key, ed25519.Ed25519PublicKey):
        return ["            Public Key Algorithm: ED25519"]
    if isinstance(key, ed448.Ed448PublicKey):
        return ["            Public Key Algorithm: ED448"]
    return []


def certificate_text(pem: str) -> str:
    """The certificate's leading fields as `openssl x509 -text` writes them."""
    cert = x509.load_pem_x509_certificate(pem.encode())
    algorithm = ssl_pem.signature_algorithm(cert)
    lines = [
        "Certificate:",
        "    Data:",
        f"        Version: {cert.version.value + 1} ({cert.version.value:#x})",
        *_serial(cert.serial_number),
        f"        Signature Algorithm: {algorithm}",
        f"        Issuer: {_name(cert.issuer)}",
        "        Validity",
        f"            Not Before: {openssl_date(cert.not_valid_before_utc)}",
        f"            Not After : {openssl_date(cert.not_valid_after_utc)}",
        f"        Subject: {_name(cert.subject)}",
        "        Subject Public Key Info:",
        *_public_key(cert),
    ]
    return "\n".join(lines) + "\n"
