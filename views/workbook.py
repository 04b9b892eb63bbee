"""The export as an XLSX workbook (XlsxWriter, constant memory): the initiatives, one
row each, in the reader's words, and a summary per unit and per campaign.

Rows are streamed: each is written to a temporary file as it comes, so memory stays
flat whatever the number of initiatives. Text is always written as text, never as a
formula, so a title such as `=HYPERLINK(…)` is shown, not run.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import IO, Any, Literal

from core.messages import Text, t
from locales import Catalogs
from services.export import STATUSES, Row, Summary, Totals
from services.levels import LEVEL_LABELS
from views.labels import FIELD_LABELS, STATUS_LABELS

MONEY_FORMAT = '#,##0 "₫"'
MOMENT_FORMAT = "dd/mm/yyyy hh:mm"
DAY_FORMAT = "dd/mm/yyyy"
SHEET_ROWS = 1_048_576  # the most a sheet holds, its headings included
OPTIONS = {
    "constant_memory": True,
    # Never read a user's text as anything but text.
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
}


Kind = Literal["text", "number", "money", "moment", "day"]
Value = str | int | date | datetime | None


@dataclass(frozen=True)
class Column:
    """A column of the initiatives sheet: its heading, width (characters) and kind."""

    heading: Text
    width: float
    kind: Kind = "text"


COLUMNS = (
    Column(t("export.column_id"), 8, "number"),
    Column(t("export.column_title"), 48),
    Column(t("export.column_unit"), 28),
    Column(t("export.column_authors"), 40),
    Column(t("export.column_field"), 24),
    Column(t("export.column_estimated"), 20, "money"),
    Column(t("export.column_verified"), 20, "money"),
    Column(t("export.column_level"), 18),
    Column(t("export.column_campaign"), 28),
    Column(t("export.column_status"), 22),
    Column(t("export.column_submitted"), 17, "moment"),
    Column(t("export.column_decided"), 17, "moment"),
    Column(t("export.column_first_applied"), 14, "day"),
    Column(t("export.column_confidential"), 12),
)


class _Sheets:
    """The open workbook, its formats and how it says things in the reader's language."""

    def __init__(self, target: IO[bytes], catalogs: Catalogs, language: str) -> None:
        import xlsxwriter  # imported here: every command line start would pay for it

        self.book = xlsxwriter.Workbook(target, OPTIONS)
        self.say: Callable[[Text], str] = lambda text: catalogs.render(text, language)
        self.heading = self.book.add_format({"bold": True, "text_wrap": True, "valign": "top"})
        self.bold = self.book.add_format({"bold": True})
        self.money = self.book.add_format({"num_format": MONEY_FORMAT})
        self.bold_money = self.book.add_format({"num_format": MONEY_FORMAT, "bold": True})
        self.moment = self.book.add_format({"num_format": MOMENT_FORMAT})
        self.day = self.book.add_format({"num_format": DAY_FORMAT})

    def headings(self, sheet: Any, row: int, texts: Iterable[Text]) -> None:
        """Write a row of headings."""
        for column, text in enumerate(texts):
            sheet.write_string(row, column, self.say(text), self.heading)

    def listing(self, number: int) -> Any:
        """Add a sheet of initiatives (the second and later ones numbered) with its
        headings frozen and its columns' widths."""
        name = self.say(t("export.sheet_initiatives"))
        sheet = self.book.add_worksheet(name if number == 1 else f"{name} ({number})")
        for column, spec in enumerate(COLUMNS):
            sheet.set_column(column, column, spec.width)
        self.headings(sheet, 0, (spec.heading for spec in COLUMNS))
        sheet.freeze_panes(1, 0)
        return sheet


def write(
    target: IO[bytes],
    rows: Iterable[Row],
    *,
    catalogs: Catalogs,
    language: str,
    zone: tzinfo,
    rows_per_sheet: int = SHEET_ROWS - 1,
) -> int:
    """Write the initiatives (on further sheets past a sheet's rows) and their summary as
    a workbook; return how many initiatives it holds."""
    sheets = _Sheets(target, catalogs, language)
    summary = Summary()
    listing, count, at = sheets.listing(1), 1, 0
    for row in rows:
        if at == rows_per_sheet:
            listing.autofilter(0, 0, at, len(COLUMNS) - 1)
            count += 1
            listing, at = sheets.listing(count), 0
        at += 1
        _initiative_row(sheets, listing, at, row, zone)
        summary.add(row)
    listing.autofilter(0, 0, at, len(COLUMNS) - 1)
    _summary(sheets, sheets.book.add_worksheet(sheets.say(t("export.sheet_summary"))), summary)
    sheets.book.close()
    return summary.total.count


def _initiative_row(sheets: _Sheets, sheet: Any, at: int, row: Row, zone: tzinfo) -> None:
    """Write one initiative: numbers as numbers, times as local dates, codes as labels."""
    formats = {"money": sheets.money, "moment": sheets.moment, "day": sheets.day}
    for number, (column, value) in enumerate(zip(COLUMNS, _values(sheets.say, row), strict=True)):
        if value is None or value == "":
            continue
        if isinstance(value, str):
            sheet.write_string(at, number, value)
        elif isinstance(value, int):
            sheet.write_number(at, number, value, formats.get(column.kind))
        else:
            moment = _local(value, zone) if isinstance(value, datetime) else value
            sheet.write_datetime(at, number, moment, formats[column.kind])


def _values(say: Callable[[Text], str], row: Row) -> tuple[Value, ...]:
    """An initiative's cells, in the order of COLUMNS and the reader's words."""
    initiative = row.initiative
    authors = "; ".join(
        f"{author.name or say(t('card.anonymous'))} ({author.share_percent}%)"
        for author in row.authors
    )
    return (
        initiative.id,
        initiative.title,
        row.unit.name,
        authors,
        _label(say, FIELD_LABELS, initiative.field),
        initiative.estimated_benefit_vnd,
        initiative.verified_benefit_vnd,
        _label(say, LEVEL_LABELS, initiative.level),
        row.campaign,
        _label(say, STATUS_LABELS, initiative.status),
        initiative.submitted_at,
        initiative.decided_at,
        initiative.first_applied_on,
        say(t("common.yes") if initiative.confidential else t("common.no")),
    )


def _label(say: Callable[[Text], str], labels: Mapping[str, Text], code: str | None) -> str:
    """A code's label in the reader's words (an unknown code as it is)."""
    if code is None:
        return ""
    return say(labels[code]) if code in labels else code


def _local(moment: datetime, zone: tzinfo) -> datetime:
    """A stored UTC time as the wall-clock time of `zone` (Excel has no time zones)."""
    return moment.astimezone(zone).replace(tzinfo=None)


def _summary(sheets: _Sheets, sheet: Any, summary: Summary) -> None:
    """Write the totals per unit, then per campaign, each block with its total row."""
    counts = [STATUS_LABELS[status] for status in STATUSES]
    tail = [t("export.column_count"), t("export.column_estimated"), t("export.column_verified")]
    sheet.set_column(0, 0, 36)
    sheet.set_column(1, len(counts) + 1, 14)
    sheet.set_column(len(counts) + 2, len(counts) + 3, 22)
    at = 0
    blocks = (
        (t("export.column_unit"), summary.by_unit()),
        (t("export.column_campaign"), summary.by_campaign()),
    )
    for first, lines in blocks:
        sheets.headings(sheet, at, [first, *counts, *tail])
        for totals in lines:
            at += 1
            name = sheets.say(t("export.no_campaign")) if totals.name is None else totals.name
            _totals_row(sheets, sheet, at, name, totals, bold=False)
        at += 1
        _totals_row(sheets, sheet, at, sheets.say(t("export.total")), summary.total, bold=True)
        at += 2


def _totals_row(
    sheets: _Sheets, sheet: Any, at: int, name: str, totals: Totals, *, bold: bool
) -> None:
    """Write one line of the summary: a name, counts by status, the count, the sums."""
    sheet.write_string(at, 0, name, sheets.bold if bold else None)
    numbers = [totals.by_status[status] for status in STATUSES] + [totals.count]
    for column, number in enumerate(numbers, start=1):
        sheet.write_number(at, column, number, sheets.bold if bold else None)
    money = sheets.bold_money if bold else sheets.money
    sheet.write_number(at, len(numbers) + 1, totals.estimated_vnd, money)
    sheet.write_number(at, len(numbers) + 2, totals.verified_vnd, money)
