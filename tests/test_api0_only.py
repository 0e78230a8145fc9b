"""WHM API 0's own functions and privileges (Whostmgr/XMLUI/Meta.pm), over real HTTP:
`loadavg` answers only without `api.version` (or with 0) and is unknown to API 1 — in a call,
in applist and in a batch; generatessl answers API 0 in Whostmgr/XMLUI/SSL.pm's shape and
names; generatessl and fetchsslinfo need `ssl` in API 0, as Meta.pm checks them."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest

from conftest import Server

AVERAGE = re.compile(r"\d+\.\d\d")


def api0(server: Server, function: str, params: Any = None, **kw: Any) -> httpx.Response:
    return server.get(function, params=params, api_version=None, **kw)


def _count_keys(server: Server, user: str) -> int:
    rows = server.sql(
        "SELECT COUNT(*) FROM ssl_keys k JOIN users u ON u.id = k.user_id WHERE u.username = :u",
        u=user,
    )
    return int(rows[0][0])


# -- loadavg: API 0 only -------------------------------------------------------------------------


@pytest.mark.parametrize("version", [None, "0"], ids=["no api.version", "api.version=0"])
def test_loadavg_answers_the_three_averages_at_the_top_level(
    server: Server, version: str | None
) -> None:
    response = server.get("loadavg", api_version=version)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"one", "five", "fifteen"}
    assert all(AVERAGE.fullmatch(v) for v in body.values()), body


def test_loadavg_is_unknown_to_api1(server: Server) -> None:
    response = server.get("loadavg")
    assert response.status_code == 200
    assert response.json() == {
        "metadata": {
            "command": "loadavg",
            "reason": "Unknown app (loadavg) requested for this version (1) of the API.",
            "result": 0,
            "version": 1,
        }
    }


def test_loadavg_needs_no_privilege(server: Server) -> None:
    """Meta.pm gives loadavg no check: any WHM user, a reseller holding nothing too."""
    reseller, token = server.reseller(privileges=[])
    body = api0(server, "loadavg", user=reseller, token=token).json()
    assert set(body) == {"one", "five", "fifteen"}


def test_a_batch_answers_loadavg_as_unknown_in_its_place(server: Server) -> None:
    body = server.get("batch", params=[("command", "loadavg"), ("command", "version")]).json()
    assert body["metadata"]["reason"] == "One or more commands in the batch failed."
    unknown, version = body["data"]["result"]
    assert unknown["metadata"]["reason"] == (
        "Unknown app (loadavg) requested for this version (1) of the API."
    )
    assert version["metadata"]["result"] == 1


# -- generatessl's API 0 form ---------------------------------------------------------------------

_GENERATED = {
    "cert",
    "cert_id",
    "certfile",
    "csr",
    "csr_id",
    "csrfile",
    "key",
    "key_id",
    "keyfile",
    "message",
    "sender",
    "sender_host",
    "status",
    "statusmsg",
}


def test_generatessl_api0_answers_results_with_the_older_names(server: Server) -> None:
    user, _ = server.account()
    domain = f"{user}.example.com"
    params = {"host": domain, "country": "us", "state": "TX", "city": "houston", "co": "Company"}
    response = api0(server, "generatessl", {**params, "cod": "Dept", "noemail": "1"})
    assert response.status_code == 200
    results = response.json()["results"]
    server.remember(results["key"])
    assert set(results) == _GENERATED
    said = "Key, Certificate, and CSR generated OK"
    assert (results["status"], results["message"], results["statusmsg"]) == (1, said, said)
    assert results["keyfile"] == f"/var/cpanel/ssl/system/keys/{results['key_id']}.key"
    assert results["certfile"] == f"/var/cpanel/ssl/system/certs/{results['cert_id']}.crt"
    assert results["csrfile"] == f"/var/cpanel/ssl/system/csrs/{results['csr_id']}.csr"
    assert results["sender"] == "cpanel"  # root's mail is cPanel's
    assert results["sender_host"] == server.ok("gethostname")["hostname"]
    assert "BEGIN CERTIFICATE-----" in results["cert"] and "REQUEST" in results["csr"]


def test_generatessl_api0_skipping_the_certificate(server: Server) -> None:
    user, _ = server.account()
    params = {"host": f"{user}.example.com", "skip_certificate": "1"}
    results = api0(server, "generatessl", params).json()["results"]
    server.remember(results["key"])
    said = "Key and CSR generated OK"
    assert (results["message"], results["statusmsg"]) == (said, said)
    assert results["cert"] is None and results["cert_id"] is None and results["certfile"] is None


@pytest.mark.parametrize(
    "params",
    [{}, {"domains": "ignored.example.com"}, {"host": ""}],
    ids=["nothing", "API 1's name only", "empty host"],
)
def test_generatessl_api0_without_host(server: Server, params: dict[str, str]) -> None:
    """XMLUI overwrites `domains` with `host`; the missing one is named as the caller knows it."""
    before = _count_keys(server, "root")
    response = api0(server, "generatessl", params)
    assert response.status_code == 200
    said = "Missing required parameter: host."
    assert response.json() == {"results": {"message": said, "status": 0, "statusmsg": said}}
    assert _count_keys(server, "root") == before


def test_generatessl_api1_adds_cpanels_paths_and_sender(server: Server) -> None:
    user, _ = server.account()
    data = server.ok("generatessl", params={"domains": f"{user}.example.com"})
    server.remember(data["key"])
    assert data["keyfile"] == f"/var/cpanel/ssl/system/keys/{data['key_id']}.key"
    assert data["sender"] == "cpanel" and data["sender_host"]
    assert data["certfile"] == f"/var/cpanel/ssl/system/certs/{data['cert_id']}.crt"
    assert data["csrfile"] == f"/var/cpanel/ssl/system/csrs/{data['csr_id']}.csr"
    assert not {"domains", "user"} & set(data)  # not cPanel's


# -- API 0's privileges -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("function", "params", "key"),
    [
        ("generatessl", {"host": "a.example.com"}, "results"),
        ("fetchsslinfo", {"domain": "a.example.com"}, "sslinfo"),
    ],
)
def test_api0_needs_ssl_where_api1_takes_less(
    server: Server, function: str, params: dict[str, str], key: str
) -> None:
    """generatessl takes `ssl-gencrt` and fetchsslinfo `ssl-info` in API 1; Meta.pm's API 0
    checks `ssl` for both: refused in the function's API 0 shape, and audited."""
    reseller, token = server.reseller(privileges=["ssl-gencrt", "ssl-info"])
    since = int(server.sql("SELECT COALESCE(MAX(id), 0) FROM audit_log")[0][0])
    response = api0(server, function, params, user=reseller, token=token)
    assert response.status_code == 403
    body = response.json()
    reason = f"Access denied: calling “{function}” requires the “ssl” privilege."
    refused = body[key] if key == "results" else body[key][0]
    assert refused["status"] == 0 and refused["statusmsg"] == reason
    rows = server.sql(
        "SELECT reason, detail FROM audit_log WHERE id > :s AND action = 'ACCESSDENIED'", s=since
    )
    assert [(r.reason, r.detail) for r in rows] == [("missing_privilege", f"{function} needs ssl")]
    assert _count_keys(server, reseller) == 0


def test_api1_keeps_its_own_privileges(server: Server) -> None:
    reseller, token = server.reseller(privileges=["ssl-gencrt"])
    domain = f"{uuid.uuid4().hex[:8]}.example.com"
    data = server.ok("generatessl", user=reseller, token=token, params={"domains": domain})
    server.remember(data["key"])
    assert data["sender"] == reseller


def test_api0_applist_uses_api0s_privileges(server: Server) -> None:
    reseller, token = server.reseller(privileges=["basic-whm-functions", "ssl-gencrt"])
    api1 = server.ok("applist", user=reseller, token=token)["app"]
    listed = api0(server, "applist", user=reseller, token=token).json()["app"]
    assert "generatessl" in api1 and "generatessl" not in listed
