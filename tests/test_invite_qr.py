"""Invite deep links and the poster QR code that `unit invite --qr` writes."""

import json
import struct
import zlib
from pathlib import Path

import pytest
import zxingcpp
from typer.testing import CliRunner, Result

from bot.cli import app
from locales import Catalogs
from services.invites import deep_link

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CATALOGS = Catalogs()


def test_deep_link_is_the_telegram_start_link_without_the_at_sign() -> None:
    assert deep_link("@initiative_bot", "ABCD-2345") == (
        "https://t.me/initiative_bot?start=ABCD-2345"
    )
    assert deep_link("initiative_bot", "A" * 64).endswith("?start=" + "A" * 64)


@pytest.mark.parametrize("code", ["", "A" * 65, "ABC 234", "XƯỞNG1", "AB/CD", "AB?x=1", "AB+C"])
def test_deep_link_refuses_a_code_telegram_would_not_pass_on(code: str) -> None:
    with pytest.raises(ValueError):
        deep_link("initiative_bot", code)


@pytest.mark.parametrize("username", ["", "@", "bot", "my bot", "evil.com/x", "a" * 33])
def test_deep_link_refuses_a_name_that_is_no_telegram_username(username: str) -> None:
    with pytest.raises(ValueError):
        deep_link(username, "ABCD2345")


def read_png_grey(path: Path) -> tuple[int, int, bytes]:
    """Decode segno's 1-bit greyscale PNG with the standard library into 8-bit pixels."""
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    position, header, compressed = len(PNG_SIGNATURE), b"", b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        header = body if kind == b"IHDR" else header
        compressed += body if kind == b"IDAT" else b""
        position += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">2I5B", header)
    assert (depth, colour, interlace) == (1, 0, 0)
    stride = (width + 7) // 8
    raw = zlib.decompress(compressed)
    pixels = bytearray()
    previous = bytes(stride)
    for y in range(height):
        start = y * (stride + 1)
        filter_type, line = raw[start], raw[start + 1 : start + 1 + stride]
        assert filter_type in (0, 2), "segno only uses the None and Up filters"
        up = ((a + b) & 0xFF for a, b in zip(line, previous, strict=True))
        row = bytes(up) if filter_type == 2 else line
        pixels += bytes(255 * (row[x // 8] >> (7 - x % 8) & 1) for x in range(width))
        previous = row
    return width, height, bytes(pixels)


def decode_qr(path: Path) -> str:
    """Return the text of the QR code a real decoder finds in the PNG file."""
    width, height, pixels = read_png_grey(path)
    found = zxingcpp.read_barcode(memoryview(pixels).cast("B", (height, width)))
    assert found is not None and found.format == zxingcpp.BarcodeFormat.QRCode
    return str(found.text)


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """Return a runner for the real command line on a fresh SQLite file, in Vietnamese."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bot.db'}")
    monkeypatch.setenv("DEFAULT_LANGUAGE", "vi")
    monkeypatch.delenv("TELEGRAM_BOT_USERNAME", raising=False)
    return CliRunner()


def run(cli: CliRunner, *args: str) -> Result:
    return cli.invoke(app, list(args), catch_exceptions=False)


def add_unit(cli: CliRunner, name: str) -> str:
    result = run(cli, "unit", "add", name, "--json")
    assert result.exit_code == 0, result.stderr
    code: str = json.loads(result.stdout)["invite_code"]
    return code


def test_invite_qr_png_decodes_back_to_the_join_link(cli: CliRunner, tmp_path: Path) -> None:
    code = add_unit(cli, "Xưởng SMT 1")
    result = run(
        cli, "unit", "invite", "Xưởng SMT 1", "--qr", "poster.png", "--bot-username", "@cd_bot"
    )
    assert result.exit_code == 0, result.stderr
    link = f"https://t.me/cd_bot?start={code}"
    assert result.stdout.splitlines() == [code, link]
    assert decode_qr(tmp_path / "poster.png") == link
    width, height, _ = read_png_grey(tmp_path / "poster.png")
    assert width == height >= 600  # large enough to print


def test_invite_json_names_the_link_and_the_absolute_qr_path(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_unit(cli, "Tổ 2")
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "initiative_bot")
    result = run(cli, "unit", "invite", "Tổ 2", "--revoke", "--qr", "tổ-2.png", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["link"] == f"https://t.me/initiative_bot?start={data['invite_code']}"
    assert data["qr"] == str(tmp_path / "tổ-2.png") and Path(data["qr"]).is_absolute()
    assert decode_qr(Path(data["qr"])) == data["link"]


def test_invite_without_qr_prints_only_the_code(cli: CliRunner) -> None:
    code = add_unit(cli, "Tổ 3")
    assert run(cli, "unit", "invite", "Tổ 3", "--json").stdout.strip() == json.dumps(
        {"unit_id": 1, "invite_code": code}
    )


def test_qr_without_a_bot_username_is_refused_in_the_operators_language(
    cli: CliRunner, tmp_path: Path
) -> None:
    add_unit(cli, "Tổ 4")
    result = run(cli, "unit", "invite", "Tổ 4", "--qr", "poster.png")
    assert result.exit_code == 1
    assert result.stderr.strip() == CATALOGS.template("cli.bot_username_missing", "vi")
    assert not (tmp_path / "poster.png").exists()


def test_a_seeded_code_telegram_cannot_carry_is_refused_and_nothing_is_written(
    cli: CliRunner, tmp_path: Path
) -> None:
    (tmp_path / "tree.yaml").write_text("units:\n  - name: Xưởng\n    invite_code: XƯỞNG-1\n")
    assert run(cli, "seed", "tree.yaml").exit_code == 0
    result = run(cli, "unit", "invite", "Xưởng", "--qr", "p.png", "--bot-username", "cd_bot")
    assert result.exit_code == 1
    assert result.stderr.startswith("Không tạo được liên kết Telegram") and "XƯỞNG-1" in (
        result.stderr
    )
    assert not (tmp_path / "p.png").exists()


def test_an_unwritable_qr_path_is_a_localized_error(cli: CliRunner) -> None:
    add_unit(cli, "Tổ 5")
    result = run(
        cli, "unit", "invite", "Tổ 5", "--qr", "no/such/dir/p.png", "--bot-username", "cd_bot"
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("Không ghi được tệp") and "p.png" in result.stderr
