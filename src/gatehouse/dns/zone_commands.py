"""The operator's reload and reconfig commands for an external nameserver, run on a worker
thread of their own after the zone files are in place (docs/zonefiles.md)."""

from __future__ import annotations

import logging
import os
import shlex
import subprocess
import threading
from collections.abc import Mapping
from pathlib import Path

from gatehouse.children import child_environment, kill_group

# The zone files' logger: these lines belong to publishing them.
log = logging.getLogger("gatehouse.dns.zonefiles")


class CommandRunner:
    """Runs the reload command per zone and the reconfig command, on one thread of its own,
    in the order they were asked for; a zone asked for twice before its turn is reloaded
    once. Failures are logged (program name, zone, exit status, output), never raised: the
    change they follow is committed already."""

    def __init__(
        self,
        directory: Path,
        *,
        reload_command: str | None,
        reconfig_command: str | None,
        timeout: float,
    ) -> None:
        self.directory = directory
        self.reload_command = reload_command or None
        self.reconfig_command = reconfig_command or None
        self.timeout = timeout
        self._cond = threading.Condition()
        self._reconfig = False
        self._reloads: dict[str, Path] = {}  # insertion-ordered: the queue
        self._busy = False
        self._closed = False
        self._thread: threading.Thread | None = None
        self.failures = 0  # how many commands failed, for `gatehouse zones write`

    def enqueue(self, *, reconfig: bool, zones: Mapping[str, Path]) -> None:
        reconfig = reconfig and self.reconfig_command is not None
        if self.reload_command is None:
            zones = {}
        if not (reconfig or zones):
            return
        with self._cond:
            if self._closed:
                return
            self._reconfig = self._reconfig or reconfig
            self._reloads.update(zones)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._work, name="gatehouse-zone-commands", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until every queued command has run; False if `timeout` passed first."""
        with self._cond:
            return self._cond.wait_for(
                lambda: not (self._busy or self._reconfig or self._reloads), timeout
            )

    def close(self) -> None:
        # Bounded: each command is, but a long queue behind a hung nameserver must not keep
        # the process from exiting.
        if not self.wait(timeout=max(30.0, 3 * self.timeout)):
            with self._cond:
                left = sorted(self._reloads)
            log.warning("stopped before the zone commands finished; not reloaded: %s", left)
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def _work(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._closed or self._reconfig or bool(self._reloads))
                if self._closed:
                    return
                reconfig, self._reconfig = self._reconfig, False
                reloads, self._reloads = self._reloads, {}
                self._busy = True
            try:
                if reconfig and self.reconfig_command:
                    self._run(self.reconfig_command, "reconfig", None, None)
                for zone, path in reloads.items():
                    # Removed meanwhile: the reconfig that follows a removal is what counts.
                    if self.reload_command and path.exists():
                        self._run(self.reload_command, "reload", zone, path)
            except Exception:  # never let the thread die: later changes need it
                log.exception("the zone command thread failed")
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _run(self, command: str, what: str, zone: str | None, path: Path | None) -> bool:
        try:
            argv = shlex.split(command)
        except ValueError as exc:
            self._failed(f"the zone {what} command cannot be split into words: {exc}")
            return False
        if not argv:
            return True
        if zone is not None and path is not None:
            argv = [a.replace("{zone}", zone).replace("{file}", str(path)) for a in argv]
        program = os.path.basename(argv[0])
        subject = f" for {zone}" if zone else ""
        try:
            # No shell; a session of its own, so a timeout kills what the command started too.
            process = subprocess.Popen(  # noqa: S603 - the operator's command, split, no shell
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                cwd=self.directory,
                env=child_environment(),
                start_new_session=True,
            )
        except OSError as exc:
            self._failed(f"zone {what} command ({program}){subject} could not run: {exc.strerror}")
            return False
        try:
            output, _ = process.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            kill_group(process, "a zone command")
            self._failed(
                f"zone {what} command ({program}){subject} did not finish within "
                f"{self.timeout:g} seconds and was killed"
            )
            return False
        if process.returncode != 0:
            text = " | ".join(output.decode("utf-8", "replace").split("\n")).strip(" |")
            self._failed(
                f"zone {what} command ({program}){subject} exited with status "
                f"{process.returncode}: {text[:500] or '(no output)'}"
            )
            return False
        log.info("zone %s command (%s)%s ran", what, program, subject)
        return True

    def _failed(self, message: str) -> None:
        # The command line itself is never logged: an operator may put a key in it.
        log.warning("%s", message)
        with self._cond:
            self.failures += 1
