"""/export in chat end to end, on each messenger: the answer comes at once, and the
workbook follows through the outbox, made as it is sent (`views.later`), not in the
transaction of the update that asked for it."""

import io

import openpyxl

from bot.app import Core
from tests.conftest import DEMO_CODE, Clock
from tests.e2e.conftest import Leading, Messenger
from tests.e2e.people import TelegramPerson, text_of
from tests.e2e.test_search import TITLE, recognized_in_the_workshop


async def test_a_council_member_gets_the_answer_then_the_workbook(
    core: Core, unit_id: int, clock: Clock, enterprise: int, messenger: Messenger, bot: Leading
) -> None:
    first = recognized_in_the_workshop(core, unit_id, clock)
    council = messenger.person(5301)
    await council.join(DEMO_CODE)
    messenger.grant(council, "reviewer", enterprise)
    answer = text_of(await council.say("/export"))
    assert "Đang chuẩn bị bảng tính sáng kiến" in answer and "(1 sáng kiến)" in answer
    await bot.settle()
    await council.shown("Bảng tính sáng kiến của")  # the text, then the document
    if isinstance(council, TelegramPerson):
        (file_id,) = [m.raw["document"] for m in await council.messages() if m.raw.get("document")]
        book = openpyxl.load_workbook(io.BytesIO(await messenger.client.file(file_id)))
        rows = list(book.worksheets[0].iter_rows(min_row=2, values_only=True))
        assert [(row[0], row[1]) for row in rows] == [(first, TITLE)]
    else:  # Zalo takes no documents: the workbook's name (a link with PUBLIC_BASE_URL)
        assert "📎 sang-kien-cong-ty-a-" in text_of(await council.messages())


async def test_a_worker_asking_for_it_gets_a_no_and_nothing_queued(
    core: Core, unit_id: int, messenger: Messenger, bot: Leading
) -> None:
    worker = messenger.person(5302)
    await worker.join(DEMO_CODE)
    assert "Chỉ thành viên Hội đồng sáng kiến" in text_of(await worker.say("/export"))
    assert bot.waiting() == 0
