"""The recognition certificate: one page per author, in their language, with the
approval notice; read back from the queued notice's PDF."""

import io
import unicodedata

from pypdf import PdfReader
from sqlmodel import select

from bot.app import Core
from bot.leader.preparing import Preparing
from core.codec import reply_from_json
from core.messages import OutDocument
from storage.db import reading
from storage.models import OutboxMessage
from storage.outbox import Due
from tests.conftest import Clock
from tests.person import Person
from tests.queued import queued
from tests.test_forms import covered, opened
from tests.test_review import act
from tests.tree import Tree, submitted


def notices(core: Core) -> dict[int, tuple[str, tuple[OutDocument, ...]]]:
    """Each member's approval notice: its key and its documents, made as when sent."""
    found: dict[int, tuple[str, tuple[OutDocument, ...]]] = {}
    for row, reply in queued(core):
        if reply.text.key == "notice.approved" and row.member_id is not None:
            found[row.member_id] = (reply.text.key, reply.documents)
    return found


def text_of(pdf: bytes) -> tuple[int, str]:
    pages = PdfReader(io.BytesIO(pdf)).pages
    text = " ".join(page.extract_text() for page in pages)
    return len(pages), " ".join(unicodedata.normalize("NFC", text).split())


def approved_in_chat(core: Core, tree: Tree, clock: Clock, benefit: str) -> int:
    initiative_id = submitted(core, tree, clock, coauthor_share=40)
    council = opened(core, "reviewer", initiative_id, "review.card")
    council.press("act:approve")
    council.say(benefit)
    assert council.press("level:grassroots") == ["review.approved", "review.ask_after"]
    return initiative_id


def test_each_author_gets_a_one_page_certificate_in_their_language(
    core: Core, tree: Tree, clock: Clock
) -> None:
    initiative_id = approved_in_chat(core, tree, clock, "150 triệu")
    sent = notices(core)
    worker, coauthor = tree.people["worker"], tree.people["coauthor"]
    assert set(sent) == {worker, coauthor}
    (vi,) = sent[worker][1]
    (en,) = sent[coauthor][1]
    assert vi.file_name == f"chung-nhan-sang-kien-{initiative_id}.pdf"
    assert en.file_name == f"initiative-certificate-{initiative_id}.pdf"
    day = clock().astimezone(core.settings.tz).strftime("%d/%m/%Y")
    expected = {
        vi: (
            "GIẤY CHỨNG NHẬN SÁNG KIẾN",
            "worker",
            "là tác giả (tỷ lệ đóng góp 60%) của sáng kiến",
            "«Máy dán nhãn tự động»",
            "Cấp công nhận: cơ sở",
            "Hội đồng sáng kiến: Công ty A",
            f"Ngày công nhận: {day}",
            "Giá trị làm lợi được xác nhận: 150.000.000 đ mỗi năm",
        ),
        en: (
            "INITIATIVE RECOGNITION CERTIFICATE",
            "coauthor",
            "contribution share 40%",
            "Recognition level: grassroots",
            "Initiative Council: Công ty A",
            f"Recognized on: {day}",
            "Verified benefit: VND 150,000,000 a year",
        ),
    }
    for certificate, lines in expected.items():
        pages, text = text_of(certificate.content)
        assert pages == 1
        assert [line for line in lines if line not in text] == []
    shown, drawn = covered(vi.content)
    assert {"Ấ", "Ứ", "Ậ", "ế", "đ"} <= shown and shown <= drawn


def test_a_certificate_without_a_benefit_in_money_says_so(
    core: Core, tree: Tree, clock: Clock
) -> None:
    approved_in_chat(core, tree, clock, "/skip")
    (certificate,) = notices(core)[tree.people["worker"]][1]
    text = text_of(certificate.content)[1]
    assert "Giá trị làm lợi: không tính được thành tiền" in text
    assert "mỗi năm" not in text


def test_the_raised_level_brings_a_new_certificate(core: Core, tree: Tree, clock: Clock) -> None:
    initiative_id = submitted(core, tree, clock)
    act(core, clock, tree.people["reviewer"], "approve", initiative_id)
    (first,) = notices(core)[tree.people["worker"]][1]
    assert "Cấp công nhận: cơ sở" in text_of(first.content)[1]
    act(core, clock, tree.people["reviewer"], "recommend", initiative_id)
    zone = Person(core.dispatcher, user_id="superior", channel="telegram")
    zone.say("/review")
    zone.say(choice=f"review:{initiative_id}")
    zone.press("act:approve")
    zone.say("/skip")
    zone.press("level:superior")
    (certificate,) = notices(core)[tree.people["worker"]][1]
    text = text_of(certificate.content)[1]
    assert "Cấp công nhận: cấp trên trực tiếp" in text
    assert "Hội đồng sáng kiến: KCN" in text


def test_the_certificate_is_drawn_as_the_notice_is_sent_not_in_the_approval(
    core: Core, tree: Tree, clock: Clock
) -> None:
    """Drawing takes a third of a second; inside the approval's transaction it held up
    every other chat (on SQLite the whole database). The notice keeps only what to draw."""
    approved_in_chat(core, tree, clock, "150 triệu")
    stored = [
        row.content
        for row, reply in queued(core)
        if reply.text.key == "notice.approved" and row.member_id == tree.people["worker"]
    ]
    assert [(content["documents"], content["later"][0]["kind"]) for content in stored] == [
        ([], "certificate")
    ]


async def test_a_certificate_made_in_a_worker_process_is_the_one_a_thread_makes(
    core: Core, tree: Tree, clock: Clock
) -> None:
    """The outbox sender has documents made away from the bot's process (`Preparing`),
    as digests are: fpdf2 and openpyxl hold the GIL while replies wait."""
    approved_in_chat(core, tree, clock, "150 triệu")
    with reading(core.engine) as session:
        rows = session.exec(
            select(OutboxMessage).where(OutboxMessage.member_id == tree.people["worker"])
        ).all()
    (row,) = [row for row in rows if row.content.get("later")]  # the approval notice
    item = Due(row.id or 0, row.channel, row.chat_id, row.chat_kind, "vi", row.content, 0)
    pool = Preparing(core.engine, core.settings, core.catalogs, processes=1)
    try:  # the worker reads the database through an engine of its own
        by_process = await pool.make(item)
        assert pool._pool is not None  # it did start a worker process
    finally:
        pool.close()
    by_thread = await Preparing(core.engine, core.settings, core.catalogs).make(item)
    made = [reply_from_json(due.content) for due in (by_process, by_thread)]
    assert [reply.later for reply in made] == [(), ()]
    (drawn,), (same,) = (reply.documents for reply in made)
    assert drawn.file_name == same.file_name
    assert text_of(drawn.content) == text_of(same.content)
    assert "GIẤY CHỨNG NHẬN SÁNG KIẾN" in text_of(drawn.content)[1]
