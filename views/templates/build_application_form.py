"""Build `application_form.docx`, the application for recognition of an initiative as
Circular 18/2013/TT-BKHCN guides it for Decree 13/2012/NĐ-CP, with Jinja tags for docxtpl.

Run `python -m views.templates.build_application_form` after changing this script and
commit both: a reviewer reads the wording here, an organization opens the DOCX to make
its own. The form is Vietnamese whoever reads it: it is filed with a Vietnamese council.

The names a template may use are those `views.form_docx.context` fills (see README):
`id`, `council`, `owner`, `title`, `field`, `first_applied`, `applied`, `problem`,
`solution`, `confidential`, `conditions`, `benefit`, `effects`, `participants`,
`authors` (each `number`, `name`, `workplace`, `share`), `day`, `month`, `year`.
"""

import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from docx import Document as new_document
from docx.document import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt
from docx.table import Table
from docx.text.paragraph import Paragraph

TARGET = Path(__file__).with_name("application_form.docx")
# Fixed dates, so that building again gives the same bytes: git shows a change only when
# the form changed.
WRITTEN = datetime(2026, 12, 6, tzinfo=UTC)
DOTS = "…" * 40
AUTHOR_HEADINGS = (
    "Số TT",
    "Họ và tên",
    "Ngày tháng năm sinh",
    "Nơi công tác (hoặc nơi thường trú)",
    "Chức danh",
    "Trình độ chuyên môn",
    "Tỷ lệ (%) đóng góp vào việc tạo ra sáng kiến",
)
AUTHOR_WIDTHS = (1.1, 3.4, 2.0, 3.7, 1.9, 1.9, 2.0)  # cm: the page's 16 cm between margins
AUTHOR_CELLS = ("{{ a.number }}", "{{ a.name }}", "", "{{ a.workplace }}", "", "", "{{ a.share }}")
HELPER_HEADINGS = (
    "Số TT",
    "Họ và tên",
    "Ngày tháng năm sinh",
    "Nơi công tác",
    "Chức danh",
    "Trình độ chuyên môn",
    "Nội dung công việc hỗ trợ",
)
HELPER_WIDTHS = (1.1, 3.4, 2.0, 3.2, 1.9, 1.9, 2.5)
HELPER_CELLS = (
    "{{ p.number }}",
    "{{ p.name }}",
    "{{ p.born }}",
    "{{ p.workplace }}",
    "{{ p.position }}",
    "{{ p.qualification }}",
    "{{ p.work }}",
)


def line(
    doc: Document,
    text: str = "",
    *,
    bold: bool = False,
    italic: bool = False,
    align: WD_ALIGN_PARAGRAPH | None = None,
    size: int | None = None,
) -> Paragraph:
    """Add a paragraph of one run."""
    paragraph = doc.add_paragraph()
    if align is not None:
        paragraph.alignment = align
    run = paragraph.add_run(text)
    run.bold, run.italic = bold, italic
    if size is not None:
        run.font.size = Pt(size)
    return paragraph


def item(doc: Document, label: str, value: str) -> Paragraph:
    """Add a `- label: value` line of the form, the label as the form prints it."""
    paragraph = doc.add_paragraph()
    paragraph.add_run(f"- {label}: ")
    paragraph.add_run(value)
    return paragraph


def table(
    doc: Document,
    headings: tuple[str, ...],
    widths: tuple[float, ...],
    cells: tuple[str, ...],
    loop: str,
) -> Table:
    """Add a table with a heading row and one row repeated for each item of `loop`."""
    grid: Table = doc.add_table(rows=4, cols=len(headings))
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    grid.autofit = False
    for column, width in zip(grid.columns, widths, strict=True):
        column.width = Cm(width)
        for cell in column.cells:
            cell.width = Cm(width)
    for cell, heading in zip(grid.rows[0].cells, headings, strict=True):
        cell.paragraphs[0].add_run(heading).bold = True
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    grid.rows[1].cells[0].paragraphs[0].add_run(f"{{%tr for {loop} %}}")
    for cell, text in zip(grid.rows[2].cells, cells, strict=True):
        cell.paragraphs[0].add_run(text)
    grid.rows[3].cells[0].paragraphs[0].add_run("{%tr endfor %}")
    return grid


def build() -> Document:
    """Return the form as a document with Jinja tags."""
    doc = new_document()
    for section in doc.sections:
        section.page_height, section.page_width = Cm(29.7), Cm(21)
        section.left_margin, section.right_margin = Cm(3), Cm(2)
        section.top_margin = section.bottom_margin = Cm(2)
    normal = doc.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(13)
    center = WD_ALIGN_PARAGRAPH.CENTER
    line(doc, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold=True, align=center)
    line(doc, "Độc lập - Tự do - Hạnh phúc", bold=True, align=center)
    line(doc, "———————", align=center)
    line(doc, "ĐƠN YÊU CẦU CÔNG NHẬN SÁNG KIẾN", bold=True, align=center, size=14)
    line(doc, "(Mã sáng kiến trên hệ thống: {{ id }})", italic=True, align=center, size=11)
    line(doc, "Kính gửi: Hội đồng sáng kiến {{ council }}", align=center)
    line(doc, "Tôi (chúng tôi):")
    table(doc, AUTHOR_HEADINGS, AUTHOR_WIDTHS, AUTHOR_CELLS, "a in authors")
    title = line(doc, "Là tác giả (nhóm tác giả) đề nghị xét công nhận sáng kiến: ")
    title.add_run("{{ title }}").bold = True
    item(doc, "Chủ đầu tư tạo ra sáng kiến", "{{ owner }}")
    item(doc, "Lĩnh vực áp dụng sáng kiến", "{{ field }}")
    item(
        doc,
        "Ngày sáng kiến được áp dụng lần đầu hoặc áp dụng thử",
        "{% if first_applied %}{{ first_applied }}{% elif applied == false %}"
        f"Chưa áp dụng{{% else %}}{DOTS}{{% endif %}}",
    )
    item(doc, "Mô tả bản chất của sáng kiến", "")
    line(doc, "+ Tình trạng trước khi có sáng kiến (vấn đề cần giải quyết): {{ problem }}")
    line(doc, "+ Nội dung giải pháp: {{ solution }}")
    item(
        doc,
        "Những thông tin cần được bảo mật (nếu có)",
        "{% if confidential %}Toàn bộ nội dung giải pháp nêu trên là bí mật công nghệ của "
        "{{ owner }}, chỉ người có thẩm quyền được tiếp cận.{% else %}Không có.{% endif %}",
    )
    item(
        doc,
        "Các điều kiện cần thiết để áp dụng sáng kiến",
        f"{{% if conditions %}}{{{{ conditions }}}}{{% else %}}{DOTS}{{% endif %}}",
    )
    item(
        doc,
        "Đánh giá lợi ích thu được hoặc dự kiến có thể thu được do áp dụng sáng kiến theo ý "
        "kiến của tác giả",
        "",
    )
    line(
        doc,
        "+ Giá trị làm lợi dự kiến (một năm): {% if benefit %}{{ benefit }}"
        "{% else %}Không tính được thành tiền{% endif %}",
    )
    line(
        doc, f"+ Lợi ích khác: {{% if effects %}}{{{{ effects }}}}{{% else %}}{DOTS}{{% endif %}}"
    )
    item(
        doc,
        "Đánh giá lợi ích thu được hoặc dự kiến có thể thu được do áp dụng sáng kiến theo ý "
        "kiến của tổ chức, cá nhân đã tham gia áp dụng sáng kiến lần đầu, kể cả áp dụng thử "
        "(nếu có)",
        DOTS,
    )
    item(
        doc,
        "Danh sách những người đã tham gia áp dụng thử hoặc áp dụng sáng kiến lần đầu (nếu có)",
        "",
    )
    table(doc, HELPER_HEADINGS, HELPER_WIDTHS, HELPER_CELLS, "p in participants")
    line(
        doc,
        "Tôi (chúng tôi) xin cam đoan mọi thông tin nêu trong đơn là trung thực, đúng sự thật "
        "và hoàn toàn chịu trách nhiệm trước pháp luật.",
    )
    right = WD_ALIGN_PARAGRAPH.RIGHT
    line(doc, "……………, ngày {{ day }} tháng {{ month }} năm {{ year }}", italic=True, align=right)
    line(doc, "Người nộp đơn", bold=True, align=right)
    line(doc, "(Ký và ghi rõ họ tên)", italic=True, align=right)
    line(doc, "{%p for a in authors %}")
    line(doc, "", align=right)
    line(doc, "", align=right)
    line(doc, "{{ a.name }}", bold=True, align=right)
    line(doc, "{%p endfor %}")
    return doc


def reproducible(doc: Document) -> bytes:
    """Return the document's bytes with fixed dates in its properties and its zip."""
    doc.core_properties.created = doc.core_properties.modified = WRITTEN
    doc.core_properties.last_printed = WRITTEN
    doc.core_properties.revision = 1
    doc.core_properties.author = ""
    doc.core_properties.title = "Đơn yêu cầu công nhận sáng kiến"
    saved = io.BytesIO()
    doc.save(saved)
    fixed = io.BytesIO()
    with zipfile.ZipFile(saved) as source, zipfile.ZipFile(fixed, "w") as target:
        for entry in source.infolist():
            stamped = zipfile.ZipInfo(entry.filename, date_time=WRITTEN.timetuple()[:6])
            stamped.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(stamped, source.read(entry))
    return fixed.getvalue()


if __name__ == "__main__":
    TARGET.write_bytes(reproducible(build()))
