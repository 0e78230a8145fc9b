"""Request parameters: the `Params` merge rules (compatibility.md §Requests 2–3, whm-reference
§1.1) as a unit table, then how the server reads them over real HTTP (bodies whatever their
Content-Type, long query strings, limits answered in a WHM API 1 envelope)."""

from __future__ import annotations

import http.client
import json
import uuid
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import Server
from gatehouse.api.params import MAX_PARAMETERS, Params
from gatehouse.errors import InvalidParameter

# -- unit: Params -------------------------------------------------------------------------

GETLIST_CASES = [
    # (pairs, name, expected getlist)
    ([("acl", "a")], "acl", ["a"]),
    ([("acl-0", "a"), ("acl-1", "b")], "acl", ["a", "b"]),
    ([("acl-1", "b"), ("acl-0", "a")], "acl", ["a", "b"]),
    ([("acl-1", "b"), ("acl", "plain"), ("acl-0", "a")], "acl", ["plain", "a", "b"]),
    ([("acl", "a"), ("acl", "b")], "acl", ["a", "b"]),
    ([("acl", "a"), ("acl", "b"), ("acl-0", "c")], "acl", ["a", "b", "c"]),
    # numeric, not lexical, order
    ([("acl-10", "ten"), ("acl-2", "two"), ("acl-1", "one")], "acl", ["one", "two", "ten"]),
    # a repeated numbered key keeps its repetitions together, in order
    ([("acl-1", "x"), ("acl-0", "a"), ("acl-1", "y")], "acl", ["a", "x", "y"]),
    # `acl-list-accts` (setacls' spelling) is a different parameter, not part of `acl`
    ([("acl-list-accts", "1"), ("acl-0", "a")], "acl", ["a"]),
    ([("acl-list-accts", "1")], "acl", []),
    ([("acl-", "x"), ("acl-1a", "y"), ("aclx-1", "z"), ("xacl-1", "w")], "acl", []),
    # a name with regex metacharacters is matched literally
    ([("api.version", "1"), ("apixversion-0", "2")], "api.version", ["1"]),
    ([("whitelist_ip-0", "10.0.0.1")], "acl", []),
    ([], "acl", []),
    ([("acl", "")], "acl", [""]),
]


@pytest.mark.parametrize(("pairs", "name", "expected"), GETLIST_CASES)
def test_getlist(pairs: list[tuple[str, str]], name: str, expected: list[str]) -> None:
    assert Params(pairs).getlist(name) == expected


GET_CASES = [
    ([("user", "bob")], "user", "bob"),
    ([("user", "bob"), ("user", "alice")], "user", "bob"),  # first of a repetition
    ([("user-1", "b"), ("user-0", "a")], "user", "a"),  # no plain key: the lowest -N
    ([("user-0", "a"), ("user", "plain")], "user", "plain"),  # the plain key wins
    ([("user", "")], "user", ""),  # blank is a value, not absent
    ([], "user", None),
    ([("acl-list-accts", "1")], "acl", None),
]


@pytest.mark.parametrize(("pairs", "name", "expected"), GET_CASES)
def test_get(pairs: list[tuple[str, str]], name: str, expected: str | None) -> None:
    assert Params(pairs).get(name) == expected


CONTAINS_CASES = [
    ([("acl", "a")], "acl", True),
    ([("acl-3", "a")], "acl", True),
    ([("acl", "")], "acl", True),
    ([("acl-list-accts", "1")], "acl", False),
    ([("acl-list-accts", "1")], "acl-list-accts", True),
    ([], "acl", False),
]


@pytest.mark.parametrize(("pairs", "name", "expected"), CONTAINS_CASES)
def test_contains(pairs: list[tuple[str, str]], name: str, expected: bool) -> None:
    assert (name in Params(pairs)) is expected


FROM_REQUEST_CASES = [
    # (query, body, name, expected getlist)
    (b"acl=a&acl=b", b"", "acl", ["a", "b"]),
    (b"acl-1=b&acl-0=a&acl=p", b"", "acl", ["p", "a", "b"]),
    (b"acl-0=q", b"acl-1=b1", "acl", ["q", "b1"]),  # query and body merged
    (b"acl=q", b"acl=b", "acl", ["q", "b"]),  # query's repetitions first
    (b"", b"token_name=x", "token_name", ["x"]),
    (b"k=a%20b+c", b"", "k", ["a b c"]),
    (b"k=", b"", "k", [""]),
    (b"k", b"", "k", [""]),  # a bare key is a blank value
    (b"k=%E2%9C%93", b"", "k", ["\u2713"]),
    (b"k=%ff", b"", "k", ["\ufffd"]),  # invalid UTF-8 is replaced, never an error
    (b"", b"", "k", []),
]


@pytest.mark.parametrize(("query", "body", "name", "expected"), FROM_REQUEST_CASES)
def test_from_request(query: bytes, body: bytes, name: str, expected: list[str]) -> None:
    assert Params.from_request(query, body).getlist(name) == expected


@pytest.mark.parametrize(
    ("query", "body"),
    [
        (b"&".join(b"p%d=1" % i for i in range(MAX_PARAMETERS + 1)), b""),
        (b"", b"&".join(b"p%d=1" % i for i in range(MAX_PARAMETERS + 1))),
        # each half is under the limit, together they are over it
        (
            b"&".join(b"q%d=1" % i for i in range(1500)),
            b"&".join(b"b%d=1" % i for i in range(1500)),
        ),
    ],
    ids=["query", "body", "query+body"],
)
def test_from_request_too_many_parameters(query: bytes, body: bytes) -> None:
    with pytest.raises(InvalidParameter, match="too many parameters"):
        Params.from_request(query, body)


def test_from_request_at_the_limit() -> None:
    query = b"&".join(b"p%d=1" % i for i in range(MAX_PARAMETERS))
    assert len(list(Params.from_request(query, b""))) == MAX_PARAMETERS


@given(st.binary(max_size=2048), st.binary(max_size=2048))
@settings(max_examples=300, deadline=None)
def test_from_request_never_raises_anything_else(query: bytes, body: bytes) -> None:
    try:
        params = Params.from_request(query, body)
    except InvalidParameter:
        return
    for key in params:
        params.getlist(key)
        params.get(key)
        assert key in params


@given(
    st.lists(
        st.sampled_from(["acl", "acl-0", "acl-1", "acl-2", "acl-10", "acl-x", "x"]), max_size=12
    )
)
def test_getlist_plain_first_then_numbered(keys: list[str]) -> None:
    pairs = [(k, f"{k}#{i}") for i, k in enumerate(keys)]
    got = Params(pairs).getlist("acl")
    plain = [v for k, v in pairs if k == "acl"]
    numbered = sorted(
        (
            (int(k[4:]), i, v)
            for i, (k, v) in enumerate(pairs)
            if k[4:].isdigit() and k.startswith("acl-")
        ),
    )
    assert got == plain + [v for _n, _i, v in numbered]


FROM_ARGS_CASES = [
    (["a=1"], "a", ["1"]),
    (["a=1", "a=2"], "a", ["1", "2"]),
    (["a="], "a", [""]),
    (["a==b"], "a", ["=b"]),  # only the first `=` splits
    (["acl-1=y", "acl-0=x"], "acl", ["x", "y"]),
    (["k=v w"], "k", ["v w"]),  # no URL decoding on the command line
    (["k=a%20b"], "k", ["a%20b"]),
]


@pytest.mark.parametrize(("args", "name", "expected"), FROM_ARGS_CASES)
def test_from_args(args: list[str], name: str, expected: list[str]) -> None:
    assert Params.from_args(args).getlist(name) == expected


@pytest.mark.parametrize("bad", ["novalue", "", "token_name"])
def test_from_args_rejects_a_word_without_equals(bad: str) -> None:
    with pytest.raises(InvalidParameter, match="key=value"):
        Params.from_args(["ok=1", bad])


# -- over HTTP ----------------------------------------------------------------------------


def _name() -> str:
    return f"p-{uuid.uuid4().hex[:12]}"


def _auth(server: Server) -> dict[str, str]:
    return {"Authorization": f"whm root:{server.root_token}"}


def _token_names(server: Server) -> set[str]:
    return set(server.ok("api_token_list")["tokens"])


def test_post_octet_stream_body_is_read(server: Server) -> None:
    name = _name()
    response = httpx.post(
        f"{server.url}/json-api/api_token_create",
        content=f"api.version=1&token_name={name}".encode(),
        headers={**_auth(server), "Content-Type": "application/octet-stream"},
        timeout=30,
    )
    body = response.json()
    assert response.status_code == 200
    assert body["metadata"]["result"] == 1, body
    assert body["data"]["name"] == name
    server.remember(body["data"]["token"])


def test_post_with_empty_body_and_no_content_type_reads_the_query(server: Server) -> None:
    name = _name()
    request = httpx.Request(
        "POST",
        f"{server.url}/json-api/api_token_create",
        params={"api.version": "1", "token_name": name},
        headers=_auth(server),
    )
    assert "content-type" not in request.headers
    with httpx.Client(timeout=30) as client:
        response = client.send(request)
    body = response.json()
    assert body["metadata"]["result"] == 1, body
    assert body["data"]["name"] == name
    server.remember(body["data"]["token"])


def test_query_and_body_are_merged(server: Server) -> None:
    name = _name()
    response = httpx.post(
        f"{server.url}/json-api/api_token_create",
        params={"api.version": "1", "token_name": name, "acl-0": "list-accts"},
        content=b"acl-1=create-acct",
        headers={**_auth(server), "Content-Type": "application/x-www-form-urlencoded"},
        timeout=30,
    )
    body = response.json()
    assert body["metadata"]["result"] == 1, body
    server.remember(body["data"]["token"])
    acl_map = server.ok("api_token_list")["tokens"][name]["acls"]
    assert {k for k, v in acl_map.items() if v} == {"list-accts", "create-acct"}


def _raw_get(server: Server, target: str) -> tuple[int, bytes]:
    """A GET with an arbitrarily long target (httpx refuses URLs over 64 KB)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=60)
    try:
        conn.request("GET", target, headers=_auth(server))
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


GRANIAN_URI_LIMIT = (
    "granian (hyper / the http crate) caps the request target at 65534 bytes and "
    "answers a longer one itself: a bare 414 with an empty body (no envelope) "
    "up to its buffer size, a dropped connection beyond it; the app never sees "
    "the request. Known gap: a clear envelope would need our own listener."
)


def test_query_string_over_8kb_works(server: Server) -> None:
    # A PEM chain sent in a GET (installssl) is tens of KB once URL-encoded.
    junk = "A" * 60_000
    status, raw = _raw_get(server, f"/json-api/version?api.version=1&junk={junk}")
    assert status == 200
    assert json.loads(raw)["data"] == {"version": "11.120.0.16"}


def test_query_string_over_the_limit_gets_a_414_envelope(server: Server) -> None:
    junk = "A" * 63_000  # over GATEHOUSE_MAX_QUERY (60 KiB), under the HTTP layer's 64 KiB
    status, raw = _raw_get(server, f"/json-api/version?api.version=1&junk={junk}")
    assert status == 414
    envelope = json.loads(raw)
    assert envelope["metadata"]["result"] == 0
    assert "query string" in envelope["metadata"]["reason"]


@pytest.mark.parametrize("size", [200_000, 10 * 1024 * 1024])
def test_a_huge_query_string_is_refused_and_the_server_stays_up(server: Server, size: int) -> None:
    try:
        status, _raw = _raw_get(server, f"/json-api/version?api.version=1&junk={'A' * size}")
        assert status == 414
    except OSError:
        pass  # past the HTTP layer's buffer the connection is closed mid-request
    assert server.ok("version") == {"version": "11.120.0.16"}


@pytest.mark.xfail(reason=GRANIAN_URI_LIMIT, strict=True)
def test_query_string_of_200kb_works(server: Server) -> None:
    junk = "A" * 200_000
    status, raw = _raw_get(server, f"/json-api/version?api.version=1&junk={junk}")
    assert status == 200, raw[:200]
    assert json.loads(raw)["data"] == {"version": "11.120.0.16"}


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_body_over_the_limit_is_413_in_an_envelope_and_writes_nothing(
    server: Server, framing: str
) -> None:
    name = _name()
    head = f"api.version=1&token_name={name}&junk=".encode()
    body: bytes | Iterator[bytes]
    if framing == "content-length":
        body = head + b"x" * (5 * 1024 * 1024)
    else:  # no Content-Length: the limit must hold while reading
        body = iter([head, *(b"x" * 65536 for _ in range(80))])
    response = httpx.post(
        f"{server.url}/json-api/api_token_create",
        content=body,
        headers={**_auth(server), "Content-Type": "application/x-www-form-urlencoded"},
        timeout=60,
    )
    assert response.status_code == 413
    envelope = response.json()
    assert envelope["metadata"]["result"] == 0
    assert envelope["metadata"]["command"] == "api_token_create"
    assert "body" in envelope["metadata"]["reason"] and "limit" in envelope["metadata"]["reason"]
    assert name not in _token_names(server)


@pytest.mark.parametrize("where", ["query", "body"])
def test_too_many_parameters_is_400_with_a_clear_reason(server: Server, where: str) -> None:
    many = "&".join(f"p{i}=1" for i in range(MAX_PARAMETERS + 5))
    if where == "query":
        response = httpx.get(
            f"{server.url}/json-api/version?api.version=1&{many}", headers=_auth(server), timeout=30
        )
    else:
        response = httpx.post(
            f"{server.url}/json-api/version?api.version=1",
            content=many.encode(),
            headers=_auth(server),
            timeout=30,
        )
    assert response.status_code == 400
    envelope = response.json()
    assert envelope["metadata"]["result"] == 0
    assert "too many parameters" in envelope["metadata"]["reason"]
    assert str(MAX_PARAMETERS) in envelope["metadata"]["reason"]


@pytest.mark.xfail(reason=GRANIAN_URI_LIMIT, strict=True)
def test_ten_megabyte_query_parameter_gets_a_clear_error(server: Server) -> None:
    junk = "A" * (10 * 1024 * 1024)
    try:
        status, raw = _raw_get(server, f"/json-api/version?api.version=1&junk={junk}")
    except OSError as exc:
        pytest.fail(f"the connection was dropped: {exc!r}")
    assert status in (413, 414), raw[:300]
    envelope = json.loads(raw)
    assert envelope["metadata"]["result"] == 0
    assert "query string" in envelope["metadata"]["reason"]
    # and the server is still there
    assert server.ok("version") == {"version": "11.120.0.16"}


def test_openapi_lists_every_function_with_its_privileges(server: Server) -> None:
    from gatehouse.whm.functions import load_all
    from gatehouse.whm.registry import REGISTRY

    load_all()
    response = httpx.get(f"{server.url}/openapi.json", timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    document = json.loads(response.content)
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    names = REGISTRY.api1_names()  # WHM API 1's: those of API 0 only have no API 1 envelope
    assert names, "the registry is empty"
    assert set(paths) == {f"/json-api/{n}" for n in names}
    for name in names:
        operation = paths[f"/json-api/{name}"]["get"]
        assert operation["operationId"] == name
        assert operation["x-whm-privileges"] == list(REGISTRY.functions[name].privileges)


def test_login_page_with_too_many_parameters_is_400(server: Server) -> None:
    many = "&".join(f"p{i}=1" for i in range(MAX_PARAMETERS + 5))
    response = httpx.get(f"{server.url}/cpsess0000000000/login/?{many}", timeout=30)
    assert response.status_code == 400
    assert "too many parameters" in response.text
