"""TLS on the HTTPS ports (issue 18 §9): TLS 1.2 and 1.3 by default, as cPanel serves, with
AEAD suites only; a 1.3-only setting; HTTP/1.1 in ALPN unless HTTP/2 is opted in; HSTS on the
pages over HTTPS and never over plain HTTP."""

from __future__ import annotations

import socket
import ssl
import warnings
from collections.abc import Iterator

import httpx
import pytest

from conftest import Server, another_node
from gatehouse import config
from ssl_helpers import make_ca, make_leaf

TLS12 = ssl.TLSVersion.TLSv1_2
# Mozilla "intermediate" leaves these out; a 1.2 client offering only them must fail.
CBC_ONLY = "AES128-SHA:AES256-SHA:ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES128-SHA"
# Any suite at all, however weak, so that the server is the one that says no.
ANYTHING = "ALL:@SECLEVEL=0"


def _tls12_suites() -> list[str]:
    """Every TLS 1.2 suite this client's OpenSSL can offer; not the PSK and SRP ones, which a
    client offers only with a pre-shared key or password (their refusal would prove nothing)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.set_ciphers(ANYTHING)
    return [
        c["name"]
        for c in context.get_ciphers()
        if c["protocol"] != "TLSv1.3" and "PSK" not in c["name"] and "SRP" not in c["name"]
    ]


TLS12_SUITES = _tls12_suites()
# What rustls (granian's TLS, with ring) accepts for TLS 1.2, by the certificate's key: ECDHE
# with AES-GCM or ChaCha20-Poly1305 only, Mozilla "intermediate" without its DHE suites.
ACCEPTED_TLS12 = {
    "ec": {
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
    },
    "rsa": {
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-RSA-CHACHA20-POLY1305",
    },
}


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
def rsa_node(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A node serving an RSA certificate (the kind most certificate authorities issue)."""
    leaf = make_leaf(make_ca(), ["localhost"], kind="rsa")
    files = tmp_path_factory.mktemp("rsa-pair")
    (files / "cert.pem").write_text(leaf.cert_pem)
    (files / "key.pem").write_text(leaf.key_pem)
    env = {
        "GATEHOUSE_TLS_CERT": str(files / "cert.pem"),
        "GATEHOUSE_TLS_KEY": str(files / "key.pem"),
    }
    with another_node(server, tmp_path_factory, "rsa-node", env) as node:
        yield node


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


@pytest.mark.parametrize("key", ["ec", "rsa"])
def test_tls_12_accepts_only_ecdhe_aead_suites(server: Server, rsa_node: Server, key: str) -> None:
    """Each suite offered alone: exactly the expected ones complete a handshake."""
    port = (server if key == "ec" else rsa_node).https_port
    accepted = set()
    for suite in TLS12_SUITES:
        try:
            handshake(port, maximum=TLS12, ciphers=f"{suite}:@SECLEVEL=0")
        except ssl.SSLError:
            continue
        accepted.add(suite)
    assert accepted == ACCEPTED_TLS12[key]


GROUPS = ["X25519", "X448", "prime256v1", "secp384r1", "secp521r1"]
# Mozilla "intermediate"'s groups, which are rustls's (with ring).
ACCEPTED_GROUPS = {"X25519", "prime256v1", "secp384r1"}


# TLS 1.2 on the RSA node: with an ECDSA certificate the client's groups would also limit the
# certificate's curve, which is not what is being asked.
@pytest.mark.parametrize(("key", "maximum"), [("ec", "TLSv1_3"), ("rsa", "TLSv1_2")])
def test_key_exchange_uses_only_x25519_p256_p384(
    server: Server, rsa_node: Server, key: str, maximum: str
) -> None:
    port = (server if key == "ec" else rsa_node).https_port
    accepted = set()
    for group in GROUPS:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        context.maximum_version = getattr(ssl.TLSVersion, maximum)
        context.set_ecdh_curve(group)  # the client's only group (OpenSSL 3: set1_groups)
        try:
            with (
                socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
                context.wrap_socket(raw),
            ):
                accepted.add(group)
        except ssl.SSLError:
            continue
    assert accepted == ACCEPTED_GROUPS


@pytest.mark.parametrize("version", ["TLSv1", "TLSv1_1"])
def test_tls_10_and_11_are_refused_by_the_server(server: Server, version: str) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():  # Python deprecates naming these versions at all
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = context.maximum_version = getattr(ssl.TLSVersion, version)
    context.set_ciphers(ANYTHING)
    with (
        socket.create_connection(("127.0.0.1", server.https_port), timeout=10) as raw,
        pytest.raises(ssl.SSLError) as refused,
    ):
        context.wrap_socket(raw)
    # The server's alert (rustls answers handshake_failure), not this client declining to
    # send its hello.
    assert refused.value.reason in ("SSLV3_ALERT_HANDSHAKE_FAILURE", "TLSV1_ALERT_PROTOCOL_VERSION")


def test_alpn_is_http_11_by_default(server: Server) -> None:
    assert handshake(server.https_port, alpn=["h2", "http/1.1"])[2] == "http/1.1"


def test_the_13_only_setting_refuses_a_12_client(strict_node: Server) -> None:
    with pytest.raises(ssl.SSLError):
        handshake(strict_node.https_port, maximum=TLS12)
    assert handshake(strict_node.https_port)[0] == "TLSv1.3"


def test_http2_is_offered_when_opted_in(strict_node: Server) -> None:
    assert handshake(strict_node.https_port, alpn=["h2", "http/1.1"])[2] == "h2"


# Each face's login page: WHM's at /login/, an account's under a session prefix.
LOGIN_PAGES = {"whm": "/login/", "cpanel": "/cpsess0123456789/login/"}


@pytest.mark.parametrize(("face", "base"), [("whm", "https_url"), ("cpanel", "cpanel_https_url")])
def test_pages_over_https_carry_hsts(server: Server, face: str, base: str) -> None:
    response = httpx.get(f"{getattr(server, base)}{LOGIN_PAGES[face]}", verify=server.tls())
    assert "content-security-policy" in response.headers  # a page, not an API refusal
    assert response.headers["strict-transport-security"] == "max-age=31536000"


@pytest.mark.parametrize(("face", "base"), [("whm", "url"), ("cpanel", "cpanel_url")])
def test_pages_over_plain_http_do_not(server: Server, face: str, base: str) -> None:
    response = httpx.get(f"{getattr(server, base)}{LOGIN_PAGES[face]}")
    assert "content-security-policy" in response.headers  # a page, not an API refusal
    assert "strict-transport-security" not in response.headers


@pytest.mark.parametrize(
    ("written", "meant"),
    [("1.2", "1.2"), ("1.3", "1.3"), ("TLSv1.3", "1.3"), ("tls1.2", "1.2"), (" 1.3 ", "1.3")],
)
def test_the_minimum_version_setting_reads_the_usual_spellings(
    monkeypatch: pytest.MonkeyPatch, written: str, meant: str
) -> None:
    monkeypatch.setenv("GATEHOUSE_TLS_MIN_VERSION", written)
    assert config.from_environment().tls_min_version == meant


@pytest.mark.parametrize("written", ["1.1", "1.0", "TLSv1", "2", "modern"])
def test_the_minimum_version_setting_refuses_anything_else(
    monkeypatch: pytest.MonkeyPatch, written: str
) -> None:
    monkeypatch.setenv("GATEHOUSE_TLS_MIN_VERSION", written)
    with pytest.raises(ValueError, match=r"GATEHOUSE_TLS_MIN_VERSION must be 1\.2 or 1\.3"):
        config.from_environment()
