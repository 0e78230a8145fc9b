"""cPHulk's address keys (domain/cphulk/ranges.py): 32 hex digits, IPv4 mapped into IPv6, so
that comparing two keys as strings compares the addresses, on both stores."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gatehouse.domain.cphulk import ranges


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
