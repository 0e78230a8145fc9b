"""WHM API 1 certificates (docs/ssl.md): installssl checks, stores and installs; fetchsslinfo,
listcrts and fetch_ssl_vhosts read it back; delete_ssl_vhost uninstalls; every refusal leaves
nothing stored; the key never rests in plaintext; resellers act on their own accounts' domains
only. Real HTTP, both stores."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from conftest import Server
from ssl_helpers import DAY, Issued, make_ca, make_leaf

NOW = dt.datetime.now(dt.UTC)


def _install(
    server: Server,
    domain: str,
    leaf: Issued,
    cab: str | None = None,
    *,
    user: str = "root",
    token: str | None = None,
) -> httpx.Response:
    server.remember(leaf.key_pem)
    data = {"api.version": "1", "domain": domain, "crt": leaf.cert_pem, "key": leaf.key_pem}
    if cab is not None:
        data["cab"] = cab
    headers = {"Authorization": f"whm {user}:{token or server.root_token}"}
    return httpx.post(f"{server.url}/json-api/installssl", data=data, headers=headers, timeout=30)


def _stored(server: Server, username: str) -> list[int]:
    """How many certificates, keys and vhosts the account has in the store."""
    return [
        server.sql(
            f"SELECT COUNT(*) FROM {table} t JOIN users u ON u.id = t.user_id "  # noqa: S608
            "WHERE u.username = :u",
            u=username,
        )[0][0]
        for table in ("ssl_certificates", "ssl_keys", "ssl_vhosts")
    ]


@pytest.fixture(scope="module")
def ca() -> Issued:
    return make_ca()


def test_install_and_read_back(server: Server, ca: Issued) -> None:
    user, _ = server.account()
    domain = f"{user}.example.com"
    leaf = make_leaf(ca, [domain, f"www.{domain}"])
    body = _install(server, domain, leaf, ca.cert_pem).json()
    assert body["metadata"]["result"] == 1, body
    assert body["data"]["user"] == user and body["data"]["domain"] == domain

    info = server.ok("fetchsslinfo", params={"domain": domain})
    assert info["crt"].strip() == leaf.cert_pem.strip()
    assert info["cab"].strip() == ca.cert_pem.strip()
    # Cpanel::SSLInfo::fetchinfo's hash, status and statusmsg taken out (Whostmgr/API/1/SSL.pm).
    assert {
        k: info[k] for k in ("crt_origin", "domain", "key_origin", "searched_users", "user")
    } == {
        "crt_origin": user,
        "domain": domain,
        "key_origin": user,
        "searched_users": ["root", user],
        "user": user,
    }
    assert set(info) == {
        "cab", "crt", "crt_origin", "domain", "ip", "key", "key_origin", "searched_users", "user"
    }  # fmt: skip
    key = serialization.load_pem_private_key(info["key"].encode(), None)
    assert key.public_key() == leaf.key.public_key()

    [listed] = server.ok("listcrts", params={"user": user})["crt"]
    assert listed["domains"] == [domain, f"www.{domain}"]
    assert listed["not_after"] == int(leaf.cert.not_valid_after_utc.timestamp())
    vhosts = [v for v in server.ok("fetch_ssl_vhosts")["vhosts"] if v["servername"] == domain]
    assert vhosts[0]["user"] == user and vhosts[0]["crt"]["is_self_signed"] == ""


LISTCRTS_KEYS = {
    "domain", "domain_owners", "domains", "ecdsa_curve_name", "friendly_name", "id",
    "is_self_signed", "issuer.organizationName", "key_algorithm", "modulus_length", "not_after",
    "registered",
}  # fmt: skip


def test_listcrts_lists_ssl_storage_not_what_is_installed(server: Server, ca: Issued) -> None:
    # Whostmgr::SSL::list_cert_domains_with_owners: `user`'s stored certificates, installed
    # or not, each name's owner (a `www.` name has none: getdomainowner reads userdomains).
    user, password = server.account()
    domain = f"{user}.example.com"
    installed = make_leaf(ca, [domain, f"www.{domain}"], kind="rsa")
    assert _install(server, domain, installed, ca.cert_pem).json()["metadata"]["result"] == 1
    stored = make_leaf(ca, [f"www.{domain}", domain])
    body = server.uapi(
        user, "SSL", "upload_cert", token=server.cpanel_token(user, password), crt=stored.cert_pem
    ).json()
    assert body["status"] == 1, body
    crts = {c["domains"][0]: c for c in server.ok("listcrts", params={"user": user})["crt"]}
    assert set(crts[domain]) == LISTCRTS_KEYS
    assert {k: v for k, v in crts[domain].items() if k not in ("friendly_name", "id")} == {
        "domain": domain,
        "domain_owners": [user, None],
        "domains": [domain, f"www.{domain}"],
        "ecdsa_curve_name": None,
        "is_self_signed": 0,
        "issuer.organizationName": None,
        "key_algorithm": "rsaEncryption",
        "modulus_length": 2048,
        "not_after": int(installed.cert.not_valid_after_utc.timestamp()),
        "registered": 1,
    }
    www = crts[f"www.{domain}"]
    assert (www["domain_owners"], www["registered"], www["ecdsa_curve_name"]) == (
        [None, user],
        0,  # its first name has no owner
        "prime256v1",
    )
    registered = server.ok("listcrts", params={"user": user, "registered": "1"})["crt"]
    assert [c["domains"][0] for c in registered] == [domain]
    # Root's own storage (the default `user`) holds neither.
    assert domain not in {c["domain"] for c in server.ok("listcrts")["crt"]}


@pytest.mark.parametrize("caller", ["root", "reseller"])
def test_listcrts_names_only_owners_the_listed_user_owns(
    server: Server, ca: Issued, caller: str
) -> None:
    # checkowner(user, domain_owner): hasroot() owns everyone; a reseller listing its account
    # sees another account's name as null.
    reseller, token = server.reseller(["ssl", "ssl-info", "create-acct"])
    mine, _ = server.account(owner=reseller)
    other, _ = server.account()
    mine_domain, other_domain = f"{mine}.example.com", f"{other}.example.com"
    leaf = make_leaf(ca, [mine_domain, other_domain])
    assert _install(server, mine_domain, leaf).json()["metadata"]["result"] == 1
    as_caller = {"user": reseller, "token": token} if caller == "reseller" else {}
    [crt] = server.ok("listcrts", params={"user": mine}, **as_caller)["crt"]
    assert crt["domain_owners"] == [mine, other if caller == "root" else None]


@pytest.mark.parametrize(
    ("caller", "listed", "reason"),
    [
        ("reseller", "other", "You do not own a user “{name}”."),
        ("reseller", "missing", "You do not own a user “{name}”."),
        ("reseller", "root", "You do not own a user “{name}”."),
        ("root", "missing", "The user “{name}” does not exist."),
    ],
)
def test_listcrts_refusals(server: Server, caller: str, listed: str, reason: str) -> None:
    reseller, token = server.reseller(["ssl-info"])
    name = {
        "other": server.account()[0],
        "missing": "nosuch" + uuid.uuid4().hex[:6],
        "root": "root",
    }[listed]
    as_caller = {"user": reseller, "token": token} if caller == "reseller" else {}
    assert server.fail("listcrts", params={"user": name}, **as_caller) == reason.format(name=name)


def _vhosts(server: Server, user: str) -> dict[str, dict[str, Any]]:
    vhosts = server.ok("fetch_ssl_vhosts")["vhosts"]
    return {v["servername"]: v for v in vhosts if v["user"] == user}


def test_fetch_ssl_vhosts_items_are_cpanels(server: Server, ca: Issued) -> None:
    # Whostmgr/API/1/SSL.pm fetch_ssl_vhosts over Whostmgr::SSL::fetch_ssl_vhosts: the vhost's
    # docroot, names, address and type; the certificate as the Apache TLS index holds it.
    user, password = server.account()
    domain = f"{user}.example.com"
    sub = f"shop.{domain}"
    body = server.uapi(
        user,
        "SubDomain",
        "addsubdomain",
        token=server.cpanel_token(user, password),
        domain="shop",
        rootdomain=domain,
    ).json()
    assert body["status"] == 1, body
    leaf = make_leaf(ca, [domain, f"www.{domain}", sub], kind="rsa")
    for host in (domain, sub):
        assert _install(server, host, leaf, ca.cert_pem).json()["metadata"]["result"] == 1
    ip = server.sql("SELECT ip FROM users WHERE username = :u", u=user)[0][0]
    ca_cn = ca.cert.subject.rfc4514_string().removeprefix("CN=")
    key = leaf.key.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    main = _vhosts(server, user)[domain]
    crt = main.pop("crt")
    assert main == {
        "docroot": f"/home/{user}/public_html",
        "domains": sorted([domain, f"mail.{domain}", f"www.{domain}"]),
        "ip": ip,
        "iptype": "shared",
        "ipv6": "",
        "is_primary_on_ip": 0,  # the shared address's primary SSL host is the server's own
        "mail_sni_status": 1,
        "needs_sni": 1,
        "servername": domain,
        "type": "main",
        "user": user,
    }
    assert {k: v for k, v in crt.items() if k not in ("created", "id")} == {
        "domains": [domain, f"www.{domain}", sub],
        "ecdsa_curve_name": None,
        "ecdsa_public": None,
        "encryption_algorithm": "rsaEncryption",
        "is_self_signed": "",  # Perl's `subject eq issuer`
        "issuer.commonName": ca_cn,
        "issuer.organizationName": None,
        "issuer_text": f"commonName\n{ca_cn}",
        "modulus": format(key.public_numbers().n, "x"),
        "modulus_length": "2048",  # the index's text column
        "not_after": int(leaf.cert.not_valid_after_utc.timestamp()),
        "not_before": int(leaf.cert.not_valid_before_utc.timestamp()),
        "public_exponent": "010001",
        "signature_algorithm": "ecdsa-with-SHA256",  # the (P-256) CA signed it
        "subject.commonName": {"commonName": domain},
        "subject_text": f"commonName\n{domain}",
        "validation_type": None,
    }
    assert isinstance(crt["created"], int) and crt["id"].startswith(domain.replace(".", "_"))
    shop = _vhosts(server, user)[sub]
    assert (shop["type"], shop["domains"], shop["is_primary_on_ip"], shop["needs_sni"]) == (
        "sub",
        [sub, f"www.{sub}"],
        0,
        1,
    )
    assert shop["docroot"].startswith(f"/home/{user}/public_html")

    # On an address of its own the main domain is the primary SSL host; a vhost with the same
    # certificate needs no SNI.
    server.sql("UPDATE users SET ip = '198.51.100.77' WHERE username = :u", u=user)
    both = _vhosts(server, user)
    assert [
        (both[h]["iptype"], both[h]["ip"], both[h]["is_primary_on_ip"], both[h]["needs_sni"])
        for h in (domain, sub)
    ] == [("dedicated", "198.51.100.77", 1, 0), ("dedicated", "198.51.100.77", 0, 0)]


def test_fetch_ssl_vhosts_an_ecdsa_self_signed_certificate(server: Server) -> None:
    user, _ = server.account()
    domain = f"{user}.example.com"
    own = make_ca(domain)  # self-signed, its CN the domain
    assert _install(server, domain, own).json()["metadata"]["result"] == 1
    crt = _vhosts(server, user)[domain]["crt"]
    assert "public_exponent" not in crt
    assert {
        k: crt[k]
        for k in (
            "ecdsa_curve_name",
            "encryption_algorithm",
            "is_self_signed",
            "modulus",
            "modulus_length",
            "signature_algorithm",
        )
    } == {
        "ecdsa_curve_name": "prime256v1",
        "encryption_algorithm": "id-ecPublicKey",
        "is_self_signed": "1",
        "modulus": None,
        "modulus_length": None,
        "signature_algorithm": "ecdsa-with-SHA256",
    }
    assert len(crt["ecdsa_public"]) == 66 and crt["ecdsa_public"][:2] in ("02", "03")


def test_lists_hold_no_key_material(server: Server, ca: Issued) -> None:
    user, _ = server.account()
    domain = f"{user}.example.com"
    assert _install(server, domain, make_leaf(ca, [domain])).json()["metadata"]["result"] == 1
    for function in ("listcrts", "fetch_ssl_vhosts"):
        text = server.get(function).text
        assert "PRIVATE KEY" not in text


def test_private_key_is_encrypted_at_rest(server: Server, ca: Issued) -> None:
    user, _ = server.account()
    domain = f"{user}.example.com"
    leaf = make_leaf(ca, [domain])
    assert _install(server, domain, leaf).json()["metadata"]["result"] == 1
    rows = server.sql(
        "SELECT k.ciphertext FROM ssl_keys k JOIN users u ON u.id = k.user_id "
        "WHERE u.username = :u",
        u=user,
    )
    assert len(rows) == 1
    blob = bytes(rows[0][0])
    body = "".join(leaf.key_pem.splitlines()[1:-1]).encode()
    assert b"PRIVATE KEY" not in blob and body[:40] not in blob


def test_a_wildcard_covers_one_label(server: Server, ca: Issued) -> None:
    user, password = server.account()
    domain = f"{user}.example.com"
    token = server.cpanel_token(user, password)
    for label in ("shop", "deep.er"):
        body = server.uapi(
            user, "SubDomain", "addsubdomain", token=token, domain=label, rootdomain=domain
        ).json()
        assert body["status"] == 1, body
    wildcard = make_leaf(ca, [f"*.{domain}"])
    assert _install(server, f"shop.{domain}", wildcard).json()["metadata"]["result"] == 1
    reason = _install(server, f"deep.er.{domain}", wildcard).json()["metadata"]["reason"]
    assert "does not cover the domain" in reason


def test_delete_ssl_vhost_uninstalls(server: Server, ca: Issued) -> None:
    user, _ = server.account()
    domain = f"{user}.example.com"
    assert _install(server, domain, make_leaf(ca, [domain])).json()["metadata"]["result"] == 1
    server.ok("delete_ssl_vhost", params={"host": domain})
    assert domain not in [v["servername"] for v in server.ok("fetch_ssl_vhosts")["vhosts"]]
    assert _stored(server, user)[2] == 0
    assert "no SSL certificate installed" in server.fail(
        "delete_ssl_vhost", params={"host": domain}
    )


def test_fetchsslinfo_without_a_certificate(server: Server) -> None:
    # A success with no data but the sentence as a message (Whostmgr/API/1/SSL.pm fetchsslinfo).
    user, _ = server.account()
    domain = f"{user}.example.com"
    body = server.get("fetchsslinfo", params={"domain": domain}).json()
    assert (body["metadata"]["result"], body["metadata"]["reason"], body["data"]) == (1, "OK", {})
    assert body["metadata"]["output"]["messages"] == [
        f"No certificate for the domain {domain} could be found."
    ]


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({}, "No certificate data or domain supplied."),
        ({"domain": "a/b.example.com"}, "Invalid domain"),
    ],
    ids=["nothing", "invalid"],
)
def test_fetchsslinfo_refusals(server: Server, params: dict[str, str], reason: str) -> None:
    assert server.fail("fetchsslinfo", params=params) == reason


def test_fetchsslinfo_by_certificate_finds_the_owners_key(server: Server, ca: Issued) -> None:
    user, _ = server.account()
    domain = f"{user}.example.com"
    leaf = make_leaf(ca, [domain])
    assert _install(server, domain, leaf).json()["metadata"]["result"] == 1
    info = server.ok("fetchsslinfo", params={"crtdata": leaf.cert_pem})
    key = serialization.load_pem_private_key(info["key"].encode(), None)
    assert key.public_key() == leaf.key.public_key()
    assert (info["domain"], info["crt_origin"], info["key_origin"]) == (domain, "root", user)


def _other_ca_chain() -> str:
    return make_ca().cert_pem


REFUSALS: list[tuple[str, Any, str]] = [
    # (case, how to change a good install, part of the refusal)
    ("mismatched key", "key", "The certificate does not match the key."),
    ("expired", "expired", "The certificate expired on"),
    ("not yet valid", "future", "The certificate is not valid yet"),
    ("broken chain", "chain", "does not hold the certificate's issuer"),
    ("chain not signing", "forged", "does not verify"),
    ("another domain", "domain", "does not cover the domain"),
    ("garbage certificate", "garbage_crt", "is not a valid PEM-encoded X.509 certificate"),
    ("garbage key", "garbage_key", "is not a valid PEM-encoded private key"),
    ("oversized field", "big", "larger than 64 KB"),
]


@pytest.mark.parametrize(("case", "change", "reason"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refusals_store_nothing(
    server: Server, ca: Issued, case: str, change: str, reason: str
) -> None:
    user, _ = server.account()
    domain = f"{user}.example.com"
    leaf = make_leaf(ca, [domain])
    crt, key, cab = leaf.cert_pem, leaf.key_pem, ca.cert_pem
    if change == "key":
        key = make_leaf(ca, [domain]).key_pem
    elif change == "expired":
        crt = make_leaf(
            ca, [domain], key=leaf.key, not_before=NOW - 90 * DAY, not_after=NOW - DAY
        ).cert_pem
    elif change == "future":
        crt = make_leaf(
            ca, [domain], key=leaf.key, not_before=NOW + DAY, not_after=NOW + 90 * DAY
        ).cert_pem
    elif change == "chain":
        cab = _other_ca_chain()
    elif change == "forged":
        # A CA with the same name but another key: the issuer is found, its signature is not.
        cab = make_ca(ca.cert.subject.rfc4514_string().removeprefix("CN=")).cert_pem
    elif change == "domain":
        crt = make_leaf(ca, [f"other-{uuid.uuid4().hex[:8]}.example.org"], key=leaf.key).cert_pem
    elif change == "garbage_crt":
        crt = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n"
    elif change == "garbage_key":
        key = "hello, I am not a key"
    elif change == "big":
        crt = crt + "\n" + "A" * (65 * 1024)
    server.remember(key)
    data = {"api.version": "1", "domain": domain, "crt": crt, "key": key, "cab": cab}
    response = httpx.post(
        f"{server.url}/json-api/installssl",
        data=data,
        headers={"Authorization": f"whm root:{server.root_token}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["metadata"]["result"] == 0
    assert reason in body["metadata"]["reason"]
    assert "PRIVATE KEY" not in response.text
    assert _stored(server, user) == [0, 0, 0]


def test_a_10_mb_upload_is_refused_cleanly(server: Server, ca: Issued) -> None:
    user, _ = server.account()
    domain = f"{user}.example.com"
    leaf = make_leaf(ca, [domain])
    server.remember(leaf.key_pem)
    response = httpx.post(
        f"{server.url}/json-api/installssl",
        data={
            "api.version": "1",
            "domain": domain,
            "crt": "A" * (10 * 1024 * 1024),
            "key": leaf.key_pem,
        },
        headers={"Authorization": f"whm root:{server.root_token}"},
        timeout=60,
    )
    assert response.status_code == 413
    assert response.json()["metadata"]["result"] == 0
    assert _stored(server, user) == [0, 0, 0]


def test_a_reseller_installs_for_its_own_accounts_only(server: Server, ca: Issued) -> None:
    reseller, token = server.reseller(["ssl", "ssl-info", "create-acct"])
    mine, _ = server.account(owner=reseller)
    theirs, _ = server.account()
    mine_domain, their_domain = f"{mine}.example.com", f"{theirs}.example.com"
    ok = _install(server, mine_domain, make_leaf(ca, [mine_domain]), user=reseller, token=token)
    assert ok.json()["metadata"]["result"] == 1
    refused = _install(
        server, their_domain, make_leaf(ca, [their_domain]), user=reseller, token=token
    )
    missing = _install(
        server,
        "nosuch-" + their_domain,
        make_leaf(ca, ["nosuch-" + their_domain]),
        user=reseller,
        token=token,
    )
    assert refused.json()["metadata"]["reason"] == (
        f"You do not have access to a domain named “{their_domain}”."
    )
    # Told nothing: a domain that does not exist gets the same words.
    assert missing.json()["metadata"]["reason"].startswith("You do not have access to a domain")
    assert _stored(server, theirs) == [0, 0, 0]
    vhosts = server.ok("fetch_ssl_vhosts", user=reseller, token=token)["vhosts"]
    listed = {v["servername"] for v in vhosts}
    assert mine_domain in listed and their_domain not in listed


def test_installing_needs_the_ssl_privilege(server: Server, ca: Issued) -> None:
    reseller, token = server.reseller(["ssl-info"])
    mine, _ = server.account(owner=reseller)
    domain = f"{mine}.example.com"
    response = _install(server, domain, make_leaf(ca, [domain]), user=reseller, token=token)
    assert response.json()["metadata"]["result"] == 0
    assert _stored(server, mine) == [0, 0, 0]
    assert server.get("listcrts", user=reseller, token=token).json()["metadata"]["result"] == 1


def test_api0_install_fetch_and_list(server: Server, ca: Issued) -> None:
    # Whostmgr/XMLUI/SSL.pm: installssl takes the certificate as `cert` and answers flat;
    # fetchsslinfo answers an `sslinfo` list; listcrts a bare `crt` list.
    user, _ = server.account()
    domain = f"{user}.example.com"
    leaf = make_leaf(ca, [domain])
    server.remember(leaf.key_pem)
    data = {"domain": domain, "cert": leaf.cert_pem, "key": leaf.key_pem, "cab": ca.cert_pem}
    headers = {"Authorization": f"WHM root:{server.root_token}"}
    body = httpx.post(
        f"{server.url}/json-api/installssl", data=data, headers=headers, timeout=30
    ).json()
    assert body["status"] == 1 and set(body) == {"rawout", "status", "statusmsg"}
    assert body["statusmsg"].startswith("The SSL certificate is now installed onto the domain")
    assert body["rawout"].startswith("<br>The SSL certificate is now installed onto the domain")
    [info] = server.get("fetchsslinfo", api_version=None, params={"domain": domain}).json()[
        "sslinfo"
    ]
    assert (info["status"], info["statusmsg"], info["user"]) == (1, "ok", user)
    assert info["crt"].strip() == leaf.cert_pem.strip()
    # No certificate: XMLUI's status 0, fetchinfo's sentence (Whostmgr/XMLUI/SSL.pm fetchinfo).
    other, _ = server.account()
    [none] = server.get(
        "fetchsslinfo", api_version=None, params={"domain": f"{other}.example.com"}
    ).json()["sslinfo"]
    assert none == {
        "status": 0,
        "statusmsg": f"No certificate for the domain {other}.example.com could be found.",
    }
    # Whostmgr/XMLUI/SSL.pm listcrts lists the caller's own storage: `user` is not read.
    listed = server.get("listcrts", api_version=None, params={"user": user}).json()
    assert set(listed) == {"crt"} and domain not in [c["domain"] for c in listed["crt"]]
    refused = httpx.post(
        f"{server.url}/json-api/installssl",
        data={"domain": domain, "cert": "not a certificate", "key": leaf.key_pem},
        headers=headers,
        timeout=30,
    ).json()
    assert refused["status"] == 0 and refused["statusmsg"]


_DONE = "The SSL certificate is now installed onto the domain “{d}” using the IP address “{ip}”."
_RESTART = "Apache is restarting in the background."
_ALREADY = "This certificate was already installed on this host."


@pytest.mark.parametrize(
    ("installs", "action", "message", "raw"),
    [
        pytest.param(
            [("a", True)],
            "install",
            f"{_DONE} {_RESTART}\n",
            f"<br>{_DONE}<br />{_RESTART}",
            id="first",
        ),
        pytest.param(
            [("a", True), ("b", True)],
            "update",
            f"{_DONE}\nThe existing virtual host was updated with the new certificate. "
            f"{_RESTART}\n",
            f"<br>{_DONE}\n<br />\nThe existing virtual host was updated with the new "
            f"certificate.<br />{_RESTART}",
            id="another certificate",
        ),
        pytest.param(
            [("a", True), ("a", False)],
            "none",
            f"{_ALREADY} The system made no changes.",
            f"<br /><b>{_ALREADY} The system made no changes.</b><br />\n",
            id="same certificate, no bundle",
        ),
        pytest.param(
            [("a", False), ("a", True)],
            "update_cabundle",
            f"{_ALREADY} The system updated the Certificate Authority bundle for the current "
            "SSL installation.",
            f"<br /><b>{_ALREADY} The system updated the Certificate Authority bundle for the "
            "current SSL installation.</b><br />\n",
            id="same certificate, new bundle",
        ),
    ],
)
def test_install_reports_what_it_did_in_cpanels_words(
    server: Server,
    ca: Issued,
    installs: list[tuple[str, bool]],
    action: str,
    message: str,
    raw: str,
) -> None:
    """Whostmgr/API/1/SSL.pm installssl: `reason` is Cpanel::SSLInstall's message, and
    `output.raw` its html; the API 0 form gives the same as `statusmsg` and `rawout`."""
    user, _ = server.account()
    domain = f"{user}.example.com"
    leaves = {"a": make_leaf(ca, [domain]), "b": make_leaf(ca, [domain])}
    for name, with_bundle in installs:
        body = _install(server, domain, leaves[name], ca.cert_pem if with_bundle else None).json()
        assert body["metadata"]["result"] == 1, body
    ip = body["data"]["ip"]
    expected = message.format(d=domain, ip=ip)
    assert body["metadata"]["reason"] == expected
    assert body["metadata"]["output"] == {"raw": raw.format(d=domain, ip=ip)}
    assert (body["data"]["action"], body["data"]["message"]) == (action, expected)
    assert body["data"]["statusmsg"] == expected
    info = server.ok("fetchsslinfo", params={"domain": domain})
    assert info["cab"] is not None, "a bundle once given is kept"


def test_install_takes_the_domain_without_www(server: Server, ca: Issued) -> None:
    # real_installssl lower-cases the domain and drops a leading `www.`.
    user, _ = server.account()
    domain = f"{user}.example.com"
    body = _install(server, f"WWW.{domain.upper()}", make_leaf(ca, [domain])).json()
    assert body["metadata"]["result"] == 1, body
    assert body["data"]["domain"] == body["data"]["servername"] == domain


# -- fetch_ssl_certificates_for_fqdns -------------------------------------------------------------


@pytest.mark.parametrize("caller", ["root", "owner", "stranger"])
def test_fetch_ssl_certificates_for_fqdns_searches_the_owner_the_caller_administers(
    server: Server, ca: Issued, caller: str
) -> None:
    # Whostmgr/API/1/SSL.pm: the caller's own storage, and first the domain owner's when
    # checkowner(caller, owner) — root owns everyone, a reseller its own accounts.
    reseller, token = server.reseller(["ssl", "ssl-info", "create-acct"])
    user, _ = server.account(owner=reseller)
    domain = f"{user}.example.com"
    leaf = make_leaf(ca, [domain, f"www.{domain}"])
    assert _install(server, domain, leaf, ca.cert_pem).json()["metadata"]["result"] == 1
    as_caller: dict[str, Any] = {}
    if caller == "owner":
        as_caller = {"user": reseller, "token": token}
    elif caller == "stranger":
        stranger, stranger_token = server.reseller(["ssl", "ssl-info"])
        as_caller = {"user": stranger, "token": stranger_token}
    found = server.ok(
        "fetch_ssl_certificates_for_fqdns",
        params={"domains": f"{domain};www.{domain}"},
        **as_caller,
    )["payload"]
    if caller == "stranger":
        assert found == []
        return
    [item] = found
    assert item["users"] == [user]
    assert item["crt"] == leaf.cert_pem and item["cab"] == ca.cert_pem
    assert "BEGIN PRIVATE KEY" in item["key"]
    server.remember(item["key"])
    assert item["verify_error"] is None
    assert item["domains"] == [domain, f"www.{domain}"]
    assert not {"certificate", "ca_bundle"} & set(item)


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        (
            {},
            "Provide the “domains” parameter for the "
            "“Whostmgr::API::1::SSL::fetch_ssl_certificates_for_fqdns” function.",
        ),
        ({"domains": ""}, "The value of “domains” may not be empty."),
    ],
    ids=["missing", "empty"],
)
def test_fetch_ssl_certificates_for_fqdns_refusals(
    server: Server, params: dict[str, str], reason: str
) -> None:
    assert server.fail("fetch_ssl_certificates_for_fqdns", params=params) == reason
