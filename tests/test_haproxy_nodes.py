"""Two gatehouse nodes on one store behind a real HAProxy running deploy/haproxy.cfg (issue 19
§2): the nodes see the real client address, a revoke on one is refused through the other at
once, the show-once token page works whichever node serves each step, and when a node is
killed under load HAProxy moves the traffic and only the requests in flight fail.

Each node runs two worker processes (the default on a 2-core machine) and trusts the proxy on
127.0.0.1; both have the cluster's key (GATEHOUSE_SECRET_KEY). HAProxy balances round-robin,
request by request, so consecutive requests go to alternate nodes: the tests check in the
nodes' access logs that both served."""

from __future__ import annotations

import contextlib
import html
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from conftest import Server, start_server, stop_server
from gatehouse.domain.accesshash import KeyRing
from haproxy_helpers import running_haproxy

CLIENT = "127.0.0.5"
OTHER_CLIENT = "127.0.0.6"
CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')
TOKEN_VALUE = re.compile(r'id="token-value"[^>]*\bvalue="([^"]*)"')
VERSION = "/json-api/version?api.version=1"


@dataclass
class Cluster:
    nodes: list[Server]
    whm: str  # HAProxy's WHM front
    verify: object  # the SSL context trusting the fronts' certificate

    def client(self, source: str = CLIENT) -> httpx.Client:
        transport = httpx.HTTPTransport(local_address=source, verify=self.verify)  # type: ignore[arg-type]
        return httpx.Client(transport=transport, timeout=30, follow_redirects=False)

    def served(self, fragment: str) -> list[int]:
        """Which nodes' access logs have a line containing `fragment` (indexes)."""
        return [i for i, n in enumerate(self.nodes) if fragment in n.log_path.read_text()]


def cluster_key(server: Server) -> str:
    path = server.data_dir / "secret.key"
    if not path.exists():
        KeyRing(server.data_dir).encrypt("", "")
    return path.read_text().strip()


@pytest.fixture(scope="module")
def cluster(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    env = {
        "GATEHOUSE_TRUSTED_PROXIES": "127.0.0.1",
        "GATEHOUSE_SECRET_KEY": cluster_key(server),
        "GATEHOUSE_WORKERS": "2",
        # The tests' clients make refusals on purpose (a revoked token, another address):
        # cPHulk would rightly block them (tests/test_cphulk.py tests that).
        "GATEHOUSE_CPHULK_TRUSTED": f"127.0.0.1,::1,{CLIENT},{OTHER_CLIENT}",
    }
    nodes: list[Server] = []
    try:
        for name in ("lb-node1", "lb-node2"):
            node = start_server(
                tmp_path_factory.mktemp(name),
                server.db_url,
                server.backend,
                server.root_password,
                env=env,
            )
            node._root_token = server.root_token
            nodes.append(node)
            # Every node serves one certificate (docs/deployment.md), which HAProxy verifies:
            # node 2 takes the one node 1 made at its first start.
            tls = node.data_dir / "tls"
            env |= {
                "GATEHOUSE_TLS_CERT": str(tls / "cert.pem"),
                "GATEHOUSE_TLS_KEY": str(tls / "key.pem"),
            }
        servers = {"node1": nodes[0], "node2": nodes[1]}
        with running_haproxy(tmp_path_factory.mktemp("lb"), servers, nodes[0]) as urls:
            yield Cluster(nodes, urls[2087], nodes[0].tls())
    finally:
        for node in nodes:
            stop_server(node)


def test_a_token_allowed_for_the_client_works_through_both_nodes(
    server: Server, cluster: Cluster
) -> None:
    name = f"lb-{uuid.uuid4().hex[:8]}"
    secret = server.token(name, whitelist_ip=CLIENT)
    with cluster.client() as c:
        answers = [
            c.get(f"{cluster.whm}{VERSION}", headers={"Authorization": f"whm root:{secret}"})
            for _ in range(6)
        ]
    assert [a.status_code for a in answers] == [200] * 6
    rows = server.sql("SELECT last_used_ip FROM api_tokens WHERE name = :n", n=name)
    assert rows[0][0] == CLIENT


def test_the_same_token_from_another_client_is_refused_by_both_nodes(
    server: Server, cluster: Cluster
) -> None:
    name = f"lb-{uuid.uuid4().hex[:8]}"
    secret = server.token(name, whitelist_ip=CLIENT)
    with cluster.client(OTHER_CLIENT) as c:
        answers = [
            c.get(f"{cluster.whm}{VERSION}", headers={"Authorization": f"whm root:{secret}"})
            for _ in range(4)
        ]
    assert [a.status_code for a in answers] == [401] * 4
    rows = server.sql(
        "SELECT source_ip FROM audit_log WHERE token_name = :n AND reason = 'ip_not_allowed'",
        n=name,
    )
    assert {r[0] for r in rows} == {OTHER_CLIENT}  # repeated refusals are audited once


def test_a_revoke_through_one_node_is_refused_through_the_other_at_once(
    cluster: Cluster,
) -> None:
    with cluster.client() as c:
        for _ in range(5):
            name = f"lb-{uuid.uuid4().hex[:8]}"
            root = {"Authorization": f"whm root:{cluster.nodes[0].root_token}"}
            made = c.get(
                f"{cluster.whm}/json-api/api_token_create",
                params={"api.version": "1", "token_name": name},
                headers=root,
            ).json()
            assert made["metadata"]["result"] == 1, made
            secret = cluster.nodes[0].remember(made["data"]["token"])
            auth = {"Authorization": f"whm root:{secret}"}
            for _ in range(4):  # both nodes, both workers' caches (as chance spreads them)
                assert c.get(f"{cluster.whm}{VERSION}", headers=auth).status_code == 200
            revoked = c.get(
                f"{cluster.whm}/json-api/api_token_revoke",
                params={"api.version": "1", "token_name": name},
                headers=root,
            )
            assert revoked.json()["metadata"]["result"] == 1
            after = [c.get(f"{cluster.whm}{VERSION}", headers=auth).status_code for _ in range(4)]
            assert after == [401] * 4


def test_the_token_shown_once_after_save_is_shown_whichever_node_serves(
    server: Server, cluster: Cluster
) -> None:
    """Each step on a connection of its own, as a browser may: round-robin alternates the
    nodes, so the Save and the page that shows the token are served by different nodes."""
    data = server.ok("create_user_session", params={"user": "root", "service": "whostmgrd"})
    login = urlsplit(str(data["url"]))
    prefix = f"/cpsess{data['cp_security_token'].removeprefix('/cpsess')}"
    name = f"once-{uuid.uuid4().hex[:8]}"
    cookies = httpx.Cookies()

    def step(method: str, path: str, form: dict[str, str] | None = None) -> httpx.Response:
        with cluster.client() as c:
            c.cookies = cookies
            answer = c.request(method, f"{cluster.whm}{path}", data=form)
            cookies.update(answer.cookies)
            return answer

    assert step("GET", f"{login.path}?{login.query}").status_code == 303
    page = step("GET", f"{prefix}/tokens/new")
    csrf = CSRF.search(page.text)
    assert csrf, page.text
    form = {"name": name, "everything": "1", "csrf_token": html.unescape(csrf.group(1))}
    saved = step("POST", f"{prefix}/tokens/new", form)
    assert saved.status_code == 303, saved.text
    shown = step("GET", f"{prefix}/tokens/created")
    assert shown.status_code == 200, shown.text
    match = TOKEN_VALUE.search(shown.text)
    assert match, shown.text
    secret = server.remember(html.unescape(match.group(1)))
    assert step("GET", f"{prefix}/tokens/created").status_code == 303  # shown once only
    saved_on = cluster.served(f'"POST {prefix}/tokens/new" 303')
    shown_on = cluster.served(f'"GET {prefix}/tokens/created" 200')
    assert len(saved_on) == 1 and len(shown_on) == 1 and saved_on != shown_on
    assert server.get("version", token=secret).status_code == 200


def test_a_node_killed_under_load_fails_only_the_requests_in_flight(cluster: Cluster) -> None:
    """Runs last in this module: it kills node 2."""
    secret = cluster.nodes[0].root_token
    stop_at = time.monotonic() + 8
    kill_at = time.monotonic() + 2.5
    outcomes: Counter[str] = Counter()
    late_failures: list[str] = []
    lock = threading.Lock()

    def hammer() -> None:
        with cluster.client() as c:
            while time.monotonic() < stop_at:
                started = time.monotonic()
                try:
                    answer = c.get(
                        f"{cluster.whm}{VERSION}", headers={"Authorization": f"whm root:{secret}"}
                    )
                    outcome = str(answer.status_code)
                except httpx.HTTPError as exc:
                    outcome = type(exc).__name__
                with lock:
                    outcomes[outcome] += 1
                    if outcome != "200" and started > kill_at + 1:
                        late_failures.append(outcome)

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(max(0.0, kill_at - time.monotonic()))
    victim = cluster.nodes[1].process
    assert victim is not None
    victim.kill()  # the supervisor; its workers follow it (PR_SET_PDEATHSIG)
    for thread in threads:
        thread.join(timeout=30)
    failed = sum(n for outcome, n in outcomes.items() if outcome != "200")
    assert outcomes["200"] > 100, outcomes
    assert failed <= len(threads), outcomes  # at most the requests in flight at the kill
    assert late_failures == [], outcomes  # and none once the kill is over
    with contextlib.suppress(FileNotFoundError):
        assert "Traceback" not in Path(cluster.nodes[0].log_path).read_text()
