"""The printable sheet of personal join codes: a card per person, pages per workshop.

Each card is cut out and handed over (or pinned to the notice board): the person's name,
employee id, a QR code of their Telegram join link and the code to type. The font is the
DejaVu Sans matplotlib ships, so Vietnamese prints without any system font.
"""

from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

import matplotlib
import segno
from fpdf import FPDF
from PIL import Image

from core.messages import Text
from locales import Catalogs
from services.invites import deep_link
from storage.models import RosterEntry, Unit

FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
FONT = "DejaVu"
# A4 in millimetres: three columns of four cards.
PAGE_W, MARGIN, TOP = 210.0, 10.0, 26.0
COLUMNS, ROWS = 3, 4
CARD_W, CARD_H = (PAGE_W - 2 * MARGIN) / COLUMNS, 64.0
QR_MM = 34.0
QR_SCALE = 8
PER_PAGE = COLUMNS * ROWS


def spaced(code: str) -> str:
    """Return a code in groups of four, easier to read off and type."""
    return " ".join(code[i : i + 4] for i in range(0, len(code), 4))


def qr_image(link: str) -> Image.Image:
    """Return the link as a QR code (error correction at least M), 8 pixels a module.

    Greyscale rather than 1-bit, so the PDF keeps it as plain compressed pixels (which a
    test can read back) instead of a fax encoding.
    """
    matrix = segno.make_qr(link, error="m").matrix
    size = len(matrix)
    modules = Image.new("L", (size, size))
    modules.putdata([0 if dark else 255 for row in matrix for dark in row])
    return modules.resize((size * QR_SCALE, size * QR_SCALE), Image.Resampling.NEAREST)


class JoinSheet:
    """A PDF of personal join cards, rendered in one language."""

    def __init__(self, catalogs: Catalogs, language: str, bot_username: str) -> None:
        self.catalogs, self.language = catalogs, language
        self.bot_username = bot_username
        self.pdf = FPDF(format="A4", unit="mm")
        self.pdf.set_auto_page_break(False)
        self.pdf.add_font(FONT, "", str(FONTS / "DejaVuSans.ttf"))
        self.pdf.add_font(FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
        self.pdf.set_creator("initiative-bot")

    def render(self, text: Text) -> str:
        """Render a text in the sheet's language."""
        return self.catalogs.render(text, self.language)

    def add_unit(self, unit: Unit, entries: Sequence[RosterEntry]) -> None:
        """Add the cards of one unit's people, starting on a new page."""
        for index, entry in enumerate(entries):
            if index % PER_PAGE == 0:
                self._page(unit)
            place = index % PER_PAGE
            x = MARGIN + (place % COLUMNS) * CARD_W
            y = TOP + (place // COLUMNS) * CARD_H
            self._card(entry, x, y)

    def _page(self, unit: Unit) -> None:
        pdf = self.pdf
        pdf.add_page()
        pdf.set_xy(MARGIN, MARGIN)
        pdf.set_font(FONT, "B", 13)
        title = self.render(Text("join_sheet.title", {"unit": unit.name}))
        pdf.cell(PAGE_W - 2 * MARGIN, 7, title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_x(MARGIN)
        pdf.set_font(FONT, "", 8)
        pdf.multi_cell(PAGE_W - 2 * MARGIN, 3.8, self.render(Text("join_sheet.hint")))
        pdf.set_xy(MARGIN, 297 - MARGIN - 4)
        pdf.cell(PAGE_W - 2 * MARGIN, 4, f"{pdf.page_no()}", align="R")

    def _card(self, entry: RosterEntry, x: float, y: float) -> None:
        pdf = self.pdf
        pdf.set_draw_color(160)
        pdf.set_dash_pattern(dash=1.5, gap=1.5)
        pdf.rect(x, y, CARD_W, CARD_H - 2)
        pdf.set_dash_pattern()
        link = deep_link(self.bot_username, entry.code)
        pdf.image(qr_image(link), x=x + (CARD_W - QR_MM) / 2, y=y + 3, w=QR_MM, h=QR_MM)
        pdf.set_xy(x + 2, y + QR_MM + 4)
        pdf.set_font(FONT, "B", 9)
        pdf.multi_cell(CARD_W - 4, 4, entry.name, align="C", max_line_height=4)
        pdf.set_x(x + 2)
        pdf.set_font(FONT, "", 7)
        if entry.employee_id:
            employee = self.render(Text("join_sheet.employee_id", {"id": entry.employee_id}))
            pdf.cell(CARD_W - 4, 3.5, employee, align="C", new_x="LEFT", new_y="NEXT")
        pdf.set_font(FONT, "B", 11)
        pdf.cell(CARD_W - 4, 5.5, spaced(entry.code), align="C", new_x="LEFT", new_y="NEXT")
        pdf.set_font(FONT, "", 6.5)
        pdf.cell(CARD_W - 4, 3.5, self.render(Text("join_sheet.scan")), align="C")

    def write(self, handle: BinaryIO) -> None:
        """Write the PDF."""
        handle.write(bytes(self.pdf.output()))


def write(
    handle: BinaryIO,
    groups: Sequence[tuple[Unit, Sequence[RosterEntry]]],
    *,
    catalogs: Catalogs,
    language: str,
    bot_username: str,
) -> int:
    """Write the cards of each unit's people as one PDF; return how many pages it has."""
    sheet = JoinSheet(catalogs, language, bot_username)
    for unit, entries in groups:
        sheet.add_unit(unit, entries)
    sheet.write(handle)
    return int(sheet.pdf.page_no())
