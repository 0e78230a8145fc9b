"""An OpenAPI 3.1 document generated from the function registry."""

from __future__ import annotations

from typing import Any

from gatehouse import __version__
from gatehouse.api.registry import Registry

_TYPES: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "boolean": {"type": "integer", "enum": [0, 1]},
}

# A credential: clients and tools mask it and never echo it back.
_SECRET: dict[str, Any] = {"format": "password", "writeOnly": True}


def document(registry: Registry) -> dict[str, Any]:
    """WHM API 1's functions (those of WHM API 0 only have no API 1 envelope to describe)."""
    paths: dict[str, Any] = {}
    for name in registry.api1_names():
        fn = registry.functions[name]
        parameters: list[dict[str, Any]] = [
            {
                "name": "api.version",
                "in": "query",
                "required": True,
                "schema": {"type": "integer", "enum": [1]},
            }
        ]
        for p in fn.params:
            parameters.append(
                {
                    "name": p.name,
                    "in": "query",
                    "required": p.required,
                    "description": p.description + (" Repeatable as NAME-N." if p.multi else ""),
                    "schema": {**_TYPES[p.type], **_SECRET} if p.secret else _TYPES[p.type],
                }
            )
        needs = " or ".join(fn.privileges) if fn.privileges else "any WHM user"
        paths[f"/json-api/{name}"] = {
            "get": {
                "operationId": name,
                "summary": fn.summary,
                "description": f"Requires: {needs}.",
                "parameters": parameters,
                "x-whm-privileges": list(fn.privileges),
                "responses": {
                    "200": {
                        "description": "WHM API 1 envelope",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/Envelope"}
                            }
                        },
                    },
                    "401": {"description": "Authentication failed"},
                    "403": {"description": "The caller lacks the privilege"},
                },
            }
        }
    return {
        "openapi": "3.1.0",
        "info": {"title": "gatehouse WHM API 1", "version": __version__},
        "servers": [
            {"url": "https://{host}:2087", "variables": {"host": {"default": "localhost"}}}
        ],
        "components": {
            "securitySchemes": {
                "whmToken": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "`whm USER:TOKEN`",
                },
                "basic": {"type": "http", "scheme": "basic"},
            },
            "schemas": {
                "Envelope": {
                    "type": "object",
                    "required": ["metadata"],
                    "properties": {
                        "data": {},
                        "metadata": {
                            "type": "object",
                            "required": ["command", "reason", "result", "version"],
                            "properties": {
                                "command": {"type": "string"},
                                "reason": {"type": "string"},
                                "result": {"type": "integer", "enum": [0, 1]},
                                "version": {"type": "integer"},
                            },
                        },
                    },
                }
            },
        },
        "security": [{"whmToken": []}, {"basic": []}],
        "paths": paths,
    }
