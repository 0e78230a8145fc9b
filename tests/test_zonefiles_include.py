"""The include's text kept between syncs (dns/zonefiles.py `IncludeLines`): after any sequence
of zones added and removed it is byte for byte what rendering every line afresh gives, sorted
as before, and the file written by a sync is that text (docs/zonefiles.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gatehouse.dns import zonefiles

DIRECTORY = Path('/var/named/gate"house')  # a quote in the path: escaped in every line


def _reference(directory: Path, names: set[str]) -> str:
    """The include as it was rendered before the lines were kept: every line, sorted."""
    prefix = str(directory).replace("\\", "\\\\").replace('"', '\\"') + "/"
    lines = [
        "// Written by gatehouse: one statement per zone in its store (docs/zonefiles.md).",
        "// Rewritten whenever a zone is added or removed: do not edit.",
    ]
    for name in sorted(names):
        lines.append(f'zone "{name}" {{ type master; file "{prefix}{name}.db"; }};')
    return "\n".join(lines) + "\n"


_names = st.sets(st.from_regex(r"[a-z0-9-]{1,8}\.(com|net|org)", fullmatch=True), max_size=40)


@settings(max_examples=60, deadline=None)
@given(steps=st.lists(_names, min_size=1, max_size=8), rebuild=st.sampled_from([0, 3, 1_000]))
def test_kept_lines_are_what_rendering_afresh_gives(steps: list[set[str]], rebuild: int) -> None:
    kept = zonefiles.IncludeLines(DIRECTORY)
    kept._REBUILD = rebuild  # both ways: spliced, and rendered again past the threshold
    for names in steps:
        assert kept.text(frozenset(names)) == _reference(DIRECTORY, names)


@pytest.mark.parametrize("names", [set(), {"a.com"}, {"b.net", "a.com", "a-b.org"}])
def test_include_text_is_the_reference(names: set[str]) -> None:
    assert zonefiles.include_text(DIRECTORY, names) == _reference(DIRECTORY, names)
