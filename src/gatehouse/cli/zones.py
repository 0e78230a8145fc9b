"""`gatehouse zones write`: the zone directory made equal to the store, now (docs/zonefiles.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from gatehouse.cli import Context


@click.group("zones")
def zones_group() -> None:
    """Zone files for an external nameserver (BIND, PowerDNS, Knot, NSD)."""


@zones_group.command("write")
@click.option(
    "--reload",
    "reload_all",
    is_flag=True,
    help="Also run the reconfig command, and the reload command for every zone, changed or not.",
)
@click.pass_obj
def write(obj: Context, reload_all: bool) -> None:
    """Write every zone to <zone dir>/<zone>.db and the named.conf.zones include, compare
    each file with the store (restoring files edited or deleted by hand), remove the files
    of zones that are gone, and run the reload and reconfig commands for what changed."""
    gh = obj.gatehouse()
    try:
        publisher = gh.zone_publisher
        failures_before = publisher.commands.failures
        report = publisher.sync(full=True)
        if reload_all:
            publisher.announce_all()
        publisher.commands.wait()  # each command is bounded by GATEHOUSE_ZONE_COMMAND_TIMEOUT
        failed_commands = publisher.commands.failures - failures_before
    finally:
        gh.close()
    for path in report.written:
        click.echo(f"wrote {path}")
    for path in report.removed:
        click.echo(f"removed {path}")
    if report.include_written:
        click.echo(f"wrote {report.include_written}")
    for name in report.refused:
        click.echo(f"skipped the zone {name!r}: not a safe file name", err=True)
    for error in report.errors:
        click.echo(f"error: {error}", err=True)
    if failed_commands:
        click.echo(
            f"{failed_commands} reload/reconfig command(s) failed: see the messages above",
            err=True,
        )
    click.echo(
        f"{report.zones} zone(s) in {publisher.directory}: {len(report.written)} written, "
        f"{len(report.removed)} removed"
    )
    if report.refused or report.errors or failed_commands:
        raise SystemExit(1)
