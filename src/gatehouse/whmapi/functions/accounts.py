"""createacct (the first step of the account life cycle) and passwd."""

from __future__ import annotations

import re
from typing import Any

from gatehouse.domain import audit, users
from gatehouse.errors import InvalidParameter, PermissionDenied
from gatehouse.passwords import hash_password
from gatehouse.whmapi.call import Call
from gatehouse.whmapi.registry import REGISTRY, Param, Reply

MIN_PASSWORD = 8
MAX_PASSWORD = 1024
_EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}\Z")


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidParameter(f"The password must contain at least {MIN_PASSWORD} characters.")
    if len(password) > MAX_PASSWORD:
        raise InvalidParameter(f"The password may contain at most {MAX_PASSWORD} characters.")


@REGISTRY.function(
    "createacct",
    "Create a cPanel account.",
    params=(
        Param("username", "1–16 of a-z 0-9 . _, not starting with a digit.", required=True),
        Param("domain", "The account's main domain.", required=True),
        Param("password", "The account's password (or `pass`).", required=True, secret=True),
        Param("contactemail", "Contact address."),
        Param("owner", "`root` or a reseller; resellers may only name themselves."),
    ),
    privileges=("create-acct",),
    slow=True,
)
def createacct(call: Call) -> Reply:
    caller = call.principal.user
    username = call.require("username").strip()
    users.validate_new_username(username)
    domain = users.normalise_domain(call.require("domain"))
    if call.params.get("password") and call.params.get("pass"):
        raise InvalidParameter("Use either the “pass” or the “password” parameter, not both.")
    password = call.params.get("password") or call.params.get("pass")
    if not password:
        raise InvalidParameter("Missing parameter: password")
    check_password(password)
    contact = call.params.get("contactemail") or None
    if contact is not None and not _EMAIL_RE.match(contact):
        raise InvalidParameter(f"“{contact}” is not a valid email address.")
    owner = call.params.get("owner") or caller.username
    if not caller.is_root and owner != caller.username:
        raise PermissionDenied(
            "Without root access, you can only create accounts that you yourself own.",
            code="not_owner",
        )
    owner_user = users.get(call.conn, owner)
    if owner_user is None or not (owner_user.is_root or owner_user.is_reseller):
        raise InvalidParameter(f"The owner “{owner}” is neither “root” nor a reseller.")
    account = users.create_account(
        call.conn,
        username=username,
        domain=domain,
        password_hash=hash_password(password),
        contact_email=contact,
        owner=owner,
        now=call.now,
    )
    audit.record(
        call.conn,
        now=call.now,
        action=audit.ACCOUNT_CREATE,
        actor=caller.username,
        subject=account.username,
        source_ip=call.peer,
        detail=f"domain {domain}",
    )
    data: dict[str, Any] = {"package": "default"}
    raw = f"Account Creation Ok\nUserName: {username}\nDomain: {domain}\nOwner: {owner}\n"
    return Reply(data=data, reason="Account Creation Ok", metadata={"output": {"raw": raw}})


@REGISTRY.function(
    "passwd",
    "Change the password of an account you own (or your own).",
    params=(
        Param("user", "The account.", required=True),
        Param("password", "The new password.", required=True, secret=True),
    ),
    privileges=("passwd",),
    slow=True,
)
def passwd(call: Call) -> dict[str, Any]:
    username = call.params.get("user")
    if not username:
        raise InvalidParameter("No user name supplied: “user” is a required argument.")
    password = call.params.get("password")
    if not password:
        raise InvalidParameter("No password supplied: “password” is a required argument.")
    target = users.get(call.conn, username)
    caller = call.principal.user
    if target is None or not caller.owns(target) or (target.is_root and not caller.is_root):
        raise PermissionDenied(
            f"You do not have access to an account named “{username}”.", code="not_owner"
        )
    check_password(password)
    users.set_password_hash(call.conn, target.id, hash_password(password))
    audit.record(
        call.conn,
        now=call.now,
        action=audit.PASSWORD_CHANGE,
        actor=caller.username,
        subject=target.username,
        source_ip=call.peer,
    )
    return {"app": ["system"]}
