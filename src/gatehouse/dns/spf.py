"""SPF record syntax, as cPanel checks it before installing a record: a port of the parser of
Mail::SPF (v1 records; Mail/SPF/Record.pm, Term.pm, Mech.pm, Mod.pm and the mechanism and
modifier classes, which cPanel's Cpanel::DnsUtils::MailRecords::_validate_spf_syntax runs),
with its patterns and its words, so a refusal reads as cPanel's does:

    Not a 'v=spf1' record: 'v=spf2 -all'
    Unknown mechanism type 'foo' in 'v=spf1' record
    Missing required domain-spec in 'include:'
    Invalid IPv4 prefix length encountered in 'ip4:192.0.2.0/33'
    Junk encountered in record 'v=spf1 =x'
    Duplicate global modifier 'redirect' encountered

Only the syntax: nothing is looked up. Letters and digits are ASCII here, where Perl's
\\p{IsAlpha} also takes other scripts (an SPF record is ASCII in practice).
"""

from __future__ import annotations

import re

from gatehouse.errors import InvalidParameter

VERSION_TAG = "v=spf1"
_VERSION = re.compile(r"v=spf(1)(?=\x20|\Z)(?:\x20+|\Z)", re.IGNORECASE)
_NAME = r"[A-Za-z][A-Za-z0-9\-_.]*"
_QUALIFIER = r"[+\-~?]"
_MACRO_LITERAL = r"[!-$&-~]"
_MACRO_DELIMITER = r"[.\-+,/_=]"
_MACRO_EXPAND = rf"%(?:\{{[A-Za-z]\d*r?{_MACRO_DELIMITER}*\}}|[%_-])"
_MACRO_STRING = rf"(?:{_MACRO_EXPAND}|{_MACRO_LITERAL})*"
_TOPLABEL = r"(?:[A-Za-z0-9]+-[A-Za-z0-9-]*[A-Za-z0-9]|[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*)"
_DOMAIN_END = rf"(?:\.{_TOPLABEL}\.?|{_MACRO_EXPAND})"
_DOMAIN_SPEC = re.compile(rf"{_MACRO_STRING}{_DOMAIN_END}")
_QNUM = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]\d|\d)"
_IPV4 = rf"{_QNUM}(?:\.{_QNUM}){{3}}"
_HEX = r"[0-9A-Fa-f]{1,4}"
_TWO = rf"(?:{_HEX}:{_HEX}|{_IPV4})"
_IPV6 = (
    rf"(?:(?:{_HEX}:){{6}}{_TWO}"
    rf"|(?:{_HEX}:){{1}}:(?:{_HEX}:){{4}}{_TWO}"
    rf"|(?:{_HEX}:){{1,2}}:(?:{_HEX}:){{3}}{_TWO}"
    rf"|(?:{_HEX}:){{1,3}}:(?:{_HEX}:){{2}}{_TWO}"
    rf"|(?:{_HEX}:){{1,4}}:(?:{_HEX}:){{1}}{_TWO}"
    rf"|(?:{_HEX}:){{1,5}}:{_TWO}"
    rf"|(?:{_HEX}:){{1,6}}:{_HEX}"
    rf"|(?:{_HEX}:){{1,7}}:"
    rf"|::(?:{_HEX}:){{0,6}}{_HEX}"
    rf"|::(?:{_HEX}:){{0,5}}{_TWO}"
    r"|::)"
)
_MECH_TERM = re.compile(rf"({_QUALIFIER}?({_NAME})(?=[:/\x20]|\Z)[^\x20]*)(?:\x20+|\Z)")
_MOD_TERM = re.compile(rf"(({_NAME})(?==)=[^\x20]*)(?:\x20+|\Z)")
_PREFIX = re.compile(r"/(\d+)")

MECHANISMS = ("all", "ip4", "ip6", "a", "mx", "ptr", "exists", "include")
GLOBAL_MODIFIERS = ("redirect", "exp")


class SPFSyntaxError(InvalidParameter):
    """A record Mail::SPF would refuse; `.reason` is its message."""


class _Term:
    """One mechanism or modifier being parsed: Mail::SPF's `parse_text` and `text`."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.rest = text

    def take(self, pattern: re.Pattern[str] | str) -> re.Match[str] | None:
        match = re.match(pattern, self.rest)
        if match is not None:
            self.rest = self.rest[match.end() :]
        return match

    def domain_spec(self, required: bool) -> None:
        if self.take(_DOMAIN_SPEC) is None and required:
            raise SPFSyntaxError(f"Missing required domain-spec in '{self.text}'")

    def prefix_length(self, version: int, maximum: int, required: bool) -> bool:
        match = self.take(_PREFIX)
        if match is not None:
            digits = match.group(1)
            if int(digits) > maximum or (len(digits) > 1 and digits.startswith("0")):
                raise SPFSyntaxError(
                    f"Invalid IPv{version} prefix length encountered in '{self.text}'"
                )
            return True
        if required:
            raise SPFSyntaxError(f"Missing required IPv{version} prefix length in '{self.text}'")
        return False

    def dual_prefix_lengths(self) -> None:
        self.prefix_length(4, 32, False)
        # Mail::SPF always sets an IPv4 length (the default 32), so a second slash follows.
        if self.take("/") is not None:
            self.prefix_length(6, 128, True)

    def address(self, version: int) -> None:
        pattern = _IPV4 if version == 4 else rf"{_IPV6}(?=/|\Z)"
        if self.take(pattern) is None:
            raise SPFSyntaxError(f"Missing required IPv{version} address in '{self.text}'")
        self.prefix_length(version, 32 if version == 4 else 128, False)


def _mechanism(text: str, name: str) -> None:
    term = _Term(text)
    term.take(_QUALIFIER)
    if term.take(rf"(?i:{re.escape(name)})(?::(?=.))?") is None:
        raise SPFSyntaxError(f"Unexpected mechanism name encountered in '{text}'")
    if name in ("a", "mx"):
        term.domain_spec(False)
        term.dual_prefix_lengths()
    elif name == "ptr":
        term.domain_spec(False)
    elif name in ("exists", "include"):
        term.domain_spec(True)
    elif name in ("ip4", "ip6"):
        term.address(4 if name == "ip4" else 6)
    if term.rest:
        raise SPFSyntaxError(f"Junk encountered in mechanism '{text}'")


def _modifier(text: str, name: str) -> None:
    term = _Term(text)
    if term.take(rf"{_NAME}(?==)=") is None:
        raise SPFSyntaxError(f"Unexpected modifier name encountered in '{text}'")
    if name in GLOBAL_MODIFIERS:
        term.domain_spec(True)
    elif term.take(rf"{_MACRO_STRING}\Z") is None:
        raise SPFSyntaxError(f"Invalid macro string encountered in '{text}'")
    if term.rest:
        raise SPFSyntaxError(f"Junk encountered in modifier '{text}'")


def check(record: str) -> None:
    """Raise SPFSyntaxError, with Mail::SPF's words, unless `record` is a valid v=spf1
    record."""
    version = _VERSION.match(record)
    if version is None:
        raise SPFSyntaxError(f"Not a '{VERSION_TAG}' record: '{record}'")
    rest = record[version.end() :]
    seen: set[str] = set()
    while rest:
        mech = _MECH_TERM.match(rest)
        if mech is not None:
            name = mech.group(2).lower()
            if name not in MECHANISMS:
                raise SPFSyntaxError(f"Unknown mechanism type '{name}' in '{VERSION_TAG}' record")
            _mechanism(mech.group(1), name)
            rest = rest[mech.end() :]
            continue
        mod = _MOD_TERM.match(rest)
        if mod is None:
            raise SPFSyntaxError(f"Junk encountered in record '{record}'")
        name = mod.group(2).lower()
        _modifier(mod.group(1), name)
        if name in GLOBAL_MODIFIERS:
            if name in seen:
                raise SPFSyntaxError(f"Duplicate global modifier '{name}' encountered")
            seen.add(name)
        rest = rest[mod.end() :]
