"""Telegram deep links that join a unit, and their QR codes for posters."""

import re
from pathlib import Path

import segno

# Telegram's rules: a username has 5-32 of [A-Za-z0-9_]; a start parameter 1-64 of these plus '-'.
USERNAME = re.compile(r"[A-Za-z0-9_]{5,32}")
START_PARAMETER = re.compile(r"[A-Za-z0-9_-]{1,64}")
# 20 px a module: a typical link (41 modules with the border) prints ~7 cm wide at 300 dpi.
QR_SCALE = 20
QR_BORDER = 4
QR_DPI = 300


def deep_link(bot_username: str, code: str) -> str:
    """Return the t.me link that sends `/start CODE` to the bot, refusing what Telegram would."""
    username = bot_username.strip().removeprefix("@")
    if not USERNAME.fullmatch(username):
        raise ValueError(f"not a Telegram bot username: {bot_username!r}")
    if not START_PARAMETER.fullmatch(code):
        raise ValueError(f"not usable as a Telegram start parameter: {code!r}")
    return f"https://t.me/{username}?start={code}"


def write_qr(link: str, path: Path) -> None:
    """Write `link` as a printable PNG QR code (error correction at least M) to `path`."""
    qr = segno.make_qr(link, error="m")
    qr.save(str(path), kind="png", scale=QR_SCALE, border=QR_BORDER, dpi=QR_DPI)
