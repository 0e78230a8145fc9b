"""Numbers as cPanel's Perl reads a caller's text: ASCII digits only.

`str.isdigit()` also takes "²" and "①", which `int()` then refuses (a 500), and "١٢٠", which
it reads as 120; cPanel's regular expressions match the bytes 0-9 alone. Every check of a
caller's (or a stored) number asks `digits`."""

from __future__ import annotations

import math
import re

# Perl's numeric reading of a string: leading blanks, a sign, digits with a fraction, an
# exponent; anything else reads as 0.
_PERL_NUMBER = re.compile(r"\s*([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)")


def digits(text: str) -> bool:
    """Whether `text` is one or more ASCII digits and nothing else."""
    return text.isascii() and text.isdigit()


def perl_number(text: str | None) -> float:
    """A string as Perl reads it in a numeric comparison (`$x > 65535`): its leading number,
    0 when it starts with none (undef too); an overflow is infinite, as Perl's."""
    match = _PERL_NUMBER.match(text or "")
    return float(match.group(1)) if match is not None else 0.0


def perl_abs_int(text: str) -> int:
    """Perl's `abs int $x` of a string: its leading number's whole part without its sign (a
    line `13=192.0.2.1`, as cPanel's own Dynamic DNS script sends it, is 13), 0 when it
    starts with no number."""
    number = perl_number(text)
    if math.isnan(number) or math.isinf(number):
        return 0
    return abs(int(number))
