"""start_autossl_check_for_all_users, start_autossl_check_for_one_user,
get_autossl_problems_for_user, get_autossl_problems_for_domain, the excluded domains
(add/remove/set/get_autossl_user_excluded_domains), get_autossl_check_schedule,
get_autossl_pending_queue, get_autossl_providers, set_autossl_provider, disable_autossl,
get_autossl_logs_catalog, get_autossl_log:
AutoSSL (gatehouse.domain.autossl, gatehouse.domain.autossl_settings; docs/ssl.md#autossl).

Names, parameters and answers follow cPanel's WHM API 1 reference: a check "in the
background" answers `{pid}` — here the id of the gatehouse process that took the request; the
check itself runs in whichever `gatehouse serve` process (of any node on the store) next holds
the AutoSSL lease, at once when it is this one. Problems are `problems_by_domain: [{domain,
log, problem, time}]`, `log` being the start of the check that found the problem (cPanel: the
name of that run's log folder) and `time` when it was found.

AutoSSL is root's in WHM (Manage AutoSSL): these functions need `all`.
"""

from __future__ import annotations

import os
from typing import Any

from gatehouse import acls
from gatehouse.api.call import Call
from gatehouse.api.registry import Param, Reply
from gatehouse.domain import access, autossl, autossl_settings, domain_lookup, users
from gatehouse.errors import InvalidParameter, NotFound, missing_parameter
from gatehouse.whm.registry import REGISTRY

ROOT_ONLY = (acls.ALL,)


def _problems(items: list[autossl.Problem]) -> dict[str, Any]:
    return {
        "problems_by_domain": [
            {
                "domain": p.domain,
                "log": autossl.iso_time(p.run_time),
                "problem": p.problem,
                "time": autossl.iso_time(p.time),
            }
            for p in items
        ]
    }


def _start(call: Call, account: Any) -> dict[str, Any]:
    autossl.request_check(call, call.gatehouse.config, account, call.principal.user.username)
    call.after_commit.append(call.gatehouse.autossl_wake.set)
    return {"pid": os.getpid()}


@REGISTRY.function(
    "start_autossl_check_for_all_users",
    "Start an AutoSSL check of every account in the background: each domain without a valid "
    "certificate (or with one about to expire) gets one from the ACME CA.",
    privileges=ROOT_ONLY,
)
def start_autossl_check_for_all_users(call: Call) -> dict[str, Any]:
    return _start(call, None)


@REGISTRY.function(
    "start_autossl_check_for_one_user",
    "Start an AutoSSL check of one account's domains in the background.",
    params=(Param("username", "The cPanel account.", required=True),),
    privileges=ROOT_ONLY,
)
def start_autossl_check_for_one_user(call: Call) -> dict[str, Any]:
    # Whostmgr/API/1/SSL.pm: the user must exist, then AutoSSL be enabled.
    return _start(call, _existing_user(call, call.require("username")))


@REGISTRY.function(
    "get_autossl_problems_for_user",
    "The problems AutoSSL's last check of each of an account's domains found.",
    params=(Param("username", "The cPanel account.", required=True),),
    privileges=ROOT_ONLY,
    readonly=True,
)
def get_autossl_problems_for_user(call: Call) -> dict[str, Any]:
    account = _existing_user(call, call.require("username"))
    return _problems(autossl.problems(call.conn, user_id=account.id))


@REGISTRY.function(
    "get_autossl_problems_for_domain",
    "The problem AutoSSL's last check of a domain found, if any.",
    params=(Param("domain", "The domain (an account's main domain or subdomain).", required=True),),
    privileges=ROOT_ONLY,
    readonly=True,
)
def get_autossl_problems_for_domain(call: Call) -> dict[str, Any]:
    """The problems of the domain's owner (Cpanel::Domain::Owner::get_owner_or_die: a web
    vhost's name, `www.D` too) whose domain is the one given, as given."""
    domain = call.require("domain")
    entry = domain_lookup.holder_of_web_name(call.conn, domain)
    if entry is None:
        raise NotFound(f"This system does not have a domain named “{domain}”.")
    found = autossl.problems(call.conn, user_id=entry.account.id)
    return _problems([p for p in found if p.domain == domain])


def _existing_user(call: Call, name: str) -> Any:
    """Cpanel::Validate::Username::user_exists_or_die (root's functions: every account)."""
    account = users.get(call.conn, name)
    if account is None or not account.has_cpanel_account:
        raise NotFound(f"This system does not contain a user named “{name}”.")
    return account


# -- excluded domains ---------------------------------------------------------------------------

USERNAME = Param("username", "The cPanel account.", required=True)


def _account(call: Call) -> Any:
    return access.require_account(
        call.conn, access.actor_of(call.principal), call.require("username")
    )


def _names(call: Call, *, required: bool) -> list[str]:
    names = autossl_settings.parse_names(call.params.getlist("domain"))
    if required and not names:
        raise missing_parameter("domain")
    return names


@REGISTRY.function(
    "add_autossl_user_excluded_domains",
    "Exclude domains of an account from AutoSSL (it will not secure them; `www.D` alone "
    "leaves www out of D's certificate).",
    params=(
        USERNAME,
        Param(
            "domain",
            "A domain to exclude (`domain`, `domain-1`, … or repeated).",
            required=True,
            multi=True,
            handler_refuses=True,
        ),
    ),
    privileges=ROOT_ONLY,
)
def add_autossl_user_excluded_domains(call: Call) -> Reply:
    account = _account(call)
    autossl_settings.add(call, account, _names(call, required=True))
    return Reply(has_data=False)


@REGISTRY.function(
    "remove_autossl_user_excluded_domains",
    "Include excluded domains of an account in AutoSSL again.",
    params=(
        USERNAME,
        Param(
            "domain",
            "A domain to include again (`domain`, `domain-1`, … or repeated).",
            required=True,
            multi=True,
            handler_refuses=True,
        ),
    ),
    privileges=ROOT_ONLY,
)
def remove_autossl_user_excluded_domains(call: Call) -> Reply:
    account = _account(call)
    autossl_settings.remove(call, account, _names(call, required=True))
    return Reply(has_data=False)


@REGISTRY.function(
    "set_autossl_user_excluded_domains",
    "Replace the domains of an account excluded from AutoSSL (none given: AutoSSL for every "
    "domain).",
    params=(
        USERNAME,
        Param("domain", "A domain to exclude (`domain`, `domain-1`, … or repeated).", multi=True),
    ),
    privileges=ROOT_ONLY,
)
def set_autossl_user_excluded_domains(call: Call) -> Reply:
    account = _account(call)
    autossl_settings.replace(call, account, _names(call, required=False))
    return Reply(has_data=False)


@REGISTRY.function(
    "get_autossl_user_excluded_domains",
    "The domains of an account excluded from AutoSSL.",
    params=(USERNAME,),
    privileges=ROOT_ONLY,
    readonly=True,
)
def get_autossl_user_excluded_domains(call: Call) -> dict[str, Any]:
    account = _account(call)
    return {
        "payload": [
            {"excluded_domain": d} for d in autossl_settings.excluded(call.conn, account.id)
        ]
    }


# -- schedule, queue, provider ------------------------------------------------------------------


@REGISTRY.function(
    "get_autossl_check_schedule",
    "When AutoSSL's scheduled check of every account next runs.",
    privileges=ROOT_ONLY,
    readonly=True,
)
def get_autossl_check_schedule(call: Call) -> dict[str, Any] | None:
    plan = autossl.schedule(call.conn, call.gatehouse.config, call.now)
    if plan is None:
        return None  # as cPanel's without a cron entry: AutoSSL is off
    # Whostmgr/API/1/SSL.pm: {cron: [5 fields], next_time} and nothing else. gatehouse's
    # interval is its GATEHOUSE_AUTOSSL_INTERVAL setting, shown as cron fields.
    return {
        "cron": autossl.cron_fields(plan.interval, plan.next_time),
        "next_time": autossl.iso_time(plan.next_time),
    }


def _time(value: int | None) -> str | None:
    return None if value is None else autossl.iso_time(value)


@REGISTRY.function(
    "get_autossl_pending_queue",
    "The domains AutoSSL has yet to secure: it orders their certificates at its next check.",
    privileges=ROOT_ONLY,
    readonly=True,
    slow=True,  # every account's domains and certificates are read: off the event loop
)
def get_autossl_pending_queue(call: Call) -> dict[str, Any]:
    return {
        "pending_certificates": [
            {
                "domain": p.domain,
                "last_poll_time": _time(p.last_time),
                "next_attempt": _time(p.next_attempt),
                "order_item_id": None,  # an ACME order is finished within the check
                "problem": p.problem,
                "request_time": _time(p.requested_time),
                "user": p.username,
                "virtual_host": p.domain,
            }
            for p in autossl.pending(call.conn, call.gatehouse.config, call.now)
        ]
    }


PROVIDER = autossl.PROVIDER_NAME  # the module name of gatehouse's one provider


def _provider(call: Call) -> dict[str, Any]:
    config = call.gatehouse.config
    directory = str(config.autossl_directory)
    return {
        "display_name": autossl.display_name(config),
        "enabled": int(not autossl_settings.disabled(call.conn)),
        "module_name": PROVIDER,
        # cPanel's spec keys gatehouse can state: DNS-01 only, the certificate delivered within
        # the check, at most the domain, its www. and its wildcard, the wildcard as chosen.
        "specs": {
            "DCV_METHODS": ["dns"],
            "DELIVERY_METHOD": "api",
            "MAX_DOMAINS_PER_CERTIFICATE": 3,
            "SUPPORTS_WILDCARD": int(config.autossl_wildcard),
        },
        "x_directory": directory,
        "x_email": config.autossl_email or None,
        "x_external_account_binding": int(bool(config.autossl_eab_kid)),
    }


@REGISTRY.function(
    "get_autossl_providers",
    "The AutoSSL provider: the ACME CA of GATEHOUSE_AUTOSSL_DIRECTORY, and whether it is "
    "enabled (none when AutoSSL is not configured).",
    privileges=ROOT_ONLY,
    readonly=True,
)
def get_autossl_providers(call: Call) -> dict[str, Any]:
    if not autossl.configured(call.gatehouse.config):
        return {"payload": []}
    return {"payload": [_provider(call)]}


@REGISTRY.function(
    "set_autossl_provider",
    "Use the AutoSSL provider (gatehouse has one, `ACME`, set by GATEHOUSE_AUTOSSL_DIRECTORY): "
    "enables AutoSSL after disable_autossl. `x_*` parameters are accepted and ignored.",
    params=(Param("provider", "The provider's module name: ACME.", required=True),),
    privileges=ROOT_ONLY,
)
def set_autossl_provider(call: Call) -> Reply:
    provider = call.require("provider")
    if not autossl.configured(call.gatehouse.config):
        raise InvalidParameter(autossl.NOT_CONFIGURED)
    if provider != PROVIDER:
        raise InvalidParameter(
            f"“{provider[:100]}” is not an AutoSSL provider of this server: the one provider is "
            f"“{PROVIDER}”, the ACME CA of GATEHOUSE_AUTOSSL_DIRECTORY (to disable AutoSSL, call "
            "disable_autossl)."
        )
    autossl_settings.set_disabled(call, False)
    return Reply(has_data=False)


@REGISTRY.function(
    "disable_autossl",
    "Disable AutoSSL on every node of the store (no check runs, none can be asked for) until "
    "set_autossl_provider enables it again.",
    privileges=ROOT_ONLY,
)
def disable_autossl(call: Call) -> Reply:
    autossl_settings.set_disabled(call, True)
    return Reply(has_data=False)


# -- the log of each check ----------------------------------------------------------------------


@REGISTRY.function(
    "get_autossl_logs_catalog",
    "The AutoSSL checks whose log the audit trail holds: when each began, for whom, whether "
    "it still runs.",
    privileges=ROOT_ONLY,
    readonly=True,
)
def get_autossl_logs_catalog(call: Call) -> dict[str, Any]:
    return {
        "payload": [
            {
                "in_progress": int(run.in_progress),
                "provider": PROVIDER,
                "start_time": autossl.iso_time(run.start_time),
                "username": run.username,
            }
            for run in autossl.log_catalog(call.conn, call.now)
        ]
    }


@REGISTRY.function(
    "get_autossl_log",
    "The log of one AutoSSL check: its start, each certificate installed, each problem, its end.",
    params=(
        Param(
            "start_time",
            "When the check began, as get_autossl_logs_catalog gives it (ISO 8601).",
            required=True,
        ),
    ),
    privileges=ROOT_ONLY,
    readonly=True,
)
def get_autossl_log(call: Call) -> dict[str, Any]:
    start = autossl.parse_iso_time(call.require("start_time"))
    return {
        "payload": [
            {
                "contents": entry.contents,
                "indent": entry.indent,
                "partial": 0,
                "pid": None,  # the check ran in some `gatehouse serve` process, not recorded
                "timestamp": autossl.iso_time(entry.time),
                "type": entry.kind,
            }
            for entry in autossl.read_log(call.conn, start)
        ]
    }
