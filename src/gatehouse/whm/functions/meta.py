"""version, applist, myprivs: what a client asks first."""

from __future__ import annotations

from typing import Any

from gatehouse import WHM_COMPAT_VERSION, acls
from gatehouse.api.call import Call
from gatehouse.whm import api0
from gatehouse.whm.registry import REGISTRY


def _version0(call: Call) -> dict[str, Any]:
    return {"version": WHM_COMPAT_VERSION}


@REGISTRY.function(
    "version",
    "The WHM version this server answers as.",
    privileges=("basic-system-info", "clustering"),
    api0=_version0,
    readonly=True,
)
def version(call: Call) -> dict[str, Any]:
    return {"version": WHM_COMPAT_VERSION}


def _callable_functions(call: Call, *, api0: bool = False) -> list[str]:
    """The functions the caller may call: API 1's, or (`api0`) every function with the
    privileges API 0 asks for those with an API 0 form — API 0's own functions included."""
    held = call.principal.privileges
    registry = REGISTRY
    names = registry.names() if api0 else registry.api1_names()
    return [
        f.name
        for f in (registry.get(n) for n in names)
        if f is not None and f.allowed(held, api0 and f.api0 is not None)
    ]


def _applist0(call: Call) -> dict[str, Any]:
    return {"app": _callable_functions(call, api0=True)}


@REGISTRY.function(
    "applist",
    "The WHM API 1 functions the caller may call, in alphabetical order.",
    privileges=("basic-whm-functions",),
    api0=_applist0,
    readonly=True,
)
def applist(call: Call) -> dict[str, Any]:
    return {"app": _callable_functions(call)}


def privilege_map(held: frozenset[str]) -> dict[str, int]:
    """Every catalogue privilege with 1 if `held` grants it, else 0."""
    if acls.ALL in held:
        return dict.fromkeys(_CATALOGUE_NAMES, 1)
    return {name: 1 if name in held else 0 for name in _CATALOGUE_NAMES}


_CATALOGUE_NAMES = tuple(a.name for a in acls.CATALOGUE)


@REGISTRY.function(
    "myprivs",
    "The caller's effective privileges (for a token: filtered through the token).",
    privileges=("basic-whm-functions",),
    readonly=True,
    api0=api0.myprivs,
)
def myprivs(call: Call) -> dict[str, Any]:
    return {"privileges": [privilege_map(call.principal.privileges)]}
