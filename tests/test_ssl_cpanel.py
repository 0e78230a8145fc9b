"""The cPanel face's certificates (docs/ssl.md): UAPI SSL install_ssl, installed_hosts,
list_certs, list_keys (no key material), delete_ssl; API 2 SSL::installssl called the way
certbot-dns-cpanel's installer calls it (GET /json-api/cpanel, domain/crt/key, answer in
`data[0].result` and `data[0].output`, a refusal included). An account installs on its own
domains only. Real HTTP, both stores."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from conftest import Server
from ssl_helpers import DAY, Issued, make_ca, make_leaf, new_key


@dataclass
class Account:
    user: str
    token: str

    @property
    def domain(self) -> str:
        return f"{self.user}.example.com"


@pytest.fixture(scope="module")
def ca() -> Issued:
    return make_ca()


def _account(server: Server) -> Account:
    user, password = server.account()
    return Account(user, server.cpanel_token(user, password))


def _uapi_install(
    server: Server, account: Account, domain: str, leaf: Issued, cab: str
) -> dict[str, Any]:
    server.remember(leaf.key_pem)
    response = httpx.post(
        f"{server.cpanel_url}/execute/SSL/install_ssl",
        data={"domain": domain, "cert": leaf.cert_pem, "key": leaf.key_pem, "cabundle": cab},
        headers={"Authorization": f"cpanel {account.user}:{account.token}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def _stored(server: Server, username: str) -> list[int]:
    return [
        server.sql(
            f"SELECT COUNT(*) FROM {table} t JOIN users u ON u.id = t.user_id "  # noqa: S608
            "WHERE u.username = :u",
            u=username,
        )[0][0]
        for table in ("ssl_certificates", "ssl_keys", "ssl_vhosts")
    ]


def test_uapi_install_and_read_back(server: Server, ca: Issued) -> None:
    account = _account(server)
    leaf = make_leaf(ca, [account.domain])
    body = _uapi_install(server, account, account.domain, leaf, ca.cert_pem)
    assert body["status"] == 1, body
    assert body["data"]["domain"] == account.domain

    hosts = server.uapi(account.user, "SSL", "installed_hosts", token=account.token).json()
    [host] = hosts["data"]
    assert host["certificate"]["domains"] == [account.domain]
    assert host["certificate_text"].strip() == leaf.cert_pem.strip()
    d = account.domain
    # Cpanel/API/SSL.pm installed_hosts' additions to the installed host's record.
    assert {k: v for k, v in host.items() if k not in ("certificate", "certificate_text")} == {
        "docroot": f"/home/{account.user}/public_html",
        "domains": [d],
        "fqdns": sorted([d, f"mail.{d}", f"www.{d}"]),  # Perl sort: by string
        "ip": host["ip"],
        # The shared address's primary SSL host is the server's own (Whostmgr::SSL).
        "is_primary_on_ip": 0,
        "mail_sni_status": 1,
        "needs_sni": 1,
        "servername": d,
        "verify_error": "",
    }

    # The certificate: Cpanel::SSL::APIFormat's record with is_autossl (installed by hand: 0,
    # no provider named), an EC key's facts.
    ca_cn = str(ca.cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)
    public = leaf.cert.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    assert host["certificate"] == {
        "domains": [d],
        "ecdsa_curve_name": "prime256v1",
        "ecdsa_public": ec_compressed_hex(public),
        "id": host["certificate"]["id"],
        "is_autossl": 0,
        "is_self_signed": 0,
        "issuer.commonName": ca_cn,
        "issuer.organizationName": None,
        "issuer_text": f"commonName\n{ca_cn}",
        "key_algorithm": "id-ecPublicKey",
        "modulus": None,
        "modulus_length": None,
        "not_after": int(leaf.cert.not_valid_after_utc.timestamp()),
        "not_before": int(leaf.cert.not_valid_before_utc.timestamp()),
        "signature_algorithm": "ecdsa-with-SHA256",
        "subject.commonName": d,
        "subject_text": f"commonName\n{d}",
        "validation_type": None,
    }

    certs = server.uapi(account.user, "SSL", "list_certs", token=account.token).json()["data"]
    assert len(certs) == 1 and certs[0]["domain_is_configured"] == 1
    assert certs[0]["id"] == host["certificate"]["id"]

    keys = server.uapi(account.user, "SSL", "list_keys", token=account.token)
    assert len(keys.json()["data"]) == 1
    assert keys.json()["data"][0]["id"] == body["data"]["key_id"]
    assert "PRIVATE KEY" not in keys.text


def ec_compressed_hex(public: ec.EllipticCurvePublicKey) -> str:
    return public.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
    ).hex()


def test_installed_hosts_certificate_of_an_rsa_self_signed_certificate(server: Server) -> None:
    """An RSA key's `modulus` and `modulus_length` (a number); a self-signed certificate's
    `is_self_signed` 1 (the subject and the issuer the same text)."""
    account = _account(server)
    key = new_key("rsa")
    # A self-signed leaf: its own issuer, signed with its own key.
    own = make_leaf(Issued(make_ca(account.domain).cert, key), [account.domain], key=key)
    _uapi_install(server, account, account.domain, own, "")
    [host] = server.uapi(account.user, "SSL", "installed_hosts", token=account.token).json()["data"]
    public = own.cert.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    cert = host["certificate"]
    assert (cert["is_self_signed"], cert["is_autossl"], cert["key_algorithm"]) == (
        1,
        0,
        "rsaEncryption",
    )
    assert cert["modulus"] == format(public.public_numbers().n, "x")
    assert cert["modulus_length"] == 2048
    assert (cert["ecdsa_curve_name"], cert["ecdsa_public"]) == (None, None)
    assert cert["signature_algorithm"] == "sha256WithRSAEncryption"
    assert cert["issuer_text"] == cert["subject_text"] == f"commonName\n{account.domain}"


def test_uapi_delete_ssl(server: Server, ca: Issued) -> None:
    account = _account(server)
    _uapi_install(server, account, account.domain, make_leaf(ca, [account.domain]), ca.cert_pem)
    body = server.uapi(
        account.user, "SSL", "delete_ssl", token=account.token, domain=account.domain
    ).json()
    assert (body["status"], body["messages"]) == (1, ["The SSL host was successfully removed."])
    hosts = server.uapi(account.user, "SSL", "installed_hosts", token=account.token).json()
    assert hosts["data"] == []
    assert _stored(server, account.user)[2] == 0
    again = server.uapi(
        account.user, "SSL", "delete_ssl", token=account.token, domain=account.domain
    ).json()
    assert again["errors"] == [
        f"Failed to remove SSL host for “{account.domain}”: "
        f"The domain “{account.domain}” has no SSL certificate installed."
    ]


def test_uapi_delete_ssl_defaults_to_the_main_domain(server: Server, ca: Issued) -> None:
    # Cpanel/API/SSL.pm delete_ssl: no `domain` is the account's own ($Cpanel::CPDATA{'DNS'}).
    account = _account(server)
    _uapi_install(server, account, account.domain, make_leaf(ca, [account.domain]), ca.cert_pem)
    body = server.uapi(account.user, "SSL", "delete_ssl", token=account.token).json()
    assert body["status"] == 1, body
    assert _stored(server, account.user)[2] == 0


def test_an_account_installs_on_its_own_domains_only(server: Server, ca: Issued) -> None:
    account, other = _account(server), _account(server)
    theirs = make_leaf(ca, [other.domain])
    refused = _uapi_install(server, account, other.domain, theirs, ca.cert_pem)
    missing = _uapi_install(
        server, account, "nosuch." + other.domain, make_leaf(ca, ["nosuch." + other.domain]), ""
    )
    assert refused["status"] == 0
    assert refused["errors"] == [f"You do not have access to a domain named “{other.domain}”."]
    assert missing["errors"][0].startswith("You do not have access to a domain named")
    assert _stored(server, account.user) == [0, 0, 0]
    assert _stored(server, other.user) == [0, 0, 0]


def _api2_installssl(
    server: Server, account: Account, domain: str, crt: str, key: str
) -> dict[str, Any]:
    """As certbot-dns-cpanel's installer: everything in the query string, no CA bundle."""
    server.remember(key)
    response = server.api2(
        account.user, "SSL", "installssl", token=account.token, domain=domain, crt=crt, key=key
    )
    assert response.status_code == 200, response.text
    return dict(response.json()["cpanelresult"])


def test_api2_installssl_answers_as_the_certbot_installer_reads(server: Server, ca: Issued) -> None:
    account = _account(server)
    leaf = make_leaf(ca, [account.domain])
    result = _api2_installssl(server, account, account.domain, leaf.cert_pem, leaf.key_pem)
    assert result["data"][0]["result"] == 1, result
    assert account.domain in result["data"][0]["output"]
    hosts = server.uapi(account.user, "SSL", "installed_hosts", token=account.token).json()
    assert [h["servername"] for h in hosts["data"]] == [account.domain]


def test_api2_installssl_refusal_is_in_data(server: Server, ca: Issued) -> None:
    account = _account(server)
    now = dt.datetime.now(dt.UTC)
    leaf = make_leaf(ca, [account.domain], not_before=now - 90 * DAY, not_after=now - DAY)
    result = _api2_installssl(server, account, account.domain, leaf.cert_pem, leaf.key_pem)
    assert result["data"][0]["result"] == 0
    assert result["data"][0]["output"].startswith("The certificate expired on")
    assert _stored(server, account.user) == [0, 0, 0]


def test_whm_cpanel_function_reaches_uapi_install_ssl(server: Server, ca: Issued) -> None:
    """Billing systems install through WHM's `cpanel` function with API 3."""
    user, _ = server.account()
    domain = f"{user}.example.com"
    leaf = make_leaf(ca, [domain])
    server.remember(leaf.key_pem)
    response = httpx.post(
        f"{server.url}/json-api/cpanel",
        data={
            "api.version": "1",
            "cpanel_jsonapi_user": user,
            "cpanel_jsonapi_apiversion": "3",
            "cpanel_jsonapi_module": "SSL",
            "cpanel_jsonapi_func": "install_ssl",
            "domain": domain,
            "cert": leaf.cert_pem,
            "key": leaf.key_pem,
            "cabundle": ca.cert_pem,
        },
        headers={"Authorization": f"whm root:{server.root_token}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert "PRIVATE KEY" not in response.text
    assert _stored(server, user) == [1, 1, 1]
    assert server.ok("fetchsslinfo", params={"domain": domain})["user"] == user


def _uapi(server: Server, account: Account, **params: str) -> dict[str, Any]:
    response = httpx.post(
        f"{server.cpanel_url}/execute/SSL/install_ssl",
        data=params,
        headers={"Authorization": f"cpanel {account.user}:{account.token}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.mark.parametrize(
    "domain",
    [
        pytest.param(None, id="no domain: the certificate's common name"),
        pytest.param("", id="empty domain: the certificate's common name"),
        pytest.param("www.{d}", id="a leading www. is dropped"),
        pytest.param("{d}", id="the domain given"),
    ],
)
def test_uapi_install_ssl_succeeds_in_cpanels_words(
    server: Server, ca: Issued, domain: str | None
) -> None:
    """Cpanel/API/SSL.pm install_ssl: `domain` defaults to the certificate's CN, `_install`
    drops `www.`, and success adds one message; `data` is the installer's answer."""
    account = _account(server)
    leaf = make_leaf(ca, [account.domain])
    server.remember(leaf.key_pem)
    params = {"cert": leaf.cert_pem, "key": leaf.key_pem}
    if domain is not None:
        params["domain"] = domain.format(d=account.domain)
    body = _uapi(server, account, **params)
    assert body["status"] == 1, body
    assert body["messages"] == [
        f"The certificate was successfully installed on the domain “{account.domain}”."
    ]
    data = body["data"]
    assert (data["domain"], data["servername"], data["action"]) == (
        account.domain,
        account.domain,
        "install",
    )
    assert data["message"].startswith(
        f"The SSL certificate is now installed onto the domain “{account.domain}”"
    )
    assert data["status"] == 1 and data["html"].startswith("<br>")


@pytest.mark.parametrize(
    ("what", "error"),
    [
        ("no cert", "No 'cert' argument specified."),
        ("blank cert", "No 'cert' argument specified."),
        ("another key", "Certificate and key do not match."),
        ("no key", "No key in your account matches the given certificate."),
    ],
)
def test_uapi_install_ssl_refuses_in_cpanels_words(
    server: Server, ca: Issued, what: str, error: str
) -> None:
    account = _account(server)
    leaf, other = make_leaf(ca, [account.domain]), make_leaf(ca, [account.domain])
    server.remember(leaf.key_pem)
    server.remember(other.key_pem)
    params = {
        "no cert": {"key": leaf.key_pem},
        "blank cert": {"cert": "  \n", "key": leaf.key_pem},
        "another key": {"cert": leaf.cert_pem, "key": other.key_pem},
        "no key": {"cert": leaf.cert_pem},
    }[what]
    body = _uapi(server, account, domain=account.domain, **params)
    assert (body["status"], body["errors"], body["messages"]) == (0, [error], None)
    assert _stored(server, account.user) == [0, 0, 0]


def test_uapi_install_ssl_prefers_the_stored_key(server: Server, ca: Issued) -> None:
    """install_ssl looks for a stored key matching the certificate before it checks the key
    given: once the key is stored, a wrong or missing `key` still installs."""
    account = _account(server)
    leaf, other = make_leaf(ca, [account.domain]), make_leaf(ca, [account.domain])
    server.remember(other.key_pem)
    _uapi_install(server, account, account.domain, leaf, "")
    for key in (other.key_pem, ""):
        body = _uapi(server, account, domain=account.domain, cert=leaf.cert_pem, key=key)
        assert body["status"] == 1, body
        assert body["data"]["action"] == "none"


@pytest.mark.parametrize(
    ("what", "output"),
    [
        ("ok", "The certificate was successfully installed on the domain “{d}”."),
        ("no crt", "No 'cert' argument specified."),
        ("another key", "Certificate and key do not match."),
    ],
)
def test_api2_installssl_is_result_and_output_only(
    server: Server, ca: Issued, what: str, output: str
) -> None:
    """Cpanel/SSL.pm api2_installssl: `{result, output}`, the output UAPI's messages (or
    errors) as a string."""
    account = _account(server)
    leaf, other = make_leaf(ca, [account.domain]), make_leaf(ca, [account.domain])
    crt = "" if what == "no crt" else leaf.cert_pem
    key = other.key_pem if what == "another key" else leaf.key_pem
    result = _api2_installssl(server, account, account.domain, crt, key)
    assert result["data"] == [
        {"output": output.format(d=account.domain), "result": int(what == "ok")}
    ]
