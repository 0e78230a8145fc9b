"""setupreseller, unsetupreseller, setacls, listresellers, saveacllist, listacls."""

from __future__ import annotations

import re
from typing import Any

from gatehouse import acls
from gatehouse.api.call import Call
from gatehouse.api.registry import Param, Reply
from gatehouse.domain import (
    acl_lists,
    audit,
    packages,
    reseller_ips,
    reseller_limits,
    reseller_packages,
    users,
)
from gatehouse.errors import InvalidParameter, NotFound
from gatehouse.numerals import digits
from gatehouse.whm import api0
from gatehouse.whm.functions.meta import privilege_map
from gatehouse.whm.registry import REGISTRY

ROOT_ONLY = (acls.ALL,)
# ASCII only: str.isalnum() would also let "é", "²" or Arabic digits through.
_LIST_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}\Z")


def _account(call: Call, username: str) -> users.User:
    user = users.get(call.conn, username)
    if user is None:
        raise NotFound(f"The user “{username}” does not exist.")
    if user.is_root:
        raise InvalidParameter("The “root” user already holds every privilege.")
    return user


@REGISTRY.function(
    "setupreseller",
    "Give an account reseller status, with cPanel's default (Initial) privileges.",
    params=(
        Param("user", "The account.", required=True),
        Param("makeowner", "1: the reseller owns its own account.", type="boolean"),
    ),
    privileges=ROOT_ONLY,
    api0=api0.setupreseller,
)
def setupreseller(call: Call) -> Reply:
    username = call.require("user")
    user = users.get(call.conn, username)
    # Whostmgr::Resellers::Setup::_setupreseller's words (root is no account there either).
    if user is None or user.is_root:
        raise NotFound(f"_setupreseller called for a user that does not exist. ({username})")
    if user.is_reseller:
        raise InvalidParameter(
            "_setupreseller tried to make a reseller out of a reseller when a normal user was "
            f"expected. ({user.username})"
        )
    makeowner = call.flag("makeowner")
    users.set_reseller_acls(call.conn, user.id, acls.DEFAULT_RESELLER_ACLS)
    if makeowner:
        users.set_owner(call.conn, user.id, user.username)
    call.audit(audit.RESELLER_SETUP, user.username)
    return Reply(has_data=False)


@REGISTRY.function(
    "unsetupreseller",
    "Take reseller status away; its accounts pass to its owner.",
    params=(Param("user", "The reseller.", required=True),),
    privileges=ROOT_ONLY,
    api0=api0.unsetupreseller,
)
def unsetupreseller(call: Call) -> Reply:
    user = _account(call, call.require("user"))
    if user.is_reseller:
        heir = user.owner if user.owner != user.username else users.ROOT
        users.transfer_owned(call.conn, user.username, heir)
        packages.transfer_owned(call.conn, user.username, heir)
        if user.owner == user.username:
            users.set_owner(call.conn, user.id, users.ROOT)
        users.set_reseller_acls(call.conn, user.id, None)
        reseller_ips.forget(call.conn, user)
        reseller_limits.forget(call.conn, user)
        reseller_packages.clear(call.conn, user)
        call.audit(audit.RESELLER_UNSETUP, user.username)
    return Reply(has_data=False)


def _named_acls(values: list[tuple[str, str]]) -> list[str]:
    """`acl-NAME=1` parameters → names; `acl-NAME=0` grants nothing."""
    granted, unknown = [], []
    for name, value in values:
        if digits(name):
            # acl-0=NAME is the token functions' list form; silently ignoring it here would
            # wipe the reseller's privileges, so say what this function expects instead.
            raise InvalidParameter(
                f"“acl-{name}={value}” is not understood here: name each privilege as "
                "“acl-NAME=1” (for example “acl-list-accts=1”)."
            )
        canonical = acls.canonical(name)
        if canonical is None:
            unknown.append(name)
        elif value not in ("0", ""):
            granted.append(canonical)
    if unknown:
        raise InvalidParameter(f"Invalid ACL(s) specified: {', '.join(sorted(unknown))}")
    return acls.ordered(granted)


@REGISTRY.function(
    "setacls",
    "Replace a reseller's privileges with `acl-NAME=1` parameters or a saved list (`acllist`).",
    params=(
        Param("reseller", "The reseller (or `user`)."),
        Param("acllist", "A list saved with saveacllist."),
    ),
    privileges=ROOT_ONLY,
    api0=api0.setacls,
)
def setacls(call: Call) -> Reply:
    username = call.params.get("user") or call.params.get("reseller")
    if not username:
        raise InvalidParameter("No reseller specified.")
    user = _account(call, username)
    if not user.is_reseller:
        raise InvalidParameter(f"“{user.username}” is not a reseller.")
    list_name = call.params.get("acllist")
    if list_name:
        stored = acl_lists.get(call.conn, list_name)
        if stored is None:
            raise NotFound(f"The ACL list “{list_name}” does not exist.")
        granted = acls.ordered(stored)
    else:
        granted = _named_acls(call.params.items_with_prefix("acl-"))
    users.set_reseller_acls(call.conn, user.id, granted)
    call.audit(audit.RESELLER_ACLS, user.username, ",".join(granted))
    return Reply(data={"acl": granted})


@REGISTRY.function(
    "listresellers",
    "The server's resellers.",
    privileges=ROOT_ONLY,
    readonly=True,
    api0=api0.listresellers,
)
def listresellers(call: Call) -> dict[str, Any]:
    return {"reseller": users.list_resellers(call.conn)}


@REGISTRY.function(
    "saveacllist",
    "Save a named privilege list (`acl-NAME=1` parameters) for setacls.",
    params=(Param("acllist", "The list's name.", required=True),),
    privileges=ROOT_ONLY,
    api0=api0.saveacllist,
)
def saveacllist(call: Call) -> Reply:
    name = call.require("acllist")
    if not _LIST_NAME_RE.match(name):
        raise InvalidParameter(f"“{name}” is not a valid ACL list name.")
    granted = _named_acls(call.params.items_with_prefix("acl-"))
    acl_lists.save(call.conn, name, granted)
    return Reply(has_data=False)


@REGISTRY.function(
    "listacls",
    "The saved privilege lists.",
    privileges=ROOT_ONLY,
    readonly=True,
    api0=api0.listacls,
)
def listacls(call: Call) -> dict[str, Any]:
    saved = acl_lists.all_lists(call.conn)
    return {"acl": [{"name": name, "privileges": privilege_map(held)} for name, held in saved]}
