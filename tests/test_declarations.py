"""Every WHM API 1 function's declared parameters are what the code does, so the OpenAPI
document and `applist` cannot drift from it:

* `required`: a call without the parameter is refused, before anything is written — by the
  dispatcher with exactly `Missing parameter: NAME` (after the privilege check), or, where
  `handler_refuses`, by the handler in cPanel's own words; a handler's own `call.require(NAME)`
  or `Missing parameter: NAME` names a declared parameter, a required one for `call.require`;
* `secret`: the value never reaches a log line or the store (audit details included), and the
  OpenAPI document marks it `format: password`, `writeOnly`.
"""

from __future__ import annotations

import inspect
import logging
import re
import secrets
import string
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from gatehouse.errors import missing_parameter
from gatehouse.passwords import generate_password
from gatehouse.program import load_faces
from gatehouse.whm import openapi
from gatehouse.whm.registry import REGISTRY
from inprocess import Local, open_local

load_faces()
NAMES = REGISTRY.names()
PASSWORD = "Declared-Secret-Test-4kR!"  # a throwaway store's


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Local]:
    opened = open_local(tmp_path_factory.mktemp("declarations"))
    yield opened
    opened.close()


def _reason(payload: dict[str, Any]) -> str:
    return str(payload.get("metadata", {}).get("reason", payload))


@pytest.mark.parametrize("name", [n for n in NAMES if REGISTRY.functions[n].enforced])
def test_a_missing_required_parameter_is_refused_in_the_dispatchers_words(
    local: Local, name: str
) -> None:
    fn = REGISTRY.functions[name]
    required = [p.name for p in fn.params if p.required]
    before = local.dump()
    for param in fn.enforced:
        for absent in ({}, {param.name: ""}):  # left out, or given empty: both are missing
            given = {p: "x1" for p in required if p != param.name} | absent
            outcome = local.whm(name, given)
            assert not outcome.ok
            assert _reason(outcome.payload) == missing_parameter(param.name).reason, given
    # With none given, the first declared one is named.
    assert _reason(local.whm(name).payload) == f"Missing parameter: {fn.enforced[0].name}"
    assert local.dump() == before


@pytest.mark.parametrize(
    "name", [n for n in NAMES if any(p.handler_refuses for p in REGISTRY.functions[n].params)]
)
def test_a_parameter_the_handler_checks_itself_is_still_required(local: Local, name: str) -> None:
    fn = REGISTRY.functions[name]
    assert all(p.required for p in fn.params if p.handler_refuses), "handler_refuses: required"
    required = [p.name for p in fn.params if p.required]
    before = local.dump()
    for param in fn.params:
        if param.handler_refuses:
            outcome = local.whm(name, {p: "x1" for p in required if p != param.name})
            assert not outcome.ok, param.name
    assert local.dump() == before


def test_the_required_check_comes_after_the_privilege_check(local: Local) -> None:
    user = f"r{uuid.uuid4().hex[:7]}"
    local.ok(
        "createacct", {"username": user, "domain": f"{user}.example.com", "password": PASSWORD}
    )
    local.ok("setupreseller", {"user": user})  # a reseller with the default privileges
    held = local.principal(user).privileges
    refused = [
        n
        for n in NAMES
        if REGISTRY.functions[n].enforced and not REGISTRY.functions[n].allowed(held)
    ]
    assert refused
    for name in refused:
        outcome = local.whm(name, as_user=user)
        assert _reason(outcome.payload).startswith("Access denied:"), name


@pytest.mark.parametrize("name", NAMES)
def test_what_a_handler_requires_itself_is_declared(local: Local, name: str) -> None:
    fn = REGISTRY.functions[name]
    declared = {p.name: p for p in fn.params}
    for wanted in re.findall(r'call\.require\("([^"]+)"\)', inspect.getsource(fn.handler)):
        assert wanted in declared and declared[wanted].required, wanted
    said = re.fullmatch(r"Missing parameter: (\S+)", _reason(local.whm(name).payload))
    if said:
        assert said.group(1) in declared, said.group(0)


def test_the_openapi_document_says_what_is_required_and_what_is_secret() -> None:
    paths = openapi.document(REGISTRY)["paths"]
    assert "/json-api/loadavg" not in paths  # WHM API 0 only
    for name in REGISTRY.api1_names():
        listed = {p["name"]: p for p in paths[f"/json-api/{name}"]["get"]["parameters"]}
        for param in REGISTRY.functions[name].params:
            doc = listed[param.name]
            assert doc["required"] == param.required, (name, param.name)
            schema = doc["schema"]
            secret = schema.get("format") == "password" and schema.get("writeOnly") is True
            assert secret == param.secret, (name, param.name)


def test_a_secret_parameter_reaches_no_log_line_and_no_row(
    local: Local, caplog: pytest.LogCaptureFixture
) -> None:
    secret_params = {(n, p.name) for n in NAMES for p in REGISTRY.functions[n].params if p.secret}
    assert secret_params == {
        ("api_token_get_details", "token"),
        ("createacct", "password"),
        ("createacct", "pass"),
        ("create_integration_link", "token"),
        ("gatehouse_add_cluster_peer", "token"),
        ("gatehouse_set_cluster_peer_token", "token"),
        ("gatehouse_set_notice_secret", "secret"),
        ("get_password_strength", "password"),
        ("get_remote_access_hash", "password"),
        ("installssl", "key"),
        ("install_service_ssl_certificate", "key"),
        ("passwd", "password"),
        ("update_integration_link_token", "token"),
    }
    marker = f"Zq9-secret-{generate_password()}"  # strong enough to be accepted as a password
    user = f"s{uuid.uuid4().hex[:7]}"
    domain = f"{user}.example.com"
    with caplog.at_level(logging.DEBUG):
        # Accepted and refused calls alike: a refusal must not quote the secret either.
        assert local.whm("createacct", {"username": user, "domain": domain, "password": marker}).ok
        other = f"t{uuid.uuid4().hex[:7]}"
        local.whm("createacct", {"username": other, "domain": domain, "pass": marker})  # taken
        assert local.whm("passwd", {"user": user, "password": marker + "2"}).ok
        assert not local.whm("passwd", {"user": "nobody-here", "password": marker}).ok
        assert not local.whm("passwd", {"user": user, "password": "short"}).ok
        # Rated, and a password too weak for the minimum strength refused: not quoted either.
        assert local.whm("get_password_strength", {"password": marker}).ok
        weak = "".join(secrets.choice(string.ascii_lowercase) for _ in range(8))  # rates < 65
        assert not local.whm("passwd", {"user": user, "password": weak}).ok
        token = local.ok("api_token_create", {"token_name": other})["token"]
        assert local.whm("api_token_get_details", {"token": token}).ok
        local.whm("api_token_get_details", {"token": marker})  # no such token
        # A DNS cluster peer's token: stored encrypted, never quoted by a refusal.
        peer = {"host": f"{user}.peer.example", "token": marker, "check": "0"}
        assert local.whm("gatehouse_add_cluster_peer", {**peer, "role": "standalone"}).ok
        assert not local.whm("gatehouse_add_cluster_peer", {**peer, "role": "boss"}).ok
        rotated = {"host": peer["host"], "token": marker + "3", "check": "0"}
        assert local.whm("gatehouse_set_cluster_peer_token", rotated).ok
        # The notices webhook's signing secret: stored encrypted, never quoted by a refusal.
        assert local.whm("gatehouse_set_notice_secret", {"secret": marker}).ok
        assert not local.whm("gatehouse_set_notice_secret", {"secret": marker + "\x01"}).ok
        # An integration link's token: stored encrypted, never quoted by a refusal.
        link = {"user": user, "app": "billing", "url": "https://b.example/", "token": marker}
        assert local.whm("create_integration_link", link).ok
        assert not local.whm("create_integration_link", {**link, "label": "it's"}).ok
        renewed = {"user": user, "app": "billing", "token": marker + "3"}
        assert local.whm("update_integration_link_token", renewed).ok
        assert not local.whm("update_integration_link_token", {**renewed, "app": "none"}).ok
        # Another server's password, sent there and kept nowhere (port 1: refused at once).
        remote = {"host": "127.0.0.1", "port": "1", "username": user, "password": marker}
        assert not local.whm("get_remote_access_hash", remote).ok
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    for value in (marker, token, marker + "3", weak):
        assert value not in logged
        assert value not in repr(local.dump())
