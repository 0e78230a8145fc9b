"""Numbers, sizes and lists as cPanel's English locale writes them for people (`numf`,
`format_bytes`, `list_and`), where clients see them: StatsBar's `count`/`max`, WHM's
`human_bwlimit`, the token functions' refusals.

cPanel's own code (Cpanel/CPAN/Locales.pm `get_formatted_decimal`, Cpanel/CPAN/Locale/
Maketext/Utils.pm `format_bytes`): a number is rounded to at most N decimals (6 by default),
loses its trailing zeros and gets thousands separators (`1,234.5`); a size counts in 1024s,
with two decimals at most, a NO-BREAK SPACE (U+00A0) before the unit, and `byte`/`bytes`
below 1 KB (`0 bytes`, `1 byte`, `1.5 KB`, `2 GB`).
"""

from __future__ import annotations

from collections.abc import Sequence

NBSP = "\u00a0"
_UNITS = ("KB", "MB", "GB", "TB", "PB", "EB", "ZB")


def numf(value: float, max_decimal_places: int = 6) -> str:
    """`$locale->numf(value, places)` in English: `1,234.5`, `0`, `-3`."""
    places = min(abs(int(max_decimal_places)), 14)
    text = f"{abs(value):.{places}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    whole, _, fraction = text.partition(".")
    grouped = f"{int(whole):,}"
    sign = "-" if value < 0 and text.strip("0.") else ""
    return sign + grouped + (f".{fraction}" if fraction else "")


def format_bytes(size: float, max_decimal_places: int = 2) -> str:
    """`$locale->format_bytes(size)`: `0 bytes`, `1 byte`, `1.5 KB`, `1,000 MB`, `2 GB`."""
    absolute = abs(size)
    if absolute < 1024:
        word = "byte" if absolute == 1 else "bytes"
        return f"{numf(size, max_decimal_places)}{NBSP}{word}"
    scale = 1024
    for unit in _UNITS:
        if absolute < scale * 1024:
            return f"{numf(size / scale, max_decimal_places)}{NBSP}{unit}"
        scale *= 1024
    return f"{numf(size / scale, max_decimal_places)}{NBSP}YB"


def list_and(items: Sequence[str]) -> str:
    """`[list_and,_1]` in English (Cpanel/CPAN/Locales.pm `get_list_and` with the `en` list
    patterns, quoting off): `a`, `a and b`, `a, b, and c`. An empty list gives ``."""
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + f", and {items[-1]}"
