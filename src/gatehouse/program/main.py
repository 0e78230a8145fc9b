"""The `gatehouse` command: the command-line face's commands, with the API faces loaded, plus
`serve`, which starts every face."""

from __future__ import annotations

import click

from gatehouse import config as config_mod
from gatehouse.cli import Context
from gatehouse.cli import main as cli
from gatehouse.program import load_faces
from gatehouse.store import migrate


@click.command()
@click.option("--bind", default=None, help="Listen address (default 127.0.0.1).")
@click.option("--http-port", type=int, default=None, help="Plain HTTP port (default 2086).")
@click.option("--https-port", type=int, default=None, help="HTTPS port (default 2087).")
@click.option("--tls-cert", type=click.Path(dir_okay=False), default=None)
@click.option("--tls-key", type=click.Path(dir_okay=False), default=None)
@click.option(
    "--cpanel-http-port", type=int, default=None, help="Plain HTTP cPanel port (default 2082)."
)
@click.option(
    "--cpanel-https-port", type=int, default=None, help="HTTPS cPanel port (default 2083)."
)
@click.option(
    "--dns-port",
    type=int,
    default=None,
    help="Serve the zones over DNS (UDP and TCP) on this port (default: no nameserver).",
)
@click.option("--dns-bind", default=None, help="Nameserver listen address (default 127.0.0.1).")
@click.option(
    "--workers",
    type=int,
    default=None,
    help="Processes serving the HTTP ports (default: one per usable core; GATEHOUSE_WORKERS).",
)
@click.pass_obj
def serve(
    obj: Context,
    bind: str | None,
    http_port: int | None,
    https_port: int | None,
    tls_cert: str | None,
    tls_key: str | None,
    cpanel_http_port: int | None,
    cpanel_https_port: int | None,
    dns_port: int | None,
    dns_bind: str | None,
    workers: int | None,
) -> None:
    """Serve WHM (2086, 2087), cPanel (2082, 2083) and, with --dns-port, DNS; one worker
    process per core unless --workers says otherwise."""
    from gatehouse.program import workers as worker_processes
    from gatehouse.program.server import ListenError
    from gatehouse.program.server import serve as run

    config = config_mod.from_environment(
        data_dir=obj.config.data_dir,
        database_url=obj.config.database_url,
        bind=bind,
        http_port=http_port,
        https_port=https_port,
        tls_cert=tls_cert,
        tls_key=tls_key,
        cpanel_http_port=cpanel_http_port,
        cpanel_https_port=cpanel_https_port,
        dns_port=dns_port,
        dns_bind=dns_bind,
        workers=workers,
    )
    if config.workers < 0:
        raise click.ClickException("GATEHOUSE_WORKERS (--workers) must be 0 or more.")
    count = worker_processes.worker_count(config)
    try:
        if count > 1:
            worker_processes.serve_workers(config, count)
        else:
            run(config)
    except (migrate.SchemaTooNew, migrate.MigrationBlocked, ListenError) as exc:
        # An operator's to fix: said in one line, without a traceback.
        raise click.ClickException(str(exc)) from None


cli.add_command(serve)
load_faces()
main = cli
