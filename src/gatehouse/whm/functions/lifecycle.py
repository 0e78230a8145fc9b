"""suspendacct, unsuspendacct, listsuspended, removeacct, changepackage: what a billing system
calls after createacct (overdue invoice, payment, upgrade, cancellation).

Shapes and wording follow cPanel 11.120 (Whostmgr/API/1/Accounts.pm,
Whostmgr/Accounts/Suspension.pm, scripts/suspendacct, Whostmgr/Accounts/Remove.pm,
Whostmgr/Accounts/Upgrade.pm) and the WHM API 1 documentation. Where gatehouse had to choose,
the comment says so ("Choice:").

Every change is audited and runs the operator's hooks (gatehouse/hooks.py, docs/hooks.md):
"before" hooks after the checks and before anything is written (a refusal aborts the call
with the hook's message), "after" hooks once the transaction has committed.
"""

from __future__ import annotations

from typing import Any

from gatehouse.api.call import Call
from gatehouse.api.registry import Param, Reply
from gatehouse.dns import zones as zones_domain
from gatehouse.domain import (
    access,
    accounts,
    audit,
    lifecycle,
    reseller_limits,
    reseller_packages,
)
from gatehouse.domain import packages as packages_domain
from gatehouse.domain.users import User
from gatehouse.errors import InvalidParameter, NotFound, PermissionDenied
from gatehouse.whm import api0
from gatehouse.whm.registry import REGISTRY


def _target(call: Call, username: str, wording: access.Wording = access.ACCOUNT) -> User:
    actor = access.actor_of(call.principal)
    return lifecycle.require_managed(call.conn, actor, username, wording=wording)


def _event(account: User, **extra: Any) -> dict[str, Any]:
    """The account part of a hook's JSON (Call.run_hooks adds who, from where, when)."""
    return {
        "user": account.username,
        "domain": account.domain,
        "owner": account.owner,
        "plan": account.plan,
        **extra,
    }


def _user_param(call: Call) -> str:
    return call.require("user").strip()


# -- suspendacct / unsuspendacct / listsuspended -------------------------------------------


@REGISTRY.function(
    "suspendacct",
    "Suspend an account: its logins, tokens and sessions stop working until unsuspended.",
    params=(
        Param("user", "The account.", required=True),
        Param("reason", "Why (default “Unknown”); shown by listsuspended."),
        Param("disallowun", "1: only root may unsuspend (root only).", type="boolean"),
        Param(
            "leave-ftp-accts-enabled", "Accepted for compatibility (no FTP here).", type="boolean"
        ),
    ),
    privileges=("suspend-acct",),
    slow=True,  # runs hooks
    api0=api0.suspendacct,
)
def suspendacct(call: Call) -> Reply:
    caller = call.principal.user
    username = _user_param(call)
    locked = call.flag("disallowun")
    call.flag("leave-ftp-accts-enabled")  # validated, nothing to do without FTP
    reason = lifecycle.clean_reason(call.params.get("reason"))
    if len(reason) > lifecycle.MAX_REASON:
        raise InvalidParameter(
            f"The “reason” parameter may contain at most {lifecycle.MAX_REASON} characters."
        )
    if username == caller.username and not caller.is_root:
        raise InvalidParameter("Failed to suspend account. You cannot suspend yourself.")
    account = _target(call, username)
    # Choice: cPanel answers these with reason "Failed to suspend account." and the detail in
    # metadata.output.raw; a refusal here carries no metadata, so the detail follows the
    # sentence in the reason.
    if account.is_root:
        raise InvalidParameter("Failed to suspend account. Root user may not be suspended.")
    if locked and not access.actor_of(call.principal).sees_all:
        # cPanel prints this and then reports success without suspending; gatehouse refuses.
        raise PermissionDenied(
            "Failed to suspend account. Can not prevent resellers from unsuspending this "
            "account without the 'all' ACL.",
            code="missing_privilege",
        )
    if account.suspended:
        # As cPanel (scripts/suspendacct without --force): success, nothing changes, so a
        # billing system may repeat the call. The stored reason and lock are kept.
        raw = f"User '{username}' is already suspended.\n"
        return Reply(has_data=False, metadata={"output": {"raw": raw}})
    call.run_hooks("suspendacct", _event(account, reason=reason, disallowun=int(locked)))
    lifecycle.suspend(
        call.conn, account, reason=reason, locked=locked, by=caller.username, now=call.now
    )
    call.audit(
        audit.ACCOUNT_SUSPEND,
        username,
        f"reason {reason!r}" + (", locked (disallowun=1)" if locked else ""),
    )
    raw = (
        f"Suspending account “{username}”: logins, API tokens and sessions are refused.\n"
        f"{username}'s account has been suspended\n"
    )
    return Reply(has_data=False, metadata={"output": {"raw": raw}})


@REGISTRY.function(
    "unsuspendacct",
    "Lift a suspension. Only root may lift one made with disallowun=1.",
    params=(
        Param("user", "The account.", required=True),
        Param("retain-service-proxies", "Accepted for compatibility.", type="boolean"),
    ),
    privileges=("suspend-acct",),
    slow=True,
    api0=api0.unsuspendacct,
)
def unsuspendacct(call: Call) -> Reply:
    caller = call.principal.user
    username = _user_param(call)
    call.flag("retain-service-proxies")
    account = _target(call, username)
    if account.is_root or account.id == caller.id:
        # Neither can be suspended through this API in the first place.
        raise InvalidParameter(f"Failed to unsuspend account. “{username}” is not suspended.")
    if not account.suspended:
        # Choice: cPanel's script runs anyway; an idempotent success is what a billing system
        # retrying a payment hook needs.
        raw = f"User '{username}' is not suspended.\n"
        return Reply(has_data=False, metadata={"output": {"raw": raw}})
    if account.suspend_locked and not access.actor_of(call.principal).sees_all:
        raise PermissionDenied(
            f"Failed to unsuspend account. Only root can unsuspend “{username}”: the account "
            "was suspended with disallowun=1.",
            code="locked",
        )
    call.run_hooks("unsuspendacct", _event(account, reason=account.suspend_reason))
    lifecycle.unsuspend(call.conn, account)
    call.audit(audit.ACCOUNT_UNSUSPEND, username)
    raw = f"Unsuspending account “{username}”.\n{username}'s account is now active\n"
    return Reply(has_data=False, metadata={"output": {"raw": raw}})


@REGISTRY.function(
    "listsuspended",
    "The suspended accounts the caller may see (root: all; a reseller: those it owns).",
    privileges=("suspend-acct",),
    readonly=True,
    api0=api0.listsuspended,
)
def listsuspended(call: Call) -> dict[str, Any]:
    # cPanel: root-level callers see every suspended account, a reseller those it owns.
    owner = access.visible_owner(access.actor_of(call.principal))
    return {"account": lifecycle.list_suspended(call.conn, owner)}


@REGISTRY.function(
    "listlockedaccounts",
    "The locked accounts (suspended with `disallowun`: only root may unsuspend them) the caller "
    "may see (root: all; a reseller: those it owns).",
    privileges=("suspend-acct",),
    readonly=True,
)
def listlockedaccounts(call: Call) -> dict[str, Any]:
    # cPanel's Whostmgr::Accounts::List::getlockedlist names every locked account on the
    # server to any caller; gatehouse's one access rule shows a reseller its own, as
    # listsuspended does.
    owner = access.visible_owner(access.actor_of(call.principal))
    return {"account": lifecycle.list_locked(call.conn, owner)}


# -- removeacct ---------------------------------------------------------------------------


@REGISTRY.function(
    "removeacct",
    "Delete an account with its API tokens and sessions; a reseller's accounts pass to its owner.",
    params=(
        Param("username", "The account (`user` is the deprecated spelling)."),
        Param(
            "keepdns",
            "1: keep the account's DNS zones (they pass to root); else they are deleted.",
            type="boolean",
        ),
    ),
    privileges=("kill-acct",),
    slow=True,
    api0=api0.removeacct,
)
def removeacct(call: Call) -> Reply:
    caller = call.principal.user
    username = (call.params.get("username") or call.params.get("user") or "").strip()
    if not username:
        raise InvalidParameter("No user name supplied: “user” is a required argument.")
    # cPanel: keepdns is true when it contains "y" or "1" (Whostmgr/API/1/Accounts.pm).
    raw_keepdns = call.params.get("keepdns") or ""
    keepdns = "y" in raw_keepdns or "1" in raw_keepdns
    if username == caller.username:
        raise InvalidParameter("You cannot remove yourself!")
    account = _target(call, username)
    moved = lifecycle.owned_accounts(call.conn, account)
    heir = lifecycle.heir_of(account) if moved else None
    call.run_hooks(
        "removeacct",
        _event(account, keepdns=int(keepdns), owned_accounts=moved, reassigned_to=heir),
    )
    zone_names = zones_domain.names_of_user(call.conn, account.id)
    lifecycle.remove(call.conn, account, keepdns=keepdns)
    detail = f"keepdns={int(keepdns)}"
    if moved:
        detail += f", {len(moved)} account(s) passed to {heir}: {', '.join(moved)}"
    if zone_names:
        detail += f"; DNS zones {'kept (now root’s)' if keepdns else 'removed'}: "
        detail += ", ".join(zone_names)
    call.audit(audit.ACCOUNT_REMOVE, username, detail)
    lines = ["Removing API tokens, sessions and the Remote Access Key......Done"]
    if moved:
        lines.append(f"Passing {len(moved)} owned account(s) to {heir}: {', '.join(moved)}...Done")
    lines.append(
        "Keeping DNS Entries......Done"
        if keepdns
        else f"Removing DNS Entries...Zones removed: {len(zone_names)}"
    )
    lines.append(f"Account Removal Complete!!!...{username} account removed...Done")
    return Reply(
        has_data=False,
        reason=f"{username} account removed",
        metadata={"output": {"raw": "\n".join(lines) + "\n"}},
    )


# -- changepackage ------------------------------------------------------------------------


@REGISTRY.function(
    "changepackage",
    "Move an account to another package: its plan and limits become the package's.",
    params=(
        Param("user", "The account.", required=True),
        Param("pkg", "The package.", required=True),
    ),
    privileges=("upgrade-account",),
    slow=True,
    api0=api0.changepackage,
)
def changepackage(call: Call) -> Reply:
    caller = call.principal.user
    actor = access.actor_of(call.principal)
    username = _user_param(call)
    pkg = call.require("pkg")
    account = _target(call, username, lifecycle.UPGRADE)
    if account.is_root:
        raise InvalidParameter("The “root” user has no package.")
    # FOR SHARE on PostgreSQL: killpkg cannot remove the package under this call.
    package = packages_domain.lock_for_use(call.conn, pkg)
    if package is None:
        raise NotFound("Specified package does not exist.")
    if not accounts.usable_package(call.conn, actor, package):
        # cPanel's wording when the package is not in the caller's "creatable" list.
        raise PermissionDenied(reseller_packages.refusal(pkg), code="package_not_visible")
    if not actor.sees_all:
        # As cPanel, the caller's limits apply (root's changes are not limited); a reseller
        # here always owns the account (access.Purpose.MANAGE).
        reseller_limits.check_can_change(call.conn, caller, username, package.settings, package)
    old_plan = account.plan or packages_domain.DEFAULT_PACKAGE
    call.run_hooks(
        "changepackage",
        _event(account, cur_pkg=old_plan, new_pkg=package.name, limits=dict(package.settings)),
    )
    before = account.limits or {}
    lifecycle.change_package(call.conn, account, package)
    call.audit(audit.ACCOUNT_CHANGE_PACKAGE, username, f"{old_plan} → {package.name}")
    lines = [
        f"Changing {key} from “{before.get(key, 'unset')}” to “{value}”."
        for key, value in sorted(package.settings.items())
        if before.get(key) != value
    ]
    lines.append(f"Changing plan from {old_plan} to {package.name}")
    # Whostmgr::Accounts::Upgrade's message: API 0 passes it on as the status message; API 1
    # answers `OK` (Whostmgr/API/1/Accounts.pm changepackage: set_ok) with the transcript.
    return Reply(
        has_data=False,
        metadata={"output": {"raw": "\n".join(lines) + "\n"}},
        api0_reason=f"Account Upgrade/Downgrade Complete for {username}",
    )
