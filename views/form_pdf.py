"""The application form as a PDF: the filled DOCX laid out again with fpdf2.

The PDF follows the DOCX it is made from, whichever template that was: its paragraphs
(alignment, bold and italic runs, line breaks) and tables, in order. What a PDF made
this way leaves out (pictures, headers, footers, exact fonts) stays in the DOCX. Every
text goes through `html.escape` before fpdf2 reads the HTML: user text is never markup.
"""

import html
import io
from collections.abc import Iterator
from datetime import tzinfo

from docx import Document
from docx.document import Document as DocumentType
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.table import Table
from docx.text.paragraph import Paragraph

from core.messages import OutDocument, Reply, t
from locales import Catalogs
from services.forms import Form
from views import form_docx
from views.pdf_fonts import FAMILY, new_pdf

ALIGN = {
    WD_ALIGN_PARAGRAPH.CENTER: "center",
    WD_ALIGN_PARAGRAPH.RIGHT: "right",
    WD_ALIGN_PARAGRAPH.JUSTIFY: "justify",
}
TITLE = "Đơn yêu cầu công nhận sáng kiến"  # the PDF's title: the form's name, as filed
BODY_SIZE = 11  # points: the DOCX's 13 pt Times is wider than DejaVu Sans


def to_pdf(docx: bytes, *, title: str) -> bytes:
    """Return the PDF of a filled DOCX form."""
    document = Document(io.BytesIO(docx))
    pdf = new_pdf()
    pdf.set_title(title)
    pdf.set_margins(20, 15, 15)
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    for block in _blocks(document):
        # A table's cells take the document's current font, which fpdf2 leaves as the
        # last text's (bold after a bold paragraph): each block starts from the body's.
        pdf.set_font(FAMILY, size=BODY_SIZE)
        pdf.write_html(
            block, font_family=FAMILY, table_line_separators=True, warn_on_tags_not_matching=False
        )
    return bytes(pdf.output())


def _blocks(document: DocumentType) -> Iterator[str]:
    """Yield the HTML of the body's paragraphs and tables, in document order."""
    for element in document.element.body.iterchildren():
        if element.tag.endswith("}p"):
            yield _paragraph(Paragraph(element, document))
        elif element.tag.endswith("}tbl"):
            yield _table(Table(element, document))


def _paragraph(paragraph: Paragraph) -> str:
    align = ALIGN.get(paragraph.alignment) if paragraph.alignment is not None else None
    opening = f'<p align="{align}">' if align else "<p>"
    return f"{opening}{_runs(paragraph) or '&nbsp;'}</p>"


def _runs(paragraph: Paragraph, *, styled: bool = True) -> str:
    """A paragraph's runs, escaped; with their bold, italic and size where `styled`
    (fpdf2 takes a table cell's text only: its heading row is bold, the rest plain)."""
    parts = []
    for run in paragraph.runs:
        text = html.escape(run.text, quote=False).replace("\n", "<br>").replace("\t", " ")
        if not text or not styled:
            parts.append(text)
            continue
        if run.font.size is not None and run.font.size.pt > 13:  # the form's heading
            text = f'<font size="{BODY_SIZE + 2}">{text}</font>'
        if run.bold:
            text = f"<b>{text}</b>"
        if run.italic:
            text = f"<i>{text}</i>"
        parts.append(text)
    return "".join(parts)


def _table(table: Table) -> str:
    """A table: its first row as headings, its columns as wide as in the DOCX."""
    widths = [column.width or 0 for column in table.columns]
    total = sum(widths)
    rows = []
    for number, row in enumerate(table.rows):
        tag = "th" if number == 0 else "td"
        cells = []
        for place, cell in enumerate(row.cells):
            runs = (_runs(p, styled=False) for p in cell.paragraphs)
            text = "<br>".join(runs) or "&nbsp;"
            width = ""
            if number == 0 and total and place < len(widths):
                width = f' width="{100 * widths[place] / total:.1f}%"'
            cells.append(
                f'<{tag}{width} align="{"center" if number == 0 else "left"}">{text}</{tag}>'
            )
        rows.append(f"<tr>{''.join(cells)}</tr>")
    heading, *body = rows or [""]
    return f'<table border="1"><thead>{heading}</thead><tbody>{"".join(body)}</tbody></table>'


def form_documents(form: Form, *, catalogs: Catalogs, zone: tzinfo) -> tuple[OutDocument, ...]:
    """Return an initiative's form as a DOCX to edit and a PDF to print."""
    docx = form_docx.render(form, catalogs=catalogs, zone=zone)
    initiative_id = form.initiative.id or 0
    pdf = to_pdf(docx, title=f"{TITLE} #{initiative_id}")
    return (
        OutDocument(form_docx.file_name(initiative_id, ".docx"), docx),
        OutDocument(form_docx.file_name(initiative_id, ".pdf"), pdf),
    )


def form_reply(form: Form, *, catalogs: Catalogs, zone: tzinfo) -> Reply:
    """The reply that brings an initiative's form, as DOCX and PDF."""
    documents = form_documents(form, catalogs=catalogs, zone=zone)
    initiative = form.initiative
    text = t("form.sent", id=initiative.id or 0, title=initiative.title or "")
    return Reply(text, documents=documents)
