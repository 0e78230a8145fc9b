"""Nodes of a DNS cluster for the cluster tests: gatehouse processes with stores of their own,
and ways to wait for a change to arrive."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from pathlib import Path

import dns.message
import dns.query
import dns.rdatatype

from conftest import Server, run_cli, start_server
from gatehouse.passwords import generate_password


def own_node(data_dir: Path) -> Server:
    """A gatehouse with its own SQLite store (a peer is another server, not another node)."""
    password = generate_password()
    url = f"sqlite:///{data_dir / 'gatehouse.db'}"
    run_cli("init", "--root-password-stdin", data_dir=data_dir, db_url=url, stdin=password + "\n")
    node = start_server(data_dir, url, "sqlite", password)
    node.remember(password)
    return node


def eventually(check: Callable[[], bool], seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


def txt_answer(node: Server, name: str) -> list[str]:
    """The TXT strings the node's own nameserver answers for `name` (UDP on loopback)."""
    query = dns.message.make_query(name, dns.rdatatype.TXT)
    response = dns.query.udp(query, "127.0.0.1", port=node.dns_port, timeout=2)
    return [
        b"".join(rdata.strings).decode()
        for rrset in response.answer
        if rrset.rdtype == dns.rdatatype.TXT
        for rdata in rrset
    ]


def soa_serial(node: Server, zone: str) -> int | None:
    query = dns.message.make_query(zone, dns.rdatatype.SOA)
    response = dns.query.udp(query, "127.0.0.1", port=node.dns_port, timeout=2)
    for rrset in response.answer:
        if rrset.rdtype == dns.rdatatype.SOA:
            return int(rrset[0].serial)
    return None


def fresh_domain(prefix: str = "clu") -> str:
    return f"{prefix}{secrets.token_hex(4)}.example.org"
