"""`gatehouse cphulk`: cPHulk's lists, blocks and settings from the command line
(docs/security.md, docs/cli.md).

Each command runs the WHM API 1 cPHulk function of the same purpose locally as root, as
`gatehouse whmapi1` does, so the command line and the API check, store and audit alike.
Running servers see a change on their next request (the store moves the auth generation)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from gatehouse.cli.local_root import whm_data

if TYPE_CHECKING:
    from gatehouse.cli import Context

LISTS = click.Choice(["white", "black"])


def _call(obj: Context, function: str, pairs: list[tuple[str, str]]) -> Any:
    """Run a WHM API 1 function locally as root; its `data`, or exit 1 with its reason."""
    return whm_data(obj.gatehouse(), function, pairs)


def _table(title: str, columns: list[str], rows: list[list[str]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(*columns, title=title)
    for row in rows:
        table.add_row(*row)
    Console(width=140).print(table)


@click.group("cphulk")
def cphulk_group() -> None:
    """cPHulk brute-force protection: lists, blocks and settings."""


@cphulk_group.command("status")
@click.pass_obj
def status(obj: Context) -> None:
    """Whether cPHulk is enabled, and its main limits."""
    enabled = _call(obj, "cphulk_status", [])["is_enabled"]
    config = _call(obj, "load_cphulk_config", [])["cphulk_config"]
    click.echo(f"cPHulk is {'enabled' if enabled else 'disabled'}.")
    click.echo(
        f"An address is blocked for {config['ip_brute_force_period_mins']} minutes after "
        f"{config['max_failures_byip']} failures, for a day after {config['mark_as_brute']} "
        f"in {config['lookback_period_min']} minutes; a username's password logins are "
        f"locked for {config['brute_force_period_mins']} minutes after "
        f"{config['max_failures']} failures."
    )


@cphulk_group.command("enable")
@click.pass_obj
def enable(obj: Context) -> None:
    """Enable cPHulk."""
    _call(obj, "enable_cphulk", [])
    click.echo("cPHulk is enabled.")


@cphulk_group.command("disable")
@click.pass_obj
def disable(obj: Context) -> None:
    """Disable cPHulk: nothing is counted, no block or list applies."""
    _call(obj, "disable_cphulk", [])
    click.echo("cPHulk is disabled.")


@cphulk_group.command("list")
@click.argument("list_name", type=LISTS)
@click.pass_obj
def list_records(obj: Context, list_name: str) -> None:
    """The records of the white or black list."""
    data = _call(
        obj, "read_cphulk_records", [("list_name", list_name), ("skip_enabled_check", "1")]
    )
    records = data["ips_in_list"]
    _table(f"cPHulk {list_name} list", ["record", "comment"], [[k, v] for k, v in records.items()])


@cphulk_group.command("add")
@click.argument("list_name", type=LISTS)
@click.argument("addresses", nargs=-1, required=True)
@click.option("--comment", default="", help="A comment for every record (255 characters).")
@click.pass_obj
def add(obj: Context, list_name: str, addresses: tuple[str, ...], comment: str) -> None:
    """Add ADDRESSES (addresses, CIDR blocks, FIRST-LAST ranges) to a list."""
    pairs = [("list_name", list_name), ("skip_enabled_check", "1"), ("comment", comment)]
    pairs += [(f"ip-{i}", address) for i, address in enumerate(addresses, 1)]
    data = _call(obj, "create_cphulk_record", pairs)
    for record in data["ips_added"]:
        click.echo(f"added {record} to the {list_name} list")
    if data["ip_blocks_removed"]:
        click.echo(f"lifted {data['ip_blocks_removed']} block(s)")
    for given, reason in data["ips_failed"].items():
        click.echo(f"not added: {given}: {reason}", err=True)
    if data["ips_failed"]:
        raise SystemExit(1)


@cphulk_group.command("remove")
@click.argument("list_name", type=LISTS)
@click.argument("addresses", nargs=-1, required=True)
@click.pass_obj
def remove(obj: Context, list_name: str, addresses: tuple[str, ...]) -> None:
    """Remove records (as they were added) from a list."""
    pairs = [("list_name", list_name), ("skip_enabled_check", "1")]
    pairs += [(f"ip-{i}", address) for i, address in enumerate(addresses, 1)]
    data = _call(obj, "delete_cphulk_record", pairs)
    for record in data["ips_removed"]:
        click.echo(f"removed {record} from the {list_name} list")
    for given, reason in data["ips_failed"].items():
        click.echo(f"not removed: {given}: {reason}", err=True)
    if data["ips_failed"]:
        raise SystemExit(1)


@cphulk_group.command("blocks")
@click.pass_obj
def blocks(obj: Context) -> None:
    """Addresses blocked and usernames locked now."""
    rows: list[list[str]] = []
    for function, key, kind in (
        ("get_cphulk_brutes", "brutes", "address"),
        ("get_cphulk_excessive_brutes", "excessive_brutes", "address (a day)"),
        ("get_cphulk_user_brutes", "user_brutes", "username"),
    ):
        for entry in _call(obj, function, [])[key]:
            who = entry.get("user") or entry.get("ip") or ""
            rows.append([kind, who, entry["logintime"], entry["exptime"], str(entry["timeleft"])])
    _table("cPHulk blocks", ["kind", "who", "since (UTC)", "until (UTC)", "minutes left"], rows)


@cphulk_group.command("flush")
@click.argument("addresses", nargs=-1)
@click.pass_obj
def flush(obj: Context, addresses: tuple[str, ...]) -> None:
    """Forget counted failures and lift blocks: of ADDRESSES, or of everyone."""
    if addresses:
        pairs = [(f"ip-{i}", address) for i, address in enumerate(addresses, 1)]
        data = _call(obj, "flush_cphulk_login_history_for_ips", pairs)
    else:
        data = _call(obj, "flush_cphulk_login_history", [])
    click.echo(f"removed {data['records_removed']} record(s)")


@cphulk_group.command("unlock-user")
@click.argument("username")
@click.pass_obj
def unlock_user(obj: Context, username: str) -> None:
    """Lift USERNAME's password lock and forget its counted failures."""
    data = _call(obj, "gatehouse_unlock_cphulk_user", [("user", username)])
    click.echo(f"lifted {data['locks_removed']} lock(s) of {username}")


@cphulk_group.group("config", invoke_without_command=True)
@click.pass_context
def config(ctx: click.Context) -> None:
    """Show cPHulk's settings (`config set KEY VALUE` changes one)."""
    if ctx.invoked_subcommand is not None:
        return
    settings = _call(ctx.obj, "load_cphulk_config", [])["cphulk_config"]
    _table("cPHulk settings", ["key", "value"], [[k, str(v)] for k, v in settings.items()])


@config.command("set")
@click.argument("key")
@click.argument("value")
@click.pass_obj
def config_set(obj: Context, key: str, value: str) -> None:
    """Change one setting (a key of `config`)."""
    saved = _call(obj, "set_cphulk_config_key", [("key", key), ("value", value)])
    shown = saved["cphulk_config"].get(key, value)
    click.echo(f"{key} = {shown}")
