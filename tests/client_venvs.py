"""Real clients that nobody here wrote, from PyPI, pinned, each in a virtualenv of its own under
`<repo>/.cache/<name>-venv`: made once, then reused while its marker and the versions it really
holds match the pins. Test workers running at the same time take turns through a lock file.

Where PyPI cannot be reached, `ensure` raises `Unavailable`; a test turns that into a skip, or
a failure when CI=true (`unavailable`).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
CACHE_DIR = REPO_ROOT / ".cache"
PIP_TIMEOUT = 600  # seconds for the whole `pip install` (first run only)
DRIVER_TIMEOUT = 120  # seconds for one run of a test's driver script
REDACTED = "<redacted>"


class Unavailable(Exception):
    """A tool a test needs cannot be had here; the message says which and why."""


def unavailable(exc: Unavailable) -> None:
    """Skip the test, or fail it under CI=true (where every real client must run)."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI needs it: {exc}")
    pytest.skip(str(exc))


def ready(ensure: Callable[[], Path]) -> Path:
    """`ensure()` for a fixture: what it made, or the test skipped (failed under CI=true)."""
    try:
        return ensure()
    except Unavailable as exc:
        unavailable(exc)
        raise


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


def run_driver(
    python: Path,
    driver: str,
    args: Iterable[str],
    secrets: Mapping[str, str],
    known: Iterable[str] = (),
) -> Any:
    """Run a test's driver script in a client's venv and return the JSON it printed. Secrets
    reach it through the environment (never argv), and a failure's report shows its stderr
    with them, and the `known` ones, redacted."""
    done = subprocess.run(
        [str(python), "-c", driver, *args],
        env={**os.environ, **secrets, "NO_PROXY": "*", "no_proxy": "*"},
        capture_output=True,
        text=True,
        timeout=DRIVER_TIMEOUT,
        check=False,
    )
    # Compared apart from the CompletedProcess, whose repr a failure would print.
    status, stdout, stderr = done.returncode, done.stdout, done.stderr
    assert status == 0, redact(stderr[-3000:], [*secrets.values(), *known])
    return json.loads(stdout)


def install_once(
    name: str,
    marker: Path,
    pins: Mapping[str, str],
    installed: Callable[[], Mapping[str, str] | None],
    install: Callable[[], None],
) -> None:
    """Install `pins` with `install` unless `marker` records them and `installed` still finds
    them; test workers running at the same time take turns through `<name>.lock`."""
    CACHE_DIR.mkdir(exist_ok=True)
    with open(CACHE_DIR / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        try:
            recorded = json.loads(marker.read_text())
        except (OSError, ValueError):
            recorded = None
        if recorded == dict(pins) and installed() == dict(pins):
            return
        install()
        found = installed()
        if found != dict(pins):
            raise AssertionError(f"{name} holds {found}, not {dict(pins)}")
        marker.write_text(json.dumps(dict(pins)))


@dataclass(frozen=True)
class PinnedVenv:
    name: str  # the venv is `.cache/<name>-venv`
    pins: dict[str, str]  # distribution → exact version
    probe: str  # a module that must import once installed

    @property
    def directory(self) -> Path:
        return CACHE_DIR / f"{self.name}-venv"

    @property
    def python(self) -> Path:
        return self.directory / "bin" / "python"

    def script(self, name: str) -> Path:
        """An installed console script of the venv."""
        return self.directory / "bin" / name

    @property
    def _marker(self) -> Path:
        return self.directory / ".gatehouse-pins.json"

    def installed(self) -> dict[str, str] | None:
        """The versions the venv really holds, or None when it is missing or broken."""
        if not self.python.exists():
            return None
        probe = (
            f"import json, importlib.metadata as m, {self.probe};"
            f"print(json.dumps({{n: m.version(n) for n in {sorted(self.pins)!r}}}))"
        )
        try:
            out = subprocess.run(
                [str(self.python), "-c", probe],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        if out.returncode != 0:
            return None
        try:
            versions: dict[str, str] = json.loads(out.stdout)
        except ValueError:
            return None
        return versions

    def ready(self) -> Path:
        """`ensure` for a fixture: the venv's python, or the test skipped (failed in CI)."""
        return ready(self.ensure)

    def ensure(self) -> Path:
        """The venv's python, the venv made first if it is missing or holds other versions."""
        install_once(f"{self.name}-venv", self._marker, self.pins, self.installed, self._make)
        return self.python

    def _make(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)
        made = subprocess.run(
            [sys.executable, "-m", "venv", str(self.directory)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if made.returncode != 0:
            raise Unavailable(f"python -m venv failed: {made.stderr.strip()[-2000:]}")
        self._install()

    def _install(self) -> None:
        wanted = [f"{name}=={version}" for name, version in self.pins.items()]
        try:
            pip = subprocess.run(
                [
                    str(self.python),
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "--no-input",
                    "--timeout",
                    "30",
                    *wanted,
                ],
                capture_output=True,
                text=True,
                timeout=PIP_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            shutil.rmtree(self.directory, ignore_errors=True)
            raise Unavailable(f"pip install of {self.name} took over {PIP_TIMEOUT} s") from None
        if pip.returncode != 0:
            shutil.rmtree(self.directory, ignore_errors=True)
            raise Unavailable(
                f"pip install of {' '.join(wanted)} from PyPI failed (no network?): "
                + (pip.stderr or pip.stdout).strip()[-2000:]
            )
