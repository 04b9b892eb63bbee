"""The XLSX export as an operator runs it, read back with openpyxl: labels in the
operator's language, numbers as numbers, local dates as dates, formats, the frozen
header, the filters, the summary; and the filters of the CSV."""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet
from sqlmodel import select

from bot import admin
from bot.app import Core
from core.messages import Text
from locales import Catalogs
from services import campaigns, initiatives, review, roles
from services.export import Filters, rows
from storage.db import make_engine, transaction
from storage.models import Author, Campaign, Member, Unit
from tests.conftest import Clock
from tests.test_cli import cli
from tests.tree import Tree
from views import workbook
from views.labels import STATUS_LABELS

CATALOGS = Catalogs()
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
MONEY = '#,##0 "₫"'
FORMULA = '=HYPERLINK("http://x.example","click")'


@dataclass
class Exported:
    """Three initiatives: two in workshop A1 during a campaign (one recognized), one in
    enterprise B after it, submitted at 00:30 local time on 6 December (5 December UTC)."""

    url: str
    folder: Path
    campaign: int
    ids: tuple[int, int, int]


@pytest.fixture(autouse=True)
def operator_language(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Speak Vietnamese in Vietnam's time unless a test says otherwise."""
    monkeypatch.setenv("DEFAULT_LANGUAGE", "vi")
    monkeypatch.delenv("TIMEZONE", raising=False)
    admin._catalogs.cache_clear()  # the language is read once a process
    yield
    admin._catalogs.cache_clear()


def submit(
    core: Core,
    clock: Clock,
    member_id: int,
    title: str,
    *,
    vnd: int | None,
    field: str = "technical",
    coauthor: int | None = None,
    applied: date | None = None,
) -> int:
    """Submit an initiative through the services, with a co-author at 30% if given."""
    with transaction(core.engine) as session:
        member = session.get(Member, member_id)
        assert member is not None
        draft = initiatives.start_draft(session=session, member=member, now=clock())
        draft.title, draft.field, draft.estimated_benefit_vnd = title, field, vnd
        draft.problem, draft.solution = "Làm bằng tay mất thời gian", "Một đồ gá đơn giản"
        draft.first_applied_on = applied
        if coauthor is not None:
            mine = session.exec(select(Author).where(Author.initiative_id == draft.id)).one()
            mine.share_percent = 70
            session.add(
                Author(
                    initiative_id=draft.id or 0,
                    member_id=coauthor,
                    name="coauthor",
                    share_percent=30,
                )
            )
            session.flush()
        initiatives.submit(session=session, member=member, initiative=draft, now=clock())
        return draft.id or 0


@pytest.fixture
def exported(core: Core, tree: Tree, clock: Clock, tmp_path: Path) -> Exported:
    """Build the three initiatives through the services (the clock starts 25/11 10:00)."""
    people = tree.people
    with transaction(core.engine) as session:
        superior = session.get(Member, people["superior"])
        zone_unit = session.get(Unit, tree.zone)
        assert superior is not None and zone_unit is not None
        roles.grant(
            session=session, member=superior, unit=zone_unit, role="organizer", now=clock()
        )
        plan = campaigns.Plan(
            name="Đợt cao điểm quý IV",
            description=None,
            starts_on=date(2026, 11, 1),
            ends_on=date(2026, 11, 30),
            target_count=None,
            target_benefit_vnd=None,
        )
        campaign = campaigns.create(
            session=session, member=superior, unit=zone_unit, plan=plan, zone=ZONE, now=clock()
        )
        campaign_id = campaign.id or 0
    first = submit(
        core,
        clock,
        people["worker"],
        "Máy dán nhãn tự động",
        vnd=120_000_000,
        coauthor=people["coauthor"],
        applied=date(2026, 10, 1),
    )
    clock.advance(days=1)
    with transaction(core.engine) as session:
        reviewer = session.get(Member, people["reviewer"])
        assert reviewer is not None
        review.approve(
            session=session,
            reviewer=reviewer,
            initiative_id=first,
            benefit_vnd=95_000_000,
            level="grassroots",
            now=clock(),
        )
    clock.advance(days=1)
    second = submit(core, clock, people["worker"], FORMULA, vnd=None, field="safety")
    clock.now = datetime(2026, 12, 5, 17, 30, tzinfo=ZoneInfo("UTC"))
    third = submit(core, clock, people["sibling"], "Băng tải tiết kiệm điện", vnd=40_000_000)
    return Exported(core.settings.database_url, tmp_path, campaign_id, (first, second, third))


def export(exported: Exported, *args: str) -> openpyxl.Workbook:
    """Run `export --format xlsx` into a file and open what it wrote."""
    path = exported.folder / "export.xlsx"
    path.unlink(missing_ok=True)
    cli(exported.url, exported.folder, "export", "--format", "xlsx", "--output", str(path), *args)
    assert list(exported.folder.glob(".*.part")) == []  # written beside, then renamed
    return openpyxl.load_workbook(path)


def shown(*parts: int) -> datetime:
    """A wall-clock time as the sheet holds it (Excel has no time zones)."""
    return datetime(*parts, tzinfo=ZONE).replace(tzinfo=None)


def column(sheet: Worksheet, letter: str) -> list[object]:
    """The values of a column below its heading."""
    return [cell.value for cell in sheet[letter][1:]]


def test_workbook_has_labels_numbers_local_dates_and_formats(exported: Exported) -> None:
    book = export(exported)
    assert book.sheetnames == ["Sáng kiến", "Tổng hợp"]
    sheet = book["Sáng kiến"]
    assert [cell.value for cell in sheet[1]] == [
        "Mã số",
        "Tên sáng kiến",
        "Đơn vị",
        "Tác giả (tỷ lệ đóng góp)",
        "Lĩnh vực áp dụng",
        "Giá trị làm lợi dự kiến (VNĐ/năm)",
        "Giá trị làm lợi được xác nhận (VNĐ/năm)",
        "Cấp công nhận",
        "Đợt thi đua",
        "Trạng thái",
        "Ngày gửi",
        "Ngày quyết định",
        "Ngày áp dụng lần đầu",
        "Bí mật công nghệ",
    ]
    first = [cell.value for cell in sheet[2]]
    assert first == [
        exported.ids[0],
        "Máy dán nhãn tự động",
        "Xưởng A1",
        "worker (70%); coauthor (30%)",
        "Cải tiến kỹ thuật",
        120_000_000,
        95_000_000,
        "cơ sở",
        "Đợt cao điểm quý IV",
        "được công nhận",
        shown(2026, 11, 25, 10, 0),  # 03:00 UTC, shown in Vietnam's time
        shown(2026, 11, 26, 10, 0),
        shown(2026, 10, 1),
        "Không",
    ]
    cells = sheet[2]
    assert isinstance(cells[0].value, int) and cells[0].data_type == "n"
    assert cells[5].number_format == MONEY and cells[6].number_format == MONEY
    assert all(cells[i].is_date for i in (10, 11, 12))
    assert cells[10].number_format == "dd/mm/yyyy hh:mm"
    assert cells[12].number_format == "dd/mm/yyyy"
    # Nothing estimated, nothing verified, no level: empty cells, not zeros.
    assert [cell.value for cell in sheet[3]][4:8] == [
        "An toàn, vệ sinh lao động",
        None,
        None,
        None,
    ]
    assert column(sheet, "I") == ["Đợt cao điểm quý IV"] * 2 + [None]
    assert column(sheet, "K")[2] == shown(2026, 12, 6, 0, 30)
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:N4"
    widths = {letter: sheet.column_dimensions[letter].width for letter in ("A", "B", "D", "K")}
    assert widths["B"] >= 48 and widths["D"] >= 40 and widths["A"] < widths["K"] < widths["B"]


def test_a_formula_looking_title_is_stored_as_text(exported: Exported) -> None:
    sheet = export(exported)["Sáng kiến"]
    title = sheet.cell(row=3, column=2)
    assert title.value == FORMULA
    assert title.data_type == "s"  # a string cell: Excel shows it, never runs it


def test_summary_sums_per_unit_and_per_campaign(exported: Exported) -> None:
    sheet = export(exported)["Tổng hợp"]
    lines = [[cell.value for cell in line] for line in sheet.iter_rows()]
    statuses = [CATALOGS.render(STATUS_LABELS[status], "vi") for status in STATUSES_SHOWN]
    tail = [
        "Tổng số sáng kiến",
        "Giá trị làm lợi dự kiến (VNĐ/năm)",
        "Giá trị làm lợi được xác nhận (VNĐ/năm)",
    ]
    #              submitted, under_review, changes_requested, approved, rejected, recommended
    assert lines[:4] == [
        ["Đơn vị", *statuses, *tail],
        ["Xưởng A1", 1, 0, 0, 1, 0, 0, 2, 120_000_000, 95_000_000],
        ["Công ty B", 1, 0, 0, 0, 0, 0, 1, 40_000_000, 0],
        ["Tổng cộng", 2, 0, 0, 1, 0, 0, 3, 160_000_000, 95_000_000],
    ]
    assert lines[5:9] == [
        ["Đợt thi đua", *statuses, *tail],
        ["Đợt cao điểm quý IV", 1, 0, 0, 1, 0, 0, 2, 120_000_000, 95_000_000],
        ["(không thuộc đợt thi đua nào)", 1, 0, 0, 0, 0, 0, 1, 40_000_000, 0],
        ["Tổng cộng", 2, 0, 0, 1, 0, 0, 3, 160_000_000, 95_000_000],
    ]
    assert sheet["I2"].number_format == MONEY and sheet["J4"].number_format == MONEY


STATUSES_SHOWN = (
    "submitted",
    "under_review",
    "changes_requested",
    "approved",
    "rejected",
    "recommended",
)


def test_filters_narrow_the_workbook_and_the_csv_by_local_day_campaign_and_status(
    exported: Exported, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEFAULT_LANGUAGE", "en")
    first, second, third = exported.ids
    # 00:30 on 6 December in Vietnam is 5 December in UTC: the local day decides.
    book = export(exported, "--from", "06/12/2026")
    assert book.sheetnames == ["Initiatives", "Summary"]
    assert book["Initiatives"]["A1"].value == "ID"
    assert column(book["Initiatives"], "A") == [third]
    assert column(export(exported, "--to", "2026-12-05")["Initiatives"], "A") == [first, second]
    campaign = export(exported, "--campaign", str(exported.campaign))
    assert column(campaign["Initiatives"], "A") == [first, second]
    assert campaign["Summary"]["H3"].value == 2  # the summary sums what was exported
    by_name = export(exported, "--campaign", " dot cao diem QUY iv ")  # typed without accents
    assert column(by_name["Initiatives"], "A") == [first, second]
    approved = export(exported, "--status", "approved")["Initiatives"]
    assert column(approved, "A") == [first] and column(approved, "J") == ["recognized"]

    out = exported.folder / "export.csv"
    both = ("--status", "submitted", "--status", "approved", "--to", "26/11/2026")
    cli(exported.url, exported.folder, "export", "--output", str(out), *both)
    rows_read = list(csv.DictReader(io.StringIO(out.read_text("utf-8-sig"))))
    assert [int(row["id"]) for row in rows_read] == [first]
    listed = cli(exported.url, exported.folder, "export", "--from", "27/11/2026").stdout
    found = csv.DictReader(io.StringIO(listed.removeprefix("\ufeff")))
    assert [int(row["id"]) for row in found] == [second, third]


XLSX = ["--format", "xlsx", "--output", "x.xlsx"]
BAD = [
    (["--format", "xlsx"], "cli.export_needs_output", {}),
    (["--format", "pdf"], "cli.format_unknown", {"format": "pdf"}),
    (
        [*XLSX, "--from", "31/02/2026"],
        "cli.export_date_invalid",
        {"option": "--from", "value": "31/02/2026"},
    ),
    (["--to", "tomorrow"], "cli.export_date_invalid", {"option": "--to", "value": "tomorrow"}),
    (
        [*XLSX, "--from", "02/12/2026", "--to", "01/12/2026"],
        "cli.export_period_reversed",
        {"since": "02/12/2026", "until": "01/12/2026"},
    ),
    ([*XLSX, "--campaign", "999"], "cli.campaign_unknown", {"ref": "999"}),
    (["--campaign", "Tết"], "cli.campaign_unknown", {"ref": "Tết"}),
    (
        [*XLSX, "--status", "approved", "--status", "draft"],
        "cli.status_unknown",
        {"status": "draft", "statuses": ", ".join(STATUSES_SHOWN)},
    ),
]


def test_a_campaign_name_two_campaigns_share_is_refused_with_their_ids(
    exported: Exported,
) -> None:
    engine = make_engine(exported.url)
    with transaction(engine) as session:
        first = session.get(Campaign, exported.campaign)
        assert first is not None
        twin = Campaign(**first.model_dump(exclude={"id"}))
        session.add(twin)
        session.flush()
        twin_id = twin.id
    engine.dispose()
    ran = cli(
        exported.url, exported.folder, "export", "--campaign", "Đợt cao điểm quý IV", check=False
    )
    assert ran.returncode == 1
    ids = f"{exported.campaign}, {twin_id}"
    params = {"ref": "Đợt cao điểm quý IV", "ids": ids}
    assert ran.stderr.strip() == CATALOGS.render(Text("cli.campaign_ambiguous", params), "vi")


@pytest.mark.parametrize(("args", "key", "params"), BAD)
def test_a_bad_option_is_refused_in_the_operators_language(
    database_url: str, tmp_path: Path, args: list[str], key: str, params: dict[str, str]
) -> None:
    ran = cli(database_url, tmp_path, "export", *args, check=False)
    assert ran.returncode == 1
    assert ran.stderr.strip() == CATALOGS.render(Text(key, params), "vi")
    assert ran.stdout == ""
    assert sorted(path.name for path in tmp_path.iterdir() if "xlsx" in path.name) == []


def test_an_unwritable_output_is_refused_and_leaves_nothing(
    database_url: str, tmp_path: Path
) -> None:
    target = tmp_path / "missing" / "export.xlsx"
    args = ("export", "--format", "xlsx", "--output", str(target))
    ran = cli(database_url, tmp_path, *args, check=False)
    assert ran.returncode == 1
    error = {"path": str(target), "error": "No such file or directory"}
    assert ran.stderr.strip() == CATALOGS.render(Text("cli.export_unwritable", error), "vi")
    assert not (tmp_path / "missing").exists()


def test_rows_past_a_sheets_limit_go_on_in_a_numbered_sheet(
    core: Core, exported: Exported
) -> None:
    path = exported.folder / "long.xlsx"
    with transaction(core.engine) as session, path.open("wb") as handle:
        everything = rows(session=session, unit=None, only=Filters())
        count = workbook.write(
            handle, everything, catalogs=CATALOGS, language="vi", zone=ZONE, rows_per_sheet=2
        )
    assert count == 3
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Sáng kiến", "Sáng kiến (2)", "Tổng hợp"]
    more = book["Sáng kiến (2)"]
    assert more["A1"].value == "Mã số" and column(more, "A") == [exported.ids[2]]
    assert more.freeze_panes == "A2" and more.auto_filter.ref == "A1:N2"
    assert book["Sáng kiến"].auto_filter.ref == "A1:N3"
    assert book["Tổng hợp"]["H4"].value == 3
