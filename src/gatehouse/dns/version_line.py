"""cPanel's version line: the comment every zone cPanel writes starts with, e.g.

    ; cPanel first:120.0.16 (update_time):1796523524 Cpanel::ZoneFile::VERSION:1.3 …

(Cpanel/ZoneFile/Versioning.pm; a real zone recorded in go-acme/lego issue 1060 begins the same
way). Clients read it: acme.sh's `dns_cpanel` finds an account's zones in API 2
`ZoneEdit::fetchzones` by a zone whose first line starts `; cPanel first`, and cPanel's DNS
cluster compares `(update_time)` to tell the newer of two copies of a zone.

A new zone starts with one (dns/template.py). Every save rewrites the first such line as
cPanel's `Cpanel::ZoneFile::LineEdit::save` does — `first` kept, the time and `latest`
renewed — and, like it, adds none to a zone that has none, so that no record moves to another
line index in an edit. Choice: the line's `hostname` is kept on a rewrite (cPanel writes its
current host name; they differ only once the server is renamed).
"""

from __future__ import annotations

import re
import socket

from gatehouse import WHM_COMPAT_VERSION

ZONEFILE_VERSION = "1.3"

# Versioning.pm's $STARTMATCH: the line, and the first word after "cPanel".
_START = re.compile(r";\s*cPanel\s*(\S+)")
_HOSTNAME = re.compile(r"\shostname:(\S+)")
# A comment line (a line that is nothing but a comment) that is one, matched at a line start.
_LINE = re.compile(r"[ \t]*(;[ \t]*cPanel[ \t]*\S+[^\n]*)")


def _display_version() -> str:
    """cPanel's Cpanel::Version::get_version_display: the version without its "11." prefix."""
    major, _, rest = WHM_COMPAT_VERSION.partition(".")
    return rest if major == "11" and rest else WHM_COMPAT_VERSION


LATEST = _display_version()


def line(*, update_time: int, hostname: str, first: str | None = None) -> str:
    """A version line, its keys in cPanel's order: `first`, then the others sorted."""
    return (
        f"; cPanel first:{first or LATEST} (update_time):{update_time} "
        f"Cpanel::ZoneFile::VERSION:{ZONEFILE_VERSION} hostname:{hostname} latest:{LATEST}"
    )


def renewed(old: str, update_time: int) -> str | None:
    """The version line that replaces `old` on a save, or None when `old` is not one."""
    match = _START.match(old)
    if match is None:
        return None
    first = _first(match.group(1))
    host = _HOSTNAME.search(old)
    return line(
        update_time=update_time,
        hostname=host.group(1) if host else socket.gethostname(),
        first=first,
    )


def _find(text: str) -> re.Match[str] | None:
    """The first version line of `text`. Found from each "cPanel" in it (a search in C): a
    regular-expression search of every line start costs ~8 ms in a 10,000-record zone."""
    at = text.find("cPanel")
    while at >= 0:
        match = _LINE.match(text, text.rfind("\n", 0, at) + 1)
        if match is not None and match.start(1) <= at:
            return match
        at = text.find("cPanel", at + 6)
    return None


def first_of(text: str) -> str | None:
    """The `first` version of the zone's version line, if it has one that names it."""
    match = _find(text)
    if match is None:
        return None
    word = _START.match(match.group(1))
    return _first(word.group(1)) if word else None


def _first(word: str) -> str | None:
    # Versioning.pm keeps only a `first:` that starts with a digit.
    return word[6:] if word.startswith("first:") and word[6:7].isdigit() else None


def renew(text: str, update_time: int) -> tuple[str, int | None]:
    """`text` with its first version line renewed, and that line's index (None: it has none,
    and `text` is returned unchanged)."""
    match = _find(text)
    if match is None:
        return text, None
    new = renewed(match.group(1), update_time)
    if new is None:  # pragma: no cover - _LINE matches only what renewed() takes
        return text, None
    return text[: match.start(1)] + new + text[match.end(1) :], text.count("\n", 0, match.start())
