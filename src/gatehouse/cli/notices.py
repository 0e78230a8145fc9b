"""`gatehouse notices`: token notices from the command line (docs/governance.md#4-notices).
`list`, `send-test` and `set-secret` run the gatehouse extensions `gatehouse_list_notices`,
`gatehouse_send_test_notice` and `gatehouse_set_notice_secret` as root; `run-now` runs the
passes `gatehouse serve` runs."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import sys
from typing import TYPE_CHECKING, Any

import click

from gatehouse.cli.local_root import whm_data
from gatehouse.domain import leases, notices

if TYPE_CHECKING:
    from gatehouse.cli import Context


def _time(timestamp: int | None) -> str:
    if timestamp is None:
        return ""
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d %H:%M")


@click.group("notices")
def notices_group() -> None:
    """Token notices: the queue, a test notice, a pass now, the webhook's secret."""


@notices_group.command("list")
@click.option(
    "--status",
    type=click.Choice([*notices.STATUSES, "all"]),
    default="all",
    show_default=True,
)
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="The notices as JSON.")
@click.pass_obj
def list_notices(obj: Context, status: str, limit: int, as_json: bool) -> None:
    """The notices queued and sent, newest first."""
    data = whm_data(
        obj.gatehouse(), "gatehouse_list_notices", [("status", status), ("limit", str(limit))]
    )
    if as_json:
        click.echo(json.dumps(data["notices"], indent=2, ensure_ascii=False))
        return
    _print(data["notices"])
    if not data["channels"]:
        click.echo("No channel is configured (GATEHOUSE_NOTICE_WEBHOOK_URL, _SMTP_HOST).")


def _print(found: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table("Id", "Created", "Event", "Channel", "Token", "Status", "Tries", "Last error")
    for n in found:
        token = f"{n['user']}/{n['token_name']}" if n["token_name"] else ""
        table.add_row(
            str(n["id"]), _time(n["created"]), n["event"], n["channel"], token,
            n["status"], str(n["attempts"]), n["last_error"] or "",
        )  # fmt: skip
    console = Console(width=160)
    if found:
        console.print(table)
    console.print(f"{len(found)} notice(s).")


@notices_group.command("send-test")
@click.pass_obj
def send_test(obj: Context) -> None:
    """Queue a test notice on every configured channel and deliver it now."""
    ids = whm_data(obj.gatehouse(), "gatehouse_send_test_notice", [])["ids"]
    gh = obj.gatehouse()
    try:
        notices.deliver_due(gh.engine, gh.config, gh.keyring, gh.now())
        with gh.engine.connect() as conn:
            found = [n for n in notices.listed(conn, None, 1000) if n["id"] in ids]
    finally:
        gh.close()
    for n in found:
        outcome = "delivered" if n["status"] == notices.DELIVERED else f"not yet: {n['last_error']}"
        click.echo(f"notice {n['id']} by {n['channel']}: {outcome}")
    if any(n["status"] != notices.DELIVERED for n in found):
        raise SystemExit(1)


@notices_group.command("run-now")
@click.pass_obj
def run_now(obj: Context) -> None:
    """Queue the notices due now and deliver every due one, as `gatehouse serve` does every
    few seconds (collecting only when no other process is)."""
    gh = obj.gatehouse()
    try:
        now = gh.now()
        made = notices.collect_if_due(gh.engine, gh.config, leases.new_holder(), now, every=0)
        delivered = notices.deliver_due(gh.engine, gh.config, gh.keyring, now)
    finally:
        gh.close()
    if not notices.channels(gh.config):
        click.echo("No channel is configured (GATEHOUSE_NOTICE_WEBHOOK_URL, _SMTP_HOST).")
        return
    if made is None:
        click.echo("Another process is collecting notices; delivered only.")
    else:
        click.echo(f"{made} notice(s) queued.")
    click.echo(f"{delivered.sent} delivered, {delivered.failed} failed (retried with backoff).")


@notices_group.command("set-secret")
@click.option("--generate", is_flag=True, help="Make a random secret and print it once.")
@click.pass_obj
def set_secret(obj: Context, generate: bool) -> None:
    """Set the webhook's signing secret, read from standard input (one line), kept encrypted in
    the store for every node; with --generate, a random one, printed once."""
    secret = secrets.token_hex(32) if generate else sys.stdin.readline().rstrip("\r\n")
    data = whm_data(obj.gatehouse(), "gatehouse_set_notice_secret", [("secret", secret)])
    if generate:
        click.echo(secret)
    click.echo("The webhook secret is set (kept encrypted in the store).", err=generate)
    if data["overridden_here"]:
        click.echo("GATEHOUSE_NOTICE_WEBHOOK_SECRET is set here and takes precedence.", err=True)
