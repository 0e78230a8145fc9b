"""The cPanel face: UAPI (`/execute/Module/func`) and cPanel API 2 (`/json-api/cpanel`) for
account holders, on the cPanel ports (2082, 2083), beside WHM's (docs/cpanel.md).

* `registry`  — where functions are declared (`@uapi`, `@api2`).
* `envelope`  — the two response shapes, compact sorted JSON.
* `execute`   — runs one function for a principal, used by the HTTP face and, through
                `gatehouse.api.bridge`, by WHM's `cpanel` function and `gatehouse uapi`.
* `app`       — `CpanelApp`, the raw ASGI application `gatehouse serve` puts on the ports.
* `functions` — the function modules, each loaded by `install()`.
"""

from __future__ import annotations


def install() -> None:
    """Load the functions and offer them to the other faces (gatehouse.api.bridge)."""
    from gatehouse.api import bridge
    from gatehouse.cpanel.execute import AccountFunctions
    from gatehouse.cpanel.registry import load_all

    load_all()
    bridge.install_account_api(AccountFunctions())
