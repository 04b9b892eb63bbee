"""Through the sandbox: submit, changes requested, resubmit, approve; one notice per step."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlmodel import Session, select

from bot.app import Core
from bot.channels.telegram.channel import TelegramChannel
from bot.dispatch.dispatcher import utc_now
from bot.leader.outbox import OutboxSender
from sandbox.client import SandboxClient
from services import roles
from storage.db import transaction
from storage.members import member_for
from storage.models import Initiative, OutboxMessage
from storage.units import unit_by_id
from tests.conftest import DEMO_CODE, Clock
from tests.telegram.conftest import TelegramUser, wait_until

# A phrase only each notice has, in the language of its recipient.
WORKER_NOTICES = {  # the worker reads English
    "has been received": "received",
    "asks you to revise": "changes",
    "has been recognized": "approved",
}
REVIEWER_NOTICE = "chờ bạn xem xét"  # the reviewer reads Vietnamese


@pytest.fixture
async def sending(core: Core, polling: TelegramChannel) -> AsyncIterator[OutboxSender]:
    """Run the outbox sender next to polling, woken after each update like `run` does."""
    sender = OutboxSender(
        engine=core.engine,
        channels={"telegram": polling},
        clock=utc_now,
    )
    polling.after_update = sender.notify
    task = asyncio.create_task(sender.run())
    yield sender
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def all_sent(core: Core) -> bool:
    with Session(core.engine) as session:
        return all(m.status == "sent" for m in session.exec(select(OutboxMessage)).all())


async def settle(core: Core, *people: TelegramUser) -> None:
    """Wait until every queued notice went out, then count them as seen."""
    await wait_until(lambda: all_sent(core), timeout=20)
    for person in people:
        person.seen = len(await person.users.messages(person.user_id))


async def message(users: SandboxClient, user: TelegramUser, message_id: int) -> dict[str, Any]:
    """Return the bot's message as it is now (edits included)."""
    sent = await users.messages(user.user_id)
    return next(m for m in sent if m["message_id"] == message_id)


async def wait_for_edit(users: SandboxClient, user: TelegramUser, before: dict[str, Any]) -> None:
    """Wait until the bot edited a message (a pressed button's, answered in place)."""
    for _ in range(200):
        if (await message(users, user, before["message_id"]))["text"] != before["text"]:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the message was never edited")


async def join(user: TelegramUser, language: str) -> None:
    await user.say(f"/start {DEMO_CODE}")
    await user.tap(f"lang:{language}", expect=2)
    await user.tap("consent:yes", expect=2)


async def test_a_round_of_review_notifies_each_person_once_per_step_in_their_language(
    core: Core,
    clock: Clock,
    unit_id: int,
    polling: TelegramChannel,
    sending: OutboxSender,
    users: SandboxClient,
) -> None:
    worker, reviewer = TelegramUser(users, 8101, "Ann"), TelegramUser(users, 8102, "Bảo")
    await join(worker, "en")
    await join(reviewer, "vi")
    with transaction(core.engine) as session:
        council = member_for(session=session, channel="telegram", user_id="8102")
        workshop = unit_by_id(session=session, unit_id=unit_id)
        assert council is not None and workshop is not None and workshop.parent_id
        enterprise = unit_by_id(session=session, unit_id=workshop.parent_id)
        assert enterprise is not None
        roles.grant(session=session, member=council, unit=enterprise, role="reviewer", now=clock())

    await worker.say("/new", expect=2)
    await worker.say("Automatic labelling machine")
    await worker.say("Labels are stuck on by hand, which takes a long time")
    await worker.say("Fit a sensor and an automatic labeller on the line")
    await worker.tap("field:technical:1")  # the test's first initiative
    await worker.say("120 million", expect=2)
    await worker.tap("next:submit:1", expect=2)
    await settle(core, worker, reviewer)
    with Session(core.engine) as session:
        initiative_id = session.exec(select(Initiative)).one().id
    await worker.say("/my")
    await worker.tap(f"open:{initiative_id}")
    await worker.tap(f"amend:attachments:{initiative_id}")
    await users.send_photo(worker.user_id, b"\x89PNG line", first_name=worker.name)
    await worker.replies(1)
    await worker.say("/done")
    await worker.tap(f"amend:done:{initiative_id}")

    assert "labelling machine" in (await reviewer.say("/review"))[0]["text"]
    card = (await reviewer.tap(f"review:{initiative_id}"))[0]
    assert "History" not in card["text"] and "Lịch sử" in card["text"]
    header, photo = await reviewer.tap(f"act:files:{initiative_id}", expect=2)  # sent by file id
    assert "(1)" in header["text"] and photo.get("photo")
    await reviewer.tap(f"act:changes:{initiative_id}")  # a new question; the card is edited
    edited = await message(users, reviewer, card["message_id"])
    assert edited["text"].endswith("→ Đề nghị bổ sung") and not edited.get("reply_markup")
    await reviewer.say("Bổ sung ảnh chụp dây chuyền")
    await settle(core, worker, reviewer)

    await worker.say("/my")
    card = await worker.tap(f"open:{initiative_id}")
    assert "History:" in card[0]["text"]
    assert "Bổ sung ảnh chụp dây chuyền" in card[0]["text"]  # the council's comment
    await worker.tap(f"amend:resubmit:{initiative_id}")
    await settle(core, worker, reviewer)

    await reviewer.say("/review")
    await reviewer.tap(f"review:{initiative_id}")
    await reviewer.tap(f"act:approve:{initiative_id}")
    level_question = (await reviewer.say("100 triệu"))[0]
    await reviewer.tap(f"level:grassroots:{initiative_id}")  # the question becomes the approval
    approved = await message(users, reviewer, level_question["message_id"])
    assert "7.000.000 đ" in approved["text"]  # 7% of the verified benefit, a year
    after = (await users.messages(reviewer.user_id))[-1]
    await reviewer.tap(f"after:done:{initiative_id}", expect=0)
    await wait_for_edit(users, reviewer, after)
    await settle(core, worker, reviewer)

    sent_to_worker = [m["text"] for m in await users.messages(worker.user_id)]
    notices = [
        name
        for text in sent_to_worker
        for phrase, name in WORKER_NOTICES.items()
        if phrase in text
    ]
    assert notices == ["received", "changes", "received", "approved"]
    changes = next(text for text in sent_to_worker if "asks you to revise" in text)
    assert "Bổ sung ảnh chụp dây chuyền" in changes  # the comment, word for word
    approval = next(text for text in sent_to_worker if "has been recognized" in text)
    assert "100,000,000" in approval or "100.000.000" in approval
    to_reviewer = [m.get("text") or "" for m in await users.messages(reviewer.user_id)]
    assert sum(REVIEWER_NOTICE in text for text in to_reviewer) == 2  # submitted, resubmitted
    with Session(core.engine) as session:
        decided = session.get(Initiative, initiative_id)
        assert decided is not None
        assert (decided.status, decided.level) == ("approved", "grassroots")
        assert decided.verified_benefit_vnd == 100_000_000
