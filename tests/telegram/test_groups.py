"""Groups: only commands addressed to the bot; a unit admin links a group with /linkgroup."""

from sqlmodel import Session, select

from bot.app import Core
from bot.channels.telegram.channel import TelegramChannel
from sandbox.client import SandboxClient
from services import roles, units
from storage.db import transaction
from storage.members import member_for
from storage.models import GroupChat, InboxUpdate
from tests.conftest import DEMO_CODE, Clock
from tests.telegram.conftest import TelegramUser, each_driver

GROUP = -100500


@each_driver
async def test_group_link_needs_an_admin_and_ignores_chatter(
    core: Core, unit_id: int, polling: TelegramChannel, users: SandboxClient, clock: Clock
) -> None:
    admin = TelegramUser(users, 4001)
    await admin.say(f"/start {DEMO_CODE}")
    await admin.tap("lang:vi", expect=2)
    await admin.tap("consent:yes", expect=2)

    async def in_group(text: str, expect: int) -> list[str]:
        before = len(await users.messages(GROUP))
        await users.send_text(4001, text, chat_id=GROUP, chat_type="group", title="Tổ 1")
        sent = await users.messages(GROUP, min_count=before + expect, timeout=10)
        return [m["text"] for m in sent[before:]]

    await users.send_text(4001, "chào cả nhóm", chat_id=GROUP, chat_type="group", title="Tổ 1")
    await users.send_text(4001, "/help@some_other_bot", chat_id=GROUP, chat_type="group")
    refused = await in_group("/linkgroup", expect=1)
    assert refused == [core.catalogs.template("group.not_admin", "vi")]
    assert "nhắn riêng" in (await in_group("/new", expect=1))[0]

    with transaction(core.engine) as session:
        member = member_for(session=session, channel="telegram", user_id="4001")
        unit = units.find_unit(session=session, ref=str(unit_id))
        assert member is not None
        roles.grant(session=session, member=member, unit=unit, role="admin", now=clock())
    linked = await in_group(f"/linkgroup@{polling.username}", expect=1)
    assert "Xưởng 1" in linked[0]
    with Session(core.engine) as session:
        group = session.exec(select(GroupChat)).one()
        assert (group.chat_id, group.unit_id) == (str(GROUP), unit_id)
        # Every update (3 private, 5 in the group) went through the inbox; the chatter
        # and the other bot's command got no answer.
        updates = session.exec(select(InboxUpdate)).all()
        assert len(updates) == 3 + 5 and all(u.done_at is not None for u in updates)
    assert len(await users.messages(GROUP)) == 3
