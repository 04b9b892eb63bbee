"""Zalo groups: a unit admin links one with /linkgroup, anyone else is refused, chatter is
dropped, and a leader's digest is posted there (docs/zalo.md, "Group chats")."""

from sqlmodel import Session, select

from bot.app import Core
from bot.channels.zalo.channel import ZaloChannel
from bot.leader.digests import run_digests
from bot.leader.preparing import Preparing
from core.messages import t
from sandbox.zalo.client import ZaloSandboxClient
from services import roles, units
from storage.db import transaction
from storage.members import member_for
from storage.models import GroupChat, InboxUpdate
from tests.conftest import DEMO_CODE, Clock
from tests.telegram.conftest import wait_until
from tests.zalo.conftest import ZaloUser, sending, text_of

GROUP = "7c1f0e5d2b9a48e6a3d4"  # Zalo's ids are opaque strings
MENTION = "@Bot Sáng kiến "  # as the Zalo app writes a mention of the bot (its name)


async def join(user: ZaloUser) -> None:
    """Join the test unit in the private chat: Vietnamese, then consent."""
    await user.say(f"/start {DEMO_CODE}")
    await user.say("1", expect=2)
    await user.say("1", expect=2)


async def test_a_leader_links_a_zalo_group_where_chatter_is_dropped_and_digests_arrive(
    core: Core, unit_id: int, clock: Clock, polling: ZaloChannel, zalo: ZaloSandboxClient
) -> None:
    leader = ZaloUser(zalo, "u-leader", "Trần Thị Bình")
    await join(leader)
    await join(ZaloUser(zalo, "u-worker"))
    with transaction(core.engine) as session:
        chair = member_for(session=session, channel="zalo", user_id="u-leader")
        assert chair is not None
        unit = units.find_unit(session=session, ref=str(unit_id))
        for role in ("leader", "admin"):  # the union's chair leads the unit and administers it
            roles.grant(session=session, member=chair, unit=unit, role=role, now=clock())

    def vi(key: str) -> str:
        return core.catalogs.render(t(key), "vi")

    async def in_group(user_id: str, text: str, **how: object) -> str:
        """Write in the group as a user; return the bot's one answer there."""
        before = len(await zalo.messages(GROUP))
        await zalo.send_text(user_id, text, chat_id=GROUP, chat_type="GROUP", **how)
        sent = await zalo.messages(GROUP, min_count=before + 1, timeout=10)
        assert len(sent) == before + 1, f"bot sent {sent[before:]}"
        return str(sent[-1]["text"])

    # Typed commands are forgeable: the role is checked whatever the unit named.
    refused = vi("group.not_admin")
    assert await in_group("u-worker", MENTION + "/linkgroup", mention=True) == refused
    assert await in_group("u-worker", f"{MENTION}/linkgroup {unit_id}", mention=True) == refused
    stranger = await in_group("u-stranger", MENTION + "/linkgroup", mention=True)
    assert stranger.startswith(vi("common.join_first")) and vi("group.open_private") in stranger
    linked = await in_group("u-leader", MENTION + "/linkgroup", mention=True)
    assert linked == core.catalogs.render(t("group.linked", unit="Xưởng 1"), "vi")
    with Session(core.engine) as session:
        group = session.exec(select(GroupChat)).one()
        assert (group.channel, group.chat_id, group.unit_id) == ("zalo", GROUP, unit_id)
        assert group.linked_by == chair.id

    # Chatter: Zalo does not deliver what ignores the bot; replies to the bot and mentions
    # that are no command reach it and are dropped. The group's updates are handled in
    # order, so the answer to /help comes after all of them were.
    said = (await zalo.messages(GROUP))[-1]["message_id"]
    chatter = {"chat_id": GROUP, "chat_type": "GROUP"}
    await zalo.send_text("u-worker", "chào cả nhóm", **chatter)
    await zalo.send_text("u-worker", "cảm ơn bot nhé", reply_to=said, **chatter)
    await zalo.send_sticker("u-worker", reply_to=said, **chatter)
    await zalo.send_text("u-worker", MENTION + "hay quá", mention=True, **chatter)
    listed = await in_group("u-worker", MENTION + "/help", mention=True)
    assert listed == vi("help.text") and "/link " in listed and "/linkgroup" in listed

    def group_updates_done() -> bool:
        with Session(core.engine) as session:
            rows = session.exec(select(InboxUpdate).where(InboxUpdate.chat_id == GROUP)).all()
            return len(rows) == 4 + 3 + 1 and all(row.done_at is not None for row in rows)

    await wait_until(group_updates_done, timeout=10)

    # The leader asks for the digest daily at 08:00, in the group too.
    assert "1. " in text_of(await leader.say("/digest settings"))
    await leader.say("1")  # daily
    assert vi("digest.ask_groups") in text_of(await leader.say("3"))  # at 08:00
    assert vi("digest.saved_groups") in text_of(await leader.say("1", expect=2))

    # Wednesday 10:00 in Vietnam: the period that ended at 08:00 is due.
    prepare = Preparing(core.engine, core.settings, core.catalogs)
    assert await run_digests(core.engine, core.settings, clock(), prepare) == 2
    before = len(await zalo.messages(GROUP))
    async with sending(core, polling, clock):
        posted = await zalo.messages(GROUP, min_count=before + 1, timeout=10)
        private = await leader.replies(1)
    digest = str(posted[before]["text"])
    assert digest.startswith("Bản tin tổng hợp") and "Xưởng 1" in digest
    # No PUBLIC_BASE_URL here; in a group the line does not ask to /link there.
    assert digest.endswith(vi("channel.picture_unavailable_group"))
    assert text_of(private).startswith("Bản tin tổng hợp")
    assert text_of(private).endswith(vi("channel.picture_unavailable"))
    assert await run_digests(core.engine, core.settings, clock(), prepare) == 0
