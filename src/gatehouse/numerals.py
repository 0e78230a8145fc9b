"""Numbers as cPanel's Perl reads a caller's text: ASCII digits only.

`str.isdigit()` also takes "²" and "①", which `int()` then refuses (a 500), and "١٢٠", which
it reads as 120; cPanel's regular expressions match the bytes 0-9 alone. Every check of a
caller's (or a stored) number asks `digits`."""

from __future__ import annotations


def digits(text: str) -> bool:
    """Whether `text` is one or more ASCII digits and nothing else."""
    return text.isascii() and text.isdigit()
