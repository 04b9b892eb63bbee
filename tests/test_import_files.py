"""Officers' spreadsheets read back as the same rows: XLSX, and CSV in every encoding and
separator Excel writes (UTF-8, UTF-8 with BOM, UTF-16, Windows-1258)."""

import unicodedata
from pathlib import Path

import pytest
import xlsxwriter

from core.errors import Refused
from services.phones import normalize_phone
from services.sheets import UNREADABLE, open_sheet

HEADER = ("Họ và tên", "Mã NV", "Số điện thoại", "Đơn vị")
ROWS = [
    ("Nguyễn Thị Ngọc Ánh", "NV001", "0912 345 678", "Xưởng SMT 1"),
    ("Trần Văn Dũng", "NV002", "+84 98.765.4321", "Xưởng lắp ráp 2"),
    ("Lê Thị Thuỷ Tiên", "NV003", "", "Tổ bảo trì thiết bị"),
]
TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def cp1258(text: str) -> bytes:
    """Encode as Windows does: a letter the code page has as it is, else its base letter
    and a combining tone mark."""
    out = []
    for char in text:
        try:
            char.encode("cp1258")
        except UnicodeEncodeError:
            pass
        else:
            out.append(char)
            continue
        parts = unicodedata.normalize("NFD", char)
        tones = "".join(c for c in parts if c in TONES)
        out.append(unicodedata.normalize("NFC", "".join(c for c in parts if c not in TONES)))
        out.append(tones)
    return "".join(out).encode("cp1258")


def csv_text(delimiter: str = ",") -> str:
    return "\r\n".join(delimiter.join(row) for row in (HEADER, *ROWS)) + "\r\n"


def read(path: Path) -> tuple[str, tuple[str, ...], list[tuple[int, tuple[str, ...]]]]:
    with open_sheet(path) as sheet:
        return sheet.encoding, sheet.header, list(sheet.rows)


@pytest.mark.parametrize(
    ("encoding", "data"),
    [
        ("utf-8", csv_text().encode("utf-8")),
        ("utf-8-sig", csv_text().encode("utf-8-sig")),
        ("utf-16", csv_text("\t").encode("utf-16")),
        ("cp1258", cp1258(csv_text(";"))),
    ],
)
def test_every_encoding_reads_back_the_same_nfc_rows(
    tmp_path: Path, encoding: str, data: bytes
) -> None:
    path = tmp_path / "members.csv"
    path.write_bytes(data)
    found, header, rows = read(path)
    assert found == encoding
    assert header == HEADER
    assert rows == [(n, row) for n, row in enumerate(ROWS, start=2)]
    assert all(unicodedata.is_normalized("NFC", c) for _, row in rows for c in row)


def test_windows_1258_really_carries_combining_tone_marks() -> None:
    data = cp1258("Ngọc")
    assert data == b"Ngo\xf2c"  # o, then the combining dot below
    assert data.decode("cp1258") != "Ngọc"
    assert unicodedata.normalize("NFC", data.decode("cp1258")) == "Ngọc"


def test_a_byte_windows_1258_cannot_read_marks_only_that_cell(tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_bytes(cp1258("Tên,Mã\nAn,1\n") + b"B\x81nh,2\n")
    encoding, _, rows = read(path)
    assert encoding == "cp1258"
    assert rows[0] == (2, ("An", "1")) and UNREADABLE in rows[1][1][0]


def test_an_xlsx_is_read_from_its_first_sheet_with_numbers_as_typed(tmp_path: Path) -> None:
    path = tmp_path / "members.xlsx"
    with xlsxwriter.Workbook(str(path)) as book:
        sheet = book.add_worksheet("Danh sách")
        sheet.write_row(0, 0, HEADER)
        sheet.write_row(1, 0, ("Nguyễn Văn An", 1001, 912345678, "Xưởng 1"))
        sheet.write_row(3, 0, ("  Trần   Bình ", "NV2", "0987654321", None))
        book.add_worksheet("Ghi chú").write(0, 0, "not read")
    encoding, header, rows = read(path)
    assert (encoding, header) == ("xlsx", HEADER)
    assert rows[0] == (2, ("Nguyễn Văn An", "1001", "912345678", "Xưởng 1"))
    assert rows[-1] == (4, ("Trần Bình", "NV2", "0987654321", ""))


def test_an_old_xls_file_is_refused_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0" + bytes(60))
    with pytest.raises(Refused) as refused:
        read(path)
    assert refused.value.text.key == "import.old_excel"


def test_a_zip_that_is_no_workbook_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04" + bytes(60))
    with pytest.raises(Refused) as refused:
        read(path)
    assert refused.value.text.key == "import.file_unreadable"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("0912 345 678", "+84912345678"),
        ("0912.345.678", "+84912345678"),
        ("+84 912 345 678", "+84912345678"),
        ("84912345678", "+84912345678"),
        ("0084-912-345-678", "+84912345678"),
        ("+84 (0) 912 345 678", "+84912345678"),
        ("912345678", "+84912345678"),  # Excel dropped the 0
        ("0393 123 456", "+84393123456"),
        ("024 3825 1234", "+842438251234"),
        ("12345", None),
        ("0912 345 67", None),
        ("0112 345 678", None),
        ("số cũ", None),
        ("0912345678 / 0987654321", None),
        ("０９１２ ３４５ ６７８", "+84912345678"),  # typed in full width
        ("٠٩١٢٣٤٥٦٧٨", None),  # digits of another script are no Vietnamese number
    ],
)
def test_vietnamese_phone_numbers_are_kept_in_one_form(typed: str, stored: str | None) -> None:
    assert normalize_phone(typed) == stored
