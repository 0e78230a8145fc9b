"""Every registered function's `readonly` flag says what the function does, on a real store in
this process: a call of a read-only function leaves every table as it was (and does not flush
the token cache); a successful call of any other function changes the store, flushes this
process's token cache and brings the zone files up to date (`Call.finish(changed=True)`).

A function registered without a case here fails `test_every_function_has_a_case`: whoever adds
one decides whether it is read-only, and shows it."""

from __future__ import annotations

import contextlib
import dataclasses
import http.server
import json
import ssl
import tempfile
import threading
import uuid
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from gatehouse.cpanel.registry import API2, API2_REGISTRY, UAPI, UAPI_REGISTRY, Api
from gatehouse.domain import autossl
from gatehouse.program import load_faces
from gatehouse.store.schema import audit_log
from gatehouse.whm.registry import REGISTRY
from inprocess import Local, open_local
from ssl_helpers import make_ca, make_leaf

PASSWORD = "Readonly-Flags-Test-9xQ!"  # a throwaway store's accounts


@dataclass
class World:
    """A store with what the cases call functions on; every case makes its own objects, so the
    cases do not depend on one another's order."""

    local: Local
    made: list[str] = field(default_factory=list)
    stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)  # closed at the end

    def account(self, *, reseller: bool = False) -> tuple[str, str]:
        user = f"u{uuid.uuid4().hex[:7]}"
        domain = f"{user}.example.com"
        self.local.ok("createacct", {"username": user, "domain": domain, "password": PASSWORD})
        if reseller:
            self.local.ok("setupreseller", {"user": user})
        return user, domain

    def package(self) -> str:
        name = f"p{uuid.uuid4().hex[:7]}"
        self.local.ok("addpkg", {"name": name})
        return name

    def token(self) -> tuple[str, str]:
        name = f"t{uuid.uuid4().hex[:7]}"
        return name, self.local.ok("api_token_create", {"token_name": name})["token"]

    def txt_line(self, domain: str) -> int:
        """The line of a TXT record added to `domain`'s zone for the case."""
        value = uuid.uuid4().hex
        self.local.ok(
            "addzonerecord",
            {"domain": domain, "name": "case", "type": "TXT", "txtdata": value},
        )
        records = self.local.ok("dumpzone", {"domain": domain})["zone"][0]["record"]
        return int(next(r["Line"] for r in records if r.get("txtdata") == value))

    def serial(self, domain: str) -> str:
        records = self.local.ok("dumpzone", {"domain": domain})["zone"][0]["record"]
        return str(next(r["serial"] for r in records if r.get("type") == "SOA"))

    def cpanel_token(self, user: str) -> str:
        name = f"c{uuid.uuid4().hex[:7]}"
        out = self.local.cpanel(UAPI, "Tokens", "create_full_access", user, {"name": name})
        assert out.ok, out.payload
        return name


Params = dict[str, str]
# A WHM API 1 case: prepare what the call needs, give its parameters.
WhmCase = Callable[[World], Params]
# A cPanel case: the account the call runs as, and its parameters.
CpanelCase = Callable[[World], tuple[str, Params]]

ADD_A = json.dumps({"dname": "new", "ttl": 300, "record_type": "A", "data": ["192.0.2.9"]})


def _zone_params(w: World, key: str = "domain") -> Params:
    _user, domain = w.account()
    return {key: domain}


def _line_params(w: World, zone_key: str) -> Params:
    _user, domain = w.account()
    return {zone_key: domain, "line": str(w.txt_line(domain))}


def _user_params(w: World) -> Params:
    user, _domain = w.account()
    return {"user": user}


def _reseller_params(w: World) -> Params:
    user, _domain = w.account(reseller=True)
    return {"user": user}


def _suspended(w: World) -> Params:
    user, _domain = w.account()
    w.local.ok("suspendacct", {"user": user})
    return {"user": user}


def _accesshash(w: World) -> Params:
    w.local.ok("set_tweaksetting", {"key": "allow_deprecated_accesshash", "value": "1"})
    return {"generate": "1"}


def _mass_edit(w: World) -> Params:
    _user, domain = w.account()
    return {"zone": domain, "serial": w.serial(domain), "add": ADD_A}


def _certificate(domain: str) -> Params:
    """A certificate for `domain` and its key (made here; a throwaway store)."""
    leaf = make_leaf(make_ca(), [domain])
    return {"domain": domain, "crt": leaf.cert_pem, "key": leaf.key_pem}


def _with_certificate(w: World) -> tuple[str, str]:
    """An account whose main domain has a certificate installed."""
    user, domain = w.account()
    w.local.ok("installssl", _certificate(domain))
    return user, domain


def _autossl_on(w: World) -> World:
    """AutoSSL configured, with an ACME directory nobody serves: the cases only ask for checks
    (rows for `gatehouse serve` to take) and read problems; no check runs in this process."""
    gatehouse = w.local.gatehouse
    gatehouse.config = dataclasses.replace(
        gatehouse.config, autossl_directory="https://127.0.0.1:9/directory"
    )
    return w


def _autossl_provider(w: World, *, enabled: bool) -> World:
    """AutoSSL configured and, as asked, enabled (set_autossl_provider) or disabled."""
    _autossl_on(w)
    if enabled:
        w.local.ok("set_autossl_provider", {"provider": "ACME"})
    else:
        w.local.ok("disable_autossl", {})
    return w


def _autossl_run(w: World) -> Params:
    """A check's log in the store (its first audit line, as AutoSSL writes it): the
    `start_time` get_autossl_log takes."""
    start = 1_700_000_000 + int(uuid.uuid4().int % 10_000_000)
    with w.local.gatehouse.engine.begin() as conn:
        conn.execute(
            sa.insert(audit_log).values(
                time=start, action=autossl.RUN, reason="ok", subject="*", detail="a check"
            )
        )
    return {"start_time": autossl.iso_time(start)}


def _excluded(w: World) -> tuple[str, str]:
    """An account whose main domain is excluded from AutoSSL: (user, domain)."""
    user, domain = w.account()
    w.local.ok("add_autossl_user_excluded_domains", {"username": user, "domain": domain})
    return user, domain


def _uapi_data(out: Any) -> Any:
    payload = out.payload
    return payload.get("result", payload)["data"]


def _with_key(w: World) -> tuple[str, str, str]:
    """An account with a generated key: (user, domain, key id)."""
    user, domain = w.account()
    out = w.local.cpanel(UAPI, "SSL", "generate_key", user, {"keytype": "ecdsa-prime256v1"})
    assert out.ok, out.payload
    return user, domain, str(_uapi_data(out)["id"])


def _csr_params(w: World) -> tuple[str, Params]:
    user, domain, key_id = _with_key(w)
    subject = {"countryName": "US", "stateOrProvinceName": "TX", "localityName": "Houston"}
    return user, {"domains": domain, "key_id": key_id, "organizationName": "Org", **subject}


def _with_csr(w: World) -> str:
    user, params = _csr_params(w)
    out = w.local.cpanel(UAPI, "SSL", "generate_csr", user, params)
    assert out.ok, out.payload
    return user


def _with_self_signed(w: World) -> tuple[str, str]:
    """An account with a stored (not installed) self-signed certificate: (user, its id)."""
    user, params = _csr_params(w)
    out = w.local.cpanel(UAPI, "SSL", "generate_cert", user, params)
    assert out.ok, out.payload
    return user, str(_uapi_data(out)["id"])


def _csr_id(w: World) -> tuple[str, Params]:
    user = _with_csr(w)
    out = w.local.cpanel(UAPI, "SSL", "list_csrs", user, {})
    return user, {"id": str(_uapi_data(out)[0]["id"])}


def _api2_csr_params(w: World) -> tuple[str, Params]:
    user, domain, _key_id = _with_key(w)
    subject = {"country": "US", "state": "TX", "city": "Houston", "company": "Org"}
    return user, {"host": domain, **subject}


def _installed_certificate(w: World) -> tuple[str, Params]:
    """An account with a certificate installed, and that certificate."""
    user, domain = w.account()
    params = _certificate(domain)
    w.local.ok("installssl", params)
    return user, {"certificate": params["crt"]}


def _with_link(w: World) -> str:
    """An account with an integration link `app1` and a group `grp1`."""
    user = w.account()[0]
    w.local.ok(
        "create_integration_link", {"user": user, "app": "app1", "url": "https://a.example/"}
    )
    w.local.ok("create_integration_group", {"user": user, "group_id": "grp1"})
    return user


@contextlib.contextmanager
def _remote_whm(tmp: Path) -> Iterator[int]:
    """A stand-in remote WHM on loopback HTTPS (a self-signed certificate, as cPanel's own)
    whose `accesshash` answers a key: get_remote_access_hash's far end."""
    leaf = make_leaf(make_ca(), ["127.0.0.1"])
    (tmp / "cert.pem").write_text(leaf.cert_pem)
    (tmp / "key.pem").write_text(leaf.key_pem)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp / "cert.pem", tmp / "key.pem")
    body = json.dumps({"data": {"accesshash": "ab" * 480}, "metadata": {"result": 1}}).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(httpd.server_address[1])
    finally:
        httpd.shutdown()
        httpd.server_close()


def _remote_access_hash(w: World) -> Params:
    tmp = Path(w.stack.enter_context(tempfile.TemporaryDirectory()))
    port = w.stack.enter_context(_remote_whm(tmp))
    return {"host": "127.0.0.1", "port": str(port), "username": "u", "password": "p"}


WHM_READONLY: dict[str, WhmCase] = {
    # The batch itself writes nothing: each of its commands is called, and committed, on its
    # own (with that function's own flag), so a batch of read-only commands changes nothing.
    "systemloadavg": lambda w: {},
    "loadavg": lambda w: {"api.version": "0"},  # WHM API 0 only
    "listmxs": lambda w: _zone_params(w),
    "get_maximum_users": lambda w: {},
    "getdiskusage": lambda w: {},
    "get_shared_ip": lambda w: {},
    "servicestatus": lambda w: {"service": "named"},
    "installed_versions": lambda w: {},
    "cluster_member_has_trust_with": lambda w: {"host": "192.0.2.1"},
    "batch": lambda w: {"command": f"accountsummary?user={w.account()[0]}"},
    "fetchsslinfo": lambda w: {"domain": _with_certificate(w)[1]},
    "fetch_vhost_ssl_components": lambda w: (_with_certificate(w), {})[1],
    "listcrts": lambda w: (_with_certificate(w), {})[1],
    "fetch_ssl_certificates_for_fqdns": lambda w: {"domains": _with_certificate(w)[1]},
    "fetch_ssl_vhosts": lambda w: (_with_certificate(w), {})[1],
    "fetch_service_ssl_components": lambda w: {},
    "gatehouse_get_api_token_usage": lambda w: {"token_name": _used_token(w)},
    "get_autossl_problems_for_user": lambda w: {"username": w.account()[0]},
    "get_autossl_problems_for_domain": lambda w: {"domain": w.account()[1]},
    "get_autossl_user_excluded_domains": lambda w: {"username": _excluded(w)[0]},
    "get_autossl_check_schedule": lambda w: (_autossl_on(w), {})[1],
    "get_autossl_pending_queue": lambda w: (_autossl_on(w).account(), {})[1],
    "get_autossl_providers": lambda w: (_autossl_on(w), {})[1],
    "get_autossl_logs_catalog": lambda w: (_autossl_run(w), {})[1],
    "get_autossl_log": _autossl_run,
    "accountsummary": _user_params,
    "acctcounts": lambda w: {},
    "api_token_get_details": lambda w: {"token": w.token()[1]},
    "api_token_list": lambda w: (w.token(), {})[1],
    "applist": lambda w: {},
    "domainuserdata": _zone_params,
    "dumpzone": _zone_params,
    "get_domain_info": lambda w: (w.account(), {})[1],
    "get_integration_link_user_config": lambda w: {"user": _with_link(w), "app": "app1"},
    "list_integration_links": lambda w: {"user": _with_link(w)},
    "list_integration_groups": lambda w: {"user": _with_link(w)},
    "get_tweaksetting": lambda w: {"key": "allow_deprecated_accesshash"},
    "get_password_strength": lambda w: {"password": PASSWORD},
    "getminimumpasswordstrengths": lambda w: {},
    "get_remote_access_hash": _remote_access_hash,
    "getdomainowner": _zone_params,
    "list_users": lambda w: {},
    "updateuserdomains": lambda w: {},
    "resellerstats": _reseller_params,
    "get_nameserver_config": lambda w: {},
    "lookupnsip": lambda w: {"host": w.account()[1]},
    "lookupnsips": lambda w: {"host": w.account()[1]},
    "gethostname": lambda w: {},
    "listips": lambda w: (w.account(), {})[1],
    "showbw": lambda w: (w.account(), {})[1],
    "getpkginfo": lambda w: {"pkg": w.package()},
    "getresellerlimits": _reseller_params,
    "getresellerips": _reseller_params,
    "getzonerecord": lambda w: _line_params(w, "domain"),
    "listaccts": lambda w: (w.account(), {})[1],
    "listacls": lambda w: {},
    "listpkgs": lambda w: (w.package(), {})[1],
    "listresellers": lambda w: (w.account(reseller=True), {})[1],
    "listsuspended": lambda w: (_suspended(w), {})[1],
    "listlockedaccounts": lambda w: (_suspended(w), {})[1],
    "listzones": lambda w: (w.account(), {})[1],
    "myprivs": lambda w: {},
    "parse_dns_zone": lambda w: _zone_params(w, "zone"),
    "verify_new_username": lambda w: {"user": f"n{uuid.uuid4().hex[:7]}"},
    "version": lambda w: {},
    "cphulk_status": lambda w: {},
    "read_cphulk_records": lambda w: {"list_name": "white", "skip_enabled_check": "1"},
    "get_cphulk_brutes": lambda w: {},
    "get_cphulk_excessive_brutes": lambda w: {},
    "get_cphulk_failed_logins": lambda w: {},
    "get_cphulk_user_brutes": lambda w: {},
    "load_cphulk_config": lambda w: {},
    "gatehouse_list_cluster_peers": lambda w: {},
    "gatehouse_list_stale_api_tokens": lambda w: (w.token(), {"days": "1"})[1],
    "gatehouse_read_audit_log": lambda w: (w.token(), {"action": "CREATEAPITOKEN"})[1],
    "gatehouse_list_notices": lambda w: {"status": "all"},
}


def _listed_address(w: World) -> dict[str, str]:
    """An address put on the black list for the case (cPHulk's check skipped: a case may find
    cPHulk disabled by another)."""
    params = {"list_name": "black", "ip": _address(), "skip_enabled_check": "1"}
    w.local.ok("create_cphulk_record", params)
    return params


def _peer(w: World, role: str = "standalone") -> dict[str, str]:
    """An unchecked DNS cluster peer on a port where nothing listens, for the case."""
    port = str(20000 + uuid.uuid4().int % 20000)
    w.local.ok(
        "gatehouse_add_cluster_peer",
        {"host": "127.0.0.1", "port": port, "token": "T", "check": "0", "role": role},
    )
    return {"host": "127.0.0.1", "port": port}


def _user_with_token(w: World) -> dict[str, str]:
    user, _domain = w.account()
    w.cpanel_token(user)
    return {"user": user}


def _with_webhook(w: World) -> dict[str, str]:
    """A webhook configured (never reached: the case only queues the test notice)."""
    gh = w.local.gatehouse
    gh.config = dataclasses.replace(
        gh.config, notice_webhook_url="http://127.0.0.1:9/", notice_webhook_secret="s" * 32
    )
    return {}


def _token_used_from(w: World) -> dict[str, str]:
    """A token whose last recorded use came from a documentation address."""
    name, _secret = w.token()
    address = f"203.0.113.{uuid.uuid4().int % 250 + 1}"
    import sqlalchemy as sa

    from gatehouse.store.schema import api_tokens

    with w.local.gatehouse.engine.begin() as conn:
        conn.execute(
            sa.update(api_tokens).where(api_tokens.c.name == name).values(last_used_ip=address)
        )
    return {"ip": address}


def _address() -> str:
    return f"198.51.100.{uuid.uuid4().int % 250 + 1}"


def _subdomain(w: World) -> dict[str, Any]:
    """A subdomain made through WHM, to be deleted."""
    domain = f"blog.{w.account()[1]}"
    w.local.ok("create_subdomain", {"domain": domain, "document_root": "public_html/blog"})
    return {"domain": domain}


WHM_CHANGING: dict[str, WhmCase] = {
    "enable_cphulk": lambda w: {},
    "disable_cphulk": lambda w: {},
    "create_cphulk_record": lambda w: {
        "list_name": "white",
        "ip": _address(),
        "skip_enabled_check": "1",
    },
    "batch_create_cphulk_records": lambda w: {
        "list_name": "black",
        "records": json.dumps([{"ip": _address(), "comment": "case"}]),
        "skip_enabled_check": "1",
    },
    "delete_cphulk_record": _listed_address,
    "flush_cphulk_login_history": lambda w: {},
    "gatehouse_unlock_cphulk_user": lambda w: {"user": w.account()[0]},
    "flush_cphulk_login_history_for_ips": lambda w: {"ip": _address()},
    "save_cphulk_config": lambda w: {"max_failures": "31"},
    "set_cphulk_config_key": lambda w: {"key": "max_failures", "value": "32"},
    "gatehouse_add_cluster_peer": lambda w: {
        "host": f"peer-{uuid.uuid4().hex[:7]}.example",
        "token": "T",
        "check": "0",
        "role": "standalone",
    },
    "gatehouse_remove_cluster_peer": _peer,
    "gatehouse_set_cluster_peer_role": lambda w: {**_peer(w), "role": "write-only"},
    "gatehouse_sync_cluster_peer": lambda w: _peer(w, "write-only"),
    "gatehouse_check_cluster_peer": _peer,
    "gatehouse_set_cluster_peer_token": lambda w: {**_peer(w), "token": "T2", "check": "0"},
    "gatehouse_revoke_user_api_tokens": lambda w: _user_with_token(w),
    "gatehouse_rotate_api_token": lambda w: {"token_name": w.token()[0]},
    "gatehouse_tighten_api_token": lambda w: {"token_name": _used_token(w)},
    "gatehouse_end_api_token_grace": lambda w: {"token_name": _rotated(w)},
    "gatehouse_revoke_api_tokens_used_from": _token_used_from,
    "gatehouse_send_test_notice": lambda w: _with_webhook(w),
    "gatehouse_set_notice_secret": lambda w: {"secret": "s" * 32},
    "installssl": lambda w: _certificate(w.account()[1]),
    "install_service_ssl_certificate": lambda w: {
        "service": "cpanel",
        **{k: v for k, v in _certificate("host.example.com").items() if k != "domain"},
    },
    "delete_ssl_vhost": lambda w: {"host": _with_certificate(w)[1]},
    "generatessl": lambda w: {"domains": w.account()[1], "keysize": "2048"},
    "start_autossl_check_for_all_users": lambda w: (_autossl_provider(w, enabled=True), {})[1],
    "start_autossl_check_for_one_user": lambda w: {
        "username": _autossl_provider(w, enabled=True).account()[0]
    },
    "add_autossl_user_excluded_domains": lambda w: dict(
        zip(("username", "domain"), w.account(), strict=True)
    ),
    "remove_autossl_user_excluded_domains": lambda w: dict(
        zip(("username", "domain"), _excluded(w), strict=True)
    ),
    "set_autossl_user_excluded_domains": lambda w: dict(
        zip(("username", "domain"), w.account(), strict=True)
    ),
    "set_autossl_provider": lambda w: (_autossl_provider(w, enabled=False), {"provider": "ACME"})[
        1
    ],
    "disable_autossl": lambda w: (_autossl_provider(w, enabled=True), {})[1],
    "accesshash": _accesshash,
    "adddns": lambda w: {"domain": f"d{uuid.uuid4().hex[:7]}.example.net", "ip": "192.0.2.1"},
    "addpkg": lambda w: {"name": f"p{uuid.uuid4().hex[:7]}"},
    "addzonerecord": lambda w: {
        **_zone_params(w),
        "name": "add",
        "type": "TXT",
        "txtdata": "added",
    },
    "api_token_create": lambda w: {"token_name": f"t{uuid.uuid4().hex[:7]}"},
    "savemxs": lambda w: {
        **_zone_params(w),
        "name1": "mx-here",
        "exchange1": "mx.example.net.",
        "preference1": "5",
    },
    "api_token_revoke": lambda w: {"token_name": w.token()[0]},
    "api_token_update": lambda w: {"token_name": w.token()[0], "new_name": "renamed"},
    "changepackage": lambda w: {**_user_params(w), "pkg": w.package()},
    "cpanel": lambda w: {
        "cpanel_jsonapi_user": w.account()[0],
        "cpanel_jsonapi_apiversion": "3",
        "cpanel_jsonapi_module": "Tokens",
        "cpanel_jsonapi_func": "create_full_access",
        "name": "via-whm",
    },
    "uapi_cpanel": lambda w: {
        "cpanel.user": w.account()[0],
        "cpanel.module": "Tokens",
        "cpanel.function": "create_full_access",
        "name": "via-uapi-cpanel",
    },
    "create_user_session": lambda w: {"user": "root", "service": "whostmgrd"},
    "createacct": lambda w: {
        "username": (user := f"u{uuid.uuid4().hex[:7]}"),
        "domain": f"{user}.example.org",
        "password": PASSWORD,
    },
    "editpkg": lambda w: {"name": w.package(), "quota": "123"},
    "editquota": lambda w: {**_user_params(w), "quota": "123"},
    "gatehouse_report_bandwidth": lambda w: {**_user_params(w), "bytes": "10"},
    "limitbw": lambda w: {**_user_params(w), "bwlimit": "123"},
    # The in-process server's one address (its bind address): the call still writes its audit.
    "setsiteip": lambda w: {**_user_params(w), "ip": "127.0.0.1"},
    "editzonerecord": lambda w: {
        **_line_params(w, "domain"),
        "name": "case",
        "type": "TXT",
        "txtdata": "edited",
    },
    "killdns": _zone_params,
    "create_subdomain": lambda w: {
        "domain": f"blog.{w.account()[1]}",
        "document_root": "public_html/blog",
    },
    "delete_domain": _subdomain,
    "create_parked_domain_for_user": lambda w: dict(
        zip(
            ("username", "web_vhost_domain"),
            w.account(),
            strict=True,
        ),
        domain=f"p{uuid.uuid4().hex[:7]}.example.net",
    ),
    "killpkg": lambda w: {"pkgname": w.package()},
    "mass_edit_dns_zone": _mass_edit,
    "modifyacct": lambda w: {**_user_params(w), "contactemail": "new@example.com"},
    "passwd": lambda w: {**_user_params(w), "password": PASSWORD + "2"},
    "removeacct": lambda w: {"username": w.account()[0]},
    "removezonerecord": lambda w: _line_params(w, "zone"),
    "resetzone": _zone_params,
    "saveacllist": lambda w: {"acllist": f"l{uuid.uuid4().hex[:7]}", "acl-list-accts": "1"},
    "set_tweaksetting": lambda w: {"key": "allow_deprecated_accesshash", "value": "1"},
    "setminimumpasswordstrengths": lambda w: {"mysql": "70"},
    "setacls": lambda w: {"reseller": _reseller_params(w)["user"], "acl-list-accts": "1"},
    "setresellerlimits": lambda w: {
        **_reseller_params(w),
        "enable_account_limit": "1",
        "account_limit": "5",
    },
    "setresellerips": lambda w: {**_reseller_params(w), "delegate": "0"},
    "setresellermainip": lambda w: {
        **_reseller_params(w),
        "ip": w.local.ok("listips", {})["ip"][0]["ip"],
    },
    "setresellerpackagelimit": lambda w: {
        **_reseller_params(w),
        "package": w.package(),
        "allowed": "1",
    },
    "setresellernameservers": lambda w: {
        **_reseller_params(w),
        "nameservers": "ns1.example.net,ns2.example.net",
    },
    "setupreseller": _user_params,
    "create_integration_link": lambda w: {
        "user": w.account()[0],
        "app": "app1",
        "url": "https://a.example/",
    },
    "create_integration_group": lambda w: {"user": w.account()[0], "group_id": "grp1"},
    "install_spf_records": lambda w: {"domain": w.account()[1], "record": "v=spf1 mx -all"},
    "update_integration_link_token": lambda w: {
        "user": _with_link(w),
        "app": "app1",
        "token": "new-token",
    },
    "remove_integration_link": lambda w: {"user": _with_link(w), "app": "app1"},
    "remove_integration_group": lambda w: {"user": _with_link(w), "group_id": "grp1"},
    "suspendacct": _user_params,
    "suspendreseller": _reseller_params,
    "terminatereseller": lambda w: {
        "user": (user := _reseller_params(w)["user"]),
        "verify": f"I understand this will irrevocably remove all the accounts owned by the "
        f"reseller {user}",
    },
    "unsetupreseller": _reseller_params,
    "unsuspendacct": _suspended,
    "unsuspendreseller": lambda w: (
        w.local.ok("suspendreseller", (params := _reseller_params(w))),
        params,
    )[1],
}


def _zone_as_owner(w: World, key: str) -> tuple[str, Params]:
    user, domain = w.account()
    return user, {key: domain}


def _line_as_owner(w: World) -> tuple[str, Params]:
    user, domain = w.account()
    return user, {"domain": domain, "line": str(w.txt_line(domain))}


def _cpanel_mass_edit(w: World) -> tuple[str, Params]:
    user, domain = w.account()
    return user, {"zone": domain, "serial": w.serial(domain), "add": ADD_A}


def _with_subdomain(w: World) -> tuple[str, Params]:
    user, domain = w.account()
    out = w.local.cpanel(
        UAPI, "SubDomain", "addsubdomain", user, {"domain": "case", "rootdomain": domain}
    )
    assert out.ok, out.payload
    return user, {"domain": f"case.{domain}"}


def _with_dynamic_dns(w: World) -> tuple[str, Params]:
    user, domain = w.account()
    out = w.local.cpanel(UAPI, "DynamicDNS", "create", user, {"domain": f"dyn.{domain}"})
    assert out.ok, out.payload
    return user, {"domain": f"dyn.{domain}"}


def _dynamic_dns_id(w: World, user: str) -> str:
    """The id of the user's one Dynamic DNS domain, as `list` shows it."""
    out = w.local.cpanel(UAPI, "DynamicDNS", "list", user, {})
    assert out.ok, out.payload
    return str(out.payload["result"]["data"][0]["id"])


def _used_token(w: World) -> str:
    """A token of root's with a call of a function a privilege guards in its usage record."""
    name, _secret = w.token()
    with w.local.gatehouse.engine.connect() as conn:
        query = sa.text("SELECT id, create_time FROM api_tokens WHERE name = :n")
        ident, created = conn.execute(query, {"n": name}).one()
    w.local.gatehouse.usage.note(int(ident), int(created), "listaccts", 1_700_000_000, "ok")
    return name


def _rotated(w: World) -> str:
    """A token of root's whose previous secret still works."""
    name = w.token()[0]
    w.local.ok("gatehouse_rotate_api_token", {"token_name": name})
    return name


def _rotated_cpanel_token(w: World) -> tuple[str, Params]:
    user, params = _owner_of_token(w, {})
    out = w.local.cpanel(UAPI, "Tokens", "gatehouse_rotate", user, params)
    assert out.ok, out.payload
    return user, params


def _owner_of_token(w: World, extra: Params) -> tuple[str, Params]:
    user, _domain = w.account()
    return user, {"name": w.cpanel_token(user), **extra}


CPANEL_READONLY: dict[tuple[Api, str, str], CpanelCase] = {
    (UAPI, "Tokens", "gatehouse_get_usage"): lambda w: _owner_of_token(w, {}),
    (UAPI, "SSL", "installed_hosts"): lambda w: (_with_certificate(w)[0], {}),
    (UAPI, "SSL", "list_certs"): lambda w: (_with_certificate(w)[0], {}),
    (UAPI, "SSL", "list_keys"): lambda w: (_with_certificate(w)[0], {}),
    (UAPI, "SSL", "list_csrs"): lambda w: (_with_csr(w), {}),
    (UAPI, "SSL", "fetch_best_for_domain"): lambda w: (
        (acct := _with_certificate(w))[0],
        {"domain": acct[1]},
    ),
    (UAPI, "SSL", "fetch_key_and_cabundle_for_certificate"): _installed_certificate,
    (UAPI, "SSL", "get_autossl_problems"): lambda w: (w.account()[0], {}),
    (UAPI, "SSL", "get_autossl_excluded_domains"): lambda w: (_excluded(w)[0], {}),
    (UAPI, "SSL", "get_autossl_pending_queue"): lambda w: (_autossl_on(w).account()[0], {}),
    (UAPI, "SSL", "fetch_cert_info"): lambda w: (
        (made := _with_self_signed(w))[0],
        {"id": made[1]},
    ),
    (UAPI, "SSL", "fetch_certificates_for_fqdns"): lambda w: (
        (acct := _with_certificate(w))[0],
        {"domains": acct[1]},
    ),
    (UAPI, "SSL", "show_key"): lambda w: ((made := _with_key(w))[0], {"id": made[2]}),
    (UAPI, "SSL", "get_default_key_type"): lambda w: (w.account()[0], {}),
    (API2, "SSL", "listkeys"): lambda w: (_with_key(w)[0], {}),
    (API2, "SSL", "listcsrs"): lambda w: (_with_csr(w), {}),
    (API2, "SSL", "listcrts"): lambda w: (_with_self_signed(w)[0], {}),
    (UAPI, "SSL", "is_autossl_check_in_progress"): lambda w: (w.account()[0], {}),
    (UAPI, "DNS", "parse_zone"): lambda w: _zone_as_owner(w, "zone"),
    (UAPI, "DomainInfo", "domains_data"): lambda w: (w.account()[0], {}),
    (UAPI, "DomainInfo", "list_domains"): lambda w: (w.account()[0], {}),
    (UAPI, "DomainInfo", "main_domain_builtin_subdomain_aliases"): lambda w: (w.account()[0], {}),
    (UAPI, "DomainInfo", "single_domain_data"): lambda w: (
        (acct := w.account())[0],
        {"domain": acct[1]},
    ),
    (UAPI, "DynamicDNS", "list"): _with_dynamic_dns,
    (UAPI, "Email", "list_mxs"): lambda w: (w.account()[0], {}),
    (UAPI, "Email", "list_pops"): lambda w: (w.account()[0], {}),
    (API2, "AddonDomain", "listaddondomains"): lambda w: (w.account()[0], {}),
    (API2, "Park", "listaddondomains"): lambda w: (w.account()[0], {}),
    (API2, "Park", "listparkeddomains"): lambda w: (w.account()[0], {}),
    (UAPI, "Integration", "fetch_url"): lambda w: (_with_link(w), {"app": "app1"}),
    (UAPI, "Integration", "gatehouse_list_links"): lambda w: (_with_link(w), {}),
    (API2, "DomainLookup", "getdocroot"): lambda w: ((acct := w.account())[0], {"domain": acct[1]}),
    (API2, "DomainLookup", "getdocroots"): lambda w: (w.account()[0], {}),
    (API2, "DomainLookup", "getbasedomains"): lambda w: (w.account()[0], {}),
    (API2, "DomainLookup", "countbasedomains"): lambda w: (w.account()[0], {}),
    (API2, "DomainLookup", "getmaindomain"): lambda w: (w.account()[0], {}),
    (API2, "Email", "listmx"): lambda w: (w.account()[0], {}),
    (API2, "Email", "listmxs"): lambda w: (w.account()[0], {}),
    (API2, "Email", "listpops"): lambda w: (w.account()[0], {}),
    (API2, "Email", "listpopssingle"): lambda w: (w.account()[0], {}),
    (UAPI, "StatsBar", "get_stats"): lambda w: (
        w.account()[0],
        {"display": "subdomains|bandwidthusage|diskusage|hostname"},
    ),
    (API2, "StatsBar", "stat"): lambda w: (w.account()[0], {"display": "subdomains|diskusage"}),
    (UAPI, "Variables", "get_user_information"): lambda w: (w.account()[0], {}),
    (UAPI, "Quota", "get_quota_info"): lambda w: (w.account()[0], {}),
    (UAPI, "Quota", "get_local_quota_info"): lambda w: (w.account()[0], {}),
    (UAPI, "Locale", "get_attributes"): lambda w: (w.account()[0], {}),
    (UAPI, "ResourceUsage", "get_usages"): lambda w: (w.account()[0], {}),
    (UAPI, "Variables", "get_server_information"): lambda w: (w.account()[0], {}),
    (UAPI, "PasswdStrength", "get_required_strength"): lambda w: (
        w.account()[0],
        {"app": "passwd"},
    ),
    (UAPI, "Variables", "get_session_information"): lambda w: (w.account()[0], {}),
    # Read-only by the registry's meaning: it records the caller's address (none here, as
    # from cPanel's `uapi`), which no token check reads.
    (UAPI, "LastLogin", "get_last_or_current_logged_in_ip"): lambda w: (w.account()[0], {}),
    (UAPI, "Batch", "strict"): lambda w: (
        w.account()[0],
        {"command": '["DomainInfo","list_domains"]'},
    ),
    (UAPI, "Tokens", "list"): lambda w: _owner_of_token(w, {}),
    (UAPI, "Tokens", "gatehouse_get_details"): lambda w: _owner_of_token(w, {}),
    (API2, "SubDomain", "listsubdomains"): _with_subdomain,
    (API2, "ZoneEdit", "fetchzone"): lambda w: _zone_as_owner(w, "domain"),
    (API2, "ZoneEdit", "fetchzone_records"): lambda w: _zone_as_owner(w, "domain"),
    (API2, "ZoneEdit", "fetchzones"): lambda w: (w.account()[0], {}),
    (API2, "ZoneEdit", "get_zone_record"): _line_as_owner,
}

CPANEL_CHANGING: dict[tuple[Api, str, str], CpanelCase] = {
    (UAPI, "SSL", "install_ssl"): lambda w: (
        (acct := w.account())[0],
        {"cert" if k == "crt" else k: v for k, v in _certificate(acct[1]).items()},
    ),
    (API2, "SSL", "installssl"): lambda w: ((acct := w.account())[0], _certificate(acct[1])),
    (UAPI, "SSL", "delete_ssl"): lambda w: (
        (acct := _with_certificate(w))[0],
        {"domain": acct[1]},
    ),
    (UAPI, "SSL", "generate_key"): lambda w: (w.account()[0], {"keytype": "ecdsa-prime256v1"}),
    (UAPI, "SSL", "upload_key"): lambda w: (
        (acct := w.account())[0],
        {"key": _certificate(acct[1])["key"]},
    ),
    (UAPI, "SSL", "generate_csr"): _csr_params,
    (UAPI, "SSL", "generate_cert"): _csr_params,
    (UAPI, "SSL", "delete_key"): lambda w: ((made := _with_key(w))[0], {"id": made[2]}),
    (UAPI, "SSL", "delete_cert"): lambda w: (
        (made := _with_self_signed(w))[0],
        {"id": made[1]},
    ),
    (UAPI, "SSL", "delete_csr"): _csr_id,
    (UAPI, "SSL", "set_default_key_type"): lambda w: (w.account()[0], {"type": "rsa-4096"}),
    (API2, "SSL", "genkey"): lambda w: ((acct := w.account())[0], {"host": acct[1]}),
    (API2, "SSL", "gencsr"): _api2_csr_params,
    (UAPI, "SSL", "start_autossl_check"): lambda w: (
        _autossl_provider(w, enabled=True).account()[0],
        {},
    ),
    (UAPI, "SSL", "add_autossl_excluded_domains"): lambda w: (
        (acct := w.account())[0],
        {"domains": acct[1]},
    ),
    (UAPI, "SSL", "remove_autossl_excluded_domains"): lambda w: (
        (acct := _excluded(w))[0],
        {"domains": acct[1]},
    ),
    (UAPI, "SSL", "set_autossl_excluded_domains"): lambda w: (
        (acct := w.account())[0],
        {"domains": f"www.{acct[1]}"},
    ),
    (UAPI, "SSL", "upload_cert"): lambda w: (
        (acct := w.account())[0],
        {"crt": _certificate(acct[1])["crt"]},
    ),
    (UAPI, "DNS", "mass_edit_zone"): _cpanel_mass_edit,
    (UAPI, "DynamicDNS", "create"): lambda w: (
        (acct := w.account())[0],
        {"domain": f"dyn.{acct[1]}"},
    ),
    (UAPI, "DynamicDNS", "delete"): _with_dynamic_dns,
    (UAPI, "DynamicDNS", "recreate"): _with_dynamic_dns,
    (UAPI, "DynamicDNS", "set_description"): lambda w: (
        (named := _with_dynamic_dns(w))[0],
        {"id": _dynamic_dns_id(w, named[0]), "description": "Router"},
    ),
    (UAPI, "SubDomain", "addsubdomain"): lambda w: (
        (acct := w.account())[0],
        {"domain": "added", "rootdomain": acct[1]},
    ),
    (UAPI, "EmailAuth", "install_spf_records"): lambda w: (
        (acct := w.account())[0],
        {"domain": acct[1], "record": "v=spf1 mx -all"},
    ),
    (UAPI, "Email", "add_mx"): lambda w: (
        (acct := w.account())[0],
        {"domain": acct[1], "exchanger": "mx.example.net", "priority": "10"},
    ),
    (API2, "Email", "addmx"): lambda w: (
        (acct := w.account())[0],
        {"domain": acct[1], "exchange": "mx.example.net", "preference": "10"},
    ),
    (UAPI, "Email", "change_mx"): lambda w: (
        (acct := w.account())[0],
        {
            "domain": acct[1],
            "exchanger": "mx.example.net",
            "priority": "5",
            "oldexchanger": acct[1],
            "oldpriority": "0",
        },
    ),
    (API2, "Email", "changemx"): lambda w: (
        (acct := w.account())[0],
        {
            "domain": acct[1],
            "exchange": "mx.example.net",
            "preference": "5",
            "oldexchange": acct[1],
            "oldpreference": "0",
        },
    ),
    (UAPI, "Email", "delete_mx"): lambda w: (
        (acct := w.account())[0],
        {"domain": acct[1], "exchanger": acct[1], "priority": "0"},
    ),
    (API2, "Email", "delmx"): lambda w: (
        (acct := w.account())[0],
        {"domain": acct[1], "exchange": acct[1], "preference": "0"},
    ),
    (UAPI, "Email", "set_always_accept"): lambda w: (
        (acct := w.account())[0],
        {"domain": acct[1], "mxcheck": "remote"},
    ),
    (API2, "Email", "setalwaysaccept"): lambda w: (
        (acct := w.account())[0],
        {"domain": acct[1], "mxcheck": "remote"},
    ),
    (API2, "SubDomain", "addsubdomain"): lambda w: (
        (acct := w.account())[0],
        {"domain": "added", "rootdomain": acct[1]},
    ),
    (API2, "SubDomain", "delsubdomain"): _with_subdomain,
    (UAPI, "Tokens", "create_full_access"): lambda w: (w.account()[0], {"name": "new"}),
    (UAPI, "Tokens", "rename"): lambda w: _owner_of_token(w, {"new_name": "renamed"}),
    (UAPI, "Tokens", "revoke"): lambda w: _owner_of_token(w, {}),
    (UAPI, "Tokens", "gatehouse_set_description"): lambda w: _owner_of_token(
        w, {"description": "billing"}
    ),
    (UAPI, "Tokens", "gatehouse_rotate"): lambda w: _owner_of_token(w, {"grace_period": "60"}),
    (UAPI, "Tokens", "gatehouse_end_grace"): _rotated_cpanel_token,
    (UAPI, "Tokens", "gatehouse_set_rate_limit"): lambda w: _owner_of_token(
        w, {"rate_limit": "60"}
    ),
    (UAPI, "Tokens", "gatehouse_set_scope"): lambda w: (
        (acct := w.account())[0],
        {"name": w.cpanel_token(acct[0]), "scope_zone": acct[1]},
    ),
    (API2, "ZoneEdit", "add_zone_record"): lambda w: (
        (acct := _zone_as_owner(w, "domain"))[0],
        {**acct[1], "name": "add", "type": "TXT", "txtdata": "added"},
    ),
    (API2, "ZoneEdit", "edit_zone_record"): lambda w: (
        (acct := _line_as_owner(w))[0],
        {**acct[1], "txtdata": "edited"},
    ),
    (API2, "ZoneEdit", "remove_zone_record"): _line_as_owner,
}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    local = open_local(tmp_path_factory.mktemp("readonly"))
    made = World(local)
    yield made
    made.stack.close()
    local.close()


@dataclass
class Effects:
    """How often a call flushed the token cache and synced the zone files."""

    flushes: int = 0
    syncs: int = 0


@pytest.fixture
def effects(world: World, monkeypatch: pytest.MonkeyPatch) -> Effects:
    seen = Effects()
    gatehouse = world.local.gatehouse
    flush, sync = (
        gatehouse.authenticator.invalidate_cache,
        gatehouse.zone_publisher.sync_after_change,
    )

    def counted_flush() -> None:
        seen.flushes += 1
        flush()

    def counted_sync(names: Collection[str] | None = None) -> None:
        seen.syncs += 1
        sync(names)

    monkeypatch.setattr(gatehouse.authenticator, "invalidate_cache", counted_flush)
    monkeypatch.setattr(gatehouse.zone_publisher, "sync_after_change", counted_sync)
    return seen


def test_every_function_has_a_case() -> None:
    load_faces()
    whm = {**WHM_READONLY, **WHM_CHANGING}
    assert len(whm) == len(WHM_READONLY) + len(WHM_CHANGING)
    assert sorted(whm) == REGISTRY.names()
    for name in REGISTRY.names():
        assert REGISTRY.functions[name].readonly == (name in WHM_READONLY), name
    cpanel = {**CPANEL_READONLY, **CPANEL_CHANGING}
    registered = {(fn.api, fn.module, fn.name): fn for r in (UAPI_REGISTRY, API2_REGISTRY)
                  for fn in r.functions.values()}  # fmt: skip
    assert set(cpanel) == set(registered)
    for key, fn in registered.items():
        assert fn.readonly == (key in CPANEL_READONLY), key


def _check(world: World, effects: Effects, call: Callable[[], Any], readonly: bool) -> None:
    before, seen = world.local.dump(), Effects(effects.flushes, effects.syncs)
    outcome = call()
    assert outcome.ok, outcome.payload
    after = world.local.dump()
    if readonly:
        assert after == before, "a read-only function changed the store"
        assert (effects.flushes, effects.syncs) == (seen.flushes, seen.syncs)
    else:
        assert after != before, "the call changed nothing: is the function read-only?"
        assert (effects.flushes, effects.syncs) == (seen.flushes + 1, seen.syncs + 1)


@pytest.mark.parametrize("name", sorted({**WHM_READONLY, **WHM_CHANGING}))
def test_a_whm_function_does_what_its_flag_says(world: World, effects: Effects, name: str) -> None:
    readonly = name in WHM_READONLY
    params = (WHM_READONLY if readonly else WHM_CHANGING)[name](world)
    _check(world, effects, lambda: world.local.whm(name, params), readonly)


@pytest.mark.parametrize(
    "key", sorted({**CPANEL_READONLY, **CPANEL_CHANGING}), ids=lambda k: "::".join(k)
)
def test_a_cpanel_function_does_what_its_flag_says(
    world: World, effects: Effects, key: tuple[Api, str, str]
) -> None:
    readonly = key in CPANEL_READONLY
    account, params = (CPANEL_READONLY if readonly else CPANEL_CHANGING)[key](world)
    api, module, func = key
    _check(world, effects, lambda: world.local.cpanel(api, module, func, account, params), readonly)
