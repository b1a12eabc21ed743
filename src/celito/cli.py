"""The `celito` command: serve, db, admin."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from celito.auth.caller import system_caller
from celito.config import DEFAULT_DATA_DIR, Settings
from celito.migrate import upgrade
from celito.runtime import Runtime

app = typer.Typer(help="celitoVoice: a hosted phone system with an open API.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
admin_app = typer.Typer(help="Operate without the portal.", no_args_is_help=True)
cdrs_app = typer.Typer(help="Call detail records.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(admin_app, name="admin")
app.add_typer(cdrs_app, name="cdrs")
console = Console()
T = TypeVar("T")

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", help=f"Data directory (default {DEFAULT_DATA_DIR}).", envvar="CELITO_DATA_DIR"
    ),
]


def _settings(data_dir: Path | None) -> Settings:
    if data_dir is not None:
        os.environ["CELITO_DATA_DIR"] = str(data_dir)
    settings = Settings()
    settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    return settings


def _with_session(settings: Settings, work: Callable[..., Awaitable[T]]) -> T:
    async def run() -> T:
        runtime = Runtime.build(settings)
        try:
            async with runtime.db.writer() as session:
                result = await work(session, runtime)
                await session.commit()
                return result
        finally:
            await runtime.db.dispose()

    return asyncio.run(run())


def _fail(message: str) -> None:
    console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(1)


def _run_service(work: Callable[..., Awaitable[T]], settings: Settings) -> T:
    from celito.errors import CelitoError

    try:
        return _with_session(settings, work)
    except CelitoError as exc:
        _fail(exc.message)
        raise


@db_app.command("upgrade")
def db_upgrade(data_dir: DataDir = None) -> None:
    """Apply all migrations to the database."""
    settings = _settings(data_dir)
    upgrade(settings.resolved_database_url)
    console.print(f"database is at the latest schema: {_safe_url(settings)}")


def _safe_url(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.resolved_database_url).render_as_string(hide_password=True)


def _print_demo(data: dict[str, object], path: Path) -> None:
    table = Table(title="Demo tenant (also in " + str(path) + ")")
    table.add_column("who")
    table.add_column("username")
    table.add_column("password")
    su = data["superuser"]
    assert isinstance(su, dict)
    table.add_row("Super User", su["username"], su["password"])
    for user in data["users"]:  # type: ignore[attr-defined]
        table.add_row(user["scope"], user["username"], user["password"])
    console.print(table)
    console.print(
        f"OAuth client: client_id=[bold]{data['client_id']}[/bold] "
        f"client_secret=[bold]{data['client_secret']}[/bold]"
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    data_dir: DataDir = None,
    demo: Annotated[
        bool, typer.Option("--demo/--no-demo", help="Seed a demo tenant on an empty database.")
    ] = True,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Run the API and its docs (SQLite in the data directory unless CELITO_DATABASE_URL)."""
    import uvicorn

    from celito import seed
    from celito.yealink.lenient import LenientHttpToolsProtocol

    settings = _settings(data_dir)
    console.print(f"database: {_safe_url(settings)}")
    upgrade(settings.resolved_database_url)
    if demo:

        async def maybe_seed(session: AsyncSession, runtime: Runtime) -> dict[str, object] | None:
            if not await seed.is_empty(session):
                return None
            return (await seed.seed_demo(session, runtime)).data

        data = _with_session(settings, maybe_seed)
        path = settings.resolved_data_dir / "demo-credentials.json"
        if data is not None:
            seed.DemoCredentials(data).write(path)
            _print_demo(data, path)
        elif path.exists():
            console.print(f"demo credentials: {path}")
    base = f"http://{host}:{port}"
    console.print(f"API: {base}/ns-api/v2/   docs: {base}/ns-api/apidoc/")
    if not settings.public_url:
        os.environ["CELITO_PUBLIC_URL"] = base
    uvicorn.run(
        "celito.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=False,
        proxy_headers=False,
        # Phones write raw spaces into action URLs; see yealink.lenient.
        http=LenientHttpToolsProtocol,
        # uvicorn's default (5 s) kills and restarts workers that are slow to answer its ping
        # on a busy machine; a restart then competes for SQLite's write lock at start-up.
        timeout_worker_healthcheck=30,
    )


@admin_app.command("create-superuser")
def create_superuser(
    user: Annotated[str, typer.Argument(help="Extension in the `system` domain, e.g. admin2.")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True, hide_input=True, confirmation_prompt=True, envvar="CELITO_PASSWORD"
        ),
    ],
    email: Annotated[str, typer.Option(help="E-mail address.")] = "",
    data_dir: DataDir = None,
) -> None:
    """Create a Super User (login `USER@system`)."""
    from celito import seed

    settings = _settings(data_dir)
    upgrade(settings.resolved_database_url)

    async def work(session: AsyncSession, runtime: Runtime) -> str:
        made = await seed.create_superuser(
            session,
            runtime,
            system_caller(),
            user,
            password,
            email=email,
        )
        return made.uid

    console.print(f"Super User created: {_run_service(work, settings)}")


@admin_app.command("create-client")
def create_client(
    name: Annotated[str, typer.Option(help="What the integration is.")],
    reseller: Annotated[str, typer.Option(help="Owning reseller.")],
    domain: Annotated[str | None, typer.Option(help="Limit to one domain's users.")] = None,
    client_id: Annotated[str | None, typer.Option(help="Chosen client id.")] = None,
    accept_terms_as: Annotated[
        str | None,
        typer.Option(
            help="Record acceptance of the current API terms on behalf of this "
            "person (name or e-mail)."
        ),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Issue an OAuth client; its secret is printed once."""
    from celito import seed

    settings = _settings(data_dir)
    upgrade(settings.resolved_database_url)

    async def work(session: AsyncSession, runtime: Runtime) -> tuple[str, str]:
        return await seed.create_client(
            session,
            runtime,
            system_caller(),
            name=name,
            reseller=reseller,
            domain=domain,
            client_id=client_id,
            accept_terms_as=accept_terms_as,
        )

    cid, secret = _run_service(work, settings)
    console.print(f"client_id={cid}\nclient_secret={secret}  (shown once)")
    if not accept_terms_as:
        console.print(
            "The client gets no token until its terms are accepted "
            "(POST /ns-api/tos/accept, or --accept-terms-as)."
        )


@admin_app.command("enable-api")
def enable_api(
    domain: Annotated[str | None, typer.Option(help="Domain to enable.")] = None,
    reseller: Annotated[
        str | None, typer.Option(help="Reseller to enable (all its domains).")
    ] = None,
    disable: Annotated[bool, typer.Option("--disable", help="Turn API access off.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Turn API access on (or off) for a domain or a reseller."""
    from celito import seed

    if not domain and not reseller:
        _fail("name a --domain or a --reseller")
    settings = _settings(data_dir)
    upgrade(settings.resolved_database_url)

    async def work(session: AsyncSession, runtime: Runtime) -> None:
        await seed.enable_api(
            session,
            system_caller(),
            domain=domain,
            reseller=reseller,
            enabled=not disable,
        )

    _run_service(work, settings)
    console.print(
        f"API access {'disabled' if disable else 'enabled'} for "
        f"{domain or ''}{' ' if domain and reseller else ''}{reseller or ''}"
    )


@cdrs_app.command("import")
def cdrs_import(
    path: Annotated[
        Path,
        typer.Argument(
            help="A .jsonl (or .ndjson) file, one CDR a line, or a .csv file with a header; "
            "fields named as in the API's CDRs (the API's CSV export reads back as it is).",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ],
    batch: Annotated[int, typer.Option(min=1, max=50_000, help="CDRs per transaction.")] = 5000,
    streams: Annotated[
        int | None,
        typer.Option(
            min=1, max=8, help="Transactions in flight (default 2 on PostgreSQL, 1 on SQLite)."
        ),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Load CDRs from a file (another system's history, a re-sent batch).

    Rows already stored (same `id`) are skipped, so running an import again is harmless.
    Rows that cannot be stored are listed with their line numbers and the rest go in; the exit
    code is then 1.
    """
    from rich.progress import MofNCompleteColumn, Progress, TimeRemainingColumn

    from celito.cdrs import imports

    try:
        rows = imports.read_rows(path)
    except ValueError as exc:
        _fail(str(exc))
    settings = _settings(data_dir)
    upgrade(settings.resolved_database_url)
    with path.open("rb") as counting:
        lines = sum(1 for _ in counting)

    async def run(progress: Progress, task: object) -> imports.LoadResult:
        runtime = Runtime.build(settings)

        def advance(total: imports.LoadResult) -> None:
            progress.update(task, completed=total.received)  # type: ignore[arg-type]

        try:
            return await imports.ingest_batches(
                runtime.db,
                imports.batched(rows, batch),
                streams=streams,
                on_batch=advance,
                audit_as=(system_caller(), path.name),
            )
        finally:
            await runtime.db.dispose()

    columns = (*Progress.get_default_columns()[:-1], MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(f"importing {path.name}", total=lines)
        try:
            result = asyncio.run(run(progress, task))
        except (OSError, UnicodeDecodeError) as exc:
            _fail(f"{path.name}: {exc}")
            raise
    console.print(
        f"{result.received:,} CDRs read: {result.inserted:,} stored, "
        f"{result.duplicates:,} already there, {len(result.rejected):,} refused"
    )
    if result.rejected:
        for number, reason in result.rejected[:20]:
            console.print(f"  line {number}: {reason}")
        if len(result.rejected) > 20:
            console.print(f"  … and {len(result.rejected) - 20:,} more")
        raise typer.Exit(1)


def main() -> None:
    app()
