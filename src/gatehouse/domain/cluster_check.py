"""Whether a DNS cluster peer can be used, and what is wrong when it cannot, in words an
administrator can act on: unreachable, TLS, the token refused, `clustering` missing."""

from __future__ import annotations

import json
import ssl
import uuid

import httpx

from gatehouse.errors import InvalidParameter

TIMEOUT = 10.0
PRIVILEGE = "clustering"


def check(base_url: str, username: str, token: str, verify_tls: bool) -> str | None:
    """None when the peer answers WHM API 1 with this token and the token may use the cluster
    protocol; else why not. Two read-only calls: `version` (which a `clustering` token may
    call), then `/scripts2/getips_local` (which needs `clustering`)."""
    headers = {"Authorization": f"whm {username}:{token}"}
    try:
        with httpx.Client(
            base_url=base_url, headers=headers, verify=verify_tls, timeout=TIMEOUT
        ) as client:
            version = client.get("/json-api/version", params={"api.version": "1"})
            if version.status_code == 403:
                return _lacks()
            if version.status_code != 200:
                return refusal(version)
            try:
                json.loads(version.text)["data"]["version"]
            except (ValueError, KeyError, TypeError):
                return "The peer did not answer as a WHM server (its version call is not WHM's)."
            ips = client.post("/scripts2/getips_local", data={"dnsuniqid": uuid.uuid4().hex})
    except httpx.HTTPError as exc:
        return explain(exc)
    if ips.status_code == 403:
        return _lacks()
    if ips.status_code != 200:
        return refusal(ips)
    return None


def _lacks() -> str:
    return (
        f"The peer accepted the token but it lacks the “{PRIVILEGE}” privilege: "
        f"give the token {PRIVILEGE} on the peer."
    )


def require_usable(base_url: str, label: str, username: str, token: str, verify_tls: bool) -> None:
    """`check`, refusing (InvalidParameter, naming the peer) when the peer cannot be used."""
    problem = check(base_url, username, token, verify_tls)
    if problem is not None:
        raise InvalidParameter(f"The peer {label} cannot be used: {problem}")


def explain(exc: httpx.HTTPError) -> str:
    """A transport failure, said plainly."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return (
                f"TLS: the peer's certificate could not be verified ({cause.verify_message}). "
                "A cPanel server's own certificate is self-signed: turn verification off for "
                "this peer, or install a certificate it can verify."
            )
        if isinstance(cause, ssl.SSLError):
            return f"TLS: the handshake with the peer failed ({cause.reason or cause})."
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, httpx.RemoteProtocolError):
        return (
            f"The peer's answer is not HTTP ({exc}): is the port or the scheme (HTTPS or "
            "plain HTTP) wrong?"
        )
    if isinstance(exc, httpx.TimeoutException):
        return f"Unreachable: the peer did not answer within {TIMEOUT:g} seconds."
    if isinstance(exc, httpx.ConnectError):
        return f"Unreachable: {exc or 'the connection failed'}."
    return f"The connection to the peer failed: {type(exc).__name__}: {exc}"[:500]


def refusal(response: httpx.Response) -> str:
    """An HTTP answer that is not a success, said plainly."""
    status = response.status_code
    if status == 401:
        return "HTTP 401: the peer refused the user and token (wrong, revoked or expired)."
    if status == 403:
        return (
            f"HTTP 403: the peer refused the request; the token needs the “{PRIVILEGE}” "
            f"privilege. {_first_line(response)}"
        ).strip()
    return f"HTTP {status}: {_first_line(response)}".strip()


def _first_line(response: httpx.Response) -> str:
    text = response.text.strip()
    return text.splitlines()[0][:300] if text else ""
