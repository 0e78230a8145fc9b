"""Parse the `Authorization` header into a credential, without judging it.

Shapes (compatibility.md §Requests 1):
  whm USER:SECRET      a WHM API token — or, with the same shape, the legacy access hash
  cpanel USER:SECRET   a cPanel (account) API token
  Basic base64(USER:PASSWORD)
The scheme word is case-insensitive; USER:SECRET splits on the first colon. Anything else is
a `Malformed` credential with a reason code; the parser never raises.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

MAX_HEADER = 16 * 1024  # a legacy access hash is 960 hex characters; tokens are 32


# Not frozen: made on every request, and a frozen dataclass's __init__ costs four times as much
# (object.__setattr__ per field). Nothing changes one after parsing.
@dataclass(slots=True)
class TokenCredential:
    scheme: str  # "whm" or "cpanel", lower-cased
    username: str
    secret: str
    agent: bytes | None = None  # the request's User-Agent, kept as a token's last use

    def __repr__(self) -> str:  # never let a secret reach a log through repr()
        return f"TokenCredential(scheme={self.scheme!r}, username={self.username!r})"


@dataclass(frozen=True, slots=True)
class PasswordCredential:
    username: str
    password: str

    def __repr__(self) -> str:
        return f"PasswordCredential(username={self.username!r})"


@dataclass(frozen=True, slots=True)
class Malformed:
    reason: str  # a reason code for the audit trail
    username: str | None = None


Credential = TokenCredential | PasswordCredential | Malformed

# `whm USER:SECRET` or `cpanel USER:SECRET`, one space, no other white space anywhere.
# (Letters spelt out rather than re.IGNORECASE, which also folds look-alike Unicode letters.)
_PLAIN_TOKEN = re.compile(r"([Ww][Hh][Mm]|[Cc][Pp][Aa][Nn][Ee][Ll]) ([^:\s]+):(\S+)")


def parse(header: str | None, agent: bytes | None = None) -> Credential | None:
    """None when there is no header at all. `agent`: the User-Agent, carried by a token
    credential (recorded with the token's last use)."""
    if header is None:
        return None
    if len(header) > MAX_HEADER:
        return Malformed("header_too_long")
    plain = _PLAIN_TOKEN.fullmatch(header)
    if plain is not None:
        # The shape every client sends: what the general parse below gives, in one match.
        scheme, username, secret = plain.groups()
        return TokenCredential(scheme.lower(), username, secret, agent)
    return _general(header, agent)


def parse_any(header: str, agent: bytes | None = None) -> Credential:
    """`parse` for every shape, without the shortcut for the plain token header (which gives
    the same credential: a property test holds them equal)."""
    if len(header) > MAX_HEADER:
        return Malformed("header_too_long")
    return _general(header, agent)


def _general(header: str, agent: bytes | None) -> Credential:
    """A header of at most MAX_HEADER characters, of any shape."""
    scheme, sep, rest = header.strip().partition(" ")
    if not sep:
        return Malformed("malformed_header")
    scheme = scheme.lower()
    rest = rest.strip()
    if scheme in ("whm", "cpanel"):
        return _parse_token(scheme, rest, agent)
    if scheme == "basic":
        return _parse_basic(rest)
    return Malformed("unsupported_scheme")


def _parse_token(scheme: str, rest: str, agent: bytes | None) -> Credential:
    username, sep, secret = rest.partition(":")
    if not username:
        return Malformed("no_username")
    if not sep or not secret:
        return Malformed("no_token", username=username)
    # Old scripts paste the access hash with its line breaks turned into spaces or kept;
    # cPanel's client strips \r and \n before sending, so a well-formed secret has none.
    secret = "".join(secret.split())
    return TokenCredential(scheme=scheme, username=username, secret=secret, agent=agent)


def _parse_basic(rest: str) -> Credential:
    try:
        decoded = base64.b64decode(rest.encode("ascii"), validate=True).decode("utf-8")
    except (UnicodeError, binascii.Error, ValueError):
        return Malformed("malformed_basic")
    username, sep, password = decoded.partition(":")
    if not username:
        return Malformed("no_username")
    if not sep:
        return Malformed("malformed_basic", username=username)
    return PasswordCredential(username=username, password=password)
