"""The WHM API 0 forms of the WHM functions billing systems call without `api.version`
(gatehouse.api.api0 has the families; docs/api.md the table). Each follows the answers lumberg
recorded from real servers where cPanel's docs differ.

A form reuses the function's API 1 handler: only the answer's shape (and, for `passwd`, a
parameter's name) differs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gatehouse.api.api0 import Answer, Api0, Body, bare, named_list, result_list, with_status

_NAMESERVER_OPTIONS = tuple(
    f"{prefix}{n}"
    for n in ("", "2", "3", "4")
    for prefix in ("nameserver", "nameservera", "nameserverentry")
)


def _raw(answer: Answer) -> dict[str, Any]:
    return {"rawout": answer.raw or ""}


def _created(answer: Answer) -> dict[str, Any]:
    data = answer.data or {}
    options = {key: data.get(key) or None for key in _NAMESERVER_OPTIONS}
    options["ip"] = data.get("ip")
    options["package"] = data.get("package")
    return {"rawout": answer.raw or "", "options": options}


def _suspension_log(answer: Answer) -> str | None:
    # API 0 gives the transcript as the message (cPanel's suspend log).
    return answer.raw or answer.reason


def _modified(answer: Answer) -> dict[str, Any]:
    return {"newcfg": answer.data, "warnings": [], "messages": []}


def _acls(answer: Answer) -> dict[str, Any]:
    held = (answer.data or {}).get("acl") or {}
    names = sorted(name for name, on in held.items() if on) if isinstance(held, dict) else held
    return {"acls": names}


def _listed_accounts(answer: Answer) -> Any:
    return (answer.data or {}).get("acct", [])


def _suspended(answer: Answer) -> list[dict[str, Any]]:
    # API 0 (lumberg's recording): `accts`, without API 1's is_locked, unixtime a string.
    return [
        {
            "owner": a["owner"],
            "reason": a["reason"],
            "time": a["time"],
            "unixtime": str(a["unixtime"]),
            "user": a["user"],
        }
        for a in (answer.data or {}).get("account", [])
    ]


createacct = result_list(extra=_created, nulls=("rawout", "options"))
removeacct = result_list(extra=_raw, nulls=("rawout",), renames=(("user", "username"),))
suspendacct = result_list(message=_suspension_log)
unsuspendacct = result_list(message=_suspension_log)
changepackage = result_list(extra=_raw, nulls=("rawout",))
# cPanel answers these two with a null message on success (recorded).
setupreseller = result_list(message=lambda _answer: None)
unsetupreseller = result_list(message=lambda _answer: None)
setacls = result_list(message=lambda _answer: "Reseller Acls Saved", extra=_acls, nulls=())
setresellerlimits = result_list(
    message=lambda _answer: "Successfully set reseller account creation limits."
)
modifyacct = result_list(extra=_modified, nulls=("newcfg", "warnings", "messages"))
adddns = result_list()
killdns = result_list(extra=_raw)


def _password_changed(answer: Answer) -> str:
    # API 1's reason, `Password changed for user “NAME”.`, in the words lumberg recorded for
    # API 0: `Password changed for user NAME` (no quotes, no full stop).
    return answer.reason.replace("“", "").replace("”", "").removesuffix(".")


passwd = named_list(
    "passwd",
    message=_password_changed,
    extra=lambda answer: {"services": [{"app": "system"}], "rawout": answer.raw or ""},
    nulls=("services", "rawout"),
    renames=(("pass", "password"),),
)
listaccts = with_status("acct", _listed_accounts, on_failure=[])
accountsummary = with_status("acct", _listed_accounts, on_failure=None)
listsuspended = with_status("accts", _suspended, on_failure=[])
listpkgs = bare("package", lambda answer: (answer.data or {}).get("pkg", []))
listresellers = bare("reseller", lambda answer: (answer.data or {}).get("reseller", []))


# The one-record DNS functions, as cPanel's Whostmgr/XMLUI/DNS.pm answers API 0: the status
# and message of the change in `result`; dumpzone its records beside them, getzonerecord the
# one record (a hash, not API 1's list).
addzonerecord = result_list()
editzonerecord = result_list()
removezonerecord = result_list()
resetzone = result_list()


def _zone_records(answer: Answer) -> dict[str, Any]:
    zone = ((answer.data or {}).get("zone") or [{}])[0]
    return {"record": zone.get("record", [])}


def _one_record(answer: Answer) -> dict[str, Any]:
    found = (answer.data or {}).get("record") or [None]
    return {"record": found[0]}


dumpzone = result_list(extra=_zone_records)
getzonerecord = result_list(extra=_one_record)


# Packages, as cPanel's Whostmgr/XMLUI/Packages.pm answers API 0 (the messages are
# Whostmgr::Packages::Mod's and Whostmgr::Packages' own).
def _package(answer: Answer) -> dict[str, Any]:
    return {"pkg": (answer.data or {}).get("pkg")}


def _package_message(verb: str) -> Callable[[Answer], str]:
    def message(answer: Answer) -> str:
        return f"You have successfully {verb} the package “{(answer.data or {}).get('pkg')}”."

    return message


addpkg = result_list(message=_package_message("created"), extra=_package)
editpkg = result_list(message=_package_message("modified"), extra=_package)
killpkg = result_list(message=lambda _answer: "The system successfully deleted the package.")


def _beside_result(key: str, value: Callable[[Answer], Any], *, on_failure: bool) -> Api0:
    """`{"result":[{"status","statusmsg"}], KEY: VALUE}`: a status list with a top-level key
    beside it (cPanel's editquota `output`, domainuserdata `userdata`); on a refusal the key is
    null, or absent unless `on_failure`."""

    def success(answer: Answer) -> Body:
        return {"result": [{"status": 1, "statusmsg": answer.reason}], key: value(answer)}

    def failure(reason: str) -> Body:
        body: Body = {"result": [{"status": 0, "statusmsg": reason}]}
        if on_failure:
            body[key] = None
        return body

    return Api0(success, failure)


# Whostmgr/XMLUI/Accounts.pm, Bandwidth.pm and DNS.pm.
editquota = _beside_result("output", lambda _answer: None, on_failure=True)
domainuserdata = _beside_result(
    "userdata", lambda answer: (answer.data or {}).get("userdata"), on_failure=False
)
limitbw = result_list(
    extra=lambda answer: {"bwlimit": ((answer.data or {}).get("bwlimits") or [None])[0]},
    nulls=("bwlimit",),
)
listzones = bare("zone", lambda answer: (answer.data or {}).get("zone", []))


# SSL, as cPanel's Whostmgr/XMLUI/SSL.pm answers API 0: installssl flat (its certificate is
# `cert`, as /scripts2/installssl named it; `rawout` the installer's html, `statusmsg` its
# message), fetchsslinfo in an `sslinfo` list, listcrts bare.
def _installed(answer: Answer) -> Body:
    return {"rawout": answer.raw, "status": 1, "statusmsg": answer.reason}


installssl = Api0(
    _installed,
    lambda reason: {"rawout": "", "status": 0, "statusmsg": reason},
    renames=(("cert", "crt"),),
)
fetchsslinfo = named_list(
    "sslinfo",
    message=lambda answer: (answer.data or {}).get("statusmsg"),
    extra=lambda answer: {k: v for k, v in (answer.data or {}).items() if k != "statusmsg"},
)
listcrts = bare("crt", lambda answer: (answer.data or {}).get("crt", []))


# Privileges, as cPanel's Whostmgr/XMLUI/ACLS.pm answers API 0: myprivs the caller's map under
# `privs`; listacls the saved lists keyed by name, each value as its file holds it (a string);
# saveacllist its status in `results`.
myprivs = bare("privs", lambda answer: ((answer.data or {}).get("privileges") or [{}])[0])
listacls = bare(
    "acls",
    lambda answer: {
        entry["name"]: {acl: str(on) for acl, on in entry["privileges"].items()}
        for entry in (answer.data or {}).get("acl", [])
    },
)
saveacllist = named_list("results")
