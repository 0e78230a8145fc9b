"""Which names an account may own: the one rule for every path that creates one (createacct,
modifyacct's domain change, adddns, subdomains, Dynamic DNS).

A name is written as cPanel stores it: lower case, no trailing dot, internationalized labels
in their A-label (punycode) form. A new name is refused when it is

* not a host name (LDH labels of 1-63 characters, at least two labels, at most 253
  characters, a last label that is not all digits);
* invalid IDNA: every `xn--` label must decode and round-trip under IDNA 2008 with UTS 46
  (the `idna` package); Unicode input is converted to A-labels the same way;
* a reverse zone (`in-addr.arpa`, `ip6.arpa` and below), unless the caller allows it;
* reserved: special-use names (RFC 6761, 6762, 7686, 8375, 9476; ICANN's `.internal`), the
  rest of `.arpa` (infrastructure, RFC 3172) and the root servers' `root-servers.net`;
* a public suffix (the Public Suffix List, ICANN and private sections, as shipped by the
  pinned `publicsuffixlist` package: never fetched at run time).

Names under `.test` and `.example` (RFC 6761 §6.2, §6.5) and `example.com`/`.net`/`.org`
stay allowed: RFC 6761 asks software not to treat them specially, and they are what test
systems (gatehouse's own suite among them) create accounts with.

Lookups of names that already exist (killdns, dumpzone, …) use `lookup_form`, which only
spells the name as stored: a name created before this rule can still be found and removed.
"""

from __future__ import annotations

import contextlib
import enum
import functools
import ipaddress
import re

import idna
from publicsuffixlist import PublicSuffixList

from gatehouse.errors import Conflict, InvalidParameter, PermissionDenied

MAX_LENGTH = 253
_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)\Z")

# Reverse DNS zones: refused unless the caller allows them (adddns, by root, with the
# GATEHOUSE_ALLOW_REVERSE_ZONES setting on).
REVERSE_SUFFIXES = ("in-addr.arpa", "ip6.arpa")

# Names reserved for special use, and why: refused themselves and every name beneath them.
# The single-label ones are also refused as "not a domain" (two labels at least): listing
# them names the reason for `x.local` and `x.localhost`.
RESERVED: dict[str, str] = {
    "localhost": "special-use name, RFC 6761",
    "invalid": "special-use name, RFC 6761",
    "local": "multicast DNS, RFC 6762",
    "onion": "Tor onion services, RFC 7686",
    "alt": "non-DNS namespaces, RFC 9476",
    "internal": "private use, reserved by ICANN",
    "home.arpa": "home networks, RFC 8375",
    "arpa": "infrastructure domain, RFC 3172",
    "root-servers.net": "the DNS root servers' names",
}


class ReverseZones(enum.Enum):
    """Whether a reverse zone may be the new name, and if not, why not (for the message)."""

    NEVER = "never"  # an account's main domain, a subdomain, a Dynamic DNS name
    DISABLED = "disabled"  # adddns, with GATEHOUSE_ALLOW_REVERSE_ZONES off
    ROOT_ONLY = "root-only"  # adddns by a reseller, with the setting on
    ALLOWED = "allowed"  # adddns by root, with the setting on

    @classmethod
    def for_adddns(cls, *, setting: bool, by_root: bool) -> ReverseZones:
        if not setting:
            return cls.DISABLED
        return cls.ALLOWED if by_root else cls.ROOT_ONLY


@functools.cache
def _suffixes() -> PublicSuffixList:
    # The list shipped inside the package (about 90 ms and 1.2 MB to read, once per process).
    return PublicSuffixList()


def _within(name: str, suffix: str) -> bool:
    return name == suffix or name.endswith(f".{suffix}")


def _invalid(raw: str) -> InvalidParameter:
    return InvalidParameter(f"“{raw.strip()}” is not a valid domain name.")


def _ascii(raw: str) -> str:
    """`raw` lower case, without a trailing dot, Unicode converted to A-labels (UTS 46
    mapping, IDNA 2008); refused if it cannot be."""
    candidate = raw.strip().rstrip(".")
    if candidate.isascii():
        return candidate.lower()
    try:
        return idna.encode(candidate, uts46=True, transitional=False).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        raise InvalidParameter(
            f"“{raw.strip()}” is not a valid domain name: it is not a valid internationalized "
            "domain name (IDNA 2008)."
        ) from None


def lookup_form(raw: str) -> str:
    """The name as stored, for finding one that exists; no rule beyond the spelling (an
    unconvertible name is returned lower-cased, and simply is not found)."""
    try:
        return _ascii(raw)
    except InvalidParameter:
        return raw.strip().lower().rstrip(".")


def host_name(raw: str) -> str:
    """`raw` as a stored host name: at least two LDH labels, Unicode as A-labels. The syntax
    only: an `xn--` label is not decoded (see `new_name`)."""
    candidate = _ascii(raw)
    labels = candidate.split(".")
    if (
        len(candidate) > MAX_LENGTH
        or len(labels) < 2
        or not all(_LABEL_RE.match(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise _invalid(raw)
    return candidate


def _check_idna(name: str) -> None:
    for label in name.split("."):
        if not label.startswith("xn--"):
            continue
        try:
            round_trip = idna.encode(idna.decode(label), uts46=True, transitional=False)
        except (idna.IDNAError, UnicodeError):
            round_trip = b""
        if round_trip.decode("ascii") != label:
            raise InvalidParameter(
                f"“{name}” is not a valid domain name: “{label}” is not a valid "
                "internationalized (IDNA 2008) label."
            )


def is_reverse(name: str) -> bool:
    """Whether `name` (as stored) is a reverse DNS zone or a name in one."""
    return any(_within(name, suffix) for suffix in REVERSE_SUFFIXES)


def _check_reverse(name: str, reverse: ReverseZones) -> None:
    if reverse is ReverseZones.ALLOWED:
        return
    if reverse is ReverseZones.ROOT_ONLY:
        raise PermissionDenied(
            f"“{name}” is a reverse DNS zone: only root may add reverse zones.",
            code="root_only",
        )
    if reverse is ReverseZones.DISABLED:
        raise InvalidParameter(
            f"“{name}” is a reverse DNS zone: this server does not allow reverse zones "
            "(the GATEHOUSE_ALLOW_REVERSE_ZONES setting is off)."
        )
    raise InvalidParameter(f"“{name}” is a reverse DNS zone: it cannot be an account's domain.")


def _check_reserved(name: str) -> None:
    for suffix, why in RESERVED.items():
        if _within(name, suffix):
            raise InvalidParameter(
                f"“{name}” is a reserved name (“{suffix}”: {why}): it cannot be an "
                "account's domain."
            )


def _check_public_suffix(name: str) -> None:
    if not _suffixes().is_public(name):
        return
    hint = "" if is_reverse(name) else f" Use a name registered under it, such as “example.{name}”."
    raise InvalidParameter(f"“{name}” is a public suffix: it cannot be an account's domain.{hint}")


def new_name(raw: str, *, reverse: ReverseZones = ReverseZones.NEVER) -> str:
    """A name an account is to own, as stored; refused (InvalidParameter, or PermissionDenied
    for a reverse zone only root may add) when it is no valid host name, invalid IDNA, a
    reverse zone `reverse` does not allow, reserved, or a public suffix."""
    name = host_name(raw)
    check_ownable(name, reverse=reverse)
    return name


def check_ownable(name: str, *, reverse: ReverseZones = ReverseZones.NEVER) -> None:
    """`new_name`'s rules beyond the spelling, for a caller with a syntax of its own (Dynamic
    DNS names may hold `_`; a subdomain is a label on an owned domain). `name` as stored."""
    _check_idna(name)
    if is_reverse(name):
        _check_reverse(name, reverse)  # allowed: `arpa` is not reserved for it
    else:
        _check_reserved(name)
    # `in-addr.arpa` and `ip6.arpa` themselves are public suffixes: a zone holding every
    # reverse name is refused even where reverse zones are allowed.
    _check_public_suffix(name)


# cPanel's refusals of a new domain of an account (subdomain, parked or addon domain) that
# exists already, in the words of its validators.
def dns_entry_exists(name: str) -> Conflict:
    # Cpanel::Validate::Component::Domain::HasDnsEntry: a zone of that name exists.
    return Conflict(f"A DNS entry for the domain “{name}” already exists.")


def in_userdata(name: str) -> Conflict:
    # Cpanel::Validate::Component::Domain::UserdataExists: some account holds the name.
    return Conflict(f"The domain “{name}” already exists in the userdata.")


_RFC_1035 = "RFC 1035 (http://tools.ietf.org/html/rfc1035)"
_RFC_LABEL = re.compile(r"\A[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\Z", re.IGNORECASE)
_RFC_TLD = re.compile(r"(?:[.][a-z0-9]+|[.]xn--[a-z0-9-]+)\Z", re.IGNORECASE)


def _not_rfc(raw: str) -> str | None:
    """Cpanel::Validate::Domain::Tiny::validdomainname's reason for refusing `raw`, or None."""
    if re.search(r"[:0-9]", raw) and not re.search(r"[g-z]", raw):
        with contextlib.suppress(ValueError):
            ipaddress.ip_address(raw)
            return "argument is an IP address, not a domain name"
    if len(raw) > 254:
        return "domain name exceeds 254 characters"
    if not _RFC_TLD.search(raw):
        return "domain name must have a valid TLD label"
    for label in raw.split("."):
        if not (0 < len(label) < 64 and _RFC_LABEL.match(label)):
            return f"domain name element {label} does not conform to requirements"
    return None


def check_rfc(raw: str) -> None:
    """Cpanel::Validate::Domain::valid_rfc_domainname_or_die: the name as given (no case or
    trailing dot changed), in LDH labels of 1-63 characters, with a TLD, not an address;
    refused in cPanel's words (its plain-text form of the RFC link)."""
    why = _not_rfc(raw)
    if why is not None:
        raise InvalidParameter(f"“{raw}” is not a valid domain name per {_RFC_1035} ({why}).")
