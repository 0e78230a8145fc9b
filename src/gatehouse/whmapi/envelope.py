"""The one place that shapes WHM API responses (compatibility.md §Responses 1, 4).

JSON is compact (no spaces) with keys sorted, as cPanel's canonical encoder writes it;
shell clients grep the raw bytes for `"status":1`.
"""

from __future__ import annotations

import json
from typing import Any

_MISSING: Any = object()


# One encoder for the process: json.dumps() with options builds a new one on every call.
_ENCODER = json.JSONEncoder(separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def dumps(value: Any) -> bytes:
    return _ENCODER.encode(value).encode()


def whm1_dict(
    command: str,
    *,
    ok: bool,
    reason: str,
    data: Any = _MISSING,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    meta: dict[str, Any] = {"command": command, "reason": reason, "result": 1 if ok else 0}
    meta["version"] = 1
    if metadata:
        meta.update(metadata)
    out: dict[str, Any] = {"metadata": meta}
    if data is not _MISSING:
        out["data"] = data
    return out


def whm1(
    command: str,
    *,
    ok: bool,
    reason: str,
    data: Any = _MISSING,
    metadata: dict[str, Any] | None = None,
) -> bytes:
    return dumps(whm1_dict(command, ok=ok, reason=reason, data=data, metadata=metadata))


def unknown_function_reason(name: str, version: str) -> str:
    return f"Unknown app ({name}) requested for this version ({version}) of the API."
