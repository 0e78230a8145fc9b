"""The one place that shapes WHM API responses (compatibility.md §Responses 1, 4).

JSON is compact (no spaces) with keys sorted, as cPanel's canonical encoder writes it;
shell clients grep the raw bytes for `"status":1`.
"""

from __future__ import annotations

import json
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any

# `data` absent (not null): the envelope then has no "data" key.
MISSING: Any = object()


# One encoder for the process: json.dumps() with options builds a new one on every call.
_ENCODER = json.JSONEncoder(separators=(",", ":"), sort_keys=True, ensure_ascii=False)
# And its C core made once too: JSONEncoder.encode makes it again on every call, which is
# most of the time of encoding a small answer. Without a marker dict: our payloads are trees.
_C_ENCODE = (
    None
    if c_make_encoder is None
    else c_make_encoder(
        None, _ENCODER.default, encode_basestring, None, ":", ",", True, False, True
    )
)


# The fallback for text UTF-8 cannot carry (a lone surrogate from a JSON `\ud800` escape
# echoed in a refusal): JSON's own \uXXXX escapes, so every answer can be sent.
_ASCII_ENCODER = json.JSONEncoder(separators=(",", ":"), sort_keys=True, ensure_ascii=True)


class Encoded:
    """A value already encoded as `dumps` encodes it (compact, keys sorted, UTF-8), which
    `whm1` splices into the answer as it is: a handler that keeps encoded parts (listaccts'
    entries) need not build and encode 10,000 dicts per call. Only as the whole `data` (or
    the value given to `dumps`), never inside another value. `whm1_dict` (what the pages and
    the CLI read) decodes it back to the value."""

    __slots__ = ("raw",)

    def __init__(self, raw: bytes) -> None:
        self.raw = raw

    def value(self) -> Any:
        return json.loads(self.raw)


def encode(value: Any) -> bytes:
    """`dumps` without its fallback: raises UnicodeEncodeError for text UTF-8 cannot carry
    (then `dumps` escapes the whole answer, so a part encoded alone would differ)."""
    if _C_ENCODE is None or isinstance(value, str):
        return _ENCODER.encode(value).encode()
    return "".join(_C_ENCODE(value, 0)).encode()


def dumps(value: Any) -> bytes:
    if isinstance(value, Encoded):
        return value.raw
    try:
        return encode(value)
    except UnicodeEncodeError:
        return _ASCII_ENCODER.encode(value).encode()


def whm1_dict(
    command: str,
    *,
    ok: bool,
    reason: str,
    data: Any = MISSING,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    if isinstance(data, Encoded):
        data = data.value()
    meta: dict[str, Any] = {"command": command, "reason": reason, "result": 1 if ok else 0}
    meta["version"] = 1
    if metadata:
        meta.update(metadata)
    out: dict[str, Any] = {"metadata": meta}
    if data is not MISSING:
        out["data"] = data
    return out


def whm1(
    command: str,
    *,
    ok: bool,
    reason: str,
    data: Any = MISSING,
    metadata: dict[str, Any] | None = None,
) -> bytes:
    """`dumps(whm1_dict(...))`, byte for byte (a property test holds them equal), without
    building and sorting the envelope's own dicts: every API answer is shaped here."""
    if metadata:
        return dumps(whm1_dict(command, ok=ok, reason=reason, data=data, metadata=metadata))
    # Sorted by hand: "data" < "metadata"; command < reason < result < version.
    try:
        command_bytes = encode_basestring(command).encode()
        reason_bytes = encode_basestring(reason).encode()
    except UnicodeEncodeError:
        return dumps(whm1_dict(command, ok=ok, reason=reason, data=data))
    # The data's bytes are copied once, into the answer (a listing's are megabytes).
    return b"".join(
        (
            b"{" if data is MISSING else b'{"data":',
            b"" if data is MISSING else dumps(data),
            b"" if data is MISSING else b",",
            b'"metadata":{"command":',
            command_bytes,
            b',"reason":',
            reason_bytes,
            b',"result":1,"version":1}}' if ok else b',"result":0,"version":1}}',
        )
    )


def unknown_function_reason(name: str, version: str) -> str:
    return f"Unknown app ({name}) requested for this version ({version}) of the API."
