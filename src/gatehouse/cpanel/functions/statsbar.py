"""UAPI `StatsBar::get_stats` and cPanel API 2 `StatsBar::stat` (its deprecated twin): an
account's usage against its limits, and a few facts about the server, as cPanel's
Cpanel/API/StatsBar.pm and Cpanel/StatsBar.pm answer them.

Billing systems read it for usage billing: WHMCS asks every account, through WHM's
`uapi_cpanel` in one `batch` (falling back to `/json-api/cpanel`), for
`display=addondomains|bandwidthusage|diskusage|emailaccounts|mysqldatabases|mysqldiskusage|
parkeddomains|postgresqldatabases|postgresdiskusage|subdomains`, and reads each item's `id`,
`_count` and `units`.

What gatehouse counts: subdomains (SubDomain::addsubdomain) and this month's bandwidth (as
reported to it: gatehouse_report_bandwidth, `gatehouse bandwidth import`); the limits are the
account's package settings. It hosts no mail, databases, addon or parked domains and measures
no disk use, so those count 0 — the truth, against the account's real limits. As on a cPanel
server without them, the stats whose condition needs an FTP server (`ftpaccounts`),
PostgreSQL (`postgresdiskusage`, `cachedpostgresdiskusage`), file-usage reporting
(`filesusage`) or NAT (`localip`) are left out; so are the versions of software gatehouse
does not run (`apacheversion`, `mysqlversion`, `perlversion`, `perlpath`, `sendmailpath`).
An unknown name is skipped, as cPanel skips it.

Each item is cPanel's: the stat's definition (`phrase`, `module`, `feature`, `role`, `units`,
…), its evaluated `_count` and `_max` (`unlimited` where 0 means no limit), `count` and `max`
as the English locale writes them (sizes with format_bytes), `percent` (and `percent5`,
`percent10`, `percent20`), `is_maxed`/`_maxed`, `item` (the phrase), `name` and `id`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gatehouse import WHM_COMPAT_VERSION
from gatehouse.api.call import Call
from gatehouse.api.locale_format import format_bytes, numf
from gatehouse.cpanel.registry import api2, uapi
from gatehouse.domain import bandwidth, ips, packages, parked_domains, subdomains, users
from gatehouse.domain.users import User
from gatehouse.numerals import digits

MODULE = "StatsBar"
MIB = 1024 * 1024
_NUMERIC = re.compile(r"^[-+]?[0-9.]+$")
_UNLIMITED = re.compile("unlimited", re.IGNORECASE)
_LEADING_NUMBER = re.compile(r"\s*([-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+))")


@dataclass(frozen=True, slots=True)
class Facts:
    """What the stats are made of, read once per call (ResourceUsage reads them too)."""

    account: User
    limits: dict[str, str]
    subdomains: int
    parked: int  # parked domains (on the main domain's vhost)
    addons: int  # addon domains (on a subdomain's)
    bandwidth_bytes: int
    hostname: str
    public_ip: str
    dedicated_ip: bool
    plan: str


def _limit(facts: Facts, key: str) -> str:
    return facts.limits.get(key, packages.UNLIMITED)


def _megabytes_to_bytes(facts: Facts, key: str) -> int:
    return packages.limit_bytes(facts.limits, key)


def _disk_limit_bytes(facts: Facts) -> int:
    return _megabytes_to_bytes(facts, "QUOTA")


def _database_space(facts: Facts) -> int:
    # Cpanel::StatsBar::_listspace_clamped: what the databases use (nothing here) plus what is
    # left of the disk quota, at most the quota; 0 when there is no quota.
    return _disk_limit_bytes(facts)


def _sql_max(facts: Facts) -> str | int:
    # Cpanel::StatsBar::_sql_max: MAXSQL holds for each engine; without PostgreSQL, once.
    value = _limit(facts, "MAXSQL")
    return int(value) if digits(value) else value


def _two_decimals(value: float) -> str:
    return f"{value:.2f}"  # Cpanel::Math::floatto


@dataclass(frozen=True, slots=True)
class Stat:
    """One of Cpanel::StatsBar's stats: its fixed fields, and how gatehouse gets its
    `_count`, `_max`, `value` and `condition`."""

    fixed: dict[str, Any]
    count: Callable[[Facts], Any] | None = None
    maximum: Callable[[Facts], Any] | None = None
    value: Callable[[Facts], Any] | None = None
    condition: Callable[[Facts], int] | None = None
    item: str | None = None  # the phrase as shown, where its bracket notation renders


def _counted(
    phrase: str,
    count: Callable[[Facts], Any],
    maximum: Callable[[Facts], Any],
    *,
    zeroisunlimited: int,
    item: str | None = None,
    condition: Callable[[Facts], int] | None = None,
    **fixed: Any,
) -> Stat:
    return Stat(
        {"phrase": phrase, "zeroisunlimited": zeroisunlimited, **fixed},
        count=count,
        maximum=maximum,
        condition=condition,
        item=item,
    )


def _shown(phrase: str, value: Callable[[Facts], Any], **fixed: Any) -> Stat:
    return Stat({"phrase": phrase, **fixed}, value=value)


def _none(_: Facts) -> int:
    return 0


def _always(_: Facts) -> int:
    return 1


_DB_NEAR = "You are using [numf,_1] of [numf,_2] available [numerate,_2,database,databases]."
STATS: dict[str, Stat] = {
    "subdomains": _counted(
        "Subdomains",
        lambda f: f.subdomains,
        lambda f: _limit(f, "MAXSUB"),
        zeroisunlimited=0,
        module="SubDomain",
        feature="subdomains",
        near_limit_phrase="You are using [numf,_1] of [numf,_2] available "
        "[numerate,_2,subdomain,subdomains].",
        maxed_phrase="You are using your maximum allotment ([numf,_1]) of subdomains.",
        role="WebServer",
    ),
    "autoresponders": _counted(
        "Auto Responders",
        _none,
        _none,
        zeroisunlimited=1,
        near_limit_phrase="You are using [numf,_1] of [numf,_2] available "
        "[numerate,_2,autoresponder,autoresponders].",
        maxed_phrase="You are using your maximum allotment ([numf,_1]) of autoresponders.",
    ),
    "parkeddomains": _counted(
        "Parked Domains",
        lambda f: f.parked,
        lambda f: _limit(f, "MAXPARK"),
        zeroisunlimited=0,
        module="Park",
        feature="parkeddomains",
        near_limit_phrase="You are using [numf,_1] of [numf,_2] available "
        "[numerate,_2,alias,aliases].",
        maxed_phrase="You are using your maximum allotment ([numf,_1]) of aliases.",
        role={"match": "any", "roles": ["WebServer", "MailReceive"]},
    ),
    "addondomains": _counted(
        "Addon Domains",
        lambda f: f.addons,
        lambda f: _limit(f, "MAXADDON"),
        zeroisunlimited=0,
        module="Park",
        feature="addondomains",
        near_limit_phrase="You are using [numf,_1] of [numf,_2] available addon "
        "[numerate,_2,domain,domains].",
        maxed_phrase="You are using your maximum allotment ([numf,_1]) of addon domains.",
        role="WebServer",
    ),
    "sqldatabases": _counted(
        "All SQL Databases",
        _none,
        _sql_max,
        zeroisunlimited=0,
        item="All SQL Databases",
        near_limit_phrase="You are using [numf,_1] of [numf,_2] available [asis,SQL] "
        "[numerate,_2,database,databases].",
        maxed_phrase="You are using your maximum allotment ([numf,_1]) of [asis,SQL] databases.",
    ),
    "mysqldatabases": _counted(
        "Databases",
        _none,
        lambda f: _limit(f, "MAXSQL"),
        zeroisunlimited=0,
        near_limit_phrase=_DB_NEAR,
        maxed_phrase="You are using your maximum allotment ([numf,_1]) of databases.",
        role="MySQLClient",
    ),
    "postgresqldatabases": _counted(
        "[asis,PostgreSQL] Databases",
        _none,
        lambda f: _limit(f, "MAXSQL"),
        zeroisunlimited=0,
        item="PostgreSQL Databases",
        near_limit_phrase="You are using [numf,_1] of [numf,_2] available [asis,PostgreSQL] "
        "[numerate,_2,database,databases].",
        maxed_phrase="You are using your maximum allotment ([numf,_1]) of [asis,PostgreSQL] "
        "databases.",
        role="PostgresClient",
    ),
    "diskusage": _counted(
        "Disk Space Usage",
        _none,  # gatehouse keeps no files for an account
        lambda f: _disk_limit_bytes(f) // MIB,
        zeroisunlimited=1,
        module="Quota",
        units="MB",
        normalized=1,
        near_limit_phrase="You are using [format_bytes,_1] of the [format_bytes,_2] of storage "
        "available to you.",
        maxed_phrase="You are using your maximum storage allotment, [format_bytes,_1].",
    ),
    "cachedmysqldiskusage": _counted(
        "Database Disk Space",
        _none,
        _database_space,
        zeroisunlimited=1,
        module="MysqlFE",
        units="MB",
        role="MySQLClient",
    ),
    "cachedlistdiskusage": _counted(
        "Mailing List Disk Space",
        _none,
        _database_space,
        zeroisunlimited=1,
        condition=_always,
        units="MB",
        role="MailReceive",
    ),
    "mysqldiskusage": _counted(
        "Database Disk Space",
        _none,
        _database_space,
        zeroisunlimited=1,
        module="MysqlFE",
        units="MB",
        normalized=0,
        role="MySQLClient",
    ),
    "bandwidthusage": _counted(
        "Monthly Bandwidth Transfer",
        lambda f: _two_decimals(f.bandwidth_bytes / MIB),
        lambda f: _two_decimals(_megabytes_to_bytes(f, "BWLIMIT") / MIB),
        zeroisunlimited=1,
        module="Stats",
        feature="bandwidth",
        units="MB",
        normalized=1,
        near_limit_phrase="You have transferred [format_bytes,_1] of your [format_bytes,_2] "
        "data allotment for this month.",
        maxed_phrase="You have transferred your maximum allotment of data ([format_bytes,_1]) "
        "for this month.",
        role="WebServer",
    ),
    "emailaccounts": _counted(
        "Email Accounts",
        _none,
        lambda f: _limit(f, "MAXPOP"),
        zeroisunlimited=0,
        feature="popaccts",
        near_limit_phrase="You are using [numf,_1] of [numf,_2] available email "
        "[numerate,_2,account,accounts].",
        maxed_phrase="You are using your maximum allotment ([numf,_1]) of email accounts.",
        role="MailReceive",
    ),
    "emailforwarders": _counted(
        "Email Forwarders", _none, _none, zeroisunlimited=1, role="MailReceive"
    ),
    "mailinglists": _counted(
        "Mailing Lists",
        _none,
        lambda f: _limit(f, "MAXLST"),
        zeroisunlimited=0,
        condition=_always,
        feature="lists",
        near_limit_phrase="You are using [numf,_1] of [numf,_2] available mailing "
        "[numerate,_2,list,lists].",
        maxed_phrase="You are using your maximum allotment ([numf,_1]) of mailing lists.",
        role="MailReceive",
    ),
    "emailfilters": _counted("Email Filters", _none, _none, zeroisunlimited=1, role="MailReceive"),
    "shorthostname": _shown(
        "Server Name", lambda f: f.hostname.split(".", 1)[0], module="Hostname"
    ),
    "hostname": _shown("Hostname", lambda f: f.hostname, module="Hostname"),
    "hostingpackage": _shown("Hosting Package", lambda f: f.plan, module="PkgInfo"),
    "operatingsystem": _shown("Operating System", lambda f: "linux", module="Serverinfo"),
    "kernelversion": _shown("Kernel Version", lambda f: os.uname().release, module="Serverinfo"),
    "machinetype": _shown("Architecture", lambda f: os.uname().machine, module="Serverinfo"),
    "cpanelversion": _shown("[asis,cPanel] Version", lambda f: _version_text(), module="Version"),
    "theme": _shown("Theme", lambda f: _limit(f, "CPMOD")),
}
STATS["sharedip"] = Stat(
    {"phrase": "Shared IP Address"},
    value=lambda f: f.public_ip,
    condition=lambda f: int(not f.dedicated_ip),
)
STATS["dedicatedip"] = Stat(
    {"phrase": "Dedicated IP Address"},
    value=lambda f: f.public_ip,
    condition=lambda f: int(f.dedicated_ip),
)
# cPanel's own work-around for older themes: the same stat under a second name.
STATS["emailac_counts"] = STATS["emailaccounts"]
_ITEMS = {"cpanelversion": "cPanel Version"}


def _version_text() -> str:
    """Cpanel::Version::get_version_text: `120.0 (build 16)` of 11.120.0.16."""
    _, major, minor, build = (WHM_COMPAT_VERSION.split(".") + ["0"] * 4)[:4]
    return f"{int(major)}.{int(minor)} (build {int(build)})"


def _stripped_plan(call: Call, plan: str | None) -> str:
    """Cpanel::PkgInfo::_strippedplanname: a reseller's package without its `reseller_`
    prefix (only that reseller sees it); `undefined` for none."""
    name = plan or "undefined"
    prefix, underscore, rest = name.partition("_")
    if underscore:
        owner = users.get(call.conn, prefix)
        if owner is not None and owner.is_reseller:
            return rest
    return name


def facts_of(call: Call) -> Facts:
    account = call.caller_account()
    main_ip = ips.main_ip(call.gatehouse.config)
    used = bandwidth.month_total(call.conn, account, bandwidth.Month.of(call.now))
    parked = parked_domains.of_user(call.conn, account.id)
    return Facts(
        account=account,
        limits=packages.with_defaults(account.limits),
        subdomains=len(subdomains.of_user(call.conn, account.id)),
        parked=sum(1 for p in parked if not p.is_addon),
        addons=sum(1 for p in parked if p.is_addon),
        bandwidth_bytes=used,
        hostname=call.gatehouse.config.server_hostname,
        public_ip=account.ip or main_ip,
        dedicated_ip=bool(account.ip) and account.ip != main_ip,
        plan=_stripped_plan(call, account.plan),
    )


# -- cPanel's arithmetic ---------------------------------------------------------------------


def _perl_number(raw: Any) -> float:
    """A value as Perl reads it as a number: its leading number, else 0."""
    if isinstance(raw, int | float):
        return float(raw)
    match = _LEADING_NUMBER.match(str(raw or ""))
    return float(match.group(1)) if match else 0.0


def _roundto(value: float, step: int, cap: int) -> int:
    """Cpanel::Math::roundto."""
    if value >= cap:
        return cap
    return step * int((value + 0.50000000000008 * step) / step)


def _is_numeric(value: Any) -> bool:
    return value is not None and _NUMERIC.match(str(value)) is not None


@dataclass(frozen=True, slots=True)
class Options:
    """get_stats' display parameters."""

    warnings: bool
    warninglevel: float
    warnout: str | None
    infinityimg: str
    infinitylang: str
    rowcounter: str
    needshash: bool
    format_bytes: bool

    @classmethod
    def of(cls, call: Call) -> Options:
        params = call.params
        return cls(
            warnings=params.get("warnings") is not None,
            warninglevel=_perl_number(params.get("warninglevel")),
            warnout=params.get("warnout"),
            infinityimg=params.get("infinityimg") or "",
            infinitylang=params.get("infinitylang") or "",
            rowcounter=params.get("rowcounter") or "",
            needshash=bool(_perl_number(params.get("needshash"))),
            format_bytes=bool(_perl_number(params.get("format_bytes"))),
        )


def _evaluated_max(stat: Stat, raw: Any) -> Any:
    if raw is None or str(raw) in ("0", "0.00"):
        return "unlimited" if stat.fixed.get("zeroisunlimited") else 0
    if _UNLIMITED.search(str(raw)):
        return "unlimited"
    return raw


def _sized(stat: Stat, raw: Any, options: Options, name: str) -> str:
    """A `units` stat's `count`/`max` for people (Cpanel::API::StatsBar)."""
    normalized = bool(stat.fixed.get("normalized"))
    in_bytes = float(raw) * MIB if stat.fixed["units"] == "MB" and normalized else float(raw)
    if options.format_bytes or normalized or "bandwidthusage" in name:
        return format_bytes(in_bytes)
    if stat.fixed["units"] == "MB":
        return numf(in_bytes / MIB, 2)
    return numf(in_bytes, 2)


def _item(name: str, stat: Stat, facts: Facts, options: Options, row: int) -> dict[str, Any]:
    entry: dict[str, Any] = dict(stat.fixed)
    if stat.condition is not None:
        entry["condition"] = stat.condition(facts)
    if stat.value is not None:
        entry["value"] = stat.value(facts)
    if stat.maximum is not None:
        entry["_max"] = _evaluated_max(stat, stat.maximum(facts))
    if stat.count is not None:
        entry["_count"] = stat.count(facts)
    raw_count, raw_max = entry.get("_count"), entry.get("_max")
    count = _perl_number(raw_count) if raw_count and _is_numeric(raw_count) else 0.0
    maximum = _perl_number(raw_max) if raw_max and _is_numeric(raw_max) else 0.0
    ratio = count / maximum * 100 if maximum > 0 else 0.0
    if raw_max == "unlimited":
        entry["percent"] = 0
    elif count > maximum:
        entry["percent"] = 100
    else:
        entry["percent"] = _roundto(ratio, 1, 100) if maximum > 0 else 0
    entry.update(
        percent5=_roundto(ratio, 5, 100) if maximum > 0 else 0,
        percent10=_roundto(ratio, 10, 100) if maximum > 0 else 0,
        percent20=_roundto(ratio, 20, 100) if maximum > 0 else 0,
        max=raw_max,
        count=raw_count,
        item=stat.item or _ITEMS.get(name) or stat.fixed["phrase"],
        name=name,
        id=name,
    )
    maxed = int(maximum > 0 and count >= maximum)
    entry["is_maxed"] = entry["_maxed"] = maxed
    if "units" in stat.fixed:
        if _is_numeric(raw_max):
            entry["max"] = _sized(stat, raw_max, options, name)
        if _is_numeric(raw_count):
            entry["count"] = _sized(stat, raw_count, options, name)
    else:
        if raw_max is not None:
            entry["max"] = numf(_perl_number(raw_max)) if _is_numeric(raw_max) else raw_max
        if raw_count is not None:
            entry["count"] = (
                numf(_perl_number(raw_count)) if _is_numeric(raw_count) else (raw_count)
            )
    if options.infinityimg:
        image = f'<img src="{options.infinityimg}" alt="" border="0" />'
        if raw_max is not None and _UNLIMITED.search(str(raw_max)):
            entry["max"] = image
        if raw_count is not None and _UNLIMITED.search(str(raw_count)):
            entry["count"] = image
    elif options.infinitylang:
        if _UNLIMITED.search(str(raw_max or "")):
            entry["max"] = "∞"
        if _UNLIMITED.search(str(raw_count or "")):
            entry["count"] = "∞"
    if entry["max"] is None:
        entry["max"] = ""
    if options.rowcounter:
        entry["rowtype"] = "odd" if row % 2 == 0 else "even"
    return entry


def _hidden(entry: dict[str, Any], options: Options) -> bool:
    if options.warnings and entry["percent"] < options.warninglevel:
        return True
    return options.warnout == "0" and entry["percent"] == 100


def stats(call: Call) -> list[dict[str, Any]] | dict[str, dict[str, Any]]:
    options = Options.of(call)
    names = [n for n in (call.params.get("display") or "").split("|") if n in STATS]
    if not names:
        return {} if options.needshash else []
    facts = facts_of(call)
    shown: list[dict[str, Any]] = []
    for name in names:
        stat = STATS[name]
        if stat.condition is not None and not stat.condition(facts):
            continue
        entry = _item(name, stat, facts, options, len(shown) + 1)
        if _hidden(entry, options):
            continue
        shown.append(entry)
    if options.needshash:
        return {entry["id"]: entry for entry in shown}
    return shown


@uapi(MODULE, "get_stats", "The account's usage against its limits, and server facts.",
      readonly=True)  # fmt: skip
def get_stats(call: Call) -> Any:
    return stats(call)


@api2(MODULE, "stat", "StatsBar::get_stats in API 2 (deprecated by cPanel).", readonly=True)
def stat(call: Call) -> Any:
    result = stats(call)
    return list(result.values()) if isinstance(result, dict) else result
