"""`initiative-bot import`: unit trees and member lists from officers' spreadsheets."""

import csv
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from bot.admin import JSON, database, emit, fail, render, say
from bot.dispatch.dispatcher import utc_now
from core.errors import Refused
from core.messages import Number, Text
from core.settings import Settings
from locales import Catalogs
from services import member_import, roster, units
from services.imports import Outcome, RowError, Summary
from services.invites import deep_link
from services.sheets import ENCODINGS, Sheet, open_sheet
from services.unit_import import import_units
from storage.db import make_engine, reading, upgrade
from views import join_sheet

import_app = typer.Typer(no_args_is_help=True, help="Units and members from spreadsheets.")

FILE = typer.Argument(
    ..., metavar="FILE.xlsx|FILE.csv", exists=True, dir_okay=False, readable=True
)
DRY_RUN = typer.Option(False, "--dry-run", help="Check the file and report; save nothing.")
ERRORS = typer.Option(
    None,
    "--errors",
    metavar="FILE.csv",
    dir_okay=False,
    help="Where the rows that were not imported go (default: FILE.errors.csv beside FILE).",
)
ENCODING = typer.Option(
    None,
    "--encoding",
    help=f"A CSV's encoding, instead of detecting it: {', '.join(ENCODINGS)}.",
)


class ErrorReport:
    """The rows that were not imported, written as they come: row, reason, the cells."""

    def __init__(self, path: Path, header: tuple[str, ...]) -> None:
        self.path = path
        self.header = header
        self.count = 0
        self._handle: IO[str] | None = None
        self._writer: Any = None

    def add(self, error: RowError) -> None:
        """Write one refused row, opening the file at the first (UTF-8 with BOM, for Excel)."""
        if self._writer is None:
            self._handle = self.path.open("w", encoding="utf-8-sig", newline="")
            self._writer = csv.writer(self._handle)
            titles = (render(Text("import.column_row")), render(Text("import.column_reason")))
            self._writer.writerow((*titles, *self.header))
        self._writer.writerow((error.row, render(error.reason), *error.cells))
        self.count += 1

    def close(self) -> None:
        """Finish the file; with no refused row, remove the report of an earlier run."""
        if self._handle is not None:
            self._handle.close()
        elif self.path.exists():
            self.path.unlink()


@contextmanager
def progress_bar(total: int | None) -> Iterator[Callable[[int], None]]:
    """Show a progress bar on stderr when it is a terminal; yield how to advance it."""
    console = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(
        *columns,
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as bar:
        task = bar.add_task(render(Text("import.progress")), total=total)
        yield lambda n: bar.advance(task, n)


@contextmanager
def importing(
    file: Path, errors: Path | None, encoding: str | None
) -> Iterator[tuple[Engine, Sheet, ErrorReport]]:
    """Open the database, the file and its error report; a refusal becomes an error message."""
    settings = Settings()
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    report: ErrorReport | None = None
    try:
        with open_sheet(file, encoding) as sheet:
            report = ErrorReport(errors or file.with_name(f"{file.stem}.errors.csv"), sheet.header)
            yield engine, sheet, report
    except Refused as refusal:
        fail(refusal.text)
    except OperationalError:
        fail(Text("import.interrupted"))
    finally:
        if report is not None:
            report.close()
        engine.dispose()


def show(file: Path, summary: Summary, report: ErrorReport, dry_run: bool, as_json: bool) -> None:
    """Print what the import did, for people or as JSON."""
    counts = {("errors" if o is Outcome.ERROR else o.value): n for o, n in summary.counts.items()}
    data: dict[str, Any] = {
        "file": str(file),
        "encoding": summary.encoding,
        "rows": summary.rows,
        **counts,
        "dry_run": dry_run,
        "error_report": str(report.path) if report.count else None,
    }

    def human() -> None:
        params = {k: Number(v) if isinstance(v, int) else v for k, v in counts.items()}
        say(
            Text(
                "import.summary",
                {
                    "file": file.name,
                    "encoding": summary.encoding,
                    "rows": Number(summary.rows),
                    **params,
                },
            )
        )
        if report.count:
            say(Text("import.errors_written", {"path": str(report.path)}))
        if dry_run:
            say(Text("import.dry_run_note"))

    emit(as_json, data, human)


@import_app.command("units")
def units_command(
    file: Path = FILE,
    dry_run: bool = DRY_RUN,
    errors: Path | None = ERRORS,
    encoding: str | None = ENCODING,
    as_json: bool = JSON,
) -> None:
    """Create a unit tree from a file with a path a row ("Tỉnh / KCN / Công ty / Xưởng")
    and optionally a kind; importing it again creates nothing."""
    with (
        importing(file, errors, encoding) as (engine, sheet, report),
        progress_bar(sheet.total) as advance,
    ):
        summary = import_units(
            engine=engine,
            sheet=sheet,
            now=utc_now(),
            dry_run=dry_run,
            on_error=report.add,
            on_progress=advance,
        )
    show(file, summary, report, dry_run, as_json)


@import_app.command("members")
def members_command(
    file: Path = FILE,
    unit_ref: str = typer.Option(
        ..., "--unit", help="The organization (unit id or name); unit paths are read below it."
    ),
    dry_run: bool = DRY_RUN,
    errors: Path | None = ERRORS,
    encoding: str | None = ENCODING,
    as_json: bool = JSON,
) -> None:
    """Import a member list (name, phone or employee id, unit, language, roles); each
    person gets a personal join code. Importing it again changes nothing."""
    settings = Settings()
    with importing(file, errors, encoding) as (engine, sheet, report):
        with reading(engine) as session:
            organization = units.find_unit(session=session, ref=unit_ref)
        with progress_bar(sheet.total) as advance:
            summary = member_import.import_members(
                engine=engine,
                sheet=sheet,
                organization=organization,
                default_language=settings.default_language,
                now=utc_now(),
                dry_run=dry_run,
                on_error=report.add,
                on_progress=advance,
            )
    show(file, summary, report, dry_run, as_json)


@import_app.command("cards")
def cards_command(
    unit_ref: str = typer.Argument(..., metavar="UNIT"),
    output: Path = typer.Option(..., "--output", metavar="FILE.pdf", dir_okay=False),
    bot_username: str | None = typer.Option(
        None,
        "--bot-username",
        metavar="NAME",
        help="The Telegram bot's username (default: TELEGRAM_BOT_USERNAME).",
    ),
    joined_too: bool = typer.Option(
        False, "--all", help="Also print the cards of people who joined already."
    ),
    as_json: bool = JSON,
) -> None:
    """Print imported people's personal join cards (QR code and code) as a PDF, a page
    run per workshop, for handing out or the notice board."""
    settings = Settings()
    username = bot_username or settings.telegram_bot_username
    if not username:
        fail(Text("cli.bot_username_missing"))
    with database() as session:
        unit = units.find_unit(session=session, ref=unit_ref)
        groups = roster.cards(session=session, unit=unit, joined_too=joined_too)
    try:
        for _, entries in groups:
            for entry in entries:
                deep_link(username, entry.code)
    except ValueError:
        fail(Text("cli.invite_link_invalid", {"username": username, "code": "-"}))
    catalogs, language = Catalogs(zone=settings.tz), settings.default_language
    partial = output.with_name(f".{output.name}.part")
    try:
        with partial.open("wb") as handle:
            pages = join_sheet.write(
                handle, groups, catalogs=catalogs, language=language, bot_username=username
            )
        partial.replace(output)
    except OSError as error:
        partial.unlink(missing_ok=True)
        fail(Text("cli.qr_unwritable", {"path": str(output), "error": error.strerror or error}))
    people = sum(len(entries) for _, entries in groups)
    data = {"output": str(output), "units": len(groups), "people": people, "pages": pages}
    emit(
        as_json,
        data,
        lambda: say(
            Text(
                "import.cards_written",
                {"path": str(output), "people": Number(people), "pages": Number(pages)},
            )
        ),
    )


def register(app: typer.Typer) -> None:
    """Add the `import` commands to the main application."""
    app.add_typer(import_app, name="import")
