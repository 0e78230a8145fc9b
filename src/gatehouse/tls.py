"""A self-signed certificate for HTTPS on first start (as cPanel does before AutoSSL)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from gatehouse import private_files


def ensure_self_signed(cert_path: Path, key_path: Path) -> bool:
    """Create the pair if either file is missing; True when it made one."""
    if cert_path.exists() and key_path.exists():
        return False
    # Private whatever the umask (private_files.py): the certificate too, as it is only ever
    # read by this server.
    private_files.make_dir(cert_path.parent, private_files.PRIVATE_DIR)
    private_files.make_dir(key_path.parent, private_files.PRIVATE_DIR)
    key = ec.generate_private_key(ec.SECP256R1())
    hostname = socket.gethostname() or "localhost"
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, hostname),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "gatehouse self-signed"),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    san = x509.SubjectAlternativeName(
        [
            x509.DNSName(hostname),
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.IPAddress(ipaddress.ip_address("::1")),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=397))
        .add_extension(san, critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_bytes = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    private_files.write_private(key_path, key_bytes)
    private_files.write_private(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return True
