"""TLS on the HTTPS ports (issue 18 §9): TLS 1.2 and 1.3 by default, as cPanel serves, with
AEAD suites only; a 1.3-only setting; HTTP/1.1 in ALPN unless HTTP/2 is opted in; HSTS on the
pages over HTTPS and never over plain HTTP."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator

import httpx
import pytest

from conftest import Server, another_node

TLS12 = ssl.TLSVersion.TLSv1_2
# Mozilla "intermediate" leaves these out; a 1.2 client offering only them must fail.
CBC_ONLY = "AES128-SHA:AES256-SHA:ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES128-SHA"


def handshake(
    port: int,
    *,
    maximum: ssl.TLSVersion | None = None,
    ciphers: str | None = None,
    alpn: list[str] | None = None,
) -> tuple[str | None, str, str | None]:
    """(version, cipher, ALPN protocol) of a handshake with the port; raises ssl.SSLError."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    if maximum is not None:
        context.maximum_version = maximum
    if ciphers is not None:
        context.set_ciphers(ciphers)
    if alpn is not None:
        context.set_alpn_protocols(alpn)
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw) as tls,
    ):
        cipher = tls.cipher()
        assert cipher is not None
        return tls.version(), cipher[0], tls.selected_alpn_protocol()


@pytest.fixture(scope="module")
def strict_node(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A node with TLS 1.3 only and HTTP/2 offered."""
    env = {"GATEHOUSE_TLS_MIN_VERSION": "1.3", "GATEHOUSE_HTTP2": "1"}
    with another_node(server, tmp_path_factory, "tls-node", env) as node:
        yield node


@pytest.mark.parametrize("port", ["https_port", "cpanel_https_port"])
def test_a_tls_12_client_connects_by_default(server: Server, port: str) -> None:
    version, cipher, _alpn = handshake(getattr(server, port), maximum=TLS12)
    assert version == "TLSv1.2"
    assert cipher.startswith("ECDHE-") and ("GCM" in cipher or "CHACHA20" in cipher)


def test_a_tls_12_client_can_call_the_api(server: Server) -> None:
    context = server.tls()
    context.maximum_version = TLS12
    response = httpx.get(
        f"{server.https_url}/json-api/version?api.version=1",
        headers={"Authorization": f"whm root:{server.root_token}"},
        verify=context,
    )
    assert response.status_code == 200
    assert response.json()["metadata"]["result"] == 1


def test_tls_13_is_offered(server: Server) -> None:
    assert handshake(server.https_port)[0] == "TLSv1.3"


def test_cbc_suites_are_refused(server: Server) -> None:
    with pytest.raises(ssl.SSLError):
        handshake(server.https_port, maximum=TLS12, ciphers=CBC_ONLY)


def test_alpn_is_http_11_by_default(server: Server) -> None:
    assert handshake(server.https_port, alpn=["h2", "http/1.1"])[2] == "http/1.1"


def test_the_13_only_setting_refuses_a_12_client(strict_node: Server) -> None:
    with pytest.raises(ssl.SSLError):
        handshake(strict_node.https_port, maximum=TLS12)
    assert handshake(strict_node.https_port)[0] == "TLSv1.3"


def test_http2_is_offered_when_opted_in(strict_node: Server) -> None:
    assert handshake(strict_node.https_port, alpn=["h2", "http/1.1"])[2] == "h2"


def test_pages_over_https_carry_hsts(server: Server) -> None:
    response = httpx.get(f"{server.https_url}/login/", verify=server.tls())
    assert response.headers["strict-transport-security"] == "max-age=31536000"


def test_pages_over_plain_http_do_not(server: Server) -> None:
    response = httpx.get(f"{server.url}/login/")
    assert response.status_code == 200
    assert "strict-transport-security" not in response.headers
