"""The account functions billing systems call: createacct, listaccts, accountsummary,
domainuserdata, modifyacct, verify_new_username, acctcounts and passwd.

Shapes and wording follow cPanel 11.120 (Whostmgr/API/1/Accounts.pm, Whostmgr/Accounts/List.pm,
Whostmgr/API/1/Resellers.pm) and the WHM API 1 reference (api-evangelist/cpanel
openapi/cpanel-accounts-api-openapi.yml, cpanel-account-creation-api-openapi.yml). Where
gatehouse had to choose, the comment says so ("Choice:").

Confinement (gatehouse.domain.access): root (or a reseller holding `all`) sees every account;
a reseller sees the accounts it owns, and is told nothing about the others (cPanel's
verify_account_access wording, or "Account does not exist." / an empty list — "No accounts
found." for an exact user search — where cPanel lists). createacct and modifyacct are the use
cases of gatehouse.domain.accounts: this face parses their parameters and shapes their
answers.
"""

from __future__ import annotations

import importlib
import json
import re
import time
from functools import lru_cache
from typing import Any

from gatehouse.api import envelope, listing
from gatehouse.api.call import Call
from gatehouse.api.registry import Param, Reply
from gatehouse.domain import (
    access,
    account_listing,
    accounts,
    audit,
    domain_lookup,
    domain_userdata,
    ips,
    password_policy,
    reseller_limits,
    users,
)
from gatehouse.domain import packages as packages_domain
from gatehouse.errors import (
    InvalidParameter,
    NotFound,
    PermissionDenied,
)
from gatehouse.passwords import check_password, hash_password
from gatehouse.whm import account_listing as fast_listing
from gatehouse.whm import api0
from gatehouse.whm.registry import REGISTRY


def _actor(call: Call) -> access.Actor:
    return access.actor_of(call.principal)


# -- createacct ---------------------------------------------------------------------------

_ROOT_ONLY_ARGS = ("force", "forcedns", "is_restore", "mailbox_format", "reseller")
_NAMESERVER_KEYS = ("nameserver", "nameserver2", "nameserver3", "nameserver4")


def _create_params() -> tuple[Param, ...]:
    settings = tuple(
        Param(f.param, f"Overrides the package's {f.key}: {f.help}")
        for f in packages_domain.FIELDS
        if f.param not in ("ip",)
    )
    return (
        Param("username", "1–16 of a-z 0-9 . _, not starting with a digit.", required=True),
        Param("domain", "The account's main domain.", required=True),
        Param(
            "password",
            "The account's password (or `pass`, not both). Absent: a strong one is generated "
            "and shown once, in the transcript (`| PassWord: …`).",
            secret=True,
        ),
        Param("pass", "Another spelling of `password`.", secret=True),
        Param("plan", "The package (default `default`)."),
        Param("pkgname", "With savepkg=1: save the final settings as this new package."),
        Param("savepkg", "1: save the settings as the package `pkgname`.", type="boolean"),
        Param("contactemail", "Contact address."),
        Param("owner", "`root` or a reseller; resellers may only name themselves."),
        Param(
            "ip",
            "`y`: a dedicated address from the owner's pool (setresellerips), refused when "
            "none is free; `n` (default): the owner's shared address (setresellermainip).",
        ),
        Param("reseller", "1: also make the account a reseller (root only).", type="boolean"),
        *settings,
    )


def _raw_transcript(
    *, username: str, domain: str, ip: str, ip_flag: str, settings: dict[str, str], owner: str,
    contact: str | None, plan: str, nameservers: list[str], generated_password: str | None
) -> str:  # fmt: skip
    quota = settings.get("QUOTA", packages_domain.UNLIMITED)
    quota_text = quota if quota == packages_domain.UNLIMITED else f"{quota} MB"
    lines = [
        "Checking input data...",
        "Validating Username......Done",
        "Validating Contact Email......Done",
        "Checking for database conflicts......Done",
        "+===================================+",
        "| New Account Info                  |",
        "+===================================+",
        f"| Domain: {domain}",
        f"| Ip: {ip} ({ip_flag})",
        f"| HasCgi: {settings.get('CGI', 'y')}",
        f"| UserName: {username}",
        # cPanel prints the password here (a real server's transcript, recorded by lumberg).
        # gatehouse prints only one it generated, which the caller has no other way to learn;
        # a password the caller chose is never echoed.
        *([f"| PassWord: {generated_password}"] if generated_password else []),
        f"| CpanelMod: {settings.get('CPMOD', 'jupiter')}",
        "| HomeRoot: /home",
        f"| Quota: {quota_text}",
        *(f"| NameServer{i}: {ns}" for i, ns in enumerate(nameservers, 1)),
        f"| Contact Email: {contact or ''}",
        f"| Package: {plan}",
        f"| Feature List: {settings.get('FEATURELIST', 'default')}",
        f"| Language: {settings.get('LANG', 'en')}",
        f"| Owner: {owner}",
        "+===================================+",
        "...Done",
        "Account Creation Complete!!!...Account Creation Ok...Done",
    ]
    return "\n".join(lines) + "\n"


@REGISTRY.function(
    "createacct",
    "Create a cPanel account.",
    params=_create_params(),
    privileges=("create-acct",),
    slow=True,
    api0=api0.createacct,
)
def createacct(call: Call) -> Reply:
    actor = _actor(call)
    if not actor.sees_all:
        for name in _ROOT_ONLY_ARGS:
            value = call.params.get(name)
            if value not in (None, "", "0"):
                raise PermissionDenied(
                    f"You cannot use the “{name}” argument because you do not have root access.",
                    code=access.ROOT_ONLY,
                )
    request = accounts.NewAccount(
        username=call.params.get("username"),
        domain=call.params.get("domain"),
        password=call.params.get("password"),
        password_alias=call.params.get("pass"),
        contact_email=call.params.get("contactemail"),
        owner=call.params.get("owner"),
        plan=call.params.get("plan"),
        overrides={f.param: call.params.get(f.param) for f in packages_domain.FIELDS},
        make_reseller=call.flag("reseller"),
        save_package=call.flag("savepkg"),
        package_name=call.params.get("pkgname"),
    )
    config = call.gatehouse.config
    nameservers = config.nameserver_list
    server = accounts.Server(
        addresses=ips.of_server(config), nameservers=nameservers, hostname=config.server_hostname
    )
    created = accounts.create_account(call, actor, request, server)
    ip, plan, settings = created.ip, created.plan, created.settings
    username, domain = created.account.username, created.account.domain or ""
    owner, contact = created.account.owner, created.account.contact_email
    ip_flag = settings.get("IP", "n")
    data: dict[str, Any] = {"ip": ip, "package": plan}
    # The zone's NS names, as cPanel reports them (four fields, unused ones empty). Choice:
    # nameservera (the nameserver's address) and nameserverentry stay null: gatehouse does
    # not resolve its nameservers' names.
    shown = (list(nameservers[: len(_NAMESERVER_KEYS)]) + [""] * len(_NAMESERVER_KEYS))[:4]
    for key, ns in zip(_NAMESERVER_KEYS, shown, strict=True):
        data[key] = ns
        data[key.replace("nameserver", "nameservera")] = None
        data[key.replace("nameserver", "nameserverentry")] = None
    raw = _raw_transcript(
        username=username,
        domain=domain,
        ip=ip,
        ip_flag=ip_flag,
        settings=settings,
        owner=owner,
        contact=contact,
        plan=plan,
        nameservers=shown,
        generated_password=created.generated_password,
    )
    return Reply(data=data, reason="Account Creation Ok", metadata={"output": {"raw": raw}})


# -- listaccts / accountsummary -----------------------------------------------------------

SEARCH_TYPES = ("domain", "owner", "user", "ip", "package")
# listaccts takes one more (Whostmgr/API/1/Accounts.pm listaccts); showbw does not.
LISTACCTS_SEARCH_TYPES = (*SEARCH_TYPES, "domain_and_user")
# Whostmgr/API/1/Accounts.pm listaccts: result 0 when Whostmgr/Accounts/List.pm returns no
# count at all (its bare `return`s), which only its exact user search does.
NO_ACCOUNTS = "No accounts found."
MAX_SEARCH = 256
MAX_REPEATS = 3
_sre_parse: Any = importlib.import_module("re._parser")
_sre_constants: Any = importlib.import_module("re._constants")


def _risky(parsed: Any, in_repeat: bool, counter: list[int]) -> bool:
    """Whether a parsed pattern may backtrack badly: a repetition or an alternation inside a
    repetition, a back-reference, or more than MAX_REPEATS repetitions in all."""
    for op, av in parsed:
        name = str(op)
        if name in ("GROUPREF", "GROUPREF_EXISTS", "GROUPREF_IGNORE"):
            return True
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            _low, high, sub = av
            if high > 1 or high == _sre_constants.MAXREPEAT:
                counter[0] += 1
                if in_repeat or counter[0] > MAX_REPEATS:
                    return True
                if _risky(sub, True, counter):
                    return True
            elif _risky(sub, in_repeat, counter):
                return True
        elif name == "SUBPATTERN":
            if _risky(av[-1], in_repeat, counter):
                return True
        elif name == "BRANCH":
            if in_repeat:
                return True
            if any(_risky(alt, in_repeat, counter) for alt in av[1]):
                return True
        elif name in ("ASSERT", "ASSERT_NOT"):
            if _risky(av[1], in_repeat, counter):
                return True
        elif name == "ATOMIC_GROUP" and _risky(av, in_repeat, counter):
            return True
    return False


def compile_search(search: str) -> re.Pattern[str]:
    """cPanel matches `search` as a case-insensitive Perl regex (and silently matches
    everything when it does not compile). Choice: gatehouse refuses a pattern that does not
    compile, is over MAX_SEARCH characters, or could backtrack without bound (nested or
    alternated repetition, back-references, more than MAX_REPEATS repetitions): a search
    must never stall the server, nor quietly return every account to a client that acts on
    the result."""
    if len(search) > MAX_SEARCH:
        raise InvalidParameter(
            f"The “search” parameter may contain at most {MAX_SEARCH} characters."
        )
    try:
        pattern = re.compile(search, re.IGNORECASE)
        parsed = _sre_parse.parse(search, re.IGNORECASE)
    except re.error as exc:
        raise InvalidParameter(f"“{search}” is not a valid regular expression: {exc}.") from exc
    if _risky(parsed, False, [0]):
        raise InvalidParameter(
            f"The regular expression “{search}” is too complex: nested or alternated "
            f"repetition, back-references and more than {MAX_REPEATS} repetitions are not "
            "accepted."
        )
    return pattern


def _startdate(when: int) -> str:
    # Whostmgr::DateTime::format_date, in the server's time zone: "13 May 22 16:03".
    return time.strftime("%y %b %d %H:%M", time.localtime(when))


def _limit(limits: dict[str, str], key: str) -> str:
    return str(limits.get(key, "*unknown*"))


UID_BASE = users.UID_BASE


def account_entry(row: Any, server_ip: str) -> dict[str, Any]:
    """One account in listaccts/accountsummary's shape (Whostmgr/Accounts/List.pm)."""
    entry = _row_fields(row, server_ip)
    entry.update(_limit_fields(_limits_key(row.limits)))
    return entry


def raw_account_entry(row: Any, server_ip: str) -> dict[str, Any]:
    """WHM API 1 listaccts' entry (`account_entry` and `has_backup`) of a row of
    domain/account_listing.visible_raw (its package settings as their stored JSON text)."""
    entry = _row_fields(row, server_ip)
    entry.update(_limit_fields_of_text(row.limits_text))
    entry["has_backup"] = NO_BACKUP
    return entry


# Whostmgr/API/1/Accounts.pm listaccts adds `has_backup` to API 1's listaccts only (not to
# accountsummary, nor to API 0's listaccts, Whostmgr/XMLUI/Accounts.pm): gatehouse keeps no
# backups.
NO_BACKUP = 0


def _row_fields(row: Any, server_ip: str) -> dict[str, Any]:
    """An entry's fields but those its package settings decide."""
    suspended = bool(row.suspended)
    entry = {
        "backup": 0,
        "child_nodes": [],
        # gatehouse measures no usage: cPanel's value for "nothing used".
        "diskused": "none",
        "domain": row.domain or "*unknown*",
        "email": row.contact_email or "*unknown*",
        "inodeslimit": "unlimited",
        "inodesused": "none",
        "ip": row.ip or server_ip,
        "ipv6": [],
        "is_locked": int(bool(row.suspend_locked)),
        "legacy_backup": 0,
        "mailbox_format": "maildir",
        "min_defer_fail_to_trigger_protection": 5,
        "outgoing_mail_hold": 0,
        "outgoing_mail_suspended": 0,
        "owner": row.owner or "root",
        "partition": "home",
        "plan": row.plan or "undefined",
        "startdate": _startdate(int(row.created_time)),
        # cPanel's code: the suspension's Unix time, 0 when not suspended.
        "suspended": int(suspended),
        "suspendreason": (row.suspend_reason or "*unknown*") if suspended else "not suspended",
        "suspendtime": int(row.suspend_time or 0) if suspended else 0,
        "temporary": 0,
        # cPanel reports the system user's UID, a number (Whostmgr/Accounts/List.pm).
        # gatehouse creates no system users: it reports a stable number of the same kind,
        # UID_BASE + the account's row id, unique among the accounts that exist.
        "uid": UID_BASE + int(row.id),
        "unix_startdate": int(row.created_time),
        "user": row.username,
    }
    return entry


def _limits_key(limits: Any) -> tuple[tuple[str, str], ...]:
    # with_defaults compares and keeps the values as text: so does the key.
    return tuple(sorted((str(k), str(v)) for k, v in limits.items())) if limits else ()


@lru_cache(maxsize=1024)
def _limit_fields_of_text(text: str | None) -> dict[str, str]:
    """`_limit_fields` of package settings stored as this JSON text (as the store's JSON
    column decodes it)."""
    return _limit_fields(_limits_key(None if text is None else json.loads(text)))


@lru_cache(maxsize=1024)
def _limit_fields(stored: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """The fields an account's package settings decide — the same for every account of a
    package, so worked out once per distinct set (a listing of 10,000 accounts has a few).
    Strings only: callers copy them into each entry."""
    limits = packages_domain.with_defaults(dict(stored)) if stored else {}
    quota = limits.get("QUOTA", packages_domain.UNLIMITED)
    return {
        "disklimit": "unlimited" if quota == packages_domain.UNLIMITED else f"{quota}M",
        "max_defer_fail_percentage": _limit(limits, "MAX_DEFER_FAIL_PERCENTAGE"),
        "max_email_per_hour": _limit(limits, "MAX_EMAIL_PER_HOUR"),
        "max_emailacct_quota": _limit(limits, "MAX_EMAILACCT_QUOTA"),
        "maxaddons": _limit(limits, "MAXADDON"),
        "maxftp": _limit(limits, "MAXFTP"),
        "maxlst": _limit(limits, "MAXLST"),
        "maxparked": _limit(limits, "MAXPARK"),
        "maxpop": _limit(limits, "MAXPOP"),
        "maxsql": _limit(limits, "MAXSQL"),
        "maxsub": _limit(limits, "MAXSUB"),
        "shell": "/bin/bash" if limits.get("HASSHELL") == "y" else "/usr/local/cpanel/bin/noshell",
        "theme": limits.get("CPMOD", "*unknown*"),
    }


def _matches(
    entry: dict[str, Any], searchtype: str, method: str, search: str, pattern: Any
) -> bool:
    if searchtype == "domain_and_user":
        # List.pm's exact branch compares the user and the domain with the search's compiled
        # regex as a string ("(?^i:…)"), which no account's name equals: nothing is found.
        # Its regex branch keeps an account whose user or domain matches.
        if method == "exact":
            return False
        return any(pattern.search(str(entry[f])) is not None for f in ("user", "domain"))
    field = {"domain": "domain", "owner": "owner", "user": "user", "ip": "ip", "package": "plan"}
    value = str(entry[field[searchtype]])
    if method == "exact":
        # As cPanel: domain and owner compare lower-cased; user (getpwnam), ip and package
        # exactly.
        if searchtype in ("domain", "owner"):
            return value.lower() == search.lower()
        return value == search
    return pattern.search(value) is not None


def _search(call: Call) -> tuple[list[dict[str, Any]], int | None]:
    """The entries, and — when an `api.filter` picked rows before they were built — how many
    there were before (for `metadata.filter.filtered`)."""
    search = call.params.get("search") or ""
    searchtype = call.params.get("searchtype") or ""
    method = call.params.get("searchmethod") or "regex"
    if searchtype and searchtype not in LISTACCTS_SEARCH_TYPES:
        raise InvalidParameter("Unknown search type.")
    if method not in ("exact", "regex"):
        raise InvalidParameter(f"Unknown search method “{method}”: use “exact” or “regex”.")
    if search and not searchtype:
        # Choice: cPanel ignores a search without a searchtype and lists every account; a
        # filter that is silently not applied is how clients act on the wrong accounts.
        raise InvalidParameter("The “searchtype” parameter is required with “search”.")
    pattern = compile_search(search) if search and method == "regex" else None
    server_ip = ips.main_ip(call.gatehouse.config)
    actor = _actor(call)
    before = None
    # An exact filter (`api.filter`, type eq) on the user name or domain is asked of the
    # store, before any entry is built: one of 10,000 accounts costs a lookup, not 10,000
    # entries (its `filtered` count is counted by the store too). With a search, the filter
    # waits: its count is the search's.
    exactly = {}
    for field, column in (("user", "username"), ("domain", "domain")):
        value = None if search else listing.exact_filter(call.params, field)
        if value is not None:
            exactly[column] = value
    if exactly:
        before = accounts.visible_count(call.conn, actor)
    one_user = method == "exact" and searchtype == "user"
    if one_user:
        # List.pm's one-user path: getpwnam (case-sensitive) finds the user, which a caller
        # not seeing every account must own; else its bare return, "No accounts found."
        # (with no search at all too). The store compares as getpwnam does.
        exactly["username"] = search
    rows = accounts.visible_rows(call.conn, actor, exactly=exactly)
    if one_user and not rows:
        raise NotFound(NO_ACCOUNTS)
    if search and method == "exact" and searchtype == "domain":
        wanted = search.lower()  # as _matches: a domain compares lower-cased
        rows = [r for r in rows if str(r.domain or "").lower() == wanted]
    entries = [account_entry(a, server_ip) for a in rows]
    if search:
        entries = [e for e in entries if _matches(e, searchtype, method, search, pattern)]
    return sorted(entries, key=lambda e: e["user"]), before


def _lists_everything(call: Call) -> bool:
    """Whether the call is a WHM API 1 listaccts of every account it may see, whole: no
    search, no `want`, no list options (api/listing.py). Its answer is then spliced from
    encoded entries (whm/account_listing.py), the same bytes as building them."""
    params = call.params
    return (
        params.get("api.version") == "1"
        and not params.get("search")
        and not params.get("searchtype")
        and params.get("searchmethod") in (None, "", "regex", "exact")
        and params.get("want") is None
        and not listing.wanted(params)
    )


@REGISTRY.function(
    "listaccts",
    "The accounts the caller may see (root: all; a reseller: those it owns), with search.",
    params=(
        Param("search", "What to look for (a case-insensitive regular expression by default)."),
        Param("searchtype", "domain, owner, user, ip, package or domain_and_user."),
        Param("searchmethod", "regex (default: contains a match) or exact."),
        Param("want", "Comma-separated fields to return (default: all)."),
    ),
    privileges=("list-accts",),
    readonly=True,
    api0=api0.listaccts,
)
def listaccts(call: Call) -> dict[str, Any] | Reply | envelope.Encoded:
    if _lists_everything(call):
        actor = _actor(call)
        rows = account_listing.visible_raw(call.conn, actor)
        complete = account_listing.sees_every_account(actor)
        server_ip = ips.main_ip(call.gatehouse.config)
        raw = fast_listing.encoded(rows, complete, server_ip, raw_account_entry)
        if raw is not None:
            return envelope.Encoded(raw)
    entries, before = _search(call)
    if call.params.get("api.version") == "1":
        for entry in entries:
            entry["has_backup"] = NO_BACKUP
    want = call.params.get("want")
    if want is not None:
        fields = [f.strip() for f in want.split(",") if f.strip()]
        # As cPanel: a field that does not exist comes back as null.
        entries = [{f: e.get(f) for f in fields} for e in entries]
    # Choice: cPanel omits `data` when nothing matches; gatehouse answers an empty list, so
    # clients that read data.acct need no special case.
    if before is not None:
        return Reply(data={"acct": entries}, metadata={"filter": {"filtered": before}})
    return {"acct": entries}


@REGISTRY.function(
    "accountsummary",
    "One account in listaccts' shape, by `user` or `domain`.",
    params=(
        Param("user", "The account's username."),
        Param("domain", "The account's main domain."),
    ),
    privileges=("acct-summary",),
    readonly=True,
    api0=api0.accountsummary,
)
def accountsummary(call: Call) -> dict[str, Any]:
    user = call.params.get("user")
    domain = call.params.get("domain")
    if user is None and domain is None:
        raise InvalidParameter("You must specify a user or domain to get a summary of.")
    if user is not None:
        row = accounts.visible_one(call.conn, _actor(call), username=user.strip().lower())
    else:
        wanted = (domain or "").strip().lower().rstrip(".")
        row = accounts.visible_one(call.conn, _actor(call), domain=wanted)
    if row is None:
        # The same answer whether the account does not exist or is not the caller's.
        raise NotFound("Account does not exist.")
    return {"acct": [account_entry(row, ips.main_ip(call.gatehouse.config))]}


@REGISTRY.function(
    "domainuserdata",
    "The web server data of an account's domain (its main domain or a subdomain).",
    params=(Param("domain", "The domain.", required=True),),
    privileges=("acct-summary",),
    readonly=True,
    api0=api0.domainuserdata,
)
def domainuserdata(call: Call) -> Reply:
    # A reseller is not told whether the domain exists (access.DOMAIN).
    entry = domain_lookup.reachable(call.conn, _actor(call), call.require("domain"))
    userdata = domain_userdata.userdata(entry, ips.main_ip(call.gatehouse.config))
    # Whostmgr/API/1/Accounts.pm domainuserdata: set_metadata_ok, so `OK`; API 0's status
    # message is Whostmgr/XMLUI/Accounts.pm's.
    return Reply(data={"userdata": userdata}, api0_reason="Obtained userdata.")


# -- modifyacct ---------------------------------------------------------------------------

# modifyacct takes cPanel's cpuser keys (upper case: DNS, OWNER, MAXFTP, RS, LOCALE…) and,
# as gatehouse's convenience, the lower-case createacct names.
_MODIFY_ALIASES: dict[str, tuple[str, ...]] = {
    "domain": ("domain", "DNS"),
    "contactemail": ("contactemail", "CONTACTEMAIL", "contact_email"),
    "owner": ("owner", "OWNER"),
    "newuser": ("newuser",),
    "cpmod": ("cpmod", "RS", "CPTHEME", "CPMOD"),
    "language": ("language", "LOCALE", "LANG", "lang"),
    "cgi": ("cgi", "HASCGI", "CGI"),
}


def _modify_param(call: Call, name: str) -> str | None:
    spellings = _MODIFY_ALIASES.get(name)
    if spellings is None:
        field = packages_domain.BY_PARAM.get(name)
        spellings = (name, field.key) if field else (name,)
    for spelling in spellings:
        value = call.params.get(spelling)
        if value is not None:
            return value
    return None


@REGISTRY.function(
    "modifyacct",
    "Rename an account, change its domain, contact address, owner (root only) or limits.",
    params=(
        Param("user", "The account.", required=True, handler_refuses=True),
        Param("newuser", "A new username (its API tokens keep working)."),
        Param("domain", "A new main domain (cPanel's `DNS`)."),
        Param("contactemail", "A new contact address (empty: none)."),
        Param("owner", "A new owner: root or a reseller (root only; cPanel's `OWNER`)."),
        *(
            Param(f.param, f"The account's own {f.key} (also `{f.key}`).")
            for f in packages_domain.FIELDS
        ),
    ),
    privileges=("edit-account",),
    slow=True,
    api0=api0.modifyacct,
)
def modifyacct(call: Call) -> Reply:
    username = (call.params.get("user") or "").strip()
    if not username:
        raise InvalidParameter("Must at least specify a user to modify.")
    request = accounts.AccountChanges(
        username=username,
        new_username=_modify_param(call, "newuser"),
        domain=_modify_param(call, "domain"),
        contact_email=_modify_param(call, "contactemail"),
        owner=_modify_param(call, "owner"),
        settings={f.param: _modify_param(call, f.param) for f in packages_domain.FIELDS},
    )
    modified = accounts.modify_account(call, _actor(call), request)
    final, changes, messages = modified.account, modified.changes, modified.messages
    limits = packages_domain.with_defaults(final.limits) if final.limits else {}
    cpuser = {
        "CONTACTEMAIL": final.contact_email or "",
        "DOMAIN": final.domain,
        "OWNER": final.owner,
        "PLAN": final.plan or "undefined",
        "USER": final.username,
        **{k: v for k, v in limits.items() if k not in ("CPMOD", "LANG")},
        "RS": limits.get("CPMOD", "jupiter"),
        "LOCALE": limits.get("LANG", "en"),
    }
    return Reply(
        data={
            "cpuser": cpuser,
            "domain": final.domain,
            "setshell": "",
            "user": final.username,
        },
        reason="Account Modified" if changes else "Account Modified (nothing changed)",
        metadata={"output": {"messages": messages, "warnings": []}},
    )


# -- verify_new_username / acctcounts ------------------------------------------------------


@REGISTRY.function(
    "verify_new_username",
    "Whether createacct would accept this username (valid, not reserved, not taken).",
    params=(Param("user", "The username to check.", required=True),),
    privileges=("create-acct",),
    readonly=True,
)
def verify_new_username(call: Call) -> Reply:
    username = call.require("user").strip()
    users.validate_new_username(username)
    # Choice: the same answer whoever owns the account; cPanel says the name conflicts.
    accounts.check_free(call.conn, username=username)
    return Reply(has_data=False)


@REGISTRY.function(
    "acctcounts",
    "A reseller's active and suspended accounts and its account limit (default: the caller).",
    params=(Param("user", "The reseller (default: the caller)."),),
    privileges=("acct-summary",),
    readonly=True,
    api0=api0.acctcounts,
)
def acctcounts(call: Call) -> dict[str, Any]:
    caller = call.principal.user
    username = (call.params.get("user") or caller.username).strip()
    # cPanel's verify_account_access: a reseller may ask about itself (or accounts it owns).
    target = access.require_account(call.conn, _actor(call), username)
    if not (target.is_root or target.is_reseller):
        raise InvalidParameter("Not a reseller.")
    owned, suspended = accounts.owned_counts(call.conn, target)
    limit = None
    if not target.is_root:
        account = reseller_limits.get(call.conn, target)["account"]
        if account["enabled"] and account["limit"] is not None:
            limit = int(account["limit"])
    # Choice: `active` counts the accounts that are not suspended (the reference says "active
    # accounts"); the reseller's own account is not counted, as for its limits.
    return {
        "reseller": {
            "active": owned - suspended,
            "limit": limit,
            "suspended": suspended,
            "user": target.username,
        }
    }


# -- passwd -------------------------------------------------------------------------------


@REGISTRY.function(
    "passwd",
    "Change the password of an account you own (or your own).",
    params=(
        Param("user", "The account.", required=True, handler_refuses=True),
        Param("password", "The new password.", required=True, secret=True, handler_refuses=True),
    ),
    privileges=("passwd",),
    slow=True,
    api0=api0.passwd,
)
def passwd(call: Call) -> Reply:
    username = call.params.get("user")
    if not username:
        raise InvalidParameter("No user name supplied: “user” is a required argument.")
    password = call.params.get("password")
    if not password:
        raise InvalidParameter("No password supplied: “password” is a required argument.")
    # Whostmgr/API/1/Sys.pm passwd checks with verify_account_access: hasroot() is told that
    # the account does not exist.
    target = access.require_account(
        call.conn, _actor(call), username, purpose=access.Purpose.CREDENTIALS
    )
    check_password(password)
    # Cpanel::ChangePasswd: the passwd application's minimum strength, root's own password
    # included (WHM's Change Root Password page calls this function).
    password_policy.require_strength(call.conn, password_policy.PASSWD, password)
    # The caller's own session survives a change of its own password; every other one ends.
    session = call.principal.session
    keep = session.id if session is not None and call.principal.user.id == target.id else None
    ended = users.set_password_hash(
        call.conn, target.id, hash_password(password), keep_session=keep
    )
    call.audit(audit.PASSWORD_CHANGE, target.username, detail=f"{ended} sessions ended")
    name = target.username
    # Cpanel::ChangePasswd's message becomes API 1's reason (Whostmgr/API/1/Sys.pm passwd),
    # its transcript output.raw: the lines lumberg recorded for the system password, the one
    # password gatehouse keeps (no FTP, mail or database ones to sync).
    return Reply(
        data={"app": ["system"]},
        reason=f"Password changed for user “{name}”.",
        metadata={
            "output": {
                "raw": f"Changing password for {name}\nPassword for {name} has been changed\n"
            }
        },
    )
