"""create_user_session: a one-time login URL for a browser or a cpsess-prefixed API client."""

from __future__ import annotations

from typing import Any

from gatehouse.domain import audit, sessions, users
from gatehouse.errors import InvalidParameter, PermissionDenied
from gatehouse.whmapi.call import Call
from gatehouse.whmapi.registry import REGISTRY, Param, Reply

SERVICES = (sessions.CPANELD, sessions.WEBMAILD, sessions.WHOSTMGRD)


def base_url(call: Call) -> str:
    """Where the login URL points: the host the client used, on the WHM port."""
    config = call.gatehouse.config
    host = (call.host or config.bind or "127.0.0.1").strip()
    if host.startswith("["):
        host = host[: host.index("]") + 1] if "]" in host else host
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    elif ":" in host:  # a bare IPv6 address
        host = f"[{host}]"
    if config.https_port:
        return f"https://{host}:{config.https_port}"
    return f"http://{host}:{config.http_port}"


@REGISTRY.function(
    "create_user_session",
    "Create a temporary session and its one-time login URL.",
    params=(Param("user", "Whose session.", required=True),
            Param("service", "whostmgrd (WHM); cpaneld and webmaild come with the cPanel face.",
                  required=True)),
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
    caller = call.principal.user
    if not caller.owns(target) or (target.is_root and service != sessions.WHOSTMGRD):
        raise PermissionDenied(
            f"You do not have permission to create sessions for the user “{username}”.",
            code="not_owner",
        )
    if target.suspended:
        raise InvalidParameter(
            f"You cannot create a session for the user “{username}” because they are "
            "currently suspended."
        )
    if service != sessions.WHOSTMGRD:
        raise InvalidParameter(
            f"This server does not serve “{service}” sessions yet: only “whostmgrd”."
        )
    if not (target.is_root or target.is_reseller):
        raise InvalidParameter(
            f"You cannot create a “whostmgrd” session for the user “{username}” because "
            "they are not a reseller."
        )
    new = sessions.create(call.conn, target, service, "create_user_session", call.now)
    cpsess = f"/cpsess{new.security_token}"
    session = f"{target.username}:{new.login_secret}"
    audit.record(call.conn, now=call.now, action=audit.SESSION_CREATE, actor=caller.username,
                 subject=target.username, source_ip=call.peer, detail=service)
    data: dict[str, Any] = {
        "cp_security_token": cpsess,
        "expires": new.expires,
        "service": service,
        "session": session,
        "url": f"{base_url(call)}{cpsess}/login/?session={session}",
    }
    return Reply(data=data, reason="Created session")
