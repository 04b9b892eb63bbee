"""`import members`: a union's member list in, each person once, with a report of the rows
that could not be read; the same file again changes nothing. SQLite and PostgreSQL."""

import csv
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import select
from typer.testing import CliRunner, Result

from bot import admin
from bot.cli import app
from services import member_import, member_rows, units
from services.imports import Outcome, RowError, Summary
from services.sheets import open_sheet
from storage import roster
from storage.db import make_engine, reading, transaction
from storage.models import RosterEntry, Unit
from tests.test_import_files import cp1258

TREE = """Đơn vị,Loại
Tỉnh Bắc Ninh / KCN Yên Phong / Công ty Điện tử A / Xưởng SMT 1,
Tỉnh Bắc Ninh / KCN Yên Phong / Công ty Điện tử A / Xưởng lắp ráp 2,
Tỉnh Bắc Ninh / KCN Yên Phong / Công ty Cơ khí B / Xưởng SMT 1,
"""
NOW = datetime(2026, 12, 6, 5, 0, tzinfo=UTC)
HEADER = "Họ và tên,Mã nhân viên,Số điện thoại,Đơn vị,Ngôn ngữ,Vai trò"
GOOD = [
    "Nguyễn Thị Ngọc Ánh,NV001,0912 345 678,Xưởng SMT 1,,",
    "Trần Văn Dũng,nv002,+84 98.765.4321,Công ty Điện tử A / Xưởng lắp ráp 2,Tiếng Việt,hội đồng",
    "Siti Rahma,NV003,,Tỉnh Bắc Ninh / KCN Yên Phong / Công ty Điện tử A / Xưởng SMT 1,id,",
    "Lê Thị Thuỷ Tiên,,0393.123.456,,en,leader; organizer",
]
BAD = [
    ("Phạm Văn Hùng,NV004,12345,Xưởng SMT 1,,", "import.phone_unreadable"),
    ("Hoàng Anh,NV001,0911 111 111,Xưởng SMT 1,,", "import.duplicate_in_file"),
    ("Vũ Minh,NV005,0977 777 777,Xưởng 9,,", "import.unit_unknown"),
    ("Đỗ Hà,,,Xưởng SMT 1,,", "import.key_missing"),
    (",NV006,0966 666 666,Xưởng SMT 1,,", "import.name_missing"),
    ("Bùi Lan,NV007,,Xưởng SMT 1,Tiếng Pháp,", "import.language_unknown"),
    ("Ngô Tú,NV008,,Xưởng SMT 1,,giám đốc", "import.role_unknown"),
]


@pytest.fixture
def cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """Return a runner of the real command line on the test database, in Vietnamese,
    with the unit tree imported."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)
    admin._catalogs.cache_clear()  # the language is read once a process
    monkeypatch.setenv("DEFAULT_LANGUAGE", "vi")
    (tmp_path / "units.csv").write_text(TREE, encoding="utf-8")
    runner = CliRunner()
    assert run(runner, "import", "units", "units.csv").exit_code == 0
    yield runner
    admin._catalogs.cache_clear()


def run(cli: CliRunner, *args: str) -> Result:
    return cli.invoke(app, list(args), catch_exceptions=False)


def imported(cli: CliRunner, file: str, *extra: str) -> dict[str, Any]:
    result = run(cli, "import", "members", file, "--unit", "Công ty Điện tử A", "--json", *extra)
    assert result.exit_code == 0, result.stderr
    summary: dict[str, Any] = json.loads(result.stdout)
    return summary


def entries(database_url: str) -> list[dict[str, Any]]:
    engine = make_engine(database_url)
    with reading(engine) as session:
        found = session.exec(select(RosterEntry).order_by(RosterEntry.id)).all()  # type: ignore[arg-type]
        rows = [entry.model_dump() for entry in found]
    engine.dispose()
    return rows


def unit_id(database_url: str, path: str) -> int:
    engine = make_engine(database_url)
    with reading(engine) as session:
        organization = units.find_unit(session=session, ref="Công ty Điện tử A")
        found = member_rows.units_of(session=session, organization=organization).find(path)
    engine.dispose()
    assert found is not None
    return found


def import_directly(
    engine: Engine,
    path: Path,
    organization: Unit,
    *,
    batch_size: int,
    errors: list[RowError] | None = None,
) -> Summary:
    """Import a file with the service itself, in batches of `batch_size` (a dry run when
    the errors are collected)."""
    with open_sheet(path) as sheet:
        return member_import.import_members(
            engine=engine,
            sheet=sheet,
            organization=organization,
            default_language="vi",
            now=NOW,
            dry_run=errors is not None,
            on_error=(errors if errors is not None else []).append,
            batch_size=batch_size,
        )


def write(path: Path, lines: list[str], encoding: str = "utf-8") -> None:
    text = "\n".join([HEADER, *lines]) + "\n"
    path.write_bytes(cp1258(text) if encoding == "cp1258" else text.encode(encoding))


def test_good_rows_are_imported_and_each_bad_row_is_reported_with_its_reason(
    cli: CliRunner, database_url: str, tmp_path: Path
) -> None:
    write(tmp_path / "members.csv", GOOD[:2] + [bad for bad, _ in BAD] + GOOD[2:])
    summary = imported(cli, "members.csv")
    assert summary == {
        "file": "members.csv",
        "encoding": "utf-8",
        "rows": 11,
        "created": 4,
        "updated": 0,
        "unchanged": 0,
        "errors": 7,
        "dry_run": False,
        "error_report": "members.errors.csv",
    }
    with (tmp_path / "members.errors.csv").open(encoding="utf-8-sig", newline="") as handle:
        report = list(csv.reader(handle))
    assert report[0] == ["Dòng", "Lý do", *HEADER.split(",")]
    assert [row[0] for row in report[1:]] == [str(n) for n in range(4, 11)]
    assert [row[2:] for row in report[1:]] == [bad.split(",") for bad, _ in BAD]
    assert report[1][1] == "Số điện thoại “12345” không phải số Việt Nam hợp lệ."
    assert report[2][1] == "Trùng mã nhân viên hoặc số điện thoại với dòng 2."
    stored = entries(database_url)
    smt, assembly = unit_id(database_url, "Xưởng SMT 1"), unit_id(database_url, "Xưởng lắp ráp 2")
    organization = unit_id(database_url, "")
    assert [
        (e["name"], e["employee_id"], e["phone"], e["unit_id"], e["language"], e["roles"])
        for e in stored
    ] == [
        ("Nguyễn Thị Ngọc Ánh", "NV001", "+84912345678", smt, "vi", "worker"),
        ("Trần Văn Dũng", "NV002", "+84987654321", assembly, "vi", "reviewer,worker"),
        ("Siti Rahma", "NV003", None, smt, "id", "worker"),
        ("Lê Thị Thuỷ Tiên", None, "+84393123456", organization, "en", "leader,organizer,worker"),
    ]
    assert len({e["code"] for e in stored}) == 4 and all(len(e["code"]) == 12 for e in stored)


def test_the_same_file_again_changes_nothing_and_says_unchanged(
    cli: CliRunner, database_url: str, tmp_path: Path
) -> None:
    write(tmp_path / "members.csv", GOOD + [bad for bad, _ in BAD])
    imported(cli, "members.csv")
    before = entries(database_url)
    again = imported(cli, "members.csv")
    assert (again["created"], again["updated"], again["unchanged"], again["errors"]) == (
        0,
        0,
        4,
        7,
    )
    assert entries(database_url) == before


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp1258", "utf-16"])
def test_the_same_list_in_another_encoding_is_the_same_people(
    cli: CliRunner, database_url: str, tmp_path: Path, encoding: str
) -> None:
    write(tmp_path / "utf8.csv", GOOD)
    imported(cli, "utf8.csv")
    before = entries(database_url)
    write(tmp_path / "other.csv", GOOD, encoding)
    again = imported(cli, "other.csv")
    assert (again["encoding"], again["unchanged"], again["rows"]) == (encoding, 4, 4)
    assert entries(database_url) == before


def test_a_dry_run_reports_the_same_and_saves_nothing(
    cli: CliRunner, database_url: str, tmp_path: Path
) -> None:
    write(tmp_path / "members.csv", GOOD + [BAD[0][0]])
    dry = imported(cli, "members.csv", "--dry-run")
    assert (dry["created"], dry["errors"], dry["dry_run"]) == (4, 1, True)
    assert entries(database_url) == []
    real = imported(cli, "members.csv")
    assert (real["created"], real["errors"]) == (4, 1)


def test_a_changed_row_updates_the_person_and_keeps_their_personal_code(
    cli: CliRunner, database_url: str, tmp_path: Path
) -> None:
    write(tmp_path / "members.csv", GOOD)
    imported(cli, "members.csv")
    code = entries(database_url)[0]["code"]
    moved = "Nguyễn Thị Ngọc Anh,NV001,,Xưởng lắp ráp 2,,"  # a typo fixed; moved; no phone
    write(tmp_path / "members.csv", [moved, *GOOD[1:]])
    summary = imported(cli, "members.csv")
    assert (summary["updated"], summary["unchanged"]) == (1, 3)
    first = entries(database_url)[0]
    assert (first["name"], first["unit_id"], first["code"]) == (
        "Nguyễn Thị Ngọc Anh",
        unit_id(database_url, "Xưởng lắp ráp 2"),
        code,
    )
    assert first["phone"] == "+84912345678"  # an empty cell erases nothing


def test_a_person_known_by_phone_gains_their_employee_id(
    cli: CliRunner, database_url: str, tmp_path: Path
) -> None:
    write(tmp_path / "members.csv", [GOOD[3]])
    imported(cli, "members.csv")
    write(tmp_path / "members.csv", ["Lê Thị Thuỷ Tiên,NV009,0393 123 456,,en,leader;organizer"])
    assert imported(cli, "members.csv")["updated"] == 1
    [entry] = entries(database_url)
    assert (entry["employee_id"], entry["phone"]) == ("NV009", "+84393123456")


def test_a_phone_that_belongs_to_another_employee_is_refused(
    cli: CliRunner, database_url: str, tmp_path: Path
) -> None:
    write(tmp_path / "members.csv", GOOD[:2])
    imported(cli, "members.csv")
    before = entries(database_url)
    write(tmp_path / "members.csv", ["Người Mới,NV010,0912345678,,,"])
    summary = imported(cli, "members.csv")
    assert (summary["created"], summary["errors"]) == (0, 1)
    report = (tmp_path / "members.errors.csv").read_text("utf-8-sig")
    assert "mã nhân viên NV001" in report
    assert entries(database_url) == before


def test_the_same_employee_ids_in_another_organization_are_other_people(
    cli: CliRunner, database_url: str, tmp_path: Path
) -> None:
    write(tmp_path / "members.csv", GOOD[:2])
    imported(cli, "members.csv")
    result = run(cli, "import", "members", "members.csv", "--unit", "Công ty Cơ khí B", "--json")
    summary = json.loads(result.stdout)
    assert (summary["created"], summary["errors"]) == (1, 1)  # B has no "Xưởng lắp ráp 2"
    assert len(entries(database_url)) == 3


def test_a_clean_run_removes_the_error_report_of_the_run_before(
    cli: CliRunner, tmp_path: Path
) -> None:
    write(tmp_path / "members.csv", GOOD + [BAD[0][0]])
    imported(cli, "members.csv")
    assert (tmp_path / "members.errors.csv").exists()
    write(tmp_path / "members.csv", GOOD)
    assert imported(cli, "members.csv")["error_report"] is None
    assert not (tmp_path / "members.errors.csv").exists()


def test_the_summary_for_people_is_in_the_operators_language(
    cli: CliRunner, tmp_path: Path
) -> None:
    write(tmp_path / "members.csv", GOOD + [BAD[0][0]])
    result = run(cli, "import", "members", "members.csv", "--unit", "Công ty Điện tử A")
    assert result.stdout.splitlines() == [
        "members.csv (utf-8): 5 dòng — 4 mới, 0 cập nhật, 0 không đổi, 1 lỗi.",
        "Các dòng lỗi và lý do: members.errors.csv",
    ]


def test_control_characters_in_cells_part_words_and_full_width_phones_are_read(
    cli: CliRunner, database_url: str, tmp_path: Path
) -> None:
    rows = ["Nguyễn\x00Văn An,NV010,０９１２ ３４５ ６７８,Xưởng SMT 1,,", "Lò Thị Bé,\x00,,,,"]
    write(tmp_path / "odd.csv", rows)
    summary = imported(cli, "odd.csv")
    assert (summary["created"], summary["errors"]) == (1, 1)  # an id of only a NUL is none
    (entry,) = entries(database_url)
    assert (entry["name"], entry["employee_id"], entry["phone"]) == (
        "Nguyễn Văn An",
        "NV010",
        "+84912345678",
    )


@pytest.mark.parametrize("after", [800, 3])  # past the csv module's field limit, or not
def test_a_quote_never_closed_is_a_clear_refusal_not_a_traceback(
    cli: CliRunner, database_url: str, tmp_path: Path, after: int
) -> None:
    broken = [f"Người {n},NV{n:05d},,,," for n in range(1200)] + ['"Không đóng,NV9,,,,']
    write(tmp_path / "broken.csv", [*broken, *(["x" * 200] * after)])
    result = run(cli, "import", "members", "broken.csv", "--unit", "Công ty Điện tử A")
    assert result.exit_code == 1 and "broken.csv" in result.stderr
    assert "Traceback" not in result.stderr and "line" in result.stderr


def test_a_file_without_a_name_column_is_refused_before_anything_is_read(
    cli: CliRunner, database_url: str, tmp_path: Path
) -> None:
    (tmp_path / "list.csv").write_text("Mã nhân viên,Số điện thoại\nNV1,0912345678\n")
    result = run(cli, "import", "members", "list.csv", "--unit", "Công ty Điện tử A")
    assert result.exit_code == 1
    assert result.stderr.strip() == "Dòng tiêu đề thiếu cột: Họ và tên."
    assert entries(database_url) == []


def test_a_batch_is_saved_whole_or_not_at_all_and_a_rerun_finishes_the_import(
    cli: CliRunner, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [f"Công nhân {n},NV{n:03},,Xưởng SMT 1,," for n in range(1, 8)]
    write(tmp_path / "members.csv", lines)
    engine = make_engine(database_url)
    organization = unit_id(database_url, "")
    with reading(engine) as session:
        unit = units.find_unit(session=session, ref=str(organization))
    calls = []
    insert = roster.insert_entries

    def failing_second_time(**kwargs: Any) -> None:
        calls.append(1)
        insert(**kwargs)
        if len(calls) == 2:
            raise OperationalError("INSERT", {}, Exception("the server went away"))

    monkeypatch.setattr(roster, "insert_entries", failing_second_time)
    with pytest.raises(OperationalError):
        import_directly(engine, tmp_path / "members.csv", unit, batch_size=3)
    engine.dispose()
    assert [e["employee_id"] for e in entries(database_url)] == ["NV001", "NV002", "NV003"]
    monkeypatch.setattr(roster, "insert_entries", insert)
    summary = imported(cli, "members.csv")
    assert (summary["created"], summary["unchanged"]) == (4, 3)
    assert len(entries(database_url)) == 7


def test_a_batch_the_database_refuses_is_written_row_by_row(
    cli: CliRunner, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "members.csv", GOOD)
    batch = ["SAMECODE2345", "SAMECODE2345", "SAMECODE2345", "OTHERCODE234"]
    codes = iter([*batch, "SAMECODE2345", "SAMECODE2345", "OTHERCODE234", "LASTCODE2345"])
    monkeypatch.setattr(member_import, "new_codes", lambda n: [next(codes) for _ in range(n)])
    summary = imported(cli, "members.csv")
    # The batch of four failed on the repeated code; alone, the first row took it, the
    # second was refused, the third and fourth got codes of their own.
    assert (summary["created"], summary["errors"]) == (3, 1)
    assert [e["code"] for e in entries(database_url)] == [
        "SAMECODE2345",
        "OTHERCODE234",
        "LASTCODE2345",
    ]


def test_a_duplicate_batches_apart_names_the_first_row(database_url: str, tmp_path: Path) -> None:
    engine = make_engine(database_url)
    (tmp_path / "units.csv").write_text(TREE, encoding="utf-8")
    lines = [f"Công nhân {n},NV{n:03},,,," for n in range(1, 7)] + ["Người Trùng,NV002,,,,"]
    write(tmp_path / "members.csv", lines)
    with transaction(engine) as session:
        organization = units.add_unit(
            session=session, name="Công ty", kind="enterprise", parent=None, now=NOW
        )
    errors: list[RowError] = []
    summary = import_directly(
        engine, tmp_path / "members.csv", organization, batch_size=2, errors=errors
    )
    engine.dispose()
    assert (summary.counts[Outcome.CREATED], summary.counts[Outcome.ERROR]) == (6, 1)
    assert [(e.row, e.reason.key, dict(e.reason.params)) for e in errors] == [
        (8, "import.duplicate_in_file", {"row": 3})
    ]
