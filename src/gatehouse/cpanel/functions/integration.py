"""UAPI `Integration::fetch_url`: where one of the account's integration links sends it
(domain/integration_links.py; cPanel's Cpanel/API/Integration.pm). With an autologin URL the
server asks it for a login URL (the link's settings, its token and `attempt` POSTed as a form)
and answers its JSON object — `redirect_url` and whatever else it said — with the link's `url`
beside it; without one, or when that call fails and the link has a `url`,
`{"redirect_url": url}`. The cPanel pages follow a link the same way
(`/frontend/<theme>/integration/index.html?app=APP`).
"""

from __future__ import annotations

from typing import Any

from gatehouse.api.call import Call
from gatehouse.cpanel import args
from gatehouse.cpanel.registry import uapi
from gatehouse.domain import integration_links

MODULE = "Integration"


@uapi(MODULE, "fetch_url", "Where one of the account's integration links sends it.",
      readonly=True, slow=True)  # fmt: skip
def fetch_url(call: Call) -> dict[str, Any]:
    app = args.length_required(call, "app")
    account = call.caller_account()
    return integration_links.fetch_url(call.conn, call.gatehouse.keyring, account, app)


@uapi(MODULE, "gatehouse_list_links", "gatehouse extension: the account's integration links "
      "and their groups, as its cPanel interface shows them.", readonly=True)  # fmt: skip
def gatehouse_list_links(call: Call) -> dict[str, Any]:
    account = call.caller_account()
    return {
        "groups": [
            {"group_id": group_id, **config}
            for group_id, config in integration_links.groups(call.conn, account)
        ],
        "links": [
            {"app": link.app, **link.config} for link in integration_links.links(call.conn, account)
        ],
    }
