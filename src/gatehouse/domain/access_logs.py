"""Bytes served per domain and month, totalled from a web server's access log — what
`gatehouse bandwidth import` reports to gatehouse (domain/bandwidth.py).

Understood formats, one request a line:

* Apache's `vhost_combined` (`%v:%p %h %l %u %t "%r" %>s %O …`) and any log whose lines start
  with the virtual host (nginx `$host $remote_addr - $remote_user [$time_local] "$request"
  $status $body_bytes_sent …`): the domain is the first field, without its port;
* the Common and Combined Log Formats (`%h %l %u %t "%r" %>s %b …`), for a log of one domain
  (cPanel's `domlogs/DOMAIN`): the domain is given by the caller.

The bytes are the field after the status (`-` is 0); the month is the request's, in UTC.
Lines in no known format are counted, not fatal.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

_LINE_RE = re.compile(
    r"^(?:(?P<vhost>\S+) )?\S+ \S+ \S+ \[(?P<time>[^\]]+)\] "
    r'"(?:[^"\\]|\\.)*" (?P<status>\d{3}) (?P<bytes>\d+|-)(?: |$)'
)
_TIME_FORMAT = "%d/%b/%Y:%H:%M:%S %z"


@dataclass
class Totals:
    """Bytes per (domain, year, month), and the lines that could not be used."""

    bytes: dict[tuple[str, int, int], int] = field(default_factory=dict)
    lines: int = 0
    unreadable: int = 0  # in no known format
    without_domain: int = 0  # a common-format line, and no domain given


def _domain(vhost: str) -> str:
    host = vhost.strip().lower()
    if host.startswith("["):  # [2001:db8::1]:443
        host = host[1:].partition("]")[0]
    elif host.count(":") == 1:
        host = host.partition(":")[0]
    return host.rstrip(".")


def total(lines: Iterable[str], *, domain: str | None = None, into: Totals | None = None) -> Totals:
    """Add the lines' bytes to `into` (a new Totals by default). `domain`: every line is that
    domain's (a log of one site); else each line must start with its virtual host."""
    totals = into if into is not None else Totals()
    fixed = domain.strip().lower().rstrip(".") if domain else None
    for line in lines:
        if not line.strip():
            continue
        totals.lines += 1
        match = _LINE_RE.match(line)
        if match is None:
            totals.unreadable += 1
            continue
        try:
            when = dt.datetime.strptime(match["time"], _TIME_FORMAT).astimezone(dt.UTC)
        except ValueError:
            totals.unreadable += 1
            continue
        name = fixed or (_domain(match["vhost"]) if match["vhost"] else "")
        if not name:
            totals.without_domain += 1
            continue
        size = 0 if match["bytes"] == "-" else int(match["bytes"])
        key = (name, when.year, when.month)
        totals.bytes[key] = totals.bytes.get(key, 0) + size
    return totals
