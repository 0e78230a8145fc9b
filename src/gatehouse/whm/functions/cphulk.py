"""cPHulk (WHM API 1 `cPHulk` module): status, the white and black lists, the history of
failed logins and blocks, and the settings (gatehouse.domain.cphulk, docs/security.md).

Names, parameters and the shapes of `data` follow cPanel's WHM API 1 reference for each
function. Times in the history are UTC, `YYYY-MM-DD HH:MM:SS` (cPanel's "ISO-8601, space
separated"); `timeleft` is in whole minutes. gatehouse drives no firewall: the counts of
`iptables` rules removed are always 0.

Privileges: all are root's (`all`), as in cPanel.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from gatehouse import acls
from gatehouse.api.call import Call
from gatehouse.api.registry import Param
from gatehouse.domain.cphulk import gates, history, lists
from gatehouse.domain.cphulk import settings as hulk_settings
from gatehouse.errors import InvalidParameter
from gatehouse.whm.registry import REGISTRY

ROOT_ONLY = (acls.ALL,)
DISABLED = "cPHulk is disabled on the server."
LIST_NAME = Param("list_name", "`white` or `black`.", required=True)
IPS = Param("ip", "An address, CIDR block or range (`ip-1`, `ip-2`… for more).", required=True)
SKIP_CHECK = Param("skip_enabled_check", "1: act even when cPHulk is disabled.")


def _gate(call: Call) -> gates.Gate:
    return call.gatehouse.authenticator.gate()


def _requester(call: Call) -> dict[str, Any]:
    return {
        "requester_ip": call.peer or "",
        "requester_ip_is_whitelisted": int(_gate(call).whitelisted(call.peer)),
    }


def _enabled_or_skipped(call: Call) -> None:
    """cPanel refuses list changes while cPHulk is off unless told not to check."""
    if call.flag("skip_enabled_check"):
        return
    if not hulk_settings.load(call.conn).is_enabled:
        raise InvalidParameter(DISABLED)


def _ips(call: Call) -> list[str]:
    given = [ip for ip in call.params.getlist("ip") if ip.strip()]
    if not given:
        raise InvalidParameter("The “ip” parameter is required.")
    return given


def _when(timestamp: int) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _minutes_left(until: int, now: int) -> int:
    return max(1, -(-(until - now) // 60))


# -- status ------------------------------------------------------------------------------


@REGISTRY.function(
    "cphulk_status", "Whether cPHulk is enabled.", privileges=ROOT_ONLY, readonly=True
)
def cphulk_status(call: Call) -> dict[str, Any]:
    return {"is_enabled": hulk_settings.load(call.conn).is_enabled, "service": "cPHulk"}


def _switch(call: Call, on: bool) -> None:
    hulk_settings.save(call.conn, {"is_enabled": int(on)})
    call.audit("CPHULKCONFIG", detail=f"is_enabled={int(on)}")


@REGISTRY.function("enable_cphulk", "Enable cPHulk.", privileges=ROOT_ONLY)
def enable_cphulk(call: Call) -> None:
    _switch(call, True)


@REGISTRY.function(
    "disable_cphulk",
    "Disable cPHulk: failures are no longer counted and no block or list applies.",
    privileges=ROOT_ONLY,
)
def disable_cphulk(call: Call) -> None:
    _switch(call, False)


# -- the lists ---------------------------------------------------------------------------


def _add(call: Call, records: list[tuple[str, str | None]], comment: str | None) -> dict[str, Any]:
    _enabled_or_skipped(call)
    name = lists.list_name(call.params.get("list_name"))
    added = lists.add(call.conn, name, records, call.now)
    if not added.added:
        raise InvalidParameter(next(iter(added.failed.values())))
    call.audit("CPHULKLIST", subject=name, detail="added " + ", ".join(added.added))
    return {
        "comment": comment or "",
        "ip_blocks_removed": added.blocks_removed,
        "ips_added": added.added,
        "ips_failed": added.failed,
        "iptable_bans_removed": 0,
        "list_name": name,
        "original_ips_added": added.original,
        **_requester(call),
    }


@REGISTRY.function(
    "create_cphulk_record",
    "Add addresses, CIDR blocks or ranges to cPHulk's white or black list.",
    params=(LIST_NAME, IPS, Param("comment", "A comment (255 characters at most)."), SKIP_CHECK),
    privileges=ROOT_ONLY,
)
def create_cphulk_record(call: Call) -> dict[str, Any]:
    comment = call.params.get("comment") or None
    data = _add(call, [(ip, comment) for ip in _ips(call)], comment)
    del data["original_ips_added"]  # batch_create_cphulk_records' alone
    return data


@REGISTRY.function(
    "batch_create_cphulk_records",
    "Add records, each with its own comment, to cPHulk's white or black list.",
    params=(
        LIST_NAME,
        Param(
            "records",
            'A JSON array of {"ip": …, "comment": …} (a form or query parameter; a JSON '
            "request body is not read).",
            required=True,
        ),
        SKIP_CHECK,
    ),
    privileges=ROOT_ONLY,
)
def batch_create_cphulk_records(call: Call) -> dict[str, Any]:
    try:
        parsed = json.loads(call.require("records"))
    except ValueError:
        raise InvalidParameter("The “records” parameter must be a JSON array.") from None
    records: list[tuple[str, str | None]] = []
    if not isinstance(parsed, list) or not parsed:
        raise InvalidParameter("The “records” parameter must be a non-empty JSON array.")
    for item in parsed:
        if not isinstance(item, dict) or not isinstance(item.get("ip"), str):
            raise InvalidParameter("Each record needs an “ip” string.")
        comment = item.get("comment")
        records.append((item["ip"], comment if isinstance(comment, str) else None))
    data = _add(call, records, None)
    del data["comment"]  # each record has its own
    return data


@REGISTRY.function(
    "delete_cphulk_record",
    "Remove addresses, CIDR blocks or ranges from cPHulk's white or black list.",
    params=(LIST_NAME, IPS, SKIP_CHECK),
    privileges=ROOT_ONLY,
)
def delete_cphulk_record(call: Call) -> dict[str, Any]:
    _enabled_or_skipped(call)
    name = lists.list_name(call.params.get("list_name"))
    removed, failed = lists.remove(call.conn, name, _ips(call))
    if removed:
        call.audit("CPHULKLIST", subject=name, detail="removed " + ", ".join(removed))
    return {"ips_failed": failed, "ips_removed": removed, "list_name": name, **_requester(call)}


@REGISTRY.function(
    "read_cphulk_records",
    "The records of cPHulk's white or black list, with their comments.",
    params=(LIST_NAME, SKIP_CHECK),
    privileges=ROOT_ONLY,
    readonly=True,
)
def read_cphulk_records(call: Call) -> dict[str, Any]:
    _enabled_or_skipped(call)
    name = lists.list_name(call.params.get("list_name"))
    entries = lists.read(call.conn, name)[name]
    data: dict[str, Any] = {
        "ips_in_list": {e.range.shown: e.comment or "" for e in entries},
        "list_name": name,
        **_requester(call),
    }
    if name == lists.WHITE and not data["requester_ip_is_whitelisted"]:
        data["warning_ip"] = f"Your current IP address “{call.peer}” is not on the whitelist."
    return data


# -- history -----------------------------------------------------------------------------


@REGISTRY.function(
    "flush_cphulk_login_history",
    "Forget every counted failure and lift every block.",
    privileges=ROOT_ONLY,
)
def flush_cphulk_login_history(call: Call) -> dict[str, Any]:
    removed = history.flush(call.conn)
    call.audit("CPHULKFLUSH", detail=f"{removed} records")
    return {"records_removed": removed}


@REGISTRY.function(
    "flush_cphulk_login_history_for_ips",
    "Forget the counted failures of addresses and lift their blocks (unblock them).",
    params=(IPS,),
    privileges=ROOT_ONLY,
)
def flush_cphulk_login_history_for_ips(call: Call) -> dict[str, Any]:
    removed = history.flush(call.conn, _ips(call))
    call.audit("CPHULKFLUSH", detail=f"{removed} records of " + ", ".join(_ips(call)))
    return {"iptable_bans_removed": 0, "records_removed": removed}


def _block_rows(call: Call, kind: str) -> list[dict[str, Any]]:
    return [
        {
            "exptime": _when(b.expires_time),
            "ip": b.address,
            "logintime": _when(b.created_time),
            "notes": f"{b.failures} failed logins",
            "timeleft": _minutes_left(b.expires_time, call.now),
        }
        for b in history.blocks(call.conn, kind, call.now)
    ]


@REGISTRY.function(
    "get_cphulk_brutes",
    "Addresses blocked for too many failures in the address window.",
    privileges=ROOT_ONLY,
    readonly=True,
)
def get_cphulk_brutes(call: Call) -> dict[str, Any]:
    return {"brutes": _block_rows(call, gates.IP)}


@REGISTRY.function(
    "get_cphulk_excessive_brutes",
    "Addresses blocked for a day (mark_as_brute failures in the look-back period).",
    privileges=ROOT_ONLY,
    readonly=True,
)
def get_cphulk_excessive_brutes(call: Call) -> dict[str, Any]:
    return {"excessive_brutes": _block_rows(call, gates.EXCESSIVE)}


@REGISTRY.function(
    "get_cphulk_failed_logins",
    "The failed logins cPHulk counts now.",
    privileges=ROOT_ONLY,
    readonly=True,
)
def get_cphulk_failed_logins(call: Call) -> dict[str, Any]:
    settings = hulk_settings.load(call.conn)
    window = settings.longest_window
    return {
        "failed_logins": [
            {
                "authservice": f.authservice,
                "exptime": _when(f.time + window),
                "ip": f.address,
                "logintime": _when(f.time),
                "service": f.service,
                "timeleft": _minutes_left(f.time + window, call.now),
                "user": f.username or "",
            }
            for f in history.failures(call.conn, call.now - window)
        ]
    }


@REGISTRY.function(
    "get_cphulk_user_brutes",
    "Usernames whose password logins are locked.",
    privileges=ROOT_ONLY,
    readonly=True,
)
def get_cphulk_user_brutes(call: Call) -> dict[str, Any]:
    return {
        "user_brutes": [
            {
                "authservice": "password",
                "exptime": _when(b.expires_time),
                "ip": None,
                "logintime": _when(b.created_time),
                "service": "whostmgrd",
                "timeleft": _minutes_left(b.expires_time, call.now),
                "user": b.username,
            }
            for b in history.blocks(call.conn, gates.USER, call.now)
        ]
    }


# -- settings ----------------------------------------------------------------------------


@REGISTRY.function("load_cphulk_config", "cPHulk's settings.", privileges=ROOT_ONLY, readonly=True)
def load_cphulk_config(call: Call) -> dict[str, Any]:
    return {"cphulk_config": hulk_settings.load(call.conn).as_cpanel()}


def _save(call: Call, changes: dict[str, str]) -> dict[str, Any]:
    parsed = hulk_settings.parse(changes)
    saved = hulk_settings.save(call.conn, parsed)
    call.audit("CPHULKCONFIG", detail=", ".join(f"{k}={v}" for k, v in sorted(parsed.items())))
    return {"cphulk_config": saved.as_cpanel()}


SAVE_KEYS = tuple(
    sorted(set(hulk_settings.KNOWN - {"is_enabled"}) | set(hulk_settings.UNSUPPORTED))
)


@REGISTRY.function(
    "save_cphulk_config",
    "Change cPHulk's settings (any of load_cphulk_config's keys; others keep their values).",
    params=(*(Param(key, "See load_cphulk_config.") for key in SAVE_KEYS), SKIP_CHECK),
    privileges=ROOT_ONLY,
)
def save_cphulk_config(call: Call) -> dict[str, Any]:
    changes = {k: v for k in SAVE_KEYS if (v := call.params.get(k)) not in (None, "")}
    return _save(call, changes)


@REGISTRY.function(
    "set_cphulk_config_key",
    "Change one cPHulk setting.",
    params=(
        Param("key", "A key of load_cphulk_config.", required=True),
        Param("value", "Its new value.", required=True),
    ),
    privileges=ROOT_ONLY,
)
def set_cphulk_config_key(call: Call) -> dict[str, Any]:
    return _save(call, {call.require("key"): call.require("value")})


# -- gatehouse extensions ----------------------------------------------------------------


@REGISTRY.function(
    "gatehouse_unlock_cphulk_user",
    "**gatehouse extension**: lift a username's password lock and forget its counted failures "
    "(cPanel lifts them only by flushing all history).",
    params=(Param("user", "The username.", required=True),),
    privileges=ROOT_ONLY,
)
def gatehouse_unlock_cphulk_user(call: Call) -> dict[str, Any]:
    username = call.require("user")
    lifted = history.unlock_user(call.conn, username)
    call.audit("CPHULKFLUSH", subject=username, detail=f"unlocked ({lifted} lock(s))")
    return {"locks_removed": lifted, "user": username}
