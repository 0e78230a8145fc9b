"""`gatehouse cluster`: the DNS cluster peers this node pushes its zones to (docs/cluster.md).
Adding a peer with a pushing role queues every zone for it; `gatehouse serve` sends what is
queued (and retries failures); `push` sends what is due now, from the command line."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from gatehouse.domain import audit, cluster_peers, cluster_push
from gatehouse.errors import GatehouseError

if TYPE_CHECKING:
    from gatehouse.cli import Context


@click.group("cluster")
def cluster_group() -> None:
    """DNS cluster peers: other gatehouse nodes or cPanel servers that get this node's zones."""


@cluster_group.command("add")
@click.argument("host")
@click.option("--port", type=int, default=2087, show_default=True)
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
@click.pass_obj
def add(
    obj: Context,
    host: str,
    port: int,
    plain: bool,
    no_verify: bool,
    username: str,
    role: str,
    token_stdin: bool,
) -> None:
    """Add HOST, reached with USER's API token (it needs only `clustering`)."""
    if token_stdin:
        secret = sys.stdin.readline().strip()
    else:
        secret = click.prompt("The peer's API token", hide_input=True)
    gh = obj.gatehouse()
    try:
        with gh.engine.begin() as conn:
            peer, queued = cluster_peers.add(
                conn,
                gh.keyring,
                host=host,
                port=port,
                scheme="http" if plain else "https",
                verify_tls=not no_verify,
                username=username,
                token=secret,
                role=role,
                now=gh.now(),
            )
            audit.record(
                conn, now=gh.now(), action="CLUSTERADDPEER", actor="cli", subject=peer.label,
                detail=f"role {role}",
            )  # fmt: skip
    except GatehouseError as exc:
        raise click.ClickException(exc.reason) from exc
    finally:
        gh.close()
    click.echo(f"added {peer.label} ({role}); {queued} zone(s) queued for it")


@cluster_group.command("list")
@click.pass_obj
def list_peers(obj: Context) -> None:
    """The peers, with their pending changes and the last error."""
    gh = obj.gatehouse()
    try:
        with gh.engine.connect() as conn:
            peers = cluster_peers.listing(conn)
    finally:
        gh.close()
    for peer, pending, error in peers:
        tls = "" if peer.scheme == "http" else (" tls" if peer.verify_tls else " tls-unverified")
        line = f"{peer.label} {peer.role} user={peer.username}{tls} pending={pending}"
        click.echo(line + (f" last-error={error}" if error else ""))


@cluster_group.command("remove")
@click.argument("host")
@click.option("--port", type=int, default=None)
@click.pass_obj
def remove(obj: Context, host: str, port: int | None) -> None:
    """Remove a peer and its pending changes."""
    gh = obj.gatehouse()
    try:
        with gh.engine.begin() as conn:
            peer = cluster_peers.find(conn, host, port)
            cluster_peers.remove(conn, peer)
            audit.record(
                conn, now=gh.now(), action="CLUSTERREMOVEPEER", actor="cli", subject=peer.label
            )
    except GatehouseError as exc:
        raise click.ClickException(exc.reason) from exc
    finally:
        gh.close()
    click.echo(f"removed {peer.label}")


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
