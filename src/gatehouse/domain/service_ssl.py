"""The service certificate: the certificate gatehouse's own TLS ports present — WHM
`install_service_ssl_certificate` / `fetch_service_ssl_components`
(docs/ssl.md#the-service-certificate).

cPanel's services are `cpanel` (cpsrvd: 2083, 2087, …), `dovecot`, `exim` and `ftp`; gatehouse
serves only the first (its WHM and cPanel TLS ports), so only `cpanel` can be installed.

The store is the truth: the certificate, its CA bundle and its private key (ENCRYPTED with the
key ring, bound to the service and the key's id) are one row; every `gatehouse serve` process
of every node writes its TLS files from that row (`write_files`) and presents them from its
next handshake on (gatehouse.program.service_tls). Without a row, the self-signed pair made on
first start (or the operator's GATEHOUSE_TLS_CERT/KEY) is served, as before.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from gatehouse import private_files
from gatehouse.domain import certificates, ssl_pem
from gatehouse.domain.accesshash import KeyRing
from gatehouse.domain.unit import UnitOfWork
from gatehouse.errors import InvalidParameter
from gatehouse.store.schema import service_certificates

INSTALL = "INSTALLSERVICESSL"
SERVED = ("cpanel",)
CPANEL_SERVICES = ("cpanel", "dovecot", "exim", "ftp")


@dataclass(frozen=True, slots=True)
class ServiceCertificate:
    service: str
    pem: str
    cabundle: str | None
    fingerprint: str
    key_id: str
    installed_time: int


def _context(service: str, key_id: str) -> str:
    """What the key's ciphertext is bound to: a copy moved to another row does not decrypt."""
    return f"service-certificate:{service}:{key_id}"


def check_service(raw: str) -> str:
    service = raw.strip()
    if service in SERVED:
        return service
    if service in CPANEL_SERVICES:
        raise InvalidParameter(
            f"gatehouse runs no “{service}” service: only “cpanel” (its WHM and cPanel TLS "
            "ports) has a certificate to install."
        )
    raise InvalidParameter(
        f"“{service[:32]}” is not a service: give “cpanel” (cPanel's services are "
        + ", ".join(CPANEL_SERVICES)
        + ")."
    )


def check_listener_can_load(key: ssl_pem.Key) -> None:
    """The key types the TLS listener (granian, rustls) loads — measured: RSA of 2048 to 4096
    bits, ECDSA P-256 and P-384, Ed25519. Anything else (RSA 1024 or 8192, P-521, secp256k1,
    Ed448) makes its worker panic as it starts — which aborts the whole process — so it is
    refused here, before anything changes."""
    private = serialization.load_pem_private_key(key.pem.encode(), None)
    if isinstance(private, rsa.RSAPrivateKey) and 2048 <= private.key_size <= 4096:
        return
    if isinstance(private, ec.EllipticCurvePrivateKey) and private.curve.name in (
        "secp256r1",
        "secp384r1",
    ):
        return
    if isinstance(private, ed25519.Ed25519PrivateKey):
        return
    raise InvalidParameter(
        "gatehouse's TLS ports cannot use this key: give an RSA key of 2048 to 4096 bits, an "
        "ECDSA key on P-256 or P-384, or an Ed25519 key."
    )


def install(
    unit: UnitOfWork, keyring: KeyRing, service: str, crt: str, key: str, cab: str | None
) -> ServiceCertificate:
    """Check everything (the key matches, the dates, the chain when a bundle is given), then
    replace the service's row. A refusal writes nothing."""
    cert = ssl_pem.parse_certificate(crt)
    parsed_key = ssl_pem.parse_key(key)
    check_listener_can_load(parsed_key)
    ssl_pem.check_key_matches(cert, parsed_key)
    ssl_pem.check_dates(cert, unit.now)
    bundle = None
    if cab and cab.strip():
        chain = ssl_pem.parse_bundle(cab)
        ssl_pem.check_chain(cert, chain)
        bundle = "".join(b.pem for b in chain)
    conn = unit.conn
    conn.execute(sa.delete(service_certificates).where(service_certificates.c.service == service))
    conn.execute(
        sa.insert(service_certificates).values(
            service=service,
            pem=cert.pem,
            cabundle=bundle,
            fingerprint=cert.fingerprint,
            key_id=parsed_key.key_id,
            key_ciphertext=keyring.encrypt(parsed_key.pem, _context(service, parsed_key.key_id)),
            installed_time=unit.now,
        )
    )
    unit.audit(INSTALL, service, f"certificate {cert.fingerprint[:16]}")
    return ServiceCertificate(
        service, cert.pem, bundle, cert.fingerprint, parsed_key.key_id, unit.now
    )


def installed(conn: sa.Connection, service: str = "cpanel") -> ServiceCertificate | None:
    row = conn.execute(
        sa.select(
            service_certificates.c.service,
            service_certificates.c.pem,
            service_certificates.c.cabundle,
            service_certificates.c.fingerprint,
            service_certificates.c.key_id,
            service_certificates.c.installed_time,
        ).where(service_certificates.c.service == service)
    ).first()
    if row is None:
        return None
    return ServiceCertificate(
        str(row.service),
        str(row.pem),
        row.cabundle,
        str(row.fingerprint),
        str(row.key_id),
        int(row.installed_time),
    )


def fingerprint(conn: sa.Connection, service: str = "cpanel") -> str | None:
    """The installed certificate's fingerprint: one indexed read, what a server polls."""
    value = conn.execute(
        sa.select(service_certificates.c.fingerprint).where(
            service_certificates.c.service == service
        )
    ).scalar()
    return str(value) if value is not None else None


def key_pem(conn: sa.Connection, keyring: KeyRing, service: str = "cpanel") -> str | None:
    row = conn.execute(
        sa.select(service_certificates.c.key_id, service_certificates.c.key_ciphertext).where(
            service_certificates.c.service == service
        )
    ).first()
    if row is None:
        return None
    return keyring.decrypt(row.key_ciphertext, _context(service, str(row.key_id)))


def certificate_info(pem: str) -> dict[str, Any]:
    """cPanel's `certificate_info` facts of a certificate (no key material)."""
    cert = ssl_pem.parse_certificate(pem)
    stored = certificates.StoredCertificate(
        0,
        0,
        cert.fingerprint,
        cert.pem,
        tuple(cert.names),
        cert.subject_cn,
        cert.issuer_cn,
        cert.issuer_org,
        cert.not_before,
        cert.not_after,
        cert.key_id,
        cert.modulus,
        cert.key_algorithm,
        0,
    )
    facts = certificates.describe(stored)
    for unknown in ("created", "id"):
        facts.pop(unknown, None)
    return facts


# -- the files a TLS listener loads ---------------------------------------------------------------


PAIR_GRACE = 120.0  # seconds a pair no process notes as served is kept after its last write


@dataclass(frozen=True, slots=True)
class PairFiles:
    """The files of one certificate: written once under names of its own, so that a
    listener that loads them never meets another certificate's key."""

    fingerprint: str
    cert: Path
    key: Path


def file_paths(data_dir: Path, fingerprint: str, service: str = "cpanel") -> PairFiles:
    """Where a service certificate is written: the certificate followed by its bundle, and
    the key (mode 0600), in the data directory's private `tls` folder, named by its
    fingerprint. Every process (and every node sharing the folder) writes a certificate to
    the same names, with the same key — a pair once written never changes to another."""
    folder = data_dir / "tls"
    stem = f"service-{service}-{fingerprint[:32]}"
    return PairFiles(fingerprint, folder / f"{stem}.crt", folder / f"{stem}.key")


def write_files(
    engine: sa.Engine, keyring: KeyRing, data_dir: Path, service: str = "cpanel"
) -> PairFiles | None:
    """Write the store's service certificate where `file_paths` says (each file through a
    temporary file renamed over any old one, so a reader sees a whole file); its files, or
    None (and nothing written) when none is installed."""
    with engine.connect() as conn:
        found = installed(conn, service)
        key = key_pem(conn, keyring, service) if found is not None else None
    if found is None or key is None:
        return None
    pair = file_paths(data_dir, found.fingerprint, service)
    private_files.make_dir(pair.cert.parent, private_files.PRIVATE_DIR)
    chain = found.pem if found.pem.endswith("\n") else found.pem + "\n"
    if found.cabundle:
        chain += found.cabundle
    _replace(pair.key, key.encode())
    _replace(pair.cert, chain.encode())
    return pair


def _replace(path: Path, content: bytes) -> None:
    if path.exists() and path.read_bytes() == content:
        os.utime(path)  # written again: `sweep_files` counts its grace from now
        return
    # Several processes may write the same content at once: each through a name of its own.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    private_files.write_private(temporary, content)
    temporary.replace(path)


def sweep_files(
    data_dir: Path,
    served: set[str],
    service: str = "cpanel",
    grace: float = PAIR_GRACE,
    now: float | None = None,
) -> list[Path]:
    """Remove the service's pairs that no process serves (`served`: fingerprints) and that
    nobody wrote for `grace` seconds — a process between writing a pair and serving it keeps
    it — the single pair of earlier versions (`service-<service>.crt`/`.key`), and temporary
    files left by a process stopped while writing; what was removed."""
    folder = data_dir / "tls"
    moment = time.time() if now is None else now
    kept = {file_paths(data_dir, fingerprint, service).cert.stem for fingerprint in served}
    removed = []
    for path in _service_files(folder, service):
        if path.stem in kept:
            continue
        try:
            if moment - path.stat().st_mtime < grace:
                continue
            path.unlink()
        except FileNotFoundError:  # another process swept it first
            continue
        removed.append(path)
    return removed


def _service_files(folder: Path, service: str) -> list[Path]:
    try:
        entries = list(folder.iterdir())
    except FileNotFoundError:
        return []
    prefix = f"service-{service}"
    return [
        entry
        for entry in entries
        if (entry.suffix in (".crt", ".key") and entry.name.startswith(prefix))
        # what a process stopped while writing left behind (`_replace`'s temporary files)
        or (entry.suffix == ".tmp" and entry.name.startswith(f".{prefix}"))
    ]


def configured_certificate(cert_path: Path) -> str | None:
    """The first certificate of the configured pair (the self-signed one made on first start,
    or GATEHOUSE_TLS_CERT), what the listeners present while none is installed."""
    try:
        text = cert_path.read_text()
    except OSError:
        return None
    try:
        return ssl_pem.parse_certificate(text).pem
    except InvalidParameter:
        return None
