"""Real ACME peers for tests/test_acme_certbot.py: certbot with the certbot-dns-cpanel plugin
(from PyPI, pinned, in a venv of their own) and Pebble (Debian's `pebble`, an ACME test CA)
with a test CA made by `openssl`.

Nothing here is a stand-in: certbot talks ACME to Pebble and API 2 `ZoneEdit` to gatehouse's
cPanel face; Pebble checks the DNS-01 challenges by asking the nameserver it is given
(`-dnsserver`). Every wait is bounded and every listener is on 127.0.0.1.

A piece that cannot be had (no `pebble`, no `openssl`, no PyPI) raises `Unavailable`; the test
turns that into a skip, or a failure when CI=true.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from client_venvs import PinnedVenv
from client_venvs import Unavailable as Unavailable  # the ACME tests catch it from here
from client_venvs import redact as redact

# The exact versions the test runs (the plugin pins nothing of certbot's; acme moves on its own).
CERTBOT = PinnedVenv(
    "certbot",
    {"certbot": "5.8.0", "acme": "5.9.0", "certbot-dns-cpanel": "0.4.0"},
    probe="certbot_dns_cpanel.dns_cpanel",
)
CERTBOT_TIMEOUT = 180  # seconds for one certbot run
PEBBLE_START_TIMEOUT = 20  # seconds until Pebble's directory answers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def closed_udp_port() -> int:
    """A loopback UDP port nobody listens on (a DNS server that does not answer)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- certbot and the plugin, in a venv of their own -------------------------------------------


def certbot_venv() -> Path:
    """The `certbot` executable of `<repo>/.cache/certbot-venv` (tests/client_venvs.py)."""
    CERTBOT.ensure()
    return CERTBOT.script("certbot")


# -- Pebble and its test CA -------------------------------------------------------------------


def _openssl(*args: str, cwd: Path) -> None:
    done = subprocess.run(
        ["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )
    if done.returncode != 0:
        raise AssertionError(f"openssl {args[0]} failed: {done.stderr}")


def make_pebble_tls(directory: Path) -> tuple[Path, Path, Path]:
    """A throw-away CA and, signed by it, a `localhost` certificate (SAN DNS:localhost,
    IP:127.0.0.1) for Pebble's HTTPS listeners. Returns (ca.pem, localhost.pem, localhost.key).
    The Debian package ships no test certificates."""
    if shutil.which("openssl") is None:
        raise Unavailable("no `openssl` command (Debian package openssl)")
    directory.mkdir(parents=True, exist_ok=True)
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    _openssl(
        "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=gatehouse test CA for Pebble",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=directory,
    )  # fmt: skip
    _openssl(
        "req", "-new", *ec, "-keyout", "localhost.key", "-out", "localhost.csr",
        "-subj", "/CN=localhost",
        cwd=directory,
    )  # fmt: skip
    (directory / "localhost.ext").write_text(
        "subjectAltName = DNS:localhost, IP:127.0.0.1\n"
        "basicConstraints = critical, CA:FALSE\n"
        "keyUsage = critical, digitalSignature\n"
        "extendedKeyUsage = serverAuth\n"
    )
    _openssl(
        "x509", "-req", "-in", "localhost.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "localhost.pem", "-days", "2", "-extfile", "localhost.ext",
        cwd=directory,
    )  # fmt: skip
    return directory / "ca.pem", directory / "localhost.pem", directory / "localhost.key"


@dataclass
class Pebble:
    """A running `pebble` and where to reach it."""

    process: subprocess.Popen[bytes]
    port: int
    management_port: int
    ca_pem: Path  # the CA of Pebble's HTTPS listeners (REQUESTS_CA_BUNDLE for certbot)
    log_path: Path
    dns_server: str

    @property
    def directory_url(self) -> str:
        return f"https://127.0.0.1:{self.port}/dir"

    def _ssl(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_pem))

    def management(self, path: str) -> str:
        """GET a page of Pebble's management interface (e.g. `/roots/0`: the root that signs
        the chain of the certificates it issues)."""
        response = httpx.get(
            f"https://127.0.0.1:{self.management_port}{path}", verify=self._ssl(), timeout=10
        )
        response.raise_for_status()
        return response.text

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def pebble_missing() -> str | None:
    if shutil.which("pebble") is None:
        return "no `pebble` command (Debian package pebble; scripts/ensure-test-tools installs it)"
    if shutil.which("openssl") is None:
        return "no `openssl` command (Debian package openssl)"
    return None


def start_pebble(
    directory: Path, dns_server: str, settings: dict[str, object] | None = None
) -> Pebble:
    """Start Pebble on free loopback ports, resolving every challenge through `dns_server`
    (host:port), and wait (bounded) until its directory answers over HTTPS. `settings` are
    more keys of its config (e.g. `externalAccountBindingRequired`, `externalAccountMACKeys`)."""
    missing = pebble_missing()
    if missing:
        raise Unavailable(missing)
    ca_pem, cert, key = make_pebble_tls(directory)
    port, management_port = free_port(), free_port()
    config = {
        "pebble": {
            "listenAddress": f"127.0.0.1:{port}",
            "managementListenAddress": f"127.0.0.1:{management_port}",
            "certificate": str(cert),
            "privateKey": str(key),
            # http-01 and tls-alpn-01 are not used (certbot asks for dns-01 only); ports nobody
            # listens on keep Pebble from ever reaching a real service.
            "httpPort": free_port(),
            "tlsPort": free_port(),
            "ocspResponderURL": "",
            "externalAccountBindingRequired": False,
            **(settings or {}),
        }
    }
    config_path = directory / "pebble-config.json"
    config_path.write_text(json.dumps(config, indent=2))
    env = {
        **os.environ,
        "PEBBLE_VA_NOSLEEP": "1",  # no random delay before validating
        "PEBBLE_AUTHZREUSE": "0",  # every order validates afresh (the renewal too)
        "PEBBLE_WFE_NONCEREJECT": "0",  # no random badNonce rejections
    }
    env.pop("PEBBLE_VA_ALWAYS_VALID", None)  # the point is real validation
    log_path = directory / "pebble.log"
    with open(log_path, "wb") as log:  # the child keeps its own descriptor
        process = subprocess.Popen(
            ["pebble", "-config", str(config_path), "-dnsserver", dns_server],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=directory,
        )
    pebble = Pebble(process, port, management_port, ca_pem, log_path, dns_server)
    context = ssl.create_default_context(cafile=str(ca_pem))
    deadline = time.monotonic() + PEBBLE_START_TIMEOUT
    while True:
        try:
            if httpx.get(pebble.directory_url, verify=context, timeout=2).status_code == 200:
                return pebble
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            pebble.stop()
            raise AssertionError(f"pebble did not start:\n{pebble.log()}")
        time.sleep(0.1)


@contextlib.contextmanager
def running_pebble(directory: Path, dns_server: str) -> Iterator[Pebble]:
    pebble = start_pebble(directory, dns_server)
    try:
        yield pebble
    finally:
        pebble.stop()


# -- running certbot --------------------------------------------------------------------------


def write_credentials(path: Path, *, url: str, username: str, token: str) -> Path:
    """The plugin's INI file, mode 0600 from the start (certbot warns about anything wider)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(f"cpanel_url = {url}\ncpanel_username = {username}\ncpanel_token = {token}\n")
    os.chmod(path, 0o600)
    return path


@dataclass
class Certbot:
    """certbot with its own config, work and logs folders under `root`."""

    executable: Path
    root: Path
    ca_bundle: Path  # trusted for HTTPS to the ACME server
    secrets: list[str] = field(default_factory=list, repr=False)  # never shown in a message

    @property
    def config_dir(self) -> Path:
        return self.root / "config"

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    def common_args(self) -> list[str]:
        cli_ini = self.root / "cli.ini"  # no /etc/letsencrypt/cli.ini or ~/.config one
        cli_ini.touch()
        return [
            "--config",
            str(cli_ini),
            "--config-dir",
            str(self.config_dir),
            "--work-dir",
            str(self.root / "work"),
            "--logs-dir",
            str(self.logs_dir),
            "--non-interactive",
        ]

    def run(self, *args: str, timeout: float = CERTBOT_TIMEOUT) -> CertbotRun:
        self.root.mkdir(parents=True, exist_ok=True)
        home = self.root / "home"
        home.mkdir(exist_ok=True)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "LANG": "C.UTF-8",
            "REQUESTS_CA_BUNDLE": str(self.ca_bundle),
        }
        command = [str(self.executable), *args, *self.common_args()]
        started = time.monotonic()
        try:
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                env=env,
                timeout=timeout,
                stdin=subprocess.DEVNULL,
                check=False,
            )
            returncode, output = done.returncode, done.stdout + done.stderr
        except subprocess.TimeoutExpired as exc:
            returncode = -1
            partial = [
                part.decode(errors="replace") if isinstance(part, bytes) else part
                for part in (exc.stdout, exc.stderr)
                if part
            ]
            output = f"certbot took over {timeout} s\n" + "".join(partial)
        return CertbotRun(
            list(args), returncode, output, time.monotonic() - started, self.logs_dir, self.secrets
        )

    def certonly(
        self, server: str, domains: Sequence[str], credentials: Path, *extra: str
    ) -> CertbotRun:
        """`certbot certonly` with the cPanel DNS plugin, as docs/certbot.md tells users."""
        return self.run(
            "certonly",
            "-a",
            "cpanel",
            "--cpanel-credentials",
            str(credentials),
            "--cpanel-propagation-seconds",
            "0",
            *(arg for domain in domains for arg in ("-d", domain)),
            "--server",
            server,
            "--agree-tos",
            "--no-eff-email",
            "-m",
            "admin@example.test",
            *extra,
        )

    def live(self, name: str) -> Path:
        return self.config_dir / "live" / name


@dataclass
class CertbotRun:
    """One certbot run. Its repr (which pytest prints for a failed assert) holds no output and
    no secret: `explain()` gives the output, redacted."""

    args: list[str]
    returncode: int
    output: str = field(repr=False)
    seconds: float
    logs_dir: Path
    secrets: list[str] = field(repr=False)

    def log_tail(self, lines: int = 80) -> str:
        try:
            text = (self.logs_dir / "letsencrypt.log").read_text(errors="replace")
        except OSError:
            return "(no letsencrypt.log)"
        return "\n".join(text.splitlines()[-lines:])

    def explain(self) -> str:
        """What went wrong, for an assertion message: output and log tail, secrets removed."""
        text = (
            f"certbot {' '.join(self.args[:1])} exited {self.returncode} after "
            f"{self.seconds:.1f} s\n--- output ---\n{self.output[-4000:]}\n"
            f"--- letsencrypt.log (tail) ---\n{self.log_tail()}"
        )
        return redact(text, self.secrets)

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def mentions(self, text: str) -> bool:
        return text in self.output
