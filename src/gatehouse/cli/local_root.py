"""Running a WHM API 1 function from the command line as root, without HTTP: the same checks,
stored changes and audit rows as the API (`gatehouse bandwidth import`, `gatehouse cphulk`)."""

from __future__ import annotations

from typing import Any

import click

from gatehouse.api import bridge, dispatch
from gatehouse.api.params import Params
from gatehouse.auth.authenticator import Principal
from gatehouse.core import Gatehouse
from gatehouse.domain import users


def root_principal(gh: Gatehouse) -> Principal:
    """root, as a local caller; a clear error when the store has none."""
    with gh.engine.connect() as conn:
        root = users.get(conn, users.ROOT)
    if root is None:
        raise click.ClickException("The store has no root user: run `gatehouse init`.")
    return Principal(user=root, method="local", privileges=root.privileges)


def run_as_root(
    gh: Gatehouse, principal: Principal, function: str, pairs: list[tuple[str, str]]
) -> dispatch.Outcome:
    return bridge.server_api().execute(
        gh, principal, function, Params([("api.version", "1"), *pairs])
    )


def whm_data(gh: Gatehouse, function: str, pairs: list[tuple[str, str]]) -> Any:
    """Run a WHM API 1 function locally as root and close `gh`; the answer's `data`, or exit 1
    with its reason."""
    try:
        outcome = run_as_root(gh, root_principal(gh), function, pairs)
    finally:
        gh.close()
    if not outcome.ok:
        raise click.ClickException(str((outcome.payload.get("metadata") or {}).get("reason")))
    return outcome.payload.get("data")
