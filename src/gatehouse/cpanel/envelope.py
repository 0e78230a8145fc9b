"""The one place that shapes cPanel-face responses (compatibility.md §Responses 4–6).

JSON is compact with sorted keys (`gatehouse.api.envelope.dumps`): shell clients grep the
raw bytes for `"status":1`, `"main_domain":"..."`, `"line_index":N`.

UAPI::

    {"apiversion":3,"func":F,"module":M,"result":{"data":...,"errors":null,"messages":null,
     "metadata":{},"status":1,"warnings":null}}

cPanel API 2::

    {"cpanelresult":{"apiversion":2,"data":[...],"event":{"result":1},"func":F,"module":M}}

An API 2 call that fails (cPanel's Cpanel::Api2::Exec sets `event` to `{result 0, reason}`
and the error in CPERROR, which the JSON layer reports as `error`)::

    {"cpanelresult":{"apiversion":2,"data":[],"error":R,"event":{"reason":R,"result":0},
     "func":F,"module":M}}

Choice: cPanel leaves `data` undefined on such a failure; gatehouse sends `[]` so that a
client indexing `data` finds a list, as on success.

cpsrvd's own refusals (bad credentials, a forbidden path) on API 2 URLs have a different,
older shape, observed by clients (whm-reference §2.5)::

    {"cpanelresult":{"apiversion":"2","data":{"reason":R,"result":"0"},"error":R,"type":"text"}}
"""

from __future__ import annotations

from typing import Any

from gatehouse.api.envelope import dumps

__all__ = [
    "api2_dict",
    "api2_refusal_dict",
    "dumps",
    "uapi_dict",
    "unknown_api2_reason",
    "unknown_uapi_function_reason",
    "unknown_uapi_module_reason",
]


def uapi_dict(
    module: str,
    func: str,
    *,
    ok: bool,
    data: Any = None,
    errors: list[str] | None = None,
    messages: list[str] | None = None,
    warnings: list[str] | None = None,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "apiversion": 3,
        "func": func,
        "module": module,
        "result": {
            "data": data,
            "errors": errors or None,
            "messages": messages or None,
            "metadata": metadata or {},
            "status": 1 if ok else 0,
            "warnings": warnings or None,
        },
    }


def api2_dict(
    module: str | None,
    func: str | None,
    *,
    data: Any = None,
    error: str | None = None,
    ran: bool = False,
) -> dict[str, Any]:
    """A call's answer: success with `data`, or failure with `error` — with `ran`, a failure
    the function itself reported in `data` (cPanel's api2_* functions returning
    `{"result":0,"reason":R}` and setting CPERROR: `event.result` stays 1)::

        {"cpanelresult":{"apiversion":2,"data":[{"reason":R,"result":0}],"error":R,
         "event":{"result":1},"func":F,"module":M}}
    """
    result: dict[str, Any] = {"apiversion": 2}
    if module is not None:
        result["module"] = module
    if func is not None:
        result["func"] = func
    if error is None or ran:
        result["data"] = data if data is not None else []
        result["event"] = {"result": 1}
        if error is not None:
            result["error"] = error
    else:
        result["data"] = []
        result["error"] = error
        result["event"] = {"reason": error, "result": 0}
    return {"cpanelresult": result}


def api2_refusal_dict(reason: str) -> dict[str, Any]:
    """cpsrvd's refusal before any function runs (authentication, forbidden path)."""
    return {
        "cpanelresult": {
            "apiversion": "2",
            "data": {"reason": reason, "result": "0"},
            "error": reason,
            "type": "text",
        }
    }


def unknown_uapi_module_reason(module: str) -> str:
    # cPanel (Cpanel::API::_init_execute): “Failed to load module “M”: <why>”, where <why> is
    # Perl's load error. Choice: a plain sentence stands in for Perl's @INC message.
    return (
        f"Failed to load module “{module}”: The system failed to load the module "
        f"“Cpanel::API::{module}” because it does not exist."
    )


def unknown_uapi_function_reason(module: str, func: str) -> str:
    # Cpanel::API::_run_module_function's wording.
    return f"The system could not find the function “{func}” in the module “{module}”."


def unknown_api2_reason(module: str, func: str) -> str:
    # cPanel logs “Execution of M::F could not be completed because the function could not
    # be resolved” when api2_preexec finds nothing (Cpanel::Api2 tag path); the same sentence.
    return (
        f"Execution of {module}::{func} could not be completed because the function could "
        "not be resolved"
    )
