from conftest import Server


def test_version_with_root_token(server: Server) -> None:
    assert server.ok("version") == {"version": "11.120.0.16"}


def test_reseller_harness(server: Server) -> None:
    name, token = server.reseller(["list-accts", "manage-api-tokens", "basic-whm-functions"])
    privs = server.ok("myprivs", user=name, token=token)["privileges"][0]
    assert privs["list-accts"] == 1 and privs["create-acct"] == 0
