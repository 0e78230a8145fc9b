"""Real clients from the npm registry, pinned, each installed once under
`<repo>/.cache/<name>-npm` (`npm install --prefix`, no install scripts run) and reused while the
versions it holds match the pins; test workers take turns through a lock file. As
`client_venvs`: where node, npm or the registry cannot be had, `Unavailable` (a skip, or a
failure under CI=true, where `.ci/run` installs Debian's nodejs and npm)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from client_venvs import (
    CACHE_DIR,
    DRIVER_TIMEOUT,
    Unavailable,
    install_once,
    ready,
    redact,
)

NPM_TIMEOUT = 600  # seconds for the whole `npm install` (first run only)


@dataclass(frozen=True)
class PinnedNodePackages:
    name: str  # installed under `.cache/<name>-npm`
    pins: dict[str, str]  # package → exact version

    @property
    def directory(self) -> Path:
        return CACHE_DIR / f"{self.name}-npm"

    @property
    def _marker(self) -> Path:
        return self.directory / ".gatehouse-pins.json"

    def installed(self) -> dict[str, str] | None:
        versions = {}
        for package in self.pins:
            manifest = self.directory / "node_modules" / package / "package.json"
            try:
                versions[package] = str(json.loads(manifest.read_text())["version"])
            except (OSError, ValueError, KeyError):
                return None
        return versions

    def ready(self) -> Path:
        """`ensure` for a fixture: the install directory, or the test skipped (failed in CI)."""
        return ready(self.ensure)

    def ensure(self) -> Path:
        for tool in ("node", "npm"):
            if shutil.which(tool) is None:
                raise Unavailable(f"{tool} is not installed")
        install_once(f"{self.name}-npm", self._marker, self.pins, self.installed, self._make)
        return self.directory

    def _make(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)
        self.directory.mkdir(parents=True)
        (self.directory / "package.json").write_text('{"private": true}\n')
        self._install()

    def _install(self) -> None:
        wanted = [f"{name}@{version}" for name, version in self.pins.items()]
        command = ["npm", "install", "--prefix", str(self.directory), "--no-audit", "--no-fund",
                   "--ignore-scripts", "--save-exact", *wanted]  # fmt: skip
        try:
            npm = subprocess.run(
                command, capture_output=True, text=True, timeout=NPM_TIMEOUT, check=False
            )
        except subprocess.TimeoutExpired:
            shutil.rmtree(self.directory, ignore_errors=True)
            raise Unavailable(f"npm install of {self.name} took over {NPM_TIMEOUT} s") from None
        if npm.returncode != 0:
            shutil.rmtree(self.directory, ignore_errors=True)
            raise Unavailable(
                f"npm install of {' '.join(wanted)} failed (no network?): "
                + (npm.stderr or npm.stdout).strip()[-2000:]
            )


def run_node_driver(
    directory: Path,
    driver: str,
    args: Iterable[str],
    secrets: Mapping[str, str],
    known: Iterable[str] = (),
) -> Any:
    """Run a test's driver script with node, its packages from `directory`, and return the
    JSON it printed. Secrets reach it through the environment (never argv); a failure's report
    shows stderr with them redacted."""
    done = subprocess.run(
        ["node", "-e", driver, "--", *args],
        cwd=directory,
        env={
            **os.environ,
            **secrets,
            "NODE_PATH": str(directory / "node_modules"),
            "NO_PROXY": "*",
            "no_proxy": "*",
        },
        capture_output=True,
        text=True,
        timeout=DRIVER_TIMEOUT,
        check=False,
    )
    status, stdout, stderr = done.returncode, done.stdout, done.stderr
    assert status == 0, redact(stderr[-3000:], [*secrets.values(), *known])
    return json.loads(stdout)
