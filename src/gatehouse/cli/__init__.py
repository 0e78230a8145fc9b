"""The command line face: `gatehouse init | whmapi1 | uapi | passwd | audit | zones | ...`.

`serve` is added by the program (`gatehouse.program.main`), which also loads the API faces:
`whmapi1` and `uapi` reach their functions through `gatehouse.api.bridge`."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import click
import yaml

from gatehouse import config as config_mod
from gatehouse.api import bridge, envelope
from gatehouse.api.params import Params
from gatehouse.auth.authenticator import Principal
from gatehouse.core import Gatehouse
from gatehouse.domain import audit, password_policy, retention, users
from gatehouse.errors import GatehouseError
from gatehouse.numerals import digits
from gatehouse.passwords import check_password, generate_password, hash_password


class Context:
    def __init__(self, data_dir: str | None, database_url: str | None) -> None:
        try:
            self.config = config_mod.from_environment(data_dir=data_dir, database_url=database_url)
        except config_mod.SettingError as exc:  # a bad setting is the operator's to fix: say so
            raise click.ClickException(str(exc)) from None

    def gatehouse(self) -> Gatehouse:
        try:
            return Gatehouse(self.config)
        except Exception as exc:  # a store we cannot open is the user's to fix: say why
            raise click.ClickException(f"cannot open the store: {exc}") from exc


@click.group()
@click.option(
    "--data-dir", envvar="GATEHOUSE_DATA_DIR", default=None, help="Data directory (default ./var)."
)
@click.option(
    "--database-url",
    envvar="GATEHOUSE_DATABASE_URL",
    default=None,
    help="Store URL (default: SQLite in the data directory).",
)
@click.pass_context
def main(ctx: click.Context, data_dir: str | None, database_url: str | None) -> None:
    """gatehouse: WHM-style API tokens and the WHM API 1."""
    ctx.obj = Context(data_dir, database_url)


@main.command()
@click.option("--root-password-stdin", is_flag=True, help="Read root's password from stdin.")
@click.option("--if-needed", is_flag=True, help="Do nothing (but migrate) if root exists.")
@click.pass_obj
def init(obj: Context, root_password_stdin: bool, if_needed: bool) -> None:
    """Create the store, apply migrations and create root."""
    config = obj.config
    gh = obj.gatehouse()  # makes the data directory, private (private_files.py)
    try:
        with gh.engine.begin() as conn:
            if users.get(conn, users.ROOT) is not None:
                if if_needed:
                    click.echo(f"Store is ready at {config.database_display}.")
                    _print_login_hint(config)
                    return
                raise click.ClickException("root already exists: the store is initialised.")
            if root_password_stdin:
                password = sys.stdin.readline().rstrip("\r\n")
                try:
                    check_password(password)
                    # A new store's minimum (65) for root's password, as passwd has it.
                    password_policy.require_strength(conn, password_policy.PASSWD, password)
                except GatehouseError as exc:
                    raise click.ClickException(exc.reason) from exc
            else:
                password = generate_password()
            users.create_root(conn, hash_password(password), gh.now())
        if not root_password_stdin:
            _write_secret(config.root_password_file, password + "\n")
            click.echo(f"root's password (also in {config.root_password_file}, mode 0600):")
            click.echo(password)
        click.echo(f"Initialised the store at {config.database_display}.")
        _print_login_hint(config, password_file=not root_password_stdin)
    finally:
        gh.close()


def _print_login_hint(config: config_mod.Config, password_file: bool = True) -> None:
    where = (
        f"the password is in {config.root_password_file} (`cat` it)"
        if password_file and config.root_password_file.exists()
        else "with the password you set (`gatehouse passwd root` changes it)"
    )
    click.echo(
        f"Serve with `gatehouse serve`, then log in at https://127.0.0.1:{config.https_port}/ "
        f"(or call /json-api/...) as root; {where}."
    )


def _write_secret(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.chmod(path, 0o600)


# cPanel's `whmapi1` and `uapi` print YAML by default; `json` is the server's compact JSON and
# `jsonpretty` JSON::XS's `pretty` form (three-space indent, `"key" : value`), as cPanel's docs
# call them (`whmapi1 --output=jsonpretty FUNCTION …`).
_OUTPUT_OPTION = click.option(
    "--output",
    type=click.Choice(["yaml", "json", "jsonpretty"]),
    default="yaml",
    show_default=True,
)


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("function")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.option("--user", default=users.ROOT, show_default=True, help="Run as this user.")
@_OUTPUT_OPTION
@click.pass_obj
def whmapi1(obj: Context, function: str, args: tuple[str, ...], user: str, output: str) -> None:
    """Run a WHM API 1 FUNCTION locally with key=value ARGS, like cPanel's whmapi1."""

    def run(gh: Gatehouse, params: Params) -> Outcome:
        if params.get("api.version") is None:
            params = Params.from_args(("api.version=1", *args))
        return bridge.server_api().execute(gh, _whm_caller(gh, user), function, params)

    _run_locally(obj, args, output, run)


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("function")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.option("--user", default=users.ROOT, show_default=True, help="Run as this user.")
@_OUTPUT_OPTION
@click.pass_obj
def whmapi0(obj: Context, function: str, args: tuple[str, ...], user: str, output: str) -> None:
    """Run a WHM API 0 FUNCTION locally with key=value ARGS, like cPanel's whmapi0: the
    function's API 0 answer, as `/json-api/FUNCTION` without `api.version` gives it."""

    def run(gh: Gatehouse, params: Params) -> Outcome:
        # API 0 is a call without `api.version` (or with 0): an `api.version` among the ARGS
        # is dropped, as cPanel's whmapi0 asks for version 0 whatever the arguments say.
        pairs = [(k, v) for k, v in params.pairs() if k != "api.version"]
        return bridge.server_api().execute(gh, _whm_caller(gh, user), function, Params(pairs))

    _run_locally(obj, args, output, run)


def _whm_caller(gh: Gatehouse, user: str) -> Principal:
    """Who a local `whmapi0` / `whmapi1` runs as: root, or an active reseller."""
    with gh.engine.connect() as conn:
        caller = users.get(conn, user)
    if caller is None or not caller.may_use_whm:
        raise click.ClickException(f"“{user}” is not root or an active reseller.")
    return Principal(user=caller, method="local", privileges=caller.privileges)


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("module")
@click.argument("function")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.option("--user", required=True, help="The cPanel account to run as.")
@_OUTPUT_OPTION
@click.pass_obj
def uapi(
    obj: Context, module: str, function: str, args: tuple[str, ...], user: str, output: str
) -> None:
    """Run a UAPI MODULE FUNCTION locally as a cPanel account, like cPanel's uapi command.

    ARGS are key=value words. The answer is the wrapped UAPI envelope, as cPanel's `uapi`
    prints it; its `result` is what /execute/ answers over HTTP. Exits 1 when
    `result.status` is 0."""

    def run(gh: Gatehouse, params: Params) -> Outcome:
        account = _cpanel_account(gh, user)
        accounts = bridge.account_api()
        principal = accounts.principal_for(account, "local")
        return accounts.uapi(gh, principal, module, function, params)

    _run_locally(obj, args, output, run)


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("module")
@click.argument("function")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.option("--user", required=True, help="The cPanel account to run as.")
@_OUTPUT_OPTION
@click.pass_obj
def cpapi2(
    obj: Context, module: str, function: str, args: tuple[str, ...], user: str, output: str
) -> None:
    """Run a cPanel API 2 MODULE FUNCTION locally as a cPanel account, like cPanel's cpapi2
    command (e.g. `gatehouse cpapi2 --user bob ZoneEdit fetchzone_records domain=bob.example`).

    ARGS are key=value words. The answer is API 2's envelope, `cpanelresult`, as
    /json-api/cpanel answers it. Exits 1 when the call failed."""

    def run(gh: Gatehouse, params: Params) -> Outcome:
        account = _cpanel_account(gh, user)
        accounts = bridge.account_api()
        principal = accounts.principal_for(account, "local")
        return accounts.api2(gh, principal, module, function, params)

    _run_locally(obj, args, output, run)


def _cpanel_account(gh: Gatehouse, user: str) -> users.User:
    """The cPanel account a local `uapi` or `cpapi2` runs as. Like WHM's `cpanel` function,
    the operator may act for a suspended account (to revoke its tokens, say): suspension stops
    the account's own credentials."""
    with gh.engine.connect() as conn:
        account = users.get(conn, user)
    if account is None or not account.has_cpanel_account:
        raise click.ClickException(f"“{user}” is not a cPanel account.")
    return account


class Outcome(Protocol):
    """What running a function locally gives, whichever API: the envelope and success."""

    @property
    def payload(self) -> dict[str, Any]: ...

    @property
    def ok(self) -> bool: ...


def _run_locally(
    obj: Context,
    args: tuple[str, ...],
    output: str,
    run: Callable[[Gatehouse, Params], Outcome],
) -> None:
    """The frame of `whmapi1` and `uapi`: open the store, read key=value ARGS, run, print the
    envelope (exit 1 when the call failed), close the store."""
    gh = obj.gatehouse()
    try:
        try:
            params = Params.from_args(args)
        except GatehouseError as exc:
            raise click.ClickException(exc.reason) from exc
        outcome = run(gh, params)
        click.echo(_render(outcome.payload, output), nl=False)
        if not outcome.ok:
            sys.exit(1)
    finally:
        gh.close()


def _render(payload: dict[str, Any], output: str) -> str:
    if output == "json":
        return envelope.dumps(payload).decode() + "\n"
    if output == "jsonpretty":
        pretty = json.dumps(
            payload, indent=3, separators=(",", " : "), sort_keys=True, ensure_ascii=False
        )
        try:
            pretty.encode()
        except UnicodeEncodeError:  # a lone surrogate echoed back: JSON's escapes, as `json`
            pretty = json.dumps(payload, indent=3, separators=(",", " : "), sort_keys=True)
        return pretty + "\n"
    return yaml.safe_dump(payload, explicit_start=True, sort_keys=True, allow_unicode=True)


@main.command()
@click.argument("user")
@click.option("--password-stdin", is_flag=True, help="Read the new password from stdin.")
@click.pass_obj
def passwd(obj: Context, user: str, password_stdin: bool) -> None:
    """Set USER's password (prompted, or from stdin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"New password for {user}: ")
        if getpass.getpass("Again: ") != password:
            raise click.ClickException("the passwords differ")
    try:
        check_password(password)
    except GatehouseError as exc:
        raise click.ClickException(exc.reason) from exc
    gh = obj.gatehouse()
    try:
        with gh.engine.begin() as conn:
            target = users.get(conn, user)
            if target is None:
                raise click.ClickException(f"The user “{user}” does not exist.")
            try:
                password_policy.require_strength(conn, password_policy.PASSWD, password)
            except GatehouseError as exc:
                raise click.ClickException(exc.reason) from exc
            users.set_password_hash(conn, target.id, hash_password(password))
            audit.record(
                conn, now=gh.now(), action=audit.PASSWORD_CHANGE, actor="cli", subject=user
            )
        click.echo(f"Password changed for {user}.")
    finally:
        gh.close()


@main.group("audit", invoke_without_command=True)
@click.option("--since", default=None, help="Unix time or ISO date/time (UTC if no zone).")
@click.option("--until", default=None, help="Unix time or ISO date/time (UTC if no zone).")
@click.option("--user", default=None, help="Only entries by or about this user.")
@click.option("--action", default=None, help="Only this action (e.g. AUTHFAILURE).")
@click.option("--token", "token_name", default=None, help="Only entries naming this token.")
@click.option("--ip", default=None, help="Only entries from this address.")
@click.option("--reason", default=None, help="Only this reason code (e.g. token_expired).")
@click.option("--limit", type=int, default=1000, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_context
def audit_cmd(
    ctx: click.Context,
    since: str | None,
    until: str | None,
    user: str | None,
    action: str | None,
    token_name: str | None,
    ip: str | None,
    reason: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """Show the audit trail: token changes and refused authentications (`repeats`: identical
    refusals within a minute, kept as one row)."""
    if ctx.invoked_subcommand is not None:
        return
    obj: Context = ctx.obj
    since_ts = _parse_since(since) if since else None
    gh = obj.gatehouse()
    try:
        with gh.engine.connect() as conn:
            entries = audit.query(
                conn,
                since=since_ts,
                until=_parse_since(until) if until else None,
                user=user,
                action=action,
                token_name=token_name,
                source_ip=ip,
                reason=reason,
                limit=limit,
            )
    finally:
        gh.close()
    if as_json:
        for e in entries:
            click.echo(json.dumps({k: getattr(e, k) for k in e.__slots__}, sort_keys=True))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(
        "time", "action", "reason", "actor", "subject", "source ip", "token", "detail", "×"
    )
    for e in entries:
        when = dt.datetime.fromtimestamp(e.time, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
        table.add_row(
            when,
            e.action,
            e.reason,
            e.actor or "",
            e.subject or "",
            e.source_ip or "",
            e.token_name or "",
            e.detail or "",
            str(e.repeats),
        )
    Console(width=160).print(table)


@audit_cmd.command("purge")
@click.option(
    "--older-than-days",
    type=click.IntRange(min=1),
    default=None,
    help="Default: GATEHOUSE_AUDIT_RETENTION_DAYS (90).",
)
@click.pass_obj
def audit_purge(obj: Context, older_than_days: int | None) -> None:
    """Delete audit rows older than the retention (and cPHulk's expired history)."""
    days = older_than_days or obj.config.audit_retention_days
    if days <= 0:
        raise click.ClickException(
            "GATEHOUSE_AUDIT_RETENTION_DAYS is 0 (keep for ever): give --older-than-days."
        )
    gh = obj.gatehouse()
    try:
        purged = retention.purge(gh.engine, gh.now(), days)
    finally:
        gh.close()
    click.echo(
        f"Removed {purged.audit_rows} audit rows older than {days} days and "
        f"{purged.cphulk_rows} expired cPHulk records."
    )


def _parse_since(value: str) -> int:
    if digits(value):
        return int(value)
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"not a Unix time or ISO date: {value}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return int(parsed.timestamp())


def _register_migration_commands() -> None:
    from gatehouse.cli.bandwidth import bandwidth_group
    from gatehouse.cli.cluster import cluster_group
    from gatehouse.cli.cphulk import cphulk_group
    from gatehouse.cli.migrate import accesshash_group, import_cpanel
    from gatehouse.cli.notices import notices_group
    from gatehouse.cli.ssl import ssl_group
    from gatehouse.cli.tokens import tokens_group
    from gatehouse.cli.zones import zones_group

    main.add_command(accesshash_group)
    main.add_command(import_cpanel)
    main.add_command(zones_group)
    main.add_command(bandwidth_group)
    main.add_command(cphulk_group)
    main.add_command(cluster_group)
    main.add_command(ssl_group)
    main.add_command(tokens_group)
    main.add_command(notices_group)


_register_migration_commands()
