"""The WHM API 0 forms of the WHM functions billing systems call without `api.version`
(gatehouse.api.api0 has the families; docs/api.md the table). Each follows the answers lumberg
recorded from real servers where cPanel's docs differ.

A form reuses the function's API 1 handler: only the answer's shape (and, for `passwd`, a
parameter's name) differs — and, where cPanel's Whostmgr/XMLUI wrapper refuses a call in its
own words before or below API 1's checks, the refusal (`Api0.precheck`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from gatehouse.api.api0 import (
    Answer,
    Api0,
    Body,
    Precheck,
    bare,
    named_list,
    result_list,
    with_status,
)
from gatehouse.api.call import Call
from gatehouse.api.params import Params
from gatehouse.api.registry import Envelope
from gatehouse.dns import zones
from gatehouse.domain import access, nameserver_ips, users
from gatehouse.domain.users import User
from gatehouse.errors import GatehouseError, PermissionDenied

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


# -- API 0's own refusals (Api0.precheck) ------------------------------------------------------
# cPanel's API 0 reaches the account functions through Whostmgr/XMLUI/*.pm, which call the
# functions below API 1's checks (Whostmgr::Authz): a refusal there is in their own words.
# A caller that does not see every account is refused by Meta.pm's ownership check first,
# which gatehouse answers as API 1 does (the handler's refusal).


def _sees_all(call: Call) -> bool:
    return access.actor_of(call.principal).sees_all


def _account(call: Call, name: str) -> User | None:
    return users.get(call.conn, name.strip()) if name.strip() else None


def _refuse_unless_reached(call: Call, name: str, words: str, body: Body | None = None) -> None:
    """The one access rule (domain/access.py) for the account `name`, for a caller that does
    not see every account: a denial is audited like any other (its reason code), but told in
    API 0's own `words` (or as the whole `body`)."""
    actor = access.actor_of(call.principal)
    decision = access.to_account(actor, _account(call, name), name, told=access.Told.NOBODY)
    if not decision.allowed:
        raise PermissionDenied(
            words,
            code=decision.code or access.NOT_OWNER,
            data=None if body is None else Envelope(body),
        )


def _suspension_check(function: str) -> Callable[[Call], str | None]:
    """Whostmgr::Accounts::Suspension::(un)suspendacct's refusals of an account that does not
    exist (a missing `user` too: cPanel names it empty) and, suspending, of root."""

    def check(call: Call) -> str | None:
        if not _sees_all(call):
            return None
        name = call.params.get("user") or ""
        if _account(call, name) is None:
            return f"{function} called for a user that does not exist. ({name})"
        if function == "_suspendacct" and name.strip() == users.ROOT:
            return "Root user may not be suspended."
        return None

    return check


def _removal_check(call: Call) -> str | None:
    """Whostmgr::Accounts::Remove::_removeaccount's refusals, in its order."""
    name = call.params.get("user") or call.params.get("username") or ""
    if not name:
        return 'No user name supplied: "user" is a required argument.'
    if not _sees_all(call):
        return None
    if name == call.principal.user.username:
        return "You cannot remove yourself!"
    if _account(call, name) is None:
        return f"System user {name} does not exist!"
    return None


def _upgrade_check(call: Call) -> str | None:
    """Whostmgr::Accounts::Upgrade::upacct's refusals before the package is looked at (Meta.pm
    checks only the privilege: a reseller meets the ownership refusal here)."""
    name = call.params.get("user") or ""
    if not name:
        return "Sorry, you must specify a user!"
    if not call.params.get("pkg"):
        return "Sorry, you must select a new package!"
    if not _sees_all(call):
        words = f"Umm.. what are you trying to pull here..\nYou do not own the user {name}\n"
        _refuse_unless_reached(call, name, words)
    elif _account(call, name) is None:
        return f"Sorry, the user {name} does not exist"
    return None


createacct = result_list(extra=_created, nulls=("rawout", "options"))
removeacct = replace(
    result_list(extra=_raw, nulls=("rawout",), renames=(("user", "username"),)),
    precheck=_removal_check,
)
suspendacct = replace(
    result_list(message=_suspension_log), precheck=_suspension_check("_suspendacct")
)
unsuspendacct = replace(
    result_list(message=_suspension_log), precheck=_suspension_check("_unsuspendacct")
)
changepackage = replace(result_list(extra=_raw, nulls=("rawout",)), precheck=_upgrade_check)
# cPanel answers these two with a null message on success (recorded).
setupreseller = result_list(message=lambda _answer: None)
unsetupreseller = result_list(message=lambda _answer: None)


def _acls_refused(params: Params, reason: str) -> Body:
    # Whostmgr/XMLUI/Resellers.pm setacls: `acls` is present on a refusal too — the names of
    # the `acl-NAME` parameters (whatever their value), or, with `acllist`, that list's
    # (choice: a refusal does not read the list, so `[]` then).
    names = [] if params.get("acllist") else sorted({k[4:] for k in params if k.startswith("acl-")})
    return {"result": [{"status": 0, "statusmsg": reason, "acls": names}]}


def _acls_check(call: Call) -> str | None:
    # Whostmgr::Resellers::set_reseller_acls, which XMLUI calls directly: any user that is not
    # a reseller (one that does not exist too) is `Not a reseller.`
    name = call.params.get("reseller") or call.params.get("user") or ""
    account = _account(call, name) if name else None
    if account is None or not (account.is_root or account.is_reseller):
        return "Not a reseller."
    return None


setacls = replace(
    result_list(message=lambda _answer: "Reseller Acls Saved", extra=_acls, nulls=()),
    failure_of=_acls_refused,
    precheck=_acls_check,
)
setresellerlimits = result_list(
    message=lambda _answer: "Successfully set reseller account creation limits."
)
modifyacct = result_list(extra=_modified, nulls=("newcfg", "warnings", "messages"))
adddns = result_list()
# Whostmgr/XMLUI/DNS.pm's killdns answers its die message as it is, newline and all.
killdns = replace(
    result_list(extra=_raw),
    precheck=lambda call: None if call.params.get("domain") else "A domain is required.\n",
)


def _password_changed(answer: Answer) -> str:
    # API 1's reason, `Password changed for user “NAME”.`, in the words lumberg recorded for
    # API 0: `Password changed for user NAME` (no quotes, no full stop).
    return answer.reason.replace("“", "").replace("”", "").removesuffix(".")


def _passwd_check(call: Call) -> str | Body | None:
    """Whostmgr/XMLUI/Passwd.pm's own refusals (only status and statusmsg), then
    Whostmgr::Passwd::Change::passwd's: an account not the caller's (its message twice, no
    services) and, for root, Cpanel::ChangePasswd's checks in their order up to the account's
    existence."""
    name = call.params.get("user")
    if name is None:
        msg = "No user name supplied: “user” is a required argument."
        return {"passwd": [{"status": 0, "statusmsg": msg}]}
    new = call.params.get("password")  # API 0's `pass` (Api0.renames)
    if new is None:
        msg = "No password supplied: “pass” is a required argument."
        return {"passwd": [{"status": 0, "statusmsg": msg}]}
    if not name:
        return "No account was specified."
    if not _sees_all(call):
        msg = (
            f"You are not permitted to change the password for “{name}” because you are not "
            "the owner of this account."
        )
        body = {"passwd": [{"rawout": msg, "services": [], "status": 0, "statusmsg": msg}]}
        _refuse_unless_reached(call, name, msg, body)
        return None
    if _account(call, name) is not None:
        return None
    if new and name.lower() not in new.lower() and len(new) >= 5:
        return f"Sorry, the user “{name}” does not exist."
    return None


passwd = named_list(
    "passwd",
    message=_password_changed,
    extra=lambda answer: {"services": [{"app": "system"}], "rawout": answer.raw or ""},
    nulls=("services", "rawout"),
    renames=(("pass", "password"),),
)
passwd = replace(passwd, precheck=_passwd_check)
listaccts = with_status("acct", _listed_accounts, on_failure=[])

# Whostmgr/XMLUI/Accounts.pm's summary: API 1's words without their full stop.
_SUMMARY_WORDS = {
    "Account does not exist.": "Account does not exist",
    "You must specify a user or domain to get a summary of.": (
        "You must specify a user or domain to get a summary of"
    ),
}


def _summary_refused(reason: str) -> Body:
    return {"acct": None, "status": 0, "statusmsg": _SUMMARY_WORDS.get(reason, reason)}


def _summary_check(call: Call) -> str | None:
    # `user` or `domain` must be true, not only given (an empty `user=` is none).
    if call.params.get("user") or call.params.get("domain"):
        return None
    return _SUMMARY_WORDS["You must specify a user or domain to get a summary of."]


accountsummary = replace(
    with_status("acct", _listed_accounts, on_failure=None),
    failure=_summary_refused,
    precheck=_summary_check,
)
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


def _zone_arg(call: Call) -> str:
    """Whostmgr/XMLUI/DNS.pm: `domain`, else `zone` without its `.db`."""
    domain = call.params.get("domain") or ""
    zone = call.params.get("zone")
    if not domain and zone:
        domain = zone.removesuffix(".db")
    return domain


def _zone_of(call: Call, name: str) -> zones.Zone | None:
    """Cpanel::DnsUtils::Exists::domainexists: the zone `name`, if there is one."""
    try:
        return zones.get(call.conn, users.normalise_domain(name))
    except GatehouseError:
        return None


def _dumpzone_check(call: Call) -> str | None:
    name = _zone_arg(call)
    if not name:
        return "You must specify a domain to dump."
    zone = _zone_of(call, name)
    if zone is None:
        return "Zone does not exist."
    if not _sees_all(call):
        try:
            access.require_zone(call.conn, access.actor_of(call.principal), zone.name)
        except PermissionDenied as denied:  # audited, in DNS.pm's words
            words = f"Access Denied, you don't seem to own {name}"
            raise PermissionDenied(words, code=denied.code) from denied
    return None


def _zone_record_check(call: Call) -> str | None:
    # Meta.pm refuses a zone out of a reseller's reach first (the handler's refusal here).
    if _sees_all(call) and _zone_of(call, _zone_arg(call)) is None:
        return "Zone does not exist."
    return None


dumpzone = replace(result_list(extra=_zone_records), precheck=_dumpzone_check)
getzonerecord = replace(result_list(extra=_one_record), precheck=_zone_record_check)


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
def _editquota_check(call: Call) -> str | None:
    # Whostmgr/XMLUI/Accounts.pm editquota checks the quota with its own (loose) regex, then
    # Whostmgr::Quota::setusersquota validates it (Cpanel::Validate::Integer) and only then
    # looks the user up — without API 1's verify_account_access (lumberg's recording).
    quota = call.params.get("quota") or ""
    if re.search(r"^(unlimited)|(\d+)$", quota) is None:
        return "Invalid value for quota supplied."
    if quota.startswith("-"):
        # Choice: cPanel dies there; the exception's words, in the function's shape.
        return f"This value must be a nonnegative integer, not “{quota}”."
    if _account(call, call.params.get("user") or "") is None:
        return "Invalid user. Cannot set quota."
    return None


editquota = replace(
    _beside_result("output", lambda _answer: None, on_failure=True), precheck=_editquota_check
)
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
    message=lambda answer: answer.reason,
    # status 0 when no certificate was found (XMLUI's "legacy" rule), fetchinfo's keys beside.
    extra=lambda answer: {
        **(answer.data or {}),
        "status": int(bool((answer.data or {}).get("crt"))),
    },
)
# Whostmgr/XMLUI/SSL.pm listcrts lists the caller's own storage: `user` is not read.
listcrts = replace(
    bare("crt", lambda answer: (answer.data or {}).get("crt", [])), ignores=("user",)
)


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


# Whostmgr/XMLUI/Resellers.pm's acctcounts: the counts beside the status list, the reseller
# named `account`, `active` a string and `limit` "" without a limit (lumberg's recording);
# any user that is not a reseller (one that does not exist too) is refused alike.
_NOT_A_RESELLER = "Specified user is not a reseller."


def _counts(answer: Answer) -> Body:
    counts = (answer.data or {}).get("reseller") or {}
    limit = counts.get("limit")
    return {
        "result": [{"status": 1, "statusmsg": "Obtained reseller account counts."}],
        "reseller": {
            "account": counts.get("user"),
            "active": str(counts.get("active", 0)),
            "limit": "" if limit is None else str(limit),
            "suspended": counts.get("suspended", 0),
        },
    }


def _counts_check(call: Call) -> str | None:
    if not _sees_all(call):
        return None  # Meta.pm's ownership check: the handler's refusal
    account = _account(call, call.params.get("user") or call.principal.user.username)
    if account is None or not (account.is_root or account.is_reseller):
        return _NOT_A_RESELLER
    return None


acctcounts = Api0(
    _counts,
    lambda reason: {"result": [{"status": 0, "statusmsg": reason}]},
    precheck=_counts_check,
)

# Whostmgr/XMLUI/Resellers.pm's setresellernameservers: Whostmgr::Resellers::set_nameservers'
# own message (the handler's api0_reason: unchanged names are not written again).
setresellernameservers = result_list()

# Whostmgr/XMLUI/Services.pm's status: the services, and `result` an object (not a list) whose
# `statusmsg` is null on success.
servicestatus = Api0(
    lambda answer: {
        "result": {"status": 1, "statusmsg": None},
        "service": (answer.data or {}).get("service", []),
    },
    lambda reason: {"result": {"status": 0, "statusmsg": reason}, "service": []},
)


# Whostmgr/XMLUI/SSL.pm's generate: API 0 reads the older names only (each overwrites the X.509
# name it stands for, so `domains=` alone is no domain), and answers Whostmgr::SSL::generate's
# record under `results`, its message twice (`message`, `statusmsg`) and `status` beside.
_GENERATE_NAMES = (
    ("host", "domains"),
    ("country", "countryName"),
    ("state", "stateOrProvinceName"),
    ("city", "localityName"),
    ("co", "organizationName"),
    ("cod", "organizationalUnitName"),
    ("email", "emailAddress"),
)
_GENERATED_KEYS = (
    "cert",
    "cert_id",
    "certfile",
    "csr",
    "csr_id",
    "csrfile",
    "key",
    "key_id",
    "keyfile",
    "sender",
    "sender_host",
)


def _generate_refused(reason: str) -> Body:
    return {"results": {"message": reason, "status": 0, "statusmsg": reason}}


def _generated(answer: Answer) -> Body:
    data = answer.data or {}
    said = (
        "Key, Certificate, and CSR generated OK" if data.get("cert") else "Key and CSR generated OK"
    )
    results = {key: data.get(key) for key in _GENERATED_KEYS}
    return {"results": {**results, "message": said, "status": 1, "statusmsg": said}}


def _generate_check(call: Call) -> str | None:
    # Whostmgr::SSL::validate_cert_parameters' words, `domains` told as XMLUI names it.
    return None if call.params.get("host") else "Missing required parameter: host."


generatessl = Api0(
    _generated,
    _generate_refused,
    renames=_GENERATE_NAMES,
    precheck=_generate_check,
    ignores=tuple(new for _old, new in _GENERATE_NAMES),
)

# Whostmgr/XMLUI/Utils.pm's loadavg (API 0 only; API 1's is systemloadavg): the three averages
# at the top level, as Cpanel::Sys::Load gives them with $ForceFloat.
loadavg = Api0(
    lambda answer: dict(answer.data or {}),
    lambda reason: {"status": 0, "statusmsg": reason},
)


# Whostmgr/XMLUI/Nameserver.pm's lookupnsip: reads `nameserver` (not API 1's `host`) and
# answers `{"ip":…}` alone, null when no address is found (lumberg's recordings). A refusal
# made before it runs (a missing privilege) carries API 0's status and message beside.
def _nsip_refused(reason: str) -> Body:
    if reason == nameserver_ips.NOT_DETERMINED:
        return {"ip": None}
    return {"ip": None, "status": 0, "statusmsg": reason}


lookupnsip = Api0(
    lambda answer: {"ip": (answer.data or {}).get("ip")},
    _nsip_refused,
    renames=(("nameserver", "host"),),
    ignores=("host",),
)


# -- a reseller's addresses and package limits (Whostmgr/XMLUI/Resellers.pm) ----------------
#
# API 0 calls Whostmgr::Resellers::Ips directly, without API 1's checks first: a user that
# does not exist, or is no reseller, is told Ips.pm's "Specified user is not a reseller."


def _reseller_check(*, root: bool) -> Precheck:
    """`root`: root passes (Cpanel::Reseller::isreseller counts it a reseller; getresellerips
    answers it every address). Choice: setresellermainip refuses it, root has no account."""

    def check(call: Call) -> str | None:
        account = _account(call, call.params.get("user") or "")
        if account is None or not (account.is_reseller or (root and account.is_root)):
            return _NOT_A_RESELLER
        return None

    return check


def _reseller_ips(answer: Answer) -> Body:
    found = answer.data or {}
    return {k: found[k] for k in ("ip", "all") if k in found}


# {"result":[{status,statusmsg}],"ip":[…],"all":1}: `ip` and `all` beside `result`.
getresellerips = Api0(
    lambda answer: {"result": [{"status": 1, "statusmsg": "OK"}], **_reseller_ips(answer)},
    lambda reason: {"result": [{"status": 0, "statusmsg": reason}]},
    precheck=_reseller_check(root=True),
)
# Their messages are Whostmgr::Resellers' own, which the handlers give as api0_reason.
setresellerips = result_list()
setresellermainip = replace(result_list(), precheck=_reseller_check(root=False))
setresellerpackagelimit = result_list()


# Whostmgr/XMLUI/Nameserver.pm's lookupnsips: `nameserver`, and cPanel's hash as it is —
# get_all_ips_for_nameserver's zone-file fallback gives `{"ipv4":"","ipv6":""}` when nothing
# is found, so API 0 has no refusal of its own for that.
def _nsips_refused(reason: str) -> Body:
    if reason == nameserver_ips.NOT_DETERMINED:
        return {"ipv4": "", "ipv6": ""}
    return {"status": 0, "statusmsg": reason}


lookupnsips = Api0(
    lambda answer: {key: (answer.data or {}).get(key, "") for key in ("ipv4", "ipv6")},
    _nsips_refused,
    renames=(("nameserver", "host"),),
    ignores=("host",),
)
