"""A compiled allow-list answers as the plain definition does (the peer lies in one of the
entries), and keeps doing so once it remembers its verdicts per peer."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gatehouse.ipnets import AllowList

v4_networks = st.builds(
    lambda a, p: ipaddress.IPv4Network((a, p), strict=False),
    st.integers(0, 2**32 - 1),
    st.integers(8, 32),
)
v6_networks = st.builds(
    lambda a, p: ipaddress.IPv6Network((a, p), strict=False),
    st.integers(0, 2**128 - 1),
    st.integers(16, 128),
)
v4_peers = st.integers(0, 2**32 - 1).map(lambda n: str(ipaddress.IPv4Address(n)))
v6_peers = st.integers(0, 2**128 - 1).map(lambda n: str(ipaddress.IPv6Address(n)))


def defined(entries: list[ipaddress.IPv4Network | ipaddress.IPv6Network], peer: str) -> bool:
    address = ipaddress.ip_address(peer)
    mapped = getattr(address, "ipv4_mapped", None)
    address = mapped or address
    return any(address.version == net.version and address in net for net in entries)


@given(
    st.lists(st.one_of(v4_networks, v6_networks), min_size=1, max_size=20),
    st.lists(st.one_of(v4_peers, v6_peers), min_size=1, max_size=10),
)
def test_verdicts_match_the_definition_and_stay_the_same(
    entries: list[ipaddress.IPv4Network | ipaddress.IPv6Network], peers: list[str]
) -> None:
    allow = AllowList([str(n) for n in entries])
    # Peers inside entries too, not only random ones (which seldom hit a range).
    peers = peers + [str(n.network_address) for n in entries] + [str(n[-1]) for n in entries]
    for _ in range(2):  # the second pass answers from the remembered verdicts
        assert [allow.allows(p) for p in peers] == [defined(entries, p) for p in peers]


@pytest.mark.parametrize("peer", [None, "", "not-an-address", "999.1.1.1"])
def test_unknown_peers_are_refused_every_time(peer: str | None) -> None:
    allow = AllowList(["0.0.0.0/0", "::/0"])
    assert allow.allows(peer) is False
    assert allow.allows(peer) is False


def test_remembered_verdicts_are_bounded() -> None:
    allow = AllowList(["10.0.0.0/8"])
    for n in range(AllowList.MAX_REMEMBERED * 3):
        assert allow.allows(str(ipaddress.IPv4Address(0x0A000000 + n))) is True
        assert allow.allows(str(ipaddress.IPv4Address(0x0B000000 + n))) is False
    assert len(allow._verdicts) <= AllowList.MAX_REMEMBERED
