"""Where a cPanel account logged in from: cPanel's ~/.lastlogin and the one function that
keeps it, Cpanel::LastLogin::Tiny::lastlogin (cPanel 11.120), which UAPI
`LastLogin::get_last_or_current_logged_in_ip` answers with.

cPanel's function both reads and writes. Given the caller's address (REMOTE_HOST, which
cpsrvd sets to REMOTE_ADDR), it answers the file's last address — or, when that last address
is the caller's own, the one before it; with neither, the caller's own; with no caller address
(the command line), the last address or `""` — and then appends the caller's address, a
repeat of the last one replacing it rather than adding a line. Only IPv4 addresses are
written (an IPv6 caller changes nothing and is answered with the last IPv4 one, else its own),
and cPanel keeps 15 lines; as the answer reads the last two only, those two are all kept
here (`last_logins`: `address`, the latest, and `previous`, the different one before it).

Who writes: every call of the UAPI function (whatever the credential: the function is the
writer), and — standing in for cPanel's Jupiter home page, which calls the function on every
browser login (base/frontend/jupiter/tools/index.tt) — each login to the cPanel face
(`logins.open_session`, and a one-time `create_user_session` URL redeemed). Nothing else: a
token or password API call that does not call the function records nothing, as in cPanel.
"""

from __future__ import annotations

import ipaddress

import sqlalchemy as sa

from gatehouse.store.rows import upsert
from gatehouse.store.schema import last_logins


def _recordable(address: str) -> bool:
    """Cpanel::Validate::IP::v4::is_valid_ipv4: only dotted-quad IPv4 is written."""
    try:
        ipaddress.IPv4Address(address)
    except ValueError:
        return False
    return True


def lastlogin(conn: sa.Connection, user_id: int, current: str | None) -> str:
    """Tiny::lastlogin for the account `user_id` and the caller's address `current` (None:
    none, as from the command line): cPanel's answer, the caller's address recorded."""
    current = current or ""
    if not _recordable(current):
        # Nothing is written; the last address can never be `current` (it is IPv4).
        latest = conn.execute(
            sa.select(last_logins.c.address).where(last_logins.c.user_id == user_id)
        ).scalar_one_or_none()
        return latest or current
    # One statement, so two logins at once on two nodes queue on the row rather than both
    # reading the same state. The new `previous` is cPanel's answer: the old latest when it
    # differs from the caller's, else the old previous (null: the caller's own address).
    insert = upsert(conn, last_logins).values(user_id=user_id, address=current, previous=None)
    repeated = last_logins.c.address == insert.excluded.address
    statement = insert.on_conflict_do_update(
        index_elements=[last_logins.c.user_id],
        set_={
            "previous": sa.case((repeated, last_logins.c.previous), else_=last_logins.c.address),
            "address": insert.excluded.address,
        },
    ).returning(last_logins.c.previous)
    previous: str | None = conn.execute(statement).scalar_one()
    return previous or current
