"""`gatehouse ssl autossl`: an AutoSSL check now, in the foreground, with a line per domain
(docs/ssl.md#autossl)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from gatehouse.domain import autossl, users

if TYPE_CHECKING:
    from gatehouse.cli import Context


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
