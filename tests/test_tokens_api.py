"""The WHM API token functions over real HTTP (whm-reference §1.2–1.6, §3.3, §4;
compatibility.md §Responses).

api_token_create, api_token_list, api_token_update, api_token_revoke, api_token_get_details:
inputs good and bad, response shapes, name and ACL rules, IP-list normal form, expiry,
last-use bookkeeping and the audit trail. The server is shared by the whole session, so every
token and user name here is unique.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Sequence
from typing import Any

import pytest

from conftest import Server
from gatehouse.domain.tokens import Token

TOKEN_RE = re.compile(r"\A[0-9A-Z]{32}\Z")
DESCRIBED_KEYS = {"create_time", "expires_at", "name", "whitelist_ips"}  # + "acls" when limited
LISTED_KEYS = DESCRIBED_KEYS | {"acls", "last_used", "last_used_ip"}
RESELLER_ACLS = ["list-accts", "manage-api-tokens", "basic-whm-functions"]
# Cpanel/Security/Authn/APITokens/Validate.pm `_validate_token_name`, its maketext rendered.
NAME_ERROR = (
    "“{}” is not a valid API token name. An API token name must not be longer than 50 "
    "characters and may only contain the following characters: a-z A-Z 0-9 _ -"
)
# Cpanel::Validate::Time::epoch_or_die.
EPOCH_ERROR = "“{}” is not a valid UNIX epoch timestamp."
# An empty token_name on create: Validate.pm's Cpanel::Exception::MissingParameters for `name`.
EMPTY_NAME_REASON = (
    "Provide the “name” parameter for the "
    "“Cpanel::Security::Authn::APITokens::Validate::validate_creation” function."
)


# cPanel words every refusal of the token writer with this prefix (whm-reference §1.2).
REFUSAL_PREFIX = {
    "api_token_create": "The system failed to create the API token: ",
    "api_token_update": "The system failed to update the API token: ",
    "api_token_revoke": "The system failed to revoke the API token: ",
}


def token_refusal(server: Server, function: str, **kw: Any) -> str:
    """The reason of a refused create/update, after checking and removing cPanel's prefix."""
    reason = server.fail(function, **kw)
    prefix = REFUSAL_PREFIX[function]
    assert reason.startswith(prefix), reason
    return reason.removeprefix(prefix)


def uniq(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def multi(key: str, values: list[str]) -> list[tuple[str, str]]:
    """`key-0=v0&key-1=v1…`, the documented form of a repeated parameter."""
    return [(f"{key}-{i}", v) for i, v in enumerate(values)]


def metadata(function: str) -> dict[str, Any]:
    return {"command": function, "reason": "OK", "result": 1, "version": 1}


def create(
    server: Server,
    name: str | None = None,
    *,
    params: Sequence[tuple[str, str]] = (),
    user: str = "root",
    via: str | None = None,
) -> dict[str, Any]:
    """api_token_create; returns `data` (the secret is remembered by the harness)."""
    data = server.ok(
        "api_token_create", user=user, token=via, params=[("token_name", name or uniq()), *params]
    )
    server.remember(data["token"])
    return dict(data)


def listed(server: Server, *, user: str = "root", via: str | None = None) -> dict[str, Any]:
    return dict(server.ok("api_token_list", user=user, token=via)["tokens"])


def status_with(
    server: Server, secret: str, *, user: str = "root", function: str = "version"
) -> int:
    return server.get(function, user=user, token=secret).status_code


@pytest.fixture(scope="module")
def reseller(server: Server) -> tuple[str, str]:
    """A reseller without `all` (list-accts, manage-api-tokens, basic-whm-functions) and its
    full-access token. Its token namespace belongs to this module alone."""
    return server.reseller(RESELLER_ACLS)


@pytest.fixture(scope="module")
def limited(server: Server) -> str:
    """A root token limited to manage-api-tokens and list-accts."""
    return str(create(server, params=multi("acl", ["manage-api-tokens", "list-accts"]))["token"])


# ---------------------------------------------------------------------------------------------
# api_token_create: the response
# ---------------------------------------------------------------------------------------------


def test_create_answers_the_documented_envelope(server: Server) -> None:
    response = server.get("api_token_create", params={"token_name": uniq()})
    body = response.json()
    server.remember(body["data"]["token"])
    assert response.status_code == 200
    assert body["metadata"] == metadata("api_token_create")


def test_create_response_is_compact_json(server: Server) -> None:
    response = server.get(
        "api_token_create", params=[("token_name", uniq()), *multi("acl", ["list-accts"])]
    )
    server.remember(response.json()["data"]["token"])
    text = response.text
    assert text == json.dumps(
        json.loads(text), separators=(",", ":"), sort_keys=True, ensure_ascii=False
    )
    assert '"result":1' in text


def test_create_full_access_token_omits_acls(server: Server) -> None:
    name = uniq()
    before = int(time.time())
    data = create(server, name)
    assert set(data) == DESCRIBED_KEYS | {"token"}
    assert data["name"] == name
    assert data["expires_at"] is None
    assert data["whitelist_ips"] is None
    assert before - 1 <= data["create_time"] <= int(time.time()) + 1


def test_create_token_is_32_characters_of_digits_and_capitals(server: Server) -> None:
    tokens = {create(server)["token"] for _ in range(5)}
    assert len(tokens) == 5
    assert all(TOKEN_RE.match(t) for t in tokens)


def test_created_token_authenticates(server: Server) -> None:
    secret = create(server)["token"]
    assert server.ok("version", token=secret) == {"version": "11.120.0.16"}


def test_create_with_acls_returns_them_as_an_array(server: Server) -> None:
    data = create(server, params=multi("acl", ["list-accts", "create-acct"]))
    assert set(data) == DESCRIBED_KEYS | {"acls", "token"}
    assert data["acls"] == ["create-acct", "list-accts"]


@pytest.mark.parametrize(
    "acl_params",
    [
        [("acl", "list-accts"), ("acl", "create-acct")],  # the plain key repeated
        [("acl", "list-accts"), ("acl-0", "create-acct")],  # plain key, then -N
        [("acl-1", "create-acct"), ("acl-0", "list-accts"), ("acl-2", "list-accts")],
    ],
    ids=["repeated", "plain-and-numbered", "numbered-with-duplicate"],
)
def test_create_merges_repeated_acl_parameters(
    server: Server, acl_params: list[tuple[str, str]]
) -> None:
    data = create(server, params=acl_params)
    assert data["acls"] == ["create-acct", "list-accts"]


def test_create_with_acl_all_is_full_access(server: Server) -> None:
    data = create(server, params=[("acl", "all")])
    assert data["acls"] == ["all"]
    privs = server.ok("myprivs", token=data["token"])["privileges"][0]
    assert set(privs.values()) == {1}


# cPanel answers a token's ACLs without repeats and in plain string order, whatever order
# they were asked for in: `sort( uniq( @acls ) )` on every create and update
# (Cpanel/Security/Authn/APITokens/Write/whostmgr.pm `_normalize_token_data`). gatehouse's
# catalogue order differs (ssl-info is a basic privilege, ssl a standard one).
ACL_ORDERS = [
    (["list-accts", "create-acct"], ["create-acct", "list-accts"]),
    (["ssl-info", "ssl-buy", "ssl"], ["ssl", "ssl-buy", "ssl-info"]),
    (["edit-mx", "edit-dns"], ["edit-dns", "edit-mx"]),
    (["suspend-acct", "acct-summary", "suspend-acct"], ["acct-summary", "suspend-acct"]),
    (["list-accts", "all"], ["all", "list-accts"]),
]
ACL_ORDER_IDS = ["two", "prefix-first", "not-catalogue-order", "repeated", "with-all"]


@pytest.mark.parametrize(("asked", "answered"), ACL_ORDERS, ids=ACL_ORDER_IDS)
def test_create_answers_acls_sorted(server: Server, asked: list[str], answered: list[str]) -> None:
    data = create(server, params=multi("acl", asked))
    assert data["acls"] == answered
    details = server.ok("api_token_get_details", params={"token": data["token"]})
    assert details["acls"] == answered


@pytest.mark.parametrize(("asked", "answered"), ACL_ORDERS, ids=ACL_ORDER_IDS)
def test_update_answers_acls_sorted(server: Server, asked: list[str], answered: list[str]) -> None:
    name = uniq()
    secret = create(server, name)["token"]
    data = server.ok("api_token_update", params=[("token_name", name), *multi("acl", asked)])
    assert data["acls"] == answered
    assert server.ok("api_token_get_details", params={"token": secret})["acls"] == answered


def test_acls_stored_in_another_order_are_answered_sorted(server: Server) -> None:
    """A row written before gatehouse sorted (in catalogue order, with a repeat) answers as
    cPanel's would, and is written sorted by the next update."""
    name = uniq()
    secret = create(server, name, params=[("acl", "list-accts")])["token"]
    _set_token(server, "root", name, acls=["ssl-info", "list-accts", "ssl", "list-accts"])
    answered = ["list-accts", "ssl", "ssl-info"]
    assert server.ok("api_token_get_details", params={"token": secret})["acls"] == answered
    data = server.ok("api_token_update", params={"token_name": name, "whitelist_ip": "any"})
    assert data["acls"] == answered
    assert server.sql("SELECT acls FROM api_tokens WHERE name = :n", n=name)[0][0] in (
        answered,
        json.dumps(answered),
    )


@pytest.mark.parametrize(
    "function",
    [
        "api_token_create",
        "api_token_list",
        "api_token_update",
        "api_token_revoke",
        "api_token_get_details",
    ],
)
def test_token_functions_need_manage_api_tokens(server: Server, function: str) -> None:
    secret = create(server, params=[("acl", "list-accts")])["token"]
    response = server.get(function, token=secret, params={"token_name": uniq()})
    assert response.status_code == 403
    assert response.json()["metadata"]["reason"] == (
        f"Access denied: calling “{function}” requires the “manage-api-tokens” privilege."
    )


# ---------------------------------------------------------------------------------------------
# Token names
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "a", "Z", "0", "_", "-", "A" * 50, "Mixed_Case-09", "-leading-hyphen", "_leading_under",
        # Perl's `$` (Validate.pm line 135) matches before one final newline.
        "trailing-newline\n", "B" * 50 + "\n",
    ],
)  # fmt: skip
def test_create_accepts_valid_names(server: Server, reseller: tuple[str, str], name: str) -> None:
    user, secret = reseller  # its own namespace: these short names cannot clash with others
    assert create(server, name, user=user, via=secret)["name"] == name


@pytest.mark.parametrize(
    "name",
    [
        "A" * 51,
        "has space",
        "dot.name",
        "slash/name",
        "colon:name",
        "plus+name",
        "ümlaut",
        "٣",  # a non-ASCII digit
        "two-trailing-newlines\n\n",
        "newline\ninside",
        "\n",
        "A" * 51 + "\n",
        "quote'name",
    ],
)
def test_create_rejects_invalid_names(server: Server, name: str) -> None:
    assert token_refusal(
        server, "api_token_create", params={"token_name": name}
    ) == NAME_ERROR.format(name)


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        # Whostmgr/API/1/Tokens.pm `_build_create_or_update_args`, inside the try.
        ({}, "The parameter “token_name” is required."),
        ({"acl": "list-accts"}, "The parameter “token_name” is required."),
        # Validate.pm `_validate_common`: Cpanel::Exception::MissingParameters for `name`,
        # which names its first public caller as the function.
        ({"token_name": ""}, EMPTY_NAME_REASON),
    ],
    ids=["absent", "absent-with-acl", "empty"],
)
def test_create_requires_a_name(server: Server, params: dict[str, str], reason: str) -> None:
    assert token_refusal(server, "api_token_create", params=params) == reason


def test_create_rejects_a_name_the_owner_already_uses(server: Server) -> None:
    name = uniq()
    create(server, name)
    assert token_refusal(server, "api_token_create", params={"token_name": name}) == (
        f"A conflicting API token with the name “{name}” already exists."
    )


def test_two_owners_may_use_the_same_name(server: Server, reseller: tuple[str, str]) -> None:
    user, secret = reseller
    name = uniq("shared")
    root_token = create(server, name)["token"]
    reseller_token = create(server, name, user=user, via=secret)["token"]
    assert root_token != reseller_token
    assert name in listed(server) and name in listed(server, user=user, via=secret)


# ---------------------------------------------------------------------------------------------
# ACLs on create
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("acl_values", "reason"),
    [
        # Whostmgr/API/1/Tokens.pm: `[numerate,_1,ACL,ACLs]`, `[list_and,_2]`.
        (["no-such-acl"], "Invalid or unauthorized ACL specified: no-such-acl"),
        (["list-accts", "bogus"], "Invalid or unauthorized ACL specified: bogus"),
        (
            ["bogus", "list-accts", "worse"],
            "Invalid or unauthorized ACLs specified: bogus and worse",
        ),
        (["a", "b", "list-accts", "c"], "Invalid or unauthorized ACLs specified: a, b, and c"),
        (["x", "x"], "Invalid or unauthorized ACLs specified: x and x"),
        (["LIST-ACCTS"], "Invalid or unauthorized ACL specified: LIST-ACCTS"),
        ([""], "Invalid or unauthorized ACL specified: "),
    ],
    ids=["one", "one-of-two", "two", "three", "repeated", "case", "empty"],
)
def test_create_rejects_unknown_acls(server: Server, acl_values: list[str], reason: str) -> None:
    name = uniq()
    params = [("token_name", name), *multi("acl", acl_values)]
    assert token_refusal(server, "api_token_create", params=params) == reason
    assert name not in listed(server)


@pytest.mark.parametrize("acl", ["create-acct", "all", "kill-acct"])
def test_reseller_cannot_assign_an_acl_it_does_not_hold(
    server: Server, reseller: tuple[str, str], acl: str
) -> None:
    user, secret = reseller
    reason = token_refusal(
        server,
        "api_token_create",
        user=user,
        token=secret,
        params=[("token_name", uniq()), ("acl", acl)],
    )
    assert reason == f"Invalid or unauthorized ACL specified: {acl}"


def test_reseller_may_assign_an_acl_it_holds(server: Server, reseller: tuple[str, str]) -> None:
    user, secret = reseller
    data = create(server, user=user, via=secret, params=[("acl", "list-accts")])
    assert data["acls"] == ["list-accts"]


@pytest.mark.parametrize("acl", ["create-acct", "all"])
def test_limited_token_cannot_assign_an_acl_it_does_not_hold(
    server: Server, limited: str, acl: str
) -> None:
    reason = token_refusal(
        server, "api_token_create", token=limited, params=[("token_name", uniq()), ("acl", acl)]
    )
    assert reason == f"Invalid or unauthorized ACL specified: {acl}"


def test_limited_token_omitting_acl_grants_only_its_own_privileges(
    server: Server, limited: str
) -> None:
    data = create(server, via=limited)
    assert data["acls"] == ["list-accts", "manage-api-tokens"]


def test_token_minted_by_a_limited_token_is_not_full_access(server: Server, limited: str) -> None:
    child = create(server, via=limited)["token"]
    refused = server.get(
        "createacct",
        token=child,
        params={"username": "nobody", "domain": "nobody.example.com", "password": "x"},
    )
    assert refused.status_code == 403
    assert refused.json()["metadata"]["result"] == 0


def test_full_access_token_of_a_reseller_omitting_acl_stays_full_access(
    server: Server, reseller: tuple[str, str]
) -> None:
    user, secret = reseller
    assert "acls" not in create(server, user=user, via=secret)


# ---------------------------------------------------------------------------------------------
# IP allow-lists (whitelist_ip)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        (["192.0.2.1"], ["192.0.2.1"]),
        (["192.0.2.1/32"], ["192.0.2.1"]),
        (["192.0.2.8/29"], ["192.0.2.8/29"]),
        (["192.0.2.2", "192.0.2.1", "192.0.2.2"], ["192.0.2.1", "192.0.2.2"]),
        (["192.0.2.1", "192.0.2.1/32"], ["192.0.2.1"]),
        (["10.0.0.9", "9.0.0.0/8"], ["9.0.0.0/8", "10.0.0.9"]),  # numeric, not text, order
        (
            ["fc00:abcd::f", "1.1.1.8/29", "1.1.1.1"],  # the reference's example
            ["1.1.1.1", "1.1.1.8/29", "fc00:abcd:0000:0000:0000:0000:0000:000f"],
        ),
        (["::1/128"], ["0000:0000:0000:0000:0000:0000:0000:0001"]),
        (["2620:0:28a4::/48"], ["2620:0000:28a4:0000:0000:0000:0000:0000/48"]),
        (["fc00::1", "FC00:0:0:0:0:0:0:1"], ["fc00:0000:0000:0000:0000:0000:0000:0001"]),
        (
            ["2001:db8::/32", "203.0.113.0/24"],
            ["203.0.113.0/24", "2001:0db8:0000:0000:0000:0000:0000:0000/32"],
        ),
        (["any"], None),
    ],
    ids=[
        "v4",
        "v4-slash32",
        "v4-cidr",
        "dedupe-sort",
        "dedupe-slash32",
        "numeric-order",
        "reference-example",
        "v6-slash128",
        "v6-cidr",
        "v6-dedupe-case",
        "v4-before-v6",
        "any",
    ],
)
def test_create_normalises_the_ip_list(
    server: Server, given: list[str], stored: list[str] | None
) -> None:
    data = create(server, params=multi("whitelist_ip", given))
    assert data["whitelist_ips"] == stored


@pytest.mark.parametrize(
    "entry",
    [
        "192.0.2.1/24",  # host bits set
        "2001:db8::1/32",  # host bits set
        "300.1.1.1",
        "192.0.2",
        "192.0.2.0/33",
        "fc00::1/129",
        "not-an-ip",
        "192.0.2.1-192.0.2.9",
        "192.0.2.0/",
    ],
)
def test_create_rejects_an_invalid_ip_entry(server: Server, entry: str) -> None:
    name = uniq()
    params = [("token_name", name), *multi("whitelist_ip", ["192.0.2.1", entry])]
    assert token_refusal(server, "api_token_create", params=params) == (
        f"Invalid IP address or CIDR range specified: {entry}"
    )
    assert name not in listed(server)


def test_create_rejects_an_ipv6_zone_index(server: Server) -> None:
    entry = "fe80::1%eth0"
    assert token_refusal(
        server, "api_token_create", params=[("token_name", uniq()), ("whitelist_ip", entry)]
    ) == (f"Invalid IP address or CIDR range specified: {entry}")


@pytest.mark.parametrize("function", ["api_token_create", "api_token_update"])
@pytest.mark.parametrize(
    "ips",
    [
        [("whitelist_ip", "")],
        [("whitelist_ip-0", "192.0.2.1"), ("whitelist_ip-1", "")],
        [("whitelist_ip", "any"), ("whitelist_ip-0", "")],  # refused before `any` is looked at
    ],
    ids=["empty", "one-of-two-empty", "with-any"],
)
def test_an_empty_whitelist_ip_is_refused_and_nothing_written(
    server: Server, function: str, ips: list[tuple[str, str]]
) -> None:
    """Whostmgr::API::1::Utils::get_length_arguments, called from Tokens.pm."""
    name = uniq()
    if function == "api_token_update":
        create(server, name, params=[("whitelist_ip", "192.0.2.9")])
    before = listed(server).get(name)
    assert token_refusal(server, function, params=[("token_name", name), *ips]) == (
        "The “whitelist_ip” arguments cannot be empty."
    )
    assert listed(server).get(name) == before


def test_create_accepts_100_ip_entries(server: Server) -> None:
    entries = [f"198.51.100.{i}" for i in range(100)]
    assert len(create(server, params=multi("whitelist_ip", entries))["whitelist_ips"]) == 100


def test_create_rejects_more_than_100_ip_entries(server: Server) -> None:
    entries = [f"198.51.100.{i}" for i in range(101)]
    params = [("token_name", uniq()), *multi("whitelist_ip", entries)]
    assert token_refusal(server, "api_token_create", params=params) == (
        "You have entered “101” IP addresses, which is above the limit of 100."
    )


def test_token_outside_its_ip_list_is_refused(server: Server) -> None:
    secret = create(server, params=[("whitelist_ip", "192.0.2.1")])["token"]
    assert status_with(server, secret) == 401


def test_token_inside_its_ip_list_is_accepted(server: Server) -> None:
    secret = create(server, params=[("whitelist_ip", "127.0.0.0/8")])["token"]
    assert status_with(server, secret) == 200


# ---------------------------------------------------------------------------------------------
# expires_at
# ---------------------------------------------------------------------------------------------


def test_create_expires_at_zero_means_never(server: Server) -> None:
    assert create(server, params=[("expires_at", "0")])["expires_at"] is None


def test_a_name_with_a_trailing_newline_is_its_own_name(server: Server) -> None:
    # cPanel stores the name as given: `plain` and `plain\n` are two tokens, listed apart.
    name = uniq()
    create(server, name)
    create(server, name + "\n")
    assert {name, name + "\n"} <= set(listed(server))


@pytest.mark.parametrize("raw", ["00", "000"])
def test_create_expires_at_zeros_makes_a_token_that_never_works(server: Server, raw: str) -> None:
    # Validate.pm line 109 skips the future check for 0 ("00" != 0 is false); Write/whostmgr.pm
    # line 100 turns only "0" into none; APITokens.pm line 142 `$expires_at && $expires_at <
    # time()` is then true for "00": the token is created and listed, and is never accepted.
    name = uniq()
    data = create(server, name, params=[("expires_at", raw)])
    assert data["expires_at"] == 0
    assert listed(server)[name]["expires_at"] == 0
    assert status_with(server, data["token"]) == 401


def test_create_keeps_a_future_expiry(server: Server) -> None:
    future = int(time.time()) + 86400
    assert create(server, params=[("expires_at", str(future))])["expires_at"] == future


@pytest.mark.parametrize("ago", [1, 3600, int(time.time()) - 1], ids=["1s", "1h", "epoch+1"])
def test_create_rejects_a_past_expiry(server: Server, ago: int) -> None:
    past = str(int(time.time()) - ago)
    assert token_refusal(
        server, "api_token_create", params={"token_name": uniq(), "expires_at": past}
    ) == (f"The “{past}” value must be a future date.")


LAST_EXPIRY = 253402300799  # 9999-12-31 23:59:59 UTC: the last second a date can show


def test_create_keeps_an_expiry_on_the_last_second_of_9999(server: Server) -> None:
    data = create(server, params=[("expires_at", str(LAST_EXPIRY))])
    assert data["expires_at"] == LAST_EXPIRY


@pytest.mark.parametrize("function", ["api_token_create", "api_token_update"])
@pytest.mark.parametrize("raw", [str(LAST_EXPIRY + 1), "999999999999"], ids=["10000", "33658"])
def test_an_expiry_after_9999_is_refused_and_nothing_written(
    server: Server, function: str, raw: str
) -> None:
    """cPanel takes epochs far beyond (Cpanel::Validate::Time); gatehouse shows expiries as
    dates, which end with 9999."""
    name = uniq()
    if function == "api_token_update":
        create(server, name)
    before = server.sql("SELECT name, expires_at FROM api_tokens WHERE name = :n", n=name)
    reason = token_refusal(server, function, params={"token_name": name, "expires_at": raw})
    assert reason == (
        f"The “expires_at” value must be at most {LAST_EXPIRY} (9999-12-31 23:59:59 UTC), "
        f"not “{raw}”."
    )
    assert server.sql("SELECT name, expires_at FROM api_tokens WHERE name = :n", n=name) == before


@pytest.mark.parametrize(
    "raw",
    [
        "abc",
        "tomorrow",
        "1.5",
        "-5",
        "1e12",
        "0x10",
        " 1999999999",
        "1999999999 ",
        "67767976233522000",
        "9" * 5000,
        "²",
        "١٩٩٩٩٩٩٩٩٩",
    ],
    ids=[
        "abc",
        "word",
        "fraction",
        "negative",
        "exponent",
        "hex",
        "leading-space",
        "trailing-space",
        "past-cpanels-largest",
        "5000-digits",
        "superscript",
        "arabic-indic-digits",
    ],
)
def test_create_rejects_an_expiry_that_is_not_a_number(server: Server, raw: str) -> None:
    assert token_refusal(
        server, "api_token_create", params={"token_name": uniq(), "expires_at": raw}
    ) == EPOCH_ERROR.format(raw)


# ---------------------------------------------------------------------------------------------
# Several faults at once: the reason is the first in cPanel's order (Whostmgr/API/1/Tokens.pm:
# token_name present, ACLs, empty whitelist_ip; then for update the token's existence; then
# Validate.pm: an empty name, the validators by part name — expires_at, name, new_name,
# whitelist_ips —; then update's "nothing to change"; last a name already in use)
# ---------------------------------------------------------------------------------------------

BAD_ACL = ("acl", "no-such-acl")
EMPTY_IP = ("whitelist_ip", "")
BAD_EXPIRY = ("expires_at", "soon")
BAD_IP = ("whitelist_ip", "not-an-ip")
BAD_NEW = ("new_name", "bad name")
ACL_REASON = "Invalid or unauthorized ACL specified: no-such-acl"
EMPTY_IP_REASON = "The “whitelist_ip” arguments cannot be empty."
EXPIRY_REASON = EPOCH_ERROR.format("soon")
IP_REASON = "Invalid IP address or CIDR range specified: not-an-ip"


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ([BAD_ACL], "The parameter “token_name” is required."),
        ([("token_name", "bad name"), EMPTY_IP, BAD_ACL], ACL_REASON),
        ([("token_name", ""), EMPTY_IP, BAD_EXPIRY], EMPTY_IP_REASON),
        ([("token_name", ""), BAD_EXPIRY], EMPTY_NAME_REASON),
        ([("token_name", "bad name"), BAD_IP, BAD_EXPIRY], EXPIRY_REASON),
        ([("token_name", "bad name"), BAD_IP], NAME_ERROR.format("bad name")),
        ([("token_name", "{taken}"), BAD_IP], IP_REASON),
    ],
    ids=["name-absent", "acl", "empty-ip", "empty-name", "expiry", "name", "ip-before-taken"],
)
def test_create_gives_the_first_fault_in_cpanels_order(
    server: Server, params: list[tuple[str, str]], reason: str
) -> None:
    taken = uniq()
    create(server, taken)
    params = [(k, v.format(taken=taken)) for k, v in params]
    assert token_refusal(server, "api_token_create", params=params) == reason


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ([("token_name", "{missing}"), BAD_ACL, EMPTY_IP], ACL_REASON),
        ([("token_name", "{missing}"), EMPTY_IP], EMPTY_IP_REASON),
        ([("token_name", "{missing}"), BAD_EXPIRY], "The API token “{missing}” does not exist."),
        ([("token_name", "{name}"), BAD_NEW, BAD_EXPIRY], EXPIRY_REASON),
        ([("token_name", "{name}"), BAD_NEW, BAD_IP], NAME_ERROR.format("bad name")),
        ([("token_name", "{name}"), ("new_name", "{taken}"), BAD_IP], IP_REASON),
    ],
    ids=["acl", "empty-ip", "unknown-token", "expiry", "new-name", "ip-before-taken"],
)
def test_update_gives_the_first_fault_in_cpanels_order(
    server: Server, params: list[tuple[str, str]], reason: str
) -> None:
    names = {"name": uniq(), "taken": uniq(), "missing": uniq("missing")}
    create(server, names["name"])
    create(server, names["taken"])
    params = [(k, v.format(**names)) for k, v in params]
    assert token_refusal(server, "api_token_update", params=params) == reason.format(**names)


# ---------------------------------------------------------------------------------------------
# api_token_list
# ---------------------------------------------------------------------------------------------


def test_list_is_an_object_keyed_by_name(server: Server) -> None:
    name = uniq()
    created = create(server, name, params=[("acl", "list-accts"), ("whitelist_ip", "127.0.0.1")])
    entry = listed(server)[name]
    assert set(entry) == LISTED_KEYS
    assert entry["name"] == name
    assert entry["create_time"] == created["create_time"]
    assert entry["expires_at"] is None
    assert entry["whitelist_ips"] == ["127.0.0.1"]


def test_list_envelope(server: Server) -> None:
    body = server.get("api_token_list").json()
    assert body["metadata"] == metadata("api_token_list")
    assert isinstance(body["data"]["tokens"], dict)


def test_list_acls_are_an_object_of_zero_and_one(server: Server) -> None:
    name = uniq()
    create(server, name, params=multi("acl", ["list-accts", "kill-acct"]))
    acl_map = listed(server)[name]["acls"]
    assert acl_map["list-accts"] == 1 and acl_map["kill-acct"] == 1
    assert acl_map["create-acct"] == 0
    assert set(acl_map.values()) == {0, 1}


def test_list_full_access_token_of_root_holds_everything(server: Server) -> None:
    name = uniq()
    create(server, name)
    acl_map = listed(server)[name]["acls"]
    assert acl_map["create-acct"] == 1 and set(acl_map.values()) == {1}


def test_list_for_a_reseller_shows_only_acls_the_reseller_holds(
    server: Server, reseller: tuple[str, str]
) -> None:
    user, secret = reseller
    name = uniq()
    create(server, name, user=user, via=secret, params=[("acl", "list-accts")])
    acl_map = listed(server, user=user, via=secret)[name]["acls"]
    assert acl_map == {"basic-whm-functions": 0, "list-accts": 1, "manage-api-tokens": 0}


def test_list_shows_only_the_callers_tokens(server: Server, reseller: tuple[str, str]) -> None:
    user, secret = reseller
    root_name = uniq("root-only")
    create(server, root_name)
    assert root_name not in listed(server, user=user, via=secret)


def test_list_never_shows_a_token_value(server: Server) -> None:
    name = uniq()
    secret = create(server, name)["token"]
    text = server.get("api_token_list").text
    assert secret not in text
    assert "token" not in json.loads(text)["data"]["tokens"][name]


def test_list_keeps_expired_tokens(server: Server) -> None:
    name = uniq()
    create(server, name)
    past = int(time.time()) - 10
    server.sql("UPDATE api_tokens SET expires_at=:t WHERE name=:n", t=past, n=name)
    assert listed(server)[name]["expires_at"] == past


def test_list_last_used_is_null_before_any_use(server: Server) -> None:
    name = uniq()
    create(server, name)
    entry = listed(server)[name]
    assert entry["last_used"] is None and entry["last_used_ip"] is None


def test_list_shows_last_use_time_and_address(server: Server) -> None:
    name = uniq()
    secret = create(server, name)["token"]
    before = int(time.time())
    assert status_with(server, secret) == 200
    entry = listed(server)[name]
    assert before - 1 <= entry["last_used"] <= int(time.time()) + 1
    assert entry["last_used_ip"] == "127.0.0.1"


def test_last_use_is_written_at_most_once_a_minute(server: Server) -> None:
    name = uniq()
    secret = create(server, name)["token"]
    assert status_with(server, secret) == 200  # first use: written
    marker = int(time.time()) - 30  # a use 30 s ago, as far as the store knows
    server.sql("UPDATE api_tokens SET last_used_time=:t WHERE name=:n", t=marker, n=name)
    assert status_with(server, secret) == 200  # within the minute: not rewritten
    assert status_with(server, secret) == 200
    assert listed(server)[name]["last_used"] == marker


def test_last_use_is_written_again_once_the_minute_has_passed(server: Server) -> None:
    name = uniq()
    secret = create(server, name)["token"]
    server.sql(
        "UPDATE api_tokens SET last_used_time=:t, last_used_ip='192.0.2.9' WHERE name=:n",
        t=int(time.time()) - 120,
        n=name,
    )
    before = int(time.time())
    assert status_with(server, secret) == 200
    entry = listed(server)[name]
    assert entry["last_used"] >= before - 1
    assert entry["last_used_ip"] == "127.0.0.1"


def test_a_new_token_given_a_revoked_tokens_id_has_its_first_use_recorded(server: Server) -> None:
    """SQLite gives the newest token's id again once it is revoked: what the server remembers
    of the old token's use must not pass for the new one's (it did: the first use went
    unrecorded)."""
    old = uniq()
    assert status_with(server, create(server, old)["token"]) == 200
    old_id = server.sql("SELECT id FROM api_tokens WHERE name = :n", n=old)[0][0]
    server.ok("api_token_revoke", params={"token_name": old})
    new = uniq()
    secret = create(server, new)["token"]
    new_id = server.sql("SELECT id FROM api_tokens WHERE name = :n", n=new)[0][0]
    if server.backend == "sqlite":
        assert new_id == old_id  # the case this test is about (PostgreSQL never reuses one)
    assert listed(server)[new]["last_used"] is None
    assert status_with(server, secret) == 200
    assert listed(server)[new]["last_used"] is not None


# The whole answer, byte for byte, against the store's rows read through the documented
# semantics (whm-reference §3.3): a token's effective set is its owner's current set narrowed
# by its own list; `acls` names every catalogue privilege (for a reseller: every one it holds)
# with 1 or 0; the envelope is compact JSON with sorted keys. Computed here from scratch.


def _store_execute(server: Server, statement: Any) -> list[Any]:
    from gatehouse.store.engine import create as create_engine

    engine = create_engine(server.db_url)
    try:
        with engine.begin() as conn:
            result = conn.execute(statement)
            return list(result) if result.returns_rows else []
    finally:
        engine.dispose()


def _set_token(server: Server, user: str, name: str, **values: Any) -> None:
    import sqlalchemy as sa

    from gatehouse.store.schema import api_tokens, users

    owner = sa.select(users.c.id).where(users.c.username == user).scalar_subquery()
    _store_execute(
        server,
        sa.update(api_tokens)
        .where(api_tokens.c.user_id == owner, api_tokens.c.name == name)
        .values(**values),
    )


def _expected_list(server: Server, user: str) -> dict[str, Any]:
    import sqlalchemy as sa

    from gatehouse.acls import CATALOGUE
    from gatehouse.store.schema import api_tokens, token_grace, users

    (owner,) = _store_execute(server, sa.select(users).where(users.c.username == user))
    rows = _store_execute(
        server,
        sa.select(api_tokens).where(
            api_tokens.c.user_id == owner.id, api_tokens.c.service == "whostmgr"
        ),
    )
    held = {"all"} if owner.is_root else set(owner.reseller_acls or ())
    shown = [a.name for a in CATALOGUE if "all" in held or a.name in held]
    tokens = {}
    for row in rows:
        wanted = None if row.acls is None else set(row.acls)
        if wanted is None or "all" in wanted:
            effective = held
        elif "all" in held:
            effective = wanted
        else:
            effective = wanted & held
        tokens[row.name] = {
            "acls": {n: int("all" in effective or n in effective) for n in shown},
            "create_time": row.create_time,
            "expires_at": row.expires_at,
            "last_used": row.last_used_time,
            "last_used_ip": row.last_used_ip,
            "name": row.name,
            "whitelist_ips": row.whitelist_ips or None,
        }
        # gatehouse's additions of issue 17, only when set (docs/api.md).
        if row.description is not None:
            tokens[row.name]["description"] = row.description
        if row.last_used_agent is not None:
            tokens[row.name]["last_used_agent"] = row.last_used_agent
        if row.rate_limit is not None:
            tokens[row.name]["rate_limit"] = row.rate_limit
        if row.scope:
            tokens[row.name]["scope"] = row.scope
        grace = _store_execute(
            server,
            sa.select(token_grace.c.expires_at).where(
                token_grace.c.token_id == row.id, token_grace.c.expires_at >= int(time.time())
            ),
        )
        if grace:
            tokens[row.name]["previous_token_expires_at"] = grace[0].expires_at
    return {"data": {"tokens": tokens}, "metadata": metadata("api_token_list")}


def _basic(user: str, password: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _varied_tokens(server: Server, user: str, auth: str, acl_sets: list[list[str]]) -> list[str]:
    """Full-access and limited tokens, with and without allow-lists and expiry, some used."""
    names = []
    future = int(time.time()) + 86_400 * 400
    for i, acl_set in enumerate([[], *acl_sets]):
        name = uniq("cmp")
        params = [("token_name", name), *multi("acl", acl_set)]
        if i % 2:
            params += multi("whitelist_ip", ["192.0.2.0/24", "10.1.2.3", "2001:db8::/48"])
        if i % 3 == 1:
            params.append(("expires_at", str(future + i)))
        data = server.ok("api_token_create", auth=auth, params=params)
        server.remember(data["token"])
        names.append(name)
    now = int(time.time())
    _set_token(server, user, names[0], last_used_time=now - 5, last_used_ip="203.0.113.9")
    _set_token(server, user, names[1], last_used_time=now - 99, last_used_ip="2001:db8::7")
    _set_token(server, user, names[2], expires_at=now - 3600)  # expired: still listed
    # Stored lists the API cannot make: `all` among others, empty, a name outside the
    # catalogue (an import's), an alias-free duplicate.
    _set_token(server, user, names[3], acls=["list-accts", "all"])
    _set_token(server, user, names[4], acls=[])
    _set_token(server, user, names[5], acls=["third-party-thing", "list-accts", "list-accts"])
    return names


def test_list_answer_is_byte_for_byte_the_documented_one_for_root(server: Server) -> None:
    auth = _basic("root", server.root_password)
    _varied_tokens(
        server,
        "root",
        auth,
        [
            ["list-accts"],
            ["manage-api-tokens", "basic-whm-functions", "create-acct"],
            ["all"],
            ["ssl", "edit-dns", "locale-edit"],
            ["clustering", "passwd"],
            ["acct-summary"],
        ],
    )
    response = server.get("api_token_list", auth=auth)
    expected = _expected_list(server, "root")
    assert response.status_code == 200
    assert response.content == json.dumps(
        expected, separators=(",", ":"), sort_keys=True, ensure_ascii=False
    ).encode("utf-8")


def test_list_answer_is_byte_for_byte_the_documented_one_for_a_reseller(server: Server) -> None:
    import yaml

    user, password = server.account(reseller=True)
    held = [
        "manage-api-tokens",
        "basic-whm-functions",
        "list-accts",
        "create-acct",
        "passwd",
        "edit-dns",
    ]
    server.ok("setacls", params=[("reseller", user)] + [(f"acl-{p}", "1") for p in held])
    auth = _basic(user, password)
    _varied_tokens(
        server,
        user,
        auth,
        [
            ["list-accts"],
            ["list-accts", "create-acct", "passwd"],
            ["edit-dns"],
            ["create-acct"],
            ["passwd", "manage-api-tokens"],
            ["basic-whm-functions"],
            ["edit-dns", "create-acct"],
        ],
    )
    # The reseller loses two privileges: its tokens are shown in terms of what it now holds.
    now_held = [p for p in held if p not in ("create-acct", "edit-dns")] + ["kill-acct"]
    server.ok("setacls", params=[("reseller", user)] + [(f"acl-{p}", "1") for p in now_held])
    response = server.get("api_token_list", auth=auth)
    expected = _expected_list(server, user)
    assert response.status_code == 200
    assert response.content == json.dumps(
        expected, separators=(",", ":"), sort_keys=True, ensure_ascii=False
    ).encode("utf-8")
    # The CLI prints the same payload as YAML: no object is shared (no anchors or aliases).
    out = server.cli("whmapi1", "api_token_list", "--user", user).stdout
    assert out == yaml.safe_dump(expected, explicit_start=True, sort_keys=True, allow_unicode=True)


# ---------------------------------------------------------------------------------------------
# api_token_update
# ---------------------------------------------------------------------------------------------


def test_update_response_shape(server: Server) -> None:
    name = uniq()
    secret = create(server, name, params=[("acl", "list-accts")])["token"]
    response = server.get("api_token_update", params=[("token_name", name), ("acl", "kill-acct")])
    body = response.json()
    assert body["metadata"] == metadata("api_token_update")
    assert set(body["data"]) == DESCRIBED_KEYS | {"acls"}
    assert body["data"]["acls"] == ["kill-acct"]
    assert secret not in response.text


def test_update_renames_and_the_token_keeps_working(server: Server) -> None:
    old, new = uniq("old"), uniq("new")
    secret = create(server, old)["token"]
    data = server.ok("api_token_update", params={"token_name": old, "new_name": new})
    assert data["name"] == new
    tokens = listed(server)
    assert new in tokens and old not in tokens
    assert status_with(server, secret) == 200


def test_update_acls_replaces_them_and_keeps_the_rest(server: Server) -> None:
    name = uniq()
    future = int(time.time()) + 86400
    created = create(
        server,
        name,
        params=[("acl", "list-accts"), ("expires_at", str(future)), ("whitelist_ip", "127.0.0.1")],
    )
    data = server.ok(
        "api_token_update",
        params=[("token_name", name), *multi("acl", ["kill-acct", "create-acct"])],
    )
    assert data["acls"] == ["create-acct", "kill-acct"]
    assert data["expires_at"] == future
    assert data["whitelist_ips"] == ["127.0.0.1"]
    assert data["create_time"] == created["create_time"]
    assert data["name"] == name


def test_update_ips_keeps_the_acls(server: Server) -> None:
    name = uniq()
    create(server, name, params=[("acl", "list-accts")])
    data = server.ok(
        "api_token_update",
        params=[("token_name", name), *multi("whitelist_ip", ["::1", "127.0.0.1"])],
    )
    assert data["acls"] == ["list-accts"]
    assert data["whitelist_ips"] == ["127.0.0.1", "0000:0000:0000:0000:0000:0000:0000:0001"]


def test_update_without_acl_keeps_full_access(server: Server) -> None:
    name = uniq()
    create(server, name)
    data = server.ok("api_token_update", params={"token_name": name, "whitelist_ip": "127.0.0.1"})
    assert "acls" not in data
    assert listed(server)[name]["acls"]["create-acct"] == 1


@pytest.mark.parametrize("spelling", ["any", "ANY"])
def test_update_whitelist_any_clears_the_list(server: Server, spelling: str) -> None:
    name = uniq()
    create(server, name, params=[("whitelist_ip", "192.0.2.1")])
    data = server.ok("api_token_update", params={"token_name": name, "whitelist_ip": spelling})
    assert data["whitelist_ips"] is None
    assert listed(server)[name]["whitelist_ips"] is None


def test_update_ip_list_takes_effect_on_the_next_request(server: Server) -> None:
    name = uniq()
    secret = create(server, name)["token"]
    server.ok("api_token_update", params={"token_name": name, "whitelist_ip": "192.0.2.1"})
    assert status_with(server, secret) == 401


def test_update_expiry(server: Server) -> None:
    name = uniq()
    create(server, name)
    future = int(time.time()) + 3600
    data = server.ok("api_token_update", params={"token_name": name, "expires_at": str(future)})
    assert data["expires_at"] == future


def test_update_expiry_00_stops_the_token(server: Server) -> None:
    # Write/whostmgr.pm `_normalize_token_data` runs on update too: "00" is kept, and expired.
    name = uniq()
    secret = create(server, name)["token"]
    data = server.ok("api_token_update", params={"token_name": name, "expires_at": "00"})
    assert data["expires_at"] == 0
    assert status_with(server, secret) == 401


def test_update_expiry_zero_clears_it(server: Server) -> None:
    name = uniq()
    create(server, name, params=[("expires_at", str(int(time.time()) + 3600))])
    data = server.ok("api_token_update", params={"token_name": name, "expires_at": "0"})
    assert data["expires_at"] is None


def test_update_with_nothing_to_change_is_refused(server: Server) -> None:
    name = uniq()
    create(server, name)
    assert token_refusal(server, "api_token_update", params={"token_name": name}) == (
        "Specify a new name, updated ACLs, or IPs."
    )


def test_update_rename_to_a_used_name_is_refused(server: Server) -> None:
    first, second = uniq(), uniq()
    create(server, first)
    create(server, second)
    assert token_refusal(
        server, "api_token_update", params={"token_name": first, "new_name": second}
    ) == (f"An API token with the name “{second}” already exists.")
    assert first in listed(server)


@pytest.mark.parametrize(
    "params",
    [
        {"new_name": "x"},
        {"acl": "list-accts"},
        {},  # Write.pm update_token looks the token up before "nothing to change"
        {"new_name": "bad name"},  # … and before validating what would change
        {"expires_at": "soon"},
        {"whitelist_ip": "not-an-ip"},
    ],
    ids=["rename", "acl", "nothing", "bad-name", "bad-expiry", "bad-ip"],
)
def test_update_unknown_token_is_refused(server: Server, params: dict[str, str]) -> None:
    name = uniq("missing")
    assert token_refusal(server, "api_token_update", params={"token_name": name, **params}) == (
        f"The API token “{name}” does not exist."
    )


def test_update_cannot_reach_another_owners_token(
    server: Server, reseller: tuple[str, str]
) -> None:
    user, secret = reseller
    name = uniq()
    create(server, name)
    assert token_refusal(
        server,
        "api_token_update",
        user=user,
        token=secret,
        params={"token_name": name, "new_name": uniq()},
    ) == (f"The API token “{name}” does not exist.")


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"new_name": "x"}, "The parameter “token_name” is required."),
        # An empty name is looked up like any other (Write.pm update_token): no token has it.
        ({"token_name": "", "new_name": "x"}, "The API token “” does not exist."),
        ({"token_name": ""}, "The API token “” does not exist."),
    ],
    ids=["absent", "empty", "empty-alone"],
)
def test_update_requires_token_name(server: Server, params: dict[str, str], reason: str) -> None:
    assert token_refusal(server, "api_token_update", params=params) == reason


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"new_name": "bad name"}, NAME_ERROR.format("bad name")),
        ({"new_name": "x" * 51}, NAME_ERROR.format("x" * 51)),
        ({"acl": "no-such-acl"}, "Invalid or unauthorized ACL specified: no-such-acl"),
        (
            {"whitelist_ip": "192.0.2.1/24"},
            "Invalid IP address or CIDR range specified: 192.0.2.1/24",
        ),
        ({"expires_at": "1"}, "The “1” value must be a future date."),
        (
            {"expires_at": "soon"},
            EPOCH_ERROR.format("soon"),
        ),
    ],
    ids=["name-space", "name-long", "acl", "ip", "expiry-past", "expiry-word"],
)
def test_update_rejects_bad_input_and_changes_nothing(
    server: Server, params: dict[str, str], reason: str
) -> None:
    name = uniq()
    create(server, name, params=[("acl", "list-accts")])
    before = listed(server)[name]
    assert (
        token_refusal(server, "api_token_update", params={"token_name": name, **params}) == reason
    )
    assert listed(server)[name] == before


def test_update_rejects_bad_input_after_a_valid_rename_and_changes_nothing(server: Server) -> None:
    name, new = uniq(), uniq()
    create(server, name)
    token_refusal(
        server,
        "api_token_update",
        params={"token_name": name, "new_name": new, "acl": "no-such-acl"},
    )
    tokens = listed(server)
    assert name in tokens and new not in tokens


def test_reseller_cannot_update_a_token_to_an_acl_it_lacks(
    server: Server, reseller: tuple[str, str]
) -> None:
    user, secret = reseller
    name = uniq()
    create(server, name, user=user, via=secret, params=[("acl", "list-accts")])
    assert token_refusal(
        server,
        "api_token_update",
        user=user,
        token=secret,
        params={"token_name": name, "acl": "create-acct"},
    ) == ("Invalid or unauthorized ACL specified: create-acct")


def test_limited_token_cannot_widen_a_token(server: Server, limited: str) -> None:
    name = uniq()
    create(server, name, via=limited)
    assert token_refusal(
        server, "api_token_update", token=limited, params={"token_name": name, "acl": "all"}
    ) == ("Invalid or unauthorized ACL specified: all")


# ---------------------------------------------------------------------------------------------
# api_token_revoke
# ---------------------------------------------------------------------------------------------


def test_revoke_answers_metadata_only(server: Server) -> None:
    name = uniq()
    create(server, name)
    body = server.get("api_token_revoke", params={"token_name": name}).json()
    assert body == {"metadata": metadata("api_token_revoke")}
    assert name not in listed(server)


@pytest.mark.parametrize(
    "form",
    [
        lambda names: multi("token_name", names),
        lambda names: [(f"token_name-{i + 1}", n) for i, n in enumerate(names)],
        lambda names: [("token_name", n) for n in names],
        lambda names: [("token_name", names[0])] + [("token_name-7", n) for n in names[1:]],
    ],
    ids=["numbered-from-0", "numbered-from-1", "repeated", "plain-and-numbered"],
)
def test_revoke_several_at_once(server: Server, form: Any) -> None:
    names = [uniq() for _ in range(3)]
    for name in names:
        create(server, name)
    keep = uniq("keep")
    create(server, keep)
    server.ok("api_token_revoke", params=form(names))
    tokens = listed(server)
    assert not set(names) & set(tokens)
    assert keep in tokens


def test_revoke_unknown_names_succeeds(server: Server) -> None:
    body = server.get(
        "api_token_revoke", params=multi("token_name", [uniq("ghost"), uniq("ghost")])
    ).json()
    assert body == {"metadata": metadata("api_token_revoke")}


def test_revoke_mixed_known_and_unknown_names(server: Server) -> None:
    name = uniq()
    create(server, name)
    server.ok("api_token_revoke", params=multi("token_name", [uniq("ghost"), name]))
    assert name not in listed(server)


@pytest.mark.parametrize(
    "params", [[], [("acl", "list-accts")]], ids=["absent", "other-arguments-only"]
)
def test_revoke_without_a_name_is_refused(server: Server, params: list[tuple[str, str]]) -> None:
    assert token_refusal(server, "api_token_revoke", params=params) == (
        "Provide at least one “token_name” argument."
    )


@pytest.mark.parametrize(
    "params", [[("token_name", "")], [("token_name-0", "")]], ids=["empty", "empty-numbered"]
)
def test_revoke_of_an_empty_name_revokes_nothing_and_succeeds(
    server: Server, params: list[tuple[str, str]]
) -> None:
    keep = uniq("keep")
    create(server, keep)
    body = server.get("api_token_revoke", params=params).json()
    assert body == {"metadata": metadata("api_token_revoke")}
    assert keep in listed(server)


def test_revoked_token_is_refused_on_the_very_next_request(server: Server) -> None:
    name = uniq()
    secret = create(server, name)["token"]
    assert status_with(server, secret) == 200
    server.ok("api_token_revoke", params={"token_name": name})
    assert status_with(server, secret) == 401


def test_token_revoking_itself_is_refused_afterwards(server: Server) -> None:
    name = uniq()
    secret = create(server, name)["token"]
    server.ok("api_token_revoke", token=secret, params={"token_name": name})
    assert status_with(server, secret, function="api_token_list") == 401


def test_revoke_cannot_reach_another_owners_token(
    server: Server, reseller: tuple[str, str]
) -> None:
    user, reseller_secret = reseller
    name = uniq()
    secret = create(server, name)["token"]
    server.ok("api_token_revoke", user=user, token=reseller_secret, params={"token_name": name})
    assert status_with(server, secret) == 200


# ---------------------------------------------------------------------------------------------
# api_token_get_details
# ---------------------------------------------------------------------------------------------


def test_get_details_describes_the_token_by_value(server: Server) -> None:
    name = uniq()
    future = int(time.time()) + 3600
    created = create(
        server,
        name,
        params=[
            ("acl", "list-accts"),
            ("expires_at", str(future)),
            ("whitelist_ip", "192.0.2.0/24"),
        ],
    )
    response = server.get("api_token_get_details", params={"token": created["token"]})
    body = response.json()
    assert body["metadata"] == metadata("api_token_get_details")
    assert body["data"] == {
        "acls": ["list-accts"],
        "create_time": created["create_time"],
        "expires_at": future,
        "name": name,
        "whitelist_ips": ["192.0.2.0/24"],
    }
    assert created["token"] not in response.text


def test_get_details_of_a_full_access_token(server: Server) -> None:
    name = uniq()
    secret = create(server, name)["token"]
    data = server.ok("api_token_get_details", params={"token": secret})
    assert set(data) == DESCRIBED_KEYS
    assert data["name"] == name
    assert data["expires_at"] is None and data["whitelist_ips"] is None


def test_get_details_ignores_the_ip_list(server: Server) -> None:
    """The looked-up token's allow-list excludes us; get_details still describes it."""
    name = uniq()
    secret = create(server, name, params=[("whitelist_ip", "192.0.2.1")])["token"]
    assert server.ok("api_token_get_details", params={"token": secret})["name"] == name


@pytest.mark.parametrize(
    "value",
    ["0" * 32, "NOTATOKEN", "abcdefghijklmnopqrstuvwxyz012345", "x" * 200],
    ids=["well-formed", "short", "lower-case", "long"],
)
def test_get_details_of_an_unknown_token_is_metadata_only(server: Server, value: str) -> None:
    body = server.get("api_token_get_details", params={"token": value}).json()
    assert body == {"metadata": metadata("api_token_get_details")}


def test_get_details_of_an_expired_token_is_metadata_only(server: Server) -> None:
    name = uniq()
    secret = create(server, name)["token"]
    server.sql("UPDATE api_tokens SET expires_at=:t WHERE name=:n", t=int(time.time()) - 5, n=name)
    body = server.get("api_token_get_details", params={"token": secret}).json()
    assert body == {"metadata": metadata("api_token_get_details")}


def test_get_details_of_a_revoked_token_is_metadata_only(server: Server) -> None:
    name = uniq()
    secret = create(server, name)["token"]
    server.ok("api_token_revoke", params={"token_name": name})
    assert server.ok("api_token_get_details", params={"token": secret}) is None


def test_get_details_of_another_owners_token_is_metadata_only(
    server: Server, reseller: tuple[str, str]
) -> None:
    user, reseller_secret = reseller
    secret = create(server)["token"]
    assert (
        server.ok(
            "api_token_get_details", user=user, token=reseller_secret, params={"token": secret}
        )
        is None
    )


def test_get_details_requires_token(server: Server) -> None:
    assert server.fail("api_token_get_details") == "Missing parameter: token"


# ---------------------------------------------------------------------------------------------
# The audit trail
# ---------------------------------------------------------------------------------------------


def audit_rows(server: Server, token_name: str) -> list[Any]:
    return server.sql(
        "SELECT action, actor, subject, token_name, reason, detail, source_ip "
        "FROM audit_log WHERE token_name=:n ORDER BY id",
        n=token_name,
    )


def test_audit_records_create(server: Server) -> None:
    name = uniq()
    create(server, name)
    [row] = audit_rows(server, name)
    assert (row.action, row.actor, row.token_name, row.reason) == (
        "CREATEAPITOKEN",
        "root",
        name,
        "ok",
    )
    assert row.source_ip == "127.0.0.1"


def test_audit_records_update_under_the_new_name(server: Server) -> None:
    old, new = uniq(), uniq()
    create(server, old)
    server.ok("api_token_update", params={"token_name": old, "new_name": new})
    [row] = audit_rows(server, new)
    assert (row.action, row.actor, row.token_name, row.reason) == (
        "UPDATEAPITOKEN",
        "root",
        new,
        "ok",
    )
    assert old in (row.detail or "")


def test_audit_records_revoke(server: Server) -> None:
    name = uniq()
    create(server, name)
    server.ok("api_token_revoke", params={"token_name": name})
    assert [(r.action, r.actor, r.reason) for r in audit_rows(server, name)] == [
        ("CREATEAPITOKEN", "root", "ok"),
        ("REVOKEAPITOKEN", "root", "ok"),
    ]


def test_audit_records_nothing_for_an_unknown_revoke(server: Server) -> None:
    ghost = uniq("ghost")
    server.ok("api_token_revoke", params={"token_name": ghost})
    assert audit_rows(server, ghost) == []


def test_audit_records_the_reseller_as_actor(server: Server, reseller: tuple[str, str]) -> None:
    user, secret = reseller
    name = uniq()
    create(server, name, user=user, via=secret)
    [row] = audit_rows(server, name)
    assert (row.action, row.actor, row.reason) == ("CREATEAPITOKEN", user, "ok")


def test_audit_never_holds_a_token_value(server: Server) -> None:
    name, new = uniq(), uniq()
    secret = create(server, name)["token"]
    server.ok("api_token_get_details", params={"token": secret})
    server.ok("api_token_update", params={"token_name": name, "new_name": new})
    server.ok("api_token_revoke", params={"token_name": new})
    status_with(server, secret)  # a refused use is audited too
    everything = server.sql("SELECT * FROM audit_log")
    text = "\n".join(repr(tuple(row)) for row in everything)
    assert secret not in text
    assert secret.lower() not in text.lower()


def test_failed_create_is_not_audited(server: Server) -> None:
    name = uniq()
    token_refusal(server, "api_token_create", params={"token_name": name, "acl": "no-such-acl"})
    assert audit_rows(server, name) == []


# ---------------------------------------------------------------------------------------------
# Domain: the expiry boundary (cPanel's `expires_at && expires_at < time()`)
# ---------------------------------------------------------------------------------------------


def _token(expires_at: int | None) -> Token:
    return Token(
        id=1,
        user_id=1,
        service="whostmgr",
        name="t",
        acls=None,
        whitelist_ips=None,
        create_time=1_000,
        expires_at=expires_at,
        last_used_time=None,
        last_used_ip=None,
    )


@pytest.mark.parametrize(
    ("expires_at", "now", "expired"),
    [
        (2_000, 1_999, False),
        (2_000, 2_000, False),  # still valid during its last second
        (2_000, 2_001, True),
        (None, 10**12, False),
    ],
    ids=["before", "at", "after", "never"],
)
def test_token_expiry_boundary(expires_at: int | None, now: int, expired: bool) -> None:
    assert _token(expires_at).is_expired(now) is expired


# ---------------------------------------------------------------------------------------------
# Domain: a name taken by another writer between the check and the write (a second server
# process or the CLI) is a conflict, not an internal error
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def store_conn(tmp_path: Any) -> Any:
    import sqlalchemy as sa

    from gatehouse.store.engine import create as create_engine
    from gatehouse.store.schema import metadata as schema
    from gatehouse.store.schema import users

    engine = create_engine(f"sqlite:///{tmp_path / 'race.db'}")
    schema.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(users).values(
                id=7, username="racer", is_root=False, owner="root", suspended=False, created_time=0
            )
        )
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def _owner() -> Any:
    from gatehouse.domain.users import User

    return User(
        id=7,
        username="racer",
        is_root=False,
        domain=None,
        owner="root",
        contact_email=None,
        suspended=False,
        reseller_acls=None,
        password_hash=None,
        created_time=0,
    )


def _store_create(conn: Any, name: str) -> Any:
    from gatehouse.domain import tokens as store

    return store.create(
        conn,
        owner=_owner(),
        service=store.WHOSTMGR,
        name=name,
        token_acls=None,
        whitelist_ips=None,
        expires_at=None,
        now=1_000,
    )


def test_store_create_race_on_a_name_is_a_conflict(
    store_conn: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gatehouse.domain import tokens as store
    from gatehouse.errors import Conflict

    _store_create(store_conn, "same")
    monkeypatch.setattr(store, "_exists", lambda *a: False)  # the check saw nothing yet
    with pytest.raises(Conflict, match="A conflicting API token with the name “same”"):
        _store_create(store_conn, "same")


def test_store_rename_race_on_a_name_is_a_conflict(
    store_conn: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gatehouse.domain import tokens as store
    from gatehouse.errors import Conflict

    _store_create(store_conn, "first")
    _store_create(store_conn, "second")
    monkeypatch.setattr(store, "_exists", lambda *a: False)
    with pytest.raises(Conflict, match="An API token with the name “second” already exists"):
        store.update(store_conn, user_id=7, service=store.WHOSTMGR, name="first", new_name="second")
