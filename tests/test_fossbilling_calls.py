"""FOSSBilling's WHM server manager (src/library/Server/Manager/Whm.php, FOSSBilling 0.6/0.7),
replayed call by call over real HTTP: WHM API 0 (no `api.version`), every call a form POST
with `Authorization: WHM user:KEY` (here an API token, which that header also carries), and
its reading of each answer — `result[0].status` for createacct, `acct[0]` for
accountsummary, `passwd[0].status`, `package[]` for listpkgs, and its generic error checks
(`cpanelresult.error`, `data.result == 0`, `result[0].status == 0`, `status != 1`)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from conftest import Server
from gatehouse.passwords import generate_password


class Fossbilling:
    """Server_Manager_Whm::request: POST /json-api/ACTION, the parameters as a form body."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.auth = f"WHM root:{server.root_token}"

    def request(self, action: str, params: dict[str, Any] | None = None) -> Any:
        response = httpx.post(
            f"{self.server.url}/json-api/{action}",
            headers={"Authorization": self.auth},
            data={k: v for k, v in (params or {}).items() if v is not None},
            timeout=90,
        )
        assert response.status_code == 200, response.text
        json = response.json()
        assert isinstance(json, dict), response.text
        # Its error checks, in its order: any of them makes FOSSBilling give up.
        assert "error" not in json.get("cpanelresult", {}), json
        data = json.get("data")
        assert not (isinstance(data, dict) and str(data.get("result")) == "0"), json
        result = json.get("result")
        assert not (isinstance(result, list) and str(result[0].get("status")) == "0"), json
        assert str(json.get("status", "1")) == "1", json
        return json


@pytest.fixture(scope="module")
def fossbilling(server: Server) -> Fossbilling:
    return Fossbilling(server)


def test_test_connection(fossbilling: Fossbilling) -> None:
    assert "version" in fossbilling.request("version")


def test_a_customer_lifetime(server: Server, fossbilling: Fossbilling) -> None:
    package = f"root_b{uuid.uuid4().hex[:8]}"
    # checkPackageExists(create: true): listpkgs, then addpkg with the package's settings
    # (custom values it does not have are left out of the form).
    names = [p["name"] for p in fossbilling.request("listpkgs").get("package", [])]
    assert package not in names
    fossbilling.request(
        "addpkg",
        {"name": package, "quota": "1000", "bwlimit": "10000", "maxsub": "5", "maxpark": "1",
         "maxaddon": "1", "maxftp": "2", "maxsql": "2", "maxpop": "10", "cgi": "1",
         "cpmod": "jupiter", "maxlst": "0", "hasshell": "0"},
    )  # fmt: skip
    listed = {p["name"]: p for p in fossbilling.request("listpkgs")["package"]}
    # getPackages reads these keys of each package.
    entry = listed[package]
    for key in ("FEATURELIST", "CPMOD", "QUOTA", "BWLIMIT", "MAXFTP", "MAXSQL", "MAXLST",
                "MAXSUB", "MAXPOP", "MAXPARK", "MAXADDON", "HASSHELL", "IP", "CGI"):  # fmt: skip
        assert key in entry, key
    assert (entry["QUOTA"], entry["MAXSUB"], entry["HASSHELL"]) == ("1000", "5", "n")

    user = "f" + uuid.uuid4().hex[:7]
    domain = f"{user}.example.com"
    password = generate_password()
    server.remember(password)
    created = fossbilling.request(
        "createacct",
        {"username": user, "domain": domain, "password": password,
         "contactemail": "owner@example.com", "plan": package, "useregns": 0},
    )  # fmt: skip
    assert created["result"][0]["status"] == 1

    summary = fossbilling.request("accountsummary", {"user": user})
    account = summary["acct"][0]
    assert (account["user"], account["domain"], account["suspended"]) == (user, domain, 0)
    assert account["ip"]

    fossbilling.request("suspendacct", {"user": user, "reason": "Unpaid invoice"})
    assert fossbilling.request("accountsummary", {"user": user})["acct"][0]["suspended"] == 1
    fossbilling.request("unsuspendacct", {"user": user})
    assert fossbilling.request("accountsummary", {"user": user})["acct"][0]["suspended"] == 0

    new_password = generate_password()
    server.remember(new_password)
    changed = fossbilling.request(
        "passwd", {"user": user, "pass": new_password, "db_pass_update": "1"}
    )
    assert changed["passwd"][0]["status"] == 1

    other_package = f"root_c{uuid.uuid4().hex[:8]}"
    fossbilling.request("addpkg", {"name": other_package, "quota": "2000"})
    fossbilling.request("changepackage", {"user": user, "pkg": other_package})
    assert fossbilling.request("accountsummary", {"user": user})["acct"][0]["plan"] == (
        other_package
    )

    # modifyAccountPackage: the package's limits set on the account directly.
    fossbilling.request(
        "modifyacct",
        {"user": user, "domain": domain, "HASCGI": "1", "CPTHEME": "jupiter", "LANG": "en",
         "MAXPOP": "20", "MAXFTP": "3", "MAXLST": "0", "MAXSUB": "7", "MAXPARK": "0",
         "MAXADDON": "0", "MAXSQL": "3", "shell": "0"},
    )  # fmt: skip
    listed_acct = server.ok("listaccts", params={"searchtype": "user", "search": f"^{user}$"})
    assert listed_acct["acct"][0]["maxsub"] == "7"
    assert listed_acct["acct"][0]["maxpop"] == "20"

    # changeAccountDomain
    new_domain = f"{user}.example.org"
    fossbilling.request("modifyacct", {"user": user, "domain": new_domain})
    assert fossbilling.request("accountsummary", {"user": user})["acct"][0]["domain"] == (
        new_domain
    )

    # cancelAccount
    fossbilling.request("removeacct", {"user": user, "keepdns": 0})
    gone = server.get("accountsummary", params={"user": user}).json()
    assert gone["metadata"]["result"] == 0


def test_a_reseller(server: Server, fossbilling: Fossbilling) -> None:
    user = "r" + uuid.uuid4().hex[:7]
    password = generate_password()
    server.remember(password)
    created = fossbilling.request(
        "createacct",
        {"username": user, "domain": f"{user}.example.com", "password": password,
         "contactemail": "r@example.com", "plan": "default", "useregns": 0, "reseller": 1},
    )  # fmt: skip
    assert created["result"][0]["status"] == 1
    assert user in server.ok("listresellers")["reseller"]
    # It then calls setupreseller, which cPanel refuses for an account that is already a
    # reseller (Whostmgr::Resellers::Setup): FOSSBilling reports that failure against cPanel
    # too. gatehouse answers as cPanel does.
    refused = httpx.post(
        f"{server.url}/json-api/setupreseller",
        headers={"Authorization": fossbilling.auth},
        data={"user": user, "makeowner": 0},
    ).json()
    assert refused == {
        "result": [
            {
                "status": 0,
                "statusmsg": "_setupreseller tried to make a reseller out of a reseller when "
                f"a normal user was expected. ({user})",
            }
        ]
    }
    fossbilling.request("setacls", {"reseller": user, "acllist": ""})
