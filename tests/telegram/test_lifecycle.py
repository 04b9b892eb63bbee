"""Chat lifecycle through the sandbox, on each driver: a person blocks and unblocks the bot,
edits an answer during the wizard; a group removes the bot and adds it back, becomes a
supergroup, and is shown a button to the private chat."""

from dataclasses import replace

import pytest
from sqlmodel import Session, col, select

from bot.app import Core
from bot.channels.telegram.channel import TelegramChannel
from core.messages import Reply, t
from sandbox.client import SandboxClient
from services import broadcasts, notices, roles
from services.broadcasts import Audience
from storage import outbox
from storage.db import reading, transaction
from storage.members import member_for
from storage.models import ChannelIdentity, GroupChat, InboxUpdate, Initiative
from storage.units import unit_by_id
from tests.conftest import Clock
from tests.telegram.conftest import TelegramUser, each_driver, join, texts, typed, wait_until

pytestmark = each_driver
GROUP = -200600
# Where the database adds nothing to what tests/test_chat_lifecycle.py shows on PostgreSQL.
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def grant(core: Core, clock: Clock, user: TelegramUser, unit_id: int, *names: str) -> None:
    with transaction(core.engine) as session:
        member = member_for(session=session, channel="telegram", user_id=str(user.user_id))
        unit = unit_by_id(session=session, unit_id=unit_id)
        assert member is not None and unit is not None
        for name in names:
            roles.grant(session=session, member=member, unit=unit, role=name, now=clock())


def counted(core: Core, user: TelegramUser, unit_id: int) -> tuple[int, int]:
    """Return the members and groups an announcement by `user` to the unit would reach."""
    with reading(core.engine) as session:
        member = member_for(session=session, channel="telegram", user_id=str(user.user_id))
        assert member is not None
        audience = Audience(unit_id=unit_id, members=True, groups=True)
        return broadcasts.count(session=session, member=member, audience=audience)


def unreachable(core: Core) -> set[str]:
    with Session(core.engine) as session:
        query = select(ChannelIdentity.external_user_id).where(
            col(ChannelIdentity.unreachable_at).is_not(None)
        )
        return set(session.exec(query).all())


def groups(core: Core) -> list[tuple[str, bool]]:
    """Return each linked group's chat id and whether the bot is out of it."""
    with Session(core.engine) as session:
        return [(g.chat_id, g.removed_at is not None) for g in session.exec(select(GroupChat))]


async def link_group(core: Core, clock: Clock, admin: TelegramUser, unit_id: int) -> None:
    """Join, become the unit's admin and organizer, and link the group to the unit."""
    await join(admin)
    grant(core, clock, admin, unit_id, "admin", "organizer")
    await admin.users.send_text(
        admin.user_id, "/linkgroup", chat_id=GROUP, chat_type="group", title="Tổ 1"
    )
    await admin.users.messages(GROUP, min_count=1, timeout=10)
    assert groups(core) == [(str(GROUP), False)]


async def test_a_member_who_blocks_the_bot_is_left_out_until_they_unblock_it(
    core: Core, clock: Clock, unit_id: int, polling: TelegramChannel, users: SandboxClient
) -> None:
    worker, organizer = TelegramUser(users, 7301), TelegramUser(users, 7302, "Bảo")
    await join(worker)
    await join(organizer)
    grant(core, clock, organizer, unit_id, "organizer")
    assert counted(core, organizer, unit_id) == (2, 0)
    await users.block(worker.user_id)
    await wait_until(lambda: unreachable(core) == {"7301"}, timeout=10)
    assert counted(core, organizer, unit_id) == (1, 0)
    await users.unblock(worker.user_id)
    await wait_until(lambda: unreachable(core) == set(), timeout=10)
    assert counted(core, organizer, unit_id) == (2, 0)
    assert "(1/5)" in texts(await worker.say("/new", expect=2))  # nothing else came meanwhile


def draft(core: Core) -> Initiative:
    with Session(core.engine) as session:
        return session.exec(select(Initiative)).one()


async def test_an_edit_of_the_latest_answer_replaces_it_and_an_earlier_one_is_not_applied(
    core: Core, unit_id: int, polling: TelegramChannel, users: SandboxClient
) -> None:
    user = TelegramUser(users, 7311)
    await join(user)

    async def edit(message_id: int, text: str, expect: int) -> str:
        await users.edit_text(user.user_id, message_id, text)
        return texts(await user.replies(expect))

    ignored, _ = await typed(user, "/help")
    await users.edit_text(user.user_id, ignored, "/help me")  # outside the wizard: silence
    intro = await user.say("/new", expect=2)
    assert len(intro) == 2 and "(1/5)" in texts(intro)
    title, _ = await typed(user, "Đồ gá thay khuôn")
    problem, _ = await typed(user, "Thay khuôn mất 45 phút")
    assert "Đã cập nhật" in await edit(problem, "Thay khuôn máy ép mất 45 phút", expect=1)
    assert "/back" in await edit(title, "Đồ gá thay khuôn nhanh", expect=1)
    assert (draft(core).title, draft(core).problem) == (
        "Đồ gá thay khuôn",
        "Thay khuôn máy ép mất 45 phút",
    )

    await user.say("Chế tạo đồ gá định vị để thay khuôn trong 10 phút")
    await user.tap("field:technical:1")
    benefit, (_, question) = await typed(user, "120 triệu", expect=2)
    assert "1.500.000.000 đ" in await edit(benefit, "khoảng 1,5 tỷ/năm", expect=2)
    refused = await edit(benefit, "rất nhiều", expect=2)
    assert "giữ nguyên" in refused and draft(core).estimated_benefit_vnd == 1_500_000_000
    unclear = await edit(benefit, "200", expect=1)  # thousands or millions: not applied
    assert "Chưa cập nhật" in unclear and draft(core).estimated_benefit_vnd == 1_500_000_000
    sent = await users.messages(user.user_id)
    assert next(m for m in sent if m["message_id"] == question["message_id"])["reply_markup"]
    assert "#1" in texts(await user.tap("next:submit:1"))


@sqlite_only
async def test_a_group_that_removes_the_bot_gets_nothing_until_it_is_added_back(
    core: Core, clock: Clock, unit_id: int, polling: TelegramChannel, users: SandboxClient
) -> None:
    admin = TelegramUser(users, 7321)
    await link_group(core, clock, admin, unit_id)
    assert counted(core, admin, unit_id) == (1, 1)
    await users.remove_bot(GROUP, admin.user_id)
    await wait_until(lambda: groups(core) == [(str(GROUP), True)], timeout=10)
    assert counted(core, admin, unit_id) == (1, 0)
    await users.add_bot(GROUP, admin.user_id)
    await wait_until(lambda: groups(core) == [(str(GROUP), False)], timeout=10)
    assert counted(core, admin, unit_id) == (1, 1)


@sqlite_only
async def test_in_a_group_the_bot_asks_for_a_private_message_with_a_button_to_it(
    core: Core, polling: TelegramChannel, users: SandboxClient
) -> None:
    await users.send_text(7331, "/new", chat_id=GROUP, chat_type="group")
    [asked] = await users.messages(GROUP, min_count=1, timeout=10)
    [[button]] = asked["reply_markup"]["inline_keyboard"]
    assert button["url"] == f"https://t.me/{polling.username}"
    assert button["text"] == core.catalogs.template("group.open_private", "vi")
    assert "callback_data" not in button
    await users.send_text(7332, "/help", chat_id=GROUP, chat_type="group")
    first, _ = await users.messages(GROUP, min_count=2, timeout=10)
    assert first["reply_markup"] == asked["reply_markup"]  # a link is no question to retire


async def test_a_group_that_becomes_a_supergroup_keeps_its_link_and_queued_messages(
    core: Core, clock: Clock, unit_id: int, polling: TelegramChannel, users: SandboxClient
) -> None:
    admin = TelegramUser(users, 7341)
    await link_group(core, clock, admin, unit_id)
    with transaction(core.engine) as session:
        group = session.exec(select(GroupChat)).one()
        reply = Reply(t("common.resume"))
        notices.to_group(session=session, group=group, reply=reply, language="vi", now=clock())
    supergroup = await users.migrate_group(GROUP, admin.user_id)

    def moved() -> bool:
        with Session(core.engine) as session:
            waiting = select(InboxUpdate).where(col(InboxUpdate.done_at).is_(None))
            return groups(core) == [(str(supergroup), False)] and not session.exec(waiting).all()

    await wait_until(moved, timeout=10)
    with reading(core.engine) as session:
        [item] = outbox.due(session=session, now=clock(), limit=10)
    assert item.chat_id == str(supergroup)
    assert (await polling.deliver(item)).outcome == "sent"
    [notice] = await users.messages(supergroup)
    assert notice["text"] == core.catalogs.template("common.resume", "vi")
    refused = await polling.deliver(replace(item, chat_id=str(GROUP)))
    assert refused.outcome == "rejected"  # the old id answers 400 with migrate_to_chat_id
    assert counted(core, admin, unit_id) == (1, 1)
