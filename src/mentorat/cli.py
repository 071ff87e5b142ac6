"""The `mentorat` command: serve, workers, migrate, demo data, tokens, matching runs,
retention, imports and reports."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any, TypeVar
from uuid import UUID, uuid4

import typer
from pydantic import SecretStr, ValidationError
from sqlalchemy import select
from sqlalchemy.engine import URL

from mentorat.auth.principal import Principal, Role
from mentorat.kit.db import Database, database_url, upgrade
from mentorat.kit.embedded import EmbeddedServerError
from mentorat.kit.logging import configure_logging
from mentorat.settings import Settings, get_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from mentorat.spreadsheets.schemas import ImportReport

app = typer.Typer(help="mentorat: mentors for children in ASE care.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens.", no_args_is_help=True)
app.add_typer(tokens_app, name="tokens")
principals_app = typer.Typer(
    help="Principals who sign in with OpenID Connect (no token).", no_args_is_help=True
)
app.add_typer(principals_app, name="principals")

import_app = typer.Typer(help="Import children or mentors from CSV or XLSX.", no_args_is_help=True)
app.add_typer(import_app, name="import")
report_app = typer.Typer(
    help="The duty's reports, as the API answers them (JSON, CSV or an SVG chart).",
    no_args_is_help=True,
)
app.add_typer(report_app, name="report")

T = TypeVar("T")


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM ends the process at once
    raise SystemExit(128 + signum)


@contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """SIGTERM unwinds the command as Ctrl-C does, so that the embedded PostgreSQL is left (and
    stopped) on the way out. While serving, uvicorn takes SIGTERM itself, shuts down, then
    raises it again: this handler gets it then."""
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _prepared_settings(context: typer.Context) -> tuple[Settings, URL]:
    """Settings with a concrete database URL (starting the embedded server if needed), migrated.

    The embedded server is left when the command ends, however it ends: the command's context
    exits the resources it holds when it closes.
    """
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    context.with_resource(_sigterm_unwinds())
    try:
        url = context.with_resource(database_url(settings))
    except EmbeddedServerError as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(2) from None
    upgrade(url, settings=settings)
    resolved = settings.model_copy(
        update={"database_url": SecretStr(url.render_as_string(hide_password=False))}
    )
    return resolved, url


def _run_in_session(settings: Settings, url: URL, work: Callable[[Database], Awaitable[T]]) -> T:
    async def main() -> T:
        database = Database.from_url(url, settings)
        try:
            return await work(database)
        finally:
            await database.engine.dispose()

    return asyncio.run(main())


async def _create_token(
    database: Database,
    *,
    role: Role,
    name: str,
    departement: str | None = None,
    association: UUID | None = None,
    mentor: UUID | None = None,
    email: str | None = None,
    expires_at: datetime | None = None,
) -> str:
    from mentorat.tokens.schemas import TokenCreate
    from mentorat.tokens.service import create_token

    data = TokenCreate(
        name=name,
        role=role,
        departement_code=departement,
        association_id=association,
        mentor_id=mentor,
        email=email,
        expires_at=expires_at,
    )
    async with database.sessionmaker() as session:
        secret, _, _ = await create_token(session, None, data)
        await session.commit()
    return secret


async def _load_demo(database: Database, seed: int) -> dict[str, str]:
    """Load the demo set (once) and return fresh tokens for its cast."""
    from mentorat.demo import DEMO_DEPARTEMENT, DEMO_MARKER_ASSOCIATION, load_demo
    from mentorat.models import Association

    async with database.sessionmaker() as session:
        loaded = await load_demo(session, seed=seed)
        await session.commit()
        association_id = await session.scalar(
            select(Association.id).where(Association.name == DEMO_MARKER_ASSOCIATION)
        )
    typer.echo("Demo data loaded." if loaded else "Demo data already present.", err=True)
    return {
        "admin": await _create_token(database, role=Role.admin, name="Démo administrateur"),
        "departement_manager (53)": await _create_token(
            database,
            role=Role.departement_manager,
            name="Démo responsable ASE 53",
            departement=DEMO_DEPARTEMENT,
        ),
        "educator (53)": await _create_token(
            database, role=Role.educator, name="Démo éducatrice 53", departement=DEMO_DEPARTEMENT
        ),
        "coordinator (Les Ombres)": await _create_token(
            database, role=Role.coordinator, name="Démo coordinatrice", association=association_id
        ),
    }


def _print_tokens(tokens: dict[str, str], host: str, port: int) -> None:
    typer.echo("\nDemo tokens (shown once):", err=True)
    for label, token in tokens.items():
        typer.echo(f"  {label:28} {token}", err=True)
    educator = tokens["educator (53)"]
    typer.echo(
        f'\nTry: curl -H "Authorization: Bearer {educator}" http://{host}:{port}/v1/children\n',
        err=True,
    )


@app.command()
def serve(
    context: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    demo: Annotated[bool, typer.Option("--demo", help="Load the Mayenne demo data set.")] = False,
    seed: Annotated[int, typer.Option(help="Seed of the demo data.")] = 53,
    worker: Annotated[
        bool,
        typer.Option(
            "--worker/--no-worker",
            help="Also run a worker in this process (default); --no-worker leaves the jobs to "
            "`mentorat worker` processes.",
        ),
    ] = True,
) -> None:
    """Migrate the database, then serve the API (embedded PostgreSQL without a URL) and, unless
    --no-worker, run the queued jobs (matching runs, deliveries, reminders) in the same process."""
    import uvicorn

    from mentorat.app import create_app

    settings, url = _prepared_settings(context)
    if demo:
        tokens = _run_in_session(settings, url, lambda database: _load_demo(database, seed))
        _print_tokens(tokens, host, port)
    uvicorn.run(create_app(settings, worker=worker), host=host, port=port, log_config=None)


@app.command()
def worker(
    context: typer.Context,
    concurrency: Annotated[
        int | None,
        typer.Option(
            min=1, max=100, help="Jobs run at the same time (default MENTORAT_WORKER_CONCURRENCY)."
        ),
    ] = None,
    queue: Annotated[
        list[str] | None,
        typer.Option(
            "--queue",
            help="Only the jobs of this queue (repeat for several): matching, default. "
            "Default: every queue.",
        ),
    ] = None,
    name: Annotated[str, typer.Option(help="The worker's name in the logs.")] = "worker",
) -> None:
    """Run queued jobs until SIGINT or SIGTERM, which let the running jobs finish. Start any
    number, on any machine that reaches PostgreSQL."""
    from mentorat.jobs.worker import run_worker

    # On SIGINT or SIGTERM the worker stops fetching and lets its jobs finish; a second one
    # ends the command at once (the run it leaves goes back to the queue by the sweep).
    settings, url = _prepared_settings(context)

    async def work(database: Database) -> None:
        await run_worker(
            database,
            settings,
            concurrency=concurrency or settings.worker_concurrency,
            queues=queue or None,
            name=name,
        )

    _run_in_session(settings, url, work)


@app.command()
def migrate(context: typer.Context) -> None:
    """Bring the database schema to the latest revision."""
    _prepared_settings(context)
    typer.echo("Database migrated.", err=True)


@app.command()
def demo(
    context: typer.Context,
    seed: Annotated[int, typer.Option(help="Seed of the demo data.")] = 53,
) -> None:
    """Load the Mayenne (53) demo data set and print tokens to try it."""
    settings, url = _prepared_settings(context)
    tokens = _run_in_session(settings, url, lambda database: _load_demo(database, seed))
    _print_tokens(tokens, "127.0.0.1", 8000)


@tokens_app.command("create")
def tokens_create(
    context: typer.Context,
    role: Annotated[Role, typer.Option(help="Role of the token's holder.")],
    name: Annotated[str, typer.Option(help="Who holds the token.")],
    departement: Annotated[
        str | None, typer.Option(help="Département code (manager, educator).")
    ] = None,
    association: Annotated[UUID | None, typer.Option(help="Association id (coordinator).")] = None,
    mentor: Annotated[UUID | None, typer.Option(help="Mentor id (mentor).")] = None,
    email: Annotated[
        str | None, typer.Option(help="Also signs in with OpenID Connect under this email.")
    ] = None,
    expires_in_days: Annotated[
        int | None, typer.Option(min=1, help="Expire after this many days.")
    ] = None,
) -> None:
    """Create a principal and its token; the token alone is printed on the last line."""
    from mentorat.errors import MentoratError

    settings, url = _prepared_settings(context)
    expires_at = datetime.now(UTC) + timedelta(days=expires_in_days) if expires_in_days else None
    try:
        token = _run_in_session(
            settings,
            url,
            lambda database: _create_token(
                database,
                role=role,
                name=name,
                departement=departement,
                association=association,
                mentor=mentor,
                email=email,
                expires_at=expires_at,
            ),
        )
    except ValidationError as error:
        raise typer.BadParameter(_first_error(error)) from None
    except MentoratError as error:
        typer.echo(f"Error: {error.detail}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"Token for {name} ({role.value}); it will not be shown again:", err=True)
    typer.echo(token)


@principals_app.command("create")
def principals_create(
    context: typer.Context,
    role: Annotated[Role, typer.Option(help="Role of the principal.")],
    name: Annotated[str, typer.Option(help="Who it is.")],
    email: Annotated[str, typer.Option(help="The email in their identity provider's tokens.")],
    departement: Annotated[
        str | None, typer.Option(help="Département code (manager, educator).")
    ] = None,
    association: Annotated[UUID | None, typer.Option(help="Association id (coordinator).")] = None,
    mentor: Annotated[UUID | None, typer.Option(help="Mentor id (mentor).")] = None,
) -> None:
    """Register someone who signs in with OpenID Connect; the principal id is printed."""
    from mentorat.errors import MentoratError
    from mentorat.tokens.schemas import PrincipalCreate
    from mentorat.tokens.service import create_principal

    try:
        data = PrincipalCreate(
            name=name,
            role=role,
            email=email,
            departement_code=departement,
            association_id=association,
            mentor_id=mentor,
        )
    except ValidationError as error:
        raise typer.BadParameter(_first_error(error)) from None

    async def work(database: Database) -> UUID:
        async with database.sessionmaker() as session:
            holder = await create_principal(session, None, data)
            await session.commit()
            return holder.id

    settings, url = _prepared_settings(context)
    try:
        principal_id = _run_in_session(settings, url, work)
    except MentoratError as error:
        typer.echo(f"Error: {error.detail}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"{name} ({role.value}) signs in with OpenID Connect as {email}.", err=True)
    typer.echo(str(principal_id))


def _first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    field = ".".join(str(part) for part in first.get("loc", ()))
    return f"{field}: {first['msg']}" if field else str(first["msg"])


MATCH_PHASES = ("loading", "scoring", "solving", "writing", "done")
SUMMARY_FIGURES = (
    "status",
    "error",
    "children",
    "children_not_eligible",
    "mentors",
    "feasible_pairs",
    "components",
    "largest_component_children",
    "largest_component_mentors",
    "matched",
    "unmatched",
    "unmatched_by_reason",
    "mean_score",
    "total_score",
)


@app.command()
def match(
    context: typer.Context,
    departement: Annotated[str, typer.Option(help="Département code, e.g. 53.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Compute proposals without holding anyone.")
    ] = False,
    min_score: Annotated[float, typer.Option(min=0, max=1, help="Minimum pair score.")] = 0.3,
    objective: Annotated[
        str, typer.Option(help="coverage_first (default) or total_score.")
    ] = "coverage_first",
) -> None:
    """Run a batch matching over a département, with a progress bar and a summary."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from mentorat.errors import MentoratError
    from mentorat.jobs.worker import run_worker
    from mentorat.matching import service
    from mentorat.matching.schemas import RunCreate

    settings, url = _prepared_settings(context)
    console = Console(stderr=True)
    try:
        parameters = RunCreate(
            departement_code=departement,
            dry_run=dry_run,
            min_score=min_score,
            objective=objective,  # type: ignore[arg-type]
        )
    except ValidationError as error:
        raise typer.BadParameter(error.errors()[0]["msg"]) from None
    operator = Principal(id=UUID(int=0), name="mentorat match (CLI)", role=Role.admin)

    async def work(database: Database) -> dict[str, object]:
        # The run is a job like any other, on a queue of this command's own that its worker
        # runs here. Should this command die, the sweep gives the run to the other workers.
        own_queue = f"match-{uuid4().hex[:12]}"
        async with database.sessionmaker() as session:
            run = await service.create_run(session, operator, parameters, queue=own_queue)
            await session.commit()
        with Progress(
            TextColumn("[bold]{task.description:<10}"),
            BarColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=console,
        ) as bar:
            task = bar.add_task("queued", total=len(MATCH_PHASES) - 1, detail="")

            def progress(phase: str, figures: dict[str, object]) -> None:
                shown = ("children", "mentors", "feasible_pairs", "matched")
                detail = " ".join(f"{key}={figures[key]}" for key in shown if key in figures)
                done = MATCH_PHASES.index(phase) if phase in MATCH_PHASES else 0
                bar.update(task, description=phase, completed=done, detail=detail)

            await run_worker(
                database,
                settings,
                queues=[own_queue],
                name="match",
                install_signal_handlers=False,
                wait=False,
                progress=progress,
            )
        async with database.sessionmaker() as session:
            finished = await session.get(service.MatchingRun, run.id)
            if finished is None:
                raise RuntimeError(f"Matching run {run.id} vanished while running.")
            return {
                "id": str(finished.id),
                "status": finished.status,
                "error": finished.error,
                **finished.figures,
            }

    try:
        outcome = _run_in_session(settings, url, work)
    except MentoratError as error:
        console.print(f"[red]Error:[/red] {error.detail}")
        raise typer.Exit(2) from None
    table = Table(
        title=f"Matching run {outcome['id']} ({'dry run' if dry_run else 'proposals held'})"
    )
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key in SUMMARY_FIGURES:
        if outcome.get(key) is not None:
            table.add_row(key, str(outcome[key]))
    for phase, seconds in dict(outcome.get("timings") or {}).items():  # type: ignore[call-overload]
        table.add_row(f"time {phase}", f"{seconds:.3f} s")
    Console().print(table)
    if outcome["status"] != "succeeded":
        raise typer.Exit(1)


@app.command()
def retention(
    context: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would be done, change nothing.")
    ] = False,
) -> None:
    """Apply the retention policy: anonymise or delete personal data past its time, then
    print what was done (README, "Personal data")."""
    from rich.console import Console
    from rich.table import Table

    from mentorat.retention.service import RetentionReport, apply_retention

    settings, url = _prepared_settings(context)

    async def work(database: Database) -> RetentionReport:
        async with database.sessionmaker() as session:
            report = await apply_retention(
                session, settings, now=datetime.now(UTC), dry_run=dry_run
            )
            if dry_run:
                await session.rollback()
            else:
                await session.commit()
            return report

    report = _run_in_session(settings, url, work)
    table = Table(
        title=f"Retention {'(dry run: nothing changed)' if dry_run else 'applied'}",
        caption=(
            f"children left before {report.child_cutoff:%Y-%m-%d}, mentors before "
            f"{report.mentor_cutoff:%Y-%m-%d}, audit events before {report.audit_cutoff:%Y-%m-%d}"
        ),
    )
    table.add_column("table")
    table.add_column("action")
    table.add_column("rows", justify="right")
    for (what, action), count in report.counts.items():
        table.add_row(what, action, str(count))
    Console(width=120).print(table)


def _import_file(
    context: typer.Context,
    path: Path,
    dry_run: bool,
    run: Callable[[AsyncSession, Principal, Settings, bytes, str, Any], Any],
) -> None:
    """Read `path`, run the import in one transaction with a progress bar, print the report.

    Exit 0 when the file is valid (and written unless a dry run), 1 when a row is invalid
    (nothing written), 2 on any other refusal.
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from mentorat.errors import MentoratError
    from mentorat.spreadsheets.importing import ImportRejected
    from mentorat.spreadsheets.reading import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE

    media_type = XLSX_MEDIA_TYPE if path.suffix.lower() == ".xlsx" else CSV_MEDIA_TYPE
    data = path.read_bytes()
    settings, url = _prepared_settings(context)
    console = Console(stderr=True)
    operator = Principal(id=UUID(int=0), name="mentorat import (CLI)", role=Role.admin)

    async def work(database: Database) -> Any:
        with Progress(
            TextColumn("[bold]{task.description:<10}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as bar:
            task = bar.add_task("reading", total=None)

            def progress(phase: str, done: int, total: int) -> None:
                bar.update(task, description=phase, completed=done, total=total)

            async with database.sessionmaker() as session:
                report = await run(session, operator, settings, data, media_type, progress)
                await session.commit()
            return report

    try:
        report = _run_in_session(settings, url, work)
    except ImportRejected as rejected:
        report = rejected.report
    except MentoratError as error:
        console.print(f"[red]Error:[/red] {error.detail}")
        raise typer.Exit(2) from None
    _print_import_report(report)
    if report.problems:
        raise typer.Exit(1)


def _print_import_report(report: ImportReport) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    state = (
        "dry run, nothing written"
        if report.dry_run
        else ("written" if report.written else "refused, nothing written")
    )
    summary = Table(title=f"Import ({state})")
    summary.add_column("rows", justify="right")
    for figure in ("created", "updated", "unchanged", "invalid"):
        summary.add_column(figure, justify="right")
    summary.add_row(
        *(str(value) for value in (report.rows, report.created, report.updated,
                                   report.unchanged, report.invalid))
    )  # fmt: skip
    console.print(summary)
    if report.problems:
        problems = Table(title="Problems" + (" (first 1,000)" if report.problems_truncated else ""))
        problems.add_column("row", justify="right")
        problems.add_column("column")
        problems.add_column("problem")
        for problem in report.problems:
            problems.add_row(str(problem.row), problem.column or "", problem.problem)
        console.print(problems)


FileArgument = Annotated[
    Path, typer.Argument(exists=True, dir_okay=False, help="A .csv or .xlsx file.")
]
DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Validate and report; write nothing.")
]


@import_app.command("children")
def import_children(
    context: typer.Context,
    file: FileArgument,
    departement: Annotated[str, typer.Option(help="Département code, e.g. 53.")],
    dry_run: DryRunOption = False,
) -> None:
    """Upsert children into a département by its file reference (see the README's columns)."""
    from mentorat.children.spreadsheet import import_children as run_import

    _import_file(
        context,
        file,
        dry_run,
        lambda session, operator, settings, data, media_type, progress: run_import(
            session,
            operator,
            settings,
            departement_code=departement,
            data=data,
            content_type=media_type,
            dry_run=dry_run,
            progress=progress,
        ),
    )


@import_app.command("mentors")
def import_mentors(
    context: typer.Context,
    file: FileArgument,
    association: Annotated[UUID, typer.Option(help="Association id.")],
    dry_run: DryRunOption = False,
) -> None:
    """Upsert mentors into an association by its own reference (see the README's columns)."""
    from mentorat.mentors.spreadsheet import import_mentors as run_import

    _import_file(
        context,
        file,
        dry_run,
        lambda session, operator, settings, data, media_type, progress: run_import(
            session,
            operator,
            settings,
            association_id=association,
            data=data,
            content_type=media_type,
            dry_run=dry_run,
            progress=progress,
        ),
    )


ReportFormatOption = Annotated[
    str, typer.Option("--format", help="json (default), csv or svg (the chart).")
]
OutputOption = Annotated[
    Path | None, typer.Option("--output", help="Write to this file instead of stdout.")
]


def _write_report(
    context: typer.Context,
    fmt: str,
    output: Path | None,
    build: Callable[[AsyncSession, Principal], Awaitable[Any]],
    rows: Callable[[Any], Any],
    draw: Callable[[Any, Any], None],
) -> None:
    """Build a report as an administrator and write it in `fmt`: the bytes the API answers
    for the same Accept."""
    from functools import partial

    from mentorat.errors import MentoratError
    from mentorat.reports.rendering import MEDIA_TYPES, ReportFormat, render

    try:
        media_type = MEDIA_TYPES[ReportFormat(fmt)]
    except ValueError:
        raise typer.BadParameter("json, csv or svg.", param_hint="--format") from None
    settings, url = _prepared_settings(context)
    operator = Principal(id=UUID(int=0), name="mentorat report (CLI)", role=Role.admin)

    async def work(database: Database) -> bytes:
        async with database.sessionmaker() as session:
            report = await build(session, operator)
        response = await render(
            media_type, report, partial(rows, report), partial(draw, report), filename="report"
        )
        return bytes(response.body)

    try:
        body = _run_in_session(settings, url, work)
    except MentoratError as error:
        typer.echo(f"Error: {error.detail}", err=True)
        raise typer.Exit(2) from None
    if output is None:
        typer.echo(body.decode("utf-8-sig"), nl=False)
    else:
        output.write_bytes(body)
        typer.echo(f"Report written to {output}.", err=True)


@report_app.command("compliance")
def report_compliance(
    context: typer.Context,
    departement: Annotated[str, typer.Option(help="Département code, e.g. 53.")],
    school_year: Annotated[str, typer.Option(help="Such as 2026-2027.")],
    as_of: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="A past day: the report as it stood then."),
    ] = None,
    fmt: ReportFormatOption = "json",
    output: OutputOption = None,
) -> None:
    """Whether the mentoring duty was met in a school year (GET /v1/reports/compliance)."""
    from mentorat.reports import charts
    from mentorat.reports.compliance import compliance_report

    _write_report(
        context,
        fmt,
        output,
        lambda session, operator: compliance_report(
            session,
            operator,
            departement=departement,
            school_year=school_year,
            as_of=None if as_of is None else as_of.date(),
        ),
        charts.compliance_rows,
        charts.draw_funnel,
    )


@report_app.command("survival")
def report_survival(
    context: typer.Context,
    departement: Annotated[str, typer.Option(help="Département code, e.g. 53.")],
    association: Annotated[UUID | None, typer.Option(help="Only this association's.")] = None,
    fmt: ReportFormatOption = "json",
    output: OutputOption = None,
) -> None:
    """How long mentorships last, Kaplan-Meier (GET /v1/reports/survival)."""
    from mentorat.reports import charts
    from mentorat.reports.survival import survival_report

    _write_report(
        context,
        fmt,
        output,
        lambda session, operator: survival_report(
            session, operator, departement=departement, association_id=association
        ),
        charts.survival_rows,
        charts.draw_survival,
    )


@report_app.command("supply-gaps")
def report_supply_gaps(
    context: typer.Context,
    departement: Annotated[str, typer.Option(help="Département code, e.g. 53.")],
    limit: Annotated[int, typer.Option(min=1, max=20, help="Mentor profiles, at most.")] = 5,
    cluster_km: Annotated[
        float, typer.Option(min=1, max=100, help="Children within this many km form a group.")
    ] = 15.0,
    fmt: ReportFormatOption = "json",
    output: OutputOption = None,
) -> None:
    """Where mentors are missing, and whom to recruit (GET /v1/reports/supply-gaps)."""
    from mentorat.reports import supply_gaps

    _write_report(
        context,
        fmt,
        output,
        lambda session, operator: supply_gaps.supply_gaps(
            session, operator, departement, limit=limit, cluster_km=cluster_km
        ),
        supply_gaps.csv_rows,
        supply_gaps.draw_chart,
    )


if __name__ == "__main__":
    app()
