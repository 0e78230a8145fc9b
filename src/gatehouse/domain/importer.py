"""`gatehouse import-cpanel PATH`: bring resellers, Remote Access Keys and API tokens over from
a copy of a cPanel server's files (whm-reference §2.4 and §4).

cPanel stores tokens as SHA-512 digests, which is gatehouse's own at-rest form, so imported
tokens keep working with their original strings. Every file is read and checked first; then
everything valid is applied in ONE transaction (a dry run rolls it back). A bad file is reported
with its path and skipped whole. Running the import twice changes nothing the second time.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from gatehouse import acls, ipnets
from gatehouse.domain import accesshash, audit, tokens, users
from gatehouse.domain.accesshash import KeyRing
from gatehouse.numerals import digits
from gatehouse.store.schema import users as users_table

_DIGEST_RE = re.compile(r"^[a-f0-9]{128}\Z")
_USER_RE = re.compile(r"^[a-z0-9._-]{1,32}\Z")


@dataclass(frozen=True, slots=True)
class ImportedToken:
    digest: str
    name: str
    create_time: int
    expires_at: int | None
    acls: tuple[str, ...] | None
    whitelist_ips: tuple[str, ...] | None


@dataclass
class Plan:
    resellers: dict[str, list[str]] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    tokens: list[tuple[str, str, ImportedToken]] = field(default_factory=list)  # user, service
    problems: list[tuple[Path, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files: int = 0


class BadFile(ValueError):
    pass


# -- reading ------------------------------------------------------------------------------


def _read_resellers(path: Path, plan: Plan) -> None:
    found: dict[str, list[str]] = {}
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, rest = line.partition(":")
        if not sep or not _USER_RE.match(user):
            raise BadFile(f"line {number}: expected USER:ACL,ACL,…")
        names = [a.strip() for a in rest.split(",") if a.strip()]
        known = [c for a in names if (c := acls.canonical(a)) is not None]
        unknown = sorted(set(names) - set(known) - set(acls.ALIASES))
        if unknown:
            plan.notes.append(
                f"{path}: {user}: third-party privileges not imported: {', '.join(unknown)}"
            )
        found[user] = acls.ordered(known)
    plan.resellers.update(found)


def _read_key(path: Path, user: str, plan: Plan) -> None:
    key = path.read_text()
    if not accesshash.looks_like_key(key):
        raise BadFile("not an access hash (expected 30 lines of 32 hexadecimal characters)")
    plan.keys[user] = key.lower()


def _int_or_none(value: Any, what: str) -> int | None:
    # Perl's false values are none; "00" is true in Perl, so a token cPanel stored with
    # `expires_at` "00" (expired there: APITokens.pm line 142) is imported as 0, expired.
    if value in (None, 0, "0", ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int | str) or not digits(str(value)):
        raise BadFile(f"{what} is not a Unix time")
    return int(value)


def _read_tokens(path: Path, service: str, plan: Plan) -> None:
    user = path.stem
    if not _USER_RE.match(user):
        raise BadFile("the file name is not a user name")
    try:
        document = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadFile(f"not JSON: {exc}") from exc
    entries = document.get("tokens") if isinstance(document, dict) else None
    if not isinstance(entries, dict):
        raise BadFile("no “tokens” object")
    found = []
    for token_digest, entry in entries.items():
        if not _DIGEST_RE.match(token_digest) or not isinstance(entry, dict):
            raise BadFile(f"entry {token_digest[:16]}…: not a SHA-512 digest")
        name = entry.get("name")
        if not isinstance(name, str) or not tokens.NAME_RE.match(name):
            raise BadFile(f"entry {token_digest[:16]}…: bad token name {name!r}")
        if service == tokens.WHOSTMGR:
            raw_acls = entry.get("acls")
            if raw_acls is not None and not isinstance(raw_acls, list):
                raise BadFile(f"token {name}: “acls” is not a list")
            token_acls = None
            if raw_acls is not None:
                unknown = [a for a in raw_acls if acls.canonical(str(a)) is None]
                if unknown:
                    raise BadFile(
                        f"token {name}: unknown privileges {', '.join(map(str, unknown))}"
                    )
                token_acls = tuple(acls.ordered(acls.canonical(str(a)) or "" for a in raw_acls))
        else:
            # cPanel tokens: full access, or a feature list (kept in the same column).
            full = entry.get("has_full_access", 1) in (1, "1", True)
            features = entry.get("features") or []
            token_acls = None if full else tuple(str(f) for f in features)
        raw_ips = entry.get("whitelist_ips")
        try:
            ips = tuple(ipnets.normalise(raw_ips)) if raw_ips else None
        except ipnets.InvalidIpEntry as exc:
            raise BadFile(f"token {name}: bad IP entry {exc.entry!r}") from exc
        found.append(
            (
                user,
                service,
                ImportedToken(
                    digest=token_digest,
                    name=name,
                    create_time=_int_or_none(entry.get("create_time"), f"token {name} create_time")
                    or 0,
                    expires_at=_int_or_none(entry.get("expires_at"), f"token {name} expires_at"),
                    acls=token_acls,
                    whitelist_ips=ips,
                ),
            )
        )
    plan.tokens.extend(found)


def read_tree(root: Path) -> Plan:
    plan = Plan()
    jobs: list[tuple[Path, Callable[[], None]]] = []
    resellers = root / "var/cpanel/resellers"
    if resellers.is_file():
        jobs.append((resellers, lambda: _read_resellers(resellers, plan)))
    root_key = root / "root/.accesshash"
    if root_key.is_file():
        jobs.append((root_key, lambda: _read_key(root_key, users.ROOT, plan)))
    for key_file in sorted((root / "home").glob("*/.accesshash")):
        owner = key_file.parent.name
        jobs.append((key_file, lambda f=key_file, o=owner: _read_key(f, o, plan)))  # type: ignore[misc]
    for service in (tokens.WHOSTMGR, tokens.CPANEL):
        for token_file in sorted(
            (root / f"var/cpanel/authn/api_tokens_v2/{service}").glob("*.json")
        ):
            jobs.append((token_file, lambda f=token_file, s=service: _read_tokens(f, s, plan)))  # type: ignore[misc]
    for path, job in jobs:
        plan.files += 1
        try:
            job()
        except (BadFile, OSError, UnicodeDecodeError) as exc:
            plan.problems.append((path, str(exc)))
    return plan


# -- applying -----------------------------------------------------------------------------


def _ensure_user(conn: sa.Connection, username: str, now: int, counts: Counter[str]) -> users.User:
    user = users.get(conn, username)
    if user is not None:
        return user
    # Known only by name here: no password (cannot log in with one) and no domain.
    conn.execute(
        sa.insert(users_table).values(
            username=username, is_root=False, owner=users.ROOT, suspended=False, created_time=now
        )
    )
    counts["accounts created"] += 1
    return users.require(conn, username)


def apply(
    conn: sa.Connection,
    plan: Plan,
    keyring: KeyRing,
    now: int,
    progress: Callable[[], None] = lambda: None,
) -> Counter[str]:
    counts: Counter[str] = Counter()
    for username, privileges in plan.resellers.items():
        user = _ensure_user(conn, username, now, counts)
        if user.is_root:
            continue
        if user.reseller_acls is not None and list(user.reseller_acls) == privileges:
            counts["resellers unchanged"] += 1
        else:
            users.set_reseller_acls(conn, user.id, privileges)
            counts["resellers set"] += 1
        progress()
    for username, key in plan.keys.items():
        progress()
        # Only root or a reseller can have a key (whm-reference §2.4): a key left in the
        # home of someone who is neither is not imported (and no account is made for it).
        key_owner = users.get(conn, username)
        if key_owner is None or not (key_owner.is_root or key_owner.is_reseller):
            counts["access keys skipped"] += 1
            plan.notes.append(f"{username}: not root or a reseller; access key not imported")
            continue
        key_digest = accesshash.digest(key)
        if accesshash.stored_digest(conn, key_owner.id) == key_digest:
            counts["access keys unchanged"] += 1
            continue
        holder = accesshash.lookup_for_auth(conn, key_digest)
        if holder is not None and holder.id != key_owner.id:
            # Keys are unique (one digest finds one user): a copied key cannot be shared.
            counts["access keys skipped"] += 1
            plan.notes.append(
                f"{username}: the same access key as {holder.username}'s; not imported"
            )
            continue
        accesshash.store(conn, keyring, key_owner, key, now)
        counts["access keys imported"] += 1
    for username, service, token in plan.tokens:
        owner = _ensure_user(conn, username, now, counts)
        existing = tokens.find_by_digest(conn, token.digest)
        if existing is not None:
            if existing.user_id == owner.id:
                counts["tokens unchanged"] += 1
            else:
                counts["tokens skipped"] += 1
                plan.notes.append(
                    f"{username}: token {token.name!r} has the digest of another "
                    "user's token; not imported"
                )
        elif tokens.get_by_name(conn, owner.id, service, token.name) is not None:
            counts["tokens skipped"] += 1
            plan.notes.append(
                f"{username}: a different token named {token.name!r} exists; not imported"
            )
        else:
            tokens.insert_digest(
                conn,
                owner=owner,
                service=service,
                name=token.name,
                token_digest=token.digest,
                token_acls=token.acls,
                whitelist_ips=token.whitelist_ips,
                expires_at=token.expires_at,
                create_time=token.create_time or now,
            )
            audit.record(
                conn,
                now=now,
                action=audit.TOKEN_CREATE,
                actor="import-cpanel",
                subject=username,
                token_name=token.name,
                detail=f"imported ({service})",
            )
            counts["tokens imported"] += 1
        progress()
    if any(k.endswith(("imported", "set", "created")) for k in counts):
        audit.record(
            conn,
            now=now,
            action=audit.IMPORT,
            actor="import-cpanel",
            detail=", ".join(f"{k}: {v}" for k, v in sorted(counts.items())),
        )
    return counts
