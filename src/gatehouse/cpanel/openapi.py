"""The cPanel face's OpenAPI 3.1 document, generated from the UAPI and API 2 registries and
served at `/openapi.json` on the cPanel ports (as WHM's is on the WHM ports).

* Every UAPI function is `GET` and `POST /execute/{Module}/{func}` (operationIds
  `uapi.Module.func` and `uapi.Module.func.post`), answered with UAPI's flat result object.
* Every API 2 function is the one `/json-api/cpanel` call with `cpanel_jsonapi_apiversion=2`,
  `cpanel_jsonapi_module` and `cpanel_jsonapi_func`: OpenAPI allows one operation per path
  and method, so the module and function are enumerated parameters and the functions are
  listed, one entry each, in the operation's `x-cpanel-api2-functions` (module, func,
  summary, readonly).

The cPanel registries declare no parameters per function (unlike WHM API 1's), so the
documented parameters are the call's own; a function's arguments are free-form query or
form fields, as cPanel documents them.
"""

from __future__ import annotations

from typing import Any

from gatehouse import __version__
from gatehouse.cpanel.registry import CpanelRegistry

_JSON = "application/json"
_FORM = "application/x-www-form-urlencoded"

# A function's own arguments: cPanel's are untyped text fields (`key-N` for lists).
_FREE_FORM: dict[str, Any] = {"type": "object", "additionalProperties": {"type": "string"}}


def _refusals() -> dict[str, Any]:
    return {
        "401": {"description": "Authentication failed"},
        "413": {"description": "The request body is too large"},
        "414": {"description": "The query string is too long"},
        "429": {"description": "Too many failed logins from this address or for this user"},
    }


def _uapi_operation(module: str, func: str, summary: str, readonly: bool, post: bool) -> Any:
    operation: dict[str, Any] = {
        "operationId": f"uapi.{module}.{func}" + (".post" if post else ""),
        "tags": [f"UAPI {module}"],
        "summary": summary,
        "description": (
            f"UAPI `{module}::{func}`. Arguments as query"
            + (" or form fields" if post else " fields")
            + " (`key-N` for lists); the call acts on the authenticated account."
        ),
        "x-cpanel-readonly": readonly,
        "responses": {
            "200": {
                "description": "UAPI result object (`status` 0 with `errors` on failure)",
                "content": {_JSON: {"schema": {"$ref": "#/components/schemas/UapiResult"}}},
            },
            **_refusals(),
        },
    }
    if post:
        operation["requestBody"] = {
            "required": False,
            "content": {_FORM: {"schema": _FREE_FORM}},
        }
    return operation


def _api2_parameters(registry: CpanelRegistry) -> list[dict[str, Any]]:
    return [
        {
            "name": "cpanel_jsonapi_apiversion",
            "in": "query",
            "required": True,
            "schema": {"type": "integer", "enum": [2]},
        },
        {
            "name": "cpanel_jsonapi_module",
            "in": "query",
            "required": True,
            "schema": {"type": "string", "enum": sorted(registry.modules)},
        },
        {
            "name": "cpanel_jsonapi_func",
            "in": "query",
            "required": True,
            "description": "A function of the module; see `x-cpanel-api2-functions`.",
            "schema": {"type": "string", "enum": sorted({f for _, f in registry.functions})},
        },
    ]


def _api2_operation(registry: CpanelRegistry, post: bool) -> dict[str, Any]:
    functions = [
        {"module": fn.module, "func": fn.name, "summary": fn.summary, "readonly": fn.readonly}
        for _, fn in sorted(registry.functions.items())
    ]
    listing = "\n".join(f"* `{f['module']}::{f['func']}`: {f['summary']}" for f in functions)
    operation: dict[str, Any] = {
        "operationId": "api2" + (".post" if post else ""),
        "tags": ["API 2"],
        "summary": "Call a cPanel API 2 function",
        "description": (
            "cPanel API 2: the module and function are parameters; the function's own "
            "arguments are further query" + (" or form" if post else "") + " fields.\n\n"
            "Functions:\n\n" + listing
        ),
        "parameters": _api2_parameters(registry),
        "x-cpanel-api2-functions": functions,
        "responses": {
            "200": {
                "description": "API 2 envelope (`event.result` 0 with `error` on failure)",
                "content": {_JSON: {"schema": {"$ref": "#/components/schemas/Api2Envelope"}}},
            },
            **_refusals(),
        },
    }
    if post:
        operation["requestBody"] = {
            "required": False,
            "content": {_FORM: {"schema": _FREE_FORM}},
        }
    return operation


def document(uapi: CpanelRegistry, api2: CpanelRegistry) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for (module, func), fn in sorted(uapi.functions.items()):
        paths[f"/execute/{module}/{func}"] = {
            "get": _uapi_operation(module, func, fn.summary, fn.readonly, post=False),
            "post": _uapi_operation(module, func, fn.summary, fn.readonly, post=True),
        }
    if api2.functions:
        paths["/json-api/cpanel"] = {
            "get": _api2_operation(api2, post=False),
            "post": _api2_operation(api2, post=True),
        }
    return {
        "openapi": "3.1.0",
        "info": {"title": "gatehouse cPanel UAPI and API 2", "version": __version__},
        "servers": [
            {"url": "https://{host}:2083", "variables": {"host": {"default": "localhost"}}}
        ],
        "components": {
            "securitySchemes": {
                "cpanelToken": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "`cpanel USER:TOKEN`",
                },
                "basic": {"type": "http", "scheme": "basic"},
            },
            "schemas": {
                "UapiResult": {
                    "type": "object",
                    "required": ["status"],
                    "properties": {
                        "data": {},
                        "errors": {"type": ["array", "null"], "items": {"type": "string"}},
                        "messages": {"type": ["array", "null"], "items": {"type": "string"}},
                        "warnings": {"type": ["array", "null"], "items": {"type": "string"}},
                        "metadata": {"type": "object"},
                        "status": {"type": "integer", "enum": [0, 1]},
                    },
                },
                "Api2Envelope": {
                    "type": "object",
                    "required": ["cpanelresult"],
                    "properties": {
                        "cpanelresult": {
                            "type": "object",
                            "properties": {
                                "apiversion": {"type": ["integer", "string"]},
                                "module": {"type": "string"},
                                "func": {"type": "string"},
                                "data": {},
                                "error": {"type": "string"},
                                "event": {
                                    "type": "object",
                                    "properties": {
                                        "result": {"type": "integer", "enum": [0, 1]},
                                        "reason": {"type": "string"},
                                    },
                                },
                            },
                        }
                    },
                },
            },
        },
        "security": [{"cpanelToken": []}, {"basic": []}],
        "paths": paths,
    }
