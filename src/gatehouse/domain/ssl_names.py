"""The friendly names cPanel 11.120 gives what it stores in an account's SSL storage
(Cpanel/SSLStorage/User.pm `_initialize_new_record`, Cpanel/SSLInstall.pm; docs/ssl.md):

- installing stores the key as `Key for “D”` and the certificate as `Cert for “D”` (D the
  vhost's servername);
- a certificate or CSR stored without a name is named after its domains joined as English
  lists them ("a", "a and b", "a, b, and c": Cpanel::CPAN::Locales get_list_and), and the
  account's key for it is renamed so too;
- a key stored without a name is named after its type and the time ("2,048-bit RSA, created
  12/6/26, 6:41 AM UTC");
- a name already used by another item of the same kind gets " <unix time>.<n>" added.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from gatehouse.domain import ssl_pem


def list_and(items: Sequence[str]) -> str:
    """English CLDR's list: "a", "a and b", "a, b, and c"."""
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + ", and " + items[-1]


def domains(subject_cn: str, names: Sequence[str]) -> list[str]:
    """A certificate's `domains` as Cpanel::SSL::Utils parses them: its subject CN first unless
    it is one of its alternative names, then those names."""
    cn = subject_cn.strip()
    if not cn or cn.lower().rstrip(".") in names:
        return list(names)
    return [cn, *names]


def installed_key(servername: str) -> str:
    return f"Key for “{servername}”"


def installed_certificate(servername: str) -> str:
    return f"Cert for “{servername}”"


def _short_datetime(now: int) -> str:
    """[datetime,_1,datetime_format_short] in English: `12/6/26, 6:41 AM`."""
    t = datetime.fromtimestamp(now, UTC)
    hour = t.hour % 12 or 12
    return f"{t.month}/{t.day}/{t:%y}, {hour}:{t:%M} {'AM' if t.hour < 12 else 'PM'}"


def default_key(key: ssl_pem.Key, now: int) -> str:
    """`_generate_key_friendly_name`: `2,048-bit RSA, created …` or `ECDSA “prime256v1”,
    created …`, the time in UTC."""
    when = _short_datetime(now)
    if key.key_algorithm == "rsa" and key.modulus:
        return f"{int(key.modulus, 16).bit_length():,}-bit RSA, created {when} UTC"
    public = serialization.load_pem_private_key(key.pem.encode(), None).public_key()
    if isinstance(public, ec.EllipticCurvePublicKey):
        return f"ECDSA “{ssl_pem.curve_name(public.curve)}”, created {when} UTC"
    return f"Created {when}"


def unique(conn: sa.Connection, table: sa.Table, user_id: int, name: str, now: int) -> str:
    """`name`, or — another item of the account's of that kind has it — `name <now>.<n>`."""
    candidate, n = name, 0
    while (
        conn.execute(
            sa.select(table.c.id).where(
                table.c.user_id == user_id, table.c.friendly_name == candidate
            )
        ).first()
        is not None
    ):
        candidate = f"{name} {now}.{n}"
        n += 1
    return candidate


def rename_key(conn: sa.Connection, keys: sa.Table, user_id: int, key_id: str, name: str) -> None:
    """`set_key_friendly_name` on the account's key for a certificate or CSR just named after
    its domains (left as it is when another key has that name: cPanel's rename fails then)."""
    taken = conn.execute(
        sa.select(keys.c.id).where(
            keys.c.user_id == user_id, keys.c.friendly_name == name, keys.c.key_id != key_id
        )
    ).first()
    if taken is None:
        conn.execute(
            sa.update(keys)
            .where(keys.c.user_id == user_id, keys.c.key_id == key_id)
            .values(friendly_name=name)
        )
