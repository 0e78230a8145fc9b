"""Operator hooks: executables run before and after account life-cycle events.

This is how a real deployment wires gatehouse to actual provisioning (system users, the web
server, mail). Layout, under the hooks directory (GATEHOUSE_HOOKS_DIR, default
<data dir>/hooks):

    <event>/before/*   run in name order before the change; a failure aborts the call
    <event>/after/*    run in name order after the change is committed; failures are logged

Each executable gets the event as JSON on stdin and has GATEHOUSE_HOOK_TIMEOUT seconds
(default 30). A "before" hook that exits non-zero or times out aborts the call, whose reason
quotes the hook's first line of output; nothing is changed.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gatehouse.children import child_environment, kill_group
from gatehouse.errors import GatehouseError

log = logging.getLogger("gatehouse.hooks")

EVENTS = ("createacct", "suspendacct", "unsuspendacct", "removeacct", "changepackage", "modifyacct")
PHASES = ("before", "after")


class HookRefused(GatehouseError):
    """A "before" hook said no (or did not answer in time)."""


@dataclass(frozen=True, slots=True)
class HookResult:
    path: Path
    ok: bool
    message: str


class Hooks:
    def __init__(self, directory: Path, timeout: float = 30.0) -> None:
        self.directory = directory
        self.timeout = timeout

    def scripts(self, event: str, phase: str) -> list[Path]:
        if event not in EVENTS or phase not in PHASES:
            raise ValueError(f"unknown hook {event}/{phase}")
        folder = self.directory / event / phase
        if not folder.is_dir():
            return []
        return sorted(
            p
            for p in folder.iterdir()
            if p.is_file() and os.access(p, os.X_OK) and not p.name.startswith(".")
        )

    def _run(self, path: Path, payload: bytes) -> HookResult:
        try:
            # A session of its own, so that a timeout kills the hook's children too (a shell
            # script's `sleep` would otherwise outlive it and keep its output pipes open).
            process = subprocess.Popen(  # noqa: S603 - operator-installed executables, no shell
                [str(path)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=str(path.parent),
                env=child_environment(),
                start_new_session=True,
            )
        except OSError as exc:
            return HookResult(path, False, f"could not be run: {exc.strerror or exc}")
        try:
            stdout, stderr = process.communicate(payload, timeout=self.timeout)
        except subprocess.TimeoutExpired:
            kill_group(process, f"hook {path.name}")
            return HookResult(path, False, f"did not finish within {self.timeout:g} seconds")
        output = (stderr or stdout).decode("utf-8", "replace").strip()
        first_line = output.splitlines()[0][:300] if output else ""
        if process.returncode != 0:
            return HookResult(path, False, first_line or f"exited with status {process.returncode}")
        return HookResult(path, True, first_line)

    def run(self, event: str, phase: str, data: Mapping[str, Any]) -> list[HookResult]:
        """Run every hook of (event, phase). A failed "before" hook raises HookRefused."""
        scripts = self.scripts(event, phase)
        if not scripts:
            return []
        payload = json.dumps(
            {"event": event, "phase": phase, **data}, sort_keys=True, default=str
        ).encode()
        results = []
        for path in scripts:
            result = self._run(path, payload)
            results.append(result)
            if result.ok:
                continue
            if phase == "before":
                raise HookRefused(
                    f"The “{event}” hook “{path.name}” refused the change: {result.message}"
                )
            log.warning("after-%s hook %s failed: %s", event, path.name, result.message)
        return results
