"""cPHulk's address keys (domain/cphulk/ranges.py): 32 hex digits, IPv4 mapped into IPv6, so
that comparing two keys as strings compares the addresses, on both stores."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gatehouse.domain.cphulk import gates, ranges, settings


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.0.0.0", "00000000000000000000ffff00000000"),  # noqa: S104 (an address, not a bind)
        ("192.0.2.1", "00000000000000000000ffffc0000201"),
        ("255.255.255.255", "00000000000000000000ffffffffffff"),
        ("::ffff:192.0.2.1", "00000000000000000000ffffc0000201"),  # the same client
        ("::1", "00000000000000000000000000000001"),
        ("2001:db8::5", "20010db8000000000000000000000005"),
        ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "f" * 32),
    ],
)
def test_the_key_of_a_client_address(text: str, expected: str) -> None:
    assert ranges.address_key(text) == expected


@pytest.mark.parametrize("text", [None, "", "localhost", "192.0.2.300", "1.2.3.4/32", "::g"])
def test_what_is_not_an_address_has_no_key(text: str | None) -> None:
    assert ranges.address_key(text) is None


addresses = st.one_of(
    st.integers(0, 2**32 - 1).map(ipaddress.IPv4Address),
    st.integers(0, 2**128 - 1).map(ipaddress.IPv6Address),
)


@given(addresses, addresses)
def test_keys_order_as_the_addresses_their_ipv6_form_does(
    a: ranges.Address, b: ranges.Address
) -> None:
    def as_ipv6(address: ranges.Address) -> int:
        return (
            int(ipaddress.IPv6Address(f"::ffff:{address}"))
            if address.version == 4
            else int(address)
        )

    assert (ranges.key(a) < ranges.key(b)) == (as_ipv6(a) < as_ipv6(b))
    assert len(ranges.key(a)) == 32


def test_a_range_holds_the_keys_between_its_ends() -> None:
    block = ranges.parse("192.0.2.0/30")
    inside = [ranges.address_key(f"192.0.2.{n}") for n in range(4)]
    assert all(k is not None and block.contains(k) for k in inside)
    outside = ranges.address_key("192.0.2.4")
    assert outside is not None and not block.contains(outside)


def _hex(value: int) -> str:
    return f"{value:032x}"


# Small numbers, so that ranges overlap, nest and touch often.
spans = st.tuples(st.integers(0, 60), st.integers(0, 20)).map(
    lambda p: ranges.Range(_hex(p[0]), _hex(p[0] + p[1]), f"{p[0]}-{p[0] + p[1]}")
)


@given(st.lists(spans, max_size=12), st.integers(0, 90))
def test_a_range_set_holds_what_one_of_its_ranges_holds(
    listed: list[ranges.Range], value: int
) -> None:
    key = _hex(value)
    assert ranges.RangeSet.of(listed).contains(key) == any(r.contains(key) for r in listed)


@pytest.mark.parametrize(
    ("listed", "inside", "outside"),
    [
        ([], [], ["192.0.2.1"]),
        (["192.0.2.0/30", "192.0.2.2-192.0.2.9"], ["192.0.2.0", "192.0.2.9"], ["192.0.2.10"]),
        (["192.0.2.0/24", "192.0.2.7"], ["192.0.2.7", "192.0.2.255"], ["192.0.3.0"]),
        (["2001:db8::/32", "192.0.2.1"], ["2001:db8::1", "192.0.2.1"], ["2001:db9::", "::1"]),
    ],
)
def test_a_range_set_of_cphulk_entries(
    listed: list[str], inside: list[str], outside: list[str]
) -> None:
    found = ranges.RangeSet.of(ranges.parse(text) for text in listed)
    assert bool(found) == bool(listed)
    assert all(found.contains(ranges.address_key(a) or "") for a in inside)
    assert not any(found.contains(ranges.address_key(a) or "") for a in outside)


# -- local origin (gates.Gate; Cpanel::IP::Loopback and Cpanel::IP::LocalCheck) ------------

OWN = "203.0.113.10"  # the server's own address in the gates below


def gate(**hulk: int) -> gates.Gate:
    listed = (ranges.parse("127.0.0.0/8"), ranges.parse("192.0.2.0/24"))
    return gates.Gate(
        settings.Settings(**hulk),
        white=listed,
        black=listed,
        local=(*gates.LOOPBACK, ranges.parse(OWN)),
    )


@pytest.mark.parametrize(
    ("address", "local"),
    [
        ("127.0.0.1", True),
        ("127.200.3.4", True),
        ("::1", True),
        ("::ffff:127.0.0.9", True),
        ("0.0.0.0", True),  # noqa: S104 (an address, not a bind)
        ("::", True),
        (OWN, True),
        (f"::ffff:{OWN}", True),
        (None, True),  # no address: nothing to count or block, as cPanel's
        ("128.0.0.1", False),
        ("192.0.2.5", False),
        ("203.0.113.11", False),
        ("::2", False),
        ("2001:db8::1", False),
    ],
)
def test_which_addresses_are_of_local_origin(address: str | None, local: bool) -> None:
    assert gate().local_origin(address) is local


@pytest.mark.parametrize(
    ("address", "whitelisted", "exempt", "refusal"),
    [
        ("127.0.0.5", True, False, None),  # listed in both, looked up in neither
        ("192.0.2.5", True, True, None),  # the white list wins, as cPanel's order
        ("198.51.100.1", False, False, None),
    ],
)
def test_the_lists_are_not_looked_up_for_local_origin(
    address: str, whitelisted: bool, exempt: bool, refusal: str | None
) -> None:
    hulk = gate()
    assert hulk.whitelisted(address) is whitelisted  # what WHM reports of the list
    assert hulk.exempt(address) is exempt
    assert hulk.address_refusal(address, 0) == refusal


def test_a_black_listed_remote_address_is_refused() -> None:
    only_black = gates.Gate(settings.Settings(), black=(ranges.parse("192.0.2.0/24"),))
    assert only_black.address_refusal("192.0.2.5", 0) == gates.BLACKLISTED
    assert only_black.address_refusal("::ffff:192.0.2.5", 0) == gates.BLACKLISTED
    assert only_black.address_refusal("127.0.0.1", 0) is None


@pytest.mark.parametrize(
    ("username_based", "local_origin", "for_root", "user", "address", "protected"),
    [
        (1, 0, 0, "bob", "198.51.100.1", True),
        (1, 0, 0, "bob", "127.0.0.1", True),
        (0, 1, 0, "bob", "127.0.0.1", True),  # cPanel's defaults, from this server
        (0, 1, 0, "bob", OWN, True),
        (0, 1, 0, "bob", "198.51.100.1", False),  # cPanel's defaults, from elsewhere
        (0, 0, 0, "bob", "127.0.0.1", False),
        (1, 1, 0, "root", "127.0.0.1", False),  # root only by its own switch
        (1, 1, 1, "root", "127.0.0.1", True),
        (1, 1, 1, None, "127.0.0.1", False),
    ],
)
def test_which_logins_a_username_lock_protects(
    username_based: int,
    local_origin: int,
    for_root: int,
    user: str | None,
    address: str,
    protected: bool,
) -> None:
    hulk = gate(
        username_based_protection=username_based,
        username_based_protection_local_origin=local_origin,
        username_based_protection_for_root=for_root,
    )
    assert hulk.protects_username(user, address) is protected
