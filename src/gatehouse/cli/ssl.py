"""`gatehouse ssl`: `list` (the installed certificates), `install` (a certificate, its key and
CA bundle from files) — WHM API 1 fetch_ssl_vhosts and installssl run as root, so the checks,
wording and audit are the API's (docs/ssl.md) — and `autossl`, an AutoSSL check now, in the
foreground, with a line per domain (docs/ssl.md#autossl)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from gatehouse.cli.local_root import whm_data
from gatehouse.domain import autossl, users

if TYPE_CHECKING:
    from gatehouse.cli import Context
    from gatehouse.core import Gatehouse


@click.group("ssl")
def ssl_group() -> None:
    """Certificates (docs/ssl.md)."""


@ssl_group.command("autossl")
@click.option(
    "--user",
    "usernames",
    multiple=True,
    metavar="USER",
    help="Check only this account's domains (repeatable); default: every account.",
)
@click.pass_obj
def autossl_command(obj: Context, usernames: tuple[str, ...]) -> None:
    """Run an AutoSSL check now, in this process: every domain of the accounts without a
    good certificate gets one from the ACME CA (GATEHOUSE_AUTOSSL_DIRECTORY), domains in
    their backoff after a failure included. Exits 1 if a domain could not be secured, 2 if
    AutoSSL is not configured, 3 if another process is checking now."""
    gh = obj.gatehouse()
    try:
        if not autossl.configured(gh.config):
            click.echo(autossl.NOT_CONFIGURED, err=True)
            raise SystemExit(2)
        wanted: set[int] | None = None
        if usernames:
            wanted = set()
            with gh.engine.connect() as conn:
                for name in usernames:
                    account = users.get(conn, name)
                    if account is None or not account.has_cpanel_account:
                        click.echo(f"No cPanel account is named “{name}”.", err=True)
                        raise SystemExit(2)
                    wanted.add(account.id)

        def progress(domain: str, what: str) -> None:
            click.echo(f"{domain}: {what}")

        provider = autossl.AutoSsl(
            gh.engine,
            gh.keyring,
            gh.config,
            gh.clock,
            zones_changed=gh.zone_publisher.sync_after_change,
            certificates_changed=gh.ssl_publisher.publish,
            progress=progress,
        )
        report = provider.run_now(wanted)
        if report is None:
            click.echo(
                "Another process is running an AutoSSL check now (it holds the lease); "
                "try again when it has finished.",
                err=True,
            )
            raise SystemExit(3)
        gh.ssl_publisher.wait(gh.config.zone_command_timeout + 5)
    finally:
        gh.close()
    click.echo(
        f"{report.domains} domain(s): {report.covered} covered, {len(report.installed)} "
        f"installed, {len(report.failed)} with a problem, {report.waiting} waiting"
    )
    if report.failed:
        raise SystemExit(1)


MAX_FILE = 1024 * 1024  # far above any PEM installssl accepts (64 KB a field)
EXPIRING_DAYS = 30


@ssl_group.command("list")
@click.option("--user", "username", default=None, metavar="USER", help="Only this account's.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_obj
def list_command(obj: Context, username: str | None, as_json: bool) -> None:
    """The installed certificates: domain, account, issuer, expiry with the days left (those
    expiring within 30 days and expired ones marked), and the names each covers."""
    gh = obj.gatehouse()
    now = gh.now()
    if username and not _is_account(gh, username):
        gh.close()
        raise click.ClickException(f"No cPanel account is named “{username}”.")
    # What is installed is fetch_ssl_vhosts' (listcrts lists root's own SSL storage).
    data = whm_data(gh, "fetch_ssl_vhosts", [])
    vhosts = [v for v in data["vhosts"] if not username or v["user"] == username]
    rows = sorted(vhosts, key=lambda v: str(v["servername"]))
    if as_json:
        for c in rows:
            click.echo(json.dumps(_json_row(c, now), sort_keys=True))
        return
    if not rows:
        click.echo("No certificate is installed.")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("domain", "account", "issuer", "expires", "days left", "names")
    for c in rows:
        item = _json_row(c, now)
        days = item["days_left"]
        style = "red" if days < 0 else "yellow" if days < EXPIRING_DAYS else None
        left = "expired" if days < 0 else str(days)
        table.add_row(
            item["domain"],
            item["user"],
            item["issuer"] + (" (self-signed)" if item["self_signed"] else ""),
            item["expires"],
            left,
            ", ".join(item["names"]),
            style=style,
        )
    Console(width=160).print(table)


def _is_account(gh: Gatehouse, name: str) -> bool:
    try:
        with gh.engine.connect() as conn:
            account = users.get(conn, name)
    except BaseException:
        gh.close()
        raise
    return account is not None and account.has_cpanel_account


def _json_row(vhost: dict[str, Any], now: int) -> dict[str, Any]:
    c = vhost["crt"]
    not_after = int(c["not_after"])
    return {
        "domain": vhost["servername"],
        "user": vhost["user"],
        "issuer": c.get("issuer.organizationName") or c.get("issuer.commonName") or "",
        "self_signed": bool(c.get("is_self_signed")),
        "not_after": not_after,
        "expires": dt.datetime.fromtimestamp(not_after, dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "days_left": (not_after - now) // 86400 if not_after > now else -1,
        "names": list(c.get("domains") or []),
        "id": c.get("id"),
    }


def _read(path: Path, what: str) -> str:
    try:
        with path.open("rb") as f:
            data = f.read(MAX_FILE + 1)
    except OSError as exc:
        raise click.ClickException(f"Cannot read the {what} file {path}: {exc.strerror}.") from None
    if len(data) > MAX_FILE:
        raise click.ClickException(f"The {what} file {path} is larger than 1 MB: not a PEM file.")
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        raise click.ClickException(f"The {what} file {path} is not a PEM text file.") from None


FILE = click.Path(dir_okay=False, path_type=Path)


@ssl_group.command("install")
@click.argument("domain")
@click.option("--cert", "cert", type=FILE, required=True, help="The certificate (PEM).")
@click.option("--key", "key", type=FILE, required=True, help="Its private key (PEM).")
@click.option("--cabundle", type=FILE, default=None, help="The CA bundle (PEM), optional.")
@click.pass_obj
def install_command(
    obj: Context, domain: str, cert: Path, key: Path, cabundle: Path | None
) -> None:
    """Install the certificate in FILE on DOMAIN (an account's main domain or subdomain), as
    WHM API 1 installssl does: checked (key, names, dates, chain), stored with the key
    encrypted, written for the web server, and the reload command run. Exit 1 when refused."""
    pairs = [("domain", domain), ("crt", _read(cert, "certificate")), ("key", _read(key, "key"))]
    if cabundle is not None:
        pairs.append(("cab", _read(cabundle, "CA bundle")))
    data = whm_data(obj.gatehouse(), "installssl", pairs)
    click.echo(f"installed on {data['domain']} (account {data['user']})")
