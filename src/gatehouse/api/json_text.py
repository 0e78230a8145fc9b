"""JSON text read for its brackets alone, before (or instead of) a parser: the `[`, `{`, `]`
and `}` outside strings, in order. The callers bound how deep a caller's JSON nests before the
recursive parser meets it, and say which bracket an error stands in, as JSON::XS's message
does."""

from __future__ import annotations

from collections.abc import Iterator


def brackets(text: str) -> Iterator[str]:
    """The structural brackets of `text`, in order (string contents and escapes skipped)."""
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{]}":
            yield char


def deeper_than(text: str, most: int) -> bool:
    """Whether `text` opens more than `most` brackets at once."""
    depth = 0
    for char in brackets(text):
        depth += 1 if char in "[{" else -1
        if depth > most:
            return True
    return False


def innermost_opener(text: str) -> str | None:
    """The bracket still open at the end of `text` (`[` or `{`), or None."""
    open_: list[str] = []
    for char in brackets(text):
        if char in "[{":
            open_.append(char)
        elif open_:
            open_.pop()
    return open_[-1] if open_ else None
