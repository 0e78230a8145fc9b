"""UAPI `SSL::start_autossl_check`, `SSL::get_autossl_problems`,
`SSL::is_autossl_check_in_progress`, `SSL::get_autossl_pending_queue` and the excluded domains
(`SSL::add/remove/set/get_autossl_excluded_domains`): AutoSSL for the account's own domains
(gatehouse.domain.autossl, gatehouse.domain.autossl_settings; docs/ssl.md#autossl).

Shapes as cPanel's UAPI reference shows them: start_autossl_check answers `data: null`;
get_autossl_problems a list of `{domain, problem, time}`; is_autossl_check_in_progress 1 or 0;
the excluded domains `[{excluded_domain}]` (cPanel's Cpanel/API/SSL.pm: `domains` is one
comma-separated argument, required by add and remove; set without it excludes nothing);
get_autossl_pending_queue `[{domain, last_poll_time, order_item_id, request_time, vhost_name}]`
(the items cPanel's own SSL/TLS Status page reads).
"""

from __future__ import annotations

from typing import Any

from gatehouse.api.call import Call
from gatehouse.cpanel import args
from gatehouse.cpanel.registry import uapi
from gatehouse.domain import autossl, autossl_settings

MODULE = "SSL"


@uapi(
    MODULE,
    "start_autossl_check",
    "Start an AutoSSL check of the account's domains (it runs in the background).",
)
def start_autossl_check(call: Call) -> None:
    """Cpanel::Admin::Modules::Cpanel::ssl_call START_AUTOSSL_CHECK queues the check and
    answers success whether or not AutoSSL is enabled (a check without a provider does
    nothing): gatehouse asks for none then."""
    account = call.principal.user
    if not autossl.enabled(call.conn, call.gatehouse.config):
        return None
    autossl.request_check(call, call.gatehouse.config, account, account.username)
    call.after_commit.append(call.gatehouse.autossl_wake.set)
    return None


@uapi(
    MODULE,
    "get_autossl_problems",
    "The account's domains that AutoSSL's last check could not secure, and why.",
    readonly=True,
)
def get_autossl_problems(call: Call) -> list[dict[str, Any]]:
    return [
        {"domain": p.domain, "problem": p.problem, "time": autossl.iso_time(p.time)}
        for p in autossl.problems(call.conn, user_id=call.principal.user.id)
    ]


@uapi(
    MODULE,
    "is_autossl_check_in_progress",
    "1 while an AutoSSL check of the account is asked for or running, else 0.",
    readonly=True,
)
def is_autossl_check_in_progress(call: Call) -> int:
    return int(autossl.in_progress(call.conn, call.principal.user.id, call.now))


def _time(value: int | None) -> str | None:
    return None if value is None else autossl.iso_time(value)


@uapi(
    MODULE,
    "get_autossl_pending_queue",
    "The account's domains AutoSSL has yet to secure (it orders them at its next check).",
    readonly=True,
)
def get_autossl_pending_queue(call: Call) -> list[dict[str, Any]]:
    account = call.principal.user
    return [
        {
            "domain": p.domain,
            "last_poll_time": _time(p.last_time),
            "order_item_id": None,  # an ACME order is finished within the check
            "request_time": _time(p.requested_time),
            "vhost_name": p.domain,
        }
        for p in autossl.pending(call.conn, call.gatehouse.config, call.now, user_id=account.id)
    ]


def _domains(call: Call, *, required: bool) -> list[str]:
    raw = args.length_required(call, "domains") if required else call.params.get("domains")
    return autossl_settings.parse_names([raw or ""])


@uapi(
    MODULE,
    "get_autossl_excluded_domains",
    "The account's domains excluded from AutoSSL.",
    readonly=True,
)
def get_autossl_excluded_domains(call: Call) -> list[dict[str, str]]:
    return [
        {"excluded_domain": d} for d in autossl_settings.excluded(call.conn, call.principal.user.id)
    ]


@uapi(
    MODULE,
    "add_autossl_excluded_domains",
    "Exclude some of the account's domains from AutoSSL (`domains`, comma-separated).",
)
def add_autossl_excluded_domains(call: Call) -> None:
    autossl_settings.add(call, call.principal.user, _domains(call, required=True))
    return None


@uapi(
    MODULE,
    "remove_autossl_excluded_domains",
    "Include excluded domains in AutoSSL again (`domains`, comma-separated).",
)
def remove_autossl_excluded_domains(call: Call) -> None:
    autossl_settings.remove(call, call.principal.user, _domains(call, required=True))
    return None


@uapi(
    MODULE,
    "set_autossl_excluded_domains",
    "Replace the account's domains excluded from AutoSSL (`domains`, comma-separated; none: "
    "AutoSSL for every domain).",
)
def set_autossl_excluded_domains(call: Call) -> None:
    autossl_settings.replace(call, call.principal.user, _domains(call, required=False))
    return None
