"""Request bodies in JSON (docs/api.md, *Parameters*): a body whose Content-Type is exactly
`application/json` is one JSON object of arguments, as cpsrvd reads it for WHM API 1 and UAPI
(Cpanel::JSONAPI::parsejson); nested values are refused in the caller's envelope
(Cpanel/API.pm _safety_check_args, Cpanel/Api2/Exec.pm). Over HTTP, against a real server."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from conftest import Server

JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def holder(server: Server) -> dict[str, str]:
    user, password = server.account()
    return {"user": user, "token": server.cpanel_token(user, password, name="json-bodies")}


def _whm(server: Server, function: str, body: Any, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(
        f"{server.url}/json-api/{function}?api.version=1",
        content=body if isinstance(body, bytes) else json.dumps(body).encode(),
        headers={"Authorization": f"whm root:{server.root_token}", **headers},
        timeout=30,
    )


def _uapi(
    server: Server, holder: dict[str, str], path: str, body: Any, headers: dict[str, str]
) -> httpx.Response:
    return httpx.post(
        f"{server.cpanel_url}{path}",
        content=body if isinstance(body, bytes) else json.dumps(body).encode(),
        headers={"Authorization": f"cpanel {holder['user']}:{holder['token']}", **headers},
        timeout=30,
    )


def test_whm_api1_reads_a_json_body(server: Server, holder: dict[str, str]) -> None:
    response = _whm(server, "accountsummary", {"user": holder["user"]}, JSON)
    assert response.status_code == 200
    body = response.json()
    assert body["metadata"]["result"] == 1
    assert body["data"]["acct"][0]["user"] == holder["user"]


def test_json_numbers_are_arguments_as_perl_prints_them(
    server: Server, holder: dict[str, str]
) -> None:
    """A serial sent as a JSON number is the serial's text (`2026120601`, not `2026120601.0`):
    the stale-serial check compares text."""
    zone = f"{holder['user']}.example.com"
    parsed = server.ok("parse_dns_zone", params={"zone": zone})
    soa = next(r for r in parsed["payload"] if r.get("record_type") == "SOA")
    serial = int(base64.b64decode(soa["data_b64"][2]).decode())
    body = {
        "zone": zone,
        "serial": float(serial),
        "add": json.dumps(
            {"dname": "json-number", "ttl": 300, "record_type": "TXT", "data": ["from json"]}
        ),
    }
    response = _whm(server, "mass_edit_dns_zone", body, JSON)
    assert response.json()["metadata"]["result"] == 1, response.text


@pytest.mark.parametrize("value", [["a"], {"a": 1}, True], ids=["list", "object", "boolean"])
def test_whm_api1_refuses_nested_values(server: Server, holder: dict[str, str], value: Any) -> None:
    response = _whm(server, "accountsummary", {"user": value}, JSON)
    assert response.status_code == 200
    assert response.json()["metadata"] == {
        "command": "accountsummary",
        "reason": "accountsummary does not expect nested data structures.",
        "result": 0,
        "version": 1,
    }


def test_uapi_reads_a_json_body(server: Server, holder: dict[str, str]) -> None:
    zone = f"{holder['user']}.example.com"
    response = _uapi(server, holder, "/execute/DNS/parse_zone", {"zone": zone}, JSON)
    assert response.status_code == 200
    assert response.json()["status"] == 1


@pytest.mark.parametrize("value", [["x"], {"x": "y"}, False], ids=["list", "object", "boolean"])
def test_uapi_refuses_nested_values_in_cpanels_words(
    server: Server, holder: dict[str, str], value: Any
) -> None:
    zone = f"{holder['user']}.example.com"
    body = {"zone": zone, "extra": value}
    response = _uapi(server, holder, "/execute/DNS/parse_zone", body, JSON)
    assert response.status_code == 200
    assert response.json()["status"] == 0
    assert response.json()["errors"] == ["DNS::parse_zone does not expect nested data structures."]


def test_api2_reads_a_json_body_and_refuses_nested_values(
    server: Server, holder: dict[str, str]
) -> None:
    call = {
        "cpanel_jsonapi_apiversion": 2,
        "cpanel_jsonapi_module": "ZoneEdit",
        "cpanel_jsonapi_func": "fetchzones",
    }
    good = _uapi(server, holder, "/json-api/cpanel", call, JSON).json()["cpanelresult"]
    assert f"{holder['user']}.example.com" in good["data"][0]["zones"]
    bad = _uapi(server, holder, "/json-api/cpanel", {**call, "x": [1]}, JSON).json()
    assert bad["cpanelresult"]["error"] == (
        "API2: ZoneEdit::fetchzones does not support complex data requests."
    )


def test_file_keys_and_nulls_are_no_arguments(server: Server, holder: dict[str, str]) -> None:
    """parsejson drops `file-` keys; a null is no value: the argument is missing."""
    response = _uapi(
        server, holder, "/execute/DNS/parse_zone", {"zone": None, "file-zone": "x"}, JSON
    )
    body = response.json()
    assert body["status"] == 0
    assert body["errors"] == ["Provide the “zone” argument."]


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "Application/JSON", "text/plain"]
)
def test_only_exactly_application_json_is_json(
    server: Server, holder: dict[str, str], content_type: str
) -> None:
    """cPanel compares the Content-Type whole: anything else is read as a form, so a JSON
    text is no argument at all."""
    response = _whm(
        server, "accountsummary", {"user": holder["user"]}, {"Content-Type": content_type}
    )
    assert response.json()["metadata"]["result"] == 0


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "The request body is not valid JSON"),
        (b"[1, 2]", "The JSON request body must be an object of arguments."),
        (b"\xff\xfe", "The request body is not valid JSON"),
    ],
    ids=["broken", "array", "not-utf8"],
)
def test_a_body_that_is_no_json_object_is_refused_in_the_envelope(
    server: Server, holder: dict[str, str], body: bytes, reason: str
) -> None:
    whm = _whm(server, "accountsummary", body, JSON)
    assert whm.status_code == 400
    assert whm.json()["metadata"]["reason"].startswith(reason)
    uapi = _uapi(server, holder, "/execute/DNS/parse_zone", body, JSON)
    assert uapi.status_code == 400
    assert uapi.json()["errors"][0].startswith(reason)
