"""How one face runs another face's functions without importing it.

A face that others call into installs itself here when it is loaded (`gatehouse.program`
loads every face before serving or running a command):

* the WHM face installs a `ServerApi`: WHM API 1 as the pages and `gatehouse whmapi1` run it;
* the cPanel face installs an `AccountApi`: UAPI and API 2 as WHM's `cpanel` function,
  `gatehouse uapi`, `gatehouse cpapi2` and the cPanel pages (`gatehouse.web.cpanel`) run them.

The callers depend on these protocols only, so no face imports another and the import
contracts (`make lint`) hold.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from gatehouse.api.call import Call
    from gatehouse.api.dispatch import Outcome
    from gatehouse.api.params import Params
    from gatehouse.auth.authenticator import Principal
    from gatehouse.core import Gatehouse
    from gatehouse.domain.users import User


# (api, module, function) of the account API: opaque to the callers.
JsonApiTarget = tuple[str, str, str]


class ServerApi(Protocol):
    """WHM API 1."""

    def execute(
        self,
        gatehouse: Gatehouse,
        principal: Principal,
        name: str,
        params: Params,
        *,
        peer: str | None = None,
        host: str | None = None,
    ) -> Outcome:
        """Run function `name` in its own transaction; the WHM API 1 answer."""
        ...


class AccountApi(Protocol):
    """UAPI and cPanel API 2, the functions of a cPanel account."""

    def principal_for(self, account: User, method: str, *, via: str | None = None) -> Principal:
        """The principal a cPanel function runs as."""
        ...

    def uapi(
        self,
        gatehouse: Gatehouse,
        principal: Principal,
        module: str,
        func: str,
        params: Params,
        *,
        peer: str | None = None,
        host: str | None = None,
    ) -> Outcome:
        """Run UAPI `module::func` in its own transaction; the `uapi` command line's answer
        (the wrapped envelope). `peer` and `host` are the browser's, when the cPanel pages
        run it: the audit trail records the address a change came from."""
        ...

    def api2(
        self,
        gatehouse: Gatehouse,
        principal: Principal,
        module: str,
        func: str,
        params: Params,
    ) -> Outcome:
        """Run cPanel API 2 `module::func` in its own transaction; the `cpapi2` command line's
        answer (`{"cpanelresult":{…}}`)."""
        ...

    def target(self, params: Params) -> JsonApiTarget:
        """The function a `/json-api/cpanel`-style call names (`cpanel_jsonapi_apiversion`,
        `_module`, `_func`); a `GatehouseError` whose `.data` is an `Envelope` when unusable."""
        ...

    def uapi_target(self, module: str, func: str) -> JsonApiTarget:
        """UAPI `module::func` as a target (WHM's `uapi_cpanel` names it so)."""
        ...

    def failure(self, target: JsonApiTarget, reason: str) -> dict[str, Any]:
        """A failed call of `target`, in its API's own envelope."""
        ...

    def within(self, outer: Call, principal: Principal, target: JsonApiTarget) -> dict[str, Any]:
        """Run `target` inside `outer`'s transaction with `outer`'s parameters; its success
        envelope, or a `GatehouseError` whose `.data` is an `Envelope` of its failure."""
        ...

    def refusal(self, params: Params, reason: str) -> dict[str, Any]:
        """A refusal made before the function ran, in the envelope the parameters ask for."""
        ...


class _Installed:
    server: ServerApi | None = None
    account: AccountApi | None = None


_INSTALLED = _Installed()


def install_server_api(api: ServerApi) -> None:
    _INSTALLED.server = api


def install_account_api(api: AccountApi) -> None:
    _INSTALLED.account = api


def server_api() -> ServerApi:
    if _INSTALLED.server is None:
        raise RuntimeError("the WHM face is not loaded (gatehouse.program.load_faces)")
    return _INSTALLED.server


def account_api() -> AccountApi:
    if _INSTALLED.account is None:
        raise RuntimeError("the cPanel face is not loaded (gatehouse.program.load_faces)")
    return _INSTALLED.account
