"""`import cards`: the PDF of personal join cards, read back — a decodable QR code of each
person's own join link, twelve cards a page, each workshop on pages of its own."""

import json
import re
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from sqlmodel import Session, select
from typer.testing import CliRunner, Result

from bot import admin
from bot.cli import app
from storage.db import make_engine
from storage.models import Member, RosterEntry

UNITS = "Đơn vị\nCông ty A / Xưởng 1\nCông ty A / Xưởng 2\n"
IMAGE = re.compile(rb"<<([^<>]*(?:<<[^<>]*>>[^<>]*)*)>>\s*stream\r?\n", re.S)


def unfilter(raw: bytes, width: int, height: int) -> bytes:
    """Undo the PNG row filters (PDF predictor 15) of 8-bit greyscale pixels."""
    out = bytearray()
    previous = bytearray(width)
    for y in range(height):
        kind, line = (
            raw[y * (width + 1)],
            bytearray(raw[y * (width + 1) + 1 : (y + 1) * (width + 1)]),
        )
        for x in range(width):
            left = line[x - 1] if x else 0
            up, corner = previous[x], previous[x - 1] if x else 0
            if kind == 1:
                line[x] = (line[x] + left) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + up) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                nearest = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[x] = (line[x] + nearest) & 0xFF
        out += line
        previous = line
    return bytes(out)


def qr_links(pdf: bytes) -> list[str]:
    """Return the text of every QR code image in the PDF, in order."""
    links = []
    for match in IMAGE.finditer(pdf):
        head = match.group(1)
        if b"/Subtype /Image" not in head:
            continue
        width = int(re.search(rb"/Width (\d+)", head).group(1))  # type: ignore[union-attr]
        height = int(re.search(rb"/Height (\d+)", head).group(1))  # type: ignore[union-attr]
        length = int(re.search(rb"/Length (\d+)", head).group(1))  # type: ignore[union-attr]
        stream = pdf[match.end() : match.end() + length]
        pixels = unfilter(zlib.decompress(stream), width, height)
        # A quiet zone, as on paper around the printed code.
        border = 32
        framed = bytearray(b"\xff" * (width + 2 * border) * (height + 2 * border))
        for y in range(height):
            start = (y + border) * (width + 2 * border) + border
            framed[start : start + width] = pixels[y * width : (y + 1) * width]
        shape = (height + 2 * border, width + 2 * border)
        found = zxingcpp.read_barcode(memoryview(bytes(framed)).cast("B", shape))
        assert found is not None and found.format == zxingcpp.BarcodeFormat.QRCode
        links.append(str(found.text))
    return links


@pytest.fixture
def cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """The command line on the test database, with 14 people in Xưởng 1 and 2 in Xưởng 2."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)
    admin._catalogs.cache_clear()  # the language is read once a process
    monkeypatch.setenv("DEFAULT_LANGUAGE", "vi")
    monkeypatch.delenv("TELEGRAM_BOT_USERNAME", raising=False)
    (tmp_path / "units.csv").write_text(UNITS, encoding="utf-8")
    people = [f"Nguyễn Thị Lan {n},NV{n:03},Xưởng {1 if n <= 14 else 2}" for n in range(1, 17)]
    (tmp_path / "members.csv").write_text(
        "\n".join(["Họ và tên,Mã nhân viên,Đơn vị", *people]) + "\n", encoding="utf-8"
    )
    runner = CliRunner()
    assert run(runner, "import", "units", "units.csv").exit_code == 0
    assert run(runner, "import", "members", "members.csv", "--unit", "Công ty A").exit_code == 0
    yield runner
    admin._catalogs.cache_clear()


def run(cli: CliRunner, *args: str) -> Result:
    return cli.invoke(app, list(args), catch_exceptions=False)


def codes(database_url: str) -> dict[str, str]:
    engine = make_engine(database_url)
    with Session(engine) as session:
        found = {e.code: e.name for e in session.exec(select(RosterEntry)).all()}
    engine.dispose()
    return found


def test_each_person_gets_a_card_whose_qr_opens_their_own_join_link(
    cli: CliRunner, database_url: str, tmp_path: Path
) -> None:
    result = run(
        cli, "import", "cards", "Công ty A", "--output", "cards.pdf", "--bot-username", "cd_bot"
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "Đã ghi cards.pdf: 16 thẻ, 3 trang."
    pdf = (tmp_path / "cards.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page\n") == 3
    links = qr_links(pdf)
    expected = {f"https://t.me/cd_bot?start={code}" for code in codes(database_url)}
    assert len(links) == 16 and set(links) == expected


def test_people_who_joined_get_no_card_unless_all_are_asked_for(
    cli: CliRunner, database_url: str, tmp_path: Path
) -> None:
    engine = make_engine(database_url)
    with Session(engine) as session:
        entries = session.exec(select(RosterEntry).order_by(RosterEntry.id)).all()  # type: ignore[arg-type]
        now = datetime(2026, 12, 6, tzinfo=UTC)
        member = Member(
            unit_id=entries[0].unit_id,
            display_name="x",
            language="vi",
            consent_at=now,
            created_at=now,
        )
        session.add(member)
        session.flush()
        for entry in entries[:14]:  # everyone of Xưởng 1 joined
            entry.member_id = member.id
            session.add(entry)
        session.commit()
    engine.dispose()
    args = [
        "import",
        "cards",
        "Công ty A",
        "--output",
        "cards.pdf",
        "--json",
        "--bot-username",
        "cd_bot",
    ]
    summary: dict[str, Any] = json.loads(run(cli, *args).stdout)
    assert (summary["people"], summary["units"], summary["pages"]) == (2, 1, 1)
    summary = json.loads(run(cli, *args, "--all").stdout)
    assert (summary["people"], summary["units"], summary["pages"]) == (16, 2, 3)


def test_cards_without_a_bot_username_are_refused(cli: CliRunner, tmp_path: Path) -> None:
    result = run(cli, "import", "cards", "Công ty A", "--output", "cards.pdf")
    assert result.exit_code == 1
    assert not (tmp_path / "cards.pdf").exists()
