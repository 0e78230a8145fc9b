"""WHM API 1 integration links: `create_integration_link`, `create_integration_group`,
`update_integration_link_token`, `remove_integration_link`, `remove_integration_group`,
`list_integration_links`, `list_integration_groups`, `get_integration_link_user_config`
(domain/integration_links.py; cPanel's Whostmgr/API/1/Integration.pm).

WHMCS's Application Links call them in one `batch` per server: `create_integration_group`
(`group_id=whmcs`, `label`, `order`) and one `create_integration_link` per app
(`subscriber_unique_id`, `url`, `token`, `autologin_token_url`, `label`, `order`,
`implements`, …), and `remove_integration_group` / `remove_integration_link` to take them away.

Who may: root, or a reseller for an account it owns (cPanel's Whostmgr::Authz::
verify_account_access); no privilege beyond that is asked (cPanel's table names none).
Answers: metadata only, but for the lists — `{"links":[{"app":…}]}`, and, as cPanel words it,
`{"links":[{"group":…}]}` for the groups — and `{"userconfig":{…}}` (the link's settings,
never its token).
"""

from __future__ import annotations

from typing import Any

from gatehouse.api.call import Call
from gatehouse.api.registry import Param, Reply
from gatehouse.domain import access
from gatehouse.domain import integration_links as links
from gatehouse.domain.users import User
from gatehouse.whm.registry import REGISTRY

_USER = Param("user", "The cPanel account.", required=True)
_APP = Param("app", "The application's name (how the link is known).", required=True)
_GROUP = Param("group_id", "The group's name.", required=True)


def _account(call: Call) -> User:
    return access.require_account(call.conn, access.actor_of(call.principal), call.require("user"))


def _settings(call: Call, *leave_out: str) -> dict[str, str]:
    return {
        name: value
        for name in call.params
        if name not in ("user", *leave_out) and (value := call.params.get(name)) is not None
    }


@REGISTRY.function(
    "create_integration_link",
    "Link an application into an account's cPanel interface (replacing one of the same name).",
    params=(
        _USER,
        _APP,
        Param("url", "Where the link goes (or the fallback of autologin_token_url)."),
        Param("autologin_token_url", "Asked by the server for a login URL when followed."),
        Param(
            "token",
            "Shown to autologin_token_url (kept encrypted, never shown again).",
            secret=True,
        ),
        Param("subscriber_unique_id", "Shown to autologin_token_url."),
        Param("label", "The link's text."),
        Param("implements", "What it implements (billing, support, …)."),
        Param("group_id", "Its group in the interface."),
        Param("order", "Its place in the group."),
        Param("hide", "1: not shown in the interface.", type="boolean"),
        Param("base64_png_image", "Its icon, a PNG image in Base64."),
    ),
)
def create_integration_link(call: Call) -> Reply:
    account = _account(call)
    app = call.require("app")
    links.add_link(
        call.conn, call.gatehouse.keyring, account, app, _settings(call, "app"), call.now
    )
    call.audit(links.AUDIT_LINK, account.username, f"created {app}")
    return Reply(has_data=False)


@REGISTRY.function(
    "create_integration_group",
    "Make a group for an account's integration links in its cPanel interface.",
    params=(_USER, _GROUP, Param("label", "The group's text."), Param("order", "Its place.")),
)
def create_integration_group(call: Call) -> Reply:
    account = _account(call)
    group_id = call.require("group_id")
    links.add_group(call.conn, account, group_id, _settings(call, "group_id"), call.now)
    call.audit(links.AUDIT_GROUP, account.username, f"created {group_id}")
    return Reply(has_data=False)


@REGISTRY.function(
    "update_integration_link_token",
    "Give an integration link a new token.",
    params=(_USER, _APP, Param("token", "The new token.", required=True, secret=True)),
)
def update_integration_link_token(call: Call) -> Reply:
    account = _account(call)
    app = call.require("app")
    links.update_token(call.conn, call.gatehouse.keyring, account, app, call.require("token"))
    call.audit(links.AUDIT_LINK, account.username, f"new token for {app}")
    return Reply(has_data=False)


@REGISTRY.function(
    "remove_integration_link",
    "Remove an integration link (none of that name: nothing to do).",
    params=(_USER, _APP),
)
def remove_integration_link(call: Call) -> Reply:
    account = _account(call)
    app = call.require("app")
    if links.remove_link(call.conn, account, app):
        call.audit(links.AUDIT_LINK, account.username, f"removed {app}")
    return Reply(has_data=False)


@REGISTRY.function(
    "remove_integration_group",
    "Remove a group of integration links (none of that name: nothing to do).",
    params=(_USER, _GROUP),
)
def remove_integration_group(call: Call) -> Reply:
    account = _account(call)
    group_id = call.require("group_id")
    if links.remove_group(call.conn, account, group_id):
        call.audit(links.AUDIT_GROUP, account.username, f"removed {group_id}")
    return Reply(has_data=False)


@REGISTRY.function(
    "list_integration_links",
    "An account's integration links.",
    params=(_USER,),
    readonly=True,
)
def list_integration_links(call: Call) -> dict[str, Any]:
    account = _account(call)
    return {"links": [{"app": link.app} for link in links.links(call.conn, account)]}


@REGISTRY.function(
    "list_integration_groups",
    "An account's groups of integration links.",
    params=(_USER,),
    readonly=True,
)
def list_integration_groups(call: Call) -> dict[str, Any]:
    account = _account(call)
    # cPanel's own key: `links`, each a `group`.
    return {"links": [{"group": g} for g, _ in links.groups(call.conn, account)]}


@REGISTRY.function(
    "get_integration_link_user_config",
    "An integration link's settings (never its token).",
    params=(_USER, _APP),
    readonly=True,
)
def get_integration_link_user_config(call: Call) -> dict[str, Any]:
    account = _account(call)
    return {"userconfig": links.user_config(call.conn, account, call.require("app"))}
