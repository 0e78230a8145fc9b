"""wrk in the background: started like every other wrk run (pinned to the load core, headers
from a 0600 Lua script), left running while the harness measures something else, then stopped
with SIGINT — on which wrk ends its run early and prints its statistics as usual."""

from __future__ import annotations

import shutil
import signal
import subprocess
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from bench import wrk
from bench.tools import Pinning


@dataclass
class Background:
    process: subprocess.Popen[bytes]
    output: Path

    def stop(self) -> wrk.WrkResult:
        """End the run now and return what wrk measured until then."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise RuntimeError("wrk did not stop on SIGINT") from None
        text = self.output.read_text()
        if self.process.returncode != 0:
            raise RuntimeError(f"wrk failed ({self.process.returncode}): {text}")
        return wrk.parse(text)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def start(
    stack: ExitStack,
    wrk_path: str,
    url: str,
    authorization: str | None,
    load: wrk.Load,
    pinning: Pinning,
    max_seconds: float,
) -> Background:
    """wrk on `url` for at most `max_seconds` (a bound, not the plan: `stop()` ends it).
    Killed, and its files removed, when `stack` closes."""
    directory = Path(tempfile.mkdtemp(prefix="gatehouse-bench-wrk-"))
    stack.callback(shutil.rmtree, directory, ignore_errors=True)
    script = directory / "request.lua"
    script.touch(mode=0o600)
    script.write_text(wrk._lua(authorization))
    output = directory / "output.txt"
    command = wrk.command_line(wrk_path, url, script, load, pinning, f"{max_seconds:.0f}s")
    with open(output, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    running = Background(process, output)
    stack.callback(running.kill)
    return running
