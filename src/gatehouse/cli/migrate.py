"""Leaving the Remote Access Key and leaving cPanel: `gatehouse accesshash convert-to-token`
and `gatehouse import-cpanel`."""

from __future__ import annotations

from pathlib import Path

import click

from gatehouse.domain import accesshash, audit, importer, users


@click.group("accesshash")
def accesshash_group() -> None:
    """The deprecated Remote Access Key."""


@accesshash_group.command("convert-to-token")
@click.option("--all-resellers", is_flag=True, help="Also every reseller with a key.")
@click.argument("names", nargs=-1)
@click.pass_obj
def convert_to_token(obj: object, all_resellers: bool, names: tuple[str, ...]) -> None:
    """Give each USER's access key a full-access API token with the same string (root if no
    USER is named), so scripts keep working once access keys are switched off."""
    gh = obj.gatehouse()  # type: ignore[attr-defined]
    messages: list[str] = []
    try:
        with gh.engine.begin() as conn:
            wanted = list(names) or ([] if all_resellers else [users.ROOT])
            if all_resellers:
                wanted += [n for n in users.list_resellers(conn) if n not in wanted]
            # Every name is checked before anything changes: one unknown name must not undo
            # conversions already reported as made.
            found = []
            for name in wanted:
                user = users.get(conn, name)
                if user is None:
                    raise click.ClickException(f"The user “{name}” does not exist.")
                found.append(user)
            now = gh.now()
            for user in found:
                name = user.username
                result = accesshash.convert_to_token(conn, user, now)
                if result is None:
                    messages.append(f"{name}: no access key; nothing to convert.")
                    continue
                token_name, created = result
                if not created:
                    messages.append(f"{name}: already converted (token “{token_name}”).")
                    continue
                audit.record(
                    conn,
                    now=now,
                    action=audit.ACCESSHASH_CONVERT,
                    actor="cli",
                    subject=name,
                    token_name=token_name,
                )
                messages.append(f"{name}: created API token “{token_name}” from the access key.")
    finally:
        gh.close()
    # Reported once committed, so nothing is announced that did not happen.
    for message in messages:
        click.echo(message)


@click.command("import-cpanel")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show what would change; change nothing.")
@click.pass_obj
def import_cpanel(obj: object, path: Path, dry_run: bool) -> None:
    """Import resellers, Remote Access Keys and API tokens from a copy of a cPanel server's
    files under PATH (root/.accesshash, home/*/.accesshash, var/cpanel/resellers,
    var/cpanel/authn/api_tokens_v2/{whostmgr,cpanel}/*.json)."""
    from rich.progress import Progress

    plan = importer.read_tree(path)
    gh = obj.gatehouse()  # type: ignore[attr-defined]
    try:
        total = len(plan.resellers) + len(plan.keys) + len(plan.tokens)
        with gh.engine.connect() as conn, conn.begin() as tx:
            with Progress(transient=True, disable=total < 200) as bar:
                task = bar.add_task("importing", total=total)
                counts = importer.apply(
                    conn, plan, gh.keyring, gh.now(), progress=lambda: bar.advance(task)
                )
            if dry_run:
                tx.rollback()
    finally:
        gh.close()
    for file, problem in plan.problems:
        click.echo(f"skipped {file}: {problem}", err=True)
    for note in plan.notes:
        click.echo(f"note: {note}", err=True)
    verb = "would change" if dry_run else "done"
    summary = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "nothing to import"
    click.echo(f"{verb} — {plan.files} files read, {len(plan.problems)} skipped; {summary}")
    if plan.problems:
        raise SystemExit(1)
