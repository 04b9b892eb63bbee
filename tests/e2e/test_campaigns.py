"""A campaign made in chat by its organizer reaches the workers in their messenger: the
launch on its first morning, and the results after its last day, each once."""

from datetime import UTC, datetime

from sqlmodel import Session, select

from bot.app import Core
from core.messages import t
from storage.models import Initiative
from tests.conftest import DEMO_CODE, Clock
from tests.e2e.conftest import Leading, Messenger, submit

NAME = "Đợt cao điểm 95 ngày"
LAUNCH = f"📣 Đợt thi đua «{NAME}» bắt đầu hôm nay"
RESULTS = f"Đợt thi đua «{NAME}» đã kết thúc"


async def test_campaign_reminders_reach_the_workers_in_their_messenger_each_once(
    core: Core, clock: Clock, enterprise: int, messenger: Messenger, bot: Leading
) -> None:
    organizer = messenger.person(7001, "Phạm Tổ Chức")
    await messenger.enrol(organizer, enterprise)
    messenger.grant(organizer, "organizer", enterprise)
    worker = messenger.person(7002)
    await worker.join(DEMO_CODE)

    await organizer.say("/campaign")
    await organizer.choose(t("campaign.opt_new"))
    await organizer.say(NAME)
    await organizer.say("/skip")
    await organizer.say("01/12/2026")
    await organizer.say("05/03/2027")
    await organizer.say("300")
    plan = await organizer.say("/skip")
    assert NAME in plan[0].text and "05/03/2027" in plan[0].text
    created = await organizer.choose(t("campaign.opt_create"))
    assert f"«{NAME}»" in created[0].text
    assert await bot.tick() == 0  # nothing before the first day

    clock.now = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 08:00 on the first day
    assert await bot.tick() == 2  # the worker and the organizer
    await bot.settle()
    (launch,) = await worker.replies(1)
    assert launch.text.startswith(LAUNCH) and "05/03/2027" in launch.text
    assert LAUNCH in (await organizer.replies(1))[0].text
    clock.now = datetime(2026, 12, 1, 5, 0, tzinfo=UTC)
    assert await bot.tick() == 0  # once

    await submit(worker, "Máy dán nhãn tự động")  # counted toward the campaign
    await bot.settle(worker)
    clock.now = datetime(2027, 3, 6, 0, 30, tzinfo=UTC)  # 07:30 the day after the last
    assert await bot.tick() == 2  # the results only: the reminders before were missed
    await bot.settle()
    (results,) = await worker.replies(1)
    assert results.text.startswith(RESULTS) and "1 / 300" in results.text
    assert await bot.tick() == 0
    reminded = [m.text for m in await worker.messages() if NAME in m.text]
    assert [text.startswith((LAUNCH, RESULTS)) for text in reminded] == [True, True]
    with Session(core.engine) as session:
        initiative = session.exec(select(Initiative)).one()
        assert initiative.campaign_id == 1
