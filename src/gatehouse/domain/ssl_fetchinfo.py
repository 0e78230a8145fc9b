"""cPanel's Cpanel::SSLInfo::fetchinfo, the one lookup behind UAPI `SSL::fetch_best_for_domain`,
`SSL::fetch_key_and_cabundle_for_certificate` and WHM `fetchsslinfo` (docs/ssl.md): the best
stored certificate for a domain (or the certificate given), with the key stored for it and its
CA bundle, searched in the storage of a list of accounts, answered in fetchinfo's own hash.

As cPanel's:
- **Which certificate** (Cpanel::SSLInfo::fetchsslcrt): per searched account in order, among
  its stored certificates naming the domain (exactly, or `*.` of its parent when it has two dots
  or more), CA-signed before self-signed, then the one expiring last, then the stronger key
  (an ECDSA key counted as its RSA equivalent); none for the domain, then the same for its
  `www.` form (or, for `www.D`, D); then the certificate installed on the domain. Expired
  certificates are candidates too (cPanel does not look at the dates here).
- **Which key**: the first searched account storing the certificate's key; none is cPanel's
  sentence in `key` (`Sorry, no SSL key file was found for the domain D.`), not an error.
- **Which bundle**: `""` for a self-signed certificate. cPanel fetches a CA-signed one's bundle
  from its issuer's URL (AIA) or its own repository; gatehouse fetches nothing and gives the
  bundle the certificate is installed with, else cPanel's sentence for a bundle not found.
- No certificate for the domain is a success (`status` 1) with only `status` and `statusmsg`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from gatehouse.domain import certificates, ssl_pem
from gatehouse.domain.accesshash import KeyRing
from gatehouse.domain.users import User
from gatehouse.errors import GatehouseError

NO_INPUT = "No domain or certificate provided."
INVALID_DOMAIN = "Invalid domain"
NO_KEY = "Sorry, no SSL key file was found for the domain {domain}."
# RSA modulus lengths of equivalent strength (Cpanel::Crypt::ECDSA::Data, NIST SP 800-57).
_ECDSA_AS_RSA = {256: 3072, 384: 7680, 521: 15360}


def _rank(cert: certificates.StoredCertificate) -> tuple[bool, int, int]:
    """fetchsslcrt's order, least first: CA-signed before self-signed, then the one expiring
    last, then the stronger key (an ECDSA key counted as its RSA equivalent)."""
    parsed = ssl_pem.parse_certificate(cert.pem)
    size = int(getattr(parsed.x509.public_key(), "key_size", 0) or 0)
    strength = size if cert.key_algorithm == "rsa" else _ECDSA_AS_RSA.get(size, size)
    return parsed.self_signed, -cert.not_after, -strength


def _candidates(
    stored: Sequence[certificates.StoredCertificate], domain: str
) -> list[certificates.StoredCertificate]:
    found = [c for c in stored if domain in c.names]
    if domain.count(".") >= 2:
        wildcard = "*." + domain.split(".", 1)[1]
        found += [c for c in stored if wildcard in c.names and c not in found]
    return found


def _best_stored(
    conn: sa.Connection, account: User, domain: str
) -> certificates.StoredCertificate | None:
    """Cpanel::SSLInfo::fetchsslcrt for one account."""
    stored = certificates.certificates_of(conn, account.id)
    other = domain[4:] if domain.startswith("www.") else f"www.{domain}"
    for name in (domain, other):
        found = _candidates(stored, name)
        if found:
            return min(found, key=_rank)
        installed = certificates.installed_on(conn, name)
        if installed is not None and installed.user_id == account.id:
            return installed.certificate
    return None


def _bundle(conn: sa.Connection, searched: Sequence[User], cert: ssl_pem.Certificate) -> str:
    if cert.self_signed:
        return ""
    for account in searched:
        for item in certificates.installed(conn, user_id=account.id):
            if item.certificate.fingerprint == cert.fingerprint and item.cabundle:
                return item.cabundle
    return (
        "Sorry, no certificate authority bundle was found; however, you probably don't need "
        f"one for this certificate ({cert.subject_cn})."
    )


def _http_ip(
    conn: sa.Connection, domain: str, ip_of: Callable[[User], str]
) -> tuple[User | None, str | None]:
    """The domain's owner and its address (Cpanel::SSLInfo::_get_domain_http_ip: a wildcard
    falls back to its base domain); none for a domain of no account."""
    name = domain.lower().rstrip(".")
    owner = certificates.domain_owner(conn, name)
    if owner is None and name.startswith("*."):
        owner = certificates.domain_owner(conn, name[2:])
    return owner, (ip_of(owner) if owner is not None else None)


def fetch_info(
    conn: sa.Connection,
    keyring: KeyRing,
    *,
    domain: str | None,
    crt: str | None,
    searched: Sequence[User],
    crt_user: str,
    ip_of: Callable[[User], str],
) -> dict[str, Any]:
    """fetchinfo's hash: `{status: 0, statusmsg}` on a refusal, `{status: 1, statusmsg}` when
    the domain has no certificate, else `{cab, crt, crt_origin, domain, ip, key, key_origin,
    searched_users, status: 1, statusmsg: "ok", user}`. `searched` are the accounts whose
    storage is searched, in order; `crt_user` is who is named as the origin of a certificate
    given (cPanel's REMOTE_USER)."""
    if not domain and not crt:
        return {"status": 0, "statusmsg": NO_INPUT}
    if crt:
        crt = re.sub(r"BEGIN\s+CERTIFICATE", "BEGIN CERTIFICATE", crt, count=1)
        crt = re.sub(r"END\s+CERTIFICATE", "END CERTIFICATE", crt, count=1)
    if domain and (any(c.isspace() for c in domain) or ".." in domain or "/" in domain):
        return {"status": 0, "statusmsg": INVALID_DOMAIN}
    parsed: ssl_pem.Certificate | None = None
    if crt:
        try:
            parsed = ssl_pem.parse_certificate(crt)
        except GatehouseError as exc:
            return {"status": 0, "statusmsg": exc.reason}
        domain = domain or parsed.subject_cn
    assert domain is not None
    lookup = domain.lower()
    origin: str | None = crt_user if parsed is not None else None
    if parsed is None:
        for account in searched:
            best = _best_stored(conn, account, lookup)
            if best is not None:
                crt, origin = best.pem.replace("\r", ""), account.username
                parsed = ssl_pem.parse_certificate(crt)
                break
        else:
            return {
                "status": 1,
                "statusmsg": f"No certificate for the domain {domain} could be found.",
            }
    assert parsed is not None
    key: str | None = None
    key_user: str | None = None
    for account in searched:
        key = certificates.key_pem(conn, keyring, account.id, parsed.key_id)
        if key is not None:
            key_user = account.username
            break
    owner, ip = _http_ip(conn, domain, ip_of)
    return {
        "cab": _bundle(conn, searched, parsed),
        "crt": crt,
        "crt_origin": origin,
        "domain": domain,
        "ip": ip,
        "key": key if key is not None else NO_KEY.format(domain=domain),
        "key_origin": key_user,
        "searched_users": [a.username for a in searched],
        "status": 1,
        "statusmsg": "ok",
        "user": owner.username if owner is not None else "",
    }
