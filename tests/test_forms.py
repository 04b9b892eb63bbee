"""The application form: who may have it, and every field read back from the DOCX and the
PDF (its text, its fonts, and its rendered Vietnamese diacritics)."""

import io
import unicodedata
from datetime import date

import pymupdf
import pytest
from docx import Document
from fontTools.ttLib import TTFont
from pypdf import PdfReader
from sqlmodel import select

from bot.app import Core
from core.errors import Refused
from services import forms, initiatives, roles
from storage.db import transaction
from storage.models import Author, Initiative, Member, Unit
from tests.conftest import Clock
from tests.person import Person
from tests.test_confidential import opened
from tests.test_review import act
from tests.tree import Tree, submitted
from views import form_docx, form_pdf
from views.form_docx import TEMPLATE
from views.templates.build_application_form import build, reproducible

TITLE = "Cải tiến khuôn ép <nhựa> & «giảm phế phẩm» {{ 7*7 }}"
PROBLEM = "Dán nhãn bằng tay mất nhiều thời gian.\nTỷ lệ lỗi cao ở ca đêm."


def detailed(core: Core, tree: Tree, clock: Clock, *, confidential: bool = False) -> int:
    """A submitted initiative with a co-author and every detail the wizard asks for."""
    initiative_id = submitted(core, tree, clock, coauthor_share=30)
    with transaction(core.engine) as session:
        initiative = session.get(Initiative, initiative_id)
        assert initiative is not None
        initiative.title, initiative.problem = TITLE, PROBLEM
        initiative.other_effects = "Giảm tai nạn lao động"
        initiative.applied, initiative.first_applied_on = True, date(2026, 10, 1)
        initiative.apply_conditions = "Máy dán nhãn có cảm biến quang"
        initiative.apply_participants = "Phạm Văn Đức - tổ trưởng\nLê Thị Hoa;  "
        initiative.confidential = confidential
        session.add(
            Author(initiative_id=initiative_id, name="Trần Thị Ngọc Ánh", share_percent=10)
        )
        worker = session.exec(
            select(Author).where(Author.initiative_id == initiative_id, Author.is_submitter)
        ).one()
        worker.share_percent = 60
    return initiative_id


def form_for(core: Core, who: int, initiative_id: int) -> forms.Form:
    with transaction(core.engine) as session:
        member = session.get(Member, who)
        assert member is not None
        return forms.for_member(session=session, member=member, initiative_id=initiative_id)


def documents(core: Core, tree: Tree, initiative_id: int) -> tuple[bytes, bytes]:
    form = form_for(core, tree.people["worker"], initiative_id)
    docx, pdf = form_pdf.form_documents(form, catalogs=core.catalogs, zone=core.settings.tz)
    assert docx.file_name.endswith(".docx") and pdf.file_name.endswith(".pdf")
    return docx.content, pdf.content


def test_the_docx_has_every_field_in_its_place(core: Core, tree: Tree, clock: Clock) -> None:
    initiative_id = detailed(core, tree, clock, confidential=True)
    document = Document(io.BytesIO(documents(core, tree, initiative_id)[0]))
    paragraphs = [p.text for p in document.paragraphs]

    def after(label: str) -> str:
        found = [text for text in paragraphs if text.startswith(label)]
        assert len(found) == 1, (label, paragraphs)
        return found[0].removeprefix(label)

    assert "ĐƠN YÊU CẦU CÔNG NHẬN SÁNG KIẾN" in paragraphs
    assert after("Kính gửi: Hội đồng sáng kiến ") == "Công ty A"
    assert after("(Mã sáng kiến trên hệ thống: ") == f"{initiative_id})"
    # User text is text: no markup, no template evaluation.
    assert after("Là tác giả (nhóm tác giả) đề nghị xét công nhận sáng kiến: ") == TITLE
    assert after("- Chủ đầu tư tạo ra sáng kiến: ") == "Công ty A"
    assert after("- Lĩnh vực áp dụng sáng kiến: ") == "Cải tiến kỹ thuật"
    assert after("- Ngày sáng kiến được áp dụng lần đầu hoặc áp dụng thử: ") == "01/10/2026"
    assert after("+ Tình trạng trước khi có sáng kiến (vấn đề cần giải quyết): ") == PROBLEM
    assert after("+ Nội dung giải pháp: ") == "Lắp cảm biến và cơ cấu dán tự động"
    assert "bí mật công nghệ của Công ty A" in after("- Những thông tin cần được bảo mật")
    assert after("+ Giá trị làm lợi dự kiến (một năm): ") == "120.000.000 đ"
    assert after("+ Lợi ích khác: ") == "Giảm tai nạn lao động"
    conditions = "- Các điều kiện cần thiết để áp dụng sáng kiến: "
    assert after(conditions) == "Máy dán nhãn có cảm biến quang"
    assert any(p.startswith("Tôi (chúng tôi) xin cam đoan") for p in paragraphs)
    signed = clock().astimezone(core.settings.tz)
    assert f"ngày {signed.day:02d} tháng {signed.month:02d} năm {signed.year}" in after("……")
    # A signature line for each author, submitter first.
    signing = paragraphs[paragraphs.index("(Ký và ghi rõ họ tên)") :]
    assert [p for p in signing if p in ("worker", "coauthor", "Trần Thị Ngọc Ánh")] == [
        "worker",
        "coauthor",
        "Trần Thị Ngọc Ánh",
    ]
    authors, helpers = document.tables
    rows = [[cell.text for cell in row.cells] for row in authors.rows]
    assert rows[0][1] == "Họ và tên" and rows[0][6].startswith("Tỷ lệ (%)")
    assert [(r[0], r[1], r[3], r[6]) for r in rows[1:]] == [
        ("1", "worker", "Xưởng A1, Công ty A", "60"),
        ("2", "coauthor", "Xưởng A1, Công ty A", "30"),
        ("3", "Trần Thị Ngọc Ánh", "…" * 12, "10"),  # not a member: filled in by hand
    ]
    assert [row.cells[6].text for row in helpers.rows][0] == "Nội dung công việc hỗ trợ"
    assert len(helpers.rows) == 1 + form_docx.BLANK_ROWS
    named = [(row.cells[0].text, row.cells[1].text) for row in helpers.rows[1:]]
    assert named[:3] == [("1", "Phạm Văn Đức - tổ trưởng"), ("2", "Lê Thị Hoa"), ("3", "")]


def test_the_template_in_the_repository_is_what_its_script_builds() -> None:
    assert TEMPLATE.read_bytes() == reproducible(build())


def test_a_form_says_what_is_not_known(core: Core, tree: Tree, clock: Clock) -> None:
    initiative_id = submitted(core, tree, clock)
    with transaction(core.engine) as session:
        initiative = session.get(Initiative, initiative_id)
        assert initiative is not None
        initiative.applied, initiative.estimated_benefit_vnd = False, None
    paragraphs = [
        p.text for p in Document(io.BytesIO(documents(core, tree, initiative_id)[0])).paragraphs
    ]
    assert "- Ngày sáng kiến được áp dụng lần đầu hoặc áp dụng thử: Chưa áp dụng" in paragraphs
    assert "+ Giá trị làm lợi dự kiến (một năm): Không tính được thành tiền" in paragraphs
    assert "- Những thông tin cần được bảo mật (nếu có): Không có." in paragraphs
    conditions = "- Các điều kiện cần thiết để áp dụng sáng kiến: "
    assert [p for p in paragraphs if p.startswith(conditions)][0].endswith("……")  # by hand


def flat(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def test_the_pdf_reads_back_in_vietnamese(core: Core, tree: Tree, clock: Clock) -> None:
    initiative_id = detailed(core, tree, clock)
    pdf = documents(core, tree, initiative_id)[1]
    text = flat(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))
    for expected in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "ĐƠN YÊU CẦU CÔNG NHẬN SÁNG KIẾN",
        "Kính gửi: Hội đồng sáng kiến Công ty A",
        f"đề nghị xét công nhận sáng kiến: {TITLE}",
        "Lĩnh vực áp dụng sáng kiến: Cải tiến kỹ thuật",
        "Dán nhãn bằng tay mất nhiều thời gian. Tỷ lệ lỗi cao ở ca đêm.",
        "Giá trị làm lợi dự kiến (một năm): 120.000.000 đ",
        "Trần Thị Ngọc Ánh",
        "Xưởng A1, Công ty A",
        "xin cam đoan mọi thông tin nêu trong đơn là trung thực",
    ):
        assert expected in text


def covered(pdf: bytes) -> tuple[set[str], set[str]]:
    """Return the characters a PDF shows, and those its embedded fonts draw (a glyph
    with outlines behind each code point, read with fontTools)."""
    document = pymupdf.open(stream=pdf, filetype="pdf")
    shown: set[str] = set()
    drawn: set[str] = set()
    for page in document:
        shown |= {c for c in unicodedata.normalize("NFC", page.get_text()) if not c.isspace()}
        for xref, *_ in page.get_fonts():
            buffer = document.extract_font(xref)[3]
            font = TTFont(io.BytesIO(buffer))
            glyphs = font["glyf"]
            for code, name in font.getBestCmap().items():
                if name != ".notdef" and glyphs[name].numberOfContours != 0:
                    drawn.add(chr(code))
    return shown, drawn


def ink(pdf: bytes, line: str) -> tuple[int, bytes]:
    """Return how many dark pixels the first page's rendering of `line` has in the top
    third of each line it takes, where the marks above the letters are, and the pixels."""
    page = pymupdf.open(stream=pdf, filetype="pdf")[0]
    found = page.search_for(line)
    assert found, line
    samples = b""
    for area in found:
        top = pymupdf.Rect(area.x0, area.y0 - 3, area.x1, area.y0 + area.height / 3)
        samples += page.get_pixmap(dpi=150, clip=top, colorspace=pymupdf.csGRAY).samples
    return sum(1 for value in samples if value < 128), samples


def bare(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def test_the_pdf_draws_each_vietnamese_letter(core: Core, tree: Tree, clock: Clock) -> None:
    initiative_id = submitted(core, tree, clock)
    line = "Nguyễn Thị Ánh Tuyết ước được ở Đồng Nai"
    with transaction(core.engine) as session:
        initiative = session.get(Initiative, initiative_id)
        assert initiative is not None
        initiative.title = line
    pdf = documents(core, tree, initiative_id)[1]
    shown, drawn = covered(pdf)
    assert {"ễ", "ị", "Á", "ế", "ư", "ớ", "ợ", "ở", "Đ", "ồ"} <= shown
    assert shown <= drawn, sorted(shown - drawn)  # no box, no blank for any letter
    with transaction(core.engine) as session:
        initiative = session.get(Initiative, initiative_id)
        assert initiative is not None
        initiative.title = bare(line)
    plain = documents(core, tree, initiative_id)[1]
    marked_ink, marked = ink(pdf, line)
    plain_ink, unmarked = ink(plain, bare(line))
    # The marks are drawn: more ink than the same letters without them.
    assert marked != unmarked
    assert marked_ink > plain_ink * 1.08


# who may download the form: (who, confidential?) -> allowed
ACCESS = [
    ("worker", False, True),  # its author
    ("coauthor", False, True),
    ("reviewer", False, True),  # the council over its unit
    ("superior", False, True),  # the council above
    ("leader", False, True),  # a leader over its enterprise
    ("sibling", False, False),  # another enterprise's council
    ("revoked", False, False),
    ("worker", True, True),
    ("reviewer", True, True),
    ("leader", True, True),
    ("superior", True, False),  # confidential: not above the council that recognizes it
    ("zone_leader", True, False),
    ("sibling", True, False),
]


@pytest.mark.parametrize(("who", "confidential", "allowed"), ACCESS)
def test_who_may_download_the_form(
    core: Core, tree: Tree, clock: Clock, who: str, confidential: bool, allowed: bool
) -> None:
    initiative_id = detailed(core, tree, clock, confidential=confidential)
    person = who
    if who in ("leader", "zone_leader"):
        person = "revoked"  # a member with no role left, made a leader here
        with transaction(core.engine) as session:
            member = session.get(Member, tree.people[person])
            unit = session.get(Unit, tree.a if who == "leader" else tree.zone)
            assert member is not None and unit is not None
            roles.grant(session=session, member=member, unit=unit, role="leader", now=clock())
    if allowed:
        assert form_for(core, tree.people[person], initiative_id).initiative.id == initiative_id
    else:
        with pytest.raises(Refused) as refused:
            form_for(core, tree.people[person], initiative_id)
        assert refused.value.text.key == "form.not_allowed"


def test_a_draft_form_is_its_authors_only(core: Core, tree: Tree, clock: Clock) -> None:
    with transaction(core.engine) as session:
        worker = session.get(Member, tree.people["worker"])
        assert worker is not None
        draft_id = initiatives.start_draft(session=session, member=worker, now=clock()).id or 0
    assert form_for(core, tree.people["worker"], draft_id).initiative.id == draft_id
    with pytest.raises(Refused):
        form_for(core, tree.people["reviewer"], draft_id)
    with pytest.raises(Refused):
        form_for(core, tree.people["worker"], draft_id + 1000)


def test_an_author_downloads_the_form_from_my(core: Core, tree: Tree, clock: Clock) -> None:
    initiative_id = detailed(core, tree, clock)
    coauthor = Person(core.dispatcher, user_id="coauthor", channel="telegram")
    coauthor.say("/my")
    assert f"form:{initiative_id}" in coauthor.options
    assert coauthor.say(choice=f"form:{initiative_id}") == ["form.sent"]
    assert coauthor.last is not None
    sent = coauthor.last.replies[0].documents
    assert [d.file_name for d in sent] == [
        f"don-yeu-cau-cong-nhan-sang-kien-{initiative_id}.docx",
        f"don-yeu-cau-cong-nhan-sang-kien-{initiative_id}.pdf",
    ]
    assert Document(io.BytesIO(sent[0].content)).tables[0].rows[2].cells[1].text == "coauthor"
    assert sent[1].content.startswith(b"%PDF")


def test_the_council_downloads_it_from_the_card_and_the_one_above_not_when_confidential(
    core: Core, tree: Tree, clock: Clock
) -> None:
    initiative_id = detailed(core, tree, clock, confidential=True)
    council = opened(core, "reviewer", initiative_id, "review.card")
    assert council.press("act:form") == ["form.sent"]
    assert council.last is not None and len(council.last.replies[0].documents) == 2
    assert "review.ask_benefit" in council.press("act:approve")  # the card stayed open
    act(core, clock, tree.people["reviewer"], "approve", initiative_id)
    act(core, clock, tree.people["reviewer"], "recommend", initiative_id)
    zone = opened(core, "superior", initiative_id, "review.card_confidential")
    assert not any(o.startswith("act:form") for o in zone.options)
    # A forged press of the form button is not taken either.
    assert zone.say(choice=f"act:form:{initiative_id}") == [
        "common.pick_option",
        "review.card_confidential",
    ]
    assert zone.last is not None and all(not r.documents for r in zone.last.replies)
