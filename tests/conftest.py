"""The test harness: a real gatehouse server (a subprocess) on loopback, over real HTTP, on a
real store. Every test that uses `server` runs once per backend: SQLite, and PostgreSQL when
GATEHOUSE_TEST_POSTGRES_URL names a server where the test role may create databases."""

from __future__ import annotations

import contextlib
import os
import random
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from gatehouse.passwords import generate_password

BIN = Path(sys.executable).parent / "gatehouse"
_ROOT_TOKEN_LOCK = threading.Lock()
POSTGRES_URL = os.environ.get("GATEHOUSE_TEST_POSTGRES_URL", "")

# The suite's servers and CLI runs hash passwords with the cheaper of gatehouse's two real
# Argon2id profiles (`owasp`, ~25 ms of CPU a hash against the default's ~160): thousands of
# accounts are made and logged into, and the default's cost made up over a third of the time of
# the tests that make them. The default profile is served and checked end to end by
# tests/test_password_hashing.py. A GATEHOUSE_PASSWORD_HASHING of the caller's own wins.
os.environ.setdefault("GATEHOUSE_PASSWORD_HASHING", "owasp")
# Hundreds of gatehouse processes start in a run (servers, CLI commands): let them keep their
# compiled bytecode (src/**/__pycache__, git-ignored) rather than compile every module afresh,
# ~0.3 s of CPU each, where the environment says not to write it.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        choices=["sqlite", "postgresql", "all"],
        default=None,
        help="Store(s) to run against (default: all when GATEHOUSE_TEST_POSTGRES_URL is set).",
    )


def _backends(config: pytest.Config) -> list[str]:
    chosen = config.getoption("--backend")
    if chosen is None:
        chosen = "all" if POSTGRES_URL else "sqlite"
    if chosen == "all":
        return ["sqlite", "postgresql"]
    return [chosen]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", _backends(metafunc.config), scope="session")


def pytest_report_header(config: pytest.Config) -> str:
    return f"gatehouse backends: {', '.join(_backends(config))}"


def _port_range() -> range | None:
    """This xdist worker's own ports, below Linux's ephemeral range (32768+), or None.

    gatehouse binds its ports with SO_REUSEPORT (its workers share them), so a port that two
    test servers of two workers happen to pick is not refused to the second: the kernel
    splits the connections between both, and a request lands on the other server (seen in
    CI: a plain-HTTP request answered by another server's TLS port). Disjoint ranges per
    worker, handed out in turn, rule that out."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0
    if index >= 4:
        return None
    return range(20_000 + 3_000 * index, 23_000 + 3_000 * index)


_PORTS = _port_range()
# Where this run starts in its range: at random, so two runs on one machine (two checkouts'
# suites, each worker gw0 of its own) do not walk the same ports in step — with
# SO_REUSEPORT their servers would share a port that both found free at the same moment.
_next_port = [random.randrange(len(_PORTS)) if _PORTS is not None else 0]
_port_lock = threading.Lock()


def free_port() -> int:
    """A loopback TCP port nothing listens on or holds now, from this worker's range."""
    if _PORTS is not None:
        with _port_lock:
            for _ in range(len(_PORTS)):
                port = _PORTS[_next_port[0] % len(_PORTS)]
                _next_port[0] += 1
                with socket.socket() as s:
                    try:
                        s.bind(("127.0.0.1", port))  # no SO_REUSE*: any holder refuses it
                    except OSError:
                        continue
                return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_dns_port() -> int:
    """A loopback port free for both TCP and UDP (the nameserver takes both)."""
    for _ in range(50):
        port = free_port()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            try:
                udp.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no port free for both TCP and UDP")


def run_cli(
    *args: str, data_dir: Path, db_url: str, stdin: str | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GATEHOUSE_DATA_DIR": str(data_dir), "GATEHOUSE_DATABASE_URL": db_url}
    result = subprocess.run(
        [str(BIN), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"gatehouse {args[0]} failed: {result.stdout}\n{result.stderr}")
    return result


@dataclass
class Database:
    url: str
    backend: str
    drop: Any = None


@pytest.fixture(scope="session")
def database(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "gatehouse.db"
        yield Database(f"sqlite:///{path}", backend)
        return
    import psycopg
    from sqlalchemy.engine import make_url

    if not POSTGRES_URL:
        pytest.skip("GATEHOUSE_TEST_POSTGRES_URL is not set")
    name = f"gh_test_{uuid.uuid4().hex[:12]}"
    admin = make_url(POSTGRES_URL)
    with psycopg.connect(
        POSTGRES_URL.replace("postgresql+psycopg", "postgresql"), autocommit=True
    ) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = admin.set(database=name).render_as_string(hide_password=False)
    yield Database(url, backend)
    with psycopg.connect(
        POSTGRES_URL.replace("postgresql+psycopg", "postgresql"), autocommit=True
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Server:
    """A running `gatehouse serve` and the ways tests talk to it."""

    data_dir: Path
    db_url: str
    backend: str
    http_port: int
    https_port: int
    log_path: Path
    root_password: str
    process: subprocess.Popen[bytes] | None = None
    bind: str = "127.0.0.1"
    cpanel_http_port: int = 0
    cpanel_https_port: int = 0
    dns_port: int = 0  # the built-in nameserver, UDP and TCP on 127.0.0.1
    issued: list[str] = field(default_factory=list)  # every secret the tests saw
    _root_token: str | None = None

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.bind in ("127.0.0.1", "::", "0.0.0.0") else self.bind  # noqa: S104
        return f"http://{host}:{self.http_port}"

    @property
    def https_url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    @property
    def cpanel_url(self) -> str:
        """The cPanel face (UAPI, API 2) over plain HTTP."""
        return f"http://127.0.0.1:{self.cpanel_http_port}"

    @property
    def cpanel_https_url(self) -> str:
        return f"https://127.0.0.1:{self.cpanel_https_port}"

    def cli(
        self, *args: str, stdin: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return run_cli(*args, data_dir=self.data_dir, db_url=self.db_url, stdin=stdin, check=check)

    def remember(self, secret: str) -> str:
        self.issued.append(secret)
        return secret

    @property
    def root_token(self) -> str:
        """A full-access root token, made once through the CLI."""
        with _ROOT_TOKEN_LOCK:
            return self._make_root_token()

    def _make_root_token(self) -> str:
        if self._root_token is None:
            import json

            out = self.cli(
                "whmapi1", "api_token_create", "token_name=harness-root", "--output", "json"
            )
            self._root_token = self.remember(json.loads(out.stdout)["data"]["token"])
        return self._root_token

    def get(
        self,
        function: str,
        *,
        token: str | None = None,
        user: str = "root",
        auth: str | None = None,
        params: Any = None,
        api_version: str | None = "1",
        client: httpx.Client | None = None,
        **kw: Any,
    ) -> httpx.Response:
        """GET /json-api/FUNCTION with `whm USER:TOKEN` (root's harness token by default)."""
        headers = dict(kw.pop("headers", {}) or {})
        if auth is not None:
            headers["Authorization"] = auth
        elif "Authorization" not in headers:
            headers["Authorization"] = f"whm {user}:{token or self.root_token}"
        query: list[tuple[str, Any]] = []  # httpx's query pairs (its value type is a union)
        if api_version is not None:
            query.append(("api.version", api_version))
        if isinstance(params, dict):
            query.extend((k, str(v)) for k, v in params.items())
        elif params:
            query.extend(params)
        http = client or httpx
        return http.get(
            f"{self.url}/json-api/{function}", params=query, headers=headers, timeout=30, **kw
        )

    def ok(self, function: str, **kw: Any) -> Any:
        """Call and insist on success; returns the envelope's `data`."""
        response = self.get(function, **kw)
        body = response.json()
        assert response.status_code == 200, response.text
        assert body["metadata"]["result"] == 1, body["metadata"]["reason"]
        return body.get("data")

    def fail(self, function: str, **kw: Any) -> str:
        """Call and insist on a result-0 envelope on HTTP 200; returns the reason."""
        response = self.get(function, **kw)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["metadata"]["result"] == 0, body
        return str(body["metadata"]["reason"])

    def token(
        self, name: str | None = None, *, user: str = "root", via: str | None = None, **params: Any
    ) -> str:
        """Create a token (as `user`, authenticating with `via`) and return its secret."""
        query = [("token_name", name or f"t-{uuid.uuid4().hex[:10]}")]
        for key, value in params.items():
            values = value if isinstance(value, list | tuple) else [value]
            for i, v in enumerate(values):
                query.append((f"{key}-{i}" if isinstance(value, list | tuple) else key, str(v)))
        data = self.ok("api_token_create", user=user, token=via, params=query)
        return self.remember(data["token"])

    def account(
        self, *, reseller: bool = False, owner: str | None = None, password: str | None = None
    ) -> tuple[str, str]:
        """A new cPanel account (optionally made a reseller); returns (username, password)."""
        username = "u" + uuid.uuid4().hex[:10]
        password = password or generate_password()
        params = {"username": username, "domain": f"{username}.example.com", "password": password}
        if owner:
            params["owner"] = owner
        self.ok("createacct", params=params)
        self.remember(password)
        if reseller:
            self.ok("setupreseller", params={"user": username})
        return username, password

    def reseller(self, privileges: list[str] | None = None) -> tuple[str, str]:
        """A reseller holding exactly `privileges` (default: cPanel's defaults) and a
        full-access token of its own."""
        username, password = self.account(reseller=True)
        # Mint the token while the reseller still holds cPanel's defaults (which include
        # manage-api-tokens); a full-access token then follows the privileges set below.
        token = self.token(user=username, via=self._password_token(username, password))
        if privileges is not None:
            self.ok(
                "setacls", params=[("reseller", username)] + [(f"acl-{p}", "1") for p in privileges]
            )
        return username, token

    def _password_token(self, username: str, password: str) -> str:
        import base64

        basic = base64.b64encode(f"{username}:{password}".encode()).decode()
        response = httpx.get(
            f"{self.url}/json-api/api_token_create",
            params={"api.version": "1", "token_name": f"boot-{uuid.uuid4().hex[:8]}"},
            headers={"Authorization": f"Basic {basic}"},
            timeout=30,
        )
        body = response.json()
        if body["metadata"]["result"] != 1:
            # The reseller may lack manage-api-tokens: mint its token as root cannot, so
            # give it the privilege for the bootstrap only.
            raise AssertionError(body)
        return self.remember(body["data"]["token"])

    def account_with_token(self) -> tuple[str, str]:
        """A new cPanel account (domain `<user>.example.com`) and a cPanel token of it."""
        user, password = self.account()
        return user, self.cpanel_token(user, password)

    def sql(self, statement: str, **params: Any) -> list[Any]:
        """Run SQL against the server's store (for checks a client cannot make)."""
        import sqlalchemy as sa

        from gatehouse.store.engine import create

        engine = create(self.db_url)
        try:
            with engine.begin() as conn:
                result = conn.execute(sa.text(statement), params)
                return list(result) if result.returns_rows else []
        finally:
            engine.dispose()

    # -- the cPanel face (tests/test_cpanel_*.py) ----------------------------------------------

    def cpanel_get(
        self,
        path: str,
        *,
        auth: str | None = None,
        params: Any = None,
        https: bool = False,
        **kw: Any,
    ) -> httpx.Response:
        """GET PATH on the cPanel face (plain HTTP unless `https`) with this Authorization."""
        headers = dict(kw.pop("headers", {}) or {})
        if auth is not None:
            headers["Authorization"] = auth
        base = self.cpanel_https_url if https else self.cpanel_url
        return httpx.get(
            f"{base}{path}", params=params, headers=headers, timeout=30, verify=self.tls(), **kw
        )

    def tls(self) -> Any:
        """An SSL context trusting the server's own (self-signed) certificate."""
        import ssl

        return ssl.create_default_context(cafile=str(self.data_dir / "tls" / "cert.pem"))

    def uapi(
        self,
        user: str,
        module: str,
        func: str,
        *,
        token: str | None = None,
        auth: str | None = None,
        **params: Any,
    ) -> httpx.Response:
        """UAPI `/execute/MODULE/FUNC` as `cpanel USER:TOKEN` (or the `auth` header given); the
        body is UAPI's flat result object (`status`, `data`, `errors`, ... at the top)."""
        header = auth if auth is not None else f"cpanel {user}:{token}"
        return self.cpanel_get(f"/execute/{module}/{func}", auth=header, params=params)

    def api2(
        self,
        user: str,
        module: str,
        func: str,
        *,
        token: str | None = None,
        auth: str | None = None,
        **params: Any,
    ) -> httpx.Response:
        """cPanel API 2 through `/json-api/cpanel` on the cPanel face."""
        header = auth if auth is not None else f"cpanel {user}:{token}"
        query = {
            "cpanel_jsonapi_apiversion": "2",
            "cpanel_jsonapi_module": module,
            "cpanel_jsonapi_func": func,
            **params,
        }
        return self.cpanel_get("/json-api/cpanel", auth=header, params=query)

    def cpanel_token(self, username: str, password: str, name: str | None = None) -> str:
        """A new cPanel token of the account, made over HTTP with its password."""
        import base64

        basic = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
        response = self.uapi(
            username,
            "Tokens",
            "create_full_access",
            auth=basic,
            name=name or f"c-{uuid.uuid4().hex[:10]}",
        )
        body = response.json()
        assert response.status_code == 200 and body["status"] == 1, body
        return self.remember(body["data"]["token"])


def start_server(
    data_dir: Path,
    db_url: str,
    backend: str,
    root_password: str,
    *,
    bind: str = "127.0.0.1",
    log_name: str = "server.log",
    env: dict[str, str] | None = None,
    ports_of: Server | None = None,
) -> Server:
    """`gatehouse serve` on free ports (or on the ports of `ports_of`, a stopped server)."""
    if ports_of is not None:
        http_port, https_port = ports_of.http_port, ports_of.https_port
        cpanel_http_port, cpanel_https_port = ports_of.cpanel_http_port, ports_of.cpanel_https_port
        dns_port = ports_of.dns_port
    else:
        http_port, https_port = free_port(), free_port()
        cpanel_http_port = free_port()
        cpanel_https_port = free_port()
        dns_port = free_dns_port()
    log_path = data_dir / log_name
    child_env = {
        **os.environ,
        "GATEHOUSE_DATA_DIR": str(data_dir),
        "GATEHOUSE_DATABASE_URL": db_url,
        # No cPHulk setting: the suite's requests come from loopback, which cPHulk never
        # blocks (local origin, as cPanel's); its tests come through a proxy (hulk_helpers).
        # One process per server, whatever the machine's cores: the suite's tests reason
        # about one process; tests/test_workers.py runs several.
        "GATEHOUSE_WORKERS": "1",
        **(env or {}),
    }
    with open(log_path, "ab") as log:  # the child keeps its own descriptor
        process = subprocess.Popen(
            [
                str(BIN),
                "serve",
                "--bind",
                bind,
                "--http-port",
                str(http_port),
                "--https-port",
                str(https_port),
                "--cpanel-http-port",
                str(cpanel_http_port),
                "--cpanel-https-port",
                str(cpanel_https_port),
                "--dns-port",
                str(dns_port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=child_env,
        )
    server = Server(
        data_dir,
        db_url,
        backend,
        http_port,
        https_port,
        log_path,
        root_password,
        process,
        bind,
        cpanel_http_port,
        cpanel_https_port,
        dns_port,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{server.url}/json-api/version", timeout=1)
            break
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start:\n{log_path.read_text()}") from None
            time.sleep(0.05)
    return server


def stop_server(server: Server) -> None:
    if server.process and server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


def postgres_engine(server: Server, database: Database, why: str) -> Iterator[sa.Engine]:
    """For a fixture: an engine on `server`'s store when it is PostgreSQL; on SQLite the test
    is skipped, saying `why`."""
    if database.backend != "postgresql":
        pytest.skip(why)
    from gatehouse.store import engine as store_engine

    created = store_engine.create(server.db_url)
    yield created
    created.dispose()


@contextlib.contextmanager
def another_node(
    server: Server,
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    env: dict[str, str] | None = None,
) -> Iterator[Server]:
    """A second `gatehouse serve` on `server`'s store (with settings of its own), sharing its
    root token; stopped on exit."""
    node = start_server(
        tmp_path_factory.mktemp(name), server.db_url, server.backend, server.root_password, env=env
    )
    node._root_token = server.root_token
    try:
        yield node
    finally:
        stop_server(node)


@pytest.fixture(scope="session")
def server(database: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("data")
    root_password = generate_password()
    run_cli(
        "init",
        "--root-password-stdin",
        data_dir=data_dir,
        db_url=database.url,
        stdin=root_password + "\n",
    )
    srv = start_server(data_dir, database.url, database.backend, root_password)
    srv.remember(root_password)
    yield srv
    stop_server(srv)


# -- a real browser for the WHM pages (tests/test_pages_*.py) ---------------------------------

CHROMIUM = os.environ.get("GATEHOUSE_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _browser_missing() -> str | None:
    """Why the page tests cannot run, or None. Playwright only drives the system Chromium
    (scripts/ensure-chromium installs it); it never downloads a browser of its own."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the `playwright` package is not installed (pip install -e '.[dev]')"
    if not os.access(CHROMIUM, os.X_OK):
        return f"no Chromium at {CHROMIUM} (scripts/ensure-chromium installs Debian's chromium)"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    missing = _browser_missing()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs the browser tests: {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) and page; 10 s for anything to appear."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()
