"""cPanel's checks of a one-record change, in its words: Whostmgr::DNS::sanitize_record, which
WHM's addzonerecord, editzonerecord and savemxs and cPanel API 2's add_zone_record and
edit_zone_record run on the record before anything else looks at it (cPanel 11.120,
Whostmgr/DNS.pm `_base_record_is_valid` and `%record_sanitizer_for_type`), and the names
Cpanel::ZoneFile::LineEdit takes in a mass edit (Cpanel/ZoneFile/LineEdit/Backend.pm
`_validate_name`, `build_line`).

`sanitize` refuses with `Invalid DNS record: ` and the reasons cPanel gives: the name, class
and TTL together (joined by a blank, as cPanel joins them), then the type's own check. Only
the types cPanel checks (A, AAAA, CAA, CNAME, MX, NS, PTR, SRV, TXT) are checked; the others
pass, as in cPanel. What passes is then checked by gatehouse's own rules (dnspython's reading
of the record, the whole zone), in gatehouse's words."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from urllib.parse import urlsplit

from gatehouse.errors import InvalidParameter
from gatehouse.numerals import digits, perl_number

Getter = Callable[[str], str | None]

INVALID = "Invalid DNS record: "
# Whostmgr::DNS: a serialized record longer than this is refused (RFC 1035's RDLENGTH).
MAX_RECORD = 65535
TOO_LONG = "Records may not exceed 65535 bytes"
_MAX_TTL = 2147483647

# RFC 1035 2.3.1 (digits first allowed) and RFC 2181 11 (underscores), as Whostmgr::DNS's
# _is_valid_hostname_label and _is_valid_dns_label match them: ASCII only (cPanel's `\d`
# meets bytes), under 64 characters.
_HOSTNAME_LABEL = re.compile(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?", re.IGNORECASE | re.ASCII)
_DNS_LABEL = re.compile(r"[a-z0-9_](?:[-a-z0-9_]*[a-z0-9_])?", re.IGNORECASE | re.ASCII)
_CAA_TAG = re.compile(r"[A-Za-z0-9]{1,15}")


def hostname_label(label: str | None) -> bool:
    return label is not None and len(label) < 64 and _HOSTNAME_LABEL.fullmatch(label) is not None


def dns_label(label: str | None) -> bool:
    if label == "*":  # cPanel's case 41330: a lone wildcard
        return True
    return label is not None and len(label) < 64 and _DNS_LABEL.fullmatch(label) is not None


def _labels(name: str | None) -> list[str] | None:
    """A name's labels as Whostmgr::DNS splits them: one final dot dropped, at least two
    labels (Perl's split drops trailing empty fields, so `a.b..` is `a`, `b`)."""
    if not name:
        return None
    parts = name.removesuffix(".").split(".")
    while parts and parts[-1] == "":
        parts.pop()
    return parts if len(parts) >= 2 else None


def hostname(name: str | None) -> bool:
    labels = _labels(name)
    return labels is not None and all(hostname_label(label) for label in labels)


def dns_domain(name: str | None) -> bool:
    labels = _labels(name)
    return labels is not None and all(dns_label(label) for label in labels)


def ipv4(text: str | None) -> bool:
    """Cpanel::Validate::IP::v4::is_valid_ipv4: four decimal octets, no leading zero, the
    first not 0."""
    if not text:
        return False
    octets = text.split(".")
    if len(octets) != 4 or not all(digits(o) for o in octets):
        return False
    if any(int(o) > 255 or (o[0] == "0" and len(o) > 1) for o in octets):
        return False
    return octets[0] != "0"


def ipv6(text: str | None) -> bool:
    """Cpanel::Validate::IP::is_valid_ipv6: hexadecimal groups only (no zone index), an IPv4
    tail checked as above."""
    if not text or not all(c in "0123456789abcdefABCDEF:." for c in text):
        return False
    tail = text.rsplit(":", 1)[-1]
    if "." in tail and not ipv4(tail):
        return False
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


# -- Whostmgr::DNS::sanitize_record -------------------------------------------------------------


def _base_issues(get: Getter) -> list[str]:
    """_base_record_is_valid: the name, class and TTL, every issue found."""
    issues = []
    name = get("name")
    if len(name or "") >= 255:
        issues.append("Provided name is too long.")
    if not dns_label(name) and not dns_domain(name):
        issues.append("Invalid name provided.")
    if re.search(r".\*", name or ""):  # the wildcard must be the leftmost character
        issues.append("Contains a malformed wildcard name.")
    record_class = get("class")
    if record_class is not None and record_class not in ("IN", "CS", "CH", "HS"):
        issues.append("Invalid class specified.")
    ttl = get("ttl")
    if ttl is not None:
        if not digits(ttl):
            issues.append("Bad TTL provided.")
        if perl_number(ttl) > _MAX_TTL:
            issues.append("Provided TTL exceeds the maximum allowed value.")
    return issues


def _a(get: Getter) -> str | None:
    address = get("address")
    if address != "0.0.0.0" and not ipv4(address):  # noqa: S104 (the meta-address is allowed)
        return "Supplied address for A record is invalid"
    return None


def _aaaa(get: Getter) -> str | None:
    return None if ipv6(get("address")) else "Supplied address for AAAA record is invalid"


def _cname(get: Getter) -> str | None:
    cname = get("cname")
    if not dns_domain(cname):
        return "Supplied CNAME is invalid."
    if ipv4(cname):
        return "CNAMEs can not point to an IPv4 address"
    return None


def _ns(get: Getter) -> str | None:
    return None if hostname(get("nsdname")) else "Supplied NS is invalid."


def _mx(get: Getter) -> str | None:
    exchange = (get("exchange") or "").removesuffix(".")
    if ipv4(exchange):
        return "IP addresses are not allowable exchange values."
    if not hostname(exchange) and not hostname_label(exchange):
        return "Supplied exchange for MX record is invalid"
    preference = get("preference") or ""
    if not digits(preference):
        return "Supplied preference for MX record is invalid."
    if int(preference) > 65535:  # RFC 974: an unsigned 16-bit number
        return "Supplied preference for MX record is out of range."
    return None


def _ptr(get: Getter) -> str | None:
    ptrdname = get("ptrdname")
    if not hostname_label(ptrdname) and not hostname(ptrdname):
        return "Supplied ptrdname is invalid."
    return None


def _srv(get: Getter) -> str | None:
    target = get("target")
    if not hostname(target) and not hostname_label(target):
        return "Supplied target for SRV record is invalid"
    if ipv4(target):
        return "Supplied target can not point to an IPv4 address"
    # Compared as Perl compares numbers: a value that is no number reads as 0 and passes.
    for field in ("port", "weight", "priority"):
        if not 0 <= perl_number(get(field)) <= 65535:
            return f"Supplied {field} for SRV record is out of range."
    return None


def _txt(get: Getter) -> str | None:
    return "No value supplied for TXT record." if get("txtdata") is None else None


def _caa(get: Getter) -> str | None:
    flag = get("flag")
    if flag not in ("0", "128"):
        return "Supplied “flag” value for CAA record is invalid"
    tag = get("tag")
    if tag is None or _CAA_TAG.fullmatch(tag) is None:
        return "Supplied “tag” value for CAA record is invalid"
    if flag == "128" and tag not in ("issue", "issuewild", "iodef"):
        return "Supplied “tag” value for CAA record is invalid"
    value = get("value") or ""
    if tag in ("issue", "issuewild"):
        valid = value == ";" or hostname(value)
    elif tag == "iodef" and value.startswith("mailto:"):
        valid = _email(value.removeprefix("mailto:"))
    elif tag == "iodef":
        valid = _web_uri(value)
    else:
        valid = re.search(r"[^ \t]", value) is not None and "\n" not in value
    return None if valid else f"Supplied “{tag}” value for CAA record is invalid"


def _email(address: str) -> bool:
    """An iodef `mailto:` address, as Cpanel::Validate::EmailRFC::is_valid reads it in outline
    (choice: its local-part rules are not ported; a local part of printable ASCII without
    blanks or `@`, at a host name)."""
    local, at, domain = address.partition("@")
    return bool(at and local and re.fullmatch(r"[!-~]+", local) and "@" not in local) and (
        hostname(domain)
    )


def _web_uri(value: str) -> bool:
    """An iodef URL, as Data::Validate::URI::is_web_uri reads it in outline (choice: http or
    https, a host name or address, no blanks)."""
    if re.search(r"\s", value):
        return False
    try:
        parts = urlsplit(value)
        host = parts.hostname
        _ = parts.port  # a port that is no number raises
    except ValueError:
        return False
    if parts.scheme.lower() not in ("http", "https") or not host:
        return False
    return hostname(host) or ipv4(host) or ipv6(host) or hostname_label(host)


_BY_TYPE: dict[str, Callable[[Getter], str | None]] = {
    "A": _a,
    "AAAA": _aaaa,
    "CNAME": _cname,
    "NS": _ns,
    "MX": _mx,
    "PTR": _ptr,
    "SRV": _srv,
    "TXT": _txt,
    "CAA": _caa,
}


def sanitize(record_type: str, get: Getter) -> None:
    """Whostmgr::DNS::sanitize_record on a record of `record_type` whose fields `get` gives as
    cPanel's record hash holds them (None: not in the hash): refused with `Invalid DNS
    record: ` and cPanel's reason; a type cPanel has no check for passes."""
    check = _BY_TYPE.get(record_type)
    if check is None:
        return
    issues = _base_issues(get)
    why = " ".join(issues) if issues else check(get)
    if why is not None:
        raise InvalidParameter(INVALID + why)


# -- Cpanel::ZoneFile::LineEdit (mass edits) ------------------------------------------------------


def line_edit_name(zone: str, dname: str) -> None:
    """A mass edit's owner as Cpanel::ZoneFile::LineEdit::Backend::_validate_name takes it:
    `dname`, or `dname.<zone>.` when it has no final dot. (cPanel's test is "intentionally
    very permissive"; gatehouse's own label rules follow it.) `@` is no label to cPanel:
    `@.example.com.` is refused."""
    full = dname if dname.endswith(".") else f"{dname}.{zone}."
    if re.search(r".\*|\*[^.]", full):
        raise InvalidParameter(f"Contains a malformed wildcard name: {full}")
    if not re.fullmatch(r"(\*\.)?([a-zA-Z0-9_-]+\.)*[a-zA-Z0-9_-]+\.?", full):
        raise InvalidParameter(f"Contains a malformed DNS label: {full}")


def line_edit_ttl(ttl: object) -> None:
    """A mass edit's TTL as Cpanel::ZoneFile::LineEdit::Backend::build_line takes it: digits
    only (`tr<0-9><>c`), in its words; the value shown as Perl would show it."""
    if isinstance(ttl, bool):
        return  # not what Perl would read: gatehouse's own check refuses it
    shown = str(int(ttl)) if isinstance(ttl, float) and ttl.is_integer() else str(ttl)
    if not digits(shown):
        raise InvalidParameter(
            f"Time-To-Live (TTL) values must be positive integers, not “{shown}”."
        )
