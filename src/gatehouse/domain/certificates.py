"""The certificate store — the use cases behind WHM `installssl`, `fetchsslinfo`, `listcrts`,
`fetch_ssl_vhosts`, `delete_ssl_vhost` and UAPI/API 2 `SSL` (docs/ssl.md).

A certificate is checked (gatehouse.domain.ssl_pem) before anything is written, then stored
per account with its parsed facts; its private key is stored ENCRYPTED with the server's key
ring (as the access hash), bound to its account and public key. "Installing" binds a
certificate to a domain of the account (its main domain or a subdomain): one row per domain
(the vhost), from which gatehouse.domain.ssl_files writes the web server's files once the call
has committed. Who may act on which domain is the one access rule (gatehouse.domain.access).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric import ec

from gatehouse.dns import zones
from gatehouse.domain import access, ssl_names, ssl_pem, subdomains, users
from gatehouse.domain.accesshash import KeyRing
from gatehouse.domain.ssl_files import key_context
from gatehouse.domain.unit import UnitOfWork
from gatehouse.domain.users import User
from gatehouse.errors import InvalidParameter, NotFound
from gatehouse.store.schema import ssl_certificates, ssl_keys, ssl_vhosts
from gatehouse.store.schema import users as users_table

INSTALL = "INSTALLSSL"
DELETE = "DELETESSL"


@dataclass(frozen=True, slots=True)
class StoredCertificate:
    row_id: int
    user_id: int
    fingerprint: str
    pem: str
    names: tuple[str, ...]
    subject_cn: str
    issuer_cn: str
    issuer_org: str
    not_before: int
    not_after: int
    key_id: str
    modulus: str | None
    key_algorithm: str
    created_time: int
    friendly_name: str | None = None

    @property
    def domains(self) -> list[str]:
        """cPanel's `domains`: the subject CN first unless it is an alternative name."""
        return ssl_names.domains(self.subject_cn, self.names)

    @property
    def shown_name(self) -> str:
        """Its friendly name; a row stored unnamed (before gatehouse named every certificate
        as cPanel does) shows the name cPanel would have given it: its domains listed."""
        return self.friendly_name or ssl_names.list_and(self.domains) or self.cert_id

    @property
    def cert_id(self) -> str:
        """An id in the style of cPanel's (`example_com_<key>_<expiry>_<hash>`), unique per
        account: the fingerprint ends it."""
        label = (self.subject_cn or (self.names[0] if self.names else "cert")).replace("*", "_")
        label = label.replace(".", "_").replace("-", "_")
        return f"{label}_{self.key_id[:5]}_{self.key_id[5:10]}_{self.not_after}_{self.fingerprint}"


@dataclass(frozen=True, slots=True)
class StoredKey:
    key_id: str
    user_id: int
    key_algorithm: str
    modulus: str | None
    created_time: int
    friendly_name: str | None = None

    @property
    def shown_name(self) -> str:
        """Its friendly name (a row stored unnamed by an older gatehouse: the id's start)."""
        return self.friendly_name or self.key_id[:16]


@dataclass(frozen=True, slots=True)
class Installed:
    domain: str
    user_id: int
    username: str
    certificate: StoredCertificate
    cabundle: str | None
    installed_time: int


def _certificate(m: Any) -> StoredCertificate:
    return StoredCertificate(
        int(m["id"]),
        int(m["user_id"]),
        str(m["fingerprint"]),
        str(m["pem"]),
        tuple(m["names"]),
        str(m["subject_cn"]),
        str(m["issuer_cn"]),
        str(m["issuer_org"]),
        int(m["not_before"]),
        int(m["not_after"]),
        str(m["key_id"]),
        m["modulus"],
        str(m["key_algorithm"]),
        int(m["created_time"]),
        m["friendly_name"],
    )


# -- which domain, whose --------------------------------------------------------------------------


def owned_domains(conn: sa.Connection, user: User) -> list[str]:
    """The account's web domains: its main domain, then its subdomains."""
    names = [user.domain] if user.domain else []
    return names + [s.name for s in subdomains.of_user(conn, user.id)]


def domain_owner(conn: sa.Connection, domain: str) -> User | None:
    row = conn.execute(sa.select(users_table.c.id).where(users_table.c.domain == domain)).first()
    if row is not None:
        return users.get_by_id(conn, int(row.id))
    sub = subdomains.get(conn, domain)
    return users.get_by_id(conn, sub.user_id) if sub is not None else None


def _normalised(raw: str) -> str:
    name = zones.normalise(raw)
    if not name:
        raise InvalidParameter(f"“{raw.strip()}” is not a valid domain name.")
    return name


def reach_domain(conn: sa.Connection, actor: access.Actor, raw: str) -> tuple[str, User]:
    """WHM: the domain and the account holding it, if `actor` administers that account
    (root, hasroot(), or the reseller owning it)."""
    name = _normalised(raw)
    owner = domain_owner(conn, name)
    access.to_account(actor, owner, name, wording=access.DOMAIN).enforce()
    assert owner is not None
    return name, owner


def own_domain(conn: sa.Connection, actor: access.Actor, raw: str) -> tuple[str, User]:
    """The cPanel face: one of the account's own domains; the same refusal for another
    account's domain and for one that does not exist."""
    name = zones.normalise(raw)
    owner = domain_owner(conn, name) if name else None
    decision = access.to_account(
        actor,
        owner,
        name or raw.strip(),
        purpose=access.Purpose.OWN,
        told=access.Told.NOBODY,
        wording=access.DOMAIN,
    )
    decision.enforce()
    assert owner is not None
    return name, owner


# -- checks ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Checked:
    certificate: ssl_pem.Certificate
    key: ssl_pem.Key
    cabundle: str | None  # normalised PEM


def check(crt: str, key: str, cab: str | None, domain: str, now: int) -> Checked:
    """Everything `installssl` checks, before anything is written."""
    certificate = ssl_pem.parse_certificate(crt)
    parsed_key = ssl_pem.parse_key(key)
    ssl_pem.check_key_matches(certificate, parsed_key)
    ssl_pem.check_covers(certificate, domain)
    ssl_pem.check_dates(certificate, now)
    bundle_pem = None
    if cab and cab.strip():
        bundle = ssl_pem.parse_bundle(cab)
        ssl_pem.check_chain(certificate, bundle)
        bundle_pem = "".join(b.pem for b in bundle)
    return Checked(certificate, parsed_key, bundle_pem)


# -- writes ---------------------------------------------------------------------------------------


def store_certificate(
    unit: UnitOfWork, user_id: int, cert: ssl_pem.Certificate, friendly_name: str | None = None
) -> int:
    """The row of the account's copy of `cert`, stored now if it was not yet (a copy stored
    already keeps its name). Without a name it is named after its domains and so is the
    account's key for it; a name another certificate has gets the time added (ssl_names)."""
    conn = unit.conn
    found = conn.execute(
        sa.select(ssl_certificates.c.id).where(
            ssl_certificates.c.user_id == user_id,
            ssl_certificates.c.fingerprint == cert.fingerprint,
        )
    ).first()
    if found is not None:
        return int(found.id)
    if friendly_name is None:
        friendly_name = ssl_names.list_and(ssl_names.domains(cert.subject_cn, cert.names))
        ssl_names.rename_key(conn, ssl_keys, user_id, cert.key_id, friendly_name)
    friendly_name = ssl_names.unique(conn, ssl_certificates, user_id, friendly_name, unit.now)
    result = conn.execute(
        sa.insert(ssl_certificates).values(
            user_id=user_id,
            fingerprint=cert.fingerprint,
            pem=cert.pem,
            names=list(cert.names),
            subject_cn=cert.subject_cn,
            issuer_cn=cert.issuer_cn,
            issuer_org=cert.issuer_org,
            not_before=cert.not_before,
            not_after=cert.not_after,
            key_id=cert.key_id,
            modulus=cert.modulus,
            key_algorithm=cert.key_algorithm,
            created_time=unit.now,
            friendly_name=friendly_name,
        )
    )
    assert result.inserted_primary_key is not None
    return int(result.inserted_primary_key[0])


def store_key(
    unit: UnitOfWork,
    keyring: KeyRing,
    user_id: int,
    key: ssl_pem.Key,
    friendly_name: str | None = None,
) -> None:
    """Store the account's key, ENCRYPTED, unless it is stored already (then it keeps its
    name). Without a name it is named after its type and the time (ssl_names)."""
    conn = unit.conn
    exists = conn.execute(
        sa.select(ssl_keys.c.id).where(
            ssl_keys.c.user_id == user_id, ssl_keys.c.key_id == key.key_id
        )
    ).first()
    if exists is not None:
        return
    name = friendly_name or ssl_names.default_key(key, unit.now)
    name = ssl_names.unique(conn, ssl_keys, user_id, name, unit.now)
    conn.execute(
        sa.insert(ssl_keys).values(
            user_id=user_id,
            key_id=key.key_id,
            key_algorithm=key.key_algorithm,
            modulus=key.modulus,
            ciphertext=keyring.encrypt(key.pem, key_context(user_id, key.key_id)),
            created_time=unit.now,
            friendly_name=name,
        )
    )


def install(
    unit: UnitOfWork, keyring: KeyRing, account: User, domain: str, checked: Checked
) -> Installed:
    """Bind the checked certificate to `domain` (a domain of `account`), replacing whatever
    was installed there."""
    conn = unit.conn
    # Cpanel/SSLInstall.pm: add_key_and_certificate_if_needed, the key first.
    store_key(unit, keyring, account.id, checked.key, ssl_names.installed_key(domain))
    cert_row = store_certificate(
        unit, account.id, checked.certificate, ssl_names.installed_certificate(domain)
    )
    conn.execute(sa.delete(ssl_vhosts).where(ssl_vhosts.c.domain == domain))
    conn.execute(
        sa.insert(ssl_vhosts).values(
            domain=domain,
            user_id=account.id,
            certificate_id=cert_row,
            cabundle=checked.cabundle,
            installed_time=unit.now,
        )
    )
    unit.audit(INSTALL, account.username, f"{domain} {checked.certificate.fingerprint[:16]}")
    found = installed_on(conn, domain)
    assert found is not None
    return found


def remove(unit: UnitOfWork, domain: str) -> Installed:
    """Uninstall the certificate of `domain` (the certificate and key stay stored)."""
    found = installed_on(unit.conn, domain)
    if found is None:
        raise NotFound(f"The domain “{domain}” has no SSL certificate installed.")
    unit.conn.execute(sa.delete(ssl_vhosts).where(ssl_vhosts.c.domain == domain))
    unit.audit(DELETE, found.username, domain)
    return found


# -- reads ----------------------------------------------------------------------------------------


def _installed_query() -> sa.Select[Any]:
    return (
        sa.select(
            ssl_vhosts.c.domain,
            ssl_vhosts.c.cabundle,
            ssl_vhosts.c.installed_time,
            users_table.c.username,
            *ssl_certificates.c,
        )
        .join(ssl_certificates, ssl_certificates.c.id == ssl_vhosts.c.certificate_id)
        .join(users_table, users_table.c.id == ssl_vhosts.c.user_id)
        .order_by(ssl_vhosts.c.domain)
    )


def _installed(row: Any) -> Installed:
    m = row._mapping
    return Installed(
        str(m["domain"]),
        int(m["user_id"]),
        str(m["username"]),
        _certificate(m),
        m["cabundle"],
        int(m["installed_time"]),
    )


def installed_on(conn: sa.Connection, domain: str) -> Installed | None:
    row = conn.execute(_installed_query().where(ssl_vhosts.c.domain == domain)).first()
    return _installed(row) if row is not None else None


def installed(
    conn: sa.Connection, *, owner: str | None = None, user_id: int | None = None
) -> list[Installed]:
    """Every installed certificate; only the accounts `owner` holds (itself included) when
    given (a reseller's view), only one account's with `user_id`."""
    query = _installed_query()
    if user_id is not None:
        query = query.where(ssl_vhosts.c.user_id == user_id)
    if owner is not None:
        query = query.where(sa.or_(users_table.c.owner == owner, users_table.c.username == owner))
    return [_installed(r) for r in conn.execute(query)]


def certificates_of(conn: sa.Connection, user_id: int) -> list[StoredCertificate]:
    rows = conn.execute(
        sa.select(ssl_certificates)
        .where(ssl_certificates.c.user_id == user_id)
        .order_by(ssl_certificates.c.id)
    )
    return [_certificate(r._mapping) for r in rows]


def keys_of(conn: sa.Connection, user_id: int) -> list[StoredKey]:
    """The account's keys, without their material."""
    rows = conn.execute(
        sa.select(
            ssl_keys.c.key_id,
            ssl_keys.c.user_id,
            ssl_keys.c.key_algorithm,
            ssl_keys.c.modulus,
            ssl_keys.c.created_time,
            ssl_keys.c.friendly_name,
        )
        .where(ssl_keys.c.user_id == user_id)
        .order_by(ssl_keys.c.id)
    )
    return [
        StoredKey(
            str(r.key_id),
            int(r.user_id),
            str(r.key_algorithm),
            r.modulus,
            int(r.created_time),
            r.friendly_name,
        )
        for r in rows
    ]


def key_pem(conn: sa.Connection, keyring: KeyRing, user_id: int, key_id: str) -> str | None:
    """The private key, decrypted: only for the functions that return keys to their owner."""
    row = conn.execute(
        sa.select(ssl_keys.c.ciphertext).where(
            ssl_keys.c.user_id == user_id, ssl_keys.c.key_id == key_id
        )
    ).first()
    if row is None:
        return None
    return keyring.decrypt(row.ciphertext, key_context(user_id, key_id))


# -- what the functions report --------------------------------------------------------------------


def describe(cert: StoredCertificate) -> dict[str, Any]:
    """A certificate's facts under cPanel's keys (WHM listcrts / fetch_ssl_vhosts, UAPI
    list_certs / installed_hosts): never the key, only the public side."""
    parsed = ssl_pem.parse_certificate(cert.pem)
    public = parsed.x509.public_key()
    curve = None
    if cert.key_algorithm == "ecdsa" and isinstance(public, ec.EllipticCurvePublicKey):
        curve = ssl_pem.curve_name(public.curve)
    size = getattr(public, "key_size", None)
    return {
        "created": cert.created_time,
        "domains": list(cert.names),
        "ecdsa_curve_name": curve,
        "encryption_algorithm": {"rsa": "rsaEncryption", "ecdsa": "id-ecPublicKey"}.get(
            cert.key_algorithm, cert.key_algorithm
        ),
        "id": cert.cert_id,
        "is_self_signed": int(parsed.self_signed),
        "issuer.commonName": cert.issuer_cn,
        "issuer.organizationName": cert.issuer_org or None,
        "key_algorithm": {"rsa": "rsaEncryption", "ecdsa": "id-ecPublicKey"}.get(
            cert.key_algorithm, cert.key_algorithm
        ),
        "modulus": cert.modulus,
        "modulus_length": size if cert.key_algorithm == "rsa" else None,
        "not_after": cert.not_after,
        "not_before": cert.not_before,
        "subject.commonName": cert.subject_cn,
        "validation_type": ssl_pem.validation_type(parsed.x509),
    }


def install_from_text(
    unit: UnitOfWork,
    keyring: KeyRing,
    account: User,
    domain: str,
    crt: str,
    key: str,
    cab: str | None,
) -> Installed:
    """Check everything, then install: a refusal writes nothing. Without `key`, the
    account's stored key for the certificate's public key is used (as cPanel does)."""
    if not key.strip():
        wanted = ssl_pem.parse_certificate(crt).key_id
        stored = key_pem(unit.conn, keyring, account.id, wanted)
        if stored is None:
            raise InvalidParameter(
                "No key of this account matches the certificate: give its key (`key`)."
            )
        key = stored
    checked = check(crt, key, cab, domain, unit.now)
    return install(unit, keyring, account, domain, checked)
