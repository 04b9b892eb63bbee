"""Realistic member lists: Vietnamese (and some Indonesian) names, phones typed every way
people type them, and, where asked, the mistakes real lists have.

`python -m bench.member_list` writes examples/members.xlsx: 300 workers of a garment
company with eight mistakes (a number too short, an employee id twice, a workshop that
does not exist, no name, neither phone nor id, an unknown language, an unknown role, two
numbers in one cell) and an empty line. The import benchmark streams millions of rows
from the same generator.
"""

import csv
import random
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import xlsxwriter

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng"]
FAMILY += ["Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"]
MIDDLE = ["Văn", "Thị", "Hữu", "Đức", "Minh", "Ngọc", "Thu", "Thanh", "Quốc", "Xuân", "Bảo"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Hà", "Hải", "Hạnh", "Hoà", "Hùng", "Hương", "Lan"]
GIVEN += ["Linh", "Mai", "Nam", "Nga", "Phúc", "Quân", "Sơn", "Tâm", "Thảo", "Trang", "Tuấn"]
GIVEN += ["Vy", "Yến", "Huyền", "Khánh", "Loan", "Nhung", "Oanh", "Quyên", "Tiến", "Uyên"]
INDONESIAN = ["Siti Rahmawati", "Dewi Lestari", "Agus Santoso", "Budi Hartono", "Rina Wati"]
HEADER = ["STT", "Họ và tên", "Mã NV", "Số điện thoại", "Đơn vị", "Ngôn ngữ", "Vai trò"]
EXAMPLE_COMPANY = (
    "Liên đoàn Lao động tỉnh Bắc Ninh / Công đoàn các Khu công nghiệp tỉnh Bắc Ninh / "
    "Cụm thi đua số 2 — KCN Quế Võ / Công đoàn cơ sở Công ty TNHH May mặc Quế Võ"
)
EXAMPLE_WORKSHOPS = ["Xưởng cắt", "Xưởng may 1", "Xưởng may 2", "Xưởng hoàn thiện"]


def phone(rng: random.Random, n: int) -> str | int:
    """Return the n-th person's mobile number, written one of the ways people write it."""
    # A different number for each n below 10^8 (7919 and 10^8 share no factor).
    national = f"{'35789'[n % 5]}{(n * 7919 + 12_345_678) % 10**8:08d}"
    styles = [
        f"0{national[:3]} {national[3:6]} {national[6:]}",
        f"0{national[:3]}.{national[3:6]}.{national[6:]}",
        f"+84{national}",
        f"84 {national[:2]} {national[2:5]} {national[5:]}",
        f"0{national}",
    ]
    if rng.random() < 0.1:
        return int(national)  # typed into a number cell: Excel dropped the 0
    return rng.choice(styles)


def people(
    rng: random.Random, count: int, units: Sequence[str], prefix: str = "NV"
) -> Iterator[list[object]]:
    """Yield `count` clean rows (HEADER's columns), each person with a unique id and phone."""
    for n in range(1, count + 1):
        name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
        language = ""
        if n % 60 == 0:
            name, language = rng.choice(INDONESIAN), "Bahasa Indonesia"
        role = "hội đồng" if n % 50 == 7 else ""
        yield [n, name, f"{prefix}-{n:06d}", phone(rng, n), rng.choice(units), language, role]


def example_rows() -> list[list[object]]:
    """Return the example list: 300 people, eight mistakes and an empty line."""
    rng = random.Random(18)
    shops = [*EXAMPLE_WORKSHOPS, *(f"{EXAMPLE_COMPANY} / {s}" for s in EXAMPLE_WORKSHOPS)]
    rows = list(people(rng, 300, shops, prefix="MMQV"))
    rows[0][6] = "chủ tịch công đoàn"
    rows[12][1] = "  Trần   Thị  Hồng  "  # extra spaces: fine, tidied
    rows[20][3] = "0912 345"  # a number too short
    rows[41][2] = rows[40][2]  # the same employee id twice
    rows[77][4] = "Xưởng may 5"  # no such workshop
    rows[90][1] = ""  # no name
    rows[120][2], rows[120][3] = "", ""  # neither id nor phone
    rows[150][5] = "Tiếng Hàn"  # a language the bot does not speak
    rows[200][6] = "tổ trưởng"  # no such role in the bot
    rows[230][3] = "0912 345 678 / 0987 654 321"  # two numbers in one cell
    rows[260][2] = f" {str(rows[260][2]).lower()} "  # lower case and spaces: tidied
    rows.insert(100, [""] * len(HEADER))  # an empty line
    return rows


def write_xlsx(path: Path, rows: Sequence[Sequence[object]]) -> None:
    """Write the rows under HEADER as a workbook, as an office would."""
    with xlsxwriter.Workbook(str(path)) as book:
        book.set_properties({"created": datetime(2026, 12, 1, tzinfo=UTC)})
        sheet = book.add_worksheet("Danh sách đoàn viên")
        sheet.write_row(0, 0, HEADER, book.add_format({"bold": True}))
        for r, row in enumerate(rows, start=1):
            sheet.write_row(r, 0, row)
        sheet.set_column(1, 1, 28)
        sheet.set_column(3, 4, 22)


def write_csv(path: Path, rows: Iterator[list[object]]) -> None:
    """Stream the rows under HEADER to a UTF-8 CSV file."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)


if __name__ == "__main__":
    EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
    write_xlsx(EXAMPLES / "members.xlsx", example_rows())
