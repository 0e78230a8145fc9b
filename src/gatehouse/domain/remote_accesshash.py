"""Another server's Remote Access Key, asked for with its user's password: WHM API 1's
deprecated `get_remote_access_hash` (cPanel 11.120's Whostmgr/API/1/Resellers.pm lines
475-499 and Whostmgr/AccessHash.pm lines 68-105).

cPanel keeps nothing of it: it logs into the remote WHM over HTTPS (port 2087, the remote's
certificate not verified — cPanel::PublicAPI with `ssl_verify_mode => 0`), calls `accesshash`
there with `api.version=1` and `generate`, and hands the remote's answer back. gatehouse does
the same and stores nothing either: neither the password nor the key is written anywhere (no
row, no log line, no audit detail); the key exists only in this call's answer."""

from __future__ import annotations

import json

import httpx

from gatehouse.domain import cluster_check, cluster_peers

DEFAULT_PORT = 2087  # cPanel::PublicAPI's WHM port over TLS
_BAD_HOST_CHARACTERS = frozenset("/ @?#\\\r\n\t")


class RemoteFailure(Exception):
    """The remote key could not be had; the message is cPanel's sentence for the case."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _communication(detail: str) -> RemoteFailure:
    # Whostmgr/AccessHash.pm line 97; cPanel appends cPanel::PublicAPI's own error text,
    # gatehouse its own plain account of what went wrong.
    return RemoteFailure(f"There was a communication error with the remote server: {detail}")


def fetch(host: str, port: int, username: str, password: str, generate: str) -> str:
    """The remote user's key as the remote's `accesshash` answers it, or RemoteFailure."""
    host = host.strip()
    if not host or any(c in _BAD_HOST_CHARACTERS for c in host):
        raise _communication(f"“{host[:200]}” is not a host name or address.")
    try:
        with httpx.Client(
            base_url=cluster_peers.base_url("https", host, port),
            auth=httpx.BasicAuth(username, password),
            # cPanel's ssl_verify_mode 0 (Whostmgr/AccessHash.pm line 89): a WHM server's own
            # certificate is self-signed.
            verify=False,  # noqa: S501
            timeout=cluster_check.TIMEOUT,
            follow_redirects=False,
        ) as client:
            answer = client.get(
                "/json-api/accesshash", params={"api.version": "1", "generate": generate}
            )
    except httpx.HTTPError as exc:
        raise _communication(cluster_check.explain(exc)) from exc
    except (httpx.InvalidURL, ValueError, UnicodeError):
        # A host no URL can hold (httpx.InvalidURL is not an HTTPError).
        raise _communication(f"“{host[:200]}” is not a host name or address.") from None
    try:
        body = json.loads(answer.text)
        metadata = body["metadata"]
    except (ValueError, KeyError, TypeError):
        raise _communication(cluster_check.refusal(answer)) from None
    if not isinstance(metadata, dict) or not metadata.get("result"):
        reason = metadata.get("reason") if isinstance(metadata, dict) else None
        # Whostmgr/AccessHash.pm line 100.
        raise RemoteFailure(f"The remote api returned an error: {reason}")
    data = body.get("data")
    key = data.get("accesshash") if isinstance(data, dict) else None
    if not isinstance(key, str):
        raise _communication("the remote server's answer holds no access hash.")
    return key
