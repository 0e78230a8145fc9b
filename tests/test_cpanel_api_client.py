"""cpanel-api (PyPI, pinned; a client of UAPI and cPanel API 2), unmodified, against both faces
over TLS.

It POSTs every call with its parameters as a form body (compatibility.md, Requests 2), on the
cPanel port with `cpanel USER:TOKEN` or Basic, and on the WHM port with `whm root:TOKEN` and
`cpanel_jsonapi_user`; it maps HTTP 401 to `Unauthorized` and reads answers by attribute
(`r.data.main_domain.documentroot`), so a key gatehouse left out reads as None. The driver
runs in the client's own virtualenv and prints what it saw, never a secret (tokens and the
password go through the environment).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from client_venvs import PinnedVenv, run_driver
from conftest import Server

CPANEL_API = PinnedVenv(
    "cpanel-api", {"cpanel-api": "0.3.0", "requests": "2.32.5"}, probe="cpanel_api"
)

DRIVER = r"""
import base64, json, os, sys
from cpanel_api import CPanelApi, Unauthorized

cpanel_port, whm_port, user = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
domain = f"{user}.example.com"
seen = {}
client = CPanelApi("127.0.0.1", user, os.environ["ACCOUNT_TOKEN"], cpanel_port,
                   auth_type="utoken")
data = client.uapi.DomainInfo.domains_data().data
seen["main"] = [data.main_domain.domain, data.main_domain.documentroot,
                data.main_domain.homedir, data.main_domain.type]
added = client.uapi.SubDomain.addsubdomain(domain="blog", rootdomain=domain)
seen["added"] = added.status
subs = client.cpanel2.SubDomain.listsubdomains().cpanelresult.data
seen["subs"] = [[s.domain, s.dir, s.basedir] for s in subs]
zone = client.uapi.DNS.parse_zone(zone=domain)
soa = [i for i in zone.data if i.record_type == "SOA"][0]
serial = base64.b64decode(soa.data_b64[2]).decode()  # as clients read it (compatibility.md)
seen["parsed"] = [zone.status, len(zone.data) > 5]
edit = client.uapi.DNS.mass_edit_zone(
    zone=domain, serial=serial,
    add=json.dumps({"dname": "_acme-challenge", "ttl": 60, "record_type": "TXT",
                    "data": ["ok-value"]}))
seen["mass_edit"] = [edit.status, type(edit.data.new_serial).__name__]
found = client.cpanel2.ZoneEdit.fetchzone_records(domain=domain, type="TXT",
                                                  name=f"_acme-challenge.{domain}.")
seen["txt"] = [[r.txtdata, r.line == r.Line] for r in found.cpanelresult.data]
stale = client.uapi.DNS.mass_edit_zone(zone=domain, serial="1",
                                       add=json.dumps({"dname": "x", "ttl": 60,
                                                       "record_type": "TXT", "data": ["y"]}))
seen["stale"] = [stale.status, stale.data and stale.data.type]
password_client = CPanelApi("127.0.0.1", user, os.environ["ACCOUNT_PASSWORD"], cpanel_port)
seen["basic"] = password_client.uapi.DomainInfo.list_domains().data.sub_domains
# Root's token on the WHM port; the account is named in the call (its params override the
# client's own cpanel_jsonapi_user).
whm = CPanelApi("127.0.0.1", "root", os.environ["ROOT_TOKEN"], whm_port, auth_type="token")
api2 = whm.cpanel2.ZoneEdit.fetchzones(cpanel_jsonapi_user=user)
seen["whm_api2_zones"] = sorted(api2.cpanelresult.data[0].zones)
wrong = CPanelApi("127.0.0.1", user, "X" * 32, cpanel_port, auth_type="utoken")
try:
    wrong.uapi.DomainInfo.list_domains()
    seen["wrong_token"] = "accepted"
except Unauthorized as exc:
    seen["wrong_token"] = exc.message
print(json.dumps(seen))
"""


@pytest.fixture(scope="session")
def cpanel_api_python() -> Path:
    return CPANEL_API.ready()


def test_cpanel_api_client_reads_domains_edits_the_zone_and_lists_subdomains(
    server: Server, cpanel_api_python: Path
) -> None:
    user, password = server.account()
    token = server.cpanel_token(user, password)
    root = server.root_token
    secrets = {"ACCOUNT_TOKEN": token, "ACCOUNT_PASSWORD": password, "ROOT_TOKEN": root}
    args = [str(server.cpanel_https_port), str(server.https_port), user]
    seen: dict[str, Any] = run_driver(cpanel_api_python, DRIVER, args, secrets, server.issued)
    domain = f"{user}.example.com"
    assert seen["main"] == [domain, f"/home/{user}/public_html", f"/home/{user}", "main_domain"]
    assert seen["added"] == 1
    assert seen["subs"] == [
        [f"blog.{domain}", f"/home/{user}/public_html/blog", "public_html/blog"]
    ]
    assert seen["parsed"] == [1, True]
    assert seen["mass_edit"] == [1, "str"]  # the new serial as a string (compatibility.md)
    assert seen["txt"] == [["ok-value", True]]
    assert seen["stale"] == [0, "Stale"]
    assert seen["basic"] == [f"blog.{domain}"]
    assert seen["whm_api2_zones"] == [domain]
    assert seen["wrong_token"] == "Unauthorized"
