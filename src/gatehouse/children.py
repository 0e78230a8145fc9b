"""Programs gatehouse runs on the operator's behalf (account hooks, zone reload commands):
what environment they get and how they are stopped."""

from __future__ import annotations

import logging
import os
import signal
import subprocess

log = logging.getLogger("gatehouse.children")


def child_environment() -> dict[str, str]:
    """gatehouse's environment without its own settings, which include the store's URL (with
    its password) and the secret key: a program that needs settings reads its own."""
    return {k: v for k, v in os.environ.items() if not k.startswith("GATEHOUSE_")}


def kill_group(process: subprocess.Popen[bytes], what: str) -> None:
    """Kill a program started with `start_new_session=True` and everything it started, and
    reap it (`what` names it in the log, never its command line)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()
    try:
        process.communicate(timeout=5)
    except subprocess.TimeoutExpired:  # pragma: no cover - a child that ignores SIGKILL
        log.warning("%s did not exit after SIGKILL", what)
