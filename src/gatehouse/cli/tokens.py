"""`gatehouse tokens`: the server's token policies from the command line (docs/governance.md).
`stale` runs the gatehouse extension `gatehouse_list_stale_api_tokens` as root;
`expire-unused` runs the policy pass the server runs every hour."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING

import click

from gatehouse.cli.local_root import whm_data
from gatehouse.domain import token_policy, token_rotation

if TYPE_CHECKING:
    from gatehouse.cli import Context


def _day(timestamp: int | None) -> str:
    if timestamp is None:
        return "never"
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d")


@click.group("tokens")
def tokens_group() -> None:
    """Token policies: the stale-token report, the expiry of unused tokens, rotation."""


@tokens_group.command("stale")
@click.option("--days", type=click.IntRange(1, 36500), default=90, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="The report as JSON.")
@click.pass_obj
def stale(obj: Context, days: int, as_json: bool) -> None:
    """Every user's live tokens unused for DAYS days (or never used), the longest unused first,
    with their owners and descriptions."""
    data = whm_data(obj.gatehouse(), "gatehouse_list_stale_api_tokens", [("days", str(days))])
    if as_json:
        click.echo(json.dumps(data["tokens"], indent=2, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("User", "Kind", "Token", "Description", "Created", "Last used", "From")
    for t in data["tokens"]:
        table.add_row(
            t["user"],
            "WHM" if t["service"] == "whostmgr" else "cPanel",
            t["name"],
            t["description"] or "",
            _day(t["create_time"]),
            _day(t["last_used"]),
            t["last_used_ip"] or "",
        )
    console = Console(width=160)
    if data["tokens"]:
        console.print(table)
    console.print(f"{len(data['tokens'])} token(s) unused for {days} days or more.")


@tokens_group.command("expire-unused")
@click.option("--days", type=click.IntRange(1, 36500), default=None,
              help="Default: GATEHOUSE_TOKEN_EXPIRE_UNUSED_DAYS.")  # fmt: skip
@click.pass_obj
def expire_unused(obj: Context, days: int | None) -> None:
    """Expire now every token unused for DAYS days (each audited), as the server's hourly
    pass does when GATEHOUSE_TOKEN_EXPIRE_UNUSED_DAYS is set."""
    gh = obj.gatehouse()
    try:
        wanted = days or gh.config.token_expire_unused_days
        if wanted <= 0:
            raise click.ClickException("Give --days, or set GATEHOUSE_TOKEN_EXPIRE_UNUSED_DAYS.")
        expired = token_policy.expire_unused(gh.engine, gh.now(), wanted)
    finally:
        gh.close()
    for t in expired:
        click.echo(f"expired {t.owner}'s {t.service} token {t.name}")
    click.echo(f"{len(expired)} token(s) expired (unused for {wanted} days).")


@tokens_group.command("rotate")
@click.argument("name")
@click.option("--grace", type=click.IntRange(0, token_rotation.MAX_GRACE),
              default=token_rotation.DEFAULT_GRACE, show_default=True,
              help="Seconds the previous secret keeps working.")  # fmt: skip
@click.pass_obj
def rotate(obj: Context, name: str, grace: int) -> None:
    """Give root's WHM token NAME a new secret (printed once); the previous one keeps working
    for --grace seconds."""
    data = whm_data(
        obj.gatehouse(),
        "gatehouse_rotate_api_token",
        [("token_name", name), ("grace_period", str(grace))],
    )
    click.echo(data["token"])
    ends = data["previous_token_expires_at"]
    when = dt.datetime.fromtimestamp(ends, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if ends else ""
    note = f"until {when} ({grace} s)" if ends else "no longer (no grace period)"
    click.echo(f"The previous secret works {note}.", err=True)


@tokens_group.command("usage")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="The report as JSON.")
@click.pass_obj
def usage(obj: Context, name: str, as_json: bool) -> None:
    """What root's WHM token NAME has called, and the smallest ACL that covers it."""
    data = whm_data(obj.gatehouse(), "gatehouse_get_api_token_usage", [("token_name", name)])
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("Function", "Calls", "First", "Last", "Last result", "Needs")
    for f in data["functions"]:
        table.add_row(
            f["function"], str(f["calls"]), _day(f["first_used"]), _day(f["last_used"]),
            f["last_result"], " or ".join(f["privileges"]) or "-",
        )  # fmt: skip
    console = Console(width=160)
    console.print(table)
    console.print(f"Holds:     {', '.join(data['acls']) or '-'}")
    console.print(f"Suggested: {', '.join(data['suggested_acls']) or '-'}")
    console.print(f"Unused:    {', '.join(data['unused_acls']) or '-'}")
    if data["missing_acls"]:
        console.print(f"Missing (its refused calls lacked): {', '.join(data['missing_acls'])}")


@tokens_group.command("tighten")
@click.argument("name")
@click.pass_obj
def tighten(obj: Context, name: str) -> None:
    """Set root's WHM token NAME's ACL to what its recorded use needed."""
    data = whm_data(obj.gatehouse(), "gatehouse_tighten_api_token", [("token_name", name)])
    click.echo(f"{name}: {', '.join(data.get('acls') or [])}")
    if data["removed_acls"]:
        click.echo(f"removed: {', '.join(data['removed_acls'])}")
