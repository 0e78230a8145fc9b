"""`gatehouse bandwidth import`: total a web server's access logs per domain and month and
report them to gatehouse (WHM `showbw` then shows them; docs/api.md "Bandwidth").

Each total goes through the gatehouse extension `gatehouse_report_bandwidth`, run locally as
root like `gatehouse whmapi1`, so the command and the API record bandwidth the same way. A
report adds to what is there: import each log once (after rotation, say)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from gatehouse.cli.local_root import root_principal, run_as_root
from gatehouse.domain import access_logs

if TYPE_CHECKING:
    from gatehouse.cli import Context

REPORT = "gatehouse_report_bandwidth"


@click.group("bandwidth")
def bandwidth_group() -> None:
    """Bandwidth used by the accounts' domains (WHM showbw)."""


@bandwidth_group.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--domain",
    default=None,
    help="Every line is this domain's (a Common/Combined log of one site, as cPanel's "
    "domlogs/DOMAIN); else each line must start with its virtual host (vhost_combined).",
)
@click.pass_obj
def import_logs(obj: Context, files: tuple[str, ...], domain: str | None) -> None:
    """Add the bytes served in access log FILES ("-": standard input) to their domains' months.
    Domains that are no account's are skipped and listed."""
    totals = access_logs.Totals()
    for name in files:
        if name == "-":
            access_logs.total(sys.stdin, domain=domain, into=totals)
            continue
        with Path(name).open(encoding="utf-8", errors="replace") as lines:
            access_logs.total(lines, domain=domain, into=totals)
    gh = obj.gatehouse()
    failed = 0
    try:
        principal = root_principal(gh)
        for (host, year, month), nbytes in sorted(totals.bytes.items()):
            pairs = [
                ("domain", host),
                ("bytes", str(nbytes)),
                ("month", str(month)),
                ("year", str(year)),
            ]
            outcome = run_as_root(gh, principal, REPORT, pairs)
            payload = outcome.payload
            if outcome.ok:
                data = payload.get("data") or {}
                click.echo(
                    f"{host} {year}-{month:02d}: +{nbytes} bytes "
                    f"(account {data.get('user')}, month total {data.get('bytes')})"
                )
            else:
                reason = (payload.get("metadata") or {}).get("reason")
                click.echo(
                    f"skipped {host} {year}-{month:02d} ({nbytes} bytes): {reason}", err=True
                )
                if not str(reason).startswith("No account on this server has the domain"):
                    failed += 1
    finally:
        gh.close()
    if totals.unreadable or totals.without_domain:
        click.echo(
            f"{totals.unreadable} line(s) in no known format, {totals.without_domain} without "
            "a virtual host (give --domain for a log of one site)",
            err=True,
        )
    click.echo(f"{totals.lines} line(s) read, {len(totals.bytes)} domain-month total(s)")
    if failed:
        raise click.ClickException(f"{failed} report(s) failed: see the messages above")
