"""The submission wizard end to end, with the details and files, on each messenger."""

import pytest
from sqlmodel import Session, col, select

from bot.app import Core
from core.messages import t
from sandbox.client import SandboxClient
from storage.models import Attachment, Author, Initiative
from tests.conftest import DEMO_CODE
from tests.e2e.conftest import EVERY_CLIENT, Leading, Messenger
from tests.e2e.people import TelegramPerson, text_of

PHOTO = b"\x89PNG\r\n\x1a\n" + b"jig on the press " * 20
PDF = b"%PDF-1.4 calculation"
TITLE = "Đồ gá thay khuôn nhanh <b>mới</b>"  # markup typed by a person is text


@pytest.mark.parametrize("messenger", EVERY_CLIENT, indirect=True)
async def test_a_worker_joins_and_submits_with_details_coauthors_and_files(
    core: Core, unit_id: int, messenger: Messenger, bot: Leading
) -> None:
    worker = messenger.person(5001)
    await worker.join(DEMO_CODE)
    await worker.say("/new", expect=2)
    await worker.say(TITLE)
    await worker.say("Thay khuôn máy ép mất 45 phút mỗi lần, dây chuyền phải dừng")
    fields = await worker.say("Chế tạo đồ gá định vị để thay khuôn trong 10 phút")
    assert "Cải tiến kỹ thuật" in [label for label, _ in fields[0].options]
    await worker.choose("Cải tiến kỹ thuật", typed=True)
    saved = await worker.say("khoảng 1,5 tỷ/năm", expect=2)
    assert "1.500.000.000 đ" in text_of(saved)
    await worker.choose(t("wizard.opt_add_details"))
    await worker.say("Giảm 35 phút dừng máy mỗi lần thay khuôn")
    await worker.choose(t("wizard.opt_with_others"))
    await worker.say("Trần Thị Bình 30%")
    await worker.say("Lê Văn Cường 20%")
    await worker.say("/done")
    await worker.choose(t("common.yes"))
    await worker.say("15/03/2026")
    await worker.say("Máy ép có chốt định vị")  # what applying it needs
    await worker.say("Phạm Văn Đức; Lê Thị Hoa")  # who took part in applying it
    await worker.send_photo(PHOTO)
    if isinstance(worker, TelegramPerson):  # Zalo takes pictures only
        await worker.send_document(PDF, "tinh-toan.pdf")
    await worker.say("/done")
    (summary,) = await worker.choose(t("common.no"))
    assert TITLE in summary.text  # shown as typed: escaped on Telegram, plain on Zalo
    done = await worker.choose(t("wizard.opt_submit"), expect=2)
    assert "#1" in text_of(done)

    with Session(core.engine) as session:
        initiative = session.exec(select(Initiative)).one()
        assert (initiative.status, initiative.field) == ("submitted", "technical")
        assert initiative.title == TITLE
        assert initiative.estimated_benefit_vnd == 1_500_000_000
        assert str(initiative.first_applied_on) == "2026-03-15"
        assert initiative.apply_conditions == "Máy ép có chốt định vị"
        assert initiative.apply_participants == "Phạm Văn Đức; Lê Thị Hoa"
        authors = session.exec(select(Author).order_by(col(Author.id))).all()
        assert [(a.name, a.share_percent) for a in authors] == [
            ("Nguyễn Văn An", 50),
            ("Trần Thị Bình", 30),
            ("Lê Văn Cường", 20),
        ]
        files = session.exec(select(Attachment).order_by(col(Attachment.id))).all()
    client = messenger.client
    if isinstance(client, SandboxClient):  # kept by Telegram's file ids
        assert [(f.kind, f.channel) for f in files] == [
            ("photo", "telegram"),
            ("document", "telegram"),
        ]
        assert summary.raw["parse_mode"] == "HTML"  # the emulator took it as valid HTML
        assert await client.file(files[1].file_ref) == PDF
        languages = {key.rpartition(":")[2] for key in await client.commands()}
        assert {"vi", "en", "id"} <= languages  # the command menu, in each language
    else:  # Zalo's picture addresses expire: the bot keeps the bytes
        assert [(f.kind, f.channel) for f in files] == [("photo", "kept")]
        assert core.files.path(files[0].file_ref).read_bytes() == PHOTO
        assert not any("<b>" in m.text for m in await worker.messages() if TITLE not in m.text)
        assert not await client.calls("editMessageText")  # a Telegram method: never called
