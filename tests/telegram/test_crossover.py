"""A file sent on one messenger opened on another: the bot keeps the bytes and uploads them."""

from pathlib import Path

from sqlmodel import Session, select

from bot.app import Core
from bot.channels.telegram.channel import TelegramChannel
from sandbox.client import SandboxClient
from services import roles
from storage.db import transaction
from storage.members import member_for
from storage.models import Attachment, Initiative
from storage.units import unit_by_id
from tests.conftest import Chat, Clock, join
from tests.telegram.conftest import TelegramUser, each_driver
from tests.telegram.conftest import join as join_on_telegram

PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8  # the line, before


async def test_a_reviewer_on_telegram_opens_the_photo_a_worker_sent_from_the_console(
    core: Core,
    clock: Clock,
    unit_id: int,
    chat: Chat,
    polling: TelegramChannel,
    users: SandboxClient,
    tmp_path: Path,
) -> None:
    reviewer = TelegramUser(users, 8202, "Bảo")
    await join_on_telegram(reviewer, "vi")
    with transaction(core.engine) as session:
        council = member_for(session=session, channel="telegram", user_id="8202")
        workshop = unit_by_id(session=session, unit_id=unit_id)
        assert council is not None and workshop is not None and workshop.parent_id
        enterprise = unit_by_id(session=session, unit_id=workshop.parent_id)
        assert enterprise is not None
        roles.grant(session=session, member=council, unit=enterprise, role="reviewer", now=clock())

    photo = tmp_path / "line.png"
    photo.write_bytes(PHOTO)
    worker = chat("console-worker")
    join(worker)
    for line in (
        "/new",
        "Máy dán nhãn tự động",
        "Công nhân dán nhãn bằng tay, mất nhiều thời gian",
        "Lắp cảm biến và cơ cấu dán nhãn tự động",
        "1",
        "100 triệu",
        "2",  # add details
        "/skip",
        "1",  # alone
        "1",  # not applied yet
        f"/photo {photo}",
        "/done",
        "1",  # not confidential
    ):
        worker.send(line)
    worker.send("1")  # submit
    with Session(core.engine) as session:
        initiative = session.exec(select(Initiative)).one()
        kept = session.exec(select(Attachment)).one()
    assert initiative.status == "submitted" and kept.channel == "kept"

    await reviewer.say("/review")
    await reviewer.tap(f"review:{initiative.id}")
    _, sent = await reviewer.tap(f"act:files:{initiative.id}", expect=2)
    assert await users.file(sent["photo"]) == PHOTO  # uploaded from the bot's own copy


@each_driver
async def test_the_channel_fetches_the_bytes_of_a_file_a_person_sent(
    channel: TelegramChannel, users: SandboxClient
) -> None:
    update = await users.send_photo(8203, PHOTO, first_name="An")
    largest = update["message"]["photo"][-1]["file_id"]
    assert await channel.download(largest) == PHOTO  # what another messenger is given
