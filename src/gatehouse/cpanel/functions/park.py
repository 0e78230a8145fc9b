"""cPanel API 2 `AddonDomain::listaddondomains`, `Park::listaddondomains` and
`Park::listparkeddomains` (cPanel's Cpanel/AddonDomain.pm, Cpanel/Park.pm): gatehouse accounts
have no addon or parked domains (docs/cpanel.md), so each answers an empty list — the truth,
as cPanel answers an account without any. Clients list them before acting (cpanel-node's
`listAddonDomains`, billing modules' domain syncs); an error here would stop them.
"""

from __future__ import annotations

from typing import Any

from gatehouse.api.call import Call
from gatehouse.cpanel.registry import api2


def _none(_call: Call) -> list[dict[str, Any]]:
    return []


api2("AddonDomain", "listaddondomains", "The account's addon domains: none in gatehouse.",
     readonly=True)(_none)  # fmt: skip
api2("Park", "listaddondomains", "The account's addon domains: none in gatehouse.",
     readonly=True)(_none)  # fmt: skip
api2("Park", "listparkeddomains", "The account's parked domains: none in gatehouse.",
     readonly=True)(_none)  # fmt: skip
