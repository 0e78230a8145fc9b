"""A bounded fuzz run (issue 18, "Tests and checks"): schemathesis over WHM's /openapi.json
(valid and invalid parameters for every function, as root), and hypothesis strategies for
headers and form bodies on both faces (the JSON APIs, UAPI, the login forms). No answer may be
a 5xx, and the server may log no traceback. Fixed seeds (`derandomize`), so a failure
reproduces; each operation gets a bounded number of examples.

The run has a server of its own (SQLite, its own data dir): fuzzing as root changes and
removes things at random, which must not reach the other tests' server. The parsing it
exercises does not depend on the store.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.result import Ok

from conftest import Server, run_cli, start_server, stop_server
from gatehouse.passwords import generate_password

EXAMPLES_PER_OPERATION = 6
EXAMPLES_RAW = 150
TIMEOUT = 30


Test = Callable[..., None]


def _settings(examples: int) -> Callable[[Test], Test]:
    return settings(
        max_examples=examples,
        derandomize=True,  # a fixed seed: the same inputs on every run
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir: Path = tmp_path_factory.mktemp("fuzz")
    db_url = f"sqlite:///{data_dir / 'fuzz.sqlite3'}"
    root_password = generate_password()
    run_cli("init", "--root-password-stdin", data_dir=data_dir, db_url=db_url,
            stdin=root_password + "\n")  # fmt: skip
    server = start_server(data_dir, db_url, "sqlite", root_password)
    server.remember(root_password)
    yield server
    stop_server(server)


def _no_traceback(server: Server) -> None:
    log = server.log_path.read_text(errors="replace")
    assert "Traceback" not in log, log[log.index("Traceback") - 300 :][:3000]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_whm_openapi_fuzz_answers_no_5xx(fuzzed: Server, mode: GenerationMode) -> None:
    document = httpx.get(f"{fuzzed.url}/openapi.json", timeout=TIMEOUT).json()
    schema = schemathesis.openapi.from_dict(document)
    headers = {"Authorization": f"whm root:{fuzzed.root_token}"}
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()
        operations += 1

        @_settings(EXAMPLES_PER_OPERATION)
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case: Any) -> None:
            response = case.call(base_url=fuzzed.url, headers=headers, timeout=TIMEOUT)
            if response.status_code >= 500:
                failures.append(f"{response.status_code} {case.path} {case.query!r}")

        run()
    assert operations >= 60
    assert failures == []
    _no_traceback(fuzzed)


_header_text = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=255, exclude_characters="\x7f"),
    max_size=200,
)
_AUTH_SCHEMES = ["whm", "WHM", "cpanel", "Basic", "Bearer", "", "whm root:", "cpanel root:"]


@st.composite
def _requests(draw: st.DrawFn) -> dict[str, Any]:
    """A request with hostile headers and a form body: any scheme and credential text,
    cookies, content types, and bodies of random fields (or random bytes)."""
    scheme = draw(st.sampled_from(_AUTH_SCHEMES))
    headers = {
        "Authorization": f"{scheme} {draw(_header_text)}".strip(),
        "Cookie": draw(_header_text),
        "Content-Type": draw(
            st.sampled_from(
                [
                    "application/x-www-form-urlencoded",
                    "application/json",
                    "multipart/form-data; boundary=x",
                    "text/plain",
                    "",
                ]
            )
        ),
        "X-Forwarded-For": draw(_header_text),
        "Accept": draw(_header_text),
    }
    if draw(st.booleans()):
        fields = draw(
            st.dictionaries(st.text(min_size=1, max_size=30), st.text(max_size=200), max_size=8)
        )
        body: bytes = httpx.QueryParams(fields).__str__().encode()
    else:
        body = draw(st.binary(max_size=400))
    # Values as a client library can send them (no leading or trailing blanks).
    cleaned = {k: v.strip(" \t") for k, v in headers.items()}
    return {"headers": {k: v for k, v in cleaned.items() if v}, "body": body}


_WHM_PATHS = ["/json-api/listaccts", "/json-api/createacct", "/json-api/mass_edit_dns_zone",
              "/json-api/api_token_create", "/login/", "/json-api/cpanel",
              "/json-api/nosuch"]  # fmt: skip
_CPANEL_PATHS = ["/execute/DNS/mass_edit_zone", "/execute/Tokens/create_full_access",
                 "/execute/SubDomain/addsubdomain", "/execute/No/such", "/json-api/cpanel",
                 "/login/", "/cpanelwebcall/" + "x" * 20]  # fmt: skip


def _fire(base: str, paths: list[str], request: dict[str, Any], path_index: int) -> int:
    path = paths[path_index % len(paths)]
    headers = {k: v.encode("latin-1") for k, v in request["headers"].items()}
    response = httpx.post(
        f"{base}{path}", headers=headers, content=request["body"], timeout=TIMEOUT
    )
    return response.status_code


@pytest.mark.parametrize("face", ["whm", "cpanel"])
def test_hostile_headers_and_form_bodies_answer_no_5xx(fuzzed: Server, face: str) -> None:
    base, paths = (fuzzed.url, _WHM_PATHS) if face == "whm" else (fuzzed.cpanel_url, _CPANEL_PATHS)
    statuses: list[int] = []

    @_settings(EXAMPLES_RAW)
    @given(request=_requests(), path_index=st.integers(min_value=0, max_value=100))
    def run(request: dict[str, Any], path_index: int) -> None:
        statuses.append(_fire(base, paths, request, path_index))

    run()
    assert len(statuses) >= EXAMPLES_RAW // 2
    assert [s for s in statuses if s >= 500] == []
    _no_traceback(fuzzed)


def test_query_strings_of_random_bytes_answer_no_5xx(fuzzed: Server) -> None:
    """Percent-escapes of any byte (invalid UTF-8, NULs, surrogates' encodings) in names and
    values, on both faces' API paths."""
    alphabet = string.ascii_letters + string.digits + "%=&.-_[]{}\"'"
    statuses: list[int] = []

    @_settings(EXAMPLES_RAW)
    @given(query=st.text(alphabet=alphabet, max_size=300), on_cpanel=st.booleans())
    def run(query: str, on_cpanel: bool) -> None:
        if on_cpanel:
            url = f"{fuzzed.cpanel_url}/execute/DNS/parse_zone?{query}"
            auth = "cpanel root:" + "A" * 32
        else:
            url = f"{fuzzed.url}/json-api/listaccts?{query}"
            auth = f"whm root:{fuzzed.root_token}"
        statuses.append(
            httpx.get(url, headers={"Authorization": auth}, timeout=TIMEOUT).status_code
        )

    run()
    assert [s for s in statuses if s >= 500] == []
    _no_traceback(fuzzed)
