"""create_user_session: a one-time login URL for a browser or a cpsess-prefixed API client."""

from __future__ import annotations

import ipaddress
import re
from typing import Any
from urllib.parse import urlencode

from gatehouse.api.call import Call
from gatehouse.api.registry import Param, Reply
from gatehouse.domain import access, audit, domain_lookup, ips, sessions, users
from gatehouse.errors import InvalidParameter
from gatehouse.whm.registry import REGISTRY

SERVICES = (sessions.CPANELD, sessions.WEBMAILD, sessions.WHOSTMGRD)


_HOSTNAME_RE = re.compile(
    r"^(?=.{1,253}\Z)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?\Z"
)
_PORT_RE = re.compile(r"^[0-9]{1,5}\Z")


def _url_host(raw: str | None) -> str | None:
    """The host part of a Host header (or of the bind address), ready for a URL; None unless
    it is a host name, an IPv4 address or an IPv6 address (bracketed on the way out). Anything
    else (`evil.com/x?`, `a@b`, spaces) must not be pasted into a URL we hand back."""
    host = (raw or "").strip()
    if host.startswith("["):
        inside, sep, rest = host[1:].partition("]")
        if not sep or (rest and not (rest.startswith(":") and _PORT_RE.match(rest[1:]))):
            return None
        candidate = inside
    elif host.count(":") == 1:
        candidate, port = host.split(":", 1)
        if not _PORT_RE.match(port):
            return None
    else:
        candidate = host
    try:
        address = ipaddress.ip_address(candidate)
    except ValueError:
        return candidate if _HOSTNAME_RE.match(candidate) else None
    if address.is_unspecified or (address.version == 6 and address.scope_id):
        return None  # 0.0.0.0 / :: are not addresses to visit; zone ids do not go in URLs
    if address.version == 6:
        return f"[{candidate}]"
    return candidate if not host.startswith("[") else None


def base_url(
    call: Call, service: str = sessions.WHOSTMGRD, preferred: str | None = None
) -> str | None:
    """Where the login URL points, as cpsrvd builds it: the host the caller preferred, else
    the one the client used, on the TLS port of the service's face (WHM's for whostmgrd,
    cPanel's for cpaneld), else its plain port; None when the cPanel face serves neither."""
    config = call.gatehouse.config
    host = _url_host(preferred) or _url_host(call.host) or _url_host(config.bind) or "127.0.0.1"
    if service == sessions.WHOSTMGRD:
        tls, plain = config.https_port, config.http_port
    else:
        tls, plain = config.cpanel_https_port, config.cpanel_http_port
    if tls:
        return f"https://{host}:{tls}"
    if plain or service == sessions.WHOSTMGRD:  # WHM as before, even with no port to serve
        return f"http://{host}:{plain}"
    return None


@REGISTRY.function(
    "create_user_session",
    "Create a temporary session and its one-time login URL.",
    params=(
        Param("user", "Whose session.", required=True, handler_refuses=True),
        Param(
            "service",
            "whostmgrd (WHM) or cpaneld (the account's cPanel pages); webmaild is refused "
            "(no Webmail).",
            required=True,
            handler_refuses=True,
        ),
        Param("locale", "The session's locale (at most 16 characters), returned as given."),
        Param(
            "preferred_domain",
            "The host of the login URL: a domain or an address of this server.",
        ),
        Param("app", "An application to open (letters, digits, - and _); see docs/api.md."),
    ),
    privileges=("create-user-session",),
)
def create_user_session(call: Call) -> Reply:
    username = call.params.get("user")
    if not username:
        raise InvalidParameter("The “user” parameter is required.")
    service = call.params.get("service")
    if not service:
        raise InvalidParameter("The “service” parameter is required.")
    if service not in SERVICES:
        raise InvalidParameter(
            "The “service” parameter is invalid. The only supported services for this API "
            "call are “cpaneld”, “webmaild”, and “whostmgrd”."
        )
    target = users.get(call.conn, username)
    if target is None:
        raise InvalidParameter(
            f"You cannot create a session for the user “{username}” because they do not exist."
        )
    decision = access.to_account(
        access.actor_of(call.principal),
        target,
        username,
        purpose=access.Purpose.CREDENTIALS,
        wording=access.SESSION,
    )
    if decision.allowed and target.is_root and service != sessions.WHOSTMGRD:
        # Root has no cPanel account: a cpaneld or webmaild session for it is refused alike.
        decision = access.Decision(access.NO_CPANEL_ACCOUNT, username, access.SESSION)
    decision.enforce()
    # Whostmgr/API/1/Session.pm checks these after the caller's permission, in this order.
    locale = call.params.get("locale") or ""
    if len(locale) > 16:
        raise InvalidParameter(
            f"The “{locale}” parameter is invalid. The “{locale}” parameter may not be longer "
            "than 16 characters."
        )
    if target.suspended:
        raise InvalidParameter(
            f"You cannot create a session for the user “{username}” because they are "
            "currently suspended."
        )
    if service == sessions.WEBMAILD:
        # Choice: gatehouse has no mail, so no Webmail to land on; a cPanel session handed
        # out under Webmail's name would give a mailbox user's login the whole account.
        raise InvalidParameter(
            "This server does not serve “webmaild” sessions: it has no Webmail. Use "
            "“cpaneld” for a session in the account's cPanel interface."
        )
    if service == sessions.WHOSTMGRD and not (target.is_root or target.is_reseller):
        raise InvalidParameter(
            f"You cannot create a “whostmgrd” session for the user “{username}” because "
            "they are not a reseller."
        )
    if service == sessions.CPANELD and not target.has_cpanel_account:
        # A reseller known to WHM only (no createacct): there is no cPanel account to enter.
        raise InvalidParameter(f"The user “{username}” does not have a cPanel account.")
    preferred = call.params.get("preferred_domain") or None
    if preferred is not None:
        _check_preferred(call, preferred)
    app = call.params.get("app") or ""
    if app and not _APP_RE.fullmatch(app):
        raise InvalidParameter(f"The requested application, {app}, is invalid.")
    base = base_url(call, service, preferred)
    if base is None:
        raise InvalidParameter(
            "This server does not serve “cpaneld” sessions: its cPanel ports are disabled."
        )
    new = sessions.create(call.conn, target, service, "create_user_session", call.now)
    cpsess = f"/cpsess{new.security_token}"
    session = f"{target.username}:{new.login_secret}"
    call.audit(audit.SESSION_CREATE, target.username, service)
    # Choice: a valid `app` opens nothing more: cPanel adds goto_uri from its theme's links,
    # which gatehouse's pages do not have.
    query = f"session={session}" + (f"&{urlencode({'locale': locale})}" if locale else "")
    data: dict[str, Any] = {
        "cp_security_token": cpsess,
        **({"locale": locale} if locale else {}),
        "expires": new.expires,
        "service": service,
        "session": session,
        "url": f"{base}{cpsess}/login/?{query}",
    }
    return Reply(data=data, reason="Created session")


_APP_RE = re.compile(r"[0-9a-z_-]+", re.IGNORECASE)


def _check_preferred(call: Call, preferred: str) -> None:
    """cPanel's checks of `preferred_domain`: a domain name or an IP address, and one of this
    server's (an account's domain or subdomain, the host name, an address it has)."""
    name = preferred.strip().lower().rstrip(".")
    try:
        address: str | None = str(ipaddress.ip_address(name))
    except ValueError:
        address = None
    if address is None and not (_HOSTNAME_RE.match(name) and "." in name):
        raise InvalidParameter(
            f"The “{preferred}” parameter is invalid. The “{preferred}” parameter must be a "
            "valid domain name or IP address."
        )
    config = call.gatehouse.config
    local = (
        address in {a.ip for a in ips.of_server(config)}
        if address is not None
        else name == config.server_hostname.lower()
        or domain_lookup.holder(call.conn, name) is not None
    )
    if not local:
        raise InvalidParameter(
            f"The “{preferred}” parameter is invalid. The “{preferred}” parameter must be a "
            "domain or IP address on this server."
        )
