"""Unit tests of the Authorization header parser (whm-reference §2, compatibility §Requests 1)."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gatehouse.auth.header import (
    MAX_HEADER,
    Malformed,
    PasswordCredential,
    TokenCredential,
    parse,
    parse_any,
)


def b64(text: str | bytes) -> str:
    raw = text.encode() if isinstance(text, str) else text
    return base64.b64encode(raw).decode()


ACCESS_HASH_LINES = [f"{i:02d}" + "0123456789abcdef0123456789abcd" for i in range(30)]
ACCESS_HASH = "".join(ACCESS_HASH_LINES)  # 30 × 32 = 960 hex characters

CASES = [
    # --- token schemes: case-insensitive, lower-cased in the result ---
    ("whm root:ABC123", TokenCredential("whm", "root", "ABC123")),
    ("WHM root:ABC123", TokenCredential("whm", "root", "ABC123")),
    ("Whm root:ABC123", TokenCredential("whm", "root", "ABC123")),
    ("wHm root:ABC123", TokenCredential("whm", "root", "ABC123")),
    ("cpanel bob:XYZ", TokenCredential("cpanel", "bob", "XYZ")),
    ("CPANEL bob:XYZ", TokenCredential("cpanel", "bob", "XYZ")),
    ("cPanel bob:XYZ", TokenCredential("cpanel", "bob", "XYZ")),
    # --- split on the FIRST colon: the secret may contain ':' ---
    ("whm root:a:b:c", TokenCredential("whm", "root", "a:b:c")),
    ("whm root::lead", TokenCredential("whm", "root", ":lead")),
    ("whm root:trail:", TokenCredential("whm", "root", "trail:")),
    # --- surrounding and repeated spaces ---
    ("  whm root:ABC  ", TokenCredential("whm", "root", "ABC")),
    ("whm    root:ABC", TokenCredential("whm", "root", "ABC")),
    # --- legacy access hash: line breaks and spaces inside the secret are stripped ---
    (
        "WHM root:" + "\n".join(ACCESS_HASH_LINES) + "\n",
        TokenCredential("whm", "root", ACCESS_HASH),
    ),
    ("WHM root:" + "\r\n".join(ACCESS_HASH_LINES), TokenCredential("whm", "root", ACCESS_HASH)),
    ("WHM root:" + " ".join(ACCESS_HASH_LINES), TokenCredential("whm", "root", ACCESS_HASH)),
    ("WHM root:" + "\t".join(ACCESS_HASH_LINES), TokenCredential("whm", "root", ACCESS_HASH)),
    # --- Basic ---
    (f"Basic {b64('root:s3cret')}", PasswordCredential("root", "s3cret")),
    (f"basic {b64('root:s3cret')}", PasswordCredential("root", "s3cret")),
    (f"BASIC {b64('root:s3cret')}", PasswordCredential("root", "s3cret")),
    (f"Basic {b64('root:pa:ss:word')}", PasswordCredential("root", "pa:ss:word")),
    (f"Basic {b64('root:')}", PasswordCredential("root", "")),
    (f"Basic {b64('rööt:pässwörd')}", PasswordCredential("rööt", "pässwörd")),
    (f"Basic  {b64('root:x')} ", PasswordCredential("root", "x")),
    ("Basic !!!not-base64!!!", Malformed("malformed_basic")),
    ("Basic cm9vdDp4eA", Malformed("malformed_basic")),  # missing padding
    ("Basic cm9v dDp4", Malformed("malformed_basic")),  # space inside
    ("Basic " + b64(b"root:\xff\xfe"), Malformed("malformed_basic")),  # not UTF-8
    ("Basic ÿÿÿÿ", Malformed("malformed_basic")),  # not ASCII
    (f"Basic {b64('rootonly')}", Malformed("malformed_basic", username="rootonly")),
    (f"Basic {b64(':password')}", Malformed("no_username")),
    ("Basic ", Malformed("malformed_header")),
    # --- missing token / user ---
    ("whm root", Malformed("no_token", username="root")),
    ("whm root:", Malformed("no_token", username="root")),
    ("whm root:   ", Malformed("no_token", username="root")),
    ("cpanel bob:", Malformed("no_token", username="bob")),
    ("whm :ABC123", Malformed("no_username")),
    ("whm :", Malformed("no_username")),
    # --- unsupported scheme ---
    ("Bearer abc", Malformed("unsupported_scheme")),
    ("Digest username=root", Malformed("unsupported_scheme")),
    ("whmx root:ABC", Malformed("unsupported_scheme")),
    ("token root:ABC", Malformed("unsupported_scheme")),
    # --- no space after the scheme ---
    ("whm", Malformed("malformed_header")),
    ("whmroot:ABC", Malformed("malformed_header")),
    ("Basic", Malformed("malformed_header")),
    ("", Malformed("malformed_header")),
    ("   ", Malformed("malformed_header")),
    # --- too long ---
    ("whm root:" + "A" * MAX_HEADER, Malformed("header_too_long")),
]


@pytest.mark.parametrize(("header", "expected"), CASES, ids=[repr(c[0])[:40] for c in CASES])
def test_parse(header: str, expected: object) -> None:
    assert parse(header) == expected


def test_no_header_is_none() -> None:
    assert parse(None) is None


def test_header_at_the_limit_is_parsed() -> None:
    header = "whm root:" + "A" * (MAX_HEADER - len("whm root:"))
    assert len(header) == MAX_HEADER
    assert parse(header) == TokenCredential("whm", "root", "A" * (MAX_HEADER - 9))


def test_real_access_hash_length_survives() -> None:
    cred = parse("WHM root:" + "\n".join(ACCESS_HASH_LINES) + "\n")
    assert isinstance(cred, TokenCredential)
    assert len(cred.secret) == 960


CREDENTIAL_TYPES = (TokenCredential, PasswordCredential, Malformed)

SCHEMES = st.sampled_from(["whm ", "WHM ", "cpanel ", "Basic ", "basic ", "Bearer ", "", " "])


@given(st.one_of(st.text(), st.builds(lambda s, t: s + t, SCHEMES, st.text())))
def test_parse_never_raises(header: str) -> None:
    assert isinstance(parse(header), CREDENTIAL_TYPES)


@given(st.binary())
def test_parse_never_raises_on_basic_payloads(payload: bytes) -> None:
    assert isinstance(parse(f"Basic {b64(payload)}"), CREDENTIAL_TYPES)


USERNAME = st.text(
    st.characters(blacklist_characters=":", blacklist_categories=("Zs", "Cc", "Zl", "Zp")),
    min_size=1,
)
SECRET = st.text(st.characters(codec="ascii", categories=("L", "N", "P", "S")), min_size=1)


@given(st.sampled_from(["whm", "WHM", "cpanel"]), USERNAME, SECRET)
def test_token_round_trip(scheme: str, username: str, secret: str) -> None:
    assert parse(f"{scheme} {username}:{secret}") == TokenCredential(
        scheme.lower(), username, secret
    )


TOKEN_HEADER_PARTS = st.text(
    st.sampled_from(["w", "W", "h", "H", "m", "c", "P", "a", "n", "E", "l", "K", "ſ", "\u212a"])
    | st.sampled_from([" ", ":", "\t", "\n", "\x1c", "\xa0", "\u2028", "x", "é", "9"])
)


@given(
    st.one_of(
        st.text(),
        TOKEN_HEADER_PARTS,
        st.builds(
            lambda s, t: s + t,
            st.sampled_from(["whm ", "WHM ", "cpanel ", "cPanel "]),
            TOKEN_HEADER_PARTS,
        ),
    ),
    st.sampled_from([None, b"agent/1.0"]),
)
def test_the_plain_token_shortcut_gives_what_the_general_parse_gives(
    header: str, agent: bytes | None
) -> None:
    assert parse(header, agent) == parse_any(header, agent)


SECRETS = ["Z9Q4M2R7T1K8W3X6Y5V0B2N4C7L1P9H3", "hunter2:with:colons", ACCESS_HASH]


@pytest.mark.parametrize("secret", SECRETS)
@pytest.mark.parametrize("scheme", ["whm", "cpanel"])
def test_token_repr_hides_secret(scheme: str, secret: str) -> None:
    cred = parse(f"{scheme} root:{secret}")
    assert isinstance(cred, TokenCredential)
    for text in (repr(cred), str(cred), f"{cred}", repr([cred]), repr({"c": cred})):
        assert secret not in text
        assert "root" in text


@pytest.mark.parametrize("secret", SECRETS)
def test_password_repr_hides_password(secret: str) -> None:
    cred = parse(f"Basic {b64('root:' + secret)}")
    assert isinstance(cred, PasswordCredential)
    for text in (repr(cred), str(cred), f"{cred}", repr([cred])):
        assert secret not in text
        assert "root" in text


@given(st.text(st.characters(codec="ascii", categories=("L", "N")), min_size=12))
def test_repr_never_contains_secret(secret: str) -> None:
    for header in (f"whm root:{secret}", f"Basic {b64('root:' + secret)}"):
        cred = parse(header)
        assert cred is not None
        assert secret not in repr(cred)
