"""The `refurb` command: serve, db, user, token, organisation, station, programme, households, demo."""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click
from pydantic import ValidationError

from refurb.settings import EVERY_ADDRESS, ConfigError, Settings, served_base_url

T = TypeVar("T")


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        problems = "; ".join(
            f"REFURB_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in error.errors()
        )
        raise click.ClickException(f"bad configuration: {problems}") from None


def _missing_folder(settings: Settings) -> click.ClickException | None:
    """The refusal for a SQLite file whose folder does not exist (only upgrade, serve and demo make it)."""
    path = settings.database.sqlite_path
    folder = path.parent.absolute() if path else None
    if folder is None or folder.is_dir():
        return None
    return click.ClickException(
        f"the SQLite database {settings.database.redacted} cannot be opened: "
        f"its folder {folder} does not exist (`refurb db upgrade` creates it)"
    )


def _run(settings: Settings, work: Callable[[], Awaitable[T]], *, creates: bool = False) -> T:
    """Point the tables at the configured database and run `work`, reporting refusals plainly.

    `creates`: the command makes the SQLite file and its folder; others refuse
    a missing folder before opening anything (a typo must not create one).
    """
    from refurb.core.errors import DomainError
    from refurb.db import MigrationError, engine_for, use_engine
    from refurb.wiring import wire

    missing = None if creates else _missing_folder(settings)
    if missing is not None:
        raise missing
    wire()
    use_engine(engine_for(settings.database))
    try:
        return asyncio.run(work())
    except DomainError as error:
        raise click.ClickException(f"{error} [{error.code}]") from None
    except (ConfigError, MigrationError) as error:
        raise click.ClickException(str(error)) from None
    except OSError as error:
        raise click.ClickException(
            f"cannot reach the database {settings.database.redacted}: {error}"
        ) from None
    except sqlite3.OperationalError:
        missing = _missing_folder(settings)  # removed while running
        if missing is None:
            raise
        raise missing from None


@click.group()
@click.version_option(package_name="refurb")
def cli() -> None:
    """Refurb: donated computers tracked from donor to household, a label at every stage."""


# --- serve -------------------------------------------------------------------


def _check_port_free(host: str, port: int) -> None:
    """Say the port is taken before printing a URL and logins that would not work."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise click.ClickException(
                f"cannot listen on {host}:{port} ({error.strerror or error}): "
                "another program uses it; stop it or choose another --port"
            ) from None


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--demo", is_flag=True, help="Load the demo data first and print the demo logins.")
@click.option("--workers", default=1, show_default=True, type=int, help="Worker processes.")
def serve(host: str, port: int, demo: bool, workers: int) -> None:
    """Run the web service.

    On the embedded SQLite default the database is created and upgraded here;
    on PostgreSQL, pending migrations stop the start (run `refurb db upgrade`).
    """
    import uvicorn

    from refurb import db

    settings = _settings()
    try:
        secret_key = settings.resolved_secret_key()
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    _check_port_free(host, port)

    async def prepare() -> list[Any]:
        if settings.database.engine == "sqlite":
            for migration in await db.upgrade():
                click.echo(f"applied migration {migration}")
        else:
            pending = (await db.migration_status()).pending
            if pending:
                raise click.ClickException(
                    f"{len(pending)} migration(s) pending on {settings.database.redacted}: "
                    "run `refurb db upgrade` first"
                )
        if demo:
            from refurb.demo import load_demo
            from refurb.workshop import licence_keys

            licence_keys.configure(settings)
            return await load_demo(secret_key)
        return []

    logins = _run(settings, prepare, creates=True)
    served = served_base_url(host, port)
    click.echo(f"\nRefurb is starting at {served}/  (database: {settings.database.redacted})")
    if "base_url" not in settings.model_fields_set:
        # The app (each worker) reads its settings from the environment: links and QR codes use this port.
        os.environ["REFURB_BASE_URL"] = served
        if host in EVERY_ADDRESS:
            click.echo(
                f"QR codes on labels point to {served}, which only this computer opens: "
                "set REFURB_BASE_URL to the address phones and other computers use."
            )
    if logins:
        _print_logins(logins)
    uvicorn.run(
        "refurb.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        # an X-Forwarded-For is believed only from the configured proxies (none by default)
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or None,
        log_level="info",
    )


def _print_logins(logins: list[Any]) -> None:
    click.echo("Demo logins (username / password / role):")
    for login in logins:
        click.echo(f"  {login.username:<12} {login.password:<16} {login.role.value:<12} {login.organisation}")


# --- db ----------------------------------------------------------------------


@cli.group("db")
def db_group() -> None:
    """Database migrations."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    from refurb import db

    settings = _settings()
    applied = _run(settings, db.upgrade, creates=True)
    for migration in applied:
        click.echo(f"applied migration {migration}")
    click.echo(f"database {settings.database.redacted} is up to date ({len(applied)} applied now)")


@db_group.command("status")
def db_status() -> None:
    """List applied and pending migrations; exits 1 when some are pending."""
    from refurb import db

    settings = _settings()
    status = _run(settings, db.migration_status)
    for migration in status.applied:
        click.echo(f"applied  {migration}")
    for migration in status.pending:
        click.echo(f"pending  {migration}")
    if status.pending:
        click.echo(f"{len(status.pending)} pending: run `refurb db upgrade`")
        sys.exit(1)
    click.echo("up to date")


# --- people ------------------------------------------------------------------


@cli.group()
def organisation() -> None:
    """Organisations."""


@organisation.command("create")
@click.option("--name", required=True)
@click.option(
    "--kind",
    required=True,
    type=click.Choice(["donor", "workshop", "distributor", "coordinator", "recycler", "operator"]),
)
@click.option("--siret", default=None, help="14-digit SIRET, checked.")
def organisation_create(name: str, kind: str, siret: str | None) -> None:
    """Create an organisation."""
    from refurb.accounts import service

    _run(_settings(), lambda: service.create_organisation(name, kind, siret))
    click.echo(f"organisation {name!r} created")


@cli.group()
def user() -> None:
    """Users."""


@user.command("create")
@click.option("--username", required=True)
@click.option(
    "--role",
    required=True,
    type=click.Choice(
        ["admin", "coordinator", "donor", "technician", "supervisor", "driver", "bus_staff", "auditor"]
    ),
)
@click.option("--organisation", required=True, help="Name of an existing organisation.")
@click.option("--password", default=None, help="At least 10 characters; generated and printed when omitted.")
@click.option("--display-name", default="", help="Shown in histories.")
def user_create(username: str, role: str, organisation: str, password: str | None, display_name: str) -> None:
    """Create a user in an organisation."""
    from refurb.accounts import service

    _, generated = _run(
        _settings(),
        lambda: service.create_user(
            username, role, organisation, password=password, display_name=display_name
        ),
    )
    click.echo(f"user {username!r} created")
    if generated:
        click.echo(f"password: {generated}")


@user.command("password")
@click.option("--username", required=True)
@click.password_option()
def user_password(username: str, password: str) -> None:
    """Set a user's password (and end their sessions)."""
    from refurb.accounts import service

    _run(_settings(), lambda: service.set_password(username, password))
    click.echo(f"password of {username!r} changed")


@user.command("disable")
@click.option("--username", required=True)
def user_disable(username: str) -> None:
    """Disable a user: their sessions end and their tokens stop working."""
    from refurb.accounts import service

    _run(_settings(), lambda: service.set_active(username, False))
    click.echo(f"user {username!r} disabled")


@user.command("enable")
@click.option("--username", required=True)
def user_enable(username: str) -> None:
    """Enable a disabled user again."""
    from refurb.accounts import service

    _run(_settings(), lambda: service.set_active(username, True))
    click.echo(f"user {username!r} enabled")


@cli.group()
def token() -> None:
    """API bearer tokens."""


@token.command("create")
@click.option("--username", required=True)
@click.option("--name", default="", help="What the token is for.")
@click.option(
    "--scope",
    type=click.Choice(["erasure-reports"]),
    default=None,
    help="Limit it: erasure-reports = only sending wiping reports (for a ShredOS boot line).",
)
def token_create(username: str, name: str, scope: str | None) -> None:
    """Print a new bearer token for a user; it is shown only this once."""
    from refurb.accounts import service

    click.echo(_run(_settings(), lambda: service.create_token(username, name, scope)))


@token.command("list")
@click.option("--username", required=True)
def token_list(username: str) -> None:
    """List a user's tokens by prefix (the tokens themselves are not stored)."""
    from refurb.accounts import service

    for info in _run(_settings(), lambda: service.list_tokens(username)):
        used = info.last_used_at.isoformat(timespec="seconds") if info.last_used_at else "never"
        state = f"revoked {info.revoked_at.isoformat(timespec='seconds')}" if info.revoked_at else "active"
        click.echo(f"{info.prefix}…  {info.name or '-':<20} last used {used:<25} {state}")


@token.command("revoke")
@click.option("--username", required=True)
@click.option(
    "--prefix", default=None, help="The first 12 characters shown by `token list`; all tokens if omitted."
)
def token_revoke(username: str, prefix: str | None) -> None:
    """Revoke tokens; they stop working at once."""
    from refurb.accounts import service

    count = _run(_settings(), lambda: service.revoke_tokens(username, prefix))
    click.echo(f"{count} token(s) revoked")


@cli.command("signing-key")
def signing_key() -> None:
    """Print a new Ed25519 key for REFURB_SIGNING_KEY, and its public half for retiring it later."""
    import base64

    from refurb.erasure.signing import SigningKey

    key = SigningKey.generate()
    click.echo(f"REFURB_SIGNING_KEY={key.to_text()}")
    click.echo(f"# key id {key.key_id}; public key (for REFURB_SIGNING_KEYS_RETIRED once replaced):")
    click.echo(f"# {base64.urlsafe_b64encode(key.public.raw).decode().rstrip('=')}")


@cli.command("licence-key")
def licence_key() -> None:
    """Print a new Fernet key for REFURB_LICENCE_KEY (it encrypts licence product keys at rest)."""
    from cryptography.fernet import Fernet

    click.echo(f"REFURB_LICENCE_KEY={Fernet.generate_key().decode()}")
    click.echo("# keep it with the database backups: keys imported with it cannot be read without it")


@cli.group()
def station() -> None:
    """Scanning stations."""


@station.command("create")
@click.option("--name", required=True)
@click.option(
    "--stage",
    required=True,
    type=click.Choice(["reception", "erasure", "workshop", "licensing", "stock", "loading", "handover"]),
)
@click.option("--site", default=None, help="L code of the site.")
def station_create(name: str, stage: str, site: str | None) -> None:
    """Create a station; prints its S code."""
    from refurb.stations import service
    from refurb.stock import service as stock

    async def create() -> Any:
        site_id = (await stock.get_location(site)).id if site else None
        return await service.create_station(name, stage, site_id=site_id)

    created = _run(_settings(), create)
    click.echo(f"station {created.display_code} ({created.name}, {created.stage.value}) created")


@station.command("set-printer")
@click.option("--station", "station_code", required=True, help="S code of the station.")
@click.option("--printer", default=None, help="Printer name; omit to remove the station's printer.")
def station_set_printer(station_code: str, printer: str | None) -> None:
    """Make a station print its labels on a printer, without a click."""
    from refurb.stations import service

    updated = _run(_settings(), lambda: service.set_printer(station_code, printer))
    click.echo(f"station {updated.display_code} prints on {updated.printer or 'nothing (PDF from the page)'}")


@cli.group()
def printer() -> None:
    """Label printers."""


@printer.command("create")
@click.option("--name", required=True)
@click.option("--driver", required=True, type=click.Choice(["zpl-tcp", "pdf"]))
@click.option("--host", default=None, help="For zpl-tcp: the printer's address.")
@click.option("--port", default=9100, show_default=True, type=int)
@click.option("--stock", required=True, help="A stock preset name from labels/stock/.")
@click.option("--dpi", default=203, show_default=True, type=click.Choice(["203", "300"]))
def printer_create(name: str, driver: str, host: str | None, port: int, stock: str, dpi: str) -> None:
    """Add a printer."""
    from refurb.printing import service
    from refurb.printing.schemas import PrinterIn

    data = PrinterIn(name=name, driver=driver, host=host, port=port, stock=stock, dpi=int(dpi))  # type: ignore[arg-type]
    created = _run(_settings(), lambda: service.create_printer(data))
    click.echo(f"printer {created.name!r} ({created.driver}, {created.stock}, {created.dpi} dpi) created")


@printer.command("list")
def printer_list() -> None:
    """List printers."""
    from refurb.printing import service

    for item in _run(_settings(), service.list_printers):
        where = f"{item.host}:{item.port}" if item.driver == "zpl-tcp" else "PDF"
        click.echo(f"{item.name:<24} {item.driver:<8} {where:<24} {item.stock:<14} {item.dpi} dpi")


# --- distribution ------------------------------------------------------------


@cli.group()
def programme() -> None:
    """Distribution programmes."""


@programme.command("create")
@click.option(
    "--from-json",
    "from_json",
    type=click.File("rb"),
    default=None,
    help="A programme as the API takes it (QPVs, budget lines, resources, rules); options override it.",
)
@click.option("--name", default=None)
@click.option("--territory", default=None)
@click.option("--starts-on", default=None, help="YYYY-MM-DD")
@click.option("--ends-on", default=None, help="YYYY-MM-DD")
@click.option("--equipment", multiple=True, help="desktop, laptop, tablet, printer, connection (repeat).")
@click.option("--mode", "modes", multiple=True, help="donation, loan, rental (repeat).")
@click.option("--loan-months", type=int, default=None, help="Default loan duration (with --mode loan).")
@click.option("--rental-monthly-cents", type=int, default=None, help="Monthly rent (with --mode rental).")
@click.option("--rental-share", type=int, default=None, help="Percent of the rent the programme pays.")
@click.option("--minimum-grade", type=click.Choice(["A", "B", "C"]), default=None)
@click.option("--qpv", "qpvs", multiple=True, help="CODE=Name of a QPV (repeat).")
def programme_create(from_json: Any, qpvs: tuple[str, ...], **options: Any) -> None:
    """Create a programme; prints its id."""
    import json

    from pydantic import ValidationError as SchemaError

    from refurb.distribution import service
    from refurb.distribution.schemas import ProgrammeIn

    try:
        body: dict[str, Any] = json.load(from_json) if from_json else {}
    except ValueError as error:
        raise click.ClickException(f"--from-json is not JSON: {error}") from None
    if not isinstance(body, dict):
        raise click.ClickException("--from-json must hold one JSON object")
    for name, value in options.items():
        if value not in (None, ()):
            body[name] = list(value) if isinstance(value, tuple) else value
    if qpvs:
        pairs = [q.split("=", 1) for q in qpvs]
        if any(len(pair) != 2 for pair in pairs):
            raise click.ClickException("--qpv is CODE=Name, e.g. --qpv 'QN09301M=Les Courtillières'")
        body["qpvs"] = [{"code": code, "name": name} for code, name in pairs]
    try:
        data = ProgrammeIn.model_validate(body)
    except SchemaError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise click.ClickException(f"bad programme: {problems}") from None
    created = _run(_settings(), lambda: service.create_programme(data, service.Actor(None, "command line")))
    click.echo(f"programme {created.id} ({created.name}) created")


@cli.group()
def households() -> None:
    """Households of the distribution programmes."""


@households.command("purge")
@click.option(
    "--older-than",
    "older_than",
    required=True,
    help="No activity for this long, e.g. 24months, 90days, 2years.",
)
@click.option("--dry-run", is_flag=True, help="Only count the households that would be purged.")
@click.option(
    "--by", "by", default=None, help="Username recorded as the one who purged (default: command line)."
)
def households_purge(older_than: str, dry_run: bool, by: str | None) -> None:
    """Erase the personal data of inactive households; keep pseudonymous statistics and an audit line."""
    from refurb.accounts import service as accounts
    from refurb.distribution import service
    from refurb.distribution.model import cutoff_before
    from refurb.timestamps import utcnow

    async def work() -> Any:
        cutoff = cutoff_before(older_than, utcnow())
        actor = service.Actor(None, "command line")
        if by:
            user_id, _ = await accounts.user_ref(by)
            actor = service.Actor.of(await accounts.principal_for_user(user_id))
        return await service.purge(cutoff, actor, dry_run=dry_run, via="cli")

    result = _run(_settings(), work)
    when = result.cutoff.isoformat(timespec="seconds")
    if result.dry_run:
        click.echo(f"{result.households} household(s) would be purged (no activity since {when})")
    else:
        click.echo(f"{result.households} household(s) purged (no activity since {when}); audit line written")


@households.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True))
@click.option("--programme", "programme_id", required=True, type=int, help="Id of the programme.")
@click.option("--by", "by", required=True, help="Username of the coordinator or referent importing.")
@click.option("--dry-run", is_flag=True, help="Only check the file and print its report.")
@click.option("--valid-only", is_flag=True, help="Import the valid rows (default: all or nothing).")
@click.option(
    "--legal-basis",
    type=click.Choice(["public_interest", "consent"]),
    default=None,
    help="Legal basis of its personal data.",
)
@click.option("--notice-version", default=None, help="Version of the information notice given.")
@click.option("--notice-given-on", default=None, help="When it was given (YYYY-MM-DD; default today).")
@click.option("--referent", default=None, help="Username of the referent of new households (coordinators).")
def households_import(
    file: str, programme_id: int, by: str, dry_run: bool, valid_only: bool, **options: str | None
) -> None:
    """Check or import a referent's census spreadsheet (CSV or XLSX) into a programme's households."""
    import io
    from pathlib import Path

    from refurb.accounts import service as accounts
    from refurb.distribution import census
    from refurb.web.i18n import render_error

    path = Path(file)
    content = path.read_bytes()

    async def work() -> Any:
        user_id, _ = await accounts.user_ref(by)
        principal = await accounts.principal_for_user(user_id)
        given = census.census_options(
            {**options, "dry_run": "true" if dry_run else "false", "mode": "valid_only" if valid_only else ""}
        )
        try:
            handle = io.BytesIO(content)
            return await census.import_census(programme_id, handle, path.name, given, principal), None
        except census.CensusRefused as refused:
            return census.CensusReport.model_validate(refused.extra["report"]), render_error(refused)

    report, refusal = _run(_settings(), work)
    for problem in report.problems:
        where = f"row {problem.row}" + (f", {problem.column}" if problem.column else "")
        click.echo(f"{where}: [{problem.code}] {problem.message}", err=problem.severity == "error")
    click.echo(
        f"{report.rows} row(s): {report.valid} valid, {report.invalid} with errors; {report.created} new, "
        f"{report.updated} updated, {report.unchanged} unchanged, {report.skipped} left as decided "
        f"({report.status})"
    )
    if refusal is not None:
        raise click.ClickException(f"{refusal} [census_has_errors]")


@cli.command()
def demo() -> None:
    """Load the demo data (idempotent) and print the demo logins."""
    from refurb.demo import load_demo

    settings = _settings()

    async def work() -> list[Any]:
        from refurb import db
        from refurb.workshop import licence_keys

        if settings.database.engine == "sqlite":
            await db.upgrade()
        licence_keys.configure(settings)
        return await load_demo(settings.resolved_secret_key())

    _print_logins(_run(settings, work, creates=True))


def main() -> None:
    """Console entry point."""
    cli()


if __name__ == "__main__":
    main()
