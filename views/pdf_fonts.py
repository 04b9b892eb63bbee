"""PDF pages with a Unicode font: the DejaVu Sans that matplotlib ships, so Vietnamese
diacritics come out right without any font installed on the machine."""

from pathlib import Path

from fpdf import FPDF

FAMILY = "DejaVu"
# (style, file): fpdf2 embeds only the glyphs a document uses.
FACES = (
    ("", "DejaVuSans.ttf"),
    ("B", "DejaVuSans-Bold.ttf"),
    ("I", "DejaVuSans-Oblique.ttf"),
    ("BI", "DejaVuSans-BoldOblique.ttf"),
)


def font_folder() -> Path:
    """Return the folder of matplotlib's TrueType fonts."""
    import matplotlib  # imported here: loading it costs every command line start

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def new_pdf() -> FPDF:
    """Return an empty A4 document with the DejaVu faces added, in the regular face."""
    pdf = FPDF(format="A4")
    folder = font_folder()
    for style, file_name in FACES:
        pdf.add_font(FAMILY, style, str(folder / file_name))
    pdf.set_font(FAMILY, size=12)
    return pdf
