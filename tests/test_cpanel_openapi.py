"""The cPanel face's OpenAPI document (issue 15): every registered UAPI function as
`GET`/`POST /execute/{Module}/{func}` and every API 2 function in the `/json-api/cpanel` call,
served without authentication at `/openapi.json` on the cPanel ports (as WHM's is on its
own), loadable by schemathesis as WHM's is (tests/test_fuzz.py), and a smoke run of a few
read-only UAPI functions through it."""

from __future__ import annotations

import json
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.core.result import Ok

from conftest import Server
from gatehouse.cpanel import openapi
from gatehouse.cpanel.registry import API2_REGISTRY, UAPI_REGISTRY
from gatehouse.program import load_faces

load_faces()


def _served(server: Server) -> dict[str, Any]:
    response = server.cpanel_get("/openapi.json")  # no Authorization header
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    document: dict[str, Any] = json.loads(response.content)
    return document


def test_the_document_lists_every_uapi_and_api2_function(server: Server) -> None:
    document = _served(server)
    assert document == json.loads(json.dumps(openapi.document(UAPI_REGISTRY, API2_REGISTRY)))
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    uapi = UAPI_REGISTRY.functions
    api2 = API2_REGISTRY.functions
    assert uapi and api2, "a registry is empty"
    assert set(paths) == {f"/execute/{m}/{f}" for m, f in uapi} | {"/json-api/cpanel"}
    for (module, func), fn in uapi.items():
        item = paths[f"/execute/{module}/{func}"]
        assert set(item) == {"get", "post"}
        assert item["get"]["operationId"] == f"uapi.{module}.{func}"
        assert item["post"]["operationId"] == f"uapi.{module}.{func}.post"
        assert item["get"]["summary"] == fn.summary
    for method in ("get", "post"):
        operation = paths["/json-api/cpanel"][method]
        listed = {(f["module"], f["func"]) for f in operation["x-cpanel-api2-functions"]}
        assert listed == set(api2)
        params = {p["name"]: p["schema"] for p in operation["parameters"]}
        assert params["cpanel_jsonapi_apiversion"]["enum"] == [2]
        assert set(params["cpanel_jsonapi_module"]["enum"]) == {m for m, _ in api2}
        assert set(params["cpanel_jsonapi_func"]["enum"]) == {f for _, f in api2}
    schemes = document["components"]["securitySchemes"]
    assert schemes["cpanelToken"]["in"] == "header"
    assert schemes["cpanelToken"]["name"] == "Authorization"
    assert "cpanel USER:TOKEN" in schemes["cpanelToken"]["description"]
    assert schemes["basic"] == {"type": "http", "scheme": "basic"}
    assert document["security"] == [{"cpanelToken": []}, {"basic": []}]


def test_the_document_is_served_under_a_session_prefix_too(server: Server) -> None:
    response = server.cpanel_get("/cpsess0000000000/openapi.json")
    assert response.status_code == 200
    assert json.loads(response.content)["openapi"].startswith("3.")


def test_the_document_loads_in_schemathesis(server: Server) -> None:
    schema = schemathesis.openapi.from_dict(_served(server))
    operations = 0
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operations += 1
    assert operations == 2 * len(UAPI_REGISTRY.functions) + 2


SMOKE = {
    ("DomainInfo", "list_domains"),
    ("DomainInfo", "domains_data"),
}


def test_a_smoke_run_of_read_only_functions_answers_no_5xx(server: Server) -> None:
    # Positive examples only: with no declared parameters there is nothing to make invalid.
    user, password = server.account()
    token = server.cpanel_token(user, password)
    headers = {"Authorization": f"cpanel {user}:{token}"}
    schema = schemathesis.openapi.from_dict(_served(server))
    failures: list[str] = []
    ran = 0
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()
        parts = operation.path.split("/")
        if operation.method.lower() != "get" or tuple(parts[2:]) not in SMOKE:
            continue
        ran += 1

        @settings(
            max_examples=5,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
        def run(case: Any) -> None:
            response = case.call(base_url=server.cpanel_url, headers=headers, timeout=30)
            if response.status_code >= 500:
                failures.append(f"{response.status_code} {case.path} {case.query!r}")
            elif response.status_code == 200:
                assert response.json()["status"] == 1, response.text[:300]

        run()
    assert ran == len(SMOKE)
    assert failures == []
    # and the document's authentication is the face's: no credential, no answer
    bare = httpx.get(f"{server.cpanel_url}/execute/DomainInfo/list_domains", timeout=30)
    assert bare.status_code == 401
