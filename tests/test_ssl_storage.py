"""An account's SSL storage on the cPanel face (docs/ssl.md): UAPI SSL delete_key, delete_cert,
delete_csr (by id or friendly_name; what is installed is refused), fetch_cert_info,
generate_cert, set_default_key_type / get_default_key_type; API 2 SSL genkey, gencsr,
listkeys, listcsrs, listcrts (on the cPanel face and through WHM's `cpanel` function). Every
refusal is in the caller's envelope and changes nothing. Real HTTP, both stores."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from conftest import Server
from ssl_helpers import Issued, make_ca, make_leaf

SUBJECT = {
    "countryName": "US",
    "stateOrProvinceName": "Texas",
    "localityName": "Houston",
    "organizationName": "Example",
}


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


def _uapi(server: Server, account: Account, func: str, **params: Any) -> dict[str, Any]:
    response = httpx.post(
        f"{server.cpanel_url}/execute/SSL/{func}",
        data=params,
        headers={"Authorization": f"cpanel {account.user}:{account.token}"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    body = dict(response.json())
    data = body.get("data")
    for value in data.values() if isinstance(data, dict) else ():
        if isinstance(value, str) and "PRIVATE KEY" in value:
            server.remember(value)
    return body


def _ok(server: Server, account: Account, func: str, **params: Any) -> Any:
    body = _uapi(server, account, func, **params)
    assert body["status"] == 1, body
    return body["data"]


def _refused(server: Server, account: Account, func: str, **params: Any) -> str:
    body = _uapi(server, account, func, **params)
    assert body["status"] == 0 and body["data"] is None, body
    return str(body["errors"][0])


def _api2(server: Server, account: Account, func: str, **params: Any) -> dict[str, Any]:
    response = server.api2(account.user, "SSL", func, token=account.token, **params)
    assert response.status_code == 200, response.text
    result = dict(response.json()["cpanelresult"])
    for item in result.get("data") or []:
        if isinstance(item, dict) and "PRIVATE KEY" in str(item.get("key")):
            server.remember(item["key"])
    return result


def _counts(server: Server, username: str) -> list[int]:
    return [
        server.sql(
            f"SELECT COUNT(*) FROM {table} t JOIN users u ON u.id = t.user_id "  # noqa: S608
            "WHERE u.username = :u",
            u=username,
        )[0][0]
        for table in ("ssl_certificates", "ssl_keys", "ssl_csrs", "ssl_vhosts")
    ]


def _stored_leaf(server: Server, account: Account, ca: Issued) -> tuple[Issued, dict[str, Any]]:
    leaf = make_leaf(ca, [account.domain])
    server.remember(leaf.key_pem)
    cert = _ok(server, account, "upload_cert", crt=leaf.cert_pem, friendly_name="Leaf")[0]
    _ok(server, account, "upload_key", key=leaf.key_pem, friendly_name="LeafKey")
    return leaf, cert


# -- fetch_cert_info, delete_cert, delete_key -----------------------------------------------------


def test_fetch_cert_info_gives_the_text_key_and_bundle(server: Server, ca: Issued) -> None:
    """Cpanel::SSLInfo::fetch_crt_info's hash and nothing else: a CA-signed certificate not
    installed has cPanel's sentence for a bundle not found; installed, its bundle."""
    account = _account(server)
    leaf, cert = _stored_leaf(server, account, ca)
    info = _ok(server, account, "fetch_cert_info", id=cert["id"])
    assert sorted(info) == [
        "cabundle",
        "certificate",
        "is_self_signed",
        "key",
        "subject.commonName_ip",
    ]
    assert info["certificate"] == leaf.cert_pem
    assert info["is_self_signed"] == 0
    assert info["key"] is not None
    assert serialization.load_pem_private_key(info["key"].encode(), None).public_key() == (
        x509.load_pem_x509_certificate(leaf.cert_pem.encode()).public_key()
    )
    assert info["cabundle"] == (
        "Sorry, no certificate authority bundle was found; however, you probably don't need "
        f"one for this certificate ({account.domain})."
    )
    _ok(server, account, "install_ssl", domain=account.domain, cert=leaf.cert_pem,
        cabundle=ca.cert_pem)  # fmt: skip
    info = _ok(server, account, "fetch_cert_info", id=cert["id"])
    assert info["cabundle"] is not None and "BEGIN CERTIFICATE" in info["cabundle"]
    # The CN's address: the account's web vhost's (as installed_hosts gives it).
    [host] = _ok(server, account, "installed_hosts")
    assert info["subject.commonName_ip"] == host["ip"]
    # By friendly name too (the upload's).
    assert _ok(server, account, "fetch_cert_info", friendly_name="Leaf") == info


def test_show_key_gives_the_key_to_its_account_only(server: Server, ca: Issued) -> None:
    account, other = _account(server), _account(server)
    leaf, _cert = _stored_leaf(server, account, ca)
    key_id = _ok(server, account, "list_keys")[0]["id"]
    for selector in ({"id": key_id}, {"friendly_name": "LeafKey"}):
        shown = _ok(server, account, "show_key", **selector)
        assert shown["details"]["id"] == key_id and shown["details"]["friendly_name"] == "LeafKey"
        key = serialization.load_pem_private_key(shown["key"].encode(), None)
        assert key.public_key() == leaf.key.public_key()
    # Another account's key is one that does not exist.
    assert "no key with the ID" in _refused(server, other, "show_key", id=key_id)
    assert "“id” or the “friendly_name”" in _refused(server, account, "show_key")


def test_an_installed_certificate_and_its_key_are_not_deleted(server: Server, ca: Issued) -> None:
    account = _account(server)
    leaf, cert = _stored_leaf(server, account, ca)
    _ok(server, account, "install_ssl", domain=account.domain, cert=leaf.cert_pem)
    before = _counts(server, account.user)
    reason = _refused(server, account, "delete_cert", id=cert["id"])
    assert f"installed on “{account.domain}”" in reason and "SSL::delete_ssl" in reason
    reason = _refused(server, account, "delete_key", friendly_name="LeafKey")
    assert f"installed on “{account.domain}”" in reason
    assert _counts(server, account.user) == before
    # Uninstalled, both go.
    _ok(server, account, "delete_ssl", domain=account.domain)
    deleted = _ok(server, account, "delete_cert", friendly_name="Leaf")
    assert [d["id"] for d in deleted] == [cert["id"]]
    key_id = _ok(server, account, "list_keys")[0]["id"]
    deleted = _ok(server, account, "delete_key", id=key_id)
    assert [d["id"] for d in deleted] == [key_id] and "text" not in deleted[0]
    assert _counts(server, account.user) == [0, 0, 0, 0]
    assert _ok(server, account, "list_certs") == [] and _ok(server, account, "list_keys") == []
    # Gone: a second delete is refused.
    assert "no certificate with the ID" in _refused(server, account, "delete_cert", id=cert["id"])
    assert "no key with the ID" in _refused(server, account, "delete_key", id=key_id)


@pytest.mark.parametrize("func", ["delete_key", "delete_cert", "delete_csr"])
def test_deleting_needs_one_selector_and_finds_only_the_accounts_own(
    server: Server, ca: Issued, func: str
) -> None:
    owner, other = _account(server), _account(server)
    _leaf, cert = _stored_leaf(server, owner, ca)
    key_id = _ok(server, owner, "list_keys")[0]["id"]
    csr = _ok(server, owner, "generate_csr", domains=owner.domain, key_id=key_id, **SUBJECT)
    ids = {"delete_key": key_id, "delete_cert": cert["id"], "delete_csr": csr["id"]}
    before = _counts(server, owner.user)
    assert "“id” or the “friendly_name”" in _refused(server, owner, func)
    assert "not both" in _refused(server, owner, func, id=ids[func], friendly_name="Leaf")
    assert "has no" in _refused(server, other, func, id=ids[func])
    assert "has no" in _refused(server, owner, func, id="x" * 5000)
    assert _counts(server, owner.user) == before


def test_delete_csr_by_id_and_friendly_name(server: Server) -> None:
    account = _account(server)
    key = _ok(server, account, "generate_key", keytype="ecdsa-prime256v1")
    first = _ok(server, account, "generate_csr", domains=account.domain, key_id=key["id"],
                friendly_name="First", **SUBJECT)  # fmt: skip
    second = _ok(server, account, "generate_csr", domains=f"www.{account.domain}",
                 key_id=key["id"], **SUBJECT)  # fmt: skip
    deleted = _ok(server, account, "delete_csr", friendly_name="First")
    assert [d["id"] for d in deleted] == [first["id"]] and deleted[0]["commonName"]
    assert [c["id"] for c in _ok(server, account, "list_csrs")] == [second["id"]]
    _ok(server, account, "delete_csr", id=second["id"])
    assert _ok(server, account, "list_csrs") == []


@pytest.mark.parametrize(
    ("params", "said"),
    [
        ({}, "You must specify either the “id” or “friendly_name”."),
        ({"id": "nope"}, "No certificate matches that search term."),
        ({"friendly_name": "nope"}, "No certificate matches that search term."),
        ({"id": "a/b"}, "The “id” parameter is invalid."),
        ({"id": ".hidden"}, "The “id” parameter is invalid."),
    ],
    ids=["neither", "no-id", "no-name", "slash", "dot"],
)
def test_fetch_cert_info_refusals(server: Server, params: dict[str, str], said: str) -> None:
    # Cpanel/API/SSL.pm fetch_cert_info / _get_search_args' words.
    account = _account(server)
    assert _refused(server, account, "fetch_cert_info", **params) == said


# -- generate_cert --------------------------------------------------------------------------------


def test_generate_cert_makes_a_stored_self_signed_certificate(server: Server) -> None:
    account = _account(server)
    key = _ok(server, account, "generate_key")
    made = _ok(server, account, "generate_cert", domains=f"{account.domain},www.{account.domain}",
               key_id=key["id"], friendly_name="Self", **SUBJECT)  # fmt: skip
    assert made["is_self_signed"] == 1 and made["friendly_name"] == "Self"
    assert made["domains"] == [account.domain, f"www.{account.domain}"]
    cert = x509.load_pem_x509_certificate(made["text"].encode())
    assert cert.issuer == cert.subject
    assert [c["id"] for c in _ok(server, account, "list_certs")] == [made["id"]]
    assert _counts(server, account.user)[3] == 0  # stored, not installed
    # fetch_cert_info: a self-signed certificate has no bundle (fetchcabundle's 'self').
    info = _ok(server, account, "fetch_cert_info", id=made["id"])
    assert (info["is_self_signed"], info["cabundle"]) == (1, None)


def test_generate_cert_refusals_store_nothing(server: Server) -> None:
    account, other = _account(server), _account(server)
    key = _ok(server, account, "generate_key")
    good = {"domains": account.domain, "key_id": key["id"], **SUBJECT}
    before = _counts(server, account.user)
    assert "You do not have access to a domain named" in _refused(
        server, account, "generate_cert", **{**good, "domains": other.domain}
    )
    assert _refused(
        server, account, "generate_cert", **{k: v for k, v in good.items() if k != "countryName"}
    ) == ("Provide the “countryName” argument.")
    assert "no key with the ID" in _refused(
        server, account, "generate_cert", **{**good, "key_id": "0" * 64}
    )
    assert "two-letter country code" in _refused(
        server, account, "generate_cert", **{**good, "countryName": "USA"}
    )
    assert "not a valid domain name" in _refused(
        server, account, "generate_cert", **{**good, "domains": "-bad-.example.com"}
    )
    assert _counts(server, account.user) == before


# -- the default key type -------------------------------------------------------------------------


def test_the_default_key_type_is_the_accounts_choice(server: Server) -> None:
    account = _account(server)
    assert _ok(server, account, "get_default_key_type") == "system"
    _ok(server, account, "set_default_key_type", type="ecdsa-secp384r1")
    assert _ok(server, account, "get_default_key_type") == "ecdsa-secp384r1"
    key = _ok(server, account, "generate_key")
    private = serialization.load_pem_private_key(key["text"].encode(), None)
    assert isinstance(private, ec.EllipticCurvePrivateKey) and private.key_size == 384
    # An explicit type still wins.
    key = _ok(server, account, "generate_key", keytype="rsa-2048")
    assert key["modulus_length"] == 2048
    assert "is not a key type" in _refused(server, account, "set_default_key_type", type="dsa")
    assert _refused(server, account, "set_default_key_type") == "Provide the “type” argument."
    _ok(server, account, "set_default_key_type", type="system")
    assert _ok(server, account, "get_default_key_type") == "system"


# -- API 2 ----------------------------------------------------------------------------------------


def _csr_pems(server: Server, username: str) -> list[str]:
    return [
        str(row[0])
        for row in server.sql(
            "SELECT c.pem FROM ssl_csrs c JOIN users u ON u.id = c.user_id WHERE u.username = :u",
            u=username,
        )
    ]


def test_api2_genkey_answers_result_output_and_key(server: Server) -> None:
    # cPanel's api2_genkey (Cpanel/SSL.pm): {result, output, key}, no other key.
    account = _account(server)
    made = _api2(server, account, "genkey", host=account.domain, keysize="2048")
    assert made["event"]["result"] == 1 and made["apiversion"] == 2
    [item] = made["data"]
    assert set(item) == {"key", "output", "result"}
    assert (item["result"], item["output"]) == (1, "Private key generated!")
    serialization.load_pem_private_key(item["key"].encode(), None)


def test_api2_gencsr_answers_result_and_output_and_stores_the_request(server: Server) -> None:
    # cPanel's api2_gencsr: {result, output}; the request itself is in SSL storage.
    account = _account(server)
    key = _api2(server, account, "genkey", host=account.domain)["data"][0]["key"]
    csr_made = _api2(server, account, "gencsr", host=account.domain, country="US",
                     state="Texas", city="Houston", company="Example",
                     companydivision="IT", email="admin@example.com")  # fmt: skip
    assert csr_made["data"] == [{"output": "Certificate Signing Request generated!", "result": 1}]
    [pem] = _csr_pems(server, account.user)
    private = serialization.load_pem_private_key(key.encode(), None)
    assert x509.load_pem_x509_csr(pem.encode()).public_key() == private.public_key()


@pytest.mark.parametrize(
    ("func", "keys"),
    [
        ("listkeys", {"host"}),
        ("listcsrs", {"host"}),
        ("listcrts", {"expiredate", "host", "issuer", "ssltxt"}),
    ],
)
def test_api2_lists_items_in_cpanels_shape(server: Server, func: str, keys: set[str]) -> None:
    # Cpanel/SSL.pm api2_listkeys / api2_listcsrs / api2_listcrts, per friendly name.
    account = _account(server)
    key = _api2(server, account, "genkey", host=account.domain)["data"][0]["key"]
    _api2(server, account, "gencsr", host=account.domain, **_API2_SUBJECT)
    key_id = _ok(server, account, "list_keys")[0]["id"]
    _ok(server, account, "generate_cert", domains=account.domain, key_id=key_id, **SUBJECT)
    listed = _api2(server, account, func)["data"]
    assert [set(item) for item in listed] == [keys]
    assert listed[0]["host"] == account.domain
    assert key not in str(listed) and "PRIVATE KEY" not in str(listed)


def test_api2_listcrts_gives_the_certificates_text_issuer_and_expiry(server: Server) -> None:
    # cPanel takes the issuer as the first `CN = ` word of the text: a CN without spaces here.
    account = _account(server)
    leaf, _cert = _stored_leaf(server, account, make_ca("ca.example.net"))
    parsed = x509.load_pem_x509_certificate(leaf.cert_pem.encode())
    after = parsed.not_valid_after_utc
    expected = f"{after:%b} {after.day:2d} {after:%H:%M:%S %Y} GMT"
    [item] = _api2(server, account, "listcrts")["data"]
    issuer_cn = parsed.issuer.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
    assert issuer_cn == "ca.example.net"
    assert (item["host"], item["issuer"], item["expiredate"]) == ("Leaf", issuer_cn, expected)
    assert item["ssltxt"].startswith("Certificate:\n    Data:\n        Version: 3 (0x2)\n")
    assert f"            Not After : {expected}\n" in item["ssltxt"]
    assert f"        Subject: CN = {account.domain}" in item["ssltxt"]


_API2_SUBJECT = {"country": "US", "state": "Texas", "city": "Houston", "company": "Example"}


def test_api2_refusals_are_in_the_envelope(server: Server) -> None:
    account, other = _account(server), _account(server)
    subject = {"country": "US", "state": "T", "city": "H", "company": "E"}
    for func, params in [
        ("genkey", {"host": other.domain}),
        ("genkey", {}),
        ("genkey", {"host": account.domain, "keysize": "1024"}),
        ("gencsr", {"host": account.domain, **subject}),  # no key yet
        ("gencsr", {"host": account.domain}),
    ]:
        result = _api2(server, account, func, **params)
        assert result["event"]["result"] == 0 and result["error"], (func, params, result)
        assert not result["data"], result
    assert _counts(server, account.user) == [0, 0, 0, 0]


def test_api2_through_whm_cpanel_function(server: Server) -> None:
    account = _account(server)
    response = server.get(
        "cpanel",
        api_version=None,
        params={
            "cpanel_jsonapi_user": account.user,
            "cpanel_jsonapi_apiversion": "2",
            "cpanel_jsonapi_module": "SSL",
            "cpanel_jsonapi_func": "genkey",
            "host": account.domain,
        },
    )
    body = response.json()["cpanelresult"]
    assert body["event"]["result"] == 1, body
    server.remember(body["data"][0]["key"])
    response = server.get(
        "cpanel",
        api_version=None,
        params={
            "cpanel_jsonapi_user": account.user,
            "cpanel_jsonapi_apiversion": "2",
            "cpanel_jsonapi_module": "SSL",
            "cpanel_jsonapi_func": "listkeys",
        },
    )
    listed = response.json()["cpanelresult"]["data"]
    assert listed == [{"host": account.domain}]


# -- hostile input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("func", "params"),
    [
        ("delete_key", {"id": "\x00"}),
        ("delete_cert", {"friendly_name": "é" * 3000}),
        ("delete_csr", {"id": "%ff%fe", "friendly_name": ""}),
        ("fetch_cert_info", {"id": "../../etc/passwd"}),
        ("generate_cert", {"domains": "a" * 300, "key_id": "x", **SUBJECT}),
        ("generate_cert", {"domains": ",,,", "key_id": "x", **SUBJECT}),
        ("set_default_key_type", {"type": "rsa-2048\x00"}),
    ],
    ids=["nul-id", "long-name", "bytes", "path", "long-domain", "empty-domains", "nul-type"],
)
def test_hostile_input_is_refused_in_the_envelope(
    server: Server, func: str, params: dict[str, str]
) -> None:
    account = _account(server)
    before = _counts(server, account.user)
    reason = _refused(server, account, func, **params)
    assert reason and "Traceback" not in reason
    assert _counts(server, account.user) == before


def test_a_10_mb_body_is_refused_in_the_uapi_envelope(server: Server) -> None:
    account = _account(server)
    response = httpx.post(
        f"{server.cpanel_url}/execute/SSL/generate_cert",
        data={"domains": account.domain, "key_id": "x", "friendly_name": "A" * (10 * 1024 * 1024)},
        headers={"Authorization": f"cpanel {account.user}:{account.token}"},
        timeout=60,
    )
    assert response.status_code == 413, response.status_code
    body = response.json()
    assert body["status"] == 0 and body["errors"], body
    assert _counts(server, account.user) == [0, 0, 0, 0]


def test_uapi_through_whm_cpanel_function_api3(server: Server) -> None:
    """Billing modules reach UAPI through WHM's `cpanel` function with API 3."""
    account = _account(server)

    def call(func: str, **params: str) -> dict[str, Any]:
        response = server.get(
            "cpanel",
            api_version=None,
            params={
                "cpanel_jsonapi_user": account.user,
                "cpanel_jsonapi_apiversion": "3",
                "cpanel_jsonapi_module": "SSL",
                "cpanel_jsonapi_func": func,
                **params,
            },
        )
        assert response.status_code == 200, response.text
        return dict(response.json()["result"])

    key = call("generate_key")
    assert key["status"] == 1, key
    server.remember(key["data"]["text"])
    made = call("generate_cert", domains=account.domain, key_id=key["data"]["id"], **SUBJECT)
    assert made["status"] == 1 and made["data"]["is_self_signed"] == 1, made
    info = call("fetch_cert_info", id=made["data"]["id"])
    assert info["status"] == 1 and info["data"]["key"] == key["data"]["text"]
    gone = call("delete_cert", id=made["data"]["id"])
    assert gone["status"] == 1 and gone["data"][0]["id"] == made["data"]["id"]
    refused = call("delete_cert", id=made["data"]["id"])
    assert refused["status"] == 0 and "no certificate with the ID" in refused["errors"][0]


# -- friendly names (Cpanel/SSLStorage/User.pm, Cpanel/SSLInstall.pm) ------------------------------


def test_installing_names_the_key_and_certificate_after_the_host(
    server: Server, ca: Issued
) -> None:
    account = _account(server)
    leaf = make_leaf(ca, [account.domain, f"www.{account.domain}"])
    server.remember(leaf.key_pem)
    _ok(server, account, "install_ssl", domain=account.domain, cert=leaf.cert_pem,
        key=leaf.key_pem)  # fmt: skip
    [cert] = _ok(server, account, "list_certs")
    [key] = _ok(server, account, "list_keys")
    assert cert["friendly_name"] == f"Cert for “{account.domain}”"
    assert key["friendly_name"] == f"Key for “{account.domain}”"


@pytest.mark.parametrize(
    ("labels", "name"),
    [
        (["{d}"], "{d}"),
        (["{d}", "www.{d}"], "{d} and www.{d}"),
        (["{d}", "www.{d}", "mail.{d}"], "{d}, www.{d}, and mail.{d}"),
    ],
    ids=["one", "two", "three"],
)
def test_an_unnamed_certificate_is_named_after_its_domains_and_so_is_its_key(
    server: Server, ca: Issued, labels: list[str], name: str
) -> None:
    account = _account(server)
    leaf = make_leaf(ca, [label.format(d=account.domain) for label in labels])
    server.remember(leaf.key_pem)
    _ok(server, account, "upload_key", key=leaf.key_pem)
    [key] = _ok(server, account, "list_keys")
    assert key["friendly_name"].startswith("ECDSA “prime256v1”, created ")
    _ok(server, account, "upload_cert", crt=leaf.cert_pem)
    expected = name.format(d=account.domain)
    assert [c["friendly_name"] for c in _ok(server, account, "list_certs")] == [expected]
    assert [k["friendly_name"] for k in _ok(server, account, "list_keys")] == [expected]


def test_a_name_in_use_gets_the_time_added(server: Server, ca: Issued) -> None:
    account = _account(server)
    for _ in range(2):
        leaf = make_leaf(ca, [account.domain])
        server.remember(leaf.key_pem)
        _ok(server, account, "upload_cert", crt=leaf.cert_pem)
    first, second = (c["friendly_name"] for c in _ok(server, account, "list_certs"))
    assert first == account.domain
    assert re.fullmatch(re.escape(account.domain) + r" \d{10}\.0", second), second


# -- list_certs / list_keys records (Cpanel/SSLStorage.pm _build_*_record) -------------------------

CERT_KEYS = {
    "created", "domain_is_configured", "domains", "ecdsa_curve_name", "ecdsa_public",
    "friendly_name", "id", "is_self_signed", "issuer.commonName", "issuer.organizationName",
    "key_algorithm", "not_after", "not_before", "serial", "signature_algorithm",
    "subject.commonName", "validation_type",
}  # fmt: skip


@pytest.mark.parametrize("kind", ["rsa", "ec"])
def test_list_certs_and_list_keys_give_the_storage_records(
    server: Server, ca: Issued, kind: str
) -> None:
    account = _account(server)
    leaf = make_leaf(ca, [account.domain], kind=kind)
    server.remember(leaf.key_pem)
    _ok(server, account, "upload_cert", crt=leaf.cert_pem, friendly_name="Leaf")
    _ok(server, account, "upload_key", key=leaf.key_pem, friendly_name="LeafKey")
    [cert] = _ok(server, account, "list_certs")
    [key] = _ok(server, account, "list_keys")
    parsed = x509.load_pem_x509_certificate(leaf.cert_pem.encode())
    serial = format(parsed.serial_number, "x")
    assert cert["serial"] == serial.zfill(len(serial) + len(serial) % 2)
    assert cert["signature_algorithm"] == "ecdsa-with-SHA256"
    assert cert["is_self_signed"] == 0 and cert["domains"] == [account.domain]
    assert cert["subject.commonName"] == account.domain
    assert isinstance(cert["created"], int) and isinstance(key["created"], int)
    public = parsed.public_key()
    facts: tuple[str, str | None, str | None, str | None, int | None]
    if isinstance(public, ec.EllipticCurvePublicKey):
        assert set(cert) == CERT_KEYS
        point = public.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
        ).hex()
        facts = ("id-ecPublicKey", "prime256v1", point, None, None)
    else:
        assert set(cert) == CERT_KEYS | {"modulus", "modulus_length"}
        modulus = format(public.public_numbers().n, "x")  # type: ignore[union-attr]
        assert (cert["modulus"], cert["modulus_length"]) == (modulus, 2048)
        facts = ("rsaEncryption", None, None, modulus, 2048)
    assert (cert["key_algorithm"], cert["ecdsa_curve_name"], cert["ecdsa_public"]) == facts[:3]
    assert set(key) == {
        "created", "ecdsa_curve_name", "ecdsa_public", "friendly_name", "id", "key_algorithm",
        "modulus", "modulus_length",
    }  # fmt: skip
    assert key["friendly_name"] == "LeafKey"
    assert (
        key["key_algorithm"],
        key["ecdsa_curve_name"],
        key["ecdsa_public"],
        key["modulus"],
        key["modulus_length"],
    ) == facts


# -- fetch_certificates_for_fqdns -----------------------------------------------------------------


def test_fetch_certificates_for_fqdns_best_first_with_their_keys(
    server: Server, ca: Issued
) -> None:
    """Cpanel::SSL::Search: certificates naming a domain given whose key is stored, valid
    before self-signed (verify_error), then more names matched (a wildcard covering `www.`);
    `crt`, `cab`, `key`, `domain_is_configured`; a certificate whose key is not stored is
    left out."""
    account = _account(server)
    d = account.domain
    leaf, cert = _stored_leaf(server, account, ca)
    key = _ok(server, account, "generate_key")
    own = _ok(server, account, "generate_cert", domains=d, key_id=key["id"], **SUBJECT)
    keyless = make_leaf(ca, [d])
    _ok(server, account, "upload_cert", crt=keyless.cert_pem)
    wildcard = make_leaf(ca, [d, f"*.{d}"])
    server.remember(wildcard.key_pem)
    [wild] = _ok(server, account, "upload_cert", crt=wildcard.cert_pem)
    _ok(server, account, "upload_key", key=wildcard.key_pem)
    found = _ok(server, account, "fetch_certificates_for_fqdns", domains=f"{d}, www.{d}")
    assert [c["id"] for c in found] == [wild["id"], cert["id"], own["id"]]
    best = found[1]
    assert [c["verify_error"] for c in found] == [None, None, "DEPTH_ZERO_SELF_SIGNED_CERT"]
    assert best["crt"] == leaf.cert_pem and best["cab"] is None
    assert serialization.load_pem_private_key(best["key"].encode(), None).public_key() == (
        leaf.cert.public_key()
    )
    assert best["domain_is_configured"] == 1 and best["friendly_name"] == "Leaf"
    assert not {"users", "certificate", "ca_bundle"} & set(best)


def test_fetch_certificates_for_fqdns_needs_domains(server: Server) -> None:
    account = _account(server)
    assert "domains" in _refused(server, account, "fetch_certificates_for_fqdns")
