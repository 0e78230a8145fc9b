"""The service certificate's files (domain/service_ssl.py): each certificate under names of
its own, and the sweep that removes the pairs no process serves any more
(docs/ssl.md#the-service-certificate)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gatehouse.domain import service_ssl

NOW = 1_800_000_000.0
GRACE = service_ssl.PAIR_GRACE
SERVED, WRITTEN_NOW, OLD = "a" * 64, "b" * 64, "c" * 64


def _pair(data_dir: Path, fingerprint: str, age: float) -> service_ssl.PairFiles:
    pair = service_ssl.file_paths(data_dir, fingerprint)
    pair.cert.parent.mkdir(parents=True, exist_ok=True)
    for path in (pair.cert, pair.key):
        path.write_text(fingerprint)
        os.utime(path, (NOW - age, NOW - age))
    return pair


def _file(data_dir: Path, name: str, age: float) -> Path:
    path = data_dir / "tls" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x")
    os.utime(path, (NOW - age, NOW - age))
    return path


def test_each_certificate_is_named_by_its_fingerprint(tmp_path: Path) -> None:
    a, b = service_ssl.file_paths(tmp_path, SERVED), service_ssl.file_paths(tmp_path, OLD)
    assert a.cert.name == f"service-cpanel-{'a' * 32}.crt"
    assert a.key.name == f"service-cpanel-{'a' * 32}.key"
    assert {a.cert, a.key}.isdisjoint({b.cert, b.key})


@pytest.mark.parametrize(
    ("fingerprint", "age", "removed"),
    [
        (SERVED, 10 * GRACE, False),  # a live process serves it, however old
        (WRITTEN_NOW, GRACE / 2, False),  # just written: its writer may be about to serve it
        (OLD, GRACE + 1, True),  # nobody serves it, nobody wrote it lately
    ],
)
def test_the_sweep_removes_only_unserved_old_pairs(
    tmp_path: Path, fingerprint: str, age: float, removed: bool
) -> None:
    pair = _pair(tmp_path, fingerprint, age)
    gone = service_ssl.sweep_files(tmp_path, {SERVED}, now=NOW)
    assert sorted(gone) == (sorted([pair.cert, pair.key]) if removed else [])
    assert pair.cert.exists() is pair.key.exists() is not removed


@pytest.mark.parametrize(
    ("name", "removed"),
    [
        ("service-cpanel.crt", True),  # the single pair of earlier versions
        ("service-cpanel.key", True),
        (".service-cpanel-abc.key.123.0a1b2c3d.tmp", True),  # a writer stopped half-way
        ("cert.pem", False),  # the self-signed pair
        ("key.pem", False),
        ("service-dovecot-abc.crt", False),  # another service's
    ],
)
def test_the_sweep_touches_only_the_service_certificate_files(
    tmp_path: Path, name: str, removed: bool
) -> None:
    path = _file(tmp_path, name, 10 * GRACE)
    service_ssl.sweep_files(tmp_path, set(), now=NOW)
    assert path.exists() is not removed


def test_the_sweep_of_a_data_dir_without_tls_files_does_nothing(tmp_path: Path) -> None:
    assert service_ssl.sweep_files(tmp_path, set(), now=NOW) == []
