"""suspendreseller, unsuspendreseller, terminatereseller, resellerstats, setresellernameservers:
a reseller as a whole (gatehouse.domain.reseller_admin).

WHM API 1 shapes follow cPanel's WHM API 1 reference and a recorded resellerstats answer
(jakdept/cpanelApi testdata); WHM API 0 shapes (a call without `api.version`) follow the
recorded answers of /tmp/api0-spec.md §2.10-2.12, 2.24 (lumberg's cassettes), see docs/api.md.
An API 0 refusal carries `status` 0 and the reason in `statusmsg`, where API 0 clients look;
it is raised (not returned) so the call's transaction is rolled back: all or nothing.

Privileges: these are root's (`all`) in cPanel, except setresellernameservers (`ns-config`:
a reseller may set its own, or those of a reseller it owns — gatehouse.domain.access REACH).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gatehouse import acls
from gatehouse.api.call import Call
from gatehouse.api.params import Params
from gatehouse.api.registry import Envelope, Param, Reply
from gatehouse.domain import access, audit, lifecycle, reseller_admin
from gatehouse.errors import GatehouseError, InvalidParameter
from gatehouse.whm import api0
from gatehouse.whm.registry import REGISTRY

ROOT_ONLY = (acls.ALL,)


def _api0(
    payload_of: Callable[[str], dict[str, Any]], run: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    """Run an API 0 answer; a refusal becomes `payload_of(reason)` and is re-raised, so the
    dispatcher answers with it and rolls the transaction back."""
    try:
        return run()
    except GatehouseError as exc:
        exc.data = Envelope(payload_of(exc.reason))
        raise


def _result_list(reason: str) -> dict[str, Any]:
    return {"result": [{"status": 0, "statusmsg": reason}]}


def _refused_result_list(_params: Params, reason: str) -> dict[str, Any]:
    return _result_list(reason)


def _reason(call: Call) -> str:
    reason = lifecycle.clean_reason(call.params.get("reason"))
    if len(reason) > lifecycle.MAX_REASON:
        raise InvalidParameter(
            f"The “reason” parameter may contain at most {lifecycle.MAX_REASON} characters."
        )
    return reason


# -- suspendreseller ----------------------------------------------------------------------


def _suspend(call: Call) -> str:
    """Suspend; returns the raw output."""
    username = call.require("user").strip()
    reason = _reason(call)
    locked = call.flag("disallow")
    reseller_only = call.flag("reseller-only")
    reseller = reseller_admin.require_reseller(
        call.conn, username, refusal=reseller_admin.NOT_A_RESELLER
    )
    done = reseller_admin.suspend(
        call,
        reseller,
        reason=reason,
        locked=locked,
        reseller_only=reseller_only,
        by=call.principal.user.username,
    )
    lines = [f"{name}'s account has been suspended" for name in done]
    if not done:
        lines.append(f"{username} and its accounts are already suspended.")
    return "\n".join(lines) + "\n"


def _suspendreseller0(call: Call) -> dict[str, Any]:
    def run() -> dict[str, Any]:
        raw = _suspend(call)
        return {
            "result": [{"status": 1, "statusmsg": "Finished suspending reseller."}],
            "output": raw,
        }

    return _api0(_result_list, run)


@REGISTRY.function(
    "suspendreseller",
    "Suspend a reseller and (unless reseller-only=1) every account it owns.",
    params=(
        Param("user", "The reseller.", required=True),
        Param("reason", "Why (default “Unknown”); shown by listsuspended."),
        Param("disallow", "1: only root may unsuspend the accounts.", type="boolean"),
        Param("reseller-only", "1: suspend the reseller's account only.", type="boolean"),
    ),
    privileges=ROOT_ONLY,
    api0=_suspendreseller0,
    api0_refusal=_refused_result_list,
    slow=True,  # runs hooks
)
def suspendreseller(call: Call) -> Reply:
    return Reply(has_data=False, metadata={"output": {"raw": _suspend(call)}})


# -- unsuspendreseller --------------------------------------------------------------------


def _unsuspend(call: Call) -> str:
    username = call.require("user").strip()
    reseller_only = call.flag("reseller-only")
    reseller = reseller_admin.require_reseller(
        call.conn, username, refusal=reseller_admin.NOT_A_RESELLER
    )
    done = reseller_admin.unsuspend(call, reseller, reseller_only=reseller_only)
    lines = [f"{name}'s account is now active" for name in done]
    if not done:
        lines.append(f"{username} and its accounts are not suspended.")
    return "\n".join(lines) + "\n"


def _unsuspendreseller0(call: Call) -> dict[str, Any]:
    def run() -> dict[str, Any]:
        raw = _unsuspend(call)
        return {
            "result": [{"status": 1, "statusmsg": "Finished unsuspending reseller."}],
            "output": raw,
        }

    return _api0(_result_list, run)


@REGISTRY.function(
    "unsuspendreseller",
    "Lift the suspension of a reseller and (unless reseller-only=1) of every account it owns.",
    params=(
        Param("user", "The reseller.", required=True),
        Param("reseller-only", "1: unsuspend the reseller's account only.", type="boolean"),
    ),
    privileges=ROOT_ONLY,
    api0=_unsuspendreseller0,
    api0_refusal=_refused_result_list,
    slow=True,
)
def unsuspendreseller(call: Call) -> Reply:
    return Reply(has_data=False, metadata={"output": {"raw": _unsuspend(call)}})


# -- terminatereseller --------------------------------------------------------------------


def _terminate(call: Call) -> tuple[str, list[reseller_admin.Removed]]:
    # API 0 clients (WHMCS, Blesta, lumberg) send `reseller`; API 1 and cPanel's API 0 page
    # `user`: both are taken.
    username = (call.params.get("user") or call.params.get("reseller") or "").strip()
    if not username:
        raise InvalidParameter("Missing parameter: user")
    include_self = call.flag("terminatereseller")
    reseller = reseller_admin.require_reseller(
        call.conn, username, refusal=f"Reseller {username} Does not exist"
    )
    wanted = reseller_admin.verify_sentence(username)
    if (call.params.get("verify") or "") != wanted:
        raise InvalidParameter(f"The “verify” parameter must say exactly: “{wanted}”.")
    removed = reseller_admin.terminate(call, reseller, include_self=include_self)
    return username, removed


def _raw(removed: reseller_admin.Removed) -> str:
    return (
        "Removing API tokens, sessions and the Remote Access Key......Done\n"
        f"Removing DNS Entries...Zones removed: {len(removed.zones)}\n"
        f"Account Removal Complete!!!...{removed.username} account removed...Done\n"
    )


def _terminatereseller0(call: Call) -> dict[str, Any]:
    def run() -> dict[str, Any]:
        _, removed = _terminate(call)
        accts = {
            r.username: {
                "status": 1,
                "statusmsg": f"{r.username} account removed",
                "rawout": _raw(r),
            }
            for r in removed
        }
        return {
            "result": [
                {
                    "status": 1,
                    "privdelete": 1,
                    "statusmsg": "Account Terminations Complete",
                    "accts": accts,
                }
            ]
        }

    return _api0(_result_list, run)


@REGISTRY.function(
    "terminatereseller",
    "Remove every account a reseller owns and its reseller status (terminatereseller=1: "
    "its own account too), with their tokens, sessions and DNS zones.",
    params=(
        Param("user", "The reseller (`reseller` in WHM API 0)."),
        Param(
            "verify",
            "Exactly “I understand this will irrevocably remove all the accounts owned by the "
            "reseller USER”.",
            required=True,
            handler_refuses=True,
        ),
        Param("terminatereseller", "1: remove the reseller's own account too.", type="boolean"),
    ),
    privileges=ROOT_ONLY,
    api0=_terminatereseller0,
    api0_refusal=_refused_result_list,
    slow=True,
)
def terminatereseller(call: Call) -> Reply:
    _, removed = _terminate(call)
    raw = "".join(_raw(r) for r in removed) or "No accounts to remove.\n"
    return Reply(
        has_data=False,
        reason="Account Terminations Complete",
        metadata={"output": {"raw": raw}},
    )


# -- resellerstats ------------------------------------------------------------------------


def _quota(mb: int) -> int | str:
    """cPanel's per-account figure: 0 for unlimited, else MB with two decimals."""
    return 0 if mb == 0 else f"{mb:.2f}"


def _account1(a: reseller_admin.AccountUsage) -> dict[str, Any]:
    return {
        "bandwidthlimit": f"{a.bandwidth_limit:.2f}",
        "bandwidthused": f"{a.bandwidth_used:.2f}",
        "deleted": 0,
        "diskquota": _quota(a.disk_quota),
        "diskused": f"{a.disk_used:.2f}",
        "domain": a.domain,
        "package": a.package,
        # The recorded answer has null for an account that is not suspended.
        "suspended": 1 if a.suspended else None,
        "user": a.username,
    }


def _stats(call: Call, username: str) -> reseller_admin.ResellerUsage:
    reseller = reseller_admin.require_reseller(
        call.conn, username, refusal="Reseller Does Not Exist"
    )
    return reseller_admin.usage(call.conn, reseller, call.now)


def _resellerstats_failed(params: Params, reason: str) -> dict[str, Any]:
    username = (params.get("reseller") or params.get("user") or "").strip()
    return {"result": {"reseller": username, "status": 0, "statusmsg": reason}}


def _resellerstats0(call: Call) -> dict[str, Any]:
    username = (call.params.get("reseller") or call.params.get("user") or "").strip()

    def failed(reason: str) -> dict[str, Any]:
        return _resellerstats_failed(call.params, reason)

    def run() -> dict[str, Any]:
        if not username:
            raise InvalidParameter("Missing parameter: reseller")
        stats = _stats(call, username)
        # lumberg's recording: the totals are null while the reseller has no accounts.
        some = bool(stats.accounts)
        accts = [
            {**_account1(a), "suspended": int(a.suspended), "diskquota": f"{a.disk_quota:.2f}"}
            for a in stats.accounts
        ]
        return {
            "result": {
                "accts": accts,
                "bandwidthlimit": stats.bandwidth_limit,
                "bwoverselling": int(stats.bandwidth_overselling),
                "diskoverselling": int(stats.disk_overselling),
                "diskquota": stats.disk_quota,
                "diskused": stats.disk_used if some else None,
                "reseller": username,
                "status": 1,
                "statusmsg": "Fetched Reseller Data OK",
                "totalbwalloc": stats.total_bandwidth_allocated if some else None,
                "totalbwused": stats.bandwidth_used if some else None,
                "totaldiskalloc": stats.total_disk_allocated if some else None,
            }
        }

    return _api0(failed, run)


@REGISTRY.function(
    "resellerstats",
    "A reseller's accounts with their allocations and usage (bandwidth this month as "
    "reported; disk use 0, not tracked).",
    params=(Param("user", "The reseller (`reseller` in WHM API 0).", required=True),),
    privileges=ROOT_ONLY,
    api0=_resellerstats0,
    api0_refusal=_resellerstats_failed,
    readonly=True,
)
def resellerstats(call: Call) -> dict[str, Any]:
    stats = _stats(call, call.require("user").strip())
    return {
        "reseller": {
            "acct": [_account1(a) for a in stats.accounts],
            "bandwidthlimit": stats.bandwidth_limit,
            "bwoverselling": int(stats.bandwidth_overselling),
            "diskoverselling": int(stats.disk_overselling),
            "diskquota": stats.disk_quota,
            "diskused": stats.disk_used,
            "month": str(stats.month),
            "totalbwalloc": stats.total_bandwidth_allocated,
            "totalbwused": stats.bandwidth_used,
            "totaldiskalloc": stats.total_disk_allocated,
            "user": stats.reseller,
            "year": str(stats.year),
        }
    }


# -- setresellernameservers ---------------------------------------------------------------


@REGISTRY.function(
    "setresellernameservers",
    "Set the nameservers a reseller's new accounts' DNS zones get (none: the server's).",
    params=(
        Param("user", "The reseller.", required=True),
        Param("nameservers", "Comma-separated nameserver names (at most 4); empty: the default."),
    ),
    privileges=("ns-config",),
    api0=api0.setresellernameservers,
)
def setresellernameservers(call: Call) -> Reply:
    username = call.require("user").strip()
    actor = access.actor_of(call.principal)
    target = access.require_account(call.conn, actor, username)
    if target.is_root or not target.is_reseller:
        raise InvalidParameter(reseller_admin.NOT_A_RESELLER)
    names = reseller_admin.parse_nameservers(call.params.get("nameservers"))
    # Whostmgr::Resellers::set_nameservers' words, which WHM API 0 answers.
    unchanged = names == reseller_admin.nameservers_of(call.conn, target)
    reseller_admin.set_nameservers(call.conn, target, names)
    call.audit(
        audit.RESELLER_NAMESERVERS,
        username,
        ", ".join(names) if names else "reset to the server's nameservers",
    )
    return Reply(
        has_data=False,
        api0_reason="Not updating with identical nameserver values."
        if unchanged
        else "Set resellers nameservers.",
    )
