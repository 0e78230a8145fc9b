"""`gatehouse cluster`: the DNS cluster peers this node pushes its zones to (docs/cluster.md).

Each command but `push` runs the gatehouse extension of WHM API 1 of the same purpose
(`gatehouse_add_cluster_peer` …) locally as root, so the command line, the API and the DNS
Cluster page check, store and audit alike. `gatehouse serve` sends what is queued (and
retries failures); `push` sends what is due now, from the command line."""

from __future__ import annotations

import datetime as dt
import sys
from typing import TYPE_CHECKING, Any

import click

from gatehouse.cli.local_root import whm_data
from gatehouse.domain import cluster_peers, cluster_push

if TYPE_CHECKING:
    from gatehouse.cli import Context

PORT = click.option("--port", type=int, default=None, help="When two peers share a host.")


def _call(obj: Context, function: str, pairs: list[tuple[str, str]]) -> Any:
    return whm_data(obj.gatehouse(), function, pairs)


def _which(host: str, port: int | None) -> list[tuple[str, str]]:
    return [("host", host)] + ([("port", str(port))] if port is not None else [])


def _tls(peer: dict[str, Any]) -> str:
    if peer["scheme"] == "http":
        return "http"
    return "tls" if peer["verify_tls"] else "tls-unverified"


def _ago(timestamp: int | None, now: int) -> str:
    if timestamp is None:
        return "never"
    seconds = max(0, now - timestamp)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


@click.group("cluster")
def cluster_group() -> None:
    """DNS cluster peers: other gatehouse nodes or cPanel servers that get this node's zones."""


@cluster_group.command("add")
@click.argument("host")
@click.option("--port", type=int, default=None, help="Default 2087, or 2086 with --http.")
@click.option("--http", "plain", is_flag=True, help="Plain HTTP (a peer's port 2086).")
@click.option(
    "--no-verify", is_flag=True, help="Accept a self-signed certificate (cPanel's default)."
)
@click.option("--user", "username", default="root", show_default=True)
@click.option(
    "--role",
    type=click.Choice(cluster_peers.ROLES),
    default="write-only",
    show_default=True,
    help="write-only: push every change; sync: push when the peer's serial is lower; "
    "standalone: no push.",
)
@click.option("--token-stdin", is_flag=True, help="Read the peer's API token from stdin.")
@click.option("--no-check", is_flag=True, help="Store the peer without checking it first.")
@click.pass_obj
def add(
    obj: Context,
    host: str,
    port: int | None,
    plain: bool,
    no_verify: bool,
    username: str,
    role: str,
    token_stdin: bool,
    no_check: bool,
) -> None:
    """Add HOST, reached with USER's API token (it needs only `clustering`). The peer is
    checked first: it must answer and accept the token for the cluster protocol."""
    if token_stdin:
        secret = sys.stdin.readline().strip()
    else:
        secret = click.prompt("The peer's API token", hide_input=True)
    pairs = [
        ("host", host),
        ("user", username),
        ("token", secret),
        ("role", role),
        ("http", str(int(plain))),
        ("verify_tls", str(int(not no_verify))),
        ("check", str(int(not no_check))),
    ] + ([("port", str(port))] if port is not None else [])
    data = _call(obj, "gatehouse_add_cluster_peer", pairs)
    peer = data["peer"]
    click.echo(
        f"added {peer['host']}:{peer['port']} ({peer['role']}); "
        f"{data['queued']} zone(s) queued for it"
    )


@cluster_group.command("list")
@click.pass_obj
def list_peers(obj: Context) -> None:
    """The peers, one a line, with their queue and the failure they are in, if any."""
    for peer in _call(obj, "gatehouse_list_cluster_peers", [])["peers"]:
        line = (
            f"{peer['host']}:{peer['port']} {peer['role']} user={peer['user']} {_tls(peer)} "
            f"pending={peer['pending']}"
        )
        click.echo(line + (f" last-error={peer['last_error']}" if peer["last_error"] else ""))


@cluster_group.command("status")
@click.option("--check", is_flag=True, help="Check every peer's connection and token now.")
@click.pass_obj
def status(obj: Context, check: bool) -> None:
    """A table of the peers: role, queue, last delivery, last error. Exits 1 when a peer is
    failing (for monitoring)."""
    from rich.console import Console
    from rich.table import Table

    peers = _call(obj, "gatehouse_list_cluster_peers", [])["peers"]
    if check:
        peers = [
            _call(obj, "gatehouse_check_cluster_peer", _which(p["host"], p["port"]))["peer"]
            for p in peers
        ]
    now = int(dt.datetime.now(dt.UTC).timestamp())
    table = Table("Peer", "Role", "User", "TLS", "Queue", "Last delivery", "Status")
    for peer in peers:
        table.add_row(
            f"{peer['host']}:{peer['port']}",
            peer["role"] + (" (reverse trust)" if peer["origin"] == "trust" else ""),
            peer["user"],
            _tls(peer),
            str(peer["pending"]),
            _ago(peer["last_delivery"], now),
            "OK" if peer["healthy"] else f"FAILING: {peer['last_error']}",
        )
    Console(width=160).print(table if peers else "No DNS cluster peers.")
    if any(not p["healthy"] for p in peers):
        sys.exit(1)


@cluster_group.command("remove")
@click.argument("host")
@PORT
@click.pass_obj
def remove(obj: Context, host: str, port: int | None) -> None:
    """Remove a peer and its pending changes."""
    data = _call(obj, "gatehouse_remove_cluster_peer", _which(host, port))
    click.echo(f"removed {data['host']}:{data['port']}")


@cluster_group.command("role")
@click.argument("host")
@click.argument("role", type=click.Choice(cluster_peers.ROLES))
@PORT
@click.pass_obj
def role(obj: Context, host: str, role: str, port: int | None) -> None:
    """Change a peer's role (a peer that starts pushing gets every zone queued)."""
    data = _call(obj, "gatehouse_set_cluster_peer_role", [*_which(host, port), ("role", role)])
    click.echo(f"{host} is {role}; {data['queued']} zone(s) queued for it")


@cluster_group.command("token")
@click.argument("host")
@PORT
@click.option("--user", "username", default=None, help="Default: the peer's user, unchanged.")
@click.option("--token-stdin", is_flag=True, help="Read the new token from stdin.")
@click.option("--no-check", is_flag=True, help="Store the token without checking it first.")
@click.pass_obj
def token(
    obj: Context,
    host: str,
    port: int | None,
    username: str | None,
    token_stdin: bool,
    no_check: bool,
) -> None:
    """Give HOST a new API token (rotated on the peer); what failed is retried at once."""
    if token_stdin:
        secret = sys.stdin.readline().strip()
    else:
        secret = click.prompt("The peer's new API token", hide_input=True)
    pairs = [*_which(host, port), ("token", secret), ("check", str(int(not no_check)))]
    if username:
        pairs.append(("user", username))
    _call(obj, "gatehouse_set_cluster_peer_token", pairs)
    click.echo(f"{host} has its new token")


@cluster_group.command("sync")
@click.argument("host")
@PORT
@click.pass_obj
def sync(obj: Context, host: str, port: int | None) -> None:
    """Queue every zone of this node for HOST (cPanel's synczones)."""
    data = _call(obj, "gatehouse_sync_cluster_peer", _which(host, port))
    click.echo(f"{data['queued']} zone(s) queued for {host}")


@cluster_group.command("push")
@click.pass_obj
def push(obj: Context) -> None:
    """Send the changes that are due now (the server does this every two seconds)."""
    gh = obj.gatehouse()
    try:
        pushed = cluster_push.push_due(gh.engine, gh.keyring, gh.now())
    finally:
        gh.close()
    click.echo(f"sent {pushed.sent}, skipped {pushed.skipped}, failed {pushed.failed}")
    if pushed.failed:
        sys.exit(1)
