"""Keys, certificate signing requests and stored certificates (docs/ssl.md): UAPI SSL
generate_key, upload_key, generate_csr, list_csrs, upload_cert, fetch_best_for_domain,
fetch_key_and_cabundle_for_certificate; WHM generatessl and fetch_vhost_ssl_components.
Generated keys are stored encrypted; an account makes requests for its own domains only; a
refusal stores nothing. Real HTTP, both stores."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from conftest import Server
from ssl_helpers import DAY, Issued, make_ca, make_leaf


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


def _account(server: Server, owner: str | None = None) -> Account:
    user, password = server.account(owner=owner)
    return Account(user, server.cpanel_token(user, password))


def _uapi(server: Server, account: Account, func: str, **params: Any) -> dict[str, Any]:
    """POST (PEM fields are long) to /execute/SSL/FUNC as the account."""
    response = httpx.post(
        f"{server.cpanel_url}/execute/SSL/{func}",
        data=params,
        headers={"Authorization": f"cpanel {account.user}:{account.token}"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    body = dict(response.json())
    for value in (body.get("data") or {}).values() if isinstance(body.get("data"), dict) else ():
        if isinstance(value, str) and "PRIVATE KEY" in value:
            server.remember(value)
    return body


def _ok(server: Server, account: Account, func: str, **params: Any) -> Any:
    body = _uapi(server, account, func, **params)
    assert body["status"] == 1, body
    return body["data"]


def _count(server: Server, table: str, username: str) -> int:
    return int(
        server.sql(
            f"SELECT COUNT(*) FROM {table} t JOIN users u ON u.id = t.user_id "  # noqa: S608
            "WHERE u.username = :u",
            u=username,
        )[0][0]
    )


def _key(pem: str) -> Any:
    return serialization.load_pem_private_key(pem.encode(), None)


CSR_SUBJECT = {
    "countryName": "US",
    "stateOrProvinceName": "Texas",
    "localityName": "Houston",
    "organizationName": "Example, L.L.C.",
}


# -- generate_key ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "kind", "size"),
    [
        ({}, rsa.RSAPrivateKey, 2048),
        ({"keytype": "system"}, rsa.RSAPrivateKey, 2048),
        ({"keytype": "rsa-4096"}, rsa.RSAPrivateKey, 4096),
        ({"keysize": "4096"}, rsa.RSAPrivateKey, 4096),
        ({"keytype": "ecdsa-prime256v1"}, ec.EllipticCurvePrivateKey, 256),
        ({"keytype": "ecdsa-secp384r1"}, ec.EllipticCurvePrivateKey, 384),
    ],
    ids=["default", "system", "rsa-4096", "keysize-4096", "p-256", "p-384"],
)
def test_generate_key_makes_the_type_asked_for(
    server: Server, params: dict[str, str], kind: type, size: int
) -> None:
    account = _account(server)
    data = _ok(server, account, "generate_key", friendly_name="Mine", **params)
    assert isinstance(_key(data["text"]), kind)
    assert _key(data["text"]).key_size == size
    assert data["friendly_name"] == "Mine"
    listed = _ok(server, account, "list_keys")
    assert [(k["id"], k["friendly_name"]) for k in listed] == [(data["id"], "Mine")]


@pytest.mark.parametrize(
    ("keytype", "kind"),
    [("ecdsa-prime256v1", "ECDSA “prime256v1”"), ("rsa-2048", "2,048-bit RSA")],
)
def test_generate_key_names_it_by_type_and_time_by_default(
    server: Server, keytype: str, kind: str
) -> None:
    # Cpanel/SSLStorage/User.pm _generate_key_friendly_name: [datetime,…,datetime_format_short].
    account = _account(server)
    data = _ok(server, account, "generate_key", keytype=keytype)
    pattern = re.escape(kind) + r", created \d{1,2}/\d{1,2}/\d\d, \d{1,2}:\d\d [AP]M UTC"
    assert re.fullmatch(pattern, data["friendly_name"]), data["friendly_name"]
    [listed] = _ok(server, account, "list_keys")
    assert listed["friendly_name"] == data["friendly_name"]


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"keytype": "rsa-1024"}, "“rsa-1024” is not a key type"),
        ({"keytype": "dsa"}, "“dsa” is not a key type"),
        ({"keysize": "1024"}, "The key size “1024” is not supported"),
        ({"keysize": "big"}, "The key size “big” is not supported"),
        ({"keysize": "2048", "keytype": "rsa-2048"}, "not both"),
    ],
    ids=["rsa-1024", "dsa", "keysize-1024", "keysize-text", "both"],
)
def test_generate_key_refuses_other_kinds(
    server: Server, params: dict[str, str], reason: str
) -> None:
    account = _account(server)
    body = _uapi(server, account, "generate_key", **params)
    assert body["status"] == 0 and reason in body["errors"][0], body
    assert _count(server, "ssl_keys", account.user) == 0


def test_generated_key_is_encrypted_at_rest(server: Server) -> None:
    account = _account(server)
    pem = server.remember(_ok(server, account, "generate_key", keytype="rsa-2048")["text"])
    body_lines = [line for line in pem.splitlines() if not line.startswith("-----")]
    if server.backend == "sqlite":
        path = Path(server.db_url.removeprefix("sqlite:///"))
        files = (path, Path(f"{path}-wal"))
        haystack = b"".join(p.read_bytes() for p in files if p.exists())
    else:
        rows = [
            row
            for table in ("ssl_keys", "ssl_csrs", "ssl_certificates", "audit_log")
            for row in server.sql(f"SELECT * FROM {table}")  # noqa: S608
        ]
        haystack = "\n".join(
            repr(tuple(bytes(v) if isinstance(v, memoryview) else v for v in r)) for r in rows
        ).encode()
    assert haystack
    assert b"PRIVATE KEY" not in haystack
    # Nor in any file of the data directory (a generated key is not installed) or the log.
    everywhere = [p for p in server.data_dir.rglob("*") if p.is_file()] + [server.log_path]
    haystack += b"".join(p.read_bytes() for p in everywhere)
    assert all(line.encode() not in haystack for line in body_lines[:3] + body_lines[-2:])


# -- upload_key -----------------------------------------------------------------------------------


def test_upload_key_stores_it_for_install_without_a_key(server: Server, ca: Issued) -> None:
    account = _account(server)
    leaf = make_leaf(ca, [account.domain])
    server.remember(leaf.key_pem)
    data = _ok(server, account, "upload_key", key=leaf.key_pem, friendly_name="Uploaded")
    assert data["friendly_name"] == "Uploaded" and "text" not in data
    installed = _ok(
        server, account, "install_ssl", domain=account.domain, cert=leaf.cert_pem, cabundle=""
    )
    assert installed["key_id"] == data["id"]


def test_upload_key_refuses_garbage(server: Server) -> None:
    account = _account(server)
    body = _uapi(server, account, "upload_key", key="-----BEGIN PRIVATE KEY-----\nAAAA\n")
    assert body["errors"] == ["The key is not a valid PEM-encoded private key."]
    assert _count(server, "ssl_keys", account.user) == 0


# -- generate_csr / list_csrs ---------------------------------------------------------------------


def test_generate_csr_for_own_domains(server: Server) -> None:
    account = _account(server)
    key = _ok(server, account, "generate_key", keytype="ecdsa-prime256v1")
    names = f"{account.domain},www.{account.domain},*.{account.domain}"
    data = _ok(
        server,
        account,
        "generate_csr",
        domains=names,
        key_id=key["id"],
        emailAddress="admin@example.com",
        friendly_name="For the CA",
        **CSR_SUBJECT,
    )
    csr = x509.load_pem_x509_csr(data["text"].encode())
    assert csr.is_signature_valid
    assert csr.public_key() == _key(key["text"]).public_key()
    san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == names.split(",")
    subject = {a.oid: a.value for a in csr.subject}
    assert subject[NameOID.COMMON_NAME] == account.domain
    assert subject[NameOID.COUNTRY_NAME] == "US"
    assert subject[NameOID.ORGANIZATION_NAME] == "Example, L.L.C."
    assert data["domains"] == names.split(",") and data["friendly_name"] == "For the CA"
    listed = _ok(server, account, "list_csrs")
    assert [(c["id"], c["text"]) for c in listed] == [(data["id"], data["text"])]
    assert "PRIVATE KEY" not in str(listed)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("other account", "You do not have access to a domain named"),
        ("no such domain", "You do not have access to a domain named"),
        ("unknown key", "The account has no key with the ID"),
        ("another account's key", "The account has no key with the ID"),
        ("bad country", "is not a two-letter country code"),
        ("no country", "Provide the “countryName” argument."),
        ("long organization", "The “organizationName” must be at most 64 characters."),
        ("bad name", "is not a valid domain name"),
        ("too many names", "Give at most 100 domains."),
    ],
)
def test_generate_csr_refusals(server: Server, change: str, reason: str) -> None:
    account, other = _account(server), _account(server)
    key_id = _ok(server, account, "generate_key", keytype="ecdsa-prime256v1")["id"]
    params: dict[str, str] = {"domains": account.domain, "key_id": key_id, **CSR_SUBJECT}
    if change == "other account":
        params["domains"] = f"{account.domain},{other.domain}"
    elif change == "no such domain":
        params["domains"] = f"nosuch-{account.domain}"
    elif change == "unknown key":
        params["key_id"] = "0" * 64
    elif change == "another account's key":
        params["key_id"] = _ok(server, other, "generate_key", keytype="ecdsa-prime256v1")["id"]
    elif change == "bad country":
        params["countryName"] = "USA"
    elif change == "no country":
        del params["countryName"]
    elif change == "long organization":
        params["organizationName"] = "O" * 65
    elif change == "bad name":
        params["domains"] = "bad_name!.example.com"
    else:
        params["domains"] = ",".join(f"n{i}.{account.domain}" for i in range(101))
    body = _uapi(server, account, "generate_csr", **params)
    assert body["status"] == 0 and reason in body["errors"][0], body
    assert _count(server, "ssl_csrs", account.user) == 0


# -- upload_cert ----------------------------------------------------------------------------------


def test_upload_cert_stores_without_installing(server: Server, ca: Issued) -> None:
    account = _account(server)
    leaf = make_leaf(ca, [account.domain])
    data = _ok(server, account, "upload_cert", crt=leaf.cert_pem, friendly_name="Bought")
    assert data[0]["domains"] == [account.domain] and data[0]["friendly_name"] == "Bought"
    certs = _ok(server, account, "list_certs")
    # Configured: it covers one of the account's SSL-capable domains, installed or not
    # (Cpanel/API/SSL.pm _decorate_sslstorage_certs_for_list_certs).
    assert [(c["id"], c["domain_is_configured"]) for c in certs] == [(data[0]["id"], 1)]
    assert _ok(server, account, "installed_hosts") == []


@pytest.mark.parametrize(
    ("which", "reason"),
    [
        ("garbage", "The certificate is not a valid PEM-encoded X.509 certificate."),
        ("another domain", "The certificate covers none of the account's domains"),
        ("expired", "The certificate expired on"),
    ],
)
def test_upload_cert_refusals(server: Server, ca: Issued, which: str, reason: str) -> None:
    account, other = _account(server), _account(server)
    now = dt.datetime.now(dt.UTC)
    crt = {
        "garbage": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        "another domain": make_leaf(ca, [other.domain]).cert_pem,
        "expired": make_leaf(
            ca, [account.domain], not_before=now - 90 * DAY, not_after=now - DAY
        ).cert_pem,
    }[which]
    body = _uapi(server, account, "upload_cert", crt=crt)
    assert body["status"] == 0 and body["errors"][0].startswith(reason), body
    assert _count(server, "ssl_certificates", account.user) == 0


# -- fetch_best_for_domain / fetch_key_and_cabundle_for_certificate -------------------------------


def _no_certificate(domain: str) -> str:
    return f"No certificate for the domain {domain} could be found."


def test_fetch_best_for_domain_without_a_certificate(server: Server) -> None:
    # Cpanel::SSLInfo::fetchinfo: a success holding only status and statusmsg, the sentence also
    # UAPI's message (Cpanel/API/SSL.pm _fetchinfo_wrapper).
    account = _account(server)
    body = _uapi(server, account, "fetch_best_for_domain", domain=account.domain)
    assert body["status"] == 1, body
    assert body["data"] == {"status": 1, "statusmsg": _no_certificate(account.domain)}
    assert body["messages"] == [_no_certificate(account.domain)]


def test_fetch_best_for_domain_prefers_the_latest_expiry(server: Server, ca: Issued) -> None:
    account = _account(server)
    later = make_leaf(ca, [account.domain], not_after=dt.datetime.now(dt.UTC) + 90 * DAY)
    server.remember(later.key_pem)
    _ok(server, account, "upload_cert", crt=later.cert_pem)
    _ok(server, account, "upload_key", key=later.key_pem)
    installed = make_leaf(ca, [account.domain], not_after=dt.datetime.now(dt.UTC) + 30 * DAY)
    server.remember(installed.key_pem)
    _ok(
        server,
        account,
        "install_ssl",
        domain=account.domain,
        cert=installed.cert_pem,
        key=installed.key_pem,
        cabundle=ca.cert_pem,
    )
    best = _ok(server, account, "fetch_best_for_domain", domain=account.domain)
    assert best["crt"].strip() == later.cert_pem.strip()  # the store's best, not the installed
    assert _key(best["key"]).public_key() == later.key.public_key()
    ip = _ok(server, account, "installed_hosts")[0]["ip"]
    assert {k: v for k, v in best.items() if k not in ("crt", "key")} == {
        # Not installed: no bundle known (cPanel fetches one from the issuer's URL).
        "cab": "Sorry, no certificate authority bundle was found; however, you probably don't "
        f"need one for this certificate ({account.domain}).",
        "crt_origin": account.user,
        "domain": account.domain,
        "ip": ip,
        "key_origin": account.user,
        "searched_users": [account.user],
        "status": 1,
        "statusmsg": "ok",
        "user": account.user,
    }


def test_fetch_best_for_domain_tries_the_other_www_form(server: Server, ca: Issued) -> None:
    account = _account(server)
    leaf = make_leaf(ca, [account.domain])
    _ok(server, account, "upload_cert", crt=leaf.cert_pem)
    domain = f"www.{account.domain}"
    best = _ok(server, account, "fetch_best_for_domain", domain=domain)
    assert best["crt"].strip() == leaf.cert_pem.strip() and best["domain"] == domain
    # No key stored: cPanel's sentence in its place, not an error.
    assert best["key"] == f"Sorry, no SSL key file was found for the domain {domain}."
    assert best["key_origin"] is None


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({}, "You must specify the “domain”."),
        ({"domain": "a..example.com"}, "Invalid domain"),
        ({"domain": "a example.com"}, "Invalid domain"),
    ],
    ids=["missing", "double-dot", "space"],
)
def test_fetch_best_for_domain_refusals(server: Server, params: dict[str, str], error: str) -> None:
    body = _uapi(server, _account(server), "fetch_best_for_domain", **params)
    assert (body["status"], body["errors"], body["data"]) == (0, [error], None)


def test_fetch_best_for_another_accounts_domain_finds_nothing(server: Server, ca: Issued) -> None:
    # Only the caller's own storage is searched: another account's certificate is not found.
    account, other = _account(server), _account(server)
    _ok(server, other, "upload_cert", crt=make_leaf(ca, [other.domain]).cert_pem)
    body = _uapi(server, account, "fetch_best_for_domain", domain=other.domain)
    assert body["data"] == {"status": 1, "statusmsg": _no_certificate(other.domain)}


def test_fetch_key_and_cabundle_for_certificate(server: Server, ca: Issued) -> None:
    account, other = _account(server), _account(server)
    leaf = make_leaf(ca, [account.domain])
    server.remember(leaf.key_pem)
    _ok(
        server,
        account,
        "install_ssl",
        domain=account.domain,
        cert=leaf.cert_pem,
        key=leaf.key_pem,
        cabundle=ca.cert_pem,
    )
    found = _ok(
        server, account, "fetch_key_and_cabundle_for_certificate", certificate=leaf.cert_pem
    )
    assert _key(found["key"]).public_key() == leaf.key.public_key()
    assert found["cab"].strip() == ca.cert_pem.strip()
    assert (found["domain"], found["user"], found["key_origin"]) == (
        account.domain,
        account.user,
        account.user,
    )
    # Another account holds no key for it: a key never crosses accounts.
    theirs = _ok(server, other, "fetch_key_and_cabundle_for_certificate", certificate=leaf.cert_pem)
    assert theirs["key"] == f"Sorry, no SSL key file was found for the domain {account.domain}."
    assert (theirs["key_origin"], theirs["crt_origin"]) == (None, other.user)
    missing = _uapi(server, other, "fetch_key_and_cabundle_for_certificate")
    assert missing["errors"] == ["You must specify the “certificate”."]


# -- WHM generatessl ------------------------------------------------------------------------------


def test_generatessl_makes_key_csr_and_self_signed_certificate(server: Server) -> None:
    user, _ = server.account()
    domain = f"{user}.example.com"
    before = [_count(server, t, "root") for t in ("ssl_keys", "ssl_csrs", "ssl_certificates")]
    response = server.get(
        "generatessl",
        params={"domains": f"{domain},www.{domain}", "keysize": "2048", **CSR_SUBJECT},
    ).json()
    # Whostmgr/API/1/SSL.pm generatessl: the generator's message is the reason; the answer is
    # Whostmgr::SSL::generate's (its storage paths named as cPanel names them).
    assert response["metadata"]["reason"] == "Key, Certificate, and CSR generated OK"
    data = response["data"]
    server.remember(data["key"])
    assert sorted(data) == [
        "cert",
        "cert_id",
        "certfile",
        "csr",
        "csr_id",
        "csrfile",
        "key",
        "key_id",
        "keyfile",
        "sender",
        "sender_host",
    ]
    assert data["sender"] == "cpanel"  # root sends as cpanel
    assert data["sender_host"] == server.ok("gethostname")["hostname"]
    cert = x509.load_pem_x509_certificate(data["cert"].encode())
    key = _key(data["key"])
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
    assert cert.public_key() == key.public_key() and cert.issuer == cert.subject
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == [domain, f"www.{domain}"]
    csr = x509.load_pem_x509_csr(data["csr"].encode())
    assert csr.public_key() == key.public_key() and csr.is_signature_valid
    # Whostmgr::SSL::generate stores into the caller's storage: root's, not the account's.
    after = [_count(server, t, "root") for t in ("ssl_keys", "ssl_csrs", "ssl_certificates")]
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1, 1]
    assert [_count(server, t, user) for t in ("ssl_keys", "ssl_csrs", "ssl_certificates")] == [
        0,
        0,
        0,
    ]


def test_generatessl_names_all_three_after_the_certificate(server: Server) -> None:
    user, _ = server.account()
    domain = f"{user}.example.com"
    data = server.ok("generatessl", params={"domains": f"{domain},www.{domain},mail.{domain}"})
    server.remember(data["key"])
    name = f"{domain}, www.{domain}, and mail.{domain}"
    listed = {c["id"]: c for c in server.ok("listcrts")["crt"]}
    assert listed[data["cert_id"]]["friendly_name"] == name
    rows = server.sql(
        "SELECT (SELECT friendly_name FROM ssl_keys WHERE key_id = :k),"
        " (SELECT friendly_name FROM ssl_csrs WHERE key_id = :k)",
        k=data["key_id"],
    )
    assert tuple(rows[0]) == (name, name)


def test_generatessl_takes_the_older_names_and_can_skip_the_certificate(server: Server) -> None:
    user, _ = server.account()
    domain = f"{user}.example.com"
    certificates = _count(server, "ssl_certificates", "root")
    response = server.get(
        "generatessl",
        params={"host": domain, "country": "de", "co": "Beispiel", "skip_certificate": "1"},
    ).json()
    assert response["metadata"]["reason"] == "Key and CSR generated OK"
    data = response["data"]
    server.remember(data["key"])
    assert (data["cert"], data["cert_id"]) == (None, None)
    subject = {a.oid: a.value for a in x509.load_pem_x509_csr(data["csr"].encode()).subject}
    assert subject[NameOID.COUNTRY_NAME] == "DE"
    assert subject[NameOID.ORGANIZATION_NAME] == "Beispiel"
    assert _count(server, "ssl_certificates", "root") == certificates
    # The CSR is named after its domains, the key after the CSR.
    rows = server.sql("SELECT friendly_name FROM ssl_keys WHERE key_id = :k", k=data["key_id"])
    assert rows[0][0] == domain


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("keysize", "The key size “1024” is not supported"),
        ("no domains", "Give the certificate's domains"),
    ],
)
def test_generatessl_refusals(server: Server, change: str, reason: str) -> None:
    user, _ = server.account()
    keys = _count(server, "ssl_keys", "root")
    params = {"domains": f"{user}.example.com"}
    if change == "keysize":
        params["keysize"] = "1024"
    else:
        params["domains"] = ""
    assert reason in server.fail("generatessl", params=params)
    assert _count(server, "ssl_keys", "root") == keys


@pytest.mark.parametrize(
    ("privileges", "allowed"),
    [(["ssl-gencrt"], True), (["ssl"], True), (["ssl-info"], False)],
    ids=["ssl-gencrt", "ssl", "ssl-info only"],
)
def test_generatessl_privileges(server: Server, privileges: list[str], allowed: bool) -> None:
    reseller, token = server.reseller(privileges)
    # Any domain, another reseller's account's too: it only goes into the caller's storage.
    stranger, _ = server.account()
    response = server.get(
        "generatessl", user=reseller, token=token, params={"domains": f"{stranger}.example.com"}
    )
    body = response.json()
    assert body["metadata"]["result"] == int(allowed), body
    assert _count(server, "ssl_keys", reseller) == int(allowed)
    assert _count(server, "ssl_keys", stranger) == 0
    if allowed:
        server.remember(body["data"]["key"])
        assert body["data"]["sender"] == reseller  # a reseller sends as itself


def test_fetch_vhost_ssl_components(server: Server, ca: Issued) -> None:
    account = _account(server)
    leaf = make_leaf(ca, [account.domain])
    server.remember(leaf.key_pem)
    _ok(
        server,
        account,
        "install_ssl",
        domain=account.domain,
        cert=leaf.cert_pem,
        key=leaf.key_pem,
        cabundle=ca.cert_pem,
    )
    response = server.get("fetch_vhost_ssl_components")
    [found] = [
        c for c in response.json()["data"]["components"] if c["servername"] == account.domain
    ]
    # Whostmgr::SSL::fetch_vhost_ssl_components' record, the key included.
    assert set(found) == {
        "cabundle", "cabundle_id", "certificate", "certificate_id", "key", "key_id", "servername"
    }  # fmt: skip
    assert found["certificate"].strip() == leaf.cert_pem.strip()
    assert found["cabundle"].strip() == ca.cert_pem.strip()
    assert _key(found["key"]).public_key() == leaf.key.public_key()


def test_whm_cpanel_function_reaches_generate_key(server: Server) -> None:
    """Billing systems make keys and CSRs through WHM's `cpanel` function with API 3."""
    user, _ = server.account()
    response = httpx.post(
        f"{server.url}/json-api/cpanel",
        data={
            "api.version": "1",
            "cpanel_jsonapi_user": user,
            "cpanel_jsonapi_apiversion": "3",
            "cpanel_jsonapi_module": "SSL",
            "cpanel_jsonapi_func": "generate_key",
            "keytype": "ecdsa-prime256v1",
        },
        headers={"Authorization": f"whm root:{server.root_token}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    assert result["status"] == 1, result
    pem = server.remember(result["data"]["text"])
    assert isinstance(_key(pem), ec.EllipticCurvePrivateKey)
    assert _count(server, "ssl_keys", user) == 1
