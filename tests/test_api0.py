"""WHM API 0: the functions billing systems call without `api.version` answer in API 0's own
shapes (gatehouse/api/api0.py, gatehouse/whm/api0.py; docs/api.md), success and refusal, with
API 0's parameter names — and the same calls with `api.version=1` keep API 1's envelope."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from conftest import Server
from gatehouse.passwords import generate_password


def api0(server: Server, function: str, params: Any = None, **kw: Any) -> httpx.Response:
    return server.get(function, params=params, api_version=None, **kw)


def body0(server: Server, function: str, params: Any = None, **kw: Any) -> dict[str, Any]:
    response = api0(server, function, params, **kw)
    assert response.status_code == 200, response.text
    assert "metadata" not in response.json(), response.text
    return dict(response.json())


def new_name() -> str:
    return "z" + uuid.uuid4().hex[:9]


def created(server: Server) -> tuple[str, str]:
    return server.account()


# -- the "result" list family ------------------------------------------------------------------


def test_createacct_success(server: Server) -> None:
    username = new_name()
    password = server.remember(generate_password())
    body = body0(
        server,
        "createacct",
        {"username": username, "domain": f"{username}.example.com", "password": password},
    )
    assert set(body) == {"result"}
    [item] = body["result"]
    assert item["status"] == 1 and item["statusmsg"] == "Account Creation Ok"
    assert isinstance(item["rawout"], str) and item["rawout"]
    options = item["options"]
    assert options["package"] == "default" and options["ip"]
    assert {"nameserver", "nameserver2", "nameservera", "nameserverentry4"} <= set(options)
    assert password not in str(body)


def test_createacct_without_a_password_shows_the_generated_one_in_rawout(server: Server) -> None:
    username = new_name()
    body = body0(server, "createacct", {"username": username, "domain": f"{username}.com"})
    [item] = body["result"]
    assert item["status"] == 1, item
    [line] = [x for x in item["rawout"].splitlines() if x.startswith("| PassWord: ")]
    password = server.remember(line.removeprefix("| PassWord: "))
    assert len(password) >= 20


def test_createacct_refusal_is_status_0_with_null_keys(server: Server) -> None:
    username, _ = created(server)
    raw = api0(
        server,
        "createacct",
        {"username": username, "domain": f"{new_name()}.example.com", "password": "Pw-1234567"},
    )
    assert raw.status_code == 200
    [item] = raw.json()["result"]
    assert item["status"] == 0 and item["statusmsg"]
    assert item["rawout"] is None and item["options"] is None
    assert b'"status":0' in raw.content


def test_removeacct_takes_user_and_answers_rawout(server: Server) -> None:
    username, _ = created(server)
    [item] = body0(server, "removeacct", {"user": username})["result"]
    assert item["status"] == 1 and item["statusmsg"] == f"{username} account removed"
    assert "Account Removal Complete" in item["rawout"]
    [again] = body0(server, "removeacct", {"user": username})["result"]
    assert again["status"] == 0 and again["rawout"] is None


@pytest.mark.parametrize("function", ["suspendacct", "unsuspendacct"])
def test_suspension_refusal(server: Server, function: str) -> None:
    raw = api0(server, function, {"user": "nosuchuser" + uuid.uuid4().hex[:4]})
    assert raw.status_code == 200
    assert raw.json() == {
        "result": [{"status": 0, "statusmsg": raw.json()["result"][0]["statusmsg"]}]
    }
    assert raw.json()["result"][0]["statusmsg"]


def test_suspend_and_unsuspend(server: Server) -> None:
    username, _ = created(server)
    [item] = body0(server, "suspendacct", {"user": username, "reason": "unpaid"})["result"]
    assert item["status"] == 1 and isinstance(item["statusmsg"], str)
    assert set(item) == {"status", "statusmsg"}
    listed = body0(server, "listsuspended")
    assert listed["status"] == 1 and listed["statusmsg"] == "Ok"
    mine = [a for a in listed["accts"] if a["user"] == username]
    assert len(mine) == 1 and mine[0]["reason"] == "unpaid"
    assert isinstance(mine[0]["unixtime"], str) and "is_locked" not in mine[0]
    [back] = body0(server, "unsuspendacct", {"user": username})["result"]
    assert back["status"] == 1


def test_changepackage(server: Server) -> None:
    username, _ = created(server)
    [item] = body0(server, "changepackage", {"user": username, "pkg": "default"})["result"]
    assert item["status"] == 1
    assert item["statusmsg"] == f"Account Upgrade/Downgrade Complete for {username}"
    [bad] = body0(server, "changepackage", {"user": username, "pkg": "nosuchpkg"})["result"]
    assert bad["status"] == 0 and bad["rawout"] is None


def test_reseller_setup_answers_a_null_message(server: Server) -> None:
    username, _ = created(server)
    assert body0(server, "setupreseller", {"user": username}) == {
        "result": [{"status": 1, "statusmsg": None}]
    }
    [acls] = body0(server, "setacls", {"reseller": username, "acl-list-accts": "1"})["result"]
    assert acls == {"acls": ["list-accts"], "status": 1, "statusmsg": "Reseller Acls Saved"}
    [limits] = body0(
        server,
        "setresellerlimits",
        {"user": username, "enable_account_limit": "1", "account_limit": "5"},
    )["result"]
    assert limits["status"] == 1
    listed = body0(server, "listresellers")
    assert set(listed) == {"reseller"} and username in listed["reseller"]
    assert body0(server, "unsetupreseller", {"user": username}) == {
        "result": [{"status": 1, "statusmsg": None}]
    }
    [refused] = body0(server, "setupreseller", {"user": "nosuch" + uuid.uuid4().hex[:5]})["result"]
    assert refused["status"] == 0 and refused["statusmsg"]


def test_modifyacct(server: Server) -> None:
    username, _ = created(server)
    [item] = body0(server, "modifyacct", {"user": username, "contactemail": "a@example.com"})[
        "result"
    ]
    assert item["status"] == 1 and item["statusmsg"].startswith("Account Modified")
    assert item["newcfg"]["user"] == username and item["warnings"] == [] and item["messages"] == []
    [bad] = body0(server, "modifyacct", {"user": "nosuch" + uuid.uuid4().hex[:5]})["result"]
    assert bad == {
        "messages": None,
        "newcfg": None,
        "status": 0,
        "statusmsg": bad["statusmsg"],
        "warnings": None,
    }


def test_adddns_and_killdns(server: Server) -> None:
    zone = f"{new_name()}.example.net"
    [added] = body0(server, "adddns", {"domain": zone, "ip": "192.0.2.7"})["result"]
    assert added["status"] == 1 and added["statusmsg"].startswith(f"Added {zone} ok")
    # Root over an existing zone of the same owner: rewritten (doadddns's allowoverwrite).
    [again] = body0(server, "adddns", {"domain": zone, "ip": "192.0.2.7"})["result"]
    assert again == {"status": 1, "statusmsg": f"Added {zone} ok"}
    [bare] = body0(server, "adddns", {"ip": "192.0.2.7"})["result"]
    assert bare == {"status": 0, "statusmsg": "Sorry, you must enter a domain.  Please try again."}
    [killed] = body0(server, "killdns", {"domain": zone})["result"]
    assert killed["status"] == 1
    [gone] = body0(server, "killdns", {"domain": zone})["result"]
    assert gone["status"] == 0


# -- passwd: API 0's `pass` and its own key -------------------------------------------------------


def test_passwd_takes_pass(server: Server) -> None:
    username, _ = created(server)
    new = server.remember("Pw-" + generate_password())
    raw = api0(server, "passwd", {"user": username, "pass": new})
    [item] = raw.json()["passwd"]
    # As lumberg recorded account/passwd.yml: "Password changed for user changeme".
    assert item == {
        "rawout": f"Changing password for {username}\nPassword for {username} has been changed\n",
        "services": [{"app": "system"}],
        "status": 1,
        "statusmsg": f"Password changed for user {username}",
    }
    assert new.encode() not in raw.content
    # The new password works (Basic on WHM is refused for an account; the cPanel face takes it).
    assert server.cpanel_token(username, new)


def test_passwd_refused_carries_status_0(server: Server) -> None:
    username, _ = created(server)
    [short] = body0(server, "passwd", {"user": username, "pass": "short"})["passwd"]
    assert short["status"] == 0 and "at least" in short["statusmsg"]
    assert short["services"] is None and short["rawout"] is None
    [missing] = body0(server, "passwd", {"user": username})["passwd"]
    assert missing["status"] == 0 and missing["statusmsg"]


# -- status + key, bare key -----------------------------------------------------------------------


def test_listaccts(server: Server) -> None:
    username, _ = created(server)
    body = body0(server, "listaccts", {"searchtype": "user", "search": f"^{username}$"})
    assert body["status"] == 1 and body["statusmsg"] == "Ok"
    assert [a["user"] for a in body["acct"]] == [username]
    raw = api0(server, "listaccts", {"searchtype": "user", "search": f"^{username}$"})
    assert raw.content.startswith(b'{"acct":[{') and raw.content.endswith(
        b'"status":1,"statusmsg":"Ok"}'
    )


def test_accountsummary(server: Server) -> None:
    username, _ = created(server)
    body = body0(server, "accountsummary", {"user": username})
    assert body["status"] == 1 and [a["user"] for a in body["acct"]] == [username]
    missing = body0(server, "accountsummary", {"user": "nosuch" + uuid.uuid4().hex[:5]})
    assert missing["status"] == 0 and missing["acct"] is None and missing["statusmsg"]


def test_listpkgs(server: Server) -> None:
    body = body0(server, "listpkgs")
    assert set(body) == {"package"}
    assert "default" in [p["name"] for p in body["package"]]


def test_package_lifecycle_in_cpanels_api0_words(server: Server) -> None:
    # Whostmgr/XMLUI/Packages.pm, with Whostmgr::Packages::Mod's and ::Packages' messages.
    name = new_name()
    assert body0(server, "addpkg", {"name": name, "quota": "100"}) == {
        "result": [
            {
                "pkg": name,
                "status": 1,
                "statusmsg": f"You have successfully created the package “{name}”.",
            }
        ]
    }
    assert body0(server, "editpkg", {"name": name, "quota": "200"}) == {
        "result": [
            {
                "pkg": name,
                "status": 1,
                "statusmsg": f"You have successfully modified the package “{name}”.",
            }
        ]
    }
    assert body0(server, "killpkg", {"pkgname": name}) == {
        "result": [{"status": 1, "statusmsg": "The system successfully deleted the package."}]
    }
    [refused] = body0(server, "killpkg", {"pkgname": name})["result"]
    assert refused["status"] == 0 and name in refused["statusmsg"]
    assert set(refused) == {"status", "statusmsg"}


def test_editquota_limitbw_domainuserdata_listzones(server: Server) -> None:
    # Whostmgr/XMLUI/Accounts.pm, Bandwidth.pm and DNS.pm.
    user, _ = created(server)
    domain = f"{user}.example.com"
    assert body0(server, "editquota", {"user": user, "quota": "100"}) == {
        "output": None,
        "result": [{"status": 1, "statusmsg": "Set quota for user."}],
    }
    [limited] = body0(server, "limitbw", {"user": user, "bwlimit": "100"})["result"]
    assert limited["status"] == 1
    assert limited["statusmsg"] == f"Bandwidth Limit for {user} has been set to 100 megabytes"
    assert limited["bwlimit"]["bwlimit"] == 100 * 1024 * 1024
    userdata = body0(server, "domainuserdata", {"domain": domain})
    assert userdata["result"] == [{"status": 1, "statusmsg": "Obtained userdata."}]
    assert userdata["userdata"]["documentroot"].endswith("/public_html")
    zones = body0(server, "listzones")["zone"]
    assert {"domain": domain, "zonefile": f"{domain}.db"} in zones


def test_their_refusals(server: Server) -> None:
    [quota] = body0(server, "editquota", {"user": "nosuchuser7", "quota": "1"})["result"]
    assert quota["status"] == 0
    [bw] = body0(server, "limitbw", {"user": "nosuchuser7", "bwlimit": "1"})["result"]
    assert bw["status"] == 0 and bw["bwlimit"] is None
    refused = body0(server, "domainuserdata", {"domain": "nosuch.example.org"})
    assert set(refused) == {"result"} and refused["result"][0]["status"] == 0


def test_myprivs_listacls_saveacllist(server: Server) -> None:
    # Whostmgr/XMLUI/ACLS.pm.
    privs = body0(server, "myprivs")
    assert set(privs) == {"privs"} and privs["privs"]["all"] == 1
    name = "l" + uuid.uuid4().hex[:8]
    saved = body0(server, "saveacllist", {"acllist": name, "acl-list-accts": "1"})
    assert saved == {"results": [{"status": 1, "statusmsg": "OK"}]}
    acls = body0(server, "listacls")["acls"]
    assert acls[name]["list-accts"] == "1"


# -- API 0's own words: cPanel's Whostmgr/XMLUI/*.pm calls below API 1's checks -----------------

NOSUCH = "nosuch" + uuid.uuid4().hex[:6]


@pytest.mark.parametrize(
    ("function", "params", "body"),
    [
        # Whostmgr/XMLUI/Accounts.pm summary (API 1's words carry a full stop).
        (
            "accountsummary",
            {"user": NOSUCH},
            {"acct": None, "status": 0, "statusmsg": "Account does not exist"},
        ),
        (
            "accountsummary",
            {"user": ""},
            {
                "acct": None,
                "status": 0,
                "statusmsg": "You must specify a user or domain to get a summary of",
            },
        ),
        # Whostmgr/XMLUI/Accounts.pm editquota: its quota regex, Cpanel::Validate::Integer,
        # then Whostmgr::Quota::setusersquota's user check (lumberg's recording).
        (
            "editquota",
            {"user": NOSUCH, "quota": "500"},
            {
                "output": None,
                "result": [{"status": 0, "statusmsg": "Invalid user. Cannot set quota."}],
            },
        ),
        (
            "editquota",
            {"user": NOSUCH, "quota": "lots"},
            {
                "output": None,
                "result": [{"status": 0, "statusmsg": "Invalid value for quota supplied."}],
            },
        ),
        (
            "editquota",
            {"user": "root", "quota": "-1"},
            {
                "output": None,
                "result": [
                    {
                        "status": 0,
                        "statusmsg": "This value must be a nonnegative integer, not “-1”.",
                    }
                ],
            },
        ),
        # Whostmgr/XMLUI/Resellers.pm setacls: `acls` on a refusal too (the acl- names
        # given), Whostmgr::Resellers::set_reseller_acls' words (lumberg's recording).
        (
            "setacls",
            {"reseller": NOSUCH},
            {"result": [{"acls": [], "status": 0, "statusmsg": "Not a reseller."}]},
        ),
        (
            "setacls",
            {"reseller": NOSUCH, "acl-list-accts": "1", "acl-edit-dns": "0"},
            {
                "result": [
                    {
                        "acls": ["edit-dns", "list-accts"],
                        "status": 0,
                        "statusmsg": "Not a reseller.",
                    }
                ]
            },
        ),
        (
            "setacls",
            {"reseller": NOSUCH, "acllist": "mylist", "acl-list-accts": "1"},
            {"result": [{"acls": [], "status": 0, "statusmsg": "Not a reseller."}]},
        ),
        # Whostmgr::Accounts::Suspension.
        (
            "suspendacct",
            {"user": NOSUCH},
            {
                "result": [
                    {
                        "status": 0,
                        "statusmsg": f"_suspendacct called for a user that does not exist. "
                        f"({NOSUCH})",
                    }
                ]
            },
        ),
        (
            "suspendacct",
            {},
            {
                "result": [
                    {
                        "status": 0,
                        "statusmsg": "_suspendacct called for a user that does not exist. ()",
                    }
                ]
            },
        ),
        (
            "suspendacct",
            {"user": "root"},
            {"result": [{"status": 0, "statusmsg": "Root user may not be suspended."}]},
        ),
        (
            "unsuspendacct",
            {"user": NOSUCH},
            {
                "result": [
                    {
                        "status": 0,
                        "statusmsg": f"_unsuspendacct called for a user that does not exist. "
                        f"({NOSUCH})",
                    }
                ]
            },
        ),
        # Whostmgr::Accounts::Remove::_removeaccount.
        (
            "removeacct",
            {},
            {
                "result": [
                    {
                        "rawout": None,
                        "status": 0,
                        "statusmsg": 'No user name supplied: "user" is a required argument.',
                    }
                ]
            },
        ),
        (
            "removeacct",
            {"user": "root"},
            {"result": [{"rawout": None, "status": 0, "statusmsg": "You cannot remove yourself!"}]},
        ),
        (
            "removeacct",
            {"user": NOSUCH},
            {
                "result": [
                    {
                        "rawout": None,
                        "status": 0,
                        "statusmsg": f"System user {NOSUCH} does not exist!",
                    }
                ]
            },
        ),
        # Whostmgr::Accounts::Upgrade::upacct.
        (
            "changepackage",
            {"pkg": "default"},
            {
                "result": [
                    {"rawout": None, "status": 0, "statusmsg": "Sorry, you must specify a user!"}
                ]
            },
        ),
        (
            "changepackage",
            {"user": NOSUCH},
            {
                "result": [
                    {
                        "rawout": None,
                        "status": 0,
                        "statusmsg": "Sorry, you must select a new package!",
                    }
                ]
            },
        ),
        # Whostmgr/XMLUI/Passwd.pm (no rawout nor services), then Whostmgr::Passwd::Change.
        (
            "passwd",
            {"pass": "Pw-1234567"},
            {
                "passwd": [
                    {
                        "status": 0,
                        "statusmsg": "No user name supplied: “user” is a required argument.",
                    }
                ]
            },
        ),
        (
            "passwd",
            {"user": NOSUCH},
            {
                "passwd": [
                    {
                        "status": 0,
                        "statusmsg": "No password supplied: “pass” is a required argument.",
                    }
                ]
            },
        ),
        (
            "passwd",
            {"user": "", "pass": "Pw-1234567"},
            {
                "passwd": [
                    {
                        "rawout": None,
                        "services": None,
                        "status": 0,
                        "statusmsg": "No account was specified.",
                    }
                ]
            },
        ),
        (
            "passwd",
            {"user": NOSUCH, "pass": "Pw-1234567"},
            {
                "passwd": [
                    {
                        "rawout": None,
                        "services": None,
                        "status": 0,
                        "statusmsg": f"Sorry, the user “{NOSUCH}” does not exist.",
                    }
                ]
            },
        ),
        # Whostmgr/XMLUI/DNS.pm.
        (
            "dumpzone",
            {},
            {"result": [{"status": 0, "statusmsg": "You must specify a domain to dump."}]},
        ),
        (
            "dumpzone",
            {"zone": f"{NOSUCH}.example.org.db"},
            {"result": [{"status": 0, "statusmsg": "Zone does not exist."}]},
        ),
        (
            "getzonerecord",
            {"domain": f"{NOSUCH}.example.org", "Line": "3"},
            {"result": [{"status": 0, "statusmsg": "Zone does not exist."}]},
        ),
        (
            "killdns",
            {},
            {"result": [{"status": 0, "statusmsg": "A domain is required.\n"}]},
        ),
        # Whostmgr/XMLUI/Resellers.pm acctcounts (lumberg's recording: user=notexists).
        (
            "acctcounts",
            {"user": NOSUCH},
            {"result": [{"status": 0, "statusmsg": "Specified user is not a reseller."}]},
        ),
        # Whostmgr/XMLUI/Services.pm: `result` an object, the services an empty list.
        (
            "servicestatus",
            {"service": "httpd"},
            {
                "result": {"status": 0, "statusmsg": "Specified service does not exist."},
                "service": [],
            },
        ),
    ],
)
def test_refusal_in_api0_words(
    server: Server, function: str, params: dict[str, str], body: dict[str, Any]
) -> None:
    raw = api0(server, function, params)
    assert raw.status_code == 200
    assert raw.json() == body


def test_a_reseller_meets_the_ownership_refusals_of_api0(server: Server) -> None:
    reseller, token = server.reseller(privileges=["upgrade-account", "passwd"])
    other, _ = created(server)  # root's
    [upgrade] = body0(
        server, "changepackage", {"user": other, "pkg": "default"}, user=reseller, token=token
    )["result"]
    assert upgrade == {
        "rawout": None,
        "status": 0,
        "statusmsg": f"Umm.. what are you trying to pull here..\nYou do not own the user {other}\n",
    }
    [password] = body0(
        server,
        "passwd",
        {"user": other, "pass": "Pw-" + generate_password()},
        user=reseller,
        token=token,
    )["passwd"]
    refusal = (
        f"You are not permitted to change the password for “{other}” because you are not the "
        "owner of this account."
    )
    assert password == {"rawout": refusal, "services": [], "status": 0, "statusmsg": refusal}


def test_acctcounts_beside_its_status(server: Server) -> None:
    reseller, _ = server.account(reseller=True)
    server.account(owner=reseller)
    assert body0(server, "acctcounts", {"user": reseller}) == {
        "reseller": {"account": reseller, "active": "1", "limit": "", "suspended": 0},
        "result": [{"status": 1, "statusmsg": "Obtained reseller account counts."}],
    }


def test_setresellernameservers_says_when_nothing_changed(server: Server) -> None:
    reseller, _ = server.account(reseller=True)
    params = {"user": reseller, "nameservers": "ns1.example.net,ns2.example.net"}
    assert body0(server, "setresellernameservers", params) == {
        "result": [{"status": 1, "statusmsg": "Set resellers nameservers."}]
    }
    assert body0(server, "setresellernameservers", params) == {
        "result": [{"status": 1, "statusmsg": "Not updating with identical nameserver values."}]
    }


def test_servicestatus_lists_named(server: Server) -> None:
    body = body0(server, "servicestatus")
    assert body["result"] == {"status": 1, "statusmsg": None}
    assert [s["name"] for s in body["service"]] == ["named"]


# -- refusals before the function runs, and API 1 unchanged --------------------------------------


def test_missing_privilege_is_in_the_api0_shape(server: Server) -> None:
    reseller, token = server.reseller(privileges=["list-accts"])
    raw = api0(server, "createacct", {"username": new_name()}, user=reseller, token=token)
    assert raw.status_code == 403
    [item] = raw.json()["result"]
    assert item["status"] == 0 and "create-acct" in item["statusmsg"]


def test_api_version_1_keeps_the_api1_envelope(server: Server) -> None:
    body = server.get("listresellers").json()
    assert body["metadata"]["result"] == 1 and "reseller" in body["data"]


@pytest.mark.parametrize(
    ("function", "params"),
    [
        ("changepackage", {"pkg": "default"}),
        ("passwd", {"pass": "Pw-" + generate_password()}),
    ],
)
def test_api0_ownership_refusals_reach_the_audit_trail(
    server: Server, function: str, params: dict[str, str]
) -> None:
    """API 0's own words, but the one access rule's decision and its reason code."""
    reseller, token = server.reseller(privileges=["upgrade-account", "passwd"])
    other, _ = created(server)  # root's
    since = int(server.sql("SELECT COALESCE(MAX(id), 0) FROM audit_log")[0][0])
    body0(server, function, {"user": other, **params}, user=reseller, token=token)
    rows = server.sql(
        "SELECT reason, actor FROM audit_log WHERE id > :s AND action = 'ACCESSDENIED'", s=since
    )
    assert [(r.reason, r.actor) for r in rows] == [("not_owner", reseller)]
