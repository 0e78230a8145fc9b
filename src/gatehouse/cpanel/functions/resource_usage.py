"""UAPI `ResourceUsage::get_usages`: StatsBar's usage figures in a display-agnostic shape, as
cPanel's Cpanel/API/ResourceUsage.pm answers them.

Each item is `{"id","description","url","formatter","maximum","usage","error"}`, in
_STATS_METADATA's order; `maximum` is `null` for no limit (`unlimited`, or 0 where 0 means
none); `formatter` is `format_bytes` for StatsBar's `MB` stats, else `null`; `description`
and `url` are the schema's, else the Jupiter theme's dynamicui.conf entry of that `id`
(`itemdesc`, `url`); `error` is `null` (set only when cPanel fails to read a figure).
Figures come from Cpanel::StatsBar's stats loaded in `bytes` mode: sizes in bytes.

gatehouse's facts are StatsBar's (statsbar.py): subdomains and this month's bandwidth are
counted; it hosts no mail, databases, addon or parked domains, so those count 0 against the
account's real limits. An item is left out where cPanel leaves it out on a server like this
one: `disk_usage` and `filesusage` need filesystem quotas (Cpanel::Quota::is_available; as
`Quota::get_local_quota_info` says, there are none), `ftp_accounts` an FTP service,
`cachedpostgresdiskusage` and `postgresql_databases` PostgreSQL. Features and server roles are
not modelled: every item's feature and role hold, as on a default cPanel server.
"""

from __future__ import annotations

from typing import Any

from gatehouse.api.call import Call
from gatehouse.cpanel.functions.statsbar import Facts, facts_of
from gatehouse.cpanel.functions.variables import bandwidth_limit
from gatehouse.cpanel.registry import uapi
from gatehouse.domain import packages

MODULE = "ResourceUsage"
DOMAINS_PAGE = "domains/index.html"  # Jupiter has no addon/ or subdomain/ page of its own
FORMAT_BYTES = "format_bytes"  # the formatter of StatsBar's `MB` stats


def _limit(facts: Facts, key: str) -> str | None:
    """A cpuser count limit as _parse_usage_stat leaves it (its `zeroisunlimited` is 0): the
    file's text, `"0"` included; None for `unlimited`."""
    value = facts.limits.get(key, packages.UNLIMITED)
    return None if value == packages.UNLIMITED else value


def _item(
    item_id: str,
    description: str,
    url: str | None,
    usage: Any,
    maximum: Any,
    formatter: str | None = None,
) -> dict[str, Any]:
    return {
        "description": description,
        "error": None,
        "formatter": formatter,
        "id": item_id,
        "maximum": maximum,
        "url": url,
        "usage": usage,
    }


def usages(facts: Facts) -> list[dict[str, Any]]:
    """ResourceUsage.pm's items for this account, in its order."""
    disk_bytes = _disk_bytes(facts)
    bandwidth_max = bandwidth_limit(facts.limits)
    return [
        # cachedmysqldiskusage (cpanel.config's disk_usage_include_sqldbs, on by default): no
        # databases, against what is left of the quota (_listspace_clamped); no quota: none.
        _item("cachedmysqldiskusage", "Database Disk Usage", None, 0, disk_bytes or None,
              FORMAT_BYTES),
        # bandwidthusage: this month's bytes (the user cache file's text) against the
        # cpuser BWLIMIT, in bytes (0: none).
        _item("bandwidth", "Bandwidth", "stats/bandwidth.html", str(facts.bandwidth_bytes),
              bandwidth_max or None, FORMAT_BYTES),
        _item("addon_domains", "Addon Domains", DOMAINS_PAGE, facts.addons,
              _limit(facts, "MAXADDON")),
        _item("subdomains", "Subdomains", DOMAINS_PAGE, facts.subdomains,
              _limit(facts, "MAXSUB")),
        _item("aliases", "Alias Domains", DOMAINS_PAGE, facts.parked, _limit(facts, "MAXPARK")),
        _item("email_accounts", "Email Accounts", "email_accounts/index.html", 0,
              _limit(facts, "MAXPOP")),
        _item("mailing_lists", "Mailing Lists", "mail/lists.html", 0, _limit(facts, "MAXLST")),
        # No limit of their own: StatsBar's `_max` 0, which means none.
        _item("autoresponders", "Autoresponders", "mail/autores.html", 0, None),
        _item("forwarders", "Forwarders", "mail/fwds.html", 0, None),
        _item("email_filters", "Email Filters", "mail/filters/managefilters.html", 0, None),
        _item("mysql_databases", "Databases", "sql/index.html", 0, _limit(facts, "MAXSQL")),
    ]  # fmt: skip


def _disk_bytes(facts: Facts) -> int:
    return packages.limit_bytes(facts.limits, "QUOTA")


@uapi(MODULE, "get_usages", "The account's usage against its limits (StatsBar's figures, "
      "display-agnostic).", readonly=True)  # fmt: skip
def get_usages(call: Call) -> list[dict[str, Any]]:
    return usages(facts_of(call))
